"""The building blocks of PyTorch's SyncBatchNorm (``torch.batch_norm_stats``, ``batch_norm_gather_stats``,
``batch_norm_elemt``, ``batch_norm_backward_reduce``, ...): per-channel (dim 1) statistics of one rank's input,
their combination across ranks by element counts, the normalization, and the two halves of its backward. PyTorch
runs them on CUDA only (``batch_norm_update_stats`` also on CPU); ember's run on every device."""
from .. import _dtype
from ..autograd.grad_mode import no_grad
from .variance import var_mean

__all__ = ["batch_norm_stats", "batch_norm_elemt", "batch_norm_gather_stats", "batch_norm_gather_stats_with_counts",
           "batch_norm_update_stats", "batch_norm_backward_reduce", "batch_norm_backward_elemt"]


def _dims(input):
    return (0,) + tuple(range(2, input.ndim))


def _channels(t, input):
    """A per-channel vector shaped to broadcast against ``input`` (N, C, *)."""
    return t.reshape((1, -1) + (1,) * (input.ndim - 2))


def _accumulating(input):
    """The statistics' dtype: float32 for 16-bit input, as PyTorch's CUDA kernels accumulate."""
    return _dtype.float32 if input.dtype in (_dtype.float16, _dtype.bfloat16) else input.dtype


def batch_norm_stats(input, eps):
    """(mean, 1 / sqrt(biased variance + eps)) of each channel over the batch and spatial dims."""
    x = input.to(_accumulating(input))
    var, mean = var_mean(x, _dims(input), correction=0)
    return mean, (var + eps).rsqrt()


def batch_norm_elemt(input, weight, bias, mean, invstd, eps, *, out=None):
    """``(input - mean) * invstd * weight + bias`` per channel (``eps`` is already in ``invstd``)."""
    result = (input - _channels(mean, input)) * _channels(invstd, input)
    if weight is not None:
        result = result * _channels(weight, input)
    if bias is not None:
        result = result + _channels(bias, input)
    result = result.to(input.dtype)
    if out is not None:
        from ._util import write_out
        return write_out(out, result, "batch_norm_elemt")
    return result


def batch_norm_gather_stats_with_counts(input, mean, invstd, running_mean, running_var, momentum, eps, counts):
    """The whole batch's (mean, invstd) from each rank's (rows of ``mean``, ``invstd``) and element ``counts``;
    updates ``running_mean`` and ``running_var`` (with the unbiased variance) in place by ``momentum``."""
    counts = counts.to(mean.dtype).reshape(-1, 1)
    total = counts.sum()
    global_mean = (mean * counts).sum(0) / total
    local_var = invstd.reciprocal().square() - eps
    var = ((local_var + (mean - global_mean).square()) * counts).sum(0) / total
    with no_grad():
        if running_mean is not None:
            running_mean.mul_(1 - momentum).add_((global_mean * momentum).to(running_mean.dtype))
        if running_var is not None:
            unbiased = var * (total / (total - 1))
            running_var.mul_(1 - momentum).add_((unbiased * momentum).to(running_var.dtype))
    return global_mean, (var + eps).rsqrt()


def batch_norm_gather_stats(input, mean, invstd, running_mean, running_var, momentum, eps, count):
    """``batch_norm_gather_stats_with_counts`` with ``count`` elements on every rank."""
    counts = mean.new_full((mean.shape[0],), count)
    return batch_norm_gather_stats_with_counts(input, mean, invstd, running_mean, running_var, momentum, eps, counts)


def batch_norm_update_stats(input, running_mean, running_var, momentum):
    """(mean, biased variance) of each channel; updates the running statistics in place (the variance unbiased)."""
    var, mean = var_mean(input, _dims(input), correction=0)
    n = input.numel() // input.shape[1]
    with no_grad():
        if running_mean is not None:
            running_mean.mul_(1 - momentum).add_((mean * momentum).to(running_mean.dtype))
        if running_var is not None:
            running_var.mul_(1 - momentum).add_((var * (momentum * n / (n - 1))).to(running_var.dtype))
    return mean, var


def batch_norm_backward_reduce(grad_out, input, mean, invstd, weight, input_g, weight_g, bias_g):
    """Per channel: (sum of grad_out, sum of grad_out * (input - mean)) when ``input_g``, the weight's gradient
    when ``weight_g`` and the bias's when ``bias_g`` (None for those not asked for)."""
    dims = _dims(input)
    sum_dy = grad_out.sum(dims, dtype=_accumulating(input))
    sum_dy_xmu = (grad_out * (input - _channels(mean, input))).sum(dims, dtype=_accumulating(input))
    grad_weight = (sum_dy_xmu * invstd).to(weight.dtype if weight is not None else input.dtype) if weight_g else None
    grad_bias = sum_dy.to(weight.dtype if weight is not None else input.dtype) if bias_g else None
    return (sum_dy if input_g else None, sum_dy_xmu if input_g else None, grad_weight, grad_bias)


def batch_norm_backward_elemt(grad_out, input, mean, invstd, weight, sum_dy, sum_dy_xmu, count):
    """The input's gradient from the whole batch's reduced sums (``count``: the elements per channel on each
    rank)."""
    n = count.sum().to(sum_dy.dtype)
    scale = invstd if weight is None else invstd * weight
    projection = _channels(sum_dy_xmu / n * invstd.square(), input)
    centered = input - _channels(mean, input)
    grad = (grad_out - _channels(sum_dy / n, input) - centered * projection) * _channels(scale, input)
    return grad.to(input.dtype)
