"""Lightning's ``core`` namespace: LightningModule and LightningDataModule under the paths users import them from."""
from ..datamodule import LightningDataModule
from ..module import LightningModule

__all__ = ["LightningDataModule", "LightningModule"]
