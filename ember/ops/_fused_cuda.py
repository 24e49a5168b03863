"""CuPy kernels that do in one launch what a primitive's array code does in several passes on the CPU. On a GPU each
CuPy call costs ~10-20 us of host time whatever its size, so a training step of many small passes is bound by the
host; these kernels cut the calls. Each is compiled by CuPy on first use and cached by CuPy per dtype."""
import functools

import numpy


@functools.cache
def _kernels():
    """The kernels, made on first use (importing CuPy only on a GPU path)."""
    import cupy
    return {
        "channel_sum": cupy.ReductionKernel(
            "T x", "float64 y", "x", "a + b", "y = a", "0", "ember_channel_sum", reduce_type="double"),
        "centered_square_sum": cupy.ReductionKernel(
            "T x, T m", "float64 y", "((double)x - (double)m) * ((double)x - (double)m)", "a + b", "y = a", "0",
            "ember_centered_square_sum", reduce_type="double"),
        "centered_dot": cupy.ReductionKernel(
            "T g, T x, T m", "float64 y", "(double)g * ((double)x - (double)m)", "a + b", "y = a", "0",
            "ember_centered_dot", reduce_type="double"),
        "mean": cupy.ElementwiseKernel(
            "float64 s, float64 count", "T mean", "mean = (T)(s / count)", "ember_mean"),
        "scale": cupy.ElementwiseKernel(
            "float64 squares, T w, float64 count, float64 eps", "T var, T invstd, T scale",
            "T v = (T)(squares / count); var = v; T inv = (T)1 / sqrt(v + (T)eps); invstd = inv; scale = inv * w",
            "ember_batch_norm_scale"),
        "normalize": cupy.ElementwiseKernel(
            "T x, T mean, T scale, T bias", "T y", "y = (x - mean) * scale + bias", "ember_batch_norm"),
        "grad_coefficients": cupy.ElementwiseKernel(
            "float64 gsum, float64 dot, T invstd, T w, float64 count", "T grad_w, T grad_b, T k, T a, T c",
            "grad_w = (T)(dot * (double)invstd); grad_b = (T)gsum; k = invstd * w; a = (T)(gsum / count); "
            "c = (T)((double)invstd * (double)invstd * dot / count)", "ember_batch_norm_grad_coefficients"),
        "grad_input": cupy.ElementwiseKernel(
            "T g, T x, T mean, T k, T a, T c", "T dx", "dx = k * (g - a - (x - mean) * c)",
            "ember_batch_norm_grad_input"),
    }


def batch_norm_applies(*arrays):
    """Whether the batch-norm kernels take these arrays (None for an absent weight or bias): CUDA arrays of one
    float32 or float64 dtype."""
    present = [a for a in arrays if a is not None]
    dtype = present[0].dtype
    return dtype in (numpy.float32, numpy.float64) and all(
        not isinstance(a, numpy.ndarray) and a.dtype == dtype for a in present)


def batch_norm_forward(x3, weight, bias, eps):
    """Batch norm of a contiguous (N, C, S) CUDA array by its own statistics, in six launches: the channels'
    sums and their centred squares' sums (each per row, then over the batch, accumulated in float64), the
    per-channel scale, the normalization.
    Returns (result, mean, biased variance, invstd)."""
    k = _kernels()
    N, C, S = x3.shape
    count = float(N * S)
    sums = _over_batch(k["channel_sum"](x3, axis=2))
    mean = _empty_like(x3, C)
    k["mean"](sums, count, mean)
    squares = _over_batch(k["centered_square_sum"](x3, _per_channel(mean, x3), axis=2))
    var, invstd, scale = _empty_like(x3, C), _empty_like(x3, C), _empty_like(x3, C)
    k["scale"](squares, 1.0 if weight is None else weight, count, float(eps), var, invstd, scale)
    result = _empty_like(x3, x3.shape)
    k["normalize"](x3, mean[None, :, None], scale[None, :, None], 0.0 if bias is None else bias[None, :, None],
                   result)
    return result, mean, var, invstd


def batch_norm_backward(g3, x3, weight, mean, invstd, needs_x):
    """The gradients of ``batch_norm_forward`` (input, weight, bias), in six launches (five without the
    input's): dx = weight * invstd * (g - sum(g) / M - (x - mean) * invstd**2 * sum(g * (x - mean)) / M)."""
    k = _kernels()
    N, C, S = x3.shape
    count = float(N * S)
    gsum = _over_batch(k["channel_sum"](g3, axis=2))
    dot = _over_batch(k["centered_dot"](g3, x3, _per_channel(mean, x3), axis=2))
    grad_w, grad_b, scale, shift, slope = (_empty_like(x3, C) for _ in range(5))
    k["grad_coefficients"](gsum, dot, invstd, 1.0 if weight is None else weight, count, grad_w, grad_b, scale,
                           shift, slope)
    if not needs_x:
        return None, grad_w, grad_b
    grad_x = _empty_like(x3, x3.shape)
    k["grad_input"](g3, x3, mean[None, :, None], scale[None, :, None], shift[None, :, None], slope[None, :, None],
                    grad_x)
    return grad_x, grad_w, grad_b


def _over_batch(rows):
    """Sums (N, C) per-row results over the batch. A reduction kernel gives each output one block of threads, so
    reducing (N, C, S) to C outputs at once would run C blocks over the whole array (a ResNet step took 17x
    PyTorch's time that way); rows of S first, then the batch, keep the GPU busy."""
    return rows.sum(0)


def _per_channel(values, x3):
    """A (C,) array as a view of x3's (N, C, S) shape (reduction kernels take operands of one shape)."""
    import cupy
    return cupy.broadcast_to(values[None, :, None], x3.shape)


def _empty_like(x, shape):
    """An uninitialized CuPy array of ``shape`` and x's dtype on x's device."""
    import cupy
    return cupy.empty(shape, x.dtype)
