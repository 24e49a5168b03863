"""Scoped BLAS threading for loops of small matrix products (a recurrent layer's time steps).

OpenBLAS threads a product from about 2.6e5 multiply-adds; at the sizes of a recurrent step (a batch of 100 times
a 128-wide hidden state: ~2e6) a second thread saves no time (measured: 1.0x wall, 2x CPU, on 2 cores) and, on a
busy machine, waiting for it costs several times the product. Inside ``small_products`` they run on one thread;
the thread count is restored on exit, so every other product keeps the user's setting.
"""
import contextlib
import functools

__all__ = []

SMALL = 1 << 23
"""Multiply-adds per product below which a loop's products run on one BLAS thread."""


@functools.cache
def _controls():
    """NumPy's OpenBLAS (get, set) thread-count functions, or None where it is not found."""
    from .._runtime import _openblas
    found = _openblas()
    if found is None:
        return None
    library, prefix, suffix = found
    return getattr(library, f"{prefix}_get_num_threads{suffix}"), getattr(library, f"{prefix}_set_num_threads{suffix}")


@contextlib.contextmanager
def small_products(multiply_adds):
    """Runs the block's BLAS calls on one thread when each does fewer than ``SMALL`` ``multiply_adds``."""
    controls = _controls() if multiply_adds < SMALL else None
    previous = controls[0]() if controls is not None else 1
    if previous == 1:
        yield
        return
    controls[1](1)
    try:
        yield
    finally:
        controls[1](previous)
