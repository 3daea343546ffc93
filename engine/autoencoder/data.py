"""The MNIST bundle as autoencoder input: flat 784-pixel rows in 0..1. The labels only colour the maps."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.lenet.mnist import MnistSplit, load_mnist10k

PIXELS = 28 * 28


@dataclass(frozen=True)
class DigitData:
    """float32 (N, 784) images in 0..1 (ink high) and uint8 labels. Build it once and share it."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @classmethod
    def from_split(cls, split: MnistSplit) -> DigitData:
        def flat(images: np.ndarray) -> np.ndarray:
            return np.ascontiguousarray(images.reshape(len(images), PIXELS), dtype=np.float32) / np.float32(255)

        return cls(flat(split.train_images), split.train_labels.copy(), flat(split.test_images),
                   split.test_labels.copy())

    @classmethod
    def load(cls) -> DigitData:
        """The shipped 8,000 training and 2,000 test digits."""
        return cls.from_split(load_mnist10k())


def reconstruction_mse(images: np.ndarray, reconstructions: np.ndarray) -> float:
    """Mean squared error per pixel, (1 / N·784) Σ (x − x̂)², in float64: the one error both models are scored by."""
    diff = np.asarray(images, dtype=np.float64) - np.asarray(reconstructions, dtype=np.float64)
    return float(np.mean(diff * diff))
