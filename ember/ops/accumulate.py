"""16-bit outputs for the products NumPy widens: ml_dtypes' bfloat16 matmul and einsum return float32 (having
accumulated in float32). PyTorch's CPU kernels accumulate in float32 too and round the result once to the inputs'
dtype; these primitives' outputs are rounded back the same way. Installed once, by op name, over the registry."""
import functools

from ..autograd.function import registry

WIDENED = ("Matmul", "Einsum", "Linear", "Convolution", "ConvolutionInput", "ConvolutionWeight")
"""Primitives whose forward is one product of same-dtype floating inputs."""

__all__ = []


def _rounding_once(forward):
    @functools.wraps(forward)
    def rounded(ctx, *args, **kwargs):
        output = forward(ctx, *args, **kwargs)
        kind = args[0].dtype
        if output.dtype is not kind and kind.itemsize == 2 and kind.kind in "fV":   # V: ml_dtypes' bfloat16
            return output.astype(kind)
        return output
    return rounded


def install():
    """Wraps the forward of each primitive in ``WIDENED``."""
    for name in WIDENED:
        cls = registry[name]
        cls.forward = staticmethod(_rounding_once(cls.forward))


install()
