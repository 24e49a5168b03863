"""``ember.cpu``: CPU-specific names PyTorch has (``torch.cpu``), such as the deprecated ``amp`` aliases."""
from . import amp  # noqa: F401


def is_available():
    """Always True: the CPU is always there."""
    return True
