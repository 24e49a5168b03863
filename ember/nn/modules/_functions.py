"""Autograd Functions of PyTorch's legacy modules, written as PyTorch's are (``torch.nn.modules._functions``): Tensor
operations step by step, so a TorchFunctionMode or a Tensor subclass sees the calls it sees in PyTorch."""
import ember
from ... import _backend
from ..._tensor import _make
from ...autograd.function import Function
from ...ops._util import quiet


class CrossMapLRN2d(Function):
    """Local response normalization across the channels of (N, C, H, W) input: y = x * (k + alpha / size * window
    sum of x^2) ^ -beta, the window running as PyTorch's legacy Function runs it (channel 0's square stays in every
    later window); its backward is that Function's, not the derivative of its forward."""

    @staticmethod
    def forward(ctx, input, size, alpha=1e-4, beta=0.75, k=1):
        ctx.size, ctx.alpha, ctx.beta = size, alpha, beta
        ctx.scale, output = input.new(), input.new()
        channels = input.size(1)
        output.resize_as_(input)
        ctx.scale.resize_as_(input)
        squares = output   # the output's memory holds the squares until the last step
        ember.pow(input, 2, out=squares)
        pre_pad = int((size - 1) / 2 + 1)
        first = ctx.scale.select(1, 0)
        first.zero_()
        for c in range(min(pre_pad, channels)):
            first.add_(squares.select(1, c))
        for c in range(1, channels):   # each window from the previous one: the next square in, an old one out
            current = ctx.scale.select(1, c)
            current.copy_(ctx.scale.select(1, c - 1))
            if c < channels - pre_pad + 1:
                current.add_(squares.select(1, c + pre_pad - 1), alpha=1)
            if c > pre_pad:
                current.add_(squares.select(1, c - pre_pad), alpha=-1)
        ctx.scale.mul_(alpha / size).add_(k)
        ember.pow(ctx.scale, -beta, out=output)
        output.mul_(input)
        ctx.save_for_backward(input, output)
        return output

    @staticmethod
    def backward(ctx, grad):
        input, output = ctx.saved_tensors
        gradient = _gradient(input._data, output._data, grad._data, ctx.scale._data, ctx.size, ctx.alpha, ctx.beta)
        return _make(gradient), None, None, None, None


@quiet
def _gradient(input, output, grad, scale, size, alpha, beta):
    """The legacy Function's input gradient, on arrays."""
    xp = _backend.xp_of(input)
    channels = input.shape[1]
    start = int(size - (size - 1) / 2)
    if start + channels > channels + size - 1:
        raise RuntimeError(f"start ({start}) + length ({channels}) exceeds dimension size ({channels + size - 1}).")
    grad_input = xp.power(scale, -beta) * grad
    padded = xp.zeros((input.shape[0], channels + size - 1) + input.shape[2:], input.dtype)
    padded[:, start:start + channels] = grad * output / scale
    window = padded[:, :size - 1].sum(axis=1)
    factor = 2 * alpha * beta / size
    for c in range(channels):
        window += padded[:, c + size - 1]
        grad_input[:, c] -= factor * input[:, c] * window
        window -= padded[:, c]
    return grad_input
