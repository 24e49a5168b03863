"""PyTorch's module path of ``AdamW`` (``torch.optim.adamw``), which pickles name; ember defines it beside Adam."""
from .adam import Adam, AdamW  # noqa: F401

AdamW.__module__ = __name__   # as PyTorch's class says
