"""Playground frames per second the server can produce on one core.

    python bench/playground.py

One frame = one epoch of 250 training points at batch 10 (25 optimiser steps), the metrics on the training
and test sets, the gradient of the training loss, every neuron's 25 × 25 map, the 100 × 100 output map,
and the frame encoded as it goes on the WebSocket (JSON with base64 arrays). Targets: 300 frames a second
for TensorFlow Playground's default network (x1, x2 → 4 → 2 → 1, tanh, circle) and 60 for the largest
(all seven features → 6 × 8 → 1), so that streaming at 60 frames a second leaves the CPU mostly idle.
"""

from __future__ import annotations

import json
import os
import sys

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))

from _common import print_table, time_per_call  # noqa: E402

from app.arrays import encode  # noqa: E402
from engine.dense.features import FEATURES  # noqa: E402
from engine.playground.config import trainer_from_config  # noqa: E402
from engine.playground.frame import maps_for, playground_frame  # noqa: E402

ALL_FEATURES = list(FEATURES)
# (name, configuration, target frames/s, TensorFlow Playground's own maths in frames/s on our machines
# (shared/anchors.md: one epoch + every neuron on a 100 × 100 grid, without drawing))
CASES = [
    ("default: 2 → 4 → 2 → 1 tanh", {}, 300, 240),
    ("largest: 7 → 6 × 8 → 1 tanh", {"features": ALL_FEATURES, "hidden": [8] * 6}, 60, 34),
    ("three-class spiral: 2 → 8 → 8 → 3", {"dataset": "spiral3", "loss": "cross_entropy", "hidden": [8, 8]}, None,
     None),
]


def measure(config: dict) -> tuple[float, float, float, int]:
    """Seconds per epoch, per maps-and-gradients, per whole encoded frame; and the frame's size in bytes."""
    trainer = trainer_from_config(config)
    maps = maps_for(trainer)
    size = 0

    def epoch() -> None:
        trainer.train_epoch()
        trainer.record()

    def maps_only() -> None:
        playground_frame(trainer, maps, focus=(1, 0))

    def frame() -> None:
        nonlocal size
        epoch()
        size = len(json.dumps(encode(playground_frame(trainer, maps, focus=(1, 0)), "base64")))

    return time_per_call(epoch), time_per_call(maps_only), time_per_call(frame), size


def main() -> None:
    rows = []
    for name, config, target, tfp in CASES:
        t_epoch, t_maps, t_frame, size = measure(config)
        fps = 1 / t_frame
        verdict = "—" if target is None else f"{target} ({'met' if fps >= target else 'MISSED'})"
        versus = "—" if tfp is None else f"{tfp} ({fps / tfp:.1f}×)"
        rows.append([name, f"{t_epoch * 1e3:.2f}", f"{t_maps * 1e3:.2f}", f"{t_frame * 1e3:.2f}", f"{fps:,.0f}",
                     verdict, versus, f"{size / 1024:.0f} KiB", f"{100 * t_frame * 60:.0f} %"])
    print("Playground frames on one core (epoch = 250 points at batch 10; maps: 25×25 per neuron, 100×100 output "
          "and one focused neuron; wire: JSON + base64)")
    print_table(["network", "epoch ms", "maps+grads ms", "frame ms", "frames/s", "target", "TF Playground maths",
                 "frame size", "CPU at 60 fps"], rows)


if __name__ == "__main__":
    main()
