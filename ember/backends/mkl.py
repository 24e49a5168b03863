"""``backends.mkl``: ember's BLAS is NumPy's (OpenBLAS), not oneMKL."""
VERBOSE_OFF, VERBOSE_ON = 0, 1


def is_available():
    """False: ember does not use oneMKL."""
    return False


class verbose:
    """oneMKL's on-demand verbose output for a ``with`` block: ember calls no oneMKL, so nothing is printed."""

    def __init__(self, enable):
        self.enable = enable

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False
