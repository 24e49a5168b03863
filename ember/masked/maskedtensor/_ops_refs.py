"""What each public op does with MaskedTensor arguments (``MaskedTensor.__torch_function__`` calls ``dispatch``).

The rules are PyTorch 2.13's (its ``maskedtensor/{unary,binary,reductions,passthrough,_ops_refs}.py``), keyed by
the public name an op was called by: unary ops keep the mask; binary ops need equal masks (a plain operand counts
as matching) and keep them; reductions run ``torch.masked``'s and mask a result where any input was specified;
shape ops (passthrough) run on the data and the mask alike; conversions keep the mask; other ops are refused as
PyTorch refuses an op without a rule. Data ops run on plain aliases of the MaskedTensors (``core._plain``), so
autograd records them as on any tensor."""
import inspect
import warnings

from ..._tensor import Tensor
from ... import overrides
from ... import autograd
from .. import _ops as _masked
from .core import MaskedTensor, _as_class, _masks_match, _plain, _wrap, is_masked_tensor

UNARY_NAMES = frozenset("""
abs absolute acos arccos acosh arccosh angle asin arcsin asinh arcsinh atan arctan atanh arctanh bitwise_not ceil
clamp clip conj_physical cos cosh deg2rad digamma erf erfc erfinv exp exp2 expm1 fix floor frac lgamma log log10
log1p log2 logit i0 isnan nan_to_num neg negative positive pow rad2deg reciprocal round rsqrt sigmoid sign sgn
signbit sin sinc sinh sqrt square tan tanh trunc""".split())
INPLACE_UNARY_NAMES = frozenset(name + "_" for name in UNARY_NAMES - {"angle", "positive", "signbit", "isnan"})
BINARY_NAMES = frozenset("""
add atan2 arctan2 bitwise_and bitwise_or bitwise_xor bitwise_left_shift bitwise_right_shift div divide floor_divide
fmod logaddexp logaddexp2 mul multiply nextafter remainder sub subtract true_divide eq ne le ge greater
greater_equal gt less_equal lt less maximum minimum fmax fmin not_equal""".split())
INPLACE_BINARY_NAMES = frozenset(name + "_" for name in BINARY_NAMES - {
    "logaddexp", "logaddexp2", "equal", "fmin", "minimum", "maximum", "fmax"})
REDUCE_NAMES = frozenset("sum mean amin amax argmin argmax prod all norm var std".split())
# Shape ops PyTorch's rules pass through (select, transpose, split, t, slice, index, expand, view, cat, unsqueeze,
# unfold, stack) under the public names that reach only those.
PASSTHROUGH_NAMES = frozenset("""
__getitem__ select transpose swapaxes swapdims t mT narrow split chunk expand expand_as view view_as reshape
reshape_as flatten unsqueeze unfold cat concat concatenate stack""".split())
CONVERSION_NAMES = frozenset("to float double half int long short char byte bool cpu cuda type type_as".split())
# Calls that read metadata or drive autograd: run on the MaskedTensor as a tensor, the result unchanged.
AS_TENSOR_NAMES = frozenset("""
dim ndimension size numel nelement stride is_contiguous is_floating_point is_complex is_signed element_size
get_device data_ptr storage_offset __len__ requires_grad_ retain_grad register_hook backward""".split())
# Operators that answer NotImplemented when their op refuses, so Python names the operand types.
_OPERATORS = {"__add__": "+", "__radd__": "+", "__sub__": "-", "__rsub__": "-", "__mul__": "*", "__rmul__": "*",
              "__truediv__": "/", "__rtruediv__": "/", "__floordiv__": "//", "__rfloordiv__": "//",
              "__mod__": "%", "__rmod__": "%", "__pow__": "** or pow()", "__rpow__": "** or pow()",
              "__matmul__": "@", "__rmatmul__": "@", "__and__": "&", "__rand__": "&", "__or__": "|",
              "__ror__": "|", "__xor__": "^", "__rxor__": "^", "__lshift__": "<<", "__rlshift__": "<<",
              "__rshift__": ">>", "__rrshift__": ">>"}
_OPERATOR_OPS = {"__invert__": "bitwise_not", "__pow__": "pow", "__ipow__": "pow_", "__floordiv__": "floor_divide",
                 "__and__": "bitwise_and", "__or__": "bitwise_or", "__xor__": "bitwise_xor", "__eq__": "eq",
                 "__lshift__": "bitwise_left_shift", "__rshift__": "bitwise_right_shift", "__iand__": "bitwise_and_",
                 "__ior__": "bitwise_or_", "__ixor__": "bitwise_xor_", "__isub__": "sub_", "__imul__": "mul_"}
_KEYWORD_ONLY = frozenset(("out", "alpha", "rounding_mode", "decimals"))   # keyword-only in the ATen schemas


def _torch():
    import ember
    return ember


def dispatch(func, args, kwargs):
    """Runs public op ``func`` on ``args``/``kwargs``, some of them MaskedTensors, by PyTorch's MaskedTensor rules."""
    called = func.__name__
    try:
        return _run(func, _OPERATOR_OPS.get(called, called), args, kwargs)
    except TypeError:
        if called in _OPERATORS:
            types = [type(a).__name__ for a in args[:2]]
            if called.startswith("__r"):
                types.reverse()
            raise TypeError(f"unsupported operand type(s) for {_OPERATORS[called]}: '{types[0]}' and "
                            f"'{types[1]}'") from None
        raise


def _run(func, name, args, kwargs):
    if name in UNARY_NAMES or name in INPLACE_UNARY_NAMES:
        return _unary(func, args, kwargs, name.endswith("_"))
    if name in BINARY_NAMES or name in INPLACE_BINARY_NAMES:
        return _binary(func, args, kwargs, name.endswith("_"))
    if name in REDUCE_NAMES:
        return _reduce(name, args, kwargs)
    if name in PASSTHROUGH_NAMES:
        return _passthrough(func, name, args, kwargs)
    if name in CONVERSION_NAMES:
        return _conversion(func, args, kwargs)
    if name in AS_TENSOR_NAMES:   # the op itself, with dispatch left on for what it calls (backward's formulas)
        return overrides.unwrapped(func)(*args, **kwargs)
    handler = _HANDLERS.get(name)
    if handler is not None:
        return handler(func, args, kwargs)
    warnings.warn(f"{name} is not implemented in __torch_dispatch__ for MaskedTensor.\nIf you would like this "
                  "operator to be supported, please file an issue for a feature request at "
                  "https://github.com/pytorch/maskedtensor/issues with a minimal reproducible code snippet.\nIn the "
                  "case that the semantics for the operator are not trivial, it would be appreciated to also include "
                  "a proposal for the semantics.", UserWarning, stacklevel=4)
    raise TypeError(f"Multiple dispatch failed for 'torch._ops.aten.{name}'; all __torch_dispatch__ handlers returned "
                    f"NotImplemented:\n\n  - tensor subclass {MaskedTensor!r}\n\nFor more information, try re-running "
                    "with TORCH_LOGS=not_implemented")


def _map(values, fn):
    """``values`` (arguments, lists and tuples of them) with each MaskedTensor replaced by ``fn(it)``."""
    if is_masked_tensor(values):
        return fn(values)
    if type(values) in (list, tuple):
        return type(values)(_map(v, fn) for v in values)
    if isinstance(values, dict):
        return {key: _map(value, fn) for key, value in values.items()}
    return values


def _data_of(args, kwargs):
    return _map(args, _plain), _map(kwargs, _plain)


def _mask_of(args, kwargs):
    return _map(args, MaskedTensor.get_mask), _map(kwargs, MaskedTensor.get_mask)


def _in_place(target, alias):
    """Makes ``target`` (a MaskedTensor) hold ``alias``'s array after an in-place op on it."""
    if target._data is not alias._data:
        target._data = alias._data
    return target


def _unary(func, args, kwargs, inplace):
    if set(kwargs) & _KEYWORD_ONLY:
        raise ValueError("MaskedTensor unary ops require that len(kwargs) == 0. If you need support for this, please "
                         "open an issue on Github.")
    if any(isinstance(a, Tensor) for a in list(args[1:]) + list(kwargs.values())):
        raise TypeError("MaskedTensor unary ops do not support additional Tensor arguments")
    data_args, data_kwargs = _data_of(args, kwargs)
    result = func(*data_args, **data_kwargs)
    if inplace:
        return _in_place(args[0], data_args[0])
    return _wrap(result, args[0].get_mask())


def _binary(func, args, kwargs, inplace):
    if set(kwargs) & _KEYWORD_ONLY:
        raise ValueError("len(kwargs) must equal 0")
    if any(isinstance(a, Tensor) for a in args[2:]):
        raise TypeError("MaskedTensor binary ops do not support Tensor arguments aside from the lhs and rhs")
    if not _masks_match(*args[:2]):
        raise ValueError("Input masks must match. If you need support for this, please open an issue on Github.")
    data_args, data_kwargs = _data_of(args, kwargs)
    if not isinstance(data_args[0], Tensor):
        raise AttributeError(f"'{type(data_args[0]).__name__}' object has no attribute 'layout'")
    result = func(*data_args, **data_kwargs)
    if inplace:
        return _in_place(args[0], data_args[0])
    mask = (args[0] if is_masked_tensor(args[0]) else args[1]).get_mask()
    return _wrap(result, mask.expand_as(result))


# --- reductions ----------------------------------------------------------------------------------------------

def _reduce_dim_args(input, dim, keepdim=False, dtype=None):
    return input, dim, keepdim, dtype


def _any_over(mask, dim, keepdim):
    for d in sorted([dim] if isinstance(dim, int) else dim, reverse=True):
        mask = mask.any(dim=d, keepdim=keepdim)
    return mask


def _reduce(name, args, kwargs):
    """PyTorch's reductions of a MaskedTensor: over all elements (no other argument) or over ``dim``; the result is
    specified where any element it reduced was."""
    if len(args) == 1 and not kwargs:
        self, mask = args[0], args[0].get_mask()
        data = _plain(self)
        if name == "all":
            result = data.masked_fill(~mask, True).all()
        else:
            result = getattr(_masked, name)(data, mask=mask)
        return _result(name, self, result, mask.any())
    self, dim, keepdim, dtype = _reduce_dim_args(*args, **kwargs)
    if not is_masked_tensor(self):
        raise TypeError("Input to reduce_dim must be a MaskedTensor")
    mask, data = self.get_mask(), _plain(self)
    if name == "all":
        result = data.masked_fill(~mask, True).all(dim=dim, keepdim=keepdim)
    else:
        result = getattr(_masked, name)(data, dim=dim, keepdim=keepdim, dtype=dtype, mask=mask)
    return _result(name, self, result, _any_over(mask, dim, keepdim))


def _result(name, self, result, mask):
    if name in ("argmin", "argmax"):   # PyTorch's rule hands back the indices in the data's dtype
        result = result.to(self.dtype)
    return as_masked_tensor(result, mask)


# --- the rest of PyTorch's rules ----------------------------------------------------------------------------------

def _passthrough(func, name, args, kwargs):
    if name == "split" and not isinstance(args[1] if len(args) > 1 else kwargs.get("split_size"), int):
        return _refused("split_with_sizes")
    data_args, data_kwargs = _data_of(args, kwargs)
    result = func(*data_args, **data_kwargs)
    mask_args, mask_kwargs = _mask_of(args, kwargs)
    return _wrap(result, func(*mask_args, **mask_kwargs))


def _refused(name):
    return _run(None, name, (), {})


def _conversion(func, args, kwargs):
    data_args, data_kwargs = _data_of(args, kwargs)
    result = func(*data_args, **data_kwargs)
    if not isinstance(result, Tensor):   # type() without a dtype: the type's name
        return result
    mask_args, mask_kwargs = _mask_of(args, kwargs)
    return _wrap(result, func(*mask_args, **mask_kwargs).to(_torch().bool))


def _bound(func, args, kwargs):
    """``func``'s arguments by parameter name."""
    bound = inspect.signature(overrides.unwrapped(func)).bind(*args, **kwargs)
    bound.apply_defaults()
    return bound.arguments


def _softmax(func, args, kwargs, negate=False):
    arguments = _bound(func, args, kwargs)
    self = arguments["input"] if "input" in arguments else arguments["self"]
    data, mask = _plain(self), self.get_mask()
    dtype = arguments.get("dtype")
    if dtype is None and type(arguments.get("_stacklevel", 3)) is not int:   # x.softmax(dim, dtype)
        dtype = arguments["_stacklevel"]
    if dtype is not None:
        data = data.to(dtype)
    dim = arguments["dim"] % max(data.dim(), 1)
    result = _masked.softmax(-data if negate else data, dim, mask=mask)
    return _wrap(result.masked_fill(~mask, 0), mask)   # PyTorch's masked softmax: 0 where a row is all masked out


def _where(func, args, kwargs):
    if func.__qualname__.startswith("Tensor."):   # x.where(condition, y)
        arguments = _bound(func, args, kwargs)
        condition, x, y = arguments["condition"], arguments["self"], arguments["other"]
    else:
        if len(args) != 3 or kwargs:
            raise ValueError(f"__torch_function__, torch.where: len(args) must be 3 but got {len(args)}")
        condition, x, y = args
    if is_masked_tensor(condition):
        raise TypeError("where(): condition must be a plain bool Tensor, not a MaskedTensor")
    torch = _torch()
    x_mask, y_mask = (v.get_mask() if is_masked_tensor(v) else torch.ones_like(torch.as_tensor(v), dtype=torch.bool)
                      for v in (x, y))   # a plain operand (a number too) is specified everywhere
    x, y = _map(x, _plain), _map(y, _plain)
    return _wrap(torch.where(condition, x, y), torch.where(condition, x_mask, y_mask))


def _rtruediv(func, args, kwargs):
    """``other / x``: PyTorch's ``x.reciprocal() * other``."""
    self, other = args
    return self.reciprocal() * other


def _float_power(func, args, kwargs):
    """PyTorch's ``float_power``: ``pow`` of the data in float64."""
    return args[0].double().pow(*args[1:], **kwargs)


def _contiguous(func, args, kwargs):
    self = args[0]
    if self.is_contiguous():
        return self
    return _wrap(_plain(self).contiguous(), self.get_mask().contiguous())


def _same(func, args, kwargs):
    return args[0]


def _on_data(func, args, kwargs):
    """detach, clone: the op on the data, the mask kept."""
    data_args, data_kwargs = _data_of(args, kwargs)
    return _wrap(func(*data_args, **data_kwargs), args[0].get_mask())


def _ones_like(func, args, kwargs):
    if len(args) != 1:
        raise ValueError(f"__torch_dispatch__, aten.ones_like: len(args) must be 1 but got {len(args)}")
    return _wrap(func(_plain(args[0]).detach(), **kwargs), args[0].get_mask())


def _copy_(func, args, kwargs):
    data_args, data_kwargs = _data_of(args, kwargs)
    func(*data_args, **data_kwargs)
    return _in_place(args[0], data_args[0])


def _item(func, args, kwargs):
    self = args[0]
    if self.numel() != 1:
        raise RuntimeError(f"a Tensor with {self.numel()} elements cannot be converted to Scalar")
    if not self.get_mask().item():
        raise ValueError("__torch_dispatch__, aten._local_scalar_dense: expected a mask tensor")
    value = _plain(self).item()
    return bool(value) if func.__name__ == "__bool__" else value


def _scalar(func, args, kwargs):
    """``float(x)``, ``int(x)``, ``complex(x)`` of a one-element MaskedTensor: its specified value."""
    value = _item(func, args, kwargs)
    return {"__float__": float, "__int__": int, "__complex__": complex, "__index__": int}[func.__name__](value)


def _format(func, args, kwargs):
    """``format(x, spec)``: a MaskedTensor formats as its repr (PyTorch's Tensor.__format__ of a subclass)."""
    return object.__format__(*args)


def _not_for_subclasses(func, args, kwargs):
    name = func.__name__
    detail = ", got MaskedTensor" if name == "tolist" else "."
    raise RuntimeError(f".{name}() is not supported for tensor subclasses{detail}")


_HANDLERS = {"softmax": _softmax, "softmin": lambda func, args, kwargs: _softmax(func, args, kwargs, negate=True),
             "where": _where, "__rtruediv__": _rtruediv, "float_power": _float_power, "contiguous": _contiguous,
             "to_dense": _same, "detach": _on_data, "clone": _on_data, "ones_like": _ones_like, "copy_": _copy_,
             "item": _item, "__bool__": _item, "__float__": _scalar, "__int__": _scalar, "__complex__": _scalar,
             "__index__": _scalar, "__format__": _format, "tolist": _not_for_subclasses, "numpy": _not_for_subclasses}


class Constructor(autograd.Function):
    """``as_masked_tensor``: a MaskedTensor of ``data`` whose gradient goes back to ``data`` as a MaskedTensor."""

    @staticmethod
    def forward(ctx, data, mask):
        ctx.mask = mask
        return MaskedTensor(data, mask)

    @staticmethod
    def backward(ctx, grad_output):
        if not is_masked_tensor(grad_output):
            grad_output = _as_class(grad_output, MaskedTensor)
            grad_output._masked_mask = ctx.mask
        return grad_output, None


def as_masked_tensor(data, mask):
    """A MaskedTensor of ``data`` and ``mask`` that keeps ``data``'s autograd history (``torch.as_tensor``'s kin)."""
    return MaskedTensor._from_values(data, mask)
