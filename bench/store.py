"""What the durable session store adds to a REST request on a small network.

    python bench/store.py [--rounds 20] [--per-round 50] [--redis redis://127.0.0.1:6379/0]

The request: POST /api/networks/{id}/step on the Playground's default network (x1, x2 → 4 → 2 → 1, tanh,
250 circle points): one optimiser step, and, with a store, the session written back (its state as .npz bytes,
the version check, the lock). Three apps serve the same request, in rounds, taking turns, so a load spike on the
shared machine hits all alike: the in-memory baseline (GLASSBOX_STORE=memory), SQLite in a temporary folder,
and Redis on loopback (a redis-server this script starts on a free port, or --redis). Each round's median per
app; the added latency is the store's round median minus the baseline's, reported as the median over rounds
and its spread (the 10th to 90th percentile of the rounds). Targets: ≤ 1 ms SQLite, ≤ 2 ms Redis.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))

from _common import print_table  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from app.main import create_app  # noqa: E402
from app.settings import Settings  # noqa: E402

TARGETS_MS = {"SQLite": 1.0, "Redis": 2.0}


def start_redis() -> tuple[str, subprocess.Popen | None]:
    path = shutil.which("redis-server")
    if path is None:
        sys.exit("redis-server is missing (apt-get install -y redis-server), or pass --redis URL")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([path, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return f"redis://127.0.0.1:{port}/0", proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("redis-server did not start")


def step_request(client: TestClient) -> Callable[[], object]:
    sid = client.post("/api/playground", json={}).json()["id"]

    def request() -> object:
        r = client.post(f"/api/networks/{sid}/step")
        assert r.status_code == 200, r.text
        return r

    return request


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--per-round", type=int, default=50)
    parser.add_argument("--redis", help="a Redis URL to use instead of starting redis-server")
    args = parser.parse_args()

    redis_proc = None
    redis_url = args.redis
    if redis_url is None:
        redis_url, redis_proc = start_redis()
    folder = Path(tempfile.mkdtemp(prefix="glassbox-bench-store-"))
    try:
        apps = {"memory": Settings(store="memory"), "SQLite": Settings(store="sqlite", data_dir=folder),
                "Redis": Settings(store=redis_url)}
        clients = {name: TestClient(create_app(settings)) for name, settings in apps.items()}
        requests = {name: step_request(client) for name, client in clients.items()}
        for request in requests.values():
            for _ in range(20):
                request()
        round_medians: dict[str, list[float]] = {name: [] for name in requests}
        for _ in range(args.rounds):
            for name, request in requests.items():
                times = []
                for _ in range(args.per_round):
                    start = time.perf_counter()
                    request()
                    times.append(time.perf_counter() - start)
                round_medians[name].append(statistics.median(times))
        rows = []
        base = round_medians["memory"]
        rows.append(["in memory (baseline)", f"{statistics.median(base) * 1e3:.3f}", "", "", ""])
        for name in ("SQLite", "Redis"):
            added = sorted((s - b) * 1e3 for s, b in zip(round_medians[name], base, strict=True))
            p10, p90 = added[len(added) // 10], added[(len(added) * 9) // 10 - (len(added) % 10 == 0)]
            median = statistics.median(added)
            rows.append([name, f"{statistics.median(round_medians[name]) * 1e3:.3f}", f"{median:.3f}",
                         f"{p10:.3f} … {p90:.3f}",
                         f"≤ {TARGETS_MS[name]:g} ms {'met' if median <= TARGETS_MS[name] else 'MISSED'}"])
        print(f"POST /api/networks/{{id}}/step, Playground default network; {args.rounds} rounds × "
              f"{args.per_round} requests per store, interleaved")
        print_table(["store", "request ms (median)", "added ms (median)", "added ms (p10 … p90)", "target"], rows)
        for client in clients.values():
            client.app.state.store.close()  # type: ignore[attr-defined]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if redis_proc is not None:
            redis_proc.terminate()
            redis_proc.wait()


if __name__ == "__main__":
    main()
