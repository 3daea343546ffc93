"""LeNet-5 in the engine: the model's shapes and options, receptive fields, unit arithmetic, saving and loading,
training (progress, divergence), the shipped weights' accuracy, and `glassbox train lenet`."""

from __future__ import annotations

import gzip
import json
import struct
from pathlib import Path

import numpy as np
import pytest

from app.cli import main
from engine.core.errors import EngineError
from engine.core.serialize import import_npz
from engine.core.training import DivergedError
from engine.dense.trainer import Trainer
from engine.lenet.mnist import MnistSplit, load_mnist10k
from engine.lenet.model import DEFAULT_WEIGHTS, LeNet5, lenet5_spec, receptive_field
from engine.lenet.training import DigitArrays, LeNetTraining, confusion_matrix, evaluate, probe_indices

SHAPES = {"input": (1, 28, 28), "conv1": (6, 28, 28), "pool1": (6, 14, 14), "conv2": (16, 10, 10),
          "pool2": (16, 5, 5), "fc1": (120,), "fc2": (84,), "logits": (10,)}


@pytest.fixture(scope="module")
def mnist() -> MnistSplit:
    return load_mnist10k()


@pytest.fixture(scope="module")
def shipped() -> LeNet5:
    return LeNet5.load()


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("pooling", ["max", "avg"])
def test_model_builds_with_every_option(activation, pooling):
    model = LeNet5(activation, pooling)
    types = [layer.type for layer in model.net.layers]
    assert types == ["conv2d", activation, f"{pooling}pool2d", "conv2d", activation, f"{pooling}pool2d", "flatten",
                     "dense", activation, "dense", activation, "dense"]
    # 6·25+6, 16·6·25+16, 400·120+120, 120·84+84, 84·10+10
    assert model.net.num_params == 156 + 2416 + 48120 + 10164 + 850 == 61706
    image = np.random.default_rng(0).random((28, 28), dtype=np.float32)
    outputs = model.layer_outputs(image)
    for name, shape in SHAPES.items():
        assert outputs[name].shape == shape and outputs[name].dtype == np.float32
        assert outputs[name].flags.c_contiguous
    assert outputs["probabilities"].sum() == pytest.approx(1.0, abs=1e-6)
    batch = np.random.default_rng(1).random((7, 1, 28, 28), dtype=np.float32)
    assert model.logits(batch).shape == (7, 10)
    # The batch path gives the single-image numbers.
    assert np.allclose(model.logits(image[None, None])[0], outputs["logits"], atol=1e-5)
    if activation == "relu":
        assert outputs["conv1"].min() >= 0
    if pooling == "max":
        assert np.array_equal(outputs["pool1"], outputs["conv1"].reshape(6, 14, 2, 14, 2).max(axis=(2, 4)))
    else:
        assert np.allclose(outputs["pool2"], outputs["conv2"].reshape(16, 5, 2, 5, 2).mean(axis=(2, 4)), atol=1e-6)


def test_bad_options_and_inputs():
    with pytest.raises(EngineError, match="activation must be one of relu, tanh"):
        LeNet5("gelu")
    with pytest.raises(EngineError, match="pooling must be one of max, avg"):
        LeNet5("relu", "min")
    with pytest.raises(EngineError, match="28×28"):
        LeNet5().layer_outputs(np.zeros((20, 20)))
    with pytest.raises(EngineError, match="layer must be one of"):
        LeNet5().unit(np.zeros((28, 28)), "conv3")


def test_spec_builds_a_generic_trainer():
    trainer = Trainer(lenet5_spec("tanh", "avg"))
    assert trainer.net.num_params == 61706
    assert trainer.net.forward(np.zeros((2, 1, 28, 28))).shape == (2, 10)


def test_receptive_fields():
    assert receptive_field("conv1", 0, 0, "input") == {"top": -2, "left": -2, "bottom": 2, "right": 2}
    assert receptive_field("pool1", 3, 5, "conv1") == {"top": 6, "left": 10, "bottom": 7, "right": 11}
    assert receptive_field("pool1", 3, 5, "input") == {"top": 4, "left": 8, "bottom": 9, "right": 13}
    assert receptive_field("conv2", 0, 0, "input") == {"top": -2, "left": -2, "bottom": 11, "right": 11}
    assert receptive_field("pool2", 4, 4, "input") == {"top": 14, "left": 14, "bottom": 29, "right": 29}
    with pytest.raises(EngineError):
        receptive_field("conv1", 0, 0, "conv2")


def test_unit_arithmetic_matches_the_forward_pass():
    model = LeNet5("tanh", "avg", seed=3)
    image = np.random.default_rng(2).random((28, 28), dtype=np.float32)
    outputs = model.layer_outputs(image)
    conv = model.unit(image, "conv2", 7, 2, 6)
    assert conv["z"] == pytest.approx(np.sum(conv["channel_sums"]) + conv["bias"], abs=1e-12)
    assert conv["activation_value"] == pytest.approx(np.tanh(conv["z"]), abs=1e-12)
    assert conv["activation_value"] == pytest.approx(outputs["conv2"][7, 2, 6], abs=1e-5)
    pool = model.unit(image, "pool1", 4, 13, 0)
    assert pool["pooled"] == pytest.approx(np.mean(pool["window"]), abs=1e-9)
    assert pool["pooled"] == pytest.approx(outputs["pool1"][4, 13, 0], abs=1e-6)
    dense = model.unit(image, "fc2", 83)
    assert dense["activation_value"] == pytest.approx(outputs["fc2"][83], abs=1e-5)
    corner = model.unit(image, "conv1", 0, 0, 0)  # the window starts in the zero padding
    assert corner["top"] == -2 and np.all(np.asarray(corner["window"])[0, :2] == 0)


def test_save_load_round_trip_and_generic_import(tmp_path: Path):
    model = LeNet5("relu", "avg", seed=5)
    model.meta = {"test_accuracy": 0.5, "command": "glassbox train lenet"}
    path = tmp_path / "w.npz"
    model.save(path)
    loaded = LeNet5.load(path)
    assert (loaded.activation, loaded.pooling, loaded.meta) == ("relu", "avg", model.meta)
    image = np.random.default_rng(0).random((28, 28), dtype=np.float32)
    assert np.array_equal(loaded.layer_outputs(image)["logits"], model.layer_outputs(image)["logits"])
    # The same file opens as a generic network session (POST /api/networks/import).
    generic = import_npz(path.read_bytes())
    assert np.array_equal(generic.net.forward(image[None, None])[0], model.layer_outputs(image)["logits"])
    with np.load(path, allow_pickle=False) as npz:
        assert all(npz[k].dtype != object for k in npz.files)
    with pytest.raises(EngineError, match="does not exist"):
        LeNet5.load(tmp_path / "missing.npz")
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(EngineError, match="not a LeNet-5 .npz"):
        LeNet5.load(tmp_path / "bad.npz")


def test_shipped_weights_reach_98_percent(mnist, shipped):
    assert DEFAULT_WEIGHTS.is_file()
    result = evaluate(shipped, mnist.test_inputs(), mnist.test_labels)
    assert result["accuracy"] >= 0.98
    assert result["confusion"].sum() == 2000 and np.trace(result["confusion"]) == round(result["accuracy"] * 2000)
    # The file records how it was made and what it scored.
    assert shipped.meta["command"].startswith("glassbox train lenet")
    assert shipped.meta["test_accuracy"] == pytest.approx(result["accuracy"])


def test_confusion_matrix_and_probes():
    counts = confusion_matrix(np.array([0, 1, 1, 2]), np.array([0, 1, 2, 2]), classes=3)
    assert counts.tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
    labels = np.array([3, 0, 0, 1, 3, 2, 1, 0])
    assert probe_indices(labels, per_digit=1).tolist() == [1, 3, 5, 0]


def small_split(mnist: MnistSplit, per_digit: int = 40) -> MnistSplit:
    train = np.concatenate([np.flatnonzero(mnist.train_labels == d)[:per_digit] for d in range(10)])
    test = np.concatenate([np.flatnonzero(mnist.test_labels == d)[:10] for d in range(10)])
    return MnistSplit(mnist.train_images[train], mnist.train_labels[train], mnist.test_images[test],
                      mnist.test_labels[test])


def test_training_learns_and_records_history(mnist):
    data = DigitArrays.from_split(small_split(mnist))
    run = LeNetTraining(LeNet5(seed=0), data, learning_rate=2e-3, batch_size=32, seed=0)
    start = run.record()
    assert start["test_accuracy"] < 0.3 and start["train_loss"] is None
    for _ in range(4):
        run.train(run.steps_per_epoch)
    assert run.epoch == 4 and run.step_count == 4 * run.steps_per_epoch
    assert [h["test_accuracy"] is not None for h in run.history] == [True] * 5
    assert run.history[-1]["test_accuracy"] > 0.6
    assert run.history[-1]["train_loss"] < run.history[1]["train_loss"]
    assert [h["epoch"] for h in run.history] == [0, 1, 2, 3, 4]


def test_cosine_schedule(mnist):
    run = LeNetTraining(LeNet5(), small_split(mnist), learning_rate=1e-3, epochs=2, final_lr_fraction=0.1)
    assert run.learning_rate == pytest.approx(1e-3)
    run.step_count = run.steps_per_epoch  # half way
    assert run.learning_rate == pytest.approx(1e-3 * (0.1 + 0.9 * 0.5))
    run.step_count = 10 * run.steps_per_epoch
    assert run.learning_rate == pytest.approx(1e-4)


def test_divergence_keeps_the_last_finite_weights(mnist):
    run = LeNetTraining(LeNet5(), small_split(mnist), learning_rate=1.0, augment=False)
    run.train(3)
    run.optimizer.learning_rate = 1e30
    before = run.model.net.get_state()
    steps = run.step_count
    with pytest.raises(DivergedError, match="the loss became"):
        for _ in range(50):
            run.train(2)
            before, steps = run.model.net.get_state(), run.step_count
    after = run.model.net.get_state()
    assert run.diverged and run.step_count == steps
    assert all(np.array_equal(before[k], after[k]) for k in before)
    with pytest.raises(DivergedError, match="Reset the session"):
        run.step()
    run.reset()
    assert not run.diverged and run.step_count == 0 and np.isfinite(run.step().loss)


def write_idx(folder: Path, split: MnistSplit) -> None:
    def idx(array: np.ndarray) -> bytes:
        header = struct.pack(">I", 0x0800 | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
        return header + array.tobytes()

    files = {"train-images-idx3-ubyte": split.train_images, "train-labels-idx1-ubyte": split.train_labels,
             "t10k-images-idx3-ubyte": split.test_images, "t10k-labels-idx1-ubyte": split.test_labels}
    for name, array in files.items():
        (folder / f"{name}.gz").write_bytes(gzip.compress(idx(array)))


def test_train_command(tmp_path: Path, mnist, capsys):
    write_idx(tmp_path, small_split(mnist, per_digit=20))
    out = tmp_path / "lenet.npz"
    code = main(["train", "lenet", "--epochs", "2", "--batch", "32", "--lr", "0.003", "--no-augment", "--seed", "4",
                 "--mnist-idx", str(tmp_path), "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr()
    assert "Test accuracy:" in printed.out and "Confusion matrix" in printed.out
    assert "true\\pred" in printed.out and f"Weights written to {out}" in printed.out
    assert "epoch 2/2" in printed.err  # the tqdm bar
    model = LeNet5.load(out)
    assert model.meta["epochs"] == 2 and model.meta["augment"] is False and model.meta["training_digits"] == 200
    assert "--no-augment" in model.meta["command"] and "--seed 4" in model.meta["command"]
    json.dumps(model.meta)
    assert main(["train", "lenet", "--epochs", "0", "--out", str(out)]) == 2
