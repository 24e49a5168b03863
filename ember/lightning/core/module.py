"""``lightning.pytorch.core.module``: where Lightning defines LightningModule."""
from ..module import LightningModule

__all__ = ["LightningModule"]
