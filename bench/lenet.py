"""Benchmark: LeNet-5 in the Glassbox engine against PyTorch CPU, and the /api/lenet/predict round trip.

Run from the repository root:  python bench/lenet.py [--threads 1] [--repeats 300] [--requests 400]

Needs PyTorch for the reference column (benchmark-only extra, never a runtime dependency):
    pip install torch==2.13.0
Both libraries get the same thread count (OpenBLAS through OPENBLAS_NUM_THREADS, set before NumPy loads;
PyTorch through torch.set_num_threads). Times are medians over interleaved rounds, float32.

Cases and targets (issue 6):
- one training step at batch 64: forward, softmax cross-entropy, backward, Adam update (no augmentation on
  either side). Target: at most 1.5x PyTorch.
- inference at batch 1 keeping every layer's output (what /api/lenet/predict returns). Target: at most 150 us
  and no slower than PyTorch (a forward under no_grad that keeps each layer's tensor).
- the whole POST /api/lenet/predict over HTTP on loopback against a uvicorn server started here: a drawn
  digit as a 140x140 PNG data URL and ?encoding=base64 (what the page sends), with 1 client and with 20 concurrent
  clients; median and 95th percentile. Target: median under 5 ms with one client. The same with nested-list
  JSON is shown for reference.
"""

from __future__ import annotations

import base64
import io
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    ROOT,
    engine_and_http_args,
    interleaved_median_times,
    pin_blas_threads,
    print_table,
    start_server,
    verdict,
)

ARGS = engine_and_http_args(__doc__, requests=400,
                            requests_help="HTTP requests per client count", skip_help="only the engine cases")
pin_blas_threads(ARGS.threads)
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from engine.core.losses import SoftmaxCrossEntropy, loss_and_backward  # noqa: E402
from engine.core.optim import Adam  # noqa: E402
from engine.lenet.mnist import load_mnist10k  # noqa: E402
from engine.lenet.model import LeNet5  # noqa: E402

try:
    import torch
    import torch.nn.functional as F  # noqa: N812
except ImportError:  # pragma: no cover - depends on the machine
    sys.exit("PyTorch is needed for the reference timings: pip install torch==2.13.0")

class TorchLeNet(torch.nn.Module):
    """The same LeNet-5, with the Glassbox model's weights copied in."""

    def __init__(self, model: LeNet5) -> None:
        super().__init__()
        state = {k: torch.from_numpy(v.copy()) for k, v in model.net.get_state().items()}
        self.c1w, self.c1b = torch.nn.Parameter(state["0.weight"]), torch.nn.Parameter(state["0.bias"])
        self.c2w, self.c2b = torch.nn.Parameter(state["3.weight"]), torch.nn.Parameter(state["3.bias"])
        # Our Dense keeps weight as (in, out); torch's linear wants (out, in).
        self.f1w, self.f1b = torch.nn.Parameter(state["7.weight"].T.contiguous()), torch.nn.Parameter(state["7.bias"])
        self.f2w, self.f2b = torch.nn.Parameter(state["9.weight"].T.contiguous()), torch.nn.Parameter(state["9.bias"])
        self.f3w, self.f3b = (torch.nn.Parameter(state["11.weight"].T.contiguous()),
                              torch.nn.Parameter(state["11.bias"]))

    def layers(self, x: torch.Tensor) -> list[torch.Tensor]:
        conv1 = F.relu(F.conv2d(x, self.c1w, self.c1b, padding=2))
        pool1 = F.max_pool2d(conv1, 2)
        conv2 = F.relu(F.conv2d(pool1, self.c2w, self.c2b))
        pool2 = F.max_pool2d(conv2, 2)
        fc1 = F.relu(F.linear(pool2.flatten(1), self.f1w, self.f1b))
        fc2 = F.relu(F.linear(fc1, self.f2w, self.f2b))
        return [conv1, pool1, conv2, pool2, fc1, fc2, F.linear(fc2, self.f3w, self.f3b)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)[-1]


def engine_cases(repeats: int) -> list[list[str]]:
    data = load_mnist10k()
    x64 = data.train_inputs()[:64]
    y64 = data.train_labels[:64].astype(np.int64)
    model = LeNet5()
    optimizer = Adam(1e-3)
    loss = SoftmaxCrossEntropy()
    reference = TorchLeNet(model)
    torch_opt = torch.optim.Adam(reference.parameters(), lr=1e-3)
    tx64, ty64 = torch.from_numpy(x64.copy()), torch.from_numpy(y64)

    def ours_step() -> None:
        model.net.forward(x64)
        loss_and_backward(model.net, loss, y64)
        optimizer.step(model.net.layers)

    def torch_step() -> None:
        torch_opt.zero_grad(set_to_none=True)
        F.cross_entropy(reference(tx64), ty64).backward()
        torch_opt.step()

    # The same numbers before timing: one forward of each on the same weights.
    ours_logits = model.net.forward(x64, keep_trace=False)
    with torch.no_grad():
        ref_logits = reference(tx64).numpy()
    error = float(np.abs(ours_logits - ref_logits).max())

    image = data.test_inputs()[0, 0]
    timage = torch.from_numpy(image.reshape(1, 1, 28, 28).copy())

    def ours_inference() -> None:
        model.layer_outputs(image)

    def torch_inference() -> None:
        with torch.no_grad():
            reference.layers(timage)

    step_ours, step_torch, inf_ours, inf_torch = interleaved_median_times(
        [ours_step, torch_step, ours_inference, torch_inference], repeats)
    rows = [
        ["training step, batch 64 (fwd+bwd+Adam)", f"{step_ours * 1e3:.2f} ms", f"{step_torch * 1e3:.2f} ms",
         f"{step_ours / step_torch:.2f}", "<= 1.5x torch", verdict(step_ours / step_torch <= 1.5)],
        ["inference, batch 1, every layer kept", f"{inf_ours * 1e6:.0f} us", f"{inf_torch * 1e6:.0f} us",
         f"{inf_ours / inf_torch:.2f}", "<= 150 us, <= torch", verdict(inf_ours <= 150e-6 and inf_ours <= inf_torch)],
    ]
    print(f"(max |logit difference| against PyTorch on the same weights: {error:.1e})")
    return rows


# --- HTTP ------------------------------------------------------------------------------------------------


def drawn_digit_png() -> str:
    """A 7 as the page sends it: the 280-pixel pad's drawing at half size, white ink on transparency."""
    from PIL import Image, ImageDraw

    canvas = Image.new("RGBA", (140, 140), (0, 0, 0, 0))
    pen = ImageDraw.Draw(canvas)
    pen.line([(45, 35), (95, 35), (60, 115)], fill=(255, 255, 255, 255), width=12, joint="curve")
    buf = io.BytesIO()
    canvas.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def round_trips(url: str, body: dict, query: str, clients: int, total: int) -> list[float]:
    import httpx

    latencies: list[float] = []
    lock = threading.Lock()
    per_client = max(1, total // clients)
    barrier = threading.Barrier(clients)

    def client() -> None:
        mine = []
        with httpx.Client(base_url=url, timeout=30) as http:
            for _ in range(5):
                http.post(f"/api/lenet/predict{query}", json=body).raise_for_status()
            barrier.wait()
            for _ in range(per_client):
                start = time.perf_counter()
                http.post(f"/api/lenet/predict{query}", json=body).raise_for_status()
                mine.append(time.perf_counter() - start)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies


def http_cases(total: int) -> list[list[str]]:
    proc, url = start_server()
    try:
        png = {"png": drawn_digit_png()}
        rows = []
        for label, query in (("base64", "?encoding=base64"), ("json lists", "")):
            for clients in (1, 20):
                lat = sorted(round_trips(url, png, query, clients, total))
                median = statistics.median(lat)
                p95 = lat[int(0.95 * (len(lat) - 1))]
                target = "median < 5 ms" if clients == 1 and label == "base64" else "-"
                ok = verdict(median < 5e-3) if target != "-" else "-"
                rows.append([f"POST /api/lenet/predict, {label}, {clients} client{'s' if clients > 1 else ''}",
                             f"{median * 1e3:.2f} ms", f"p95 {p95 * 1e3:.2f} ms", "", target, ok])
        return rows
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    torch.set_num_threads(ARGS.threads)
    print(f"threads: {ARGS.threads} (NumPy/OpenBLAS and PyTorch); numpy {np.__version__}, torch {torch.__version__}")
    rows = engine_cases(ARGS.repeats)
    if not ARGS.skip_http:
        rows += http_cases(ARGS.requests)
    print_table(["case", "glassbox", "pytorch / p95", "ratio", "target", ""], rows)


if __name__ == "__main__":
    main()
