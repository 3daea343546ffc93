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

async function main() {
  const sliding = initSlidingWindow(section("sliding-window"), { onError });
  const channels = initMultiChannel(section("channels"), { onError });
  const gallery = initKernelGallery(section("gallery"), { onError });
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
