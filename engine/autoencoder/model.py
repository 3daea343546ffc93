"""An autoencoder built from the engine's Dense layers: 784 → 256 → 64 → 2 → 64 → 256 → 784 by default.

The encoder narrows a digit to a `latent`-wide code (2 or 3 numbers, no activation on the code so it may take
any value); the decoder mirrors it back to 784 pixels through a sigmoid. It learns without labels: the target is
the input itself.

Losses, both per pixel (averaged over the batch and the 784 pixels):
- "bce": binary cross-entropy of every pixel, computed from the sigmoid's input z (softplus(z) − x z, stable
  where the sigmoid saturates); its gradient with respect to z is (x̂ − x) / (N·784);
- "mse": ½ (x − x̂)², the engine's squared error, backpropagated through the sigmoid.

`encode` runs the encoder's layers, `decode` the decoder's, so a point of the latent plane decodes to the image
the trained network would produce there.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.core.errors import EngineError
from engine.core.layers import Layer
from engine.core.losses import BinaryCrossEntropy, SquaredError
from engine.core.network import Sequential, build_sequential
from engine.core.serialize import read_npz, write_npz

PIXELS = 28 * 28
LOSS_CHOICES = ("bce", "mse")
ACTIVATION_CHOICES = ("relu", "tanh")
LATENT_CHOICES = (2, 3)
DEFAULT_HIDDEN = (256, 64)
MAX_HIDDEN_LAYERS = 4
MAX_HIDDEN_UNITS = 1024
DEFAULT_WEIGHTS = Path(__file__).resolve().parent / "weights" / "autoencoder.npz"
KIND = "autoencoder"


@dataclass(frozen=True)
class AutoencoderConfig:
    """The architecture: encoder widths `hidden` (the decoder mirrors them), the code width, the hidden layers'
    activation, the loss and the seed of the initial weights."""

    hidden: tuple[int, ...] = DEFAULT_HIDDEN
    latent: int = 2
    activation: str = "relu"
    loss: str = "bce"
    seed: int = 0

    def __post_init__(self) -> None:
        hidden = self.hidden
        if not isinstance(hidden, (list, tuple)) or not 1 <= len(hidden) <= MAX_HIDDEN_LAYERS or any(
                isinstance(h, bool) or not isinstance(h, (int, np.integer)) or not 1 <= h <= MAX_HIDDEN_UNITS
                for h in hidden):
            raise EngineError(f"hidden must be 1 to {MAX_HIDDEN_LAYERS} layer widths, each a whole number from 1 to "
                              f"{MAX_HIDDEN_UNITS}, got {hidden!r}")
        object.__setattr__(self, "hidden", tuple(int(h) for h in hidden))
        if self.latent not in LATENT_CHOICES or isinstance(self.latent, bool):
            raise EngineError(f"latent must be 2 or 3 (a map you can look at), got {self.latent!r}")
        if self.activation not in ACTIVATION_CHOICES:
            raise EngineError(f"activation must be one of {', '.join(ACTIVATION_CHOICES)}, got {self.activation!r}")
        if self.loss not in LOSS_CHOICES:
            raise EngineError(f"loss must be 'bce' (binary cross-entropy per pixel) or 'mse' (squared error), "
                              f"got {self.loss!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise EngineError(f"seed must be a whole number >= 0, got {self.seed!r}")

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["hidden"] = list(self.hidden)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AutoencoderConfig:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise EngineError(f"unknown autoencoder settings {unknown}; known: {sorted(known)}")
        values = dict(data)
        if "hidden" in values and isinstance(values["hidden"], list):
            values["hidden"] = tuple(values["hidden"])
        return cls(**values)

    @property
    def sizes(self) -> list[int]:
        """Every layer width from input to output, e.g. [784, 256, 64, 2, 64, 256, 784]."""
        return [PIXELS, *self.hidden, self.latent, *reversed(self.hidden), PIXELS]


def layer_specs(config: AutoencoderConfig) -> list[dict[str, Any]]:
    """The Sequential's layers: dense+activation per hidden width, a linear code, the mirror, a sigmoid output."""
    init = "he" if config.activation == "relu" else "xavier"
    encoder = [{"type": "dense", "units": h, "init": init, "activation": config.activation} for h in config.hidden]
    decoder = [{"type": "dense", "units": h, "init": init, "activation": config.activation}
               for h in reversed(config.hidden)]
    return [*encoder, {"type": "dense", "units": config.latent, "init": "xavier"}, *decoder,
            {"type": "dense", "units": PIXELS, "init": "xavier", "activation": "sigmoid"}]


class Autoencoder:
    """The network, split into encoder and decoder at the code layer."""

    def __init__(self, config: AutoencoderConfig | None = None, dtype: str = "float32",
                 max_params: int | None = None) -> None:
        self.config = config or AutoencoderConfig()
        self.net: Sequential = build_sequential(PIXELS, layer_specs(self.config), seed=self.config.seed, dtype=dtype,
                                                max_params=max_params)
        # Encoder: every hidden layer with its activation, then the code's dense layer.
        self.code_end = 2 * len(self.config.hidden) + 1
        self.meta: dict[str, Any] = {}

    @property
    def encoder(self) -> list[Layer]:
        return self.net.layers[:self.code_end]

    @property
    def decoder(self) -> list[Layer]:
        return self.net.layers[self.code_end:]

    @property
    def dtype(self) -> np.dtype:
        return self.net.dtype

    # --- passes ------------------------------------------------------------------------------------------

    def check_images(self, images: np.ndarray) -> np.ndarray:
        """(N, 784) or (N, 28, 28) finite values in 0..1 → contiguous (N, 784) in the network's dtype."""
        x = np.asarray(images)
        if x.ndim == 3 and x.shape[1:] == (28, 28):
            x = x.reshape(len(x), PIXELS)
        if x.ndim != 2 or x.shape[1] != PIXELS:
            raise EngineError(f"images must be 28×28 (784 pixels) each, got an array of shape {list(x.shape)}")
        if not np.issubdtype(x.dtype, np.number) or not np.all(np.isfinite(x)):
            raise EngineError("image values must be finite numbers (found NaN, infinity or non-numbers)")
        if x.size and (x.min() < 0 or x.max() > 1):
            raise EngineError(f"image values must lie in 0..1 (ink high), found {x.min():g}..{x.max():g}")
        return np.ascontiguousarray(x, dtype=self.dtype)

    def check_points(self, points: np.ndarray) -> np.ndarray:
        z = np.asarray(points)
        if z.ndim != 2 or z.shape[1] != self.config.latent:
            raise EngineError(f"points must be rows of {self.config.latent} numbers (this code is "
                              f"{self.config.latent}-D), got an array of shape {list(z.shape)}")
        if not np.issubdtype(z.dtype, np.number) or not np.all(np.isfinite(z)):
            raise EngineError("points must be finite numbers (found NaN or infinity)")
        return np.ascontiguousarray(z, dtype=self.dtype)

    @staticmethod
    def _run(layers: list[Layer], x: np.ndarray) -> np.ndarray:
        for layer in layers:
            x = layer.forward(x)
        return x

    def encode(self, images: np.ndarray) -> np.ndarray:
        """(N, 784) images → (N, latent) codes."""
        return self._run(self.encoder, self.check_images(images))

    def decode(self, points: np.ndarray) -> np.ndarray:
        """(N, latent) codes → (N, 784) images in 0..1."""
        return self._run(self.decoder, self.check_points(points))

    def reconstruct(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Codes (N, latent) and reconstructions (N, 784) of some images, in one pass."""
        codes = self.encode(images)
        return codes, self._run(self.decoder, codes)

    def loss_value(self, reconstructions: np.ndarray, logits: np.ndarray | None, targets: np.ndarray) -> float:
        """The training objective per pixel (see the module docstring), from the logits for "bce"."""
        if self.config.loss == "bce":
            assert logits is not None, "binary cross-entropy needs the sigmoid's input"
            return float(np.mean(BinaryCrossEntropy.point_value_from_logits(logits, targets), dtype=np.float64))
        return float(np.mean(SquaredError().point_value(reconstructions, targets), dtype=np.float64))

    def loss_and_backward(self, inputs: np.ndarray, targets: np.ndarray) -> float:
        """Forward `inputs`, score against `targets` (the clean digits), backpropagate; fills every layer's grads."""
        out = self.net.forward(inputs)
        logits = self.net.trace[-1].input  # the sigmoid's input z
        value = self.loss_value(out, logits, targets)
        scale = out.dtype.type(1.0 / PIXELS)
        if self.config.loss == "bce":
            # Fused sigmoid + cross-entropy: dL/dz = (x̂ − x) / (N·784); the sigmoid's own backward is skipped.
            dz = BinaryCrossEntropy().grad_pre_activation(out, targets) * scale
            self.net.backward(dz, start=len(self.net.layers) - 2)
        else:
            self.net.backward(SquaredError().grad(out, targets) * scale)
        return value

    def evaluate(self, images: np.ndarray) -> dict[str, Any]:
        """Codes, reconstructions, the objective and the squared error per pixel on some images (no training)."""
        x = self.check_images(images)
        codes = self._run(self.encoder, x)
        hidden = self._run(self.decoder[:-1], codes)  # the decoder up to the sigmoid: its input z
        recon = self.decoder[-1].forward(hidden)
        diff = x.astype(np.float64) - recon
        return {"codes": codes, "reconstructions": recon, "loss": self.loss_value(recon, hidden, x),
                "mse": float(np.mean(diff * diff))}

    # --- weights -----------------------------------------------------------------------------------------

    def copy_weights_from(self, other: Autoencoder) -> None:
        for (_, _, mine), (_, _, theirs) in zip(self.net.named_params(), other.net.named_params(), strict=True):
            np.copyto(mine, theirs)

    def save(self, path: str | Path, storage_dtype: str = "float16") -> int:
        """Write the weights (as `storage_dtype`, float16 keeps the default model under 1 MB) and the config and
        meta as `.npz`; returns the size in bytes."""
        state = {k: v.astype(storage_dtype) for k, v in self.net.get_state().items()}
        data = write_npz(state, {"kind": KIND, "config": self.config.as_dict(), "meta": self.meta})
        Path(path).write_bytes(data)
        return len(data)

    @classmethod
    def load(cls, path: str | Path | None = None) -> Autoencoder:
        """A saved autoencoder (default: the shipped one, trained by `glassbox train autoencoder`)."""
        path = Path(path) if path is not None else DEFAULT_WEIGHTS
        if not path.is_file():
            raise EngineError(f"{path} does not exist; train it with `glassbox train autoencoder`")
        meta, state = read_npz(path.read_bytes(), "an autoencoder file")
        if meta.get("kind") != KIND or not isinstance(meta.get("config"), dict):
            raise EngineError(f"{path} is not an autoencoder (no autoencoder config in its metadata)")
        model = cls(AutoencoderConfig.from_dict(meta["config"]))
        model.net.set_state(state)
        model.meta = dict(meta.get("meta") or {})
        return model
