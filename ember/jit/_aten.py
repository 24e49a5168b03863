"""The ``aten::``/``prim::`` ops that TorchScript source names, each mapped to ember with TorchScript's argument
order: what ``torch.<op>(...)`` in a ``.pt`` archive's ``code/`` runs as. The table is the whole vocabulary: a
name outside it is an error naming the op, never a lookup of arbitrary Python."""
import operator

from .. import _dtype
from ..nn import functional as F
from . import _language, _recurrent

# TorchScript passes dtypes as ScalarType numbers (c10/core/ScalarType.h).
_SCALAR_TYPES = {0: "uint8", 1: "int8", 2: "int16", 3: "int32", 4: "int64", 5: "float16", 6: "float32",
                 7: "float64", 9: "complex64", 10: "complex128", 11: "bool", 15: "bfloat16"}


def _dtype_of(code):
    if code is None or isinstance(code, _dtype.dtype):
        return code
    name = _SCALAR_TYPES.get(code)
    if name is None:
        raise RuntimeError(f"unsupported ScalarType {code} in a TorchScript program")
    return getattr(_dtype, name if name != "bool" else "bool_")


def _ember():
    import ember
    return ember


def _convolution(x, weight, bias, stride, padding, dilation, transposed, output_padding, groups, *flags):
    n = weight.ndim - 2
    if transposed:
        function = getattr(F, f"conv_transpose{n}d")
        return function(x, weight, bias, stride, padding, output_padding, groups, dilation)
    return getattr(F, f"conv{n}d")(x, weight, bias, stride, padding, dilation, groups)


def _batch_norm(x, weight, bias, mean, var, training, momentum, eps, cudnn_enabled=True):
    return F.batch_norm(x, mean, var, weight, bias, training, momentum, eps)


def _layer_norm(x, shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True):
    return F.layer_norm(x, shape, weight, bias, eps)


def _group_norm(x, groups, weight=None, bias=None, eps=1e-5, cudnn_enable=True):
    return F.group_norm(x, groups, weight, bias, eps)


def _embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    return F.embedding(indices, weight, None if padding_idx < 0 else padding_idx)


def _add(a, b, alpha=1):
    return a + b if alpha == 1 else a + b * alpha


def _sub(a, b, alpha=1):
    return a - b if alpha == 1 else a - b * alpha


def _sum(x, dim=None, keepdim=False, dtype=None):
    if isinstance(dim, int) and not isinstance(dim, bool) and keepdim is False and dtype is None and \
            not isinstance(x, list):
        return x.sum(dim)
    if dim is not None and not isinstance(dim, (list, tuple, int)):   # sum(x, dtype)
        return x.sum(dtype=_dtype_of(dim))
    return x.sum(dim, keepdim=keepdim, dtype=_dtype_of(dtype)) if dim is not None else x.sum(dtype=_dtype_of(dtype))


def _mean(x, dim=None, keepdim=False, dtype=None):
    return x.mean(dim, keepdim=keepdim, dtype=_dtype_of(dtype)) if dim is not None else x.mean(dtype=_dtype_of(dtype))


def _softmax(function):
    def apply(x, dim, dtype=None):
        return function(x, dim, dtype=_dtype_of(dtype))
    return apply


def _slice(x, dim=0, start=None, end=None, step=1):
    key = (slice(None),) * (dim % x.ndim) + (slice(start, end, step),)
    return x[key]


def _select(x, dim, index):
    return x[(slice(None),) * (dim % x.ndim) + (index,)]


def _factory(name):
    def create(size, dtype=None, layout=None, device=None, pin_memory=None, **kwargs):
        return getattr(_ember(), name)(*size, dtype=_dtype_of(dtype))
    return create


def _like(name):
    def create(x, dtype=None, layout=None, device=None, pin_memory=None, memory_format=None):
        return getattr(_ember(), name)(x, dtype=_dtype_of(dtype))
    return create


def _to(x, *args, **kwargs):
    dtype = next((a for a in args if isinstance(a, int) and not isinstance(a, bool)), None)
    return x if dtype is None else x.to(_dtype_of(dtype))


def _max_pool(n):
    def pool(x, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
        return getattr(F, f"max_pool{n}d")(x, kernel_size, stride or None, padding, dilation, ceil_mode)
    return pool


def _avg_pool(n):
    def pool(x, kernel_size, stride=(), padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
        extra = (divisor_override,) if n > 1 else ()
        return getattr(F, f"avg_pool{n}d")(x, kernel_size, stride or None, padding, ceil_mode, count_include_pad,
                                            *extra)
    return pool


def _method(name):
    def call(x, *args, **kwargs):
        return getattr(x, name)(*args, **kwargs)
    return call


def _attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False):
    return F.scaled_dot_product_attention(query, key, value, attn_mask, dropout_p, is_causal, scale=scale,
                                          enable_gqa=enable_gqa)


def _upsample_nearest(x, output_size=None, *scales):
    """``aten::upsample_nearest2d``: (output_size, scales_h, scales_w), or the ``.vec`` overload's
    (output_size, scale_factors) that traced ``nn.Upsample(scale_factor=...)`` calls with no size."""
    if output_size is not None:
        return F.interpolate(x, size=output_size, mode="nearest")
    return F.interpolate(x, scale_factor=list(scales[0] if len(scales) == 1 else scales), mode="nearest")


def _raise(message):
    """A scripted ``raise`` or failed ``assert``: PyTorch's ``torch.jit.Error`` (not a RuntimeError)."""
    raise _language.Error(f"The following operation failed in the TorchScript interpreter: {message}")


def _unsupported_list_op(*args):
    raise RuntimeError("list mutation is not supported in loaded TorchScript programs")


def _table():
    ember = _ember()
    table = {
        "aten::_convolution": _convolution, "aten::conv1d": F.conv1d, "aten::conv2d": F.conv2d,
        "aten::conv3d": F.conv3d, "aten::linear": F.linear, "aten::batch_norm": _batch_norm,
        "aten::layer_norm": _layer_norm, "aten::group_norm": _group_norm, "aten::embedding": _embedding,
        "aten::dropout": lambda x, p, train: F.dropout(x, p, train), "aten::feature_dropout":
            lambda x, p, train: F.dropout2d(x, p, train),
        "aten::relu": F.relu, "aten::relu_": F.relu, "aten::gelu": lambda x, approximate="none":
            F.gelu(x, approximate=approximate), "aten::sigmoid": ember.sigmoid, "aten::tanh": ember.tanh,
        "aten::hardtanh": F.hardtanh, "aten::hardtanh_": F.hardtanh, "aten::leaky_relu": F.leaky_relu,
        "aten::leaky_relu_": F.leaky_relu, "aten::silu": F.silu, "aten::elu": F.elu, "aten::exp": ember.exp,
        "aten::log": ember.log, "aten::sqrt": ember.sqrt, "aten::abs": ember.abs, "aten::neg": operator.neg,
        "aten::softmax": _softmax(F.softmax), "aten::log_softmax": _softmax(F.log_softmax),
        "aten::max_pool1d": _max_pool(1), "aten::max_pool2d": _max_pool(2), "aten::max_pool3d": _max_pool(3),
        "aten::avg_pool1d": _avg_pool(1), "aten::avg_pool2d": _avg_pool(2), "aten::avg_pool3d": _avg_pool(3),
        "aten::adaptive_avg_pool1d": F.adaptive_avg_pool1d, "aten::adaptive_avg_pool2d": F.adaptive_avg_pool2d,
        "aten::adaptive_avg_pool3d": F.adaptive_avg_pool3d,
        "aten::add": _add, "aten::add_": _add, "aten::sub": _sub, "aten::sub_": _sub, "aten::rsub":
            lambda a, b, alpha=1: _sub(b, a, alpha), "aten::mul": operator.mul, "aten::mul_": operator.mul,
        "aten::div": lambda a, b, rounding_mode=None: a / b if rounding_mode is None else
            ember.div(a, b, rounding_mode=rounding_mode), "aten::div_": operator.truediv,
        "aten::floordiv": operator.floordiv, "aten::remainder": operator.mod, "aten::pow": operator.pow,
        "aten::matmul": ember.matmul, "aten::mm": ember.matmul, "aten::bmm": ember.matmul,
        "aten::addmm": lambda c, a, b, beta=1, alpha=1: c * beta + ember.matmul(a, b) * alpha,
        "aten::gt": operator.gt, "aten::lt": operator.lt, "aten::ge": operator.ge, "aten::le": operator.le,
        "aten::eq": operator.eq, "aten::ne": operator.ne, "aten::__not__": operator.not_,
        "aten::__and__": operator.and_, "aten::__or__": operator.or_,
        "aten::Bool": bool, "aten::Int": int, "aten::Float": float, "aten::ScalarImplicit": lambda x: x.item(),
        "prim::NumToTensor": lambda x: ember.tensor(x), "aten::sum": _sum, "aten::mean": _mean,
        "aten::size": lambda x, dim=None: tuple(x.shape) if dim is None else x.shape[dim],
        "aten::dim": lambda x: x.ndim, "aten::len": len, "aten::numel": lambda x: x.numel(),
        "aten::view": lambda x, shape: x.view(*shape), "aten::reshape": lambda x, shape: x.reshape(*shape),
        "aten::flatten": lambda x, start_dim=0, end_dim=-1: x.flatten(start_dim, end_dim),
        "aten::contiguous": lambda x, memory_format=0: x.contiguous(),
        "aten::clone": lambda x, memory_format=None: x.clone(),
        "aten::detach": lambda x: x.detach(), "aten::to": _to, "aten::t": lambda x: x.t(),
        "aten::transpose": lambda x, a, b: x.transpose(a, b), "aten::permute": lambda x, dims: x.permute(*dims),
        "aten::unsqueeze": lambda x, dim: x.unsqueeze(dim), "aten::squeeze": lambda x, dim=None:
            x.squeeze() if dim is None else x.squeeze(dim), "aten::expand": lambda x, size, implicit=False:
            x.expand(*size), "aten::select": _select, "aten::slice": _slice, "aten::chunk": _method("chunk"),
        "aten::cat": lambda tensors, dim=0: ember.cat(tensors, dim), "aten::stack": lambda tensors, dim=0:
            ember.stack(tensors, dim), "aten::zeros": _factory("zeros"), "aten::ones": _factory("ones"),
        "aten::full": lambda size, fill_value, dtype=None, layout=None, device=None, pin_memory=None:
            ember.full(tuple(size), fill_value, dtype=_dtype_of(dtype)),
        "aten::empty": lambda size, dtype=None, layout=None, device=None, pin_memory=None, memory_format=None:
            ember.empty(tuple(size), dtype=_dtype_of(dtype)),
        "aten::zeros_like": _like("zeros_like"), "aten::ones_like": _like("ones_like"),
        "aten::max": _method("max"), "aten::min": _method("min"), "aten::argmax": _method("argmax"),
        "aten::clamp": lambda x, min=None, max=None: x.clamp(min, max), "aten::__getitem__": operator.getitem,
        "aten::append": _unsupported_list_op, "aten::floor": ember.floor,
        "aten::upsample_nearest2d": _upsample_nearest,
        "aten::pixel_shuffle": F.pixel_shuffle, "aten::tensor": lambda data, dtype=None, device=None,
            requires_grad=False: ember.tensor(data, dtype=_dtype_of(dtype)),
        "prim::TupleConstruct": lambda *items: items, "prim::ListConstruct": lambda *items: list(items),
        "prim::TupleUnpack": lambda items: tuple(items),
        "prim::ListUnpack": lambda items: tuple(items), "prim::TupleIndex": operator.getitem,
        "prim::slice": lambda start, stop, step: slice(start, stop, step), "prim::RaiseException": _raise,
        "aten::__contains__": lambda container, item: item in container,
        "aten::__is__": operator.is_, "aten::__isnot__": operator.is_not,
        "aten::format": lambda template, *items: template.format(*items),
        "prim::dtype": lambda x: x.dtype, "prim::device": lambda x: x.device,
        "prim::requires_grad": lambda x: x.requires_grad, "prim::is_cuda": lambda x: x.is_cuda,
        "prim::is_nested": lambda x: x.is_nested,
        "aten::unflatten": lambda x, dim, sizes: x.unflatten(dim, sizes),
        "aten::scaled_dot_product_attention": _attention,
        "prim::tuple": tuple, "prim::list": list,
        "prim::min": min, "prim::max": max, "prim::abs": abs,
        "aten::device": lambda name: ember.device(name),
        "aten::cumsum": lambda x, dim, dtype=None: ember.cumsum(x, dim, dtype=_dtype_of(dtype)),
        "aten::cumprod": lambda x, dim, dtype=None: ember.cumprod(x, dim, dtype=_dtype_of(dtype)),
        "aten::logcumsumexp": ember.logcumsumexp,
    }
    table.update(_recurrent.table())
    return table


_TABLE = {}


def lookup(kind):
    """The callable for an ``aten::``/``prim::`` kind, or None: the table's entry, else for ``aten::name`` the
    operator ``torch.ops.aten.name`` (PyTorch's ATen names, each running ember's op; the table holds the kinds
    whose TorchScript calls differ from those, or that must be quick)."""
    if not _TABLE:
        _TABLE.update(_table())
    found = _TABLE.get(kind)
    if found is None and kind.startswith("aten::"):
        from ..library import _aten
        name = kind[len("aten::"):]
        found = getattr(_ember().ops.aten, name, None) if _aten.implemented(name) else None
        if found is not None:
            _TABLE[kind] = found
    return found
