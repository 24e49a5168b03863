"""Helpers in a module of their own that take ember's and torch's functions by name (``from ember import ...``)."""
from torch import sigmoid as torch_sigmoid

from ember import sigmoid as ember_sigmoid


def gate_torch(x):
    """x * sigmoid(x) with torch's function taken at import."""
    return x * torch_sigmoid(x)


def gate_ember(x):
    """x * sigmoid(x) with ember's function taken at import."""
    return x * ember_sigmoid(x)
