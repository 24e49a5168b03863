"""Which ATen calls PyTorch makes for each of ember's op applications, for ``__torch_dispatch__`` handlers.

An application (a Primitive, or a Composite seen whole) is handed to the handlers as PyTorch's dispatcher hands its
ATen ops, with the arguments in ATen's order: ``Linear`` as ``t`` and ``addmm`` (``view``s around for batched
input), ``Matmul`` under ``mm``/``bmm``/``matmul`` as ``mm``, ``bmm``, ``mv`` or ``dot``, ``Sum`` as ``sum.default`` or
``sum.dim_IntList``, ``Permute`` as ``transpose.int`` or ``permute``, ``Reshape`` as ``view``. Ops named as ATen's
(``exp``, ``relu``, ``eq``, ``argmax``) need no entry. An op with neither an entry nor an ATen name is handed as
``torch.ops.ember.<Name>.default`` with its own arguments, so modes see every op (PyTorch's see every ATen op).
Composites PyTorch's dispatcher decomposes (``linear``, ``softmax``, ``conv2d``, ``sum``: ``trace_inside``) are seen
through: their inner applications are handed.
"""
import numpy

from . import _python_dispatch as _pd
from ._tensor import Tensor, _wrap
from .autograd.function import Composite
from .autograd.grad_mode import state as _grad

_ember_ops = {}


def _aten():
    from .library._aten import aten
    return aten


def _op(name, overload="default"):
    return getattr(getattr(_aten(), name), overload)


def _ember_op(name):
    """``torch.ops.ember.<name>.default``: an ember op without an ATen counterpart, handed with its own arguments;
    called, it applies the op to the arguments given (a wrapper subclass's inner tensors)."""
    op = _ember_ops.get(name)
    if op is None:
        from .autograd.function import registry
        from .library._aten import OpOverloadPacket

        class EmberOp(OpOverloadPacket):
            def _run(self, args, kwargs):
                return registry[name].apply(*args, **kwargs)
        op = _ember_ops[name] = EmberOp(name, ["default"], namespace="ember").default
    return op


def _value(v):
    """An argument of an application as ATen takes it: tensors as they are, arrays as tensors, NumPy scalars and
    dtypes as Python's and ember's, tuples as lists."""
    if isinstance(v, Tensor) or v is None:
        return v
    if isinstance(v, numpy.ndarray):
        return v.item() if v.ndim == 0 else _wrap(v)
    if isinstance(v, numpy.generic):
        return v.item()
    if isinstance(v, numpy.dtype):
        from . import _dtype
        return _dtype.from_numpy(v)
    if isinstance(v, tuple):
        return [_value(x) for x in v]
    return v


class Calls:
    """What an entry uses to hand an application's ATen calls to the handlers."""

    def __init__(self, op, args, kwargs, proceed):
        self.op, self.args, self.kwargs, self.proceed = op, args, kwargs, proceed

    def aux(self, func, *args, **kwargs):
        """An ATen call PyTorch makes beside the op's own (``t`` before ``addmm``): computed by its ember op."""
        packet = func._overloadpacket
        return _pd.handed(func, args, kwargs, lambda: packet._run(args, kwargs))

    def own(self, func, *args, then=None, take=None, **kwargs):
        """The ATen call that computes the application: while handed, ``func`` called with these arguments runs the
        application (``then`` applied to its result, where the ATen result differs in shape). A result a handler
        made otherwise is linked into the graph as the application's (``take`` picks it out of ATen's results)."""
        made = []

        def run():
            out = self.proceed(self.args, self.kwargs)
            made.append(out)
            return then(out) if then is not None else out
        result = _pd.handed(func, args, kwargs, run)
        if made and then is None and _is(result, made[0]):
            return made[0]
        if take is not None and not made:
            result = take(result)
        if then is None:
            result = _pd.record(self.op, self.args, self.kwargs, self.proceed, result)
        return tuple(result) if isinstance(result, list) else result


def _is(result, made):
    if result is made:
        return True
    if isinstance(result, (list, tuple)) and isinstance(made, tuple):
        return len(result) == len(made) and all(r is m for r, m in zip(result, made))
    return False


def _needs_grad(args):
    return _grad.enabled and any(isinstance(a, Tensor) and a.requires_grad for a in args)


def dispatch(cls, args, kwargs, proceed):
    """Hands one application to the handlers (the hook of ``_python_dispatch`` calls it while any is on)."""
    name = cls.__name__
    if issubclass(cls, Composite):
        entry = COMPOSITES.get(name)
        if entry is None and (cls.trace_inside or name in SEEN_THROUGH):
            return proceed(args, kwargs)   # its inner applications are handed
        if entry is not None and _pd._types(args, kwargs) and _needs_grad(args):
            return proceed(args, kwargs)   # wrapper subclasses: autograd records the inner applications
    elif not cls._array_level:
        return proceed(args, kwargs)   # a user's autograd.Function: the ops its forward runs are handed
    else:
        entry = PRIMITIVES.get(name)
    calls = Calls(cls, args, kwargs, proceed)
    if entry is not None:
        return entry(calls, *args, **kwargs)
    return _by_name(calls, name, args, kwargs, issubclass(cls, Composite))


def _by_name(calls, name, args, kwargs, composite):
    """An op without an entry: the ATen operator of its name (snake case) where its arguments are ATen's (a
    composite's are the public op's; a primitive's only where all are tensors: ``Exp``, ``Atan2``), else
    ``torch.ops.ember.<name>`` with the application's own arguments."""
    from .library._aten import _overload_names
    snake = "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_") if name[:1].isupper() else name
    overloads = _overload_names().get(snake)
    if overloads is None or not (composite or all(isinstance(a, Tensor) for a in args) and not kwargs):
        return calls.own(_ember_op(name), *args, **kwargs)
    values = [_value(a) for a in args]
    keywords = {k: _value(v) for k, v in kwargs.items()}
    tensor_other = any(isinstance(a, Tensor) for a in values[1:])
    second = ("Tensor" if tensor_other else "Scalar",) if len(values) > 1 else ()
    for choice in second + ("default", "Tensor", "self", "int", "dim"):
        if choice in overloads:
            break
    else:
        choice = overloads[0]
    return calls.own(_op(snake, choice), *values, **keywords)


# --- entries: (calls, *application arguments) -> the application's result ---------------------------------------

def _binary(name):
    def entry(calls, a, b, alpha=None):
        if alpha is not None and alpha != 1:
            return calls.own(_op(name, "Tensor"), _value(a), _value(b), alpha=_value(alpha))
        return calls.own(_op(name, "Tensor"), _value(a), _value(b))
    return entry


def _pow(calls, a, b):
    if not isinstance(a, Tensor):
        return calls.own(_op("pow", "Scalar"), _value(a), b)
    return calls.own(_op("pow", "Tensor_Tensor" if isinstance(b, Tensor) else "Tensor_Scalar"), a, _value(b))


def _matmul_op(a, b):
    return {(2, 2): "mm", (3, 3): "bmm", (2, 1): "mv", (1, 1): "dot"}.get((a.ndim, b.ndim))


def _matmul(calls, a, b, *rest, **kwargs):
    name = _matmul_op(a, b) if isinstance(a, Tensor) and isinstance(b, Tensor) and not rest and not kwargs else None
    if name is None and not rest and not kwargs and a.ndim >= 3 and b.ndim == 2:
        from .utils._flop_ops import _operand, _should_fold
        if _should_fold(_operand(a), _operand(b)):   # at::matmul's fold: one mm of the rows
            rows, columns = -1 if 0 in a.shape else a.numel() // a.shape[-1], b.shape[-1]
            flat = calls.aux(_op("view"), a, [rows, a.shape[-1]])
            out = calls.own(_op("mm"), flat, b, then=lambda r: r.reshape(-1, columns))
            return calls.aux(_op("_unsafe_view"), out, list(a.shape[:-1]) + [columns])
    if name is None or (name == "bmm" and a.shape[0] != b.shape[0]):
        return calls.own(_op("matmul"), a, b, *rest, **kwargs)
    return calls.own(_op(name), a, b)


def _linear(calls, input, weight, bias=None):
    if input.ndim > 2:
        return _batched_linear(calls, input, weight, bias)
    wt = calls.aux(_op("t"), weight)
    if input.ndim == 2:
        if bias is None:
            return calls.own(_op("mm"), input, wt)
        return calls.own(_op("addmm"), bias, input, wt)
    return calls.own(_op("linear"), input, weight, *(() if bias is None else (bias,)))


def _batched_linear(calls, input, weight, bias):
    batch, features = list(input.shape[:-1]), weight.shape[0]
    flat = calls.aux(_op("view"), input, [-1, input.shape[-1]])
    wt = calls.aux(_op("t"), weight)
    if bias is None:
        out = calls.own(_op("mm"), flat, wt, then=lambda r: r.reshape(-1, features))
    else:
        out = calls.own(_op("addmm"), bias, flat, wt, then=lambda r: r.reshape(-1, features))
    return calls.aux(_op("view"), out, batch + [features])


def _sum(calls, a, dims=None, keepdim=False, dtype=None):
    extra = {} if dtype is None else {"dtype": _value(dtype)}
    if (dims is None or (isinstance(dims, tuple) and len(dims) in (0, a.ndim) and a.ndim)) and not keepdim:
        return calls.own(_op("sum"), a, **extra)
    dims = [dims] if isinstance(dims, int) else list(dims if dims is not None else range(a.ndim))
    return calls.own(_op("sum", "dim_IntList"), a, dims, *((True,) if keepdim else ()), **extra)


def _public_sum(calls, input, dim=None, keepdim=False, *, dtype=None, out=None):
    extra = {} if dtype is None else {"dtype": dtype}
    if dim is None or (isinstance(dim, (tuple, list)) and not dim):
        return calls.own(_op("sum"), input, **extra)
    dims = [dim] if isinstance(dim, int) else list(dim)
    return calls.own(_op("sum", "dim_IntList"), input, dims, *((True,) if keepdim else ()), **extra)


def _amax(calls, a, dims, keepdim, smallest, nan_ties=False):
    return calls.own(_op("amin" if smallest else "amax"), a, list(dims), *((True,) if keepdim else ()))


def _permute(calls, a, dims):
    dims = list(dims)
    moved = [i for i, d in enumerate(dims) if i != d]
    if len(moved) == 2 and dims[moved[0]] == moved[1]:
        return calls.own(_op("transpose", "int"), a, moved[0], moved[1])
    return calls.own(_op("permute"), a, dims)


def _reshape(calls, a, shape):
    """``view`` where the layout allows one, else PyTorch's reshape of a copy: ``clone`` and ``_unsafe_view``."""
    from .ops.shape import _viewable
    if _viewable(a._data, tuple(shape)):
        return calls.own(_op("view"), a, list(shape))
    from ._memory_format import contiguous_format
    copy = calls.aux(_op("clone"), a, memory_format=contiguous_format)
    return calls.own(_op("_unsafe_view"), copy, list(shape))


def _softmax(name):
    def entry(calls, a, dim):
        return calls.own(_op(name), a, dim, False)
    return entry


def _layer_norm(calls, x, weight, bias, count, eps):
    return calls.own(_op("native_layer_norm"), x, list(x.shape[x.ndim - count:]), weight, bias, eps,
                     take=lambda r: r[0])


def _cat(name):
    def entry(calls, *arrays_and_dim):
        *tensors, dim = arrays_and_dim
        return calls.own(_op(name), [_value(t) for t in tensors], *((dim,) if dim else ()))
    return entry


def _cast(calls, a, dtype):
    return calls.own(_op("_to_copy"), a, dtype=_value(dtype))


def _gelu(calls, a, approximate):
    return calls.own(_op("gelu"), a, *(() if approximate in (None, "none") else ()),
                     **({} if approximate in (None, "none") else {"approximate": approximate}))


def _unary_with(name, count):
    def entry(calls, a, *rest):
        return calls.own(_op(name), a, *[_value(r) for r in rest[:count]])
    return entry


def _clamp(calls, a, low, high):
    tensor = isinstance(low, Tensor) or isinstance(high, Tensor)
    return calls.own(_op("clamp", "Tensor" if tensor else "default"), a, _value(low), _value(high))


PRIMITIVES = {
    "Add": _binary("add"), "Sub": _binary("sub"), "Mul": _binary("mul"), "Div": _binary("div"),
    "AddScaled": _binary("add"), "Pow": _pow, "Matmul": _matmul, "Linear": _linear, "Sum": _sum, "Amax": _amax,
    "Permute": _permute, "Softmax": _softmax("_softmax"), "LogSoftmax": _softmax("_log_softmax"),
    "NativeLayerNorm": _layer_norm, "Cat": _cat("cat"), "Stack": _cat("stack"), "Cast": _cast, "Gelu": _gelu,
    "Clamp": _clamp, "Hardtanh": _unary_with("hardtanh", 2), "LeakyRelu": _unary_with("leaky_relu", 1),
    "Addcmul": lambda calls, a, t1, t2, value: calls.own(_op("addcmul"), a, t1, t2, value=value),
    "Addcdiv": lambda calls, a, t1, t2, value: calls.own(_op("addcdiv"), a, t1, t2, value=value),
    "Elu": _unary_with("elu", 3), "Softplus": _unary_with("softplus", 2),
    "Reshape": _reshape,
    "Expand": lambda calls, a, shape: calls.own(_op("expand"), a, list(shape)),
    "ExpandedCopy": lambda calls, a, shape: calls.own(_op("expand"), a, list(shape)),
    "ReluGrad": lambda calls, grad, result: calls.own(_op("threshold_backward"), grad, result, 0),
    "Flip": lambda calls, a, dims: calls.own(_op("flip"), a, list(dims)),
    "Repeat": lambda calls, a, repeats: calls.own(_op("repeat"), a, list(repeats)),
    "Clone": lambda calls, a: calls.own(_op("clone"), a),
    "Where": lambda calls, c, a, b: calls.own(_op("where", "self"), _value(c), _value(a), _value(b)),
    "Maximum": lambda calls, a, b: calls.own(_op("maximum"), a, _value(b)),
    "Minimum": lambda calls, a, b: calls.own(_op("minimum"), a, _value(b)),
    "IndexSelect": lambda calls, a, index, dim: calls.own(_op("index_select"), a, dim, _value(index)),
    "Gather": lambda calls, a, index, dim: calls.own(_op("gather"), a, dim, _value(index)),
    "Unbind": lambda calls, a, dim: calls.own(_op("unbind", "int"), a, *((dim,) if dim else ())),
}


def _tuple(value, n):
    return list(value) if isinstance(value, (tuple, list)) else [value] * n


def _conv(n, transposed):
    def entry(calls, input, weight, bias=None, stride=1, padding=0, *rest):
        if isinstance(padding, str):
            return calls.own(_op("_convolution_mode" if not transposed else "convolution"), input, weight, bias,
                             _tuple(stride, n), padding, *rest)
        if transposed:
            output_padding, groups, dilation = (list(rest) + [0, 1, 1][len(rest):])[:3]
        else:
            dilation, groups = (list(rest) + [1, 1][len(rest):])[:2]
            output_padding = 0
        return calls.own(_op("convolution"), input, weight, bias, _tuple(stride, n), _tuple(padding, n),
                         _tuple(dilation, n), transposed, _tuple(output_padding, n), groups)
    return entry


def _extreme(name, pair):
    def entry(calls, input, dim=None, keepdim=False, *, out=None):
        if isinstance(dim, Tensor):
            return calls.own(_op(pair), input, dim)
        if dim is None:
            return calls.own(_op(name), input)
        return calls.own(_op(name, "dim"), input, dim, *((True,) if keepdim else ()))
    return entry


def _embedding(calls, input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
               sparse=False):
    extra = [] if padding_idx is None else [padding_idx]
    return calls.own(_op("embedding"), weight, input, *extra)


def _batch_norm(calls, input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
                eps=1e-5):
    return calls.own(_op("native_batch_norm"), input, weight, bias, running_mean, running_var,
                     bool(training or running_mean is None), momentum, eps, take=lambda r: r[0])


def _assign(calls, self, result, overlap_ok=False):
    return calls.own(_op("copy_"), self, result)


def _getitem(calls, self, key):
    """Basic indexing as PyTorch's: ``select`` per integer, ``slice`` per partial slice, ``unsqueeze`` per None; the
    rest (tensors, masks) as one ``index``."""
    key = key if isinstance(key, tuple) else (key,)
    steps, dim = [], 0
    if any(k is Ellipsis for k in key):
        at = key.index(Ellipsis)
        spread = self.ndim - sum(1 for k in key if k is not None and k is not Ellipsis)
        key = key[:at] + (slice(None),) * spread + key[at + 1:]
    for k in key:
        if k is None:
            steps.append((_op("unsqueeze"), dim))
            dim += 1
        elif isinstance(k, bool) or not isinstance(k, (int, slice)):
            return calls.own(_op("index", "Tensor"), self, [_value(x) for x in key])
        elif isinstance(k, int):
            steps.append((_op("select", "int"), dim, k))
        else:
            if k != slice(None):
                start = 0 if k.start is None else k.start
                steps.append((_op("slice", "Tensor"), dim, start, k.stop if k.stop is not None else 2 ** 63 - 1,
                              *((k.step,) if k.step not in (None, 1) else ())))
            dim += 1
    if not steps:
        return calls.own(_op("alias"), self)
    value = self
    for func, *rest in steps[:-1]:
        value = calls.aux(func, value, *rest)
    func, *rest = steps[-1]
    return calls.own(func, value, *rest)


def _attention(calls, query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
               enable_gqa=False):
    """PyTorch's CPU flash kernel where its dispatch picks it (a boolean mask made additive first, as PyTorch's
    ``where``); the math path is seen through (ember's kernel comes as one op)."""
    from .utils._flop_ops import _flash_cpu
    if query.device.type != "cpu" or not _flash_cpu(query, key, value, attn_mask, dropout_p, enable_gqa):
        return calls.proceed(calls.args, calls.kwargs)
    extra = {}
    if attn_mask is not None:
        if attn_mask.dtype.is_floating_point:
            extra["attn_mask"] = attn_mask
        else:
            options = {"dtype": query.dtype, "device": query.device}
            low = calls.aux(_op("scalar_tensor"), float("-inf"), **options)
            zero = calls.aux(_op("scalar_tensor"), 0.0, **options)
            extra["attn_mask"] = calls.aux(_op("where", "self"), attn_mask, zero, low)
    if scale is not None:
        extra["scale"] = scale
    positional = (dropout_p, is_causal) if is_causal else ((dropout_p,) if dropout_p else ())
    return calls.own(_op("_scaled_dot_product_flash_attention_for_cpu"), query, key, value, *positional, **extra,
                     take=lambda r: r[0])


COMPOSITES = {
    "scaled_dot_product_attention": _attention,
    "mm": _matmul, "bmm": _matmul, "matmul": _matmul, "sum": _public_sum,
    "conv1d": _conv(1, False), "conv2d": _conv(2, False), "conv3d": _conv(3, False),
    "conv_transpose1d": _conv(1, True), "conv_transpose2d": _conv(2, True), "conv_transpose3d": _conv(3, True),
    "max": _extreme("max", "maximum"), "min": _extreme("min", "minimum"), "embedding": _embedding,
    "batch_norm": _batch_norm, "AssignInplace": _assign, "getitem": _getitem,
}

SEEN_THROUGH = frozenset(("setitem",))
"""Composites that are not ``trace_inside`` whose inner applications are handed (as PyTorch's decomposes them)."""

WRAPPER_BACKWARDS = frozenset((
    "Add", "Sub", "Mul", "Div", "Neg", "AddScaled", "Pow", "Abs", "Exp", "Expm1", "Log", "Log1p", "Sqrt", "Rsqrt",
    "Reciprocal",
    "Sin", "Cos", "Tanh", "Sigmoid", "Relu", "Gelu", "LeakyRelu", "Hardtanh", "Clamp", "Where", "Maximum", "Minimum",
    "Matmul", "Linear", "Sum", "SquaredDeviations", "Logsumexp", "Cumsum", "Softmax", "LogSoftmax",
    "Reshape", "Permute", "Expand", "Slice", "Index", "Cat", "Stack", "Split", "Unbind", "Flip", "Repeat", "Cast",
    "Clone", "Gather", "IndexSelect", "Pad"))
"""Primitives autograd records on wrapper subclasses (``_python_dispatch.record``): their backward is built from ops
on the saved tensors, which reach the wrapper's handler (``tests/test_torch_dispatch.py`` checks each gradient). The
others read arrays of the saved tensors (the wrapper's placeholder) and are refused with an error."""
