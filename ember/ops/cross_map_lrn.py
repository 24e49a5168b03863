"""The legacy ``nn.CrossMapLRN2d``'s op: local response normalization across channels, forward and backward computed
as PyTorch's legacy Function computes them (its running window keeps channel 0's square in every later window, and its
backward is that Function's, not the derivative of its forward), so values and gradients match PyTorch's."""
from .. import _dtype
from .._tensor import _make
from ..autograd.function import Primitive
from ._util import name_node, quiet

__all__ = []


class CrossMapLRN2d(Primitive):
    """y = x * (k + alpha / size * window sum of x^2 over channels) ^ -beta, for (N, C, H, W) input."""

    @staticmethod
    @quiet
    def forward(ctx, input, size, alpha, beta, k):
        xp = ctx.xp
        channels = input.shape[1]
        squares = input ** 2
        pre_pad = int((size - 1) / 2 + 1)
        scale = xp.empty_like(input)
        scale[:, 0] = 0
        for c in range(min(pre_pad, channels)):
            scale[:, 0] += squares[:, c]
        for c in range(1, channels):   # each window from the previous one: the next square in, an old one out
            scale[:, c] = scale[:, c - 1]
            if c < channels - pre_pad + 1:
                scale[:, c] += squares[:, c + pre_pad - 1]
            if c > pre_pad:
                scale[:, c] -= squares[:, c - pre_pad]
        scale *= alpha / size
        scale += k
        output = xp.power(scale, -beta) * input
        ctx.save_for_backward(input, output)
        ctx.scale, ctx.size, ctx.alpha, ctx.beta = scale, size, alpha, beta
        return output

    @staticmethod
    @quiet
    def _gradient(ctx, input, output, grad):
        xp, size, scale = ctx.xp, ctx.size, ctx.scale
        channels = input.shape[1]
        start = int(size - (size - 1) / 2)
        if start + channels > channels + size - 1:
            raise RuntimeError(f"start ({start}) + length ({channels}) exceeds dimension size "
                               f"({channels + size - 1}).")
        grad_input = xp.power(scale, -ctx.beta) * grad
        padded = xp.zeros((input.shape[0], channels + size - 1) + input.shape[2:], input.dtype)
        padded[:, start:start + channels] = grad * output / scale
        window = padded[:, :size - 1].sum(axis=1)
        factor = 2 * ctx.alpha * ctx.beta / size
        for c in range(channels):
            window += padded[:, c + size - 1]
            grad_input[:, c] -= factor * input[:, c] * window
            window -= padded[:, c]
        return grad_input

    @staticmethod
    def backward(ctx, grad):
        input, output = ctx.saved_arrays
        return _make(CrossMapLRN2d._gradient(ctx, input, output, grad._data)), None, None, None, None


def cross_map_lrn2d(input, size, alpha=1e-4, beta=0.75, k=1):
    """``CrossMapLRN2d``'s forward on a 4-D tensor, with PyTorch's errors."""
    if input.dim() != 4:
        raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.dim()}D instead.")
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{_dtype.scalar_type_name(input.dtype)}")
    return name_node(CrossMapLRN2d.apply(input, size, alpha, beta, k), "CrossMapLRN2dBackward")
