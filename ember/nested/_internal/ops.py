"""What each public op does with jagged NestedTensor arguments (``NestedTensor.__torch_function__`` calls
``dispatch``).

PyTorch 2.13 keys its rules by ATen op (``torch/nested/_internal/ops.py``); ember has no ATen level, so the same
rules are keyed by the public name called: pointwise ops run on the values (a dense operand broadcasts over the
trailing dims, or over the batch and ragged dims when it has the nested tensor's dim), ops that take dims map them
to the values' dims and refuse the batch or ragged dim where PyTorch does, and the rest live in ``ops_shape``,
``ops_reduce``, ``ops_nn`` and ``sdpa``. An op without a rule raises PyTorch's ``NotImplementedError``."""
from ..._tensor import Tensor
from ... import overrides
from .nested_int import nested_int_for
from .nested_tensor import NestedTensor, _plain, like, wrap_values

UNARY_NAMES = frozenset("""
abs absolute acos arccos acosh arccosh angle asin arcsin asinh arcsinh atan arctan atanh arctanh bitwise_not ceil
clamp clip clamp_min clamp_max conj conj_physical cos cosh deg2rad digamma erf erfc erfinv exp exp2 expm1 fix floor
frac lgamma log log10 log1p log2 logit i0 isnan isinf isfinite isneginf isposinf nan_to_num neg negative positive
rad2deg reciprocal round rsqrt sigmoid sign sgn signbit sin sinc sinh sqrt square tan tanh trunc logical_not
relu relu6 gelu silu mish elu selu celu leaky_relu hardtanh softplus softsign hardswish hardsigmoid logsigmoid
tanhshrink softshrink hardshrink threshold dropout alpha_dropout feature_alpha_dropout rrelu
clone detach to float double half bfloat16 int long short char byte bool cpu cuda type pin_memory
zeros_like ones_like empty_like full_like rand_like randn_like randint_like
""".split())
BINARY_NAMES = frozenset("""
add sub subtract rsub mul multiply div divide true_divide floor_divide remainder fmod pow float_power atan2 arctan2
maximum minimum fmax fmin eq ne not_equal lt less le less_equal gt greater ge greater_equal logical_and logical_or
logical_xor bitwise_and bitwise_or bitwise_xor hypot copysign xlogy nextafter logaddexp logaddexp2 lerp masked_fill
""".split())
# In-place forms that write into the nested tensor's values.
INPLACE_NAMES = frozenset(name + "_" for name in UNARY_NAMES | BINARY_NAMES) | {
    "zero_", "fill_", "copy_", "uniform_", "normal_", "bernoulli_", "masked_fill_"}
# Calls that read metadata or drive autograd: the NestedTensor's own method, or the op on it as a tensor.
OWN_NAMES = frozenset("""
size dim ndimension stride numel nelement is_contiguous unbind values offsets lengths __len__ __iter__""".split())
AS_TENSOR_NAMES = frozenset("""
is_floating_point is_complex is_signed element_size get_device data_ptr storage_offset retain_grad register_hook
backward requires_grad_ item __bool__ untyped_storage is_pinned is_inference""".split())
_OPERATOR_NAMES = {"__add__": "add", "__radd__": "add", "__sub__": "sub", "__rsub__": "rsub", "__mul__": "mul",
                   "__rmul__": "mul", "__truediv__": "div", "__rtruediv__": "div", "__floordiv__": "floor_divide",
                   "__rfloordiv__": "floor_divide", "__mod__": "remainder", "__rmod__": "remainder",
                   "__pow__": "pow", "__rpow__": "pow", "__eq__": "eq", "__ne__": "ne", "__lt__": "lt",
                   "__le__": "le", "__gt__": "gt", "__ge__": "ge", "__and__": "bitwise_and",
                   "__rand__": "bitwise_and", "__or__": "bitwise_or", "__ror__": "bitwise_or",
                   "__xor__": "bitwise_xor", "__rxor__": "bitwise_xor", "__neg__": "neg", "__abs__": "abs",
                   "__invert__": "bitwise_not", "__iadd__": "add_", "__isub__": "sub_", "__imul__": "mul_",
                   "__itruediv__": "div_", "__matmul__": "matmul", "__rmatmul__": "matmul"}


def dispatch(func, args, kwargs):
    """Runs public op ``func`` on ``args``/``kwargs``, some of them jagged NestedTensors, by PyTorch's NJT rules."""
    called = getattr(func, "__name__", "")
    name = _OPERATOR_NAMES.get(called, called)
    if name in OWN_NAMES and isinstance(args[0], NestedTensor):
        return getattr(NestedTensor, name)(*args, **kwargs)
    if name in AS_TENSOR_NAMES:   # a nested gradient given to backward is handed on as its values
        if name == "backward":
            args, kwargs = (args[0], *values_of(args[1:])), values_of(kwargs)
        if name == "register_hook":
            args = (args[0], nested_hook(args[0], args[1] if len(args) > 1 else kwargs.pop("hook")))
        return overrides.unwrapped(func)(*args, **kwargs)
    if name in _SUBCLASS_ERRORS:
        raise RuntimeError(_SUBCLASS_ERRORS[name])
    _check_contiguous(name, args, kwargs)
    handler = _handlers().get(name)
    if handler is not None:
        return handler(func, args, kwargs)
    if name in INPLACE_NAMES:
        return _in_place(func, args, kwargs)
    if name in UNARY_NAMES or name in BINARY_NAMES:
        return _pointwise(func, name, args, kwargs)
    raise NotImplementedError(f"aten.{name}.{_OVERLOADS.get(name, 'default')}")


_SUBCLASS_ERRORS = {"tolist": ".tolist() is not supported for tensor subclasses, got NestedTensor",
                    "numpy": ".numpy() is not supported for tensor subclasses."}
_OVERLOADS = {"std": "correction", "var": "correction", "norm": "ScalarOpt_dim", "std_mean": "correction",
              "var_mean": "correction"}   # the ATen overload PyTorch's error names where it is not .default


# Ops whose PyTorch rule takes only a contiguous jagged tensor (no holes, ragged dim 1) for one argument: public
# name -> (PyTorch's rule function, its schema, the argument's position and name).
_CONTIGUOUS_ONLY = {
    "linear": ("linear_default", "input: jt, weight: t, bias: t?", 0, "input"),
    "dropout": ("native_dropout_default", "self: jt, float: any, train: any?", 0, "self"),
    "split": ("split_tensor", "self: jt, split_size: any, dim: any?", 0, "self"),
    "narrow": ("narrow", "self: jt, dim: any, start: any, length: any", 0, "self"),
    "chunk": ("chunk_default", "self: jt, chunks: any, dim: any?", 0, "self"),
    "squeeze": ("squeeze_dim", "self: jt, dim: any", 0, "self"),
    "expand_as": ("expand_as_default", "self: t, other: jt", 1, "other"),
    "embedding": ("embedding_default", "weight: t, indices: jt, padding_idx: any?, scale_grad_by_freq: any?, "
                  "sparse: any?", 0, "indices"),
}


def _check_contiguous(name, args, kwargs):
    rule = _CONTIGUOUS_ONLY.get(name)
    if rule is None or len(args) <= rule[2] or not isinstance(args[rule[2]], NestedTensor):
        return
    if name == "split" and len(args) > 1 and isinstance(args[1], (list, tuple)):
        rule = ("split_with_sizes_default", "self: jt, split_sizes: any, dim: any?", 0, "self")
    nt = args[rule[2]]
    if nt._lengths is not None or nt._ragged_idx != 1:
        raise ValueError(f"NestedTensor {rule[0]}({rule[1]}): expected {rule[3]} to be a contiguous jagged layout "
                         "NestedTensor")


def _handlers():
    from . import ops_nn, ops_reduce, ops_shape, sdpa
    return {**ops_shape.HANDLERS, **ops_reduce.HANDLERS, **ops_nn.HANDLERS, **sdpa.HANDLERS}


def nested_hook(nt, hook):
    """``hook`` as a hook on ``nt``'s values: it sees the gradient as a nested tensor of ``nt``'s structure, and a
    nested tensor it returns goes back as its values."""
    def on_values(gradient):
        result = hook(nt._as_gradient(gradient))
        return result.values() if isinstance(result, Tensor) and result.is_nested else result
    return on_values


def values_of(values):
    """``values`` with each NestedTensor replaced by its values (plain, in the graph)."""
    if isinstance(values, NestedTensor):
        return _plain(values)
    if type(values) in (list, tuple):
        return type(values)(values_of(v) for v in values)
    if isinstance(values, dict):
        return {key: values_of(value) for key, value in values.items()}
    return values


def _tensors(args, kwargs):
    return [a for a in list(args) + list(kwargs.values()) if isinstance(a, Tensor)]


def _pointwise(func, name, args, kwargs):
    tensors = _tensors(args, kwargs)
    if len(tensors) == 1:
        nt = tensors[0]
        result = func(*values_of(args), **values_of(kwargs))
        if result.device != nt._offsets.device:   # to(device), cuda(), cpu(): the structure moves along
            return wrap_values(result, _moved(nt._offsets, result.device), _moved(nt._lengths, result.device),
                               nt._ragged_idx, nt._metadata_cache)
        return like(nt, result)
    return _binary(func, name, args, kwargs)


def _moved(tensor, device):
    """``tensor`` (offsets or lengths) on ``device``, keeping its nested int, as PyTorch's copy does."""
    if tensor is None:
        return None
    moved = tensor.to(device)
    moved.__dict__["_nested_int"] = nested_int_for(tensor)
    return moved


def _shape_text(nt):
    return str(tuple(nt._size)) if isinstance(nt, NestedTensor) else str(nt.shape)


def _binary(func, name, args, kwargs):
    """PyTorch's ``jagged_binary_pointwise``: two NJTs of one structure, or an NJT and a dense tensor that
    broadcasts over its trailing dims (after dropping leading ones) or has its dim with a batch dim of B."""
    a, b = args[0], args[1]
    mismatch = "cannot call binary pointwise function {} with inputs of shapes {} and {}"
    aten_name = f"{name}.Tensor"
    rest, kwargs = values_of(args[2:]), values_of(kwargs)
    if isinstance(a, NestedTensor) and isinstance(b, NestedTensor):
        if _raggedness_matches(a, b._size):
            return like(a, func(_plain(a), _plain(b), *rest, **kwargs))
        raise RuntimeError(mismatch.format(aten_name, _shape_text(a), _shape_text(b)))
    a_is_nt = isinstance(a, NestedTensor)
    nt, t = (a, b) if a_is_nt else (b, a)
    dense = dense_operand(nt, t, lambda: RuntimeError(mismatch.format(aten_name, a.shape, b.shape)))
    lhs, rhs = (_plain(nt), dense) if a_is_nt else (dense, _plain(nt))
    return like(nt, func(lhs, rhs, *rest, **kwargs))


def dense_operand(nt, t, mismatch):
    """A dense tensor ``t`` as an operand of ``nt``'s values: broadcast over the trailing dims once leading ones are
    dropped, or (with ``nt``'s dim, a batch dim of B and size 1 along the ragged dim) repeated per component;
    ``mismatch()`` is the error otherwise."""
    if t.dim() > nt.dim():
        raise NotImplementedError("NYI: broadcasting NT with T with larger dim")
    squeezed = t
    while squeezed.dim() > 0 and squeezed.shape[0] == 1:
        squeezed = squeezed.squeeze(0)
    if nt.dim() >= squeezed.dim() + 2:
        return squeezed
    if t.dim() == nt.dim() and t.shape[0] == len(nt) and t.shape[nt._ragged_idx] == 1:
        from .padding import dense_as_nested
        return _plain(dense_as_nested(t, nt))
    raise mismatch()


def _raggedness_matches(nt, size):
    end = nt._ragged_idx + 1
    return len(size) >= end and all(n == s or s == -1 for n, s in zip(nt._size[:end], size[:end]))


def _in_place(func, args, kwargs):
    """An in-place op on a NestedTensor: run on the values' alias (a view of it), which writes its array; autograd
    records the write on the NestedTensor as on any view's base."""
    target = args[0]
    if not isinstance(target, NestedTensor):
        raise NotImplementedError(f"aten.{func.__name__}.default")
    others = [t for t in _tensors(args[1:], kwargs) if isinstance(t, NestedTensor)]
    for other in others:
        if not _raggedness_matches(target, other._size):
            raise RuntimeError(f"cannot call binary pointwise function {func.__name__[:-1]}.Tensor with inputs of "
                               f"shapes {_shape_text(target)} and {_shape_text(other)}")
    alias = _plain(target)   # one alias for every appearance of target (x.mul_(x) saves what it writes)
    func(alias, *[alias if a is target else values_of(a) for a in args[1:]], **values_of(kwargs))
    return target
