"""Shared benchmark helpers: timing and the printed table."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def time_per_call(fn: Callable[[], object], min_time: float = 0.5, repeats: int = 5) -> float:
    """Median seconds per call over `repeats` runs of at least `min_time` each (after a warm-up)."""
    for _ in range(3):
        fn()
    n = 1
    while True:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        if time.perf_counter() - start >= min_time / repeats:
            break
        n *= 2
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        runs.append((time.perf_counter() - start) / n)
    return statistics.median(runs)


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    print(line)
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))


def try_import_torch():
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: `pip install torch==2.13.0` for the comparison column.")
        return None
    return torch


def interleaved_samples(fns: list[Callable[[], object]], repeats: int, rounds: int = 10,
                        warmup: int = 5) -> list[list[float]]:
    """Seconds of every call of each function. The functions take turns in `rounds` rounds,
    so a load spike on the machine hits all of them alike rather than one."""
    for fn in fns:
        for _ in range(warmup):
            fn()
    samples: list[list[float]] = [[] for _ in fns]
    per_round = max(1, repeats // rounds)
    for _ in range(rounds):
        for fn, bucket in zip(fns, samples, strict=True):
            for _ in range(per_round):
                start = time.perf_counter()
                fn()
                bucket.append(time.perf_counter() - start)
    return samples


def interleaved_median_times(fns: list[Callable[[], object]], repeats: int, rounds: int = 10,
                             warmup: int = 5) -> list[float]:
    """Median seconds per call of each function, taking turns as `interleaved_samples` does."""
    return [statistics.median(s) for s in interleaved_samples(fns, repeats, rounds, warmup)]


def median_and_spread(samples: list[float], scale: float = 1e3) -> str:
    """"median (p10–p90)" of timings, in ms by default."""
    q = statistics.quantiles(samples, n=10) if len(samples) > 1 else [samples[0]] * 9
    return f"{statistics.median(samples) * scale:.2f} ({q[0] * scale:.2f}–{q[-1] * scale:.2f})"
