"""MNIST data: the shipped npz, the IDX loader, drawn-digit preprocessing, augmentation, PNG data URLs."""

from __future__ import annotations

import base64
import gzip
import io
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from engine.core.errors import EngineError, SizeLimitError
from engine.lenet.augment import affine_warp, augment_batch
from engine.lenet.digits import decode_png_data_url, preprocess_digit
from engine.lenet.mnist import load_idx, load_mnist10k, read_idx, to_float_images

TRAIN_PER_DIGIT = [801, 927, 791, 832, 780, 663, 814, 870, 744, 778]
ROWS = np.arange(28)


@pytest.fixture(scope="module")
def mnist():
    return load_mnist10k()


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """(row, column) in pixel indices, the convention in which MNIST centres its digits on (14, 14)."""
    mass = image.sum()
    return float(image.sum(axis=1) @ ROWS / mass), float(image.sum(axis=0) @ ROWS / mass)


def ink_extent(image: np.ndarray, level: float = 0.1) -> tuple[int, int]:
    """Height and width of the box holding the pixels above `level`."""
    rows = np.flatnonzero((image > level).any(axis=1))
    cols = np.flatnonzero((image > level).any(axis=0))
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


# --- the shipped npz ---------------------------------------------------------------------------------------------


def test_npz_shapes_dtypes_and_split(mnist):
    assert mnist.train_images.shape == (8000, 28, 28) and mnist.train_images.dtype == np.uint8
    assert mnist.test_images.shape == (2000, 28, 28) and mnist.test_images.dtype == np.uint8
    assert mnist.train_labels.shape == (8000,) and mnist.train_labels.dtype == np.uint8
    assert mnist.test_labels.shape == (2000,) and mnist.test_labels.dtype == np.uint8
    assert np.bincount(mnist.train_labels, minlength=10).tolist() == TRAIN_PER_DIGIT
    assert np.bincount(mnist.test_labels, minlength=10).tolist() == [200] * 10
    # Kept in file order, digit 0 first.
    assert np.all(np.diff(mnist.train_labels.astype(int)) >= 0)
    assert np.all(np.diff(mnist.test_labels.astype(int)) >= 0)


def test_npz_images_look_like_mnist(mnist):
    for images in (mnist.train_images, mnist.test_images):
        assert images.max() == 255 and images.min() == 0
        # Black borders (a handful of MNIST digits touch them) and centred ink, as MNIST digits are.
        border = np.concatenate([images[:, 0, :], images[:, -1, :], images[:, :, 0], images[:, :, -1]], axis=1)
        assert np.mean(border.max(axis=1) > 0) < 0.02
        assert border.mean() < 0.1
        for image in images[::97]:
            row, col = centre_of_mass(image.astype(np.float64))
            assert abs(row - 14) <= 0.6 and abs(col - 14) <= 0.6


def test_npz_train_and_test_share_no_image(mnist):
    train = {image.tobytes() for image in mnist.train_images}
    test = {image.tobytes() for image in mnist.test_images}
    assert len(train) == 8000 and len(test) == 2000
    assert not train & test


def test_float_inputs(mnist):
    x = mnist.test_inputs()
    assert x.shape == (2000, 1, 28, 28) and x.dtype == np.float32 and x.flags.c_contiguous
    np.testing.assert_allclose(x[5, 0], mnist.test_images[5] / 255.0, atol=1e-7)
    assert float(x.max()) == 1.0 and float(x.min()) == 0.0
    assert to_float_images(mnist.train_images[:3], np.float64).dtype == np.float64
    with pytest.raises(EngineError, match="shape"):
        to_float_images(np.zeros((28, 28), np.uint8))


def test_npz_loader_errors(tmp_path: Path):
    with pytest.raises(EngineError, match="build_mnist.py"):
        load_mnist10k(tmp_path / "missing.npz")
    partial = tmp_path / "partial.npz"
    np.savez(partial, train_images=np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(EngineError, match="missing arrays train_labels, test_images, test_labels"):
        load_mnist10k(partial)
    wrong = tmp_path / "wrong.npz"
    np.savez(
        wrong,
        train_images=np.zeros((2, 28, 28), np.float32),
        train_labels=np.zeros(2, np.uint8),
        test_images=np.zeros((1, 28, 28), np.uint8),
        test_labels=np.zeros(1, np.uint8),
    )
    with pytest.raises(EngineError, match="must be uint8"):
        load_mnist10k(wrong)
    not_npz = tmp_path / "text.npz"
    not_npz.write_text("hello")
    with pytest.raises(EngineError, match="not a readable .npz"):
        load_mnist10k(not_npz)


# --- IDX files ---------------------------------------------------------------------------------------------------


def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    magic = 0x0800 | array.ndim if magic is None else magic
    return struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape) + array.astype(np.uint8).tobytes()


def write_idx_set(folder: Path, gz: bool, rng: np.random.Generator, dotted: bool = False) -> dict[str, np.ndarray]:
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (7, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, 7, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, 3, dtype=np.uint8),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        data = idx_bytes(array)
        name = name.replace("-idx", ".idx") if dotted else name
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)
    return arrays


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzipped"])
def test_idx_loader_reads_plain_and_gzipped(tmp_path: Path, gz: bool):
    arrays = write_idx_set(tmp_path, gz, np.random.default_rng(1))
    split = load_idx(tmp_path)
    np.testing.assert_array_equal(split.train_images, arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(split.train_labels, arrays["train-labels-idx1-ubyte"])
    np.testing.assert_array_equal(split.test_images, arrays["t10k-images-idx3-ubyte"])
    np.testing.assert_array_equal(split.test_labels, arrays["t10k-labels-idx1-ubyte"])
    assert split.train_images.dtype == np.uint8 and split.test_inputs().shape == (3, 1, 28, 28)


def test_idx_loader_accepts_dotted_mirror_names(tmp_path: Path):
    arrays = write_idx_set(tmp_path, False, np.random.default_rng(2), dotted=True)
    np.testing.assert_array_equal(load_idx(tmp_path).test_labels, arrays["t10k-labels-idx1-ubyte"])


def test_idx_bad_magic_number(tmp_path: Path):
    write_idx_set(tmp_path, False, np.random.default_rng(3))
    labels = np.zeros(7, np.uint8)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(labels, magic=0x12340801))
    with pytest.raises(EngineError, match="not an IDX file.*magic number 12340801"):
        load_idx(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(labels, magic=0x00000D01))
    with pytest.raises(EngineError, match="element type 0x0d is not unsigned bytes"):
        load_idx(tmp_path)


def test_idx_labels_file_in_the_images_slot(tmp_path: Path):
    write_idx_set(tmp_path, False, np.random.default_rng(4))
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros(3, np.uint8)))
    with pytest.raises(EngineError, match="magic number 0x00000801 is not that of an images file"):
        load_idx(tmp_path)


def test_idx_size_errors(tmp_path: Path):
    write_idx_set(tmp_path, True, np.random.default_rng(5))
    truncated = idx_bytes(np.zeros((3, 28, 28), np.uint8))[:-10]
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(truncated))
    with pytest.raises(EngineError, match=r"shape \[3, 28, 28\] needs 2352 data bytes, the file has 2342"):
        load_idx(tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.zeros((4, 28, 28), np.uint8))))
    with pytest.raises(EngineError, match="4 test images but 3 test labels"):
        load_idx(tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.zeros((3, 32, 32), np.uint8))))
    with pytest.raises(EngineError, match="32x32, expected 28x28"):
        load_idx(tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")
    with pytest.raises(EngineError, match="cannot read"):
        load_idx(tmp_path)


def test_idx_missing_files(tmp_path: Path):
    with pytest.raises(EngineError, match="is not a folder"):
        load_idx(tmp_path / "nowhere")
    with pytest.raises(EngineError, match="no train-images-idx3-ubyte or train-images-idx3-ubyte.gz"):
        load_idx(tmp_path)
    short = tmp_path / "short"
    short.write_bytes(b"\x00\x00")
    with pytest.raises(EngineError, match="too short"):
        read_idx(short)


# --- preprocessing a drawn digit ---------------------------------------------------------------------------------


def test_off_centre_blob_ends_centred_and_20_pixels_wide():
    yy, xx = np.mgrid[0:300, 0:400]
    image = np.exp(-((yy - 60.0) ** 2 + (xx - 330.0) ** 2) / (2 * 15.0**2))
    image[image < 1e-3] = 0.0  # a blob of finite size in a corner
    out = preprocess_digit(image)
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0
    row, col = centre_of_mass(out)
    assert np.hypot(row - 14, col - 14) < 0.5
    assert max(ink_extent(out, level=0.0)) in (20, 21, 22)  # 20 px of ink plus the anti-aliased fringe


def test_off_centre_mass_in_a_small_image_is_centred_too():
    image = np.zeros((40, 30))
    image[3:12, 20:26] = 1.0  # a bright block
    image[12:20, 22:24] = 0.3  # with a faint tail: the mass is off the box's centre
    out = preprocess_digit(image)
    row, col = centre_of_mass(out)
    assert np.hypot(row - 14, col - 14) < 0.5


def test_tall_thin_bar_stays_tall_and_thin():
    image = np.zeros((512, 512), np.float32)
    image[40:440, 300:340] = 1.0  # 400 tall, 40 wide: 20 x 2 pixels after scaling
    out = preprocess_digit(image)
    # Sizes measured by ink: the full-ink rows hold 2 pixels' worth, the middle column 20 pixels' worth.
    np.testing.assert_allclose(out[6:22].sum(axis=1), 2.0, atol=0.05)
    assert 19.5 <= out.sum(axis=0).max() <= 20.5
    assert ink_extent(out, level=0.0) == (21, 3)  # plus the partly covered pixels at the edges
    assert abs(out.sum() - 40.0) < 0.5
    row, col = centre_of_mass(out)
    assert np.hypot(row - 14, col - 14) < 0.5


def test_wide_bar_keeps_its_aspect_the_other_way():
    image = np.zeros((100, 300), np.float32)
    image[40:50, 20:220] = 1.0  # 200 wide, 10 tall -> 20 x 1
    out = preprocess_digit(image)
    assert 0.95 <= out.sum(axis=0)[6:22].min() and out.sum(axis=0).max() <= 1.05
    assert abs(out.sum() - 20.0) < 0.5  # one pixel's worth of ink in each of 20 columns
    assert ink_extent(out, level=0.0)[1] == 21


def test_empty_image_means_no_digit():
    assert preprocess_digit(np.zeros((280, 280))) is None
    assert preprocess_digit(np.zeros((1, 1))) is None


@pytest.mark.parametrize("shape", [(1, 1), (3, 500), (28, 28), (1024, 1024)])
def test_any_size_up_to_1024(shape):
    image = np.zeros(shape, np.float32)
    image[shape[0] // 4 : shape[0] // 4 + max(1, shape[0] // 2), : max(1, shape[1] // 3)] = 1.0
    out = preprocess_digit(image)
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0 and out.sum() > 1.0


def test_bad_images_are_refused():
    with pytest.raises(SizeLimitError, match="larger than 1024x1024"):
        preprocess_digit(np.zeros((1025, 10)))
    with pytest.raises(EngineError, match="2-D"):
        preprocess_digit(np.zeros((28, 28, 3)))
    with pytest.raises(EngineError, match="NaN"):
        preprocess_digit(np.full((5, 5), np.nan))
    with pytest.raises(EngineError, match=r"0\.\.1"):
        preprocess_digit(np.full((5, 5), 255.0))
    with pytest.raises(EngineError, match="at least one pixel"):
        preprocess_digit(np.zeros((0, 5)))
    with pytest.raises(EngineError, match="real numbers"):
        preprocess_digit(np.array([["a"]]))


def test_mnist_digits_pass_through_almost_unchanged(mnist):
    # MNIST digits are already cropped, scaled and centred: preprocessing them again barely moves a pixel.
    for image in mnist.test_images[::200] / 255.0:
        out = preprocess_digit(image)
        assert np.corrcoef(out.ravel(), image.ravel())[0, 1] > 0.85


# --- augmentation ------------------------------------------------------------------------------------------------


def test_augment_shapes_dtypes_and_identity(mnist):
    x = mnist.test_inputs()[:16]
    for dtype in (np.float32, np.float64):
        xd = x.astype(dtype)
        out = augment_batch(xd, np.random.default_rng(0))
        assert out.shape == xd.shape and out.dtype == dtype and out.flags.c_contiguous
        assert not np.array_equal(out, xd)
        same = augment_batch(xd, np.random.default_rng(0), max_shift=0, max_rotation_deg=0, scale_range=(1, 1))
        np.testing.assert_array_equal(same, xd)


def test_augment_is_deterministic_given_a_seed(mnist):
    x = mnist.test_inputs()[:8]
    a = augment_batch(x, np.random.default_rng(7))
    np.testing.assert_array_equal(a, augment_batch(x, np.random.default_rng(7)))
    assert not np.array_equal(a, augment_batch(x, np.random.default_rng(8)))


def test_augment_roughly_preserves_mass(mnist):
    x = mnist.test_inputs()[::40]
    mass = x.sum(axis=(1, 2, 3))
    moved = augment_batch(x, np.random.default_rng(1), scale_range=(1, 1)).sum(axis=(1, 2, 3))
    np.testing.assert_allclose(moved, mass, rtol=0.02)  # shifts and rotations only: the digit stays in frame
    scaled = augment_batch(x, np.random.default_rng(2), scale_range=(0.9, 1.1)).sum(axis=(1, 2, 3))
    ratio = scaled / mass
    assert np.all((ratio > 0.9**2 * 0.97) & (ratio < 1.1**2 * 1.03))  # area scales with the square
    assert ratio.std() > 0.01


def test_affine_warp_exact_cases():
    x = np.arange(2 * 2 * 5 * 6, dtype=np.float64).reshape(2, 2, 5, 6)
    square = np.arange(2 * 1 * 5 * 5, dtype=np.float64).reshape(2, 1, 5, 5)
    rotated = affine_warp(square, np.array([np.pi / 2, -np.pi / 2]), np.ones(2), np.zeros((2, 2)))
    np.testing.assert_allclose(rotated[0, 0], np.rot90(square[0, 0], 1), atol=1e-12)
    np.testing.assert_allclose(rotated[1, 0], np.rot90(square[1, 0], -1), atol=1e-12)
    shifted = affine_warp(x, np.zeros(2), np.ones(2), np.array([[1.0, -2.0], [0.0, 0.0]]))
    expected = np.zeros_like(x[0])
    expected[:, 1:, :-2] = x[0][:, :-1, 2:]  # one down, two left, zeros coming in; both channels alike
    np.testing.assert_array_equal(shifted[0], expected)
    np.testing.assert_array_equal(shifted[1], x[1])
    half = affine_warp(square[:1], np.zeros(1), np.ones(1), np.array([[0.0, 0.5]]))
    np.testing.assert_allclose(half[0, 0, :, 1:], (square[0, 0, :, 1:] + square[0, 0, :, :-1]) / 2)
    gone = affine_warp(x, np.zeros(2), np.ones(2), np.array([[-100.0, 0.0], [3.0, 400.0]]))
    assert not gone.any()


def test_augment_bad_arguments():
    rng = np.random.default_rng(0)
    with pytest.raises(EngineError, match=r"\(N, C, H, W\)"):
        augment_batch(np.zeros((4, 28, 28), np.float32), rng)
    with pytest.raises(EngineError, match="float32 or float64"):
        augment_batch(np.zeros((1, 1, 28, 28), np.uint8), rng)
    with pytest.raises(EngineError, match="scale_range"):
        augment_batch(np.zeros((1, 1, 28, 28), np.float32), rng, scale_range=(0, 1))
    with pytest.raises(EngineError, match="negative"):
        augment_batch(np.zeros((1, 1, 28, 28), np.float32), rng, max_shift=-1)
    with pytest.raises(EngineError, match=r"shift \[3, 2\]"):
        affine_warp(np.zeros((3, 1, 4, 4)), np.zeros(1), np.ones(1), np.zeros((1, 2)))


# --- PNG data URLs -----------------------------------------------------------------------------------------------


def data_url(img: Image.Image) -> str:
    buffer = io.BytesIO()
    img.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def test_transparent_canvas_ink_is_alpha():
    img = Image.new("RGBA", (280, 200), (0, 0, 0, 0))
    ImageDraw.Draw(img).line([(140, 20), (140, 180)], fill=(30, 60, 200, 255), width=20)
    ink = decode_png_data_url(data_url(img))
    assert ink.shape == (200, 280) and ink.dtype == np.float32
    assert ink[100, 140] == 1.0 and ink[100, 20] == 0.0
    digit = preprocess_digit(ink)  # the whole path of a drawn "1": tall and thin, centred
    height, width = ink_extent(digit, level=0.5)
    assert height >= 19 and width <= 4


def test_opaque_white_paper_ink_is_inverted_luminance():
    img = Image.new("RGB", (100, 80), (255, 255, 255))
    ImageDraw.Draw(img).rectangle([40, 20, 50, 60], fill=(0, 0, 0))
    ink = decode_png_data_url(data_url(img.convert("RGBA")))  # opaque alpha everywhere: luminance decides
    assert ink[30, 45] == 1.0 and ink[5, 5] == 0.0


def test_white_digit_on_black_ink_is_luminance(mnist):
    img = Image.fromarray(mnist.test_images[0])
    ink = decode_png_data_url(data_url(img))
    np.testing.assert_allclose(ink, mnist.test_images[0] / 255.0, atol=1e-7)


def test_bad_data_urls():
    with pytest.raises(EngineError, match="must be a string"):
        decode_png_data_url(42)
    with pytest.raises(EngineError, match="expected a PNG data URL"):
        decode_png_data_url("data:image/jpeg;base64,AAAA")
    with pytest.raises(EngineError, match="not valid base64"):
        decode_png_data_url("data:image/png;base64,@@@")
    with pytest.raises(EngineError, match="not hold a readable PNG"):
        decode_png_data_url("data:image/png;base64," + base64.b64encode(b"hello, not a picture").decode())
    gif = io.BytesIO()
    Image.new("L", (4, 4)).save(gif, format="GIF")
    with pytest.raises(EngineError, match="not hold a readable PNG"):
        decode_png_data_url("data:image/png;base64," + base64.b64encode(gif.getvalue()).decode())
    with pytest.raises(SizeLimitError, match="larger than 1024x1024"):
        decode_png_data_url(data_url(Image.new("L", (1025, 2))))
