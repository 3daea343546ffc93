"""The autoencoder engine: gradient checks in float64, the stable cross-entropy, PCA against the SVD, the shipped
model against PCA, and the trainer under the shared training protocol."""

from __future__ import annotations

import numpy as np
import pytest

from engine.autoencoder.data import DigitData, reconstruction_mse
from engine.autoencoder.model import DEFAULT_WEIGHTS, PIXELS, Autoencoder, AutoencoderConfig
from engine.autoencoder.pca import PCA
from engine.autoencoder.trainer import AutoencoderTrainer
from engine.core.activations import sigmoid
from engine.core.errors import EngineError
from engine.core.gradcheck import numerical_gradient, relative_error
from engine.core.losses import BinaryCrossEntropy
from engine.core.training import DivergedError, TrainerProtocol, TrainerState


@pytest.fixture(scope="module")
def digits() -> DigitData:
    return DigitData.load()


@pytest.fixture(scope="module")
def small_digits(digits) -> DigitData:
    """512 training digits: enough for the trainer's behaviour, quick to pass over."""
    return DigitData(digits.x_train[:512], digits.y_train[:512], digits.x_test[:200], digits.y_test[:200])


def test_default_architecture():
    model = Autoencoder()
    assert model.config.sizes == [784, 256, 64, 2, 64, 256, 784]
    assert [layer.type for layer in model.net.layers] == [
        "dense", "relu", "dense", "relu", "dense", "dense", "relu", "dense", "relu", "dense", "sigmoid"]
    assert [layer.type for layer in model.encoder][-1] == "dense"  # the code has no activation
    codes = model.encode(np.zeros((3, 28, 28)))
    assert codes.shape == (3, 2) and codes.dtype == np.float32
    images = model.decode(np.array([[0.5, -1.0]]))
    assert images.shape == (1, PIXELS) and images.dtype == np.float32 and images.flags.c_contiguous
    assert Autoencoder(AutoencoderConfig(hidden=(32,), latent=3)).config.sizes == [784, 32, 3, 32, 784]


@pytest.mark.parametrize("loss, activation", [("bce", "relu"), ("mse", "tanh")])
def test_gradients_match_central_differences_in_float64(loss, activation):
    """Every parameter's gradient of the per-pixel loss, denoising (inputs ≠ targets), against central
    differences on a narrow network (784 → 2 → 2 → 2 → 784)."""
    config = AutoencoderConfig(hidden=(2,), latent=2, activation=activation, loss=loss, seed=3)
    model = Autoencoder(config, dtype="float64")
    rng = np.random.default_rng(1)
    targets = rng.random((2, PIXELS))
    inputs = targets * (rng.random((2, PIXELS)) > 0.3)

    def objective() -> float:
        out = model.net.forward(inputs)
        return model.loss_value(out, model.net.trace[-1].input, targets)

    value = model.loss_and_backward(inputs, targets)
    assert value == pytest.approx(objective(), rel=1e-12)
    analytic = {key: g.copy() for key, g in model.net.grad_arrays().items()}
    for key, p in model.net.param_arrays().items():
        error = relative_error(analytic[key], numerical_gradient(objective, p))
        assert error < 1e-6, f"{loss}/{activation}: {key} relative error {error:.2e}"


def test_cross_entropy_from_logits_is_the_probability_form_and_stays_finite():
    z = np.linspace(-12, 12, 49)
    y = np.linspace(0, 1, 49)
    from_probabilities = BinaryCrossEntropy().point_value(sigmoid(z), y)
    np.testing.assert_allclose(BinaryCrossEntropy.point_value_from_logits(z, y), from_probabilities, rtol=1e-9)
    # Where the sigmoid rounds to exactly 0 or 1 the probability form is capped; the logit form is exact.
    far = BinaryCrossEntropy.point_value_from_logits(np.array([-800.0, 800.0, 40.0]), np.array([1.0, 0.0, 1.0]))
    np.testing.assert_allclose(far, [800.0, 800.0, np.log1p(np.exp(-40.0))])


def test_pca_components_are_orthonormal_and_reconstruct_like_the_svd(digits):
    x = digits.x_train[:1000].astype(np.float64)
    pca = PCA.fit(x, 2)
    np.testing.assert_allclose(pca.components @ pca.components.T, np.eye(2), atol=1e-12)
    mean = x.mean(axis=0)
    u, s, vt = np.linalg.svd(x - mean, full_matrices=False)
    rank2 = mean + (u[:, :2] * s[:2]) @ vt[:2]
    np.testing.assert_allclose(pca.reconstruct(x), rank2, atol=1e-10)
    np.testing.assert_allclose(pca.singular_values, s[:2])
    assert pca.explained_variance_ratio == pytest.approx((s[:2] ** 2) / (s**2).sum())
    with pytest.raises(EngineError, match="finite"):
        pca.decode(np.array([[np.nan, 0.0]]))


def test_shipped_model_beats_pca_on_the_test_digits(digits):
    assert DEFAULT_WEIGHTS.stat().st_size <= 2 * 1024 * 1024
    model = Autoencoder.load()
    assert model.config == AutoencoderConfig()
    ours = model.evaluate(digits.x_test)
    pca = PCA.fit(digits.x_train, 2)
    pca_mse = reconstruction_mse(digits.x_test, pca.reconstruct(digits.x_test))
    print(f"\ntest reconstruction error per pixel: autoencoder {ours['mse']:.5f}, PCA (2 components) {pca_mse:.5f}")
    assert ours["mse"] == pytest.approx(reconstruction_mse(digits.x_test, ours["reconstructions"]), rel=1e-6)
    assert ours["mse"] < 0.85 * pca_mse
    assert model.meta["test_mse"] == pytest.approx(ours["mse"], rel=1e-4)  # what the file says is what it does


def test_save_and_load_round_trip(tmp_path):
    model = Autoencoder(AutoencoderConfig(hidden=(16, 8), latent=3, loss="mse", seed=5))
    model.meta = {"note": "x"}
    size = model.save(tmp_path / "ae.npz")
    assert size == (tmp_path / "ae.npz").stat().st_size
    back = Autoencoder.load(tmp_path / "ae.npz")
    assert back.config == model.config and back.meta == {"note": "x"}
    for key, value in model.net.get_state().items():
        np.testing.assert_array_equal(back.net.get_state()[key], value.astype(np.float16).astype(np.float32))
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(EngineError, match="not an autoencoder file"):
        Autoencoder.load(tmp_path / "bad.npz")


@pytest.mark.parametrize("settings, message", [
    ({"latent": 4}, "latent must be 2 or 3"),
    ({"hidden": (0,)}, "hidden must be"),
    ({"hidden": (8,) * 5}, "hidden must be"),
    ({"loss": "hinge"}, "loss must be"),
    ({"activation": "step"}, "activation must be"),
])
def test_bad_configs(settings, message):
    with pytest.raises(EngineError, match=message):
        AutoencoderConfig(**settings)


def test_bad_inputs_to_encode_and_decode():
    model = Autoencoder(AutoencoderConfig(hidden=(8,)))
    with pytest.raises(EngineError, match="28×28"):
        model.encode(np.zeros((1, 27, 27)))
    with pytest.raises(EngineError, match="0..1"):
        model.encode(np.full((1, 784), 2.0))
    with pytest.raises(EngineError, match="rows of 2 numbers"):
        model.decode(np.zeros((1, 3)))
    with pytest.raises(EngineError, match="finite"):
        model.decode(np.array([[np.nan, 1.0]]))


def trainer(data: DigitData, **kw) -> AutoencoderTrainer:
    return AutoencoderTrainer(AutoencoderConfig(hidden=(32, 16), seed=2), data, **kw)


def test_trainer_follows_the_protocol_and_lowers_the_loss(small_digits):
    t = trainer(small_digits, learning_rate=3e-3, batch_size=32)
    assert isinstance(t, TrainerProtocol) and t.kind == "autoencoder"
    start = t.record_start()
    assert start["step"] == 0 and start["train_loss"] is None and start["test_loss"] > 0.4
    result = t.step()
    assert result.step == 1 and result.epoch == pytest.approx(32 / 512)
    records = t.train(t.steps_per_epoch)  # crosses an epoch: the test digits are scored
    assert len(records) == 1 and records[0]["step"] == 1 + t.steps_per_epoch
    assert records[0]["test_loss"] < start["test_loss"] and records[0]["extra"]["test_mse"] > 0
    t.train(2 * t.steps_per_epoch)
    assert t.history[-1]["test_loss"] < records[0]["test_loss"]
    assert [h["step"] for h in t.history] == [0, 1 + t.steps_per_epoch, 1 + 3 * t.steps_per_epoch]
    assert t.evaluate()["codes"].shape == (200, 2)


def test_denoising_drops_pixels_and_keeps_clean_targets(small_digits):
    t = trainer(small_digits, denoise=0.5, batch_size=64)
    inputs, targets = t.next_batch()
    ink = targets > 0
    kept = (inputs[ink] > 0).mean()
    assert 0.4 < kept < 0.6
    np.testing.assert_array_equal(inputs[inputs > 0], targets[inputs > 0])
    np.testing.assert_array_equal(targets, small_digits.x_train[t.order[:64]])


def test_state_resumes_bit_identically(small_digits):
    a = trainer(small_digits, denoise=0.3, batch_size=48)
    a.record_start()
    a.train(13)  # stops mid-epoch
    saved = TrainerState.from_bytes(a.state().to_bytes())
    b = trainer(small_digits)  # different settings: load_state brings them all
    b.load_state(saved)
    assert (b.batch_size, b.denoise, b.step_count) == (48, 0.3, 13)
    a.train(17)
    b.train(17)
    for key, value in a.model.net.get_state().items():
        np.testing.assert_array_equal(b.model.net.get_state()[key], value)
    assert [{k: v for k, v in h.items() if k != "time"} for h in a.history] == \
        [{k: v for k, v in h.items() if k != "time"} for h in b.history]
    with pytest.raises(EngineError, match="not an autoencoder"):
        b.load_state(TrainerState("lenet", {}, {}))


def test_configure_checks_everything_first_and_reset_restarts(small_digits):
    t = trainer(small_digits)
    t.configure(learning_rate=0.01, denoise=0.2)
    assert t.optimizer.learning_rate == 0.01 and t.denoise == 0.2
    for bad in ({"learning_rate": 0.5, "batch_size": 0}, {"denoise": 0.95}, {"latent": 3}, {"learning_rate": -1}):
        with pytest.raises(EngineError):
            t.configure(**bad)
    assert (t.optimizer.learning_rate, t.batch_size, t.denoise) == (0.01, 64, 0.2)
    initial = Autoencoder(t.config).net.get_state()
    t.train(3)
    t.reset()
    assert t.step_count == 0 and len(t.history) == 1 and t.denoise == 0.2
    for key, value in initial.items():
        np.testing.assert_array_equal(t.model.net.get_state()[key], value)


def test_divergence_rolls_back_and_refuses_until_reset(small_digits, monkeypatch):
    t = trainer(small_digits)
    t.train(2)
    before = t.model.net.get_state()
    calls = {"n": 0}
    real = t.model.loss_and_backward

    def fails_on_third(inputs, targets):
        calls["n"] += 1
        return float("nan") if calls["n"] == 3 else real(inputs, targets)

    monkeypatch.setattr(t.model, "loss_and_backward", fails_on_third)
    with pytest.raises(DivergedError, match="NaN"):
        t.train(5)
    assert t.diverged and t.step_count == 2
    for key, value in before.items():
        np.testing.assert_array_equal(t.model.net.get_state()[key], value)
    with pytest.raises(DivergedError):
        t.step()
    t.reset()
    assert not t.diverged and t.train(1)
