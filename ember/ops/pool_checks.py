"""PyTorch's argument checks of max and average pooling, in its order and with its messages (its 1-d pooling runs
as 2-d pooling of the input unsqueezed at -2, so its errors name that 2-d shape and a kernel height of 1)."""

__all__ = []


def _c_half(value):
    """value / 2 rounded toward zero, as C++'s integer division."""
    return -(-value // 2) if value < 0 else value // 2


def _named(prefixes, values, letters):
    return " ".join(f"{prefix}{letter}: {value}" for prefix, value, letter in zip(prefixes, values, letters))


def check_max_pool1d(input, kernel, stride, padding, dilation):
    """The checks of PyTorch's max_pool1d without indices (run whether its own kernel or 2-d pooling computes it)."""
    k, s, p, d = kernel[0], stride[0], padding[0], dilation[0]
    if k <= 0:
        raise RuntimeError(f"max_pool1d() kernel_size must be greater than zero, but got {k}")
    if s <= 0:
        raise RuntimeError(f"max_pool1d() stride must be greater than zero, but got {s}")
    if p < 0:
        raise RuntimeError(f"max_pool1d() padding must be non-negative, but got {p}")
    if p > k // 2:
        raise RuntimeError(f"max_pool1d() padding should be at most half of kernel size, but got padding={p} and "
                           f"kernel_size={k}")
    if d <= 0:
        raise RuntimeError(f"max_pool1d() dilation must be greater than zero, but got {d}")
    if 0 in input.shape[-2:]:
        raise RuntimeError(f"max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for "
                           f"input, but got:{list(input.shape)}")


def check_pool(input, n, kernel, stride, padding, dilation, name, divisor_override=None):
    """The checks of PyTorch's 2-d and 3-d max/avg pooling kernels (1-d as 2-d) up to the output size's."""
    shape = list(input.shape)
    if n == 1:
        kernel, stride, padding, dilation = (1,) + kernel, (1,) + stride, (0,) + padding, (1,) + dilation
        shape = shape[:-1] + [1] + shape[-1:]
        n = 2
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    for k, s, p, d in zip(kernel, stride, padding, dilation):   # PyTorch's pooling_output_shape, per dim
        if s == 0:
            raise RuntimeError("stride should not be zero")
        if p < 0:
            raise RuntimeError(f"pad must be non-negative, but got pad: {p}")
        if p > _c_half((k - 1) * d + 1):
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p}, "
                               f"kernel_size={k} and dilation={d}")
    letters = "HW" if n == 2 else "THW"
    if min(kernel) <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got {_named(['k'] * n, kernel, letters)}")
    if min(stride) <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got {_named(['d'] * n, stride, letters)}")
    if min(dilation) <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got "
                           f"{_named(['dilation'] * n, dilation, letters)}")
    if 0 in shape[-n - 1:]:
        if n == 2:
            raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, "
                               f"but got:{shape}")
        raise RuntimeError(f"{name}: Expected input's non-batch dimensions to have positive length, but input has a "
                           f"shape of {shape} and non-batch dimension 0 has length zero!")
    if any(p > k // 2 for k, p in zip(kernel, padding)):
        if n == 2:
            raise RuntimeError(f"pad should be smaller than or equal to half of kernel size, but got padW = "
                               f"{padding[1]}, padH = {padding[0]}, kW = {kernel[1]}, kH = {kernel[0]}")
        raise RuntimeError(f"pad should be smaller than or equal to half of kernel size, but got kT: {kernel[0]} "
                           f"kW: {kernel[2]} kH: {kernel[1]} padT: {padding[0]} padW: {padding[2]} "
                           f"padH: {padding[1]}")
