"""Editing a session's data by hand: add a point, remove the nearest one, or load points from a CSV file.

Labels follow the data set's task: classes 0/1 for two classes (−1 is read as 0, as TensorFlow Playground
labels them ±1), 0/1/2 for three, any finite number for regression and curves.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np

from engine.core.errors import EngineError, SizeLimitError
from engine.dense.datasets import Dataset
from engine.dense.neuron_maps import EXTENT

MAX_CSV_BYTES = 2_000_000


def check_label(label: float, task: str, num_classes: int, where: str = "the label") -> float:
    if not np.isfinite(label):
        raise EngineError(f"{where} must be a finite number, got {label}")
    if task == "binary":
        if label not in (-1, 0, 1):
            raise EngineError(f"{where} is {label:g}; two-class data take 0 or 1 (or −1 and +1)")
        return 1.0 if label == 1 else 0.0
    if task == "multiclass":
        classes = num_classes or 3
        if label != int(label) or not 0 <= label < classes:
            raise EngineError(f"{where} is {label:g}; this data set's classes are 0 to {classes - 1}")
        return float(label)
    return float(label)


def _check_point(point: list[float], input_dim: int) -> np.ndarray:
    p = np.asarray(point, dtype=np.float64)
    if p.shape != (input_dim,):
        raise EngineError(f"a point of this data set has {input_dim} coordinate(s), got {list(p.shape)}")
    if not np.all(np.isfinite(p)):
        raise EngineError("the point's coordinates must be finite numbers")
    if np.any(np.abs(p) > EXTENT):
        raise EngineError(f"points lie in [−{EXTENT:g}, {EXTENT:g}] on every axis, got {p.tolist()}")
    return p


def add_point(data: Dataset, point: list[float], label: float, split: str = "train") -> Dataset:
    """A copy of the data with one more point in the training (or test) set."""
    if split not in ("train", "test"):
        raise EngineError(f"split is 'train' or 'test', got {split!r}")
    p = _check_point(point, data.input_dim)
    y = check_label(float(label), data.task, data.num_classes)
    if split == "train":
        x_train = np.concatenate([data.x_train, p[None]])
        y_train = np.concatenate([data.y_train, np.asarray([y], dtype=data.y_train.dtype)])
        x_test, y_test = data.x_test, data.y_test
    else:
        x_train, y_train = data.x_train, data.y_train
        x_test = np.concatenate([data.x_test, p[None]])
        y_test = np.concatenate([data.y_test, np.asarray([y], dtype=data.y_test.dtype)])
    return _edited(data, x_train, y_train, x_test, y_test, {"op": "add", "point": p.tolist(), "label": y,
                                                            "split": split})


def remove_point(data: Dataset, at: list[float], radius: float = 0.5) -> tuple[Dataset, dict[str, Any] | None]:
    """Remove the training or test point nearest to `at` when it lies within `radius`.

    Returns the new data and what was removed ({split, point, label}), or the same data and None.
    """
    if not np.isfinite(radius) or radius <= 0:
        raise EngineError(f"radius must be a positive number, got {radius}")
    p = np.asarray(at, dtype=np.float64)
    if p.shape != (data.input_dim,) or not np.all(np.isfinite(p)):
        raise EngineError(f"give the position as {data.input_dim} finite coordinate(s), got {at!r}")
    best: tuple[float, str, int] | None = None
    for split, x in (("train", data.x_train), ("test", data.x_test)):
        if len(x):
            d = np.linalg.norm(x - p, axis=1)
            i = int(d.argmin())
            if d[i] <= radius and (best is None or d[i] < best[0]):
                best = (float(d[i]), split, i)
    if best is None:
        return data, None
    _, split, i = best
    arrays = {"train": [data.x_train, data.y_train], "test": [data.x_test, data.y_test]}
    removed = {"split": split, "point": arrays[split][0][i].tolist(), "label": float(arrays[split][1][i])}
    arrays[split] = [np.delete(arrays[split][0], i, axis=0), np.delete(arrays[split][1], i, axis=0)]
    (x_train, y_train), (x_test, y_test) = arrays["train"], arrays["test"]
    new = _edited(data, x_train, y_train, x_test, y_test, {"op": "remove", "at": p.tolist(), "radius": radius})
    return new, removed


def _edited(data: Dataset, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
            edit: dict[str, Any]) -> Dataset:
    source = dict(data.source)
    source["edits"] = [*source.get("edits", []), edit]
    return Dataset(data.name, data.task, x_train, y_train, x_test, y_test, data.num_classes, data.input_dim,
                   source)


def parse_points_csv(text: str, *, task: str, input_dim: int, train_ratio: float = 0.5, seed: int = 0,
                     max_points: int = 20_000) -> Dataset:
    """Points from CSV text: `x1,x2,label` rows (2-D) or `x,y` rows (1-D), an optional header line.

    Every problem is reported with its line number; nothing is half-loaded.
    """
    if len(text) > MAX_CSV_BYTES:
        raise SizeLimitError(f"the file is {len(text):,} characters; the limit is {MAX_CSV_BYTES:,}")
    if not 0.1 <= train_ratio <= 0.9:
        raise EngineError(f"train ratio must be between 0.1 and 0.9, got {train_ratio}")
    shape = "x1,x2,label" if input_dim == 2 else "x,y"
    rows: list[list[float]] = []
    for number, fields in enumerate(csv.reader(io.StringIO(text)), start=1):
        values = _csv_row(number, [f.strip() for f in fields], input_dim, shape, header_allowed=not rows)
        if values is None:
            continue
        values[-1] = check_label(values[-1], task, 3 if task == "multiclass" else 0,
                                 where=f"line {number}: the label")
        rows.append(values)
        if len(rows) > max_points:
            raise SizeLimitError(f"the file has more than {max_points:,} points, the limit")
    if len(rows) < 2:
        raise EngineError(f"the file needs at least 2 points as rows of {shape}; it has {len(rows)}")
    table = np.asarray(rows, dtype=np.float64)
    x, y = table[:, :input_dim], table[:, -1]
    if task != "regression":
        y = y.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order], y[order]
    split = max(1, min(len(x) - 1, int(round(len(x) * train_ratio))))
    return Dataset("custom", task, x[:split], y[:split], x[split:], y[split:], 3 if task == "multiclass" else (
        2 if task == "binary" else 0), input_dim, {"name": "custom", "train_ratio": train_ratio, "seed": seed,
                                                   "rows": len(x)})


def _csv_row(number: int, fields: list[str], input_dim: int, shape: str, *, header_allowed: bool) -> list[float] | None:
    """One CSV line as numbers (coordinates, then the label); None for a blank line or the header line."""
    columns = input_dim + 1
    if not fields or all(f == "" for f in fields):
        return None
    try:
        values = [float(f) for f in fields]
    except ValueError:
        if header_allowed and number == 1 and not any(_is_number(f) for f in fields):
            return None
        got = ",".join(fields)
        raise EngineError(f"line {number}: expected {columns} numbers ({shape}), got {got!r}") from None
    if len(values) != columns:
        raise EngineError(f"line {number}: expected {columns} comma-separated numbers ({shape}), got {len(values)}")
    if not all(np.isfinite(values)):
        raise EngineError(f"line {number}: numbers must be finite (no NaN or infinity)")
    if any(abs(v) > EXTENT for v in values[:input_dim]):
        raise EngineError(f"line {number}: coordinates must lie in [−{EXTENT:g}, {EXTENT:g}], got "
                          f"{values[:input_dim]}")
    return values


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
