"""Glassbox web service: FastAPI routes over the NumPy engine."""

# Importing the engine first sets one BLAS thread per computation before NumPy loads (see engine/__init__.py).
import engine  # noqa: F401
