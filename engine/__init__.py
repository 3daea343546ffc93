"""Glassbox engine: neural networks in plain NumPy, every number inspectable."""

import os

# The engine's matrices are small (tens to a few hundred rows), and a server shares its cores between users
# and requests. A multi-threaded BLAS on such matrices spends its time waiting for its own threads: measured
# here on 2 busy cores, 50 training steps of the `reverse` transformer took 0.4–1.2 s on one BLAS thread and
# 30–56 s on two. So one thread per computation unless the environment says otherwise. This must run before
# NumPy loads its BLAS, which importing `engine` (or `app`) first guarantees.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

__version__ = "0.1.0"
