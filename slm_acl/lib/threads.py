"""Pinning BLAS / OpenMP / torch threads in worker processes.

Sessions run in parallel worker processes; each one left to its default thread count would
oversubscribe the cores (a 70 ms GMM fit becomes seconds). The environment variables must be set
before numpy or torch is imported in the child, so the trial sets them around process creation,
and the worker also applies the limits at run time.
"""
from __future__ import annotations

import contextlib
import os
from typing import Iterator

THREAD_ENV_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                   "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")


@contextlib.contextmanager
def thread_env(num_threads: int) -> Iterator[None]:
    """Set the thread variables while child processes are started, then restore them."""
    saved = {k: os.environ.get(k) for k in THREAD_ENV_VARS}
    os.environ.update({k: str(num_threads) for k in THREAD_ENV_VARS})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def pin_threads(num_threads: int) -> None:
    """Limit this process's BLAS and torch thread pools to `num_threads`."""
    os.environ.update({k: str(num_threads) for k in THREAD_ENV_VARS})
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(num_threads)
    threadpool_limits(num_threads)

