"""``lightning.pytorch.trainer``: the Trainer (``trainer.trainer``) and its state (``trainer.states``)."""

__all__ = ["Trainer"]


def __getattr__(name):
    # on first use, so that callbacks (which the Trainer imports) can import ``trainer.states``
    if name == "Trainer":
        from .trainer import Trainer
        return Trainer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
