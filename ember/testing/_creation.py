"""make_tensor: a tensor of given shape and dtype filled with uniform random values in [low, high), for tests."""
import math
import warnings

import numpy

from .. import _dtype

__all__ = ["make_tensor"]


def _bounds(low, high, lowest_inclusive, highest_exclusive, default_low, default_high):
    """The requested range with defaults, clamped to what the dtype holds, with PyTorch's errors."""
    low = default_low if low is None else low
    high = default_high if high is None else high
    if (isinstance(low, float) and math.isnan(low)) or (isinstance(high, float) and math.isnan(high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={low} and high={high}")
    if low == high and lowest_inclusive is None:
        warnings.warn("Passing `low==high` to `torch.testing.make_tensor` for floating or complex types is deprecated "
                      "since 2.1 and will be removed in 2.3. Use `torch.full(...)` instead.", FutureWarning)
    elif low >= high:
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    if lowest_inclusive is not None:
        low, high = max(low, lowest_inclusive), min(high, highest_exclusive)
    return low, high


def make_tensor(*shape, dtype, device, low=None, high=None, requires_grad=False, noncontiguous=False,
                exclude_zero=False, memory_format=None):
    """A tensor of ``shape`` with values drawn uniformly from [low, high) (defaults -9 and 9, or 10 for integers);
    ``exclude_zero`` replaces zeros, ``noncontiguous`` returns a strided view."""
    from ..ops.creation import tensor
    from ..ops.random import rand, randint
    dtype = _dtype.as_dtype(dtype)
    if requires_grad and not (dtype.is_floating_point or dtype.is_complex):
        raise ValueError("`requires_grad=True` is not supported for boolean and integral dtypes, but got "
                         f"dtype={dtype}")
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    shape = tuple(int(s) for s in shape)
    if dtype is _dtype.bool_:
        values = randint(0, 2, shape).numpy().astype(bool)
    elif not (dtype.is_floating_point or dtype.is_complex):
        info = numpy.iinfo(dtype.numpy)
        low, high = _bounds(low, high, int(info.min), int(info.max) + 1, -9 if info.min < 0 else 0, 10)
        values = randint(math.ceil(low), math.ceil(high), shape).numpy() if high > low else \
            numpy.full(shape, math.ceil(low))
        if exclude_zero:
            values[values == 0] = 1
    else:
        low, high = _bounds(low, high, None, None, -9, 9)
        real_dtype = numpy.float32 if dtype.name in ("float16", "bfloat16") else None
        values = low + (high - low) * rand(shape, dtype=_dtype.float64).numpy()
        if dtype.is_complex:
            values = values + 1j * (low + (high - low) * rand(shape, dtype=_dtype.float64).numpy())
        if exclude_zero:
            tiny = float(numpy.finfo(real_dtype or (numpy.float32 if dtype.name == "complex64" else
                                                    dtype.numpy)).tiny)
            values = numpy.where(values == 0, tiny, values)
    result = tensor(numpy.asarray(values), dtype=dtype, device=device)
    if noncontiguous and result.numel() > 1:
        result = result.repeat_interleave(2, dim=-1)[..., ::2]
    return result.requires_grad_(requires_grad) if requires_grad else result
