"""Load test on loopback: N simulated learners, then the same with one abusive client.

Each learner creates a Playground network, trains it live over the WebSocket (play, then pause), predicts a
digit with LeNet and applies a convolution kernel, over and over for the run's duration. A probe asks for
`GET /` every 50 ms. The abusive client sends the heaviest requests the limits allow (the largest allowed
transformer, training requests up to the step limit, bodies at the size limit), a bounded number of them.

Prints requests per second, p50/p95/p99 per route, frames per second per live client and the probe's latency,
for both phases. Target (issue 15): with 40 learners and one abusive client, GET / p95 under 100 ms and no
errors (429 and 409 are the server's answers to overload, counted apart from errors).

    python bench/load.py --learners 40 --seconds 20          # starts its own server on a free port
    python bench/load.py --url http://127.0.0.1:8000         # or loads a running one (loopback only)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import numpy as np
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_table  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OVERLOAD = (409, 429)  # busy / every training slot taken: the server shedding load, not failing


class Stats:
    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.status: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.frames: list[float] = []
        self.errors: list[str] = []

    def record(self, route: str, seconds: float, status: int) -> None:
        self.latency[route].append(seconds)
        self.status[route][status] += 1
        if status >= 500 or (status >= 400 and status not in OVERLOAD and status != 413):
            self.errors.append(f"{route}: {status}")


async def timed(stats: Stats, client: httpx.AsyncClient, route: str, method: str, url: str, **kw) -> httpx.Response:
    start = time.perf_counter()
    try:
        r = await client.request(method, url, **kw)
    except httpx.HTTPError as exc:
        stats.errors.append(f"{route}: {type(exc).__name__}")
        stats.record(route, time.perf_counter() - start, 599)
        raise
    stats.record(route, time.perf_counter() - start, r.status_code)
    return r


DIGIT = np.zeros((28, 28))
DIGIT[4:24, 13:15] = 1.0
IMAGE = (np.arange(32 * 32).reshape(32, 32) % 7).tolist()
KERNEL = [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]


async def learner(base: str, stats: Stats, stop_at: float) -> None:
    ws_base = base.replace("http", "ws", 1)
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        while time.monotonic() < stop_at:
            r = await timed(stats, client, "POST /api/playground", "POST", "/api/playground",
                            json={"dataset": "spiral", "hidden": [8, 8]})
            if r.status_code != 201:
                await asyncio.sleep(0.5)
                continue
            sid = r.json()["id"]
            frames = 0
            async with websockets.connect(f"{ws_base}/ws/networks/{sid}", max_size=2**24) as ws:
                await ws.recv()
                await ws.send(json.dumps({"type": "play"}))
                started = time.monotonic()
                until = min(stop_at, started + 3.0)
                while time.monotonic() < until:
                    try:
                        message = json.loads(await asyncio.wait_for(ws.recv(), timeout=max(0.05, until -
                                                                                             time.monotonic())))
                    except TimeoutError:
                        break
                    if message.get("type") == "frame":
                        frames += 1
                stats.frames.append(frames / max(1e-9, time.monotonic() - started))
                await ws.send(json.dumps({"type": "pause"}))
            await timed(stats, client, "POST /api/lenet/predict", "POST", "/api/lenet/predict",
                        json={"image": DIGIT.tolist(), "preprocess": False})
            await timed(stats, client, "POST /api/conv/apply", "POST", "/api/conv/apply",
                        json={"image": IMAGE, "kernel": KERNEL})
            await timed(stats, client, "DELETE /api/networks/{id}", "DELETE", f"/api/networks/{sid}")


async def abuser(base: str, stats: Stats, stop_at: float, max_requests: int) -> None:
    """The heaviest requests the limits allow, one after another (bounded in count and time)."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        sent = 0
        limits = await client.get("/api/conv/limits")
        side = limits.json()["max_image_size"]
        heavy_body = {"inputs": [[0.5, 0.5]] * 4096}
        tid = None
        while time.monotonic() < stop_at and sent < max_requests:
            if tid is None:
                # The transformer: refused in milliseconds (413); then the largest the budgets allow.
                await timed(stats, client, "ABUSE POST /api/transformers (too big)", "POST", "/api/transformers",
                            json={"preset": "reverse", "model": {"layers": 1, "heads": 8, "d_model": 256,
                                                                 "d_ff": 1024},
                                  "train": {"batch_size": 4096, "held_out": 2048}, "task": {"length": 32}})
                r = await timed(stats, client, "ABUSE POST /api/transformers", "POST", "/api/transformers",
                                json={"preset": "reverse", "model": {"layers": 1, "heads": 8, "d_model": 256,
                                                                     "d_ff": 1024},
                                      "train": {"batch_size": 24, "held_out": 12}, "task": {"length": 32}})
                tid = r.json()["id"] if r.status_code == 201 else ""
                sent += 2
                continue
            if tid:
                await timed(stats, client, "ABUSE POST /api/transformers/{id}/train", "POST",
                            f"/api/transformers/{tid}/train", json={"steps": 100_000})
            net = await timed(stats, client, "ABUSE POST /api/networks", "POST", "/api/networks",
                              json={"preset": "playground-default"})
            if net.status_code == 201:
                nid = net.json()["id"]
                await timed(stats, client, "ABUSE POST /api/networks/{id}/forward", "POST",
                            f"/api/networks/{nid}/forward", json=heavy_body)
                await timed(stats, client, "ABUSE POST /api/networks/{id}/train", "POST",
                            f"/api/networks/{nid}/train", json={"epochs": 1000})
            await timed(stats, client, "ABUSE POST /api/conv/apply", "POST", "/api/conv/apply",
                        json={"image": [[1.0] * side] * side, "kernel": [[1.0] * 15] * 15})
            sent += 5


async def probe(base: str, stats: Stats, stop_at: float) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        while time.monotonic() < stop_at:
            await timed(stats, client, "PROBE GET /", "GET", "/")
            await asyncio.sleep(0.05)


async def phase(base: str, learners: int, seconds: float, abusive: bool, max_abuse: int) -> Stats:
    stats = Stats()
    stop_at = time.monotonic() + seconds
    tasks = [asyncio.create_task(learner(base, stats, stop_at)) for _ in range(learners)]
    tasks.append(asyncio.create_task(probe(base, stats, stop_at)))
    if abusive:
        tasks.append(asyncio.create_task(abuser(base, stats, stop_at, max_abuse)))
    results = await asyncio.gather(*tasks, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            stats.errors.append(f"client crashed: {type(result).__name__}: {result}")
    return stats


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) * 1000 if values else float("nan")


def report(title: str, stats: Stats, seconds: float) -> None:
    total = sum(len(v) for v in stats.latency.values())
    print(f"\n{title}: {total / seconds:.1f} requests/s, {len(stats.errors)} errors")
    rows = []
    for route in sorted(stats.latency):
        lat = stats.latency[route]
        codes = ", ".join(f"{code}×{n}" for code, n in sorted(stats.status[route].items()))
        rows.append([route, str(len(lat)), f"{percentile(lat, 50):.1f}", f"{percentile(lat, 95):.1f}",
                     f"{percentile(lat, 99):.1f}", codes])
    print_table(["route", "n", "p50 ms", "p95 ms", "p99 ms", "status"], rows)
    if stats.frames:
        print(f"frames/s per live client: median {np.median(stats.frames):.1f}, min {min(stats.frames):.1f} "
              f"({len(stats.frames)} streams)")
    probe_p95 = percentile(stats.latency["PROBE GET /"], 95)
    print(f"GET / during load: p95 {probe_p95:.1f} ms (target < 100 ms)")
    for error in sorted(set(stats.errors))[:10]:
        print(f"  error: {error}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of each phase")
    parser.add_argument("--max-abusive-requests", type=int, default=200)
    parser.add_argument("--url", help="a running server on loopback (default: start one)")
    args = parser.parse_args()
    server = None
    if args.url:
        host = urlsplit(args.url).hostname
        if host not in ("127.0.0.1", "localhost", "::1"):
            parser.error("load tests run on loopback only")
        base = args.url.rstrip("/")
    else:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port",
                                   str(port), "--log-level", "warning"], cwd=ROOT,
                                  env={**os.environ, "PYTHONPATH": str(ROOT)})
        for _ in range(300):
            try:
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
    try:
        print(f"{args.learners} learners on {base}, {args.seconds:g} s per phase")
        report("learners only", asyncio.run(phase(base, args.learners, args.seconds, False, 0)), args.seconds)
        report("learners + one abusive client",
               asyncio.run(phase(base, args.learners, args.seconds, True, args.max_abusive_requests)), args.seconds)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
