"""16-bit products through float32 BLAS: NumPy has no BLAS path for float16 and ml_dtypes' bfloat16 matmul returns
float32. PyTorch's CPU kernels accumulate 16-bit products in float32 and round the result once; these primitives do
the same: their forward runs on float32 copies of 16-bit inputs, keeps the 16-bit inputs (not the copies) for
backward, and rounds its output once to the inputs' dtype. Installed once, by op name, over the registry."""
import functools

from ..autograd.function import registry
from . import conv, linear  # noqa: F401  (define primitives wrapped here)

WIDENED = ("Matmul", "Einsum", "Linear", "Convolution", "ConvolutionInput", "ConvolutionWeight")
"""Primitives whose forward is one product of same-dtype floating inputs."""

__all__ = []


def _sixteen_bit(array):
    kind = getattr(array, "dtype", None)
    return kind is not None and kind.itemsize == 2 and kind.kind in "fV"   # V: ml_dtypes' bfloat16


def _in_float32(forward):
    @functools.wraps(forward)
    def accumulated(ctx, *args, **kwargs):
        first = args[0]
        kind = getattr(first, "dtype", None)   # _sixteen_bit(first) inline: this runs on every product
        if kind is None or kind.itemsize != 2 or kind.kind not in "fV":
            return forward(ctx, *args, **kwargs)
        wide = [a.astype("float32") if _sixteen_bit(a) else a for a in args]
        output = forward(ctx, *wide, **kwargs)
        if ctx._saved:
            originals = {id(w): a for w, a in zip(wide, args) if w is not a}
            ctx._saved = tuple(originals.get(id(s), s) for s in ctx._saved)
        return output.astype(first.dtype)
    return accumulated


def install():
    """Wraps the forward of each primitive in ``WIDENED``."""
    for name in WIDENED:
        cls = registry[name]
        cls.forward = staticmethod(_in_float32(cls.forward))


install()
