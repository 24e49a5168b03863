"""Changing a tensor's dtype or device, copying it, and cutting it from the graph; dtype queries."""
import builtins

import numpy

from .. import _alias, _backend, _dtype, _memory_format
from .._tensor import Tensor, _make
from ..autograd import _dual
from ..autograd.function import Primitive
from . import _buffers, _parallel
from ._inplace import discard_imaginary
from ._util import argument_error, format_order, name_node, tensor_method

__all__ = ["clone", "detach", "detach_", "is_tensor", "is_storage", "is_floating_point", "is_complex", "is_nonzero",
           "numel", "result_type", "can_cast", "promote_types", "get_default_dtype", "set_default_dtype"]


class Cast(Primitive):
    @staticmethod
    def forward(ctx, a, dtype):
        if a.dtype.kind == "c" and numpy.dtype(dtype).kind != "c":
            a = discard_imaginary(a)  # complex to real keeps the real part, as PyTorch does
        if dtype.name == "float8_e4m3fn" and a.dtype.kind in "fiu":
            a = ctx.xp.clip(a.astype(numpy.float32), -448, 448)   # PyTorch's cast saturates (ml_dtypes' gives NaN)
        with numpy.errstate(invalid="ignore", over="ignore"):  # NaN or out-of-range to int: PyTorch is silent too
            return _dtype.cast_array(a, dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad, None   # the engine casts the gradient back to the input's dtype


Cast._node_cls.__name__ = Cast._node_cls.__qualname__ = "ToCopyBackward0"   # PyTorch's name for a cast's node


class ToDevice(Primitive):
    meta_passthrough = True   # a meta tensor moved elsewhere raises PyTorch's "no data" error

    @staticmethod
    def forward(ctx, a, device):
        ctx.source = _backend.device_of(a)
        return _backend.move(a, device)

    @staticmethod
    def backward(ctx, grad):
        return grad.to(ctx.source), None


COPY_IN_PARTS = 1 << 14
"""Elements from which a non-contiguous clone (``contiguous()``, ``clone()``) copies through ``_parallel.assign``."""


class Clone(Primitive):
    @staticmethod
    def forward(ctx, a):
        if ctx.xp is numpy and a.ndim > 1 and a.size >= COPY_IN_PARTS and not a.flags.c_contiguous:
            # a transposed or permuted copy: in parts at once, each in L1-friendly chunks (``_parallel.assign``)
            return _parallel.assign(_buffers.empty(numpy, a.shape, a.dtype), a)
        return a.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


class ToLayout(Primitive):
    """A copy whose elements lie in memory in the axis ``order`` given (outermost first), as a memory format's."""

    @staticmethod
    def forward(ctx, a, order):
        inverse = tuple(sorted(range(len(order)), key=order.__getitem__))
        out = _buffers.empty(ctx.xp, tuple(a.shape[i] for i in order), a.dtype).transpose(inverse)
        return _parallel.assign(out, a)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


ToLayout._node_cls.__name__ = ToLayout._node_cls.__qualname__ = "CloneBackward0"   # clone / contiguous in a format


_NUMBER_TYPES = (float, int, bool, complex)


def _is_dtype(arg):
    return isinstance(arg, _dtype.dtype) or any(arg is t for t in _NUMBER_TYPES)


def _is_device(arg):
    return arg is None or isinstance(arg, (str, _backend.device)) or isinstance(arg, int) and not isinstance(arg, bool)


def _is_wrapped_number(arg):
    """A bool, float or complex (or a NumPy one), which PyTorch's parser takes as a tensor; an int is a device."""
    return isinstance(arg, (bool, float, complex, numpy.bool_, numpy.floating, numpy.complexfloating))


def _parse_to(args, kwargs):
    """(dtype, device, non_blocking, copy) of ``Tensor.to``'s arguments in PyTorch's three forms: (device, dtype,
    non_blocking, copy), (dtype, non_blocking, copy), (tensor, non_blocking, copy); the other keywords stay in
    ``kwargs`` (``memory_format``, checked, among them). Arguments no form takes raise PyTorch's TypeError."""
    given, rest, original = tuple(args), list(args), dict(kwargs)
    dtype, device = kwargs.pop("dtype", None), kwargs.pop("device", None)
    non_blocking, copy = kwargs.pop("non_blocking", False), kwargs.pop("copy", False)
    if rest and isinstance(rest[0], Tensor):
        other = rest.pop(0)
        dtype, device, fits = other.dtype, other.device, dtype is None and device is None
    elif rest and _is_dtype(rest[0]):
        dtype, fits = rest.pop(0), device is None
    elif rest and _is_wrapped_number(rest[0]):
        # PyTorch's parser makes a number the tensor of to(other, ...): a CPU scalar tensor of a Python number's
        # kind, float64 for a NumPy scalar
        number, fits, device = rest.pop(0), dtype is None and device is None, "cpu"
        kind = number.__class__   # (``type`` here is Tensor.type)
        dtype = _dtype.bool_ if kind is bool else _dtype.complex128 if kind is complex else _dtype.float64
    else:
        fits = not rest or device is None
        if rest:
            device = rest.pop(0)
        if rest and (rest[0] is None or _is_dtype(rest[0])) and dtype is None:
            dtype = rest.pop(0)
        fits = fits and _is_device(device) and (dtype is None or _is_dtype(dtype))
    flags = [non_blocking, copy]
    flags[:len(rest)] = rest
    memory_format = kwargs.get("memory_format")
    fits = fits and (memory_format is None or isinstance(memory_format, _memory_format.memory_format))
    if not fits or len(rest) > 2 or not all(isinstance(f, bool) for f in flags):
        from .. import _arg_parser   # (loaded on errors only)
        _arg_parser.raise_for("to", given, original, method=True)
        raise TypeError("to() received an invalid combination of arguments - got "
                        f"{_arg_parser._describe(given, original)}")
    if dtype is not None:
        try:   # a dtype or a Python number type, as PyTorch's parser takes it (not a name or a NumPy dtype)
            dtype = _dtype.dtype_arg(dtype)
        except TypeError:
            argument_error()
            raise
    return dtype, (None if device is None else _backend.as_device(device)), flags[0], flags[1]


@tensor_method
def to(self, *args, memory_format=None, **kwargs):
    """This tensor with another dtype and/or on another device; self when nothing changes (unless ``copy``)."""
    if memory_format is not None:
        kwargs["memory_format"] = memory_format
    dtype, device, non_blocking, copy = _parse_to(args, kwargs)
    memory_format = kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    result = self
    if device is not None and device.type != self.device.type or (
            device is not None and device.type == "cuda" and (device.index or 0) != (self.device.index or 0)):
        result = ToDevice.apply(result, device)
    if dtype is not None and dtype.numpy != result._data.dtype:
        result = Cast.apply(result, dtype.numpy)
    if copy and result is self:
        result = clone(self)
    if memory_format is not None and memory_format is not _memory_format.preserve_format:
        order = memory_format.order(result.ndim)
        if _memory_format.suggested(result._data) is not memory_format:   # restrided unless the strides suggest it
            result = ToLayout.apply(result, order) if order is not None else Clone.apply(result)
            name_node(result, "ToCopyBackward0")
    return result


@tensor_method
def type(self, dtype=None, non_blocking=False):
    """The type's name (``'ember.FloatTensor'``, ``'torch.cuda.FloatTensor'`` under the torch alias) with no
    argument; otherwise this tensor cast to ``dtype``."""
    if dtype is None:
        from .. import _alias
        return (f"{_alias.package()}{'.cuda' if self.device.type == 'cuda' else ''}."
                f"{_dtype.scalar_type_name(self.dtype)}Tensor")
    if isinstance(dtype, str):   # a legacy type's name: torch.FloatTensor, torch.cuda.FloatTensor
        module, _, name = dtype.rpartition(".")
        target = _LEGACY_TYPES.get(name) if module in ("torch", "torch.cuda", "ember", "ember.cuda") else None
        if target is None:
            raise ValueError(f"invalid type: {dtype!r}")
        dtype = target
    elif isinstance(dtype, builtins.type):   # a legacy type (torch.DoubleTensor); Tensor itself keeps the tensor
        legacy = getattr(dtype, "dtype", None)
        if not isinstance(legacy, _dtype.dtype):
            if issubclass(dtype, Tensor):
                return self
            raise ValueError(f"invalid type: '{dtype.__name__}'")
        dtype = legacy
    elif not isinstance(dtype, _dtype.dtype):
        raise TypeError("dtype must be a type, str, or dtype object")
    return to(self, dtype)


@tensor_method
def type_as(self, other):
    """This tensor cast to ``other``'s dtype."""
    return to(self, other.dtype)


def _converter(dtype, name):
    def method(self, *, memory_format=None):
        if memory_format is None:
            return to(self, dtype)
        if not isinstance(memory_format, _memory_format.memory_format):
            argument_error()
        return to(self, dtype, memory_format=memory_format)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"This tensor as {dtype} (self when it already is)."
    setattr(Tensor, name, method)


for _name, _target in (("float", _dtype.float32), ("double", _dtype.float64), ("half", _dtype.float16),
                       ("bfloat16", _dtype.bfloat16), ("long", _dtype.int64), ("int", _dtype.int32),
                       ("short", _dtype.int16), ("char", _dtype.int8), ("byte", _dtype.uint8), ("bool", _dtype.bool_),
                       ("cfloat", _dtype.complex64), ("cdouble", _dtype.complex128)):
    _converter(_target, _name)

_LEGACY_TYPES = {f"{_dtype.scalar_type_name(d)}Tensor": d for d in _dtype.ALL}


@tensor_method
def cpu(self, *, memory_format=None):
    """This tensor on the CPU."""
    return to(self, _backend.CPU)


@tensor_method
def cuda(self, device=None, non_blocking=False, memory_format=None):
    """This tensor on a CUDA device (the current one by default)."""
    return to(self, _backend.device("cuda", device if isinstance(device, int) else 0) if not isinstance(
        device, (str, _backend.device)) else device)


def _dense_order(array):
    """The axes of ``array`` from the largest stride to the smallest where its elements fill their memory without gaps
    or overlaps and it is not row-major (PyTorch's non-overlapping and dense tensor, permuted), else None."""
    if array.ndim < 2 or array.flags.c_contiguous:
        return None
    expected = array.itemsize
    for stride, size in sorted((stride, size) for stride, size in zip(array.strides, array.shape) if size != 1):
        if stride != expected:
            return None
        expected *= size
    return tuple(sorted(range(array.ndim), key=lambda axis: -array.strides[axis]))


@tensor_method
def clone(input, *, memory_format=None):
    """A copy of the tensor that stays in the graph (gradients flow back to ``input``): laid out as ``input`` where
    its elements fill their memory densely (a transposed or permuted tensor stays so, as PyTorch's
    ``preserve_format``), else row-major, or in ``memory_format``'s order (``contiguous_format``,
    ``channels_last``, ``channels_last_3d``)."""
    from .._memory_format import preserve_format
    if memory_format is None or memory_format is preserve_format:
        order = _dense_order(input._data)
    else:
        order = format_order(memory_format, input.ndim)
    return Clone.apply(input) if order is None else ToLayout.apply(input, order)


@tensor_method
def detach(input):
    """The same memory as a tensor outside the graph (sharing the version counter, as in PyTorch)."""
    dispatches = input.__class__._dispatches   # (`type` is Tensor.type here)
    if dispatches:   # a __torch_dispatch__ subclass: its handler detaches it (aten.detach)
        return dispatches.aten("detach", input)
    out = _make(input._data)
    out._version_counter = input._version_counter
    return out


_detach_method = detach


def detach(input):  # noqa: F811 (torch.detach; Tensor.detach is the one above)
    """``input.detach()``: through a subclass's own ``detach`` where it overrides it (vmap's batched tensors), which
    may call ``Tensor.detach`` itself (the function form must not be that method, or it would call back here)."""
    own = input.__class__.detach   # (`type` is Tensor.type here)
    return _detach_method(input) if own is _detach_method else own(input)


@tensor_method
def detach_(self):
    """Cuts this tensor from the graph in place, making it a leaf (and dropping its forward-mode tangent)."""
    if self._base is not None:   # PyTorch's: a view's graph is its base's
        raise RuntimeError("Can't detach views in-place. Use detach() instead. If you are using "
                           "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set as True, "
                           "gradients are views of DDP buckets, and hence detach_() cannot be called on these "
                           "gradients. To fix this error, please refer to the Optimizer.zero_grad() function in "
                           f"{_alias.package()}/optim/optimizer.py as the solution.")
    self.grad_fn = None
    self.requires_grad = False
    if _dual.tangents and _dual.tangent_of(self) is not None:
        _dual.set_tangent(self, None)
    return self


@tensor_method
def contiguous(self, *, memory_format=None):
    """Self when already contiguous (row-major, or in ``memory_format``'s order), otherwise such a copy (in the
    graph)."""
    if memory_format is not None:
        from .._memory_format import is_laid_out, preserve_format
        if memory_format is preserve_format:
            if self._data.flags.c_contiguous:
                return self
            raise RuntimeError("preserve memory format is unsupported by the contiguous operator")
        order = format_order(memory_format, self.ndim)
        if order is not None:
            return self if is_laid_out(self._data, memory_format) else ToLayout.apply(self, order)
    if self._data.flags.c_contiguous:
        return self
    return Clone.apply(self)


@tensor_method
def pin_memory(self, device=None):
    """A copy in page-locked memory for fast GPU transfers: needs a GPU, as in PyTorch (CuPy's pinned memory)."""
    from .. import cuda
    if not cuda.is_available():
        raise RuntimeError("Cannot access accelerator device when none is available.")
    if self.device.type != "cpu":
        raise RuntimeError(f"cannot pin '{self.type()}' only dense CPU tensors can be pinned")
    cupy = _backend._load_cupy()
    pinned = cupy.cuda.alloc_pinned_memory(self._data.nbytes)
    array = numpy.frombuffer(pinned, self._data.dtype, self._data.size).reshape(self._data.shape)
    array[...] = self._data
    return _make(array)


@tensor_method
def get_device(self):
    """The CUDA device index of a GPU tensor; -1 for a CPU tensor."""
    return self.device.index or 0 if self.device.type == "cuda" else -1


Tensor.is_xpu = property(lambda self: False, doc="False: ember has no Intel XPU backend.")


@tensor_method
def is_pinned(self, device=None):
    """True for a CPU tensor in page-locked memory (from ``pin_memory``); always False without a GPU."""
    from .. import cuda
    if self.device.type != "cpu" or not cuda.is_available() or not self._data.size:
        return False
    runtime = _backend._load_cupy().cuda.runtime
    return runtime.pointerGetAttributes(self._data.ctypes.data).type == runtime.memoryTypeHost


def is_tensor(obj):
    """True when ``obj`` is an ember Tensor."""
    return isinstance(obj, Tensor)


def is_storage(obj):
    """True for storages (``Tensor.untyped_storage()``, ``Tensor.storage()``, what ``load`` hands ``map_location``)."""
    from ..storage import UntypedStorage
    return isinstance(obj, UntypedStorage)


@tensor_method
def is_floating_point(input):
    """True for tensors of a floating dtype."""
    return input.dtype.is_floating_point


@tensor_method
def is_complex(input):
    """True for tensors of a complex dtype."""
    return input.dtype.is_complex


@tensor_method
def is_nonzero(input):
    """The truth of a one-element tensor; RuntimeError for any other size."""
    if input.numel() == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if input.numel() > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input._data.reshape(()))


def numel(input):
    """The number of elements of ``input``."""
    return input.numel()


def result_type(tensor, other):
    """The dtype an arithmetic op on ``tensor`` and ``other`` (tensors or Python numbers) produces."""
    return _dtype.result_type(tensor, other)


def can_cast(from_, to):
    """Whether PyTorch's casting rules allow writing a ``from_`` result into a ``to`` tensor (no category drop)."""
    return _dtype.can_cast(from_, to)


def promote_types(type1, type2):
    """The smallest dtype both ``type1`` and ``type2`` convert to without losing their category."""
    return _dtype.promote_types(type1, type2)


get_default_dtype = _dtype.get_default_dtype
set_default_dtype = _dtype.set_default_dtype


def __array_wrap__(self, array):
    """What a NumPy function given a tensor returns (``numpy.transpose(t, (1, 2, 0))``, ``numpy.exp(t)``): its result
    as a tensor sharing the array's memory, bool as uint8, as PyTorch's. Like PyTorch's it takes no ``context`` or
    ``return_scalar``, so NumPy 2 warns as it does for torch."""
    if array.dtype == bool:
        array = array.astype("uint8")
    return _make(array)


Tensor.__array_wrap__ = __array_wrap__
Tensor.__array_priority__ = 1000   # NumPy defers binary operators to the tensor's, as for PyTorch's
