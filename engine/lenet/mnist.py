"""MNIST loaders: the shipped 10k-digit npz and the standard IDX files.

`load_mnist10k()` reads `engine/lenet/data/mnist10k.npz` (built by
`scripts/build_mnist.py`, see `engine/lenet/data/README.md`). `load_idx(folder)`
reads the four files of the full MNIST set as LeCun distributes them, gzipped
or plain, for people who have it. Both return an `MnistSplit` of uint8 images
(N, 28, 28) with ink high and uint8 labels; `to_float_images` turns images into
network input.
"""

from __future__ import annotations

import gzip
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.core.errors import EngineError

SIDE = 28
DEFAULT_NPZ = Path(__file__).resolve().parent / "data" / "mnist10k.npz"
NPZ_KEYS = ("train_images", "train_labels", "test_images", "test_labels")

# IDX magic numbers: two zero bytes, the element type (0x08 = unsigned byte), the number of dimensions.
IDX_IMAGES_MAGIC = 0x00000803
IDX_LABELS_MAGIC = 0x00000801
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


@dataclass(frozen=True)
class MnistSplit:
    """Images uint8 (N, 28, 28), 0 = background, 255 = full ink; labels uint8 0..9."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray

    def train_inputs(self, dtype: np.dtype | type = np.float32) -> np.ndarray:
        return to_float_images(self.train_images, dtype)

    def test_inputs(self, dtype: np.dtype | type = np.float32) -> np.ndarray:
        return to_float_images(self.test_images, dtype)


def to_float_images(images: np.ndarray, dtype: np.dtype | type = np.float32) -> np.ndarray:
    """uint8 (N, 28, 28) -> (N, 1, 28, 28) in 0..1, the layout the conv layers take."""
    images = np.asarray(images)
    if images.ndim != 3:
        raise EngineError(f"images must have shape (N, height, width), got {list(images.shape)}")
    dtype = np.dtype(dtype)
    out = images.astype(dtype)[:, None, :, :]
    out *= dtype.type(1.0 / 255.0)
    return np.ascontiguousarray(out)


def _check_split(split: MnistSplit, source: str) -> MnistSplit:
    for part in ("train", "test"):
        images, labels = getattr(split, f"{part}_images"), getattr(split, f"{part}_labels")
        if images.dtype != np.uint8 or labels.dtype != np.uint8:
            raise EngineError(
                f"{source}: {part} images and labels must be uint8, not {images.dtype} and {labels.dtype}"
            )
        if images.ndim != 3 or images.shape[1:] != (SIDE, SIDE):
            raise EngineError(f"{source}: {part} images must have shape (N, 28, 28), got {list(images.shape)}")
        if labels.shape != (images.shape[0],):
            raise EngineError(f"{source}: {images.shape[0]} {part} images but labels of shape {list(labels.shape)}")
        if labels.size and labels.max() > 9:
            raise EngineError(f"{source}: {part} labels must be digits 0..9, found {int(labels.max())}")
    return split


def load_mnist10k(path: str | Path | None = None) -> MnistSplit:
    """The shipped 10,000 digits: 8,000 for training, 2,000 for testing (200 per digit)."""
    path = Path(path) if path is not None else DEFAULT_NPZ
    if not path.is_file():
        raise EngineError(f"{path} does not exist; build it with scripts/build_mnist.py "
                          "(see engine/lenet/data/README.md)")
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ValueError("a single array, not an .npz archive")
        with data:
            arrays = {k: data[k] for k in NPZ_KEYS if k in data.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise EngineError(f"{path}: not a readable .npz of plain arrays ({exc})") from exc
    missing = [k for k in NPZ_KEYS if k not in arrays]
    if missing:
        raise EngineError(f"{path}: missing arrays {', '.join(missing)}; expected {', '.join(NPZ_KEYS)}")
    return _check_split(MnistSplit(**arrays), str(path))


def _find_idx_file(folder: Path, stem: str) -> Path:
    # LeCun's names use '-idx3-ubyte'; some mirrors (Kaggle) write '.idx3-ubyte'.
    dotted = stem.replace("-idx", ".idx")
    for name in (stem, stem + ".gz", dotted, dotted + ".gz"):
        if (folder / name).is_file():
            return folder / name
    raise EngineError(f"{folder}: no {stem} or {stem}.gz; the folder must hold the four MNIST IDX files")


def read_idx(path: str | Path) -> np.ndarray:
    """One IDX file of unsigned bytes (gzipped if its name ends in .gz) as a uint8 array of its shape."""
    path = Path(path)
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise EngineError(f"{path}: cannot read ({exc})") from exc
    if len(raw) < 4:
        raise EngineError(f"{path}: {len(raw)} bytes is too short for an IDX header")
    if raw[0] != 0 or raw[1] != 0:
        raise EngineError(f"{path}: not an IDX file (magic number {raw[:4].hex()} should start with 0000)")
    if raw[2] != 0x08:
        raise EngineError(f"{path}: IDX element type 0x{raw[2]:02x} is not unsigned bytes (0x08)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise EngineError(f"{path}: IDX header with {ndim} dimensions is incomplete")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = int(np.prod(shape, dtype=np.int64))
    if len(raw) - header != expected:
        raise EngineError(f"{path}: shape {list(shape)} needs {expected} data bytes, the file has {len(raw) - header}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape).copy()


def _read_idx_expecting(path: Path, magic: int) -> np.ndarray:
    array = read_idx(path)
    kind = "images" if magic == IDX_IMAGES_MAGIC else "labels"
    if array.ndim != (magic & 0xFF):
        found = f"0x{0x0800 | array.ndim:08x}"
        raise EngineError(f"{path}: magic number {found} is not that of an {kind} file (0x{magic:08x})")
    return array


def load_idx(folder: str | Path) -> MnistSplit:
    """The full MNIST set from train-images-idx3-ubyte(.gz), train-labels-idx1-ubyte(.gz), t10k-...."""
    folder = Path(folder)
    if not folder.is_dir():
        raise EngineError(f"{folder} is not a folder")
    arrays = {}
    for key, stem in IDX_FILES.items():
        magic = IDX_IMAGES_MAGIC if key.endswith("images") else IDX_LABELS_MAGIC
        arrays[key] = _read_idx_expecting(_find_idx_file(folder, stem), magic)
    for part in ("train", "test"):
        images, labels = arrays[f"{part}_images"], arrays[f"{part}_labels"]
        if images.shape[1:] != (SIDE, SIDE):
            raise EngineError(f"{folder}: {part} images are {images.shape[1]}x{images.shape[2]}, expected 28x28")
        if len(images) != len(labels):
            raise EngineError(f"{folder}: {len(images)} {part} images but {len(labels)} {part} labels")
    return _check_split(MnistSplit(**arrays), str(folder))
