"""OnExceptionCheckpoint: saves a checkpoint when fit, validate, test or predict raises."""
import os

from .checkpoint import Checkpoint


class OnExceptionCheckpoint(Checkpoint):
    """Writes ``dirpath/filename.ckpt`` when an exception interrupts the Trainer; a run that ends normally removes
    it."""

    FILE_EXTENSION = ".ckpt"

    def __init__(self, dirpath, filename="on_exception"):
        super().__init__()
        if not filename:
            raise ValueError("The filename cannot be empty")
        self.dirpath = dirpath
        self.filename = filename

    @property
    def ckpt_path(self):
        """Where the checkpoint is written."""
        return os.path.join(self.dirpath, self.filename + self.FILE_EXTENSION)

    def on_exception(self, trainer, *args, **kwargs):
        trainer.save_checkpoint(self.ckpt_path)

    def teardown(self, trainer, *args, **kwargs):
        trainer.strategy.remove_checkpoint(self.ckpt_path)
