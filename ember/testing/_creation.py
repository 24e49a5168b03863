"""make_tensor: a tensor of given shape and dtype filled with uniform random values in [low, high), for tests.
Values are drawn as PyTorch's are (``randint`` in the dtype, ``uniform_`` on the tensor or its real view), so a
seeded program gets PyTorch's tensors and leaves the generator where PyTorch's does."""
import math
import warnings

from .. import _dtype

__all__ = ["make_tensor"]


def _bounds(low, high, dtype, lowest_inclusive, highest_exclusive, default_low, default_high):
    """The requested range with defaults, clamped to what the dtype holds, with PyTorch's errors (integer bounds
    rounded up)."""
    low = default_low if low is None else low
    high = default_high if high is None else high
    integral = not (dtype.is_floating_point or dtype.is_complex)
    if any(isinstance(value, float) and math.isnan(value) for value in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={low} and high={high}")
    if low == high and not integral:
        warnings.warn("Passing `low==high` to `torch.testing.make_tensor` for floating or complex types is deprecated "
                      "since 2.1 and will be removed in 2.3. Use `torch.full(...)` instead.", FutureWarning,
                      stacklevel=3)
    elif low >= high:
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    elif high < lowest_inclusive or low >= highest_exclusive:
        raise ValueError(f"The value interval specified by `low` and `high` is [{low}, {high}), but {dtype} only "
                         f"supports [{lowest_inclusive}, {highest_exclusive})")
    low = min(max(low, lowest_inclusive), highest_exclusive)
    high = min(max(high, lowest_inclusive), highest_exclusive)
    return (math.ceil(low), math.ceil(high)) if integral else (low, high)


def _uniform_random_(t, low, high, finfo):
    """``t.uniform_(low, high)``, halving the range and doubling the values where it exceeds the dtype's maximum."""
    if high - low >= finfo.max:
        return t.uniform_(low / 2, high / 2).mul_(2)
    return t.uniform_(low, high)


def make_tensor(*shape, dtype, device, low=None, high=None, requires_grad=False, noncontiguous=False,
                exclude_zero=False, memory_format=None):
    """A tensor of ``shape`` with values drawn uniformly from [low, high) (defaults -9 and 9, or 10 for integers);
    ``exclude_zero`` replaces zeros, ``noncontiguous`` returns a strided view, ``memory_format`` a copy in it."""
    from .._dtype_info import finfo, iinfo
    from ..ops.complex import view_as_real
    from ..ops.creation import empty
    from ..ops.random import randint
    dtype = _dtype.as_dtype(dtype)
    floating = dtype.is_floating_point or dtype.is_complex
    if noncontiguous and memory_format is not None:
        raise ValueError(f"The parameters `noncontiguous` and `memory_format` are mutually exclusive, but got "
                         f"noncontiguous={noncontiguous} and memory_format={memory_format}")
    if requires_grad and not floating:
        raise ValueError("`requires_grad=True` is not supported for boolean and integral dtypes, but got "
                         f"dtype={dtype}")
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    shape = tuple(int(s) for s in shape)
    noncontiguous = noncontiguous and math.prod(shape) > 1
    if noncontiguous:   # twice the last dim, so the elements skipped differ from those kept
        shape = shape[:-1] + (2 * shape[-1],)
    if dtype is _dtype.bool_:
        low, high = _bounds(low, high, dtype, 0, 2, 0, 2)
        result = randint(low, high, shape, device=device, dtype=dtype)
    elif not floating:
        info = iinfo(dtype)
        low, high = _bounds(low, high, dtype, info.min, info.max + (dtype is not _dtype.int64), -9, 10)
        result = randint(low, high, shape, device=device, dtype=dtype)
    else:
        info = finfo(dtype)
        low, high = _bounds(low, high, dtype, info.min, info.max, -9, 9)
        result = empty(shape, device=device, dtype=dtype)
        _uniform_random_(view_as_real(result) if dtype.is_complex else result, low, high, info)
    if noncontiguous:
        result = result[..., 1::2]
    elif memory_format is not None:
        result = result.clone(memory_format=memory_format)
    if exclude_zero:
        result[result == 0] = info.tiny if floating else 1
    if floating:
        result.requires_grad = requires_grad
    return result
