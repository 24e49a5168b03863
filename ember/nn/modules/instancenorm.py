"""PyTorch's module path of the instance-norm layers (``torch.nn.modules.instancenorm``), which checkpoints name."""
from .normalization import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, _InstanceNorm  # noqa: F401

for _class in (InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, _InstanceNorm):
    _class.__module__ = __name__   # as PyTorch's classes say, so pickles name this file
