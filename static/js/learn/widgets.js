// Mounting the lessons' widgets: each kind is a tool page's own component, imported from its page folder and
// started in the lesson's preset state. Every mount answers {state(), link()}: what an exercise checks, and the
// full tool's address carrying that state.
const MOUNTERS = {
  async neuron(el, preset) {
    const { mountNeuron } = await import("../neuron/widget.js");
    return mountNeuron(preset);
  },
  async playground(el, preset) {
    const { mountPlayground } = await import("../playground/widget.js");
    return mountPlayground(preset, { syncHash: false, keyboard: false });
  },
  async surface(el, preset) {
    const { mountSurface } = await import("./loss-surface.js");
    return mountSurface(el.querySelector(".surface"), preset);
  },
  async backprop(el, preset) {
    const { mountBackprop } = await import("../backprop/widget.js");
    const walk = mountBackprop({ keyboard: false, session: preset.session || null });
    await walk.ready; // the network exists before anyone can step it
    return walk;
  },
  async "sliding-window"(el, preset) {
    const [{ initSlidingWindow }, examples] = await Promise.all([
      import("../convolution/sliding-window.js"), convExamples()]);
    const view = initSlidingWindow(el.querySelector("#sliding-window"), { onError: reportTo(el) });
    await view.start(examples[preset.example || "classic"], { autoplay: preset.autoplay ?? true });
    return { state: () => ({}), link: () => "/convolution" };
  },
  async "kernel-gallery"(el, preset) {
    const { initKernelGallery } = await import("../convolution/kernel-gallery.js");
    const gallery = initKernelGallery(el.querySelector("#gallery"), { onError: reportTo(el), initial: preset.kernel });
    await gallery.start();
    const link = () => {
      const k = gallery.kernelState();
      return k.name === "custom"
        ? `/convolution#kernel=${k.kernel.map((row) => row.join(",")).join(";")}&divisor=${k.divisor}`
        : `/convolution#kernel=${k.name}`;
    };
    return { state: () => gallery.kernelState(), link };
  },
  async "param-calc"(el, preset) {
    const { initParamCalc } = await import("../convolution/param-calc.js");
    const root = el.querySelector("#parameters");
    for (const [name, value] of Object.entries(preset)) {
      const input = root.querySelector(`#param-${name}`);
      if (input) input.value = value;
    }
    const calc = initParamCalc(root, { onError: reportTo(el) });
    await calc.start();
    return { state: () => ({}), link: () => "/convolution#parameters" };
  },
  async lenet(el, preset) {
    const { mountLenet } = await import("../lenet/widget.js");
    const lenet = mountLenet(preset);
    await lenet.ready;
    return lenet;
  },
  async attention(el, preset) {
    const { mountAttention } = await import("../attention/widget.js");
    return mountAttention(preset);
  },
  async autoencoder() {
    const { mountAutoencoder } = await import("../autoencoder/widget.js");
    return mountAutoencoder();
  },
};

let examples = null;
async function convExamples() {
  if (!examples) {
    const { api } = await import("../lib/api.js");
    examples = await api("/api/conv/examples");
  }
  return examples;
}

function reportTo(el) {
  return (err) => {
    let box = el.querySelector(".widget-error");
    if (!box) {
      box = document.createElement("p");
      box.className = "error-banner widget-error";
      box.setAttribute("role", "alert");
      el.querySelector(".widget-caption").before(box);
    }
    box.textContent = err ? err.message || String(err) : "";
  };
}

/** Mount every widget of the page into `mounted` ({id → widget}; a failed one reports inside its figure). */
export async function mountWidgets(root = document, mounted = {}) {
  for (const el of root.querySelectorAll("figure.widget[data-kind]")) {
    const preset = JSON.parse(el.querySelector(".widget-preset").textContent);
    try {
      const widget = await MOUNTERS[el.dataset.kind](el, preset);
      mounted[el.dataset.widget] = widget;
      const link = el.querySelector(".open-tool");
      // The link follows the widget: it is built when the learner reaches for it.
      if (link && widget.link) {
        const refresh = () => { link.href = widget.link(); };
        for (const event of ["pointerenter", "focus", "pointerdown"]) link.addEventListener(event, refresh);
        refresh();
      }
      el.dataset.ready = "true";
    } catch (err) {
      reportTo(el)(err);
      console.error(err);
    }
  }
  return mounted;
}
