// The /convolution page: the sliding window, the multi-channel view, the kernel gallery and the
// parameter calculator, each its own module; every number they show comes from /api/conv.
import { api, showError } from "../lib/api.js";
import { initKernelGallery } from "./kernel-gallery.js";
import { initMultiChannel } from "./multichannel.js";
import { initParamCalc } from "./param-calc.js";
import { initSlidingWindow } from "./sliding-window.js";

const banner = document.getElementById("conv-page-error");
const onError = (err) => showError(banner, err);
const section = (id) => document.getElementById(id);

/** The kernel a link carries: "#kernel=sobelx", or its rows "#kernel=1,0,-1;2,0,-2;1,0,-1&divisor=1". */
function kernelFromHash(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const kernel = params.get("kernel");
  if (!kernel) return undefined;
  if (!kernel.includes(",")) return kernel;
  const rows = kernel.split(";").map((row) => row.split(",").map(Number));
  const square = [3, 5, 7].includes(rows.length) && rows.every((r) => r.length === rows.length && r.every(Number.isFinite));
  return square ? { kernel: rows, divisor: Number(params.get("divisor")) || 1 } : undefined;
}

async function main() {
  const sliding = initSlidingWindow(section("sliding-window"), { onError });
  const channels = initMultiChannel(section("channels"), { onError });
  const gallery = initKernelGallery(section("gallery"), { onError, initial: kernelFromHash(location.hash) });
  const params = initParamCalc(section("parameters"), { onError });
  const examples = await api("/api/conv/examples");
  const autoplay = !new URLSearchParams(location.search).has("still");
  await Promise.all([
    sliding.start(examples.classic, { autoplay }),
    channels.start(examples.rgb),
    gallery.start(),
    params.start(),
  ]);
  document.body.dataset.ready = "true";
}

main().catch(onError);
