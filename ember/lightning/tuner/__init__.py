"""``Tuner``: the learning-rate range test and the batch-size search, run through a Trainer."""
from .tuning import Tuner

__all__ = ["Tuner"]
