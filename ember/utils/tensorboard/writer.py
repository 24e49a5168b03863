"""``torch.utils.tensorboard.writer``: the module PyTorch defines ``SummaryWriter`` in, which programs import it from
(sbi does)."""
from . import SummaryWriter

__all__ = ["SummaryWriter"]
