"""``backends.openmp``: ember's intra-op threads are its own pool (``ops/_parallel.py``), not OpenMP."""


def is_available():
    """False: ember is not built with OpenMP."""
    return False
