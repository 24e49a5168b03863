"""Making tensors: from data (tensor, as_tensor, from_numpy, from_dlpack), by shape (zeros, ones, full, ...),
ranges (arange, linspace, logspace), and the legacy typed constructors (FloatTensor, LongTensor, ...)."""
import builtins
import numbers
import operator
import os

import numpy

from .. import _alias, _backend, _dtype, _runtime
from .._memory_format import preserve_format
from .._tensor import Size, Tensor, _init, _make
from .._warnings import warn
from ..autograd._saved import _type_name
from ..autograd.function import Primitive, composite
from ._kernel_dtypes import cpp_type_name, real_scalar
from ._util import argument_error, format_order, out_dtype, shape_arg, tensor_method, warn_once, write_out
from .conversion import _dense_order

__all__ = ["BFloat16Tensor", "BoolTensor", "ByteTensor", "CharTensor", "ComplexDoubleTensor", "ComplexFloatTensor",
           "DoubleTensor", "FloatTensor", "HalfTensor", "IntTensor", "LongTensor", "ShortTensor", "as_tensor",
           "asarray", "complex", "empty", "empty_like", "empty_permuted", "empty_strided", "eye", "from_dlpack",
           "from_file", "from_numpy", "frombuffer", "full", "full_like", "ones", "ones_like", "polar",
           "scalar_tensor", "set_default_tensor_type", "tensor", "to_dlpack", "zeros", "zeros_like"]

_PYTHON_SCALARS = {bool: _dtype.bool_, int: _dtype.int64, float: None, builtins.complex: None}


# --- tensors from data ----------------------------------------------------------------------------------------
def _python_scalar_dtype(kind):
    """The dtype of a Python scalar type: bool, int64, the default float or the default complex."""
    d = _PYTHON_SCALARS[kind]
    if d is None:
        return _dtype.get_default_dtype() if kind is float else _dtype.default_complex()
    return d


def _is_sequence(data):
    """CPython's ``PySequence_Check``, which PyTorch reads nested data with: any object whose type indexes by
    position (lists, tuples, ranges, deques, arrays, ``__getitem__`` classes), not dicts, tensors or NumPy
    scalars."""
    if isinstance(data, (dict, Tensor, numpy.generic)):
        return False
    slots = [vars(kind) for kind in type(data).__mro__]   # the type's own methods, not its metaclass's (an Enum's)
    return any("__getitem__" in s for s in slots) and any("__len__" in s for s in slots)


def _numpy_dtype(array):
    """The dtype of a NumPy array or scalar of any byte order (PyTorch maps the type, then checks the order)."""
    kind = array.dtype
    return _dtype.from_numpy(kind if kind.isnative else kind.newbyteorder("="))


def _check_numpy(ndarray):
    """PyTorch's checks on a NumPy array read whole (``from_numpy``, ``tensor(ndarray)``): a supported type, then
    strides of whole, non-negative elements, then the native byte order."""
    _numpy_dtype(ndarray)
    if any(stride % ndarray.itemsize for stride in ndarray.strides):
        raise ValueError("given numpy array strides not a multiple of the element byte size. Copy the numpy array to "
                         "reallocate the memory.")
    if any(stride < 0 for stride in ndarray.strides):
        raise ValueError("At least one stride in the given numpy array is negative, and tensors with negative "
                         "strides are not currently supported. (You can probably work around this by making a copy "
                         "of your array  with array.copy().) ")
    if not ndarray.dtype.isnative:
        raise ValueError("given numpy array has byte order different from the native byte order. Conversion between "
                         "byte orders is currently not supported.")


def _infer(data):
    if isinstance(data, Tensor):
        return data.dtype
    if isinstance(data, (numpy.ndarray, numpy.generic)):
        return _numpy_dtype(data)
    if type(data) in _PYTHON_SCALARS:
        return _python_scalar_dtype(type(data))
    if not isinstance(data, (list, tuple)):
        if isinstance(data, (str, bytes)):
            raise TypeError(f"new(): invalid data type '{_type_name(data)}'")
        for kind in _PYTHON_SCALARS:   # subclasses of Python's number types (bool first: it subclasses int)
            if isinstance(data, kind):
                return _python_scalar_dtype(kind)
        if not _is_sequence(data):
            raise RuntimeError(f"Could not infer dtype of {_type_name(data)}")
        data = list(data)
    if not data:
        return _dtype.get_default_dtype()
    result = None
    kinds = set(map(type, data))
    for kind in kinds & _PYTHON_SCALARS.keys():
        d = _python_scalar_dtype(kind)
        result = d if result is None else _dtype.promote_types(result, d)
    if kinds - _PYTHON_SCALARS.keys():
        for item in data:
            if type(item) not in _PYTHON_SCALARS:
                d = _infer(item)
                result = d if result is None else _dtype.promote_types(result, d)
    return result


def _infer_dtype(data):
    """The dtype PyTorch infers for nested data: the promotion of every element's own dtype, where Python scalars
    count as bool, int64, the default float or the default complex, NumPy scalars, arrays and tensors keep their
    dtype, and an empty sequence counts as the default float. PyTorch's errors for what is no number: a string
    (a ValueError where the first elements lead to it, since PyTorch reads the shape first), other objects."""
    try:
        return _infer(data)
    except TypeError:
        if isinstance(data, (str, bytes)):
            raise
        _sizes(data)
        raise


def _sizes(data):
    """PyTorch's compute_sizes: the shape read along the first elements of nested sequences (a string nests
    without end)."""
    sizes = []
    while _is_sequence(data):
        if isinstance(data, str):
            raise ValueError(f"too many dimensions '{_type_name(data)}'")   # noqa: TRY004 (PyTorch's type)
        sizes.append(len(data))
        if not sizes[-1]:
            break
        data = data[0]
    return sizes


def _host_arrays(data, arrays=None):
    """``data`` with every tensor inside replaced by a NumPy array and every other sequence by a list, so NumPy
    can read the nesting; NumPy arrays found inside a sequence are appended to ``arrays``."""
    if isinstance(data, Tensor):  # inside a sequence a tensor stands for its one element, as in PyTorch
        if data.numel() != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        array = _backend.move(data._data, _backend.CPU).reshape(())
        return array.astype(numpy.float32) if data.dtype is _dtype.bfloat16 else array
    if isinstance(data, (list, tuple)):
        if set(map(type, data)) <= _PYTHON_SCALARS.keys():
            return data
        return [_host_arrays(x, arrays) for x in data]
    if isinstance(data, numpy.ndarray):
        if arrays is not None:
            arrays.append(data)
        return data
    if isinstance(data, (numpy.generic, str, bytes)) or not _is_sequence(data):
        return data
    return _host_arrays(list(data), arrays)   # as a list, so a sequence of numbers takes the fast path


def _host_nested(data, ndim):
    """``data`` as lists ``ndim`` levels deep, iterating whatever stands there (PyTorch reads a tensor of several
    elements where its first elements' shape puts a sequence), and as ``_host_arrays`` below."""
    if not ndim:
        return _host_arrays(data)
    return [_host_nested(x, ndim - 1) for x in data]


def _readable(item, integral, complex_target):
    """Whether PyTorch's store reads ``item`` as a number of the target kind (integers through ``__index__``,
    floats through ``__float__``; a Python complex only into a complex dtype)."""
    if isinstance(item, (bool, int, float, numpy.generic, Tensor)):
        return True
    kind = type(item)
    if isinstance(item, builtins.complex):
        return complex_target
    return hasattr(kind, "__index__") if integral else hasattr(kind, "__float__") or (
        complex_target and hasattr(kind, "__complex__"))


def _store_error(data, sizes, dtype, numbers=False):
    """The error PyTorch's recursive_store raises for data whose nesting disagrees with ``sizes``, the shape of its
    first elements: a length that differs, a scalar where a sequence belongs, or a sequence (or a tensor of several
    elements; with ``numbers``, any object the dtype cannot read) where a number belongs, worded by how the target
    dtype reads a number; None where it stores all."""
    integral = dtype._category == _dtype._INT or dtype is _dtype.bool_
    complex_target = dtype.is_complex

    def walk(item, dim):
        if dim == len(sizes):
            if isinstance(item, Tensor) and item.numel() != 1:
                return (TypeError("only integer tensors of a single element can be converted to an index")
                        if integral else ValueError("only one element tensors can be converted to Python scalars"))
            if _is_sequence(item) or numbers and not _readable(item, integral, complex_target):
                name = _type_name(item)
                return TypeError(f"'{name}' object cannot be interpreted as an integer" if integral
                                 else f"must be real number, not {name}")
            return None
        try:
            items = list(item)
        except TypeError:
            return TypeError("not a sequence")
        if len(items) != sizes[dim]:
            return ValueError(f"expected sequence of length {sizes[dim]} at dim {dim} (got {len(items)})")
        for x in items:
            error = walk(x, dim + 1)
            if error is not None:
                return error
        return None
    return walk(data, 0)


def _natural_numpy(d):
    """The NumPy type that holds data of inferred dtype ``d`` exactly before any cast (Python floats are doubles)."""
    if d is _dtype.bfloat16 or d is _dtype.float16 or d is _dtype.float32:
        return numpy.float64 if d is _dtype.get_default_dtype() else d.numpy
    if d is _dtype.complex64:
        return numpy.complex128
    return d.numpy


def _flat_python(data):
    """The scalars of nested Python lists and tuples, in order."""
    if isinstance(data, (list, tuple)):
        for item in data:
            yield from _flat_python(item)
    else:
        yield data


def _check_python_ints(data):
    """PyTorch's uint64 store takes only Python ints (and bools) from Python data: a float, a NumPy scalar, an array
    or a tensor inside a list is refused with its TypeError."""
    if any(not isinstance(value, int) for value in _flat_python(data)):
        raise TypeError("an integer is required")


def _check_fits(array, target):
    """PyTorch's RuntimeError when Python data holds values outside an integer ``target``'s range."""
    if array.size == 0 or target._category != _dtype._INT or array.dtype.kind not in "fiu":
        return
    info = numpy.iinfo(target.numpy)
    low, high = array.min(), array.max()
    if array.dtype.kind in "iu" and info.min == 0:
        low = max(int(low), 0) if int(low) >= -int(info.max) else low   # negative ints wrap, as c10's overflows
    if not (numpy.isfinite(low) and numpy.isfinite(high) and info.min <= low and high <= info.max):
        raise RuntimeError(f"value cannot be converted to type {target.name} without overflow")


def _as_numbers(data, ndim, dtype):
    """``data`` as nested lists whose leaves PyTorch's store can take, objects read through ``__index__`` /
    ``__float__`` / ``__complex__`` replaced by the numbers they give."""
    if ndim:
        return [_as_numbers(x, ndim - 1, dtype) for x in data]
    if isinstance(data, (bool, int, float, builtins.complex, numpy.generic, Tensor)):
        return data
    if dtype._category == _dtype._INT or dtype is _dtype.bool_:
        return operator.index(data)
    return builtins.complex(data) if dtype.is_complex and hasattr(type(data), "__complex__") else float(data)


def _read_as(data, dtype):
    """Nested data read by an explicit dtype, as PyTorch reads it without inferring one: its store's errors for what
    the dtype cannot read, numbers for what it reads; None where the shape holds nothing (nothing is read)."""
    sizes = _sizes(data)
    if 0 in sizes:
        return None
    error = _store_error(data, sizes, dtype, numbers=True)
    if error is not None:
        raise error
    return _as_numbers(data, len(sizes), dtype)


def _truth_values(data):
    """Nested Python data with its numbers as bools: PyTorch's bool store reads any number by whether it is nonzero
    (a complex one, an int past int64's range)."""
    if isinstance(data, (list, tuple)):
        return [_truth_values(x) for x in data]
    if isinstance(data, (int, float, builtins.complex)):
        return data != 0
    return data


def _to_numpy(data, dtype, infer=True):
    """Converts nested Python data (lists, tuples, scalars, arrays, tensors) to a NumPy array of ``dtype``; without
    ``infer`` (an explicit dtype, legacy constructors) data the dtype cannot read raises PyTorch's store errors."""
    if isinstance(data, (Tensor, numpy.ndarray)):
        array = _backend.move(data._data, _backend.CPU) if isinstance(data, Tensor) else data
        with numpy.errstate(over="ignore", invalid="ignore"):  # 1e308 to float32 is inf, silently, as in torch
            return _dtype.cast_array(array, dtype.numpy)
    if not infer and dtype is _dtype.bool_:
        data = _truth_values(data)
    if dtype is _dtype.uint64 and isinstance(data, (list, tuple, float, builtins.complex, numpy.generic)):
        _check_python_ints(data)
    try:
        inferred = _infer_dtype(data) or dtype
    except (RuntimeError, TypeError):
        if infer or isinstance(data, (str, bytes)):   # a string is refused before anything is read
            raise
        inferred = None
    if not infer and (inferred is None or inferred.is_complex and not dtype.is_complex):
        read = _read_as(data, dtype)
        if read is None:
            return numpy.zeros(_sizes(data), dtype.numpy)
        data, inferred = read, _infer_dtype(read) or dtype
    natural = _natural_numpy(inferred)
    if dtype is _dtype.uint64 and inferred._category == _dtype._INT:
        natural = dtype.numpy   # Python ints above int64's range fit uint64
    elif not infer and inferred._category == _dtype._INT and (dtype.is_floating_point or dtype.is_complex):
        natural = numpy.float64   # an explicit floating dtype reads ints as doubles, however large
    arrays = []
    try:
        host = _host_arrays(data, arrays)
        array = numpy.array(host, dtype=natural)
    except OverflowError:
        if numpy.dtype(natural) == numpy.uint64:
            negative = any(isinstance(v, int) and v < 0 for v in _flat_python(data))
            raise OverflowError("can't convert negative int to unsigned" if negative else "int too big to convert") \
                from None
        raise ValueError("Overflow when unpacking long long") from None
    except ValueError:
        sizes = _sizes(data)
        if 0 in sizes:   # PyTorch stores nothing into an empty tensor, so it never looks past the first elements
            return numpy.zeros(sizes, dtype.numpy)
        error = _store_error(data, sizes, dtype)
        if error is not None:
            raise error from None
        array = numpy.array(_host_nested(data, len(sizes)), dtype=natural)
    if arrays:
        _sizes(data)   # a 0-d array where PyTorch reads the shape has no len()
        if array.size:
            warn_once("tensor from a list of arrays", "Creating a tensor from a list of numpy.ndarrays is extremely "
                      "slow. Please consider converting the list to a single numpy.ndarray with numpy.array() before "
                      "converting to a tensor.")
    if array.dtype != dtype.numpy:
        _check_fits(array, dtype)
        with numpy.errstate(over="ignore", invalid="ignore"):
            array = _dtype.cast_array(array, dtype.numpy)
    return array


def _requires_grad_arg(requires_grad):
    """PyTorch's error for a ``requires_grad`` that is not a bool (a truthy one reaches here), with the op's own
    message where PyTorch's signature table describes the op."""
    argument_error()
    raise TypeError(f"argument 'requires_grad' must be bool, not {type(requires_grad).__name__}")


def _finish(array, requires_grad):
    """Wraps a fresh array; PyTorch's factory error when gradients are asked of a non-floating dtype."""
    out = _make(array)
    if requires_grad:
        if requires_grad is not True:
            _requires_grad_arg(requires_grad)
        if array.dtype.kind not in "fcV":
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        out.requires_grad = True
    return out


_COPY_CONSTRUCT = ("To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
                   "sourceTensor.detach().clone().requires_grad_(True), rather than {}(sourceTensor).")


constant_hooks = []
"""Callables told the name of a factory whose result holds data given from outside (``tensor``, ``as_tensor``,
``from_numpy``): ``jit.trace`` warns there that the trace keeps that data as a constant."""


def _from_data(name):
    for hook in constant_hooks:
        hook(name)


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of ``data`` (nested lists, numbers, arrays or tensors; a tensor with PyTorch's
    warning to copy it with ``detach().clone()`` instead)."""
    _from_data("tensor")
    if dtype is not None and not isinstance(dtype, _dtype.dtype):
        _dtype.dtype_arg(dtype, "tensor")
    if requires_grad and requires_grad is not True:
        raise TypeError(f"tensor(): argument 'requires_grad' must be bool, not {type(requires_grad).__name__}")
    if isinstance(data, Tensor):
        warn(_COPY_CONSTRUCT.format("torch.tensor"), stacklevel=2)
    return _copied(data, dtype, device, requires_grad)


def _copied(data, dtype, device, requires_grad):
    if isinstance(data, numpy.ndarray):
        _check_numpy(data)
    infer = dtype is None
    dtype = _infer_dtype(data) if infer else _dtype.as_dtype(dtype)   # checked by the public functions
    if dtype is None:
        dtype = _dtype.get_default_dtype()
    dev = _backend.as_device(device if device is not None else (data.device if isinstance(data, Tensor) else None))
    if isinstance(data, Tensor) and dev == data.device:
        return _finish(_dtype.cast_array(data._data, dtype.numpy), requires_grad)
    return _finish(_backend.move(_to_numpy(data, dtype, infer), dev), requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor`` but shares memory with ``data`` (a tensor or NumPy array) when dtype and device allow."""
    if dtype is not None and not isinstance(dtype, _dtype.dtype):
        _dtype.dtype_arg(dtype, "as_tensor")
    _from_data("as_tensor")
    return _as_tensor(data, dtype, device)


def _as_tensor(data, dtype, device):
    if isinstance(data, Tensor):
        return data.to(device=device if device is not None else data.device, dtype=dtype or data.dtype)
    if isinstance(data, numpy.ndarray) and (device is None or _backend.as_device(device).type == "cpu") and (
            dtype is None or _dtype.as_dtype(dtype).numpy == data.dtype):
        return _wrap_numpy(data)
    return _copied(data, dtype, device, False)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=None):
    """``obj`` as a tensor, sharing memory when possible (``copy=False`` demands it, ``copy=True`` forbids it).
    A storage's or a Python buffer's (bytes, bytearray, memoryview, array) bytes are read as elements of ``dtype``
    (for an untyped storage int64 by default, for a buffer the default float dtype), as in PyTorch. A tensor's
    ``requires_grad`` is kept unless given (its copies then tracked by autograd), as in PyTorch 2.13."""
    if dtype is not None and not isinstance(dtype, _dtype.dtype):
        _dtype.dtype_arg(dtype, "asarray")
    if not isinstance(obj, (Tensor, numpy.ndarray, numpy.generic)):
        shared = _from_storage(obj, dtype, copy)
        if shared is None and _is_buffer(obj):
            shared = _make(_buffer_array(obj, dtype if dtype is not None else _dtype.get_default_dtype(),
                                         stacklevel=3))
        if shared is not None:
            return asarray(shared, device=device, copy=copy, requires_grad=requires_grad)
    if isinstance(obj, numpy.generic):   # read as the 0-d array it gives (a uint64 one too, unlike tensor's store)
        if copy is False:
            raise RuntimeError("can't alias NumPy scalars. Either remove copy=False or transform it in a ndarray. ")
        obj = numpy.asarray(obj)
    result = _as_tensor(obj, dtype, device)
    source = obj._data if isinstance(obj, Tensor) else obj
    shares = result._data is source or isinstance(obj, (Tensor, numpy.ndarray)) and _on_host(result._data) and \
        _on_host(source) and numpy.shares_memory(result._data, source)
    if copy is False and not shares:
        _refuse_alias(obj, result)
    if isinstance(obj, Tensor) and requires_grad is None:
        requires_grad = obj.requires_grad
        if requires_grad:
            warn_once("asarray requires_grad", "torch.asarray: unspecified requires_grad now defaults to "
                      "obj.requires_grad instead of False. Pass requires_grad=False explicitly to get the old "
                      "behavior and silence this warning.")
    if requires_grad and not (result.dtype.is_floating_point or result.dtype.is_complex):
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
    if copy and shares:
        result = result.clone()
    if isinstance(obj, Tensor) and requires_grad and obj.requires_grad:
        return result   # the tensor itself, or its copy as autograd tracks it
    if result is not obj:
        result = result.detach()
    return result.requires_grad_(bool(requires_grad))   # (PyTorch sets the flag of an aliased tensor in place)


def _refuse_alias(obj, result):
    """PyTorch's ValueError for ``asarray(obj, copy=False)`` where ``result`` had to be a copy: what differs."""
    if not isinstance(obj, (Tensor, numpy.ndarray)):
        raise ValueError("can't alias arbitrary sequence into a tensor.")   # noqa: TRY004 (PyTorch's type)
    device = obj.device if isinstance(obj, Tensor) else _backend.CPU
    if result.device != device:
        raise ValueError(f"can't alias tensor from device '{device}' to '{result.device}'.")
    source = obj.dtype if isinstance(obj, Tensor) else _dtype.from_numpy(obj.dtype)
    if result.dtype != source:
        raise ValueError(f"can't alias tensor with dtype '{_dtype.scalar_type_name(source)}' into dtype "
                         f"'{_dtype.scalar_type_name(result.dtype)}'.")
    raise ValueError("can't alias tensor from the given object: it needs a copy (dtype or device change)")


def _on_host(array):
    """Whether ``array`` is in host memory (a NumPy array, not a meta tensor's)."""
    return isinstance(array, numpy.ndarray) and not isinstance(array, _backend.MetaArray)


def _from_storage(obj, dtype, copy):
    """A 1-D tensor over a storage's memory (its whole elements of ``dtype``), or None for other objects."""
    from ..storage import TypedStorage, UntypedStorage
    if not isinstance(obj, UntypedStorage):
        return None
    if copy is False:
        raise ValueError("can't alias arbitrary sequence into a tensor.")
    data = obj._data
    if isinstance(obj, TypedStorage):
        if dtype is not None and _dtype.as_dtype(dtype) is not obj.dtype:
            raise RuntimeError(f"Expected a Storage of type {_dtype.scalar_type_name(_dtype.as_dtype(dtype))} or an "
                               f"UntypedStorage, but got {_dtype.scalar_type_name(obj.dtype)}")
        return _make(data)
    dtype = _dtype.int64 if dtype is None else _dtype.as_dtype(dtype)
    itemsize = dtype.itemsize
    return _make(data[:len(data) // itemsize * itemsize].view(dtype.numpy))


def _is_buffer(obj):
    """Whether ``obj`` speaks Python's buffer protocol."""
    try:
        memoryview(obj)
    except TypeError:
        return False
    return True


_MISSING = object()


def frombuffer(buffer, *, dtype=_MISSING, count=-1, offset=0, requires_grad=False):
    """A 1-D tensor sharing memory with a Python buffer (bytes, bytearray, array, memoryview): ``count`` items of
    ``dtype`` from byte ``offset`` (all that fit when -1)."""
    if dtype is _MISSING:   # required, and named as PyTorch's parser names a missing argument
        raise TypeError('frombuffer() missing 1 required positional arguments: "dtype"')
    _dtype.dtype_arg(dtype, "frombuffer")
    return _make(_buffer_array(buffer, dtype, count, offset, stacklevel=3), requires_grad=requires_grad)


def from_file(filename, shared=None, size=0, *, dtype=None, layout=None, device=None, pin_memory=False,
              requires_grad=False):
    """A 1-D CPU tensor of ``size`` elements mapped from the file: with ``shared``, writes reach the file (grown to
    fit if shorter); otherwise the file must hold them and writes stay in the tensor."""
    dtype = _dtype.as_dtype(dtype if dtype is not None else _dtype.get_default_dtype())
    nbytes = size * dtype.numpy.itemsize
    try:
        file_size = os.path.getsize(filename)
    except OSError as error:
        mode = "read-write" if shared else "read-only"
        raise RuntimeError(f"unable to open file <{filename}> in {mode} mode: {error.strerror} ({error.errno})") \
            from None
    if file_size < nbytes:
        if not shared:
            raise RuntimeError(f"file <{filename}> size <{file_size}> is smaller than the required mapping size "
                               f"<{nbytes}>")
        os.truncate(filename, nbytes)
    if size == 0:
        array = numpy.empty(0, dtype.numpy)
    else:   # a plain array viewing the map (which it keeps open): ember's ops expect exact ndarrays
        array = numpy.memmap(filename, dtype.numpy, "r+" if shared else "c", shape=(size,)).view(numpy.ndarray)
    result = _make(array, requires_grad=requires_grad)
    return result if device is None else result.to(device)


def _buffer_array(buffer, dtype, count=-1, offset=0, stacklevel=2):
    """``frombuffer``'s array; a read-only buffer's warning names the frame ``stacklevel`` levels up."""
    dtype = _dtype.as_dtype(dtype)
    if not _is_buffer(buffer):
        raise ValueError("object does not implement Python buffer protocol.")
    length, itemsize = memoryview(buffer).nbytes, dtype.numpy.itemsize
    if length <= 0 or count == 0:
        raise ValueError(f"both buffer length ({length}) and count ({count}) must not be 0")
    if not 0 <= offset < length:
        raise ValueError(f"offset ({offset} bytes) must be non-negative and no greater than buffer length ({length} "
                         "bytes) minus 1")
    if count < 0:
        if (length - offset) % itemsize:
            raise ValueError(f"buffer length ({length - offset} bytes) after offset ({offset} bytes) must be a "
                             f"multiple of element size ({itemsize})")
        count = (length - offset) // itemsize
    elif offset + count * itemsize > length:
        raise ValueError(f"requested buffer length ({count} * {itemsize} bytes) after offset ({offset} bytes) must "
                         f"not be greater than actual buffer length ({length} bytes)")
    array = numpy.frombuffer(buffer, dtype=dtype.numpy, count=count, offset=offset)
    if not array.flags.writeable:
        warn("The given buffer is not writable, and PyTorch does not support non-writable tensors. This "
             "means you can write to the underlying (supposedly non-writable) buffer using the tensor. You "
             "may want to copy the buffer to protect its data or make it writable before converting it to "
             "a tensor.", UserWarning, stacklevel=stacklevel)
    return array



def from_numpy(ndarray):
    """A tensor sharing memory with the NumPy array: changes to one show in the other."""
    _from_data("from_numpy")
    return _wrap_numpy(ndarray)


_NOT_WRITABLE = ("The given NumPy array is not writable, and PyTorch does not support non-writable tensors. This means "
                 "writing to this tensor will result in undefined behavior. You may want to copy the array to protect "
                 "its data or make it writable before converting it to a tensor. This type of warning will be "
                 "suppressed for the rest of this program.")


def _wrap_numpy(ndarray):
    if not isinstance(ndarray, numpy.ndarray):
        raise TypeError(f"expected np.ndarray (got {_type_name(ndarray)})")
    _check_numpy(ndarray)
    if not ndarray.flags.writeable:
        warn_once("non-writable NumPy array", _NOT_WRITABLE)
    if _dtype.from_numpy(ndarray.dtype).numpy != ndarray.dtype:
        raise TypeError(f"can't convert np.ndarray of type numpy.{ndarray.dtype.type.__name__}. The only supported "
                        "types are: float64, float32, float16, complex64, complex128, int64, int32, int16, int8, "
                        "uint64, uint32, uint16, uint8, and bool.")
    return _make(ndarray)


class _Capsule:
    """Presents a bare DLPack capsule (the legacy protocol) as an object with ``__dlpack__``."""

    def __init__(self, capsule):
        self._capsule = capsule

    def __dlpack__(self, stream=None, **kwargs):
        return self._capsule

    def __dlpack_device__(self):
        return (1, 0)


def from_dlpack(ext_tensor):
    """A tensor sharing memory with any object that speaks DLPack (a torch or CuPy tensor, a NumPy array, ...)."""
    if not hasattr(ext_tensor, "__dlpack__"):
        ext_tensor = _Capsule(ext_tensor)
    if ext_tensor.__dlpack_device__()[0] != 1:  # 1 is kDLCPU; anything else is a GPU array for CuPy
        return _make(_backend._load_cupy().from_dlpack(ext_tensor))
    array = numpy.from_dlpack(ext_tensor)
    if isinstance(ext_tensor, _Capsule) and not array.flags.writeable:
        array = numpy.asarray(_Writable(array))   # a legacy capsule has no read-only flag: PyTorch writes through
    return _make(array)


class _Writable:
    """A writable view's source for an array NumPy marked read-only (it keeps the array, so its memory, alive)."""

    def __init__(self, array):
        self._array = array
        interface = dict(array.__array_interface__)
        interface["data"] = (interface["data"][0], False)
        self.__array_interface__ = interface


def to_dlpack(tensor):
    """A DLPack capsule sharing the tensor's memory (what ``from_dlpack`` elsewhere takes)."""
    return tensor._data.__dlpack__()


def _number(x):
    return x.item() if isinstance(x, Tensor) else x


# --- tensors by shape -----------------------------------------------------------------------------------------
def _dtype_arg(dtype):
    """``dtype`` checked as PyTorch's parser does (a dtype or a Python number type), on the factory's error path
    with the op's own message."""
    if isinstance(dtype, _dtype.dtype):
        return dtype
    try:
        return _dtype.dtype_arg(dtype)
    except TypeError:
        argument_error()
        raise


def _factory(shape, fill, dtype, device, requires_grad, order=None, like_strides=None):
    """A new tensor of ``shape`` filled with ``fill`` (None: uninitialised), its axes laid out in memory in ``order``
    (outermost first; None: row-major), with exactly ``like_strides`` (in elements) when given."""
    d = _dtype_arg(dtype) if dtype is not None else _dtype.get_default_dtype()
    for s in shape:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(shape)}")
    xp = _backend.xp_for(_backend.as_device(device))
    stored = shape if order is None else tuple(shape[axis] for axis in order)
    if fill is None and _runtime._settings["deterministic"]:
        fill = _runtime.uninitialized_fill(d.numpy)
    if fill is None:
        array = xp.empty(stored, d.numpy)
    elif type(fill) is int and fill == 0:   # (a float zero may be -0.0, whose sign the tensor keeps)
        array = xp.zeros(stored, d.numpy)
    else:
        try:
            with numpy.errstate(over="ignore", invalid="ignore"):
                array = xp.full(stored, fill, d.numpy)
        except (TypeError, ValueError):   # a fill value that is not a number
            argument_error()
            raise
    if order is not None:
        array = array.transpose(sorted(builtins.range(len(order)), key=order.__getitem__))
        if like_strides is not None:   # a size-1 dim's stride is free: PyTorch keeps the input's own
            array = _backend.xp_of(array).lib.stride_tricks.as_strided(
                array, shape, tuple(s * array.itemsize for s in like_strides))
    return _finish(array, requires_grad)


def _order_of(memory_format, ndim):
    """The memory order of a new tensor in ``memory_format``: the format's own, or None (row-major)."""
    if memory_format is preserve_format:
        raise RuntimeError("unsupported memory format Preserve")
    return None if memory_format is None else format_order(memory_format, ndim)


def _like_layout(input, memory_format):
    """(order, strides) for a ``*_like`` factory: a dense input's own strides under ``preserve_format`` (the
    default), else the format's order."""
    if memory_format is None or memory_format is preserve_format:
        order = _dense_order(input._data)
        return order, None if order is None else input.stride()
    return format_order(memory_format, input.ndim), None


def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """A tensor of zeros of the given shape."""
    if out is not None:
        return write_out(out, zeros(*size, dtype=out_dtype(out, dtype), device=device or out.device,
                                    requires_grad=requires_grad), "zeros", warn_resize=False)
    shape = shape_arg(size)
    if any(s < 0 for s in shape):
        raise RuntimeError("zeros: Dimension size must be non-negative.")   # PyTorch's own wording for zeros
    if layout is not None and layout.name != "strided":   # a sparse tensor without entries
        from ..sparse._coo import sparse_zeros
        return sparse_zeros(shape, layout, dtype, device, requires_grad)
    return _factory(shape, 0, dtype, device, requires_grad)


def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """A tensor of ones of the given shape."""
    if out is not None:
        return write_out(out, ones(*size, dtype=out_dtype(out, dtype), device=device or out.device,
                                   requires_grad=requires_grad), "ones", warn_resize=False)
    return _factory(shape_arg(size), 1, dtype, device, requires_grad)


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
          memory_format=None):
    """An uninitialised tensor of the given shape (laid out in ``memory_format``'s order when given)."""
    if out is not None:
        values = empty(*size, dtype=out_dtype(out, dtype), device=device or out.device, requires_grad=requires_grad,
                       memory_format=memory_format)
        return write_out(out, values, "empty", warn_resize=False)
    shape = shape_arg(size)
    if layout is not None and layout.name != "strided":   # a sparse tensor without entries
        from ..sparse._coo import sparse_zeros
        return sparse_zeros(shape, layout, dtype, device, requires_grad)
    return _factory(shape, None, dtype, device, requires_grad, _order_of(memory_format, len(shape)))


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """An uninitialised tensor with the given shape and strides (in elements)."""
    shape, stride = shape_arg((size,)), shape_arg((stride,))
    if len(shape) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    storage = 0 if 0 in shape else 1 + sum((n - 1) * s for n, s in zip(shape, stride))
    buffer = _factory((storage,), None, dtype, device, False)._data
    xp = _backend.xp_of(buffer)
    array = xp.lib.stride_tricks.as_strided(buffer, shape, tuple(s * buffer.itemsize for s in stride))
    return _finish(array, requires_grad)


def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None, requires_grad=False,
                   pin_memory=False):
    """An uninitialised tensor of shape ``size`` laid out in memory in the dim order ``physical_layout`` (outermost
    first): ``empty_permuted((N, C, H, W), (0, 2, 3, 1))`` is channels-last."""
    shape, order = shape_arg((size,)), tuple(physical_layout)
    if len(shape) != len(order):
        raise RuntimeError(f"Number of dimensions in size does not match the length of the physical_layout; i.e. "
                           f"len(size) = {len(shape)} is not equal to len(physical_layout) = {len(order)}")
    for index, dim in enumerate(order):
        if not 0 <= dim < len(order):
            raise RuntimeError(f"Dimension out of range (expected to be between 0 and {len(order) - 1}, but got {dim} "
                               f"at index {index}).  NB: negative dims not currently supported; file an issue if you "
                               f"want it.")
    if len(set(order)) != len(order):
        raise RuntimeError("Duplicate dim not allowed")
    stored = empty(tuple(shape[d] for d in order), dtype=dtype, device=device)
    inverse = sorted(builtins.range(len(order)), key=order.__getitem__)
    result = stored.permute(inverse)
    return result.requires_grad_() if requires_grad else result


def _fill_dtype(fill_value):
    """The dtype ``full`` gives a fill value: bool, int64, the default float or the default complex."""
    if isinstance(fill_value, bool):   # (PyTorch's parser reads a NumPy bool as a float)
        return _dtype.bool_
    if isinstance(fill_value, numpy.bool_):
        return _dtype.get_default_dtype()
    if isinstance(fill_value, numbers.Integral):
        return _dtype.int64
    if isinstance(fill_value, numbers.Real):
        return _dtype.get_default_dtype()
    if isinstance(fill_value, numbers.Complex):
        return _dtype.default_complex()
    argument_error()   # PyTorch's error names the argument's position where it was passed by position
    raise TypeError(f"full(): argument 'fill_value' must be Number, not {type(fill_value).__name__}")


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """A tensor of the given shape filled with ``fill_value``; dtype follows the fill value as in PyTorch."""
    if out is not None:
        return write_out(out, full(size, fill_value, dtype=out_dtype(out, dtype), device=device or out.device,
                                   requires_grad=requires_grad), "full", warn_resize=False)
    if type(size) is int:
        argument_error()   # PyTorch's parser takes a size only as a sequence here (full(3, 1.0) is refused)
    if isinstance(fill_value, Tensor) and fill_value.ndim:
        argument_error()   # a Number: a 0-d tensor, not one with dims
    fill_value = _number(fill_value)
    if dtype is None:
        dtype = _fill_dtype(fill_value)
    else:
        fill_value = real_scalar(fill_value, _dtype.as_dtype(dtype))
    return _factory(shape_arg((size,)), fill_value, dtype, device, requires_grad)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A 0-d tensor holding ``s`` (default dtype unless given)."""
    return full((), s, dtype=dtype or _dtype.get_default_dtype(), device=device, requires_grad=requires_grad)


def _like(input, dtype, device):
    return (input.dtype if dtype is None else dtype), (input.device if device is None else device)


def _new_like(input, fill, dtype, device, requires_grad, memory_format):
    """A new tensor shaped (and by default typed, placed and laid out) like ``input``, filled with ``fill``."""
    try:
        shape = input.shape
    except AttributeError:   # not a tensor
        argument_error()
        raise
    return _factory(shape, fill, *_like(input, dtype, device), requires_grad, *_like_layout(input, memory_format))


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
               memory_format=None):
    """Zeros with the shape (and by default dtype and device) of ``input``."""
    return _new_like(input, 0, dtype, device, requires_grad, memory_format)


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
              memory_format=None):
    """Ones with the shape (and by default dtype and device) of ``input``."""
    return _new_like(input, 1, dtype, device, requires_grad, memory_format)


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
               memory_format=None):
    """An uninitialised tensor with the shape (and by default dtype and device) of ``input``."""
    return _new_like(input, None, dtype, device, requires_grad, memory_format)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
              memory_format=None):
    """``fill_value`` everywhere, with the shape (and by default dtype and device) of ``input``."""
    if isinstance(fill_value, Tensor) and fill_value.ndim:
        argument_error()   # a Number: a 0-d tensor, not one with dims
    fill_value, target = _number(fill_value), _dtype_arg(dtype) if dtype is not None else getattr(input, "dtype", None)
    return _new_like(input, fill_value if target is None else real_scalar(fill_value, target), dtype, device,
                     requires_grad, memory_format)


def _new_factory(fill, name, doc):
    def method(self, *size, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
        return _factory(shape_arg(size), fill, dtype or self.dtype, device or self.device, requires_grad)
    method.__name__, method.__doc__, method.__qualname__ = name, doc, f"Tensor.{name}"
    setattr(Tensor, name, method)


_new_factory(0, "new_zeros", "Zeros of the given shape with this tensor's dtype and device.")
_new_factory(1, "new_ones", "Ones of the given shape with this tensor's dtype and device.")
_new_factory(None, "new_empty", "An uninitialised tensor of the given shape with this tensor's dtype and device.")


@tensor_method
def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
    """``fill_value`` everywhere, in the given shape, with this tensor's dtype and device."""
    if type(size) is int:
        argument_error()   # as full's
    if isinstance(fill_value, Tensor) and fill_value.ndim:
        argument_error()
    fill_value = real_scalar(_number(fill_value), _dtype_arg(dtype) if dtype is not None else self.dtype)
    return _factory(shape_arg((size,)), fill_value, dtype or self.dtype, device or self.device,
                    requires_grad)


@tensor_method
def new_empty_strided(self, size, stride, *, dtype=None, device=None, requires_grad=False, layout=None,
                      pin_memory=False):
    """An uninitialised tensor with the given shape and strides, with this tensor's dtype and device."""
    return empty_strided(size, stride, dtype=dtype or self.dtype, device=device or self.device,
                         requires_grad=requires_grad)


@tensor_method
def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
    """A copy of ``data`` with this tensor's dtype and device unless given (a tensor with PyTorch's warning)."""
    if isinstance(data, Tensor):
        warn(_COPY_CONSTRUCT.format("tensor.new_tensor"), stacklevel=2)
    if dtype is not None and not isinstance(dtype, _dtype.dtype):
        _dtype.dtype_arg(dtype, "new_tensor")
    return _copied(data, dtype or self.dtype, device or self.device, requires_grad)


def _int_args(*values):
    """Integer arguments (None skipped) as PyTorch's parser takes them, with the op's TypeError otherwise."""
    try:
        for value in values:
            if isinstance(value, bool):
                raise TypeError(f"expected an int, got {value!r}")
            if value is not None:
                operator.index(value)
    except TypeError:
        argument_error()
        raise


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """An ``n`` by ``m`` matrix with ones on the diagonal."""
    if out is not None:
        return write_out(out, eye(n, m, dtype=out_dtype(out, dtype), device=device or out.device,
                                  requires_grad=requires_grad), "eye", warn_resize=False)
    if type(n) is not int or m is not None and type(m) is not int:
        _int_args(n, m)
    for name, value in (("n", n), ("m", m)):
        if value is not None and value < 0:
            raise RuntimeError(f"{name} must be greater or equal to 0, got {value}")
    dtype = _dtype_arg(dtype) if dtype is not None else _dtype.get_default_dtype()
    xp = _backend.xp_for(_backend.as_device(device))
    return _finish(xp.eye(n, n if m is None else m, dtype=dtype.numpy), requires_grad)


# --- complex numbers ------------------------------------------------------------------------------------------
class Complex(Primitive):
    @staticmethod
    def forward(ctx, real, imag):
        ctx.real_dtype = real.dtype
        shape = ctx.xp.broadcast_shapes(real.shape, imag.shape)
        out = ctx.xp.empty(shape, ctx.xp.result_type(real.dtype, ctx.xp.complex64))
        out.real, out.imag = real, imag
        return out

    @staticmethod
    def backward(ctx, grad):
        real = _dtype.from_numpy(ctx.real_dtype)
        # The real part of grad goes to ``real``; the imaginary part, Re(-i * grad), goes to ``imag``.
        return (grad.real.to(real) if ctx.needs_input_grad[0] else None,
                (grad * -1j).real.to(real) if ctx.needs_input_grad[1] else None)


def _check_parts(first, second):
    """PyTorch's errors for the two real operands of complex and polar: one floating dtype."""
    if not (first.dtype.is_floating_point and second.dtype.is_floating_point):
        raise RuntimeError(f"Expected both inputs to be Half, Float or Double tensors but got "
                           f"{_dtype.scalar_type_name(first.dtype)} and {_dtype.scalar_type_name(second.dtype)}")
    if first.dtype is not second.dtype:
        raise RuntimeError(f"Expected object of scalar type {_dtype.scalar_type_name(first.dtype)} but got scalar "
                           f"type {_dtype.scalar_type_name(second.dtype)} for second argument")


def complex(real, imag, *, out=None):
    """A complex tensor from real and imaginary parts of the same floating dtype."""
    _check_parts(real, imag)
    return Complex.apply(real, imag)


@composite("polar", trace_inside=True)
def polar(abs, angle, *, out=None):
    """A complex tensor from magnitudes and angles: ``abs * (cos(angle) + i sin(angle))``."""
    _check_parts(abs, angle)
    return complex(abs * angle.cos(), abs * angle.sin())


# --- legacy constructors --------------------------------------------------------------------------------------
def _legacy_array(args, dtype, device):
    """The array behind ``Tensor(...)`` and ``FloatTensor(...)``: sizes to allocate (zeroed), or data to copy."""
    if not args:
        return _backend.xp_for(device).empty((0,), dtype.numpy)
    if all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in args) or (
            len(args) == 1 and isinstance(args[0], Size)):
        shape = shape_arg(args)
        for s in shape:
            if s < 0:
                raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(shape)}")
        return _backend.xp_for(device).zeros(shape, dtype.numpy)
    if len(args) != 1:
        raise TypeError(f"new(): invalid data type '{type(args[0]).__name__}'")
    data = args[0]
    if data is None or isinstance(data, (numbers.Number, numpy.generic)):
        raise TypeError(f"new(): data must be a sequence (got {_type_name(data)})")
    if isinstance(data, Tensor):
        if data.dtype is not dtype and dtype is not _dtype.get_default_dtype():
            raise TypeError(f"expected {_legacy_options(dtype)} (got {_legacy_options(data.dtype)})")
        return data._data
    return _backend.move(_to_numpy(data, dtype, infer=False), device)


def _legacy_options(dtype):
    """A legacy constructor's options as PyTorch's C++ TensorOptions prints them in its dtype mismatch error."""
    return (f"TensorOptions(dtype={cpp_type_name(dtype)}, device=cpu, layout=Strided, requires_grad=false (default), "
            "pinned_memory=false (default), memory_format=(nullopt))")


def _tensor_init(self, *args, **kwargs):
    """PyTorch's legacy constructor: ``Tensor([1, 2])`` copies data as float32; ``Tensor(2, 3)`` allocates that
    shape. A tensor already made (a subclass whose ``__new__`` returns ``data.as_subclass(cls)`` or
    ``_make_subclass``, then gets ``__init__`` with its own arguments, or ``super().__init__()``) is left as it is:
    PyTorch builds tensors in ``__new__`` and its ``__init__`` does nothing."""
    if not hasattr(self, "_data"):
        _legacy_init(self, *args, **kwargs)


def _legacy_init(self, *args, device=None):
    _init(self, _legacy_array(args, _dtype.get_default_dtype(), _backend.as_device(device)))


Tensor.__init__ = _tensor_init


class _LegacyTensorType(type):
    """Metaclass of ``FloatTensor`` and friends: calling one builds a tensor of its dtype, and ``isinstance``
    asks whether a tensor has that dtype."""

    def __call__(cls, *args, device=None):
        array = _legacy_array(args, cls.dtype, _backend.as_device(device))
        if array.dtype != cls.dtype.numpy:
            got = _dtype.from_numpy(array.dtype)
            raise TypeError(f"expected {_legacy_options(cls.dtype)} (got {_legacy_options(got)})")
        return _make(array)

    def __instancecheck__(cls, instance):
        return isinstance(instance, Tensor) and instance.dtype is cls.dtype and instance.device.type == "cpu"

    def __repr__(cls):
        return f"<class '{_alias.package()}.{cls.__name__}'>"


def _legacy_type(d):
    name = f"{_dtype.scalar_type_name(d)}Tensor"
    doc = f"Legacy constructor: ``{name}(data)`` copies data as {d}; ``{name}(*sizes)`` allocates zeros."
    return _LegacyTensorType(name, (), {"dtype": d, "__doc__": doc, "__module__": "ember"})


FloatTensor = _legacy_type(_dtype.float32)
DoubleTensor = _legacy_type(_dtype.float64)
HalfTensor = _legacy_type(_dtype.float16)
BFloat16Tensor = _legacy_type(_dtype.bfloat16)
LongTensor = _legacy_type(_dtype.int64)
IntTensor = _legacy_type(_dtype.int32)
ShortTensor = _legacy_type(_dtype.int16)
CharTensor = _legacy_type(_dtype.int8)
ByteTensor = _legacy_type(_dtype.uint8)
BoolTensor = _legacy_type(_dtype.bool_)
ComplexFloatTensor = _legacy_type(_dtype.complex64)
ComplexDoubleTensor = _legacy_type(_dtype.complex128)
_LEGACY_BY_NAME = {t.__name__: t for t in (FloatTensor, DoubleTensor, HalfTensor, BFloat16Tensor, LongTensor,
                                            IntTensor, ShortTensor, CharTensor, ByteTensor, BoolTensor,
                                            ComplexFloatTensor, ComplexDoubleTensor)}


def set_default_tensor_type(t):
    """Deprecated (as in PyTorch): makes a floating legacy type's dtype (``FloatTensor``, ``'torch.DoubleTensor'``)
    the default; ``set_default_dtype`` and ``set_default_device`` are the current forms."""
    import warnings
    warnings.warn("torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
                  "torch.set_default_dtype() and torch.set_default_device() as alternatives.", UserWarning,
                  stacklevel=2)
    cuda = False
    if isinstance(t, str):
        name, cuda = t, ".cuda." in t
        t = _LEGACY_BY_NAME.get(name.rpartition(".")[2])
        if t is None:
            raise TypeError(f"invalid type: '{name}'")
    if not isinstance(t, _LegacyTensorType):
        raise TypeError(f"invalid type: '{t}'")
    if not t.dtype.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    if cuda:
        from .. import _runtime
        _runtime.set_default_device("cuda")
    _dtype.set_default_dtype(t.dtype)


def as_tensor_arg(value, like=None, dtype=None):
    """A scalar, list or array argument as a tensor on ``like``'s device (a tensor passes through)."""
    if isinstance(value, Tensor):
        return value
    if dtype is None and like is not None and not isinstance(value, (list, tuple, numpy.ndarray)):
        dtype = _dtype.result_type(like, value)
    return tensor(value, dtype=dtype, device=like.device if like is not None else None)
