// "Train your own": a small character model trained live over /ws/charlm/sessions/{id}, its losses and the
// samples it writes as it learns. The session is created on the first play, step or "New model".
import { api, showError } from "../lib/api.js";
import { LineChart } from "../lib/line-chart.js";
import { connectSocket } from "../lib/socket.js";

const $ = (id) => document.getElementById(id);
const loss = (v) => (v === null || v === undefined ? "—" : v.toFixed(3));
const SAMPLES_KEPT = 8;

export class TrainPanel {
  constructor(errorBox) {
    this.errorBox = errorBox;
    this.session = null;
    this.socket = null;
    this.playing = false;
    this.history = [];
    this.lastSampleStep = null;
    this.chart = new LineChart($("lm-train-chart"), {
      height: 90, label: "loss (nats/char)",
      series: [{ key: "test_loss", label: "held-out", color: "var(--text)" },
               { key: "train_loss", label: "training", color: "#9aa4b2" }],
    });
    $("lm-train-source").addEventListener("change", () => {
      $("lm-train-text").hidden = $("lm-train-source").value !== "own";
    });
    $("lm-train-form").addEventListener("submit", (e) => {
      e.preventDefault();
      this.create().catch((err) => this.fail(err));
    });
    $("lm-train-play").addEventListener("click", () => this.whenReady(() => {
      this.socket.send({ type: this.playing ? "pause" : "play" });
      this.setPlaying(!this.playing);
    }));
    $("lm-train-step").addEventListener("click", () => this.whenReady(() => this.socket.send({ type: "step" })));
    $("lm-train-reset").addEventListener("click", () => this.whenReady(async () => {
      this.socket.send({ type: "pause" });
      this.setPlaying(false);
      const s = await api(`/api/charlm/sessions/${this.session.id}/reset`, { method: "POST" });
      this.show(s);
      this.socket.send({ type: "frame" });
    }));
    $("lm-train-info").textContent = "Press play to train a fresh model (2 blocks, d_model 64) on the Shakespeare "
      + "text: watch the held-out loss fall and the samples turn from noise into words.";
  }

  fail(err) {
    showError(this.errorBox, err);
  }

  async whenReady(action) {
    try {
      if (!this.session) await this.create();
      await action();
    } catch (err) {
      this.fail(err);
    }
  }

  async create() {
    const f = $("lm-train-form").elements;
    const body = {
      model: { layers: Number(f.layers.value), d_model: Number(f.d_model.value), context: Number(f.context.value) },
      train: { learning_rate: Number(f.learning_rate.value) },
    };
    if (f.source.value === "own") body.text = f.text.value;
    $("lm-train-new").disabled = true;
    try {
      const session = await api("/api/charlm/sessions", { method: "POST", body });
      this.stop();
      if (this.session) api(`/api/charlm/sessions/${this.session.id}`, { method: "DELETE" }).catch(() => {});
      this.session = session;
      $("lm-samples").replaceChildren();
      this.lastSampleStep = null;
      this.show(session);
      this.open();
      showError(this.errorBox, null);
    } finally {
      $("lm-train-new").disabled = false;
    }
  }

  show(s) {
    this.history = s.history;
    this.session = { ...this.session, ...s };
    const m = s.settings.model;
    $("lm-train-info").textContent = `${m.layers} block${m.layers > 1 ? "s" : ""} × ${m.heads} heads, d_model `
      + `${m.d_model}, context ${m.context}: ${s.num_params.toLocaleString("en")} parameters, training on `
      + `${(s.text_characters - s.held_out_characters).toLocaleString("en")} characters, `
      + `${s.held_out_characters.toLocaleString("en")} held out.`;
    this.draw(s.step, s.sample, s.step);
  }

  open() {
    const id = this.session.id;
    this.socket = connectSocket(`/ws/charlm/sessions/${id}`, {
      onMessage: (msg) => {
        if (!this.session || this.session.id !== id) return;
        if (msg.type === "error") { this.fail(new Error(msg.detail)); return; }
        if (msg.type !== "frame") return;
        if (msg.history) this.history = this.history.slice(0, msg.history.from).concat(msg.history.entries);
        if (msg.playing !== this.playing) this.setPlaying(msg.playing);
        if (msg.diverged) this.fail(new Error(`${msg.message}`));
        this.draw(msg.step, msg.sample, msg.sample_step);
      },
    });
  }

  stop() {
    if (this.socket) this.socket.close();
    this.socket = null;
    this.setPlaying(false);
  }

  setPlaying(playing) {
    this.playing = playing;
    const b = $("lm-train-play");
    b.setAttribute("aria-pressed", String(playing));
    b.setAttribute("aria-label", playing ? "Pause" : "Play");
    b.title = playing ? "Pause training" : "Train live";
  }

  draw(step, sample, sampleStep) {
    $("lm-train-step-count").textContent = String(step).padStart(6, "0");
    const latest = this.history[this.history.length - 1];
    $("lm-train-loss").textContent = loss(latest?.train_loss);
    $("lm-train-test-loss").textContent = loss(latest?.test_loss);
    $("lm-train-bpc").textContent = loss(latest?.extra?.bits_per_char);
    this.chart.setEntries(this.history.map((h) => ({ ...h, epoch: Number((h.epoch ?? 0).toFixed(2)) })));
    if (sample && sampleStep !== this.lastSampleStep) {
      this.lastSampleStep = sampleStep;
      const item = document.createElement("li");
      item.setAttribute("data-testid", "lm-sample");
      const head = document.createElement("span");
      head.className = "tiny muted";
      head.textContent = `step ${sampleStep}` + (latest?.test_loss ? ` · held-out ${loss(latest.test_loss)}` : "");
      const text = document.createElement("pre");
      text.className = "lm-sample-text";
      text.textContent = sample;
      item.append(head, text);
      const list = $("lm-samples");
      list.prepend(item);
      while (list.childElementCount > SAMPLES_KEPT) list.lastElementChild.remove();
    }
  }
}
