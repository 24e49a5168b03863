"""``backends.mkl``: ember's BLAS is NumPy's (OpenBLAS), not oneMKL."""
from ._switches import Silent

VERBOSE_OFF, VERBOSE_ON = 0, 1


def is_available():
    """False: ember does not use oneMKL."""
    return False


class verbose(Silent):
    """oneMKL's on-demand verbose output for a ``with`` block: ember calls no oneMKL, so nothing is printed."""

    def __init__(self, enable):
        self.enable = enable
