"""``backends.mps``: Apple GPUs are not an ember backend."""


def is_available():
    """False: ember has no MPS backend."""
    return False


def is_built():
    """False: ember has no MPS backend."""
    return False
