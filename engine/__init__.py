"""Glassbox engine: neural networks in plain NumPy, every number inspectable."""

__version__ = "0.1.0"
