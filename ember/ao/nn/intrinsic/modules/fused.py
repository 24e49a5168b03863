"""Fused module sequences (``torch.ao.nn.intrinsic.modules.fused``): what ``fuse_modules`` makes of a conv (or
linear) followed by batch norm and/or ReLU, before ``prepare``/``convert`` swap them for one quantized module."""
from ember import nn

__all__ = ["ConvReLU1d", "ConvReLU2d", "ConvReLU3d", "LinearReLU", "ConvBn1d", "ConvBn2d", "ConvBnReLU1d",
           "ConvBnReLU2d", "ConvBn3d", "ConvBnReLU3d", "BNReLU2d", "BNReLU3d", "LinearBn1d"]


class _FusedModule(nn.Sequential):
    """A Sequential of modules fused for quantization."""


def _fused(name, doc, *types):
    """A ``_FusedModule`` class over modules of exactly ``types`` (PyTorch's AssertionError otherwise)."""
    def __init__(self, *modules):
        if len(modules) != len(types) or any(type(m) is not t for m, t in zip(modules, types)):
            names = [type(m).__name__ for m in modules]
            joined = " and ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + ", and " + names[-1]
            raise AssertionError(f"Incorrect types for input modules: {joined}")
        _FusedModule.__init__(self, *modules)
    return type(name, (_FusedModule,), {"__init__": __init__, "__doc__": doc, "__module__": __name__})


ConvReLU1d = _fused("ConvReLU1d", "Conv1d then ReLU.", nn.Conv1d, nn.ReLU)
ConvReLU2d = _fused("ConvReLU2d", "Conv2d then ReLU.", nn.Conv2d, nn.ReLU)
ConvReLU3d = _fused("ConvReLU3d", "Conv3d then ReLU.", nn.Conv3d, nn.ReLU)
LinearReLU = _fused("LinearReLU", "Linear then ReLU.", nn.Linear, nn.ReLU)
ConvBn1d = _fused("ConvBn1d", "Conv1d then BatchNorm1d.", nn.Conv1d, nn.BatchNorm1d)
ConvBn2d = _fused("ConvBn2d", "Conv2d then BatchNorm2d.", nn.Conv2d, nn.BatchNorm2d)
ConvBn3d = _fused("ConvBn3d", "Conv3d then BatchNorm3d.", nn.Conv3d, nn.BatchNorm3d)
ConvBnReLU1d = _fused("ConvBnReLU1d", "Conv1d, BatchNorm1d, ReLU.", nn.Conv1d, nn.BatchNorm1d, nn.ReLU)
ConvBnReLU2d = _fused("ConvBnReLU2d", "Conv2d, BatchNorm2d, ReLU.", nn.Conv2d, nn.BatchNorm2d, nn.ReLU)
ConvBnReLU3d = _fused("ConvBnReLU3d", "Conv3d, BatchNorm3d, ReLU.", nn.Conv3d, nn.BatchNorm3d, nn.ReLU)
BNReLU2d = _fused("BNReLU2d", "BatchNorm2d then ReLU.", nn.BatchNorm2d, nn.ReLU)
BNReLU3d = _fused("BNReLU3d", "BatchNorm3d then ReLU.", nn.BatchNorm3d, nn.ReLU)
LinearBn1d = _fused("LinearBn1d", "Linear then BatchNorm1d.", nn.Linear, nn.BatchNorm1d)
