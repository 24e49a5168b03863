"""How public functions reach sparse tensors: ``ember.sin(s)``, ``s.sin()``, ``F.relu(s)``, ``ember.add(s, t)`` come
to ``SparseBase.__torch_function__``, which runs the ops PyTorch computes on the sparse layouts (zero-preserving
pointwise ops on the stored values, dtype conversions, the layout's own methods) and otherwise the dense function,
whose refusal to read a sparse tensor's strided data becomes PyTorch's "Could not run 'aten::<op>' with arguments
from the 'SparseCPU' backend" error."""
from .. import _dtype

__all__ = ["NoStridedData", "torch_function"]


class NoStridedData(NotImplementedError):
    """A dense op asked a sparse tensor for its strided data (``_data``), which it does not have."""


# Pointwise ops with f(0) == 0 that PyTorch computes on a sparse tensor's stored values. A nonlinear one needs each
# index once, so it coalesces its input first (and its in-place form requires a coalesced tensor, as PyTorch's).
_LINEAR = frozenset(("neg", "negative", "positive", "conj_physical"))
_NONLINEAR = frozenset((
    "abs", "absolute", "sin", "sinh", "asin", "arcsin", "asinh", "arcsinh", "tan", "tanh", "atan", "arctan", "atanh",
    "arctanh", "sqrt", "erf", "erfinv", "expm1", "log1p", "sign", "sgn", "signbit", "floor", "ceil", "round",
    "trunc", "fix", "frac", "relu", "square", "deg2rad", "rad2deg", "isnan", "isinf", "isposinf", "isneginf",
    "nan_to_num"))
_IN_PLACE = frozenset(name + "_" for name in _LINEAR | _NONLINEAR
                      if name not in ("positive", "signbit", "isnan", "isinf", "isposinf", "isneginf"))
_CONVERSIONS = {"half": _dtype.float16, "float": _dtype.float32, "double": _dtype.float64,
                "bfloat16": _dtype.bfloat16, "bool": _dtype.bool_, "byte": _dtype.uint8, "char": _dtype.int8,
                "short": _dtype.int16, "int": _dtype.int32, "long": _dtype.int64, "cfloat": _dtype.complex64,
                "cdouble": _dtype.complex128}


_JOINS = frozenset(("cat", "concat", "concatenate", "stack"))

# Ops of a dense first operand that take a sparse second one as its dense form (PyTorch's add(dense, sparse) kernels).
_DENSE_FIRST = frozenset(("add", "sub", "add_", "sub_", "mul_", "rsub"))


def _pointwise(name, self, args, kwargs):
    source = self if name in _LINEAR or not self.is_sparse else self.coalesce()   # compressed layouts: no repeats
    return source._with_values(getattr(source._values_, name)(*args, **kwargs))


def _pointwise_(name, self, args, kwargs):
    if name[:-1] not in _LINEAR and self.is_sparse and not self.is_coalesced():
        raise RuntimeError(f"{name} requires coalesced input")
    getattr(self._values_, name)(*args, **kwargs)
    self._version_counter[0] += 1
    return self


def _pow(self, exponent):
    from .._tensor import Tensor
    if isinstance(exponent, Tensor):
        raise unsupported("pow.Tensor_Tensor", self)
    if exponent == 0:
        raise RuntimeError("pow: cannot raise to zeroth power on sparse tensor; it would make the result tensor dense")
    return _pointwise("pow", self, (exponent,), {})


def _float_power(self, exponent):
    if isinstance(exponent, (int, float)) and exponent == 0:
        raise RuntimeError("pow: cannot raise to zeroth power on sparse tensor; it would make the result tensor dense")
    wide = _dtype.complex128 if self.dtype.is_complex else _dtype.float64
    return _pow(self.to(wide), exponent)


def _len(self):
    if not self.dim():
        raise TypeError("len() of a 0-d tensor")
    return self.shape[0]


def _no_storage(self, *args, **kwargs):
    raise RuntimeError("Cannot access data pointer of Tensor that doesn't have storage")


def _numpy(self, *, force=False):
    raise TypeError("can't convert Sparse layout tensor to numpy. Use Tensor.to_dense() first.")


def _item(self):
    if self.numel() != 1:
        raise RuntimeError(f"a Tensor with {self.numel()} elements cannot be converted to Scalar")
    return self.to_dense().item()


def _reshape(self, *args, **kwargs):
    raise RuntimeError("reshape is not implemented for sparse tensors")


def _any(self, *args, **kwargs):
    if args or kwargs:   # PyTorch has no sparse kernel of any over a dim
        raise unsupported("any.dim", self, "any.dim")
    return (self._values_ != 0).any()


def _contiguous(self, memory_format=None):
    raise RuntimeError("unsupported memory format option Contiguous")


def _zeros_like(self, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None, **kwargs):
    from ._coo import sparse_zeros
    return sparse_zeros(self.shape, layout or self.layout, dtype or self.dtype, device or self.device, requires_grad,
                        self.sparse_dim() if self.is_sparse else None)


_HANDLERS = {"zeros_like": _zeros_like, "empty_like": _zeros_like, "pow": _pow, "float_power": _float_power, "__len__": _len, "tolist": _no_storage,
             "data_ptr": _no_storage, "numpy": _numpy, "item": _item, "contiguous": _contiguous,
             "reshape": _reshape, "flatten": _reshape, "any": _any,
             "is_contiguous": lambda self, memory_format=None: False,
             "stride": lambda self, dim=None: (0,) * self.dim() if dim is None else 0,
             "storage_offset": lambda self: 0,
             "element_size": lambda self: self._values_.element_size(),
             "is_floating_point": lambda self: self.dtype.is_floating_point,
             "is_complex": lambda self: self.dtype.is_complex}


def unsupported(name, tensor, kernel=None):
    """PyTorch's error for an op a sparse layout does not run: its CSR kernels check the layout themselves, where
    no ``kernel`` of the op is named."""
    if not tensor.is_sparse and kernel is None:
        return RuntimeError(f"unsupported tensor layout: {tensor._layout_name}")
    return NotImplementedError(f"Could not run 'aten::{kernel or name}' with arguments from the '{tensor._backend}' "
                               f"backend. This could be because the operator doesn't exist for this backend (ember "
                               f"computes sparse tensors in their conversions, zero-preserving pointwise ops, "
                               f"add/sub/mul, mm/matmul, shape ops, sparse.sum and sparse.softmax; call .to_dense() "
                               f"first).")


# The overload PyTorch's error names where it is not the function's own name.
_KERNELS = {"softmax": "_softmax", "log_softmax": "_log_softmax", "remainder": "remainder.Tensor",
            "fmod": "fmod.Tensor", "eq": "eq.Tensor", "ne": "ne.Tensor", "lt": "lt.Tensor", "le": "le.Tensor",
            "gt": "gt.Tensor", "ge": "ge.Tensor", "mean": "mean.dim", "squeeze": "as_strided",
            "narrow": "as_strided", "ones_like": "fill_.Scalar", "full_like": "fill_.Scalar"}


def _public_name(func):
    name = getattr(func, "__name__", "")
    return name[2:-2] if name.startswith("__") and name.endswith("__") and name != "__len__" else name


def torch_function(func, args, kwargs):
    """``func(*args, **kwargs)`` where a sparse tensor is among the arguments (see the module's docstring)."""
    from ..overrides import DisableTorchFunctionSubclass
    from ._base import SparseBase
    name = _public_name(func)
    self = args[0] if args else None
    if isinstance(self, SparseBase):
        if name in self._no_pointwise:
            raise unsupported(name, self, self._no_pointwise[name])
        if name in _LINEAR or name in _NONLINEAR:
            return _pointwise(name, self, args[1:], kwargs)
        if name in _IN_PLACE:
            return _pointwise_(name, self, args[1:], kwargs)
        if name in _CONVERSIONS and not args[1:] and not kwargs.keys() - {"memory_format"}:
            return self.to(_CONVERSIONS[name])
        if name == "type" and (args[1:] or "dtype" in kwargs) and isinstance((args[1:] or (kwargs["dtype"],))[0],
                                                                            _dtype.dtype):
            return self.to((args[1:] or (kwargs["dtype"],))[0])
        handler = _HANDLERS.get(name) or _HANDLERS.get(getattr(func, "__name__", None))
        if handler is not None:
            return handler(self, *args[1:], **kwargs)
        own = getattr(type(self), name, None)
        if own is not None and name in _own_methods(type(self)):
            return own(self, *args[1:], **kwargs)
    elif name in _JOINS and args and isinstance(args[0], (list, tuple)) and _first_sparse(args[0]) is not None:
        from . import _shape
        return (_shape.stack if name == "stack" else _shape.cat)(*args, **kwargs)
    elif len(args) >= 2 and isinstance(args[1], SparseBase):
        if name == "mul" and len(args) == 2 and not kwargs:
            return args[1].mul(args[0])   # dense * sparse: the product is sparse, as sparse * dense
        if name in _DENSE_FIRST:   # dense + sparse and the like: a dense result, the sparse operand densified
            return func(args[0], args[1].to_dense(), *args[2:], **kwargs)
        if name == "addmm":   # torch.addmm(dense, sparse, dense)
            from . import addmm
            return addmm(*args, **kwargs)
    with DisableTorchFunctionSubclass():
        try:
            return func(*args, **kwargs)
        except NoStridedData:
            sparse = _first_sparse(list(args) + list(kwargs.values()))
            if sparse is None:
                raise
            raise unsupported(name, sparse, _KERNELS.get(name) if sparse.is_sparse else None) from None


def _first_sparse(values):
    """The first sparse tensor among ``values`` (or in a list or tuple among them)."""
    from ._base import SparseBase
    for value in values:
        if isinstance(value, SparseBase):
            return value
        if isinstance(value, (list, tuple)):
            found = _first_sparse(value)
            if found is not None:
                return found
    return None


def _own_methods(cls):
    """The names a sparse layout's class defines itself (its own add, mul, t, coalesce, ...)."""
    found = cls.__dict__.get("_own_method_names")
    if found is None:
        from .._tensor import Tensor
        found = frozenset(name for klass in cls.__mro__[:cls.__mro__.index(Tensor)] for name in vars(klass)
                          if callable(vars(klass)[name]))
        cls._own_method_names = found
    return found
