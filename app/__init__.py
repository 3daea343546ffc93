"""Glassbox web service: FastAPI routes over the NumPy engine."""

import os

# One BLAS thread per request thread (set before NumPy loads OpenBLAS; an explicit setting wins). The engine's
# matrix products are small (LeNet's per-block convolutions, dense layers at batch 64) and gain nothing from a
# second thread, while a server runs several requests and training sessions at once: OpenBLAS's spinning
# worker threads then fight over the cores, and on a busy 2-core machine a LeNet training step measured 6x
# slower with two BLAS threads than with one.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
