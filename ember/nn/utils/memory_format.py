"""Converting convolution weights to a memory format (``channels_last``), as PyTorch's ``nn.utils`` does."""
from ..modules.conv import Conv2d, Conv3d, ConvTranspose2d, ConvTranspose3d

__all__ = ["convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format"]


def _convert(module, kinds, memory_format):
    if isinstance(module, kinds):
        weight = module.weight.detach().clone(memory_format=memory_format)
        module.weight.data = weight.resize_(weight.size(), memory_format=memory_format)   # as PyTorch (its checks)
    for child in module.children():
        _convert(child, kinds, memory_format)
    return module


def convert_conv2d_weight_memory_format(module, memory_format):
    """Lays out the weight of every ``Conv2d`` and ``ConvTranspose2d`` in ``module`` in ``memory_format``; returns
    ``module``."""
    return _convert(module, (Conv2d, ConvTranspose2d), memory_format)


def convert_conv3d_weight_memory_format(module, memory_format):
    """Lays out the weight of every ``Conv3d`` and ``ConvTranspose3d`` in ``module`` in ``memory_format``; returns
    ``module``."""
    return _convert(module, (Conv3d, ConvTranspose3d), memory_format)
