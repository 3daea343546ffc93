"""Classroom on loopback: a teacher trains the Playground live and N students follow the room.

The teacher's stream builds each frame once; the room fans the same text out to every student (app/rooms.py).
For each room size this prints the teacher's frame rate, each student's frame rate (min / median / max), the
frame size, the server's CPU and this client process's CPU (percent of one core, from /proc via psutil) and the
machine's load average (the machine is shared: read the numbers with it; when the clients' CPU is near 100% the
clients, not the server, set the frame rate). Target (issue 18): 100 students following at ≥ 20 frames a second.

    python bench/classroom.py --students 1 10 100 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_table  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NETWORK = {"dataset": "spiral", "hidden": [8, 8, 4], "learning_rate": 0.03, "seed": 1}
FRAME_PREFIX = '{"type": "frame"'
FRAME_BYTES = FRAME_PREFIX.encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def student(ws_url: str, counts: list[int], sizes: list[int], index: int, ready: asyncio.Event,
                  stop: asyncio.Event) -> None:
    async with websockets.connect(ws_url, max_size=None) as ws:
        ready.set()
        while not stop.is_set():
            try:
                # Bytes, counted, never decoded nor parsed: the clients share the machine with the server.
                data = await asyncio.wait_for(ws.recv(decode=False), timeout=0.5)
            except TimeoutError:
                continue
            if data.startswith(FRAME_BYTES):
                counts[index] += 1
                if len(sizes) < 200:
                    sizes.append(len(data))


async def run(base: str, students: int, seconds: float, server: psutil.Process) -> list[str]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        sid = (await http.post("/api/playground", json=NETWORK)).json()["id"]
        room = (await http.post("/api/rooms", json={"page": "/playground", "session": sid, "kind": "network"})).json()
        tokens = []
        for i in range(students):
            r = await http.post(f"/api/rooms/{room['code']}/join", json={"name": f"student {i}"})
            r.raise_for_status()
            tokens.append(r.json()["student_token"])
    ws_base = base.replace("http://", "ws://")
    counts = [0] * students
    sizes: list[int] = []
    stop = asyncio.Event()
    readies = [asyncio.Event() for _ in range(students)]
    tasks = [asyncio.create_task(student(f"{ws_base}/ws/rooms/{room['code']}?room_token={t}", counts, sizes, i,
                                         readies[i], stop)) for i, t in enumerate(tokens)]
    await asyncio.gather(*(r.wait() for r in readies))
    teacher_frames = 0
    async with websockets.connect(f"{ws_base}/ws/networks/{sid}", max_size=None) as teacher:
        await teacher.recv()
        await teacher.send(json.dumps({"type": "play"}))
        await asyncio.sleep(1.0)  # warm up: every follower has its keyframe
        start_counts = list(counts)
        me = psutil.Process()
        cpu0, mine0, t0 = server.cpu_times(), me.cpu_times(), time.monotonic()
        while time.monotonic() - t0 < seconds:
            try:
                text = await asyncio.wait_for(teacher.recv(), timeout=0.5)
            except TimeoutError:
                continue
            if isinstance(text, str) and text.startswith(FRAME_PREFIX):
                teacher_frames += 1
        elapsed = time.monotonic() - t0
        cpu1, mine1 = server.cpu_times(), me.cpu_times()
        end_counts = list(counts)
        await teacher.send(json.dumps({"type": "pause"}))
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    rates = sorted((e - s) / elapsed for s, e in zip(start_counts, end_counts, strict=True))
    cpu = 100 * ((cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)) / elapsed
    clients = 100 * ((mine1.user - mine0.user) + (mine1.system - mine0.system)) / elapsed
    load = os.getloadavg()[0]
    return [str(students), f"{teacher_frames / elapsed:.1f}", f"{rates[0]:.1f}", f"{statistics.median(rates):.1f}",
            f"{rates[-1]:.1f}", f"{statistics.mean(sizes) / 1024:.1f}" if sizes else "—", f"{cpu:.0f}%",
            f"{clients:.0f}%", f"{load:.1f}", "yes" if rates[0] >= 20 else "no"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--deflate", choices=["on", "off"], default="on",
                        help="WebSocket per-message compression (uvicorn's default: on). It is done once per "
                             "follower, not once per frame")
    args = parser.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    data = tempfile.mkdtemp(prefix="glassbox-classroom-bench-")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GLASSBOX_DATA_DIR": data,
           "GLASSBOX_ROOM_JOINS_PER_MINUTE": "100000", "GLASSBOX_MAX_ROOM_STUDENTS": "10000"}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port",
                             str(port), "--log-level", "warning", "--ws-per-message-deflate",
                             "true" if args.deflate == "on" else "false"], cwd=ROOT, env=env)
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        server = psutil.Process(proc.pid)
        print(f"Playground {NETWORK['hidden']} on {NETWORK['dataset']}, compression {args.deflate}, "
              f"{args.seconds:g} s per room size, "
              f"{os.cpu_count()} CPUs, load average before: {os.getloadavg()[0]:.1f}")
        rows = [asyncio.run(run(base, n, args.seconds, server)) for n in args.students]
        print_table(["students", "teacher fps", "student fps min", "median", "max", "frame KiB", "server CPU",
                     "clients CPU", "load avg", "≥ 20 fps"], rows)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
