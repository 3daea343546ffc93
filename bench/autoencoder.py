"""Benchmark: the digits' autoencoder in the Glassbox engine against PyTorch CPU, and the decode request's latency.

Run from the repository root:  python bench/autoencoder.py [--threads 1] [--repeats 300] [--requests 300]

Needs PyTorch for the reference column (benchmark-only extra, never a runtime dependency):
    pip install torch==2.13.0
Both libraries get the same thread count (OpenBLAS through OPENBLAS_NUM_THREADS, set before NumPy loads;
PyTorch through torch.set_num_threads). Times are medians over interleaved rounds, float32.

Cases and targets (issue 13):
- one training step at batch 64 of 784 → 256 → 64 → 2 → 64 → 256 → 784 (ReLU, sigmoid output, binary
  cross-entropy per pixel from the logits): forward, loss, backward, Adam. Target: at most 1.5x PyTorch.
- the whole POST /api/autoencoders/{id}/decode over HTTP on loopback against a uvicorn server started here: one
  point, ?encoding=base64 (what the page sends on every click and drag), median and 95th percentile. Target:
  median under 30 ms.
"""

from __future__ import annotations

import statistics
import sys
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

ARGS = engine_and_http_args(__doc__, requests=300,
                            requests_help="decode requests over HTTP", skip_help="only the engine case")
pin_blas_threads(ARGS.threads)
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from engine.autoencoder.data import DigitData  # noqa: E402
from engine.autoencoder.model import Autoencoder  # noqa: E402
from engine.core.optim import Adam  # noqa: E402

try:
    import torch
    import torch.nn.functional as F  # noqa: N812
except ImportError:  # pragma: no cover - depends on the machine
    sys.exit("PyTorch is needed for the reference timings: pip install torch==2.13.0")


def torch_copy(model: Autoencoder) -> list[tuple[torch.nn.Parameter, torch.nn.Parameter]]:
    """The same dense layers as (weight, bias) parameters; our Dense keeps weight as (in, out), torch's linear
    wants (out, in)."""
    state = model.net.get_state()
    dense = sorted({int(k.split(".")[0]) for k in state})
    return [(torch.nn.Parameter(torch.from_numpy(state[f"{i}.weight"].T.copy())),
             torch.nn.Parameter(torch.from_numpy(state[f"{i}.bias"].copy()))) for i in dense]


def torch_logits(layers: list[tuple[torch.nn.Parameter, torch.nn.Parameter]], x: torch.Tensor,
                 code_layer: int) -> torch.Tensor:
    for i, (w, b) in enumerate(layers):
        x = F.linear(x, w, b)
        if i != code_layer and i != len(layers) - 1:
            x = F.relu(x)
    return x


def engine_case(repeats: int) -> list[list[str]]:
    torch.set_num_threads(ARGS.threads)
    x64 = DigitData.load().x_train[:64].copy()
    model = Autoencoder()
    optimizer = Adam(1e-3)
    reference = torch_copy(model)
    code_layer = len(model.config.hidden)
    torch_opt = torch.optim.Adam([p for pair in reference for p in pair], lr=1e-3)
    tx64 = torch.from_numpy(x64)

    def ours() -> None:
        model.loss_and_backward(x64, x64)
        optimizer.step(model.net.layers)

    def theirs() -> None:
        torch_opt.zero_grad(set_to_none=True)
        F.binary_cross_entropy_with_logits(torch_logits(reference, tx64, code_layer), tx64).backward()
        torch_opt.step()

    # The same numbers before timing: the loss of each on the same weights.
    ours_loss = model.evaluate(x64)["loss"]
    with torch.no_grad():
        ref_loss = float(F.binary_cross_entropy_with_logits(torch_logits(reference, tx64, code_layer), tx64))
    print(f"(loss on the same weights: ours {ours_loss:.6f}, PyTorch {ref_loss:.6f})")
    step_ours, step_torch = interleaved_median_times([ours, theirs], repeats)
    ratio = step_ours / step_torch
    return [["training step, batch 64 (fwd+BCE+bwd+Adam)", f"{step_ours * 1e3:.2f} ms", f"{step_torch * 1e3:.2f} ms",
             f"{ratio:.2f}", "<= 1.5x torch", verdict(ratio <= 1.5)]]


def http_case(requests: int) -> list[list[str]]:
    import httpx

    proc, url = start_server()
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            sid = http.post("/api/autoencoders", json={}).json()["id"]
            rng = np.random.default_rng(0)
            points = rng.uniform(-3, 3, size=(requests + 10, 2)).tolist()
            latencies = []
            for i, point in enumerate(points):
                start = time.perf_counter()
                http.post(f"/api/autoencoders/{sid}/decode?encoding=base64",
                          json={"points": [point]}).raise_for_status()
                if i >= 10:  # warm-up
                    latencies.append(time.perf_counter() - start)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    median = statistics.median(latencies)
    p95 = sorted(latencies)[int(0.95 * (len(latencies) - 1))]
    return [["POST …/decode, 1 point, base64, over HTTP", f"{median * 1e3:.2f} ms (p95 {p95 * 1e3:.2f})", "—", "—",
             "median < 30 ms", verdict(median < 0.030)]]


def main() -> None:
    print(f"threads: {ARGS.threads}, NumPy {np.__version__}, PyTorch {torch.__version__}")
    rows = engine_case(ARGS.repeats)
    if not ARGS.skip_http:
        rows += http_case(ARGS.requests)
    print_table(["case", "Glassbox", "PyTorch", "ratio", "target", "verdict"], rows)


if __name__ == "__main__":
    main()
