"""Making tensors: from data (tensor, as_tensor, from_numpy, from_dlpack) and by shape (zeros, ones, full, ...)."""
import numbers

import numpy

from .. import _backend, _dtype
from .._tensor import Size, Tensor, _make
from ._util import shape_arg, tensor_method

__all__ = ["tensor", "as_tensor", "from_numpy", "from_dlpack", "asarray", "zeros", "ones", "full", "empty",
           "zeros_like", "ones_like", "full_like", "empty_like", "arange", "linspace", "logspace", "eye",
           "empty_strided", "scalar_tensor", "complex", "polar"]


def _infer_dtype(data):
    """The dtype PyTorch infers for nested Python data: bool < int64 < default float < default complex."""
    category = None
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, Tensor):
            d = item.dtype
        elif isinstance(item, numpy.ndarray):
            d = _dtype.from_numpy(item.dtype)
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
            continue
        else:
            d = _dtype.scalar_dtype(item)
            if d.is_floating_point:
                d = _dtype.get_default_dtype()
        category = d if category is None else _dtype.promote_types(category, d)
    return category or _dtype.get_default_dtype()


def _to_numpy(data, dtype):
    """Converts nested data (lists, tuples, scalars, arrays, tensors) to a NumPy array of ``dtype``."""
    if isinstance(data, Tensor):
        return _backend.move(data._data, _backend.CPU).astype(dtype.numpy)
    if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in data):
        data = [_to_numpy(x, dtype) for x in data]
    try:
        return numpy.array(data, dtype=dtype.numpy)
    except OverflowError:
        return numpy.array(data).astype(dtype.numpy)
    except (ValueError, TypeError) as error:
        raise ValueError(f"could not convert {type(data).__name__} to a tensor: {error}") from None


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of ``data`` (nested lists, numbers, arrays or tensors)."""
    if isinstance(data, numpy.ndarray) and dtype is None:
        dtype = _dtype.from_numpy(data.dtype)
    dtype = _infer_dtype(data) if dtype is None else _dtype.as_dtype(dtype)
    dev = _backend.as_device(device if device is not None else (data.device if isinstance(data, Tensor) else None))
    array = _backend.move(_to_numpy(data, dtype), dev)
    out = _make(array)
    if requires_grad:
        out.requires_grad_(True)
    return out


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor`` but shares memory with ``data`` (a tensor or NumPy array) when dtype and device allow."""
    if isinstance(data, Tensor):
        return data.to(device=device if device is not None else data.device, dtype=dtype or data.dtype)
    if isinstance(data, numpy.ndarray) and (device is None or _backend.as_device(device).type == "cpu"):
        if dtype is None or _dtype.as_dtype(dtype).numpy == data.dtype:
            return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


asarray = as_tensor


def from_numpy(array):
    """A tensor sharing memory with the NumPy array: changes to one show in the other."""
    if not isinstance(array, numpy.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    _dtype.from_numpy(array.dtype)
    return _make(array)


def from_dlpack(external):
    """A tensor sharing memory with any object that speaks DLPack."""
    if hasattr(external, "__dlpack_device__") and external.__dlpack_device__()[0] != 1:
        return _make(_backend._load_cupy().from_dlpack(external))
    return _make(numpy.from_dlpack(external))


def _factory(size, fill, dtype, device, requires_grad, integer_fill_ok=True):
    shape = shape_arg(size)
    d = _dtype.as_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    for s in shape:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(shape)}")
    xp = _backend.xp_for(_backend.as_device(device))
    array = xp.empty(shape, d.numpy) if fill is None else xp.full(shape, fill, d.numpy)
    out = _make(array)
    if requires_grad:
        out.requires_grad_(True)
    return out


def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A tensor of zeros of the given shape."""
    return _factory(size, 0, dtype, device, requires_grad)


def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A tensor of ones of the given shape."""
    return _factory(size, 1, dtype, device, requires_grad)


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
          memory_format=None):
    """An uninitialised tensor of the given shape."""
    return _factory(size, None, dtype, device, requires_grad)


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """An uninitialised tensor of the given shape (strides are chosen by the array library)."""
    return _factory((size,), None, dtype, device, requires_grad)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A tensor of the given shape filled with ``fill_value``; dtype follows the fill value as in PyTorch."""
    if dtype is None:
        dtype = _dtype.scalar_dtype(fill_value.item() if isinstance(fill_value, Tensor) else fill_value)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _factory((size,) if isinstance(size, (int, numpy.integer)) else (tuple(size),), fill_value, dtype, device,
                    requires_grad)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    """A 0-d tensor holding ``s`` (default dtype unless given)."""
    return full((), s, dtype=dtype or _dtype.get_default_dtype(), device=device, requires_grad=requires_grad)


def _like(input, dtype, device):
    return (input.dtype if dtype is None else dtype), (input.device if device is None else device)


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """Zeros with the shape (and by default dtype and device) of ``input``."""
    dtype, device = _like(input, dtype, device)
    return _factory((input.shape,), 0, dtype, device, requires_grad)


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """Ones with the shape (and by default dtype and device) of ``input``."""
    dtype, device = _like(input, dtype, device)
    return _factory((input.shape,), 1, dtype, device, requires_grad)


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """An uninitialised tensor with the shape (and by default dtype and device) of ``input``."""
    dtype, device = _like(input, dtype, device)
    return _factory((input.shape,), None, dtype, device, requires_grad)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """``fill_value`` everywhere, with the shape (and by default dtype and device) of ``input``."""
    dtype, device = _like(input, dtype, device)
    return _factory((input.shape,), fill_value, dtype, device, requires_grad)


def _new_factory(fill):
    def method(self, *size, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
        return _factory(size, fill, dtype or self.dtype, device or self.device, requires_grad)
    return method


Tensor.new_zeros = _new_factory(0)
Tensor.new_ones = _new_factory(1)
Tensor.new_empty = _new_factory(None)
Tensor.new_zeros.__doc__ = "Zeros of the given shape with this tensor's dtype and device."
Tensor.new_ones.__doc__ = "Ones of the given shape with this tensor's dtype and device."
Tensor.new_empty.__doc__ = "An uninitialised tensor of the given shape with this tensor's dtype and device."


@tensor_method
def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
    """``fill_value`` everywhere, in the given shape, with this tensor's dtype and device."""
    return _factory((size,), fill_value, dtype or self.dtype, device or self.device, requires_grad)


@tensor_method
def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
    """A copy of ``data`` with this tensor's dtype and device unless given."""
    return tensor(data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)


def _number(x):
    return x.item() if isinstance(x, Tensor) else x


def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """Values from ``start`` up to (not including) ``end`` spaced by ``step``; int64 unless any bound is a float."""
    start, end, step = _number(start), _number(end), _number(step)
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        floating = any(isinstance(v, float) for v in (start, end, step))
        dtype = _dtype.get_default_dtype() if floating else _dtype.int64
    dtype = _dtype.as_dtype(dtype)
    xp = _backend.xp_for(_backend.as_device(device))
    count = max(int(numpy.ceil((end - start) / step)), 0)
    array = (start + step * xp.arange(count, dtype=numpy.float64)) if dtype.is_floating_point else \
        xp.arange(start, end, step)
    out_tensor = _make(array.astype(dtype.numpy, copy=False))
    return out_tensor.requires_grad_(True) if requires_grad else out_tensor


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    start, end = _number(start), _number(end)
    dtype = _dtype.as_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    xp = _backend.xp_for(_backend.as_device(device))
    step = (end - start) / (steps - 1) if steps > 1 else 0.0
    index = xp.arange(steps, dtype=numpy.float64)
    halfway = steps // 2
    # PyTorch fills the first half from start and the second half from end, which keeps both ends exact.
    array = xp.where(index < halfway, start + step * index, end - step * (steps - 1 - index))
    if not dtype.is_floating_point and not dtype.is_complex:
        array = xp.trunc(array)
    result = _make(array.astype(dtype.numpy))
    return result.requires_grad_(True) if requires_grad else result


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """``steps`` values from ``base**start`` to ``base**end`` spaced evenly on a log scale."""
    dtype = _dtype.as_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    exponents = linspace(start, end, steps, dtype=_dtype.float64, device=device)._data
    result = _make((base ** exponents).astype(dtype.numpy))
    return result.requires_grad_(True) if requires_grad else result


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """An ``n`` by ``m`` matrix with ones on the diagonal."""
    dtype = _dtype.as_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    if n < 0 or (m is not None and m < 0):
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    xp = _backend.xp_for(_backend.as_device(device))
    result = _make(xp.eye(n, n if m is None else m, dtype=dtype.numpy))
    return result.requires_grad_(True) if requires_grad else result


def complex(real, imag, *, out=None):
    """A complex tensor from real and imaginary parts of the same floating dtype."""
    if real.dtype is not imag.dtype or not real.dtype.is_floating_point:
        raise RuntimeError(f"Expected both inputs to be Half, Float or Double tensors but got "
                           f"{_dtype.scalar_type_name(real.dtype)} and {_dtype.scalar_type_name(imag.dtype)}")
    return real + imag * 1j


def polar(abs, angle, *, out=None):
    """A complex tensor from magnitudes and angles."""
    return complex(abs * angle.cos(), abs * angle.sin())


def _legacy_array(args, dtype, device):
    """The array behind the legacy ``Tensor(...)`` constructor: data to copy, or sizes to allocate."""
    if not args:
        return _backend.xp_for(device).empty((0,), dtype.numpy)
    if all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in args) or (
            len(args) == 1 and isinstance(args[0], Size)):
        shape = shape_arg(args)
        return _backend.xp_for(device).zeros(shape, dtype.numpy)
    if len(args) != 1:
        raise TypeError(f"new(): invalid data type '{type(args[0]).__name__}'")
    return _backend.move(_to_numpy(args[0], dtype), device)
