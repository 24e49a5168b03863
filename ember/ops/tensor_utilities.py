"""Small Tensor conveniences PyTorch programs use: the legacy ``Tensor.new``, ``sum_to_size``,
in-place ``cumsum_``/``cumprod_``, Python-callable ``apply_``/``map_``/``map2_``, ``hardshrink``/``prelu`` methods,
``as_subclass``, ``_make_subclass``, ``module_load``, the predicates ``is_same_size``, ``is_signed``, ``get_device``,
``is_conj``, ``is_inference``, ``typename``, the ``is_<backend>`` flags of tensor kinds ember does not have, and
``_assert_async``."""

import numpy

from .. import _backend, _dtype
from .._tensor import Tensor, _instance_dict, _make
from ..autograd.grad_mode import state
from . import activation
from . import dim_order as _dim_order  # noqa: F401 (installs Tensor.dim_order, const_data_ptr and mutable_data_ptr)
from ._inplace import assign_inplace
from ._util import name_node, shape_arg, tensor_method
from .creation import _legacy_array, _legacy_init, frombuffer  # noqa: F401 (frombuffer: public here as in PyTorch's docs)
from .cumulative import cumprod, cumsum
from .linalg._common import _CPP_NAMES
from .reduction import sum
from .shape import view_as as _view_as

__all__ = ["addmv_", "frombuffer", "is_same_size", "is_signed", "get_device", "is_conj", "is_inference", "typename",
           "_assert_async"]


@tensor_method
def new(self, *args, device=None):
    """Legacy constructor of self's dtype: ``x.new()`` is empty, ``x.new(2, 3)`` / ``x.new(Size)`` allocate
    (uninitialized) that shape, ``x.new(data)`` copies a sequence, ``x.new(t)`` returns a tensor of the same dtype."""
    device = _backend.as_device(device) if device is not None else self.device
    if len(args) == 1 and not isinstance(args[0], (Tensor, list, tuple)) and not _is_integer(args[0]):
        raise TypeError(f"new(): data must be a sequence (got {type(args[0]).__name__})")
    if len(args) == 1 and isinstance(args[0], Tensor):
        other = args[0]
        if other.dtype is not self.dtype or other.device != device:
            raise TypeError(f"expected {self.dtype} on {device} (got {other.dtype} on {other.device})")
        return _make(other._data)
    array = _legacy_array(args, self.dtype, device)
    if array.dtype != self.dtype.numpy:
        array = array.astype(self.dtype.numpy)
    return _make(array)


def _is_integer(value):
    return isinstance(value, int) and not isinstance(value, bool) or hasattr(value, "__index__") and not isinstance(
        value, (bool, float))


@tensor_method
def sum_to_size(self, *size):
    """Sums self down to ``size``, which self's shape must broadcast from (the reverse of ``expand``)."""
    if not size:
        raise TypeError('sum_to_size() missing 1 required positional arguments: "size"')
    size = shape_arg(size)
    shape = tuple(self.shape)
    lead = len(shape) - len(size)
    if lead < 0 or any(s != 1 and s != n for s, n in zip(size, shape[lead:])):
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(shape)}}}.")
    if not size:   # PyTorch's sum_to: a full sum, so integers widen to int64 as in sum()
        return sum(self)
    result = self
    if lead:
        result = sum(result, tuple(range(lead)))
    keep = tuple(d for d, (s, n) in enumerate(zip(size, shape[lead:])) if s == 1 and n != 1)
    if keep:
        result = sum(result, keep, keepdim=True)
    return result if result is not self else self.view(shape)


def _inplace_cumulative(function):
    def method(self, dim, *, dtype=None):
        if dtype is not None and _dtype.as_dtype(dtype) is not self.dtype:
            theirs = str(_dtype.as_dtype(dtype)).split(".")[-1]
            ours = str(self.dtype).split(".")[-1]
            raise RuntimeError(f"Bad in-place call: input tensor dtype {_CPP_NAMES.get(ours, ours)} and output "
                               f"tensor dtype {_CPP_NAMES.get(theirs, theirs)} should match")
        return assign_inplace(self, function(self, dim, dtype=dtype))
    method.__name__ = function.__name__ + "_"
    method.__doc__ = f"In-place version of :func:`{function.__name__}` (the result keeps self's dtype)."
    setattr(Tensor, method.__name__, method)


_inplace_cumulative(cumsum)
_inplace_cumulative(cumprod)


Tensor.hardshrink = activation.hardshrink   # the functional ops themselves, so autocast and traces see them
Tensor.prelu = activation.prelu


def _assert_async(input, assert_msg=None):
    """Raises ``RuntimeError`` unless the one-element ``input`` is nonzero (``torch._assert_async``, which a CUDA
    kernel checks later; on the CPU, as here, at once), with ``assert_msg`` when given."""
    count = input.numel()
    if count != 1:
        raise RuntimeError(f"Boolean value of Tensor with {'no values' if count == 0 else 'more than one value'} is "
                           "ambiguous")
    if input.item() == 0:
        raise RuntimeError(assert_msg or "Expected Tensor with single nonzero value, but got zero")


@tensor_method
def is_same_size(self, other):
    """True when both tensors have the same shape."""
    if not isinstance(other, Tensor):
        raise TypeError(f"is_same_size(): argument 'other' (position 1) must be Tensor, not {type(other).__name__}")
    return tuple(self.shape) == tuple(other.shape)


def _python_callable_check(self, name):
    if self.requires_grad and state.enabled:
        raise RuntimeError(f"Can't call {name}() on Variable that requires grad. Use var.detach().{name}() instead.")
    if self.device.type != "cpu":
        raise TypeError(f"{name}_ is only implemented on CPU tensors")


@tensor_method
def apply_(self, callable):
    """Replaces each element ``x`` by ``callable(x)`` (a Python function, element by element; CPU tensors only)."""
    _python_callable_check(self, "apply_")
    function = numpy.frompyfunc(callable, 1, 1)
    return assign_inplace(self, _make(function(self._data).astype(self._data.dtype)))


@tensor_method
def map_(self, tensor, callable):
    """Replaces each element ``x`` by ``callable(x, y)`` with ``y`` from ``tensor`` broadcast to self's shape."""
    _python_callable_check(self, "map_")
    other = numpy.broadcast_to(tensor._data, self._data.shape)
    function = numpy.frompyfunc(callable, 2, 1)
    return assign_inplace(self, _make(function(self._data, other).astype(self._data.dtype)))


@tensor_method
def map2_(self, x, y, callable):
    """Replaces each element ``a`` by ``callable(a, b, c)`` with ``b`` and ``c`` from ``x`` and ``y`` broadcast to
    self's shape."""
    _python_callable_check(self, "map2_")
    b, c = (numpy.broadcast_to(t._data, self._data.shape) for t in (x, y))
    function = numpy.frompyfunc(callable, 3, 1)
    return assign_inplace(self, _make(function(self._data, b, c).astype(self._data.dtype)))


@tensor_method
def as_subclass(self, cls):
    """This tensor's data as an instance of ``cls`` (a Tensor subclass), sharing memory; gradients flow back
    through it (``AliasBackward0``)."""
    if not (isinstance(cls, type) and issubclass(cls, Tensor)):
        raise TypeError("Creating a Tensor subclass from a class that does not inherit from Tensor is not possible. "
                        "Make sure your class inherits from Tensor.")
    result = name_node(_view_as(self, self), "AliasBackward0")   # the op itself: no subclass's handler sees it
    try:
        result.__class__ = cls
    except TypeError:   # a subclass with slots of its own: a new object of it takes the alias's data and state
        moved = object.__new__(cls)
        moved._data, moved._version_counter = result._data, result._version_counter
        _instance_dict.__get__(moved).update(_instance_dict.__get__(result))
        result = moved
    if cls._dispatches:   # a __torch_dispatch__ subclass: its instances' ops go to its handler
        cls._dispatches.track(result)
    return result


def _tensor_new(cls, *args, **kwargs):
    """``Tensor.__new__``, where PyTorch builds a tensor: with one tensor, an alias of it as ``cls`` (a subclass's
    ``__new__`` calling ``super().__new__(cls, data)``: tensordict's MemoryMappedTensor), with other arguments the
    legacy constructor's tensor, with none an empty object that ``__init__`` or the caller fills."""
    if len(args) == 1 and not kwargs and isinstance(args[0], Tensor):
        return as_subclass(args[0], cls)
    self = object.__new__(cls)
    if args or kwargs:
        _legacy_init(self, *args, **kwargs)
    return self


Tensor.__new__ = staticmethod(_tensor_new)


def _make_subclass(cls, data, require_grad=False, dispatch_sizes_strides_policy=None, dispatch_device=False,
                   dispatch_layout=False, _extra_dispatch_keys=None, storage_size=None):
    """``Tensor._make_subclass(cls, data, require_grad)``: ``data`` detached (same memory and version counter) as
    an instance of ``cls``, a leaf requiring grad as asked; subclasses' ``__new__`` build themselves with it."""
    if not (isinstance(cls, type) and issubclass(cls, Tensor)):
        raise TypeError("Creating a Tensor subclass from a class that does not inherit from Tensor is not possible. "
                        "Make sure your class inherits from Tensor.")
    result = data.detach()
    result.__class__ = cls
    if require_grad:
        result.requires_grad_(True)
    if cls._dispatches:   # a __torch_dispatch__ subclass: its instances' ops go to its handler
        cls._dispatches.track(result)
    return result


Tensor._make_subclass = staticmethod(_make_subclass)


@tensor_method
def module_load(self, other, assign=False):
    """What ``load_state_dict`` swaps in for this parameter or buffer given the state dict's ``other``: ``other``
    itself (detached) with ``assign``, else ``other`` copied into self (detached)."""
    return other.detach() if assign else self.copy_(other).detach()


for _kind in ("nested", "mkldnn", "xla", "ipu", "maia", "mps", "mtia", "vulkan"):
    setattr(Tensor, f"is_{_kind}", property(lambda self: False, doc=f"False: ember has no {_kind} tensors."))


def is_signed(input):
    """True for signed dtypes (everything but bool and the unsigned integers)."""
    return input.is_signed()


def get_device(input):
    """The CUDA device index of a GPU tensor; -1 for a CPU tensor."""
    return input.get_device()


def is_conj(input):
    """Whether ``input``'s conjugate bit is set: always False, as ember conjugates eagerly."""
    return input.is_conj()


def typename(obj):
    """The type name of ``obj``: ``x.type()`` for a tensor (``'torch.FloatTensor'``), else its dotted class path."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    qualname = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if qualname is None:
        module, qualname = type(obj).__module__ or "", type(obj).__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


Tensor._inference = False   # ember._tensor marks tensors made inside inference_mode()


@tensor_method
def is_inference(input):
    """True for tensors made inside ``inference_mode()`` and views of them (not views made there of other
    tensors)."""
    root = input._base if input._base is not None else input
    return root._inference


def addmv_(input, mat, vec, *, beta=1, alpha=1):
    """``torch.addmv_``: ``input.addmv_(mat, vec)``, beta * input + alpha * (mat @ vec) written into ``input``."""
    return input.addmv_(mat, vec, beta=beta, alpha=alpha)


@tensor_method
def dequantize(self):
    """A float tensor's ``dequantize()``: itself when float32, else a float32 copy (quantized tensors override it)."""
    return self if self.dtype is _dtype.float32 else self.to(_dtype.float32)


def _quantized_only(op):
    """A Tensor method that only quantized tensors have (they override it): PyTorch's error for other tensors."""
    def method(self, *args, **kwargs):
        raise NotImplementedError(f"Could not run '{op}' with arguments from the 'CPU' backend. This could be because "
                                  "the operator doesn't exist for this backend, or was omitted during the "
                                  "selective/custom build process (if using custom build).")
    method.__name__ = method.__qualname__ = op.split("::")[1]
    method.__doc__ = f"Quantized tensors only ({op})."
    return method


for _name in ("int_repr", "q_scale", "q_zero_point", "q_per_channel_scales", "q_per_channel_zero_points",
              "q_per_channel_axis", "qscheme"):
    setattr(Tensor, _name, _quantized_only(f"aten::{_name}"))
