"""The pools' behaviour for the dtypes outside their floating kernels, as PyTorch's CPU kernels dispatch: an int64
average pool (PyTorch's avg_pool kernels take int64 and divide with truncation), and the errors for the rest."""
from .. import _dtype
from ._kernel_dtypes import FLOATING, require_dtype


def integer_avg_pool(geometry, n, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override):
    """avg_pool{n}d of a non-floating ``input``: PyTorch's error unless it is int64, which is averaged exactly, each
    window's integer sum divided by its count with truncation, as PyTorch's kernel does. ``geometry`` is the float
    pools' argument parser (kernel, stride, padding, dilation and output size, with their errors)."""
    require_dtype("avg_pool3d_out_frame" if n == 3 else "avg_pool2d", input, FLOATING + "l")
    from .creation import ones
    from .padding import pad
    kernel, stride, padding, _, out = geometry(input, n, kernel_size, stride, padding, 1, ceil_mode, f"avg_pool{n}d",
                                               divisor_override)
    unbatched = input.ndim == n + 1
    x = input.unsqueeze(0) if unbatched else input
    spatial = tuple(x.shape[2:])
    # windows past the end (ceil_mode) read zeros beyond the padding; they count neither in the sum nor the divisor
    extra = [max((out[i] - 1) * stride[i] + kernel[i] - spatial[i] - 2 * padding[i], 0) for i in range(n)]
    flat_pad = [p for i in reversed(range(n)) for p in (padding[i], padding[i] + extra[i])]
    sums = _window_sums(pad(x, flat_pad), kernel, stride, out)
    if divisor_override:
        divisor = divisor_override
    else:
        counted = ones((1, 1) + spatial, dtype=_dtype.int64, device=input.device)
        if count_include_pad:   # the padding counts, the extra zeros do not
            counted = pad(pad(counted, [p for i in reversed(range(n)) for p in (padding[i],) * 2], value=1),
                          [p for i in reversed(range(n)) for p in (0, extra[i])])
        else:
            counted = pad(counted, flat_pad)
        divisor = _window_sums(counted, kernel, stride, out)
    result = sums.div(divisor, rounding_mode="trunc")
    return result.squeeze(0) if unbatched else result


def _window_sums(x, kernel, stride, out):
    """Sums of ``x`` (N, C, *spatial) over each pooling window, as (N, C, *out)."""
    n = len(kernel)
    for i in range(n):
        x = x.unfold(2 + i, kernel[i], stride[i]).narrow(2 + i, 0, out[i])
    return x.sum(tuple(range(-n, 0)))


def require_adaptive_avg(n, input, output_size):
    """PyTorch's error for adaptive_avg_pool{n}d of a dtype its kernel does not take; a (1, ..., 1) output is a
    mean in PyTorch, so takes complex inputs and gives mean()'s error for integer ones."""
    if input.dtype.is_floating_point:
        return
    sizes = (output_size,) * n if isinstance(output_size, int) else tuple(output_size)
    if all((input.shape[-n + i] if s is None else s) == 1 for i, s in enumerate(sizes)):
        input.mean(-1)   # mean()'s error for integer and bool inputs
    else:
        require_dtype("adaptive_avg_pool3d_cpu" if n == 3 else "adaptive_avg_pool2d", input)
