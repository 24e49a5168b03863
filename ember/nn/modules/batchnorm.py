"""PyTorch's module path of the batch-norm layers (``torch.nn.modules.batchnorm``), which checkpoints name."""
from .normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d, _BatchNorm, _NormBase  # noqa: F401

for _class in (BatchNorm1d, BatchNorm2d, BatchNorm3d, _BatchNorm, _NormBase):
    _class.__module__ = __name__   # as PyTorch's classes say, so pickles name this file
