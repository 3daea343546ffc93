"""The Playground against TensorFlow Playground's own maths, side by side, interleaved round by round.

    python bench/playground.py                      # 5 rounds of 1 s per measurement
    python bench/playground.py --rounds 9 --seconds 2 --cases default

The peer is TensorFlow Playground's nn.ts/dataset.ts in Node, run by its harness in ../shared/peer-bench/tfp
(bench/peer/tfp_rounds.js loads the harness's bench.js as it is and runs it on request). It needs Node and the
harness's two npm packages (`--install-peer` puts them in ~/.cache/glassbox/tfp-peer). Each round runs, for
every network, one after the other for the same time: the peer's epoch, ours; the peer's whole frame (epoch,
losses, every node over the 100 × 100 grid, thumbnails), our frame's maths (epoch, metrics, training gradients,
every neuron's map, packed for the wire), and our frame end to end over the real WebSocket: a uvicorn server on
loopback streaming binary frames to a client that acknowledges each one (as the page does), its CPU time per
frame read from /proc. A load spike hits both sides of a round alike; the table shows the median of the
rounds' medians and the spread (lowest–highest round median).

Targets (issue 17): our epoch no slower than the peer's; end to end ≥ 3× the peer's frames per second; the
server's CPU per default-network frame ≤ 1.2 ms; a default-network frame ≤ 8 KB on the wire.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx  # noqa: E402
import websockets  # noqa: E402
from _common import print_table  # noqa: E402

from app.arrays import encode_binary, pack_binary  # noqa: E402
from engine.dense.features import FEATURES  # noqa: E402
from engine.playground.config import trainer_from_config  # noqa: E402
from engine.playground.frame import maps_for, playground_frame  # noqa: E402

PEER_DIR = Path(os.environ.get("GLASSBOX_PEER_TFP", ROOT.parent / "shared" / "peer-bench" / "tfp"))
PEER_MODULES = Path.home() / ".cache" / "glassbox" / "tfp-peer"
# name: (the peer's case, our Playground configuration)
CASES: dict[str, tuple[str, dict]] = {
    "default": ("default", {}),  # x1, x2 → 4 → 2 → 1, tanh, circle
    "large7": ("large7", {"features": list(FEATURES), "hidden": [8] * 6}),
    "wide": ("wide", {"hidden": [16, 8]}),
}


# --- the peer ---------------------------------------------------------------------------------------------


class Peer:
    """TensorFlow Playground's maths in a Node process that times what it is asked to, round by round."""

    def __init__(self) -> None:
        env = dict(os.environ)
        env["NODE_PATH"] = os.pathsep.join([str(PEER_DIR / "node_modules"), str(PEER_MODULES / "node_modules")])
        self.proc = subprocess.Popen(["node", str(Path(__file__).parent / "peer" / "tfp_rounds.js"), str(PEER_DIR)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)

    def times(self, what: str, case: str, seconds: float) -> list[float]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"{what} {case} {seconds}\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        if "error" in answer:
            raise RuntimeError(f"the peer harness failed: {answer['error']}")
        return [t / 1e3 for t in answer["times_ms"]]

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def peer_ready() -> str | None:
    """None when the peer can run, else why not."""
    if shutil.which("node") is None:
        return "Node is not installed"
    if not (PEER_DIR / "bench.js").exists():
        return f"the peer harness is not at {PEER_DIR} (set GLASSBOX_PEER_TFP)"
    if not any((d / "node_modules" / "d3").exists() for d in (PEER_DIR, PEER_MODULES)):
        return "the harness's npm packages are missing: run with --install-peer"
    return None


def install_peer() -> None:
    PEER_MODULES.mkdir(parents=True, exist_ok=True)
    subprocess.run(["npm", "i", "--no-save", "--no-audit", "--no-fund", "--prefix", str(PEER_MODULES),
                    "d3@3.5.17", "seedrandom@2.4.4"], check=True)


# --- ours -------------------------------------------------------------------------------------------------


def timed_loop(fn, seconds: float) -> list[float]:
    times = []
    end = time.perf_counter() + seconds
    while True:
        start = time.perf_counter()
        fn()
        stop = time.perf_counter()
        times.append(stop - start)
        if stop >= end:
            return times


class Ours:
    """One trainer per network, as a session holds it."""

    def __init__(self, config: dict) -> None:
        self.trainer = trainer_from_config(config)
        self.maps = maps_for(self.trainer)
        self.size = 0

    def epoch(self) -> None:
        self.trainer.train_epoch()

    def frame(self) -> None:
        """What the server does for one frame of play: the epoch, its metrics record, the frame, packed."""
        self.trainer.train(epochs=1)
        blobs: list[bytes] = []
        header = encode_binary(playground_frame(self.trainer, self.maps), blobs)
        self.size = len(pack_binary(header, blobs))


# --- end to end over the WebSocket ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    def __init__(self) -> None:
        self.port = free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT), "GLASSBOX_STORE": "memory",
               "GLASSBOX_MAX_FRAMES_PER_SECOND": "100000"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(self.port),
             "--log-level", "warning", "--no-access-log", "--ws-per-message-deflate", "false"],
            cwd=ROOT, env=env)
        self.url = f"http://127.0.0.1:{self.port}"
        for _ in range(300):
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


async def stream(server: Server, session_id: str, seconds: float) -> tuple[list[float], float, int]:
    """Play for `seconds` as the page does (binary frames, an ack per frame); the times between frames, the
    server's CPU seconds per frame and the bytes of the last frame."""
    url = server.url.replace("http", "ws") + f"/ws/networks/{session_id}?frames=binary&ack=1"
    async with websockets.connect(url, max_size=None, compression=None) as ws:
        await ws.recv()  # the first frame
        await ws.send('{"type": "play"}')
        await ws.recv()  # the answer to play
        await ws.send('{"type": "ack"}')
        cpu0, t0 = cpu_seconds(server.proc.pid), time.perf_counter()
        gaps, last, size = [], t0, 0
        while last - t0 < seconds:
            message = await ws.recv()
            now = time.perf_counter()
            await ws.send('{"type": "ack"}')
            gaps.append(now - last)
            last, size = now, len(message)
        cpu = (cpu_seconds(server.proc.pid) - cpu0) / max(1, len(gaps))
        await ws.send('{"type": "pause"}')
    return gaps, cpu, size


# --- the table ---------------------------------------------------------------------------------------------


def summary(medians: list[float], scale: float = 1e3) -> str:
    return f"{statistics.median(medians) * scale:.2f} ({min(medians) * scale:.2f}–{max(medians) * scale:.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=1.0, help="per measurement per round")
    parser.add_argument("--cases", nargs="*", default=list(CASES), choices=list(CASES))
    parser.add_argument("--install-peer", action="store_true", help="npm-install the harness's two packages")
    parser.add_argument("--no-server", action="store_true", help="leave out the end-to-end WebSocket column")
    args = parser.parse_args()
    if args.install_peer:
        install_peer()
    why = peer_ready()
    if why:
        print(f"The peer cannot run: {why}. Showing ours only.")
    peer = Peer() if why is None else None
    server = None if args.no_server else Server()
    ours = {name: Ours(CASES[name][1]) for name in args.cases}
    sessions = {}
    if server is not None:
        for name in args.cases:
            created = httpx.post(f"{server.url}/api/playground", json=CASES[name][1], timeout=30)
            created.raise_for_status()
            sessions[name] = created.json()["id"]
    keys = ("peer_epoch", "our_epoch", "peer_frame", "our_frame", "e2e_gap", "e2e_cpu")
    rounds: dict[str, dict[str, list[float]]] = {name: {k: [] for k in keys} for name in args.cases}
    sizes: dict[str, int] = {}
    try:
        for name in args.cases:  # warm-up: the peer's JIT, our buffers
            if peer is not None:
                peer.times("epoch", CASES[name][0], 0.5)
                peer.times("frame", CASES[name][0], 0.5)
            timed_loop(ours[name].frame, 0.3)
        for r in range(args.rounds):
            for name in args.cases:
                got = rounds[name]
                if peer is not None:
                    got["peer_epoch"].append(statistics.median(peer.times("epoch", CASES[name][0], args.seconds)))
                got["our_epoch"].append(statistics.median(timed_loop(ours[name].epoch, args.seconds)))
                if peer is not None:
                    got["peer_frame"].append(statistics.median(peer.times("frame", CASES[name][0], args.seconds)))
                got["our_frame"].append(statistics.median(timed_loop(ours[name].frame, args.seconds)))
                if server is not None:
                    gaps, cpu, size = asyncio.run(stream(server, sessions[name], args.seconds))
                    got["e2e_gap"].append(statistics.median(gaps))
                    got["e2e_cpu"].append(cpu)
                    sizes[name] = size
            print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    finally:
        if peer is not None:
            peer.close()
        if server is not None:
            server.close()

    load = os.getloadavg()
    print(f"\nPlayground vs TensorFlow Playground's own maths (Node {node_version()}), {args.rounds} interleaved "
          f"rounds of {args.seconds:g} s; medians of the rounds' medians (lowest–highest round); "
          f"{os.cpu_count()} cores, load average {load[0]:.1f} at the end")
    rows = []
    for name in args.cases:
        got = rounds[name]
        peer_epoch = statistics.median(got["peer_epoch"]) if got["peer_epoch"] else None
        our_epoch = statistics.median(got["our_epoch"])
        peer_fps = 1 / statistics.median(got["peer_frame"]) if got["peer_frame"] else None
        e2e_fps = 1 / statistics.median(got["e2e_gap"]) if got["e2e_gap"] else None
        rows.append([
            name,
            summary(got["peer_epoch"]) if peer_epoch else "—",
            summary(got["our_epoch"]),
            f"{peer_epoch / our_epoch:.2f}×" if peer_epoch else "—",
            summary(got["peer_frame"]) if peer_fps else "—",
            summary(got["our_frame"]),
            f"{e2e_fps:,.0f}" if e2e_fps else "—",
            f"{peer_fps:,.1f}" if peer_fps else "—",
            f"{e2e_fps / peer_fps:.1f}×" if e2e_fps and peer_fps else "—",
            summary(got["e2e_cpu"]) if got["e2e_cpu"] else "—",
            f"{sizes[name] / 1024:.1f} KiB" if name in sizes else "—",
        ])
    print_table(["network", "peer epoch ms", "our epoch ms", "epoch: peer/ours", "peer frame ms",
                 "our frame maths ms", "ours e2e fps", "peer fps", "e2e: ours/peer", "server CPU ms/frame",
                 "frame on wire"], rows)
    print("(epoch: > 1× means ours is faster. e2e: frames a second over the WebSocket, the client acknowledging "
          "each frame, against the peer's frames a second of maths alone, without drawing.)")


def node_version() -> str:
    try:
        return subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "not installed"


if __name__ == "__main__":
    main()
