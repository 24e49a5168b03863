"""Checkpoint: the base of checkpointing callbacks."""
from .callback import Callback


class Checkpoint(Callback):
    """Base of checkpointing callbacks: the Trainer runs every Checkpoint after the other callbacks at each hook, and
    ``enable_checkpointing=False`` refuses them, as Lightning does for its subclasses."""

    _monitors = True
