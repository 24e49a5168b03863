"""``lightning.pytorch.core.datamodule``: where Lightning defines LightningDataModule."""
from ..datamodule import LightningDataModule

__all__ = ["LightningDataModule"]
