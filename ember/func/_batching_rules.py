"""Batching rules for vmap: how each op (by its registry name) runs on physical tensors that carry the batch.

A rule ``rule(cls, level, args, kwargs)`` moves the batch dimension of the inputs batched at ``level`` to the
front, calls the op on the physical tensors (which may still be batched at outer levels: they dispatch again) and
returns the result wrapped at ``level``. Families: pointwise/broadcasting ops, ops with dim arguments (shifted by
one), shape ops, the matmul family, convolution and pooling (batch merged into N), indexing, random ops, in-place
writes. A rule returns NotImplemented for a case it does not cover, and the per-example fallback runs instead.
"""
import contextlib

from .. import _dtype
from .._tensor import Tensor
from . import _vmap
from ._vmap import BatchedTensor, batched

rules = {}


def _is_batched(a, level):
    return type(a) is BatchedTensor and a._level == level.number


def _front(a, level):
    """The physical tensor of ``a`` with the batch first; an unbatched tensor is expanded to the batch size."""
    if _is_batched(a, level):
        return a._value.movedim(a._bdim, 0) if a._bdim else a._value
    return a.unsqueeze(0).expand(level.size, *a.shape)


def _front_at_rank(a, level, rank):
    """``_front(a, level)`` with size-1 dims after the batch that give the example ``rank`` dims, so that its own
    dims line up with the trailing ones (as broadcasting aligns them), not with the batch."""
    front = _front(a, level)
    added = rank - a.dim()
    return front.reshape(level.size, *(1,) * added, *a.shape) if added > 0 else front


def _out(result, level, bdim=0):
    if isinstance(result, Tensor):
        return batched(result, bdim, level.number)
    if isinstance(result, tuple):
        wrapped = [_out(r, level, bdim) for r in result]
        return type(result)(*wrapped) if hasattr(result, "_fields") else tuple(wrapped)
    if isinstance(result, list):
        return [_out(r, level, bdim) for r in result]
    return result


def register(*names):
    def install(rule):
        for name in names:
            rules[name] = rule
        return rule
    return install


# --- pointwise and broadcasting ops ---------------------------------------------------------------------------------
def _aligned(args, level):
    """Tensor args with the batch first and padded with size-1 dims so that logical broadcasting is kept."""
    rank = max(a.dim() for a in args if isinstance(a, Tensor))
    return [_front_at_rank(a, level, rank) if _is_batched(a, level) else a for a in args]


POINTWISE = """Abs Acos Acosh Add Angle Asin Asinh Atan Atan2 Atanh Clamp Complex Conj Copysign Cos Cosh Digamma Div Erf
Erfc Erfinv Exp Exp2 Expm1 Fmax Fmin Fmod Frac Gelu Hypot I0 Igamma Igammac Imag Lgamma Log Log10 Log1p Log2 Logaddexp
Logaddexp2 Logit Maximum Minimum Mul NanToNum Neg Polygamma Pow Real Relu ReluGrad Hardtanh HardtanhGrad Remainder Round
RoundedDiv Rsqrt Sigmoid Sign Sin Sinh Sqrt Sub Tan Tanh Where Xlogy ZeroNan Zeta SpecialErfcx SpecialI0E SpecialI1 SpecialI1E
SpecialLogNdtr SpecialNdtri SqrtOfVariance Cast Clone ToDevice BinaryCrossEntropy Triangle eq ne lt le gt ge
Hardswish Hardsigmoid HuberElements Lerp
ViewAsReal ViewAsComplex logical_and logical_or logical_xor logical_not bitwise_and bitwise_or bitwise_xor bitwise_not
bitwise_left_shift bitwise_right_shift floor_divide isnan isinf isposinf isneginf isfinite isreal signbit isclose""".split()


@register(*POINTWISE)
def pointwise(cls, level, args, kwargs):
    return _out(cls.apply(*_aligned(args, level), **kwargs), level)


@register("ToLayout")
def to_layout(cls, level, args, kwargs):
    """A copy laid out in ``order``: the batch dim first, outermost, and the example's axes after it."""
    x, order = args
    return _out(cls.apply(_front(x, level), (0,) + tuple(axis + 1 for axis in order)), level)


# --- ops with dim arguments -----------------------------------------------------------------------------------------
def _shift(dims):
    return dims + 1 if isinstance(dims, int) else tuple(d + 1 for d in dims)


def _dims_at(position):
    """Rule for ops whose only tensor is the first argument and whose argument ``position`` holds dims."""
    def rule(cls, level, args, kwargs):
        if any(_is_batched(a, level) for a in args[1:]) or args[position] is None:
            return NotImplemented
        args = list(args)
        args[0] = _front(args[0], level)
        args[position] = _shift(args[position])
        return _out(cls.apply(*args, **kwargs), level)
    return rule


for _name, _position in {"Sum": 1, "Amax": 1, "Logsumexp": 1, "Softmax": 1, "LogSoftmax": 1, "Prod": 1, "Cumsum": 1,
                         "Logcumsumexp": 1, "Cumprod": 1, "ReverseCumsum": 1, "Flip": 1, "Unbind": 1, "Split": 1,
                         "VectorNorm": 2, "PowerNorm": 2, "Roll": 2, "SquaredDeviations": 1,
                         "FftC2C": 1, "FftR2C": 1, "FftC2R": 1}.items():
    rules[_name] = _dims_at(_position)


@register("Gather", "TakeAlongDim", "Scatter")
def gather_like(cls, level, args, kwargs):
    *tensors, dim = args
    return _out(cls.apply(*[_front(t, level) if isinstance(t, Tensor) else t for t in tensors], dim + 1), level)


@register("index_select")
def index_select_by_index(cls, level, args, kwargs):
    """A batched index: each example's rows picked by advanced indexing (the getitem rule); otherwise the composite
    runs, its IndexSelect batched below."""
    bound = dict(zip(("input", "dim", "index"), args), **kwargs)
    input, dim, index = bound["input"], bound["dim"], bound["index"]
    if not _is_batched(index, level) or kwargs.get("out") is not None:
        return cls._apply(args, kwargs)
    dim = dim % max(input.dim(), 1)
    return input.movedim(dim, 0)[index.reshape(-1)].movedim(0, dim)


@register("IndexSelect")
def index_select(cls, level, args, kwargs):
    input, index, dim = args
    return _out(cls.apply(_front(input, level), index, dim + 1), level)


@register("Cat", "Stack")
def cat_like(cls, level, args, kwargs):
    *tensors, dim = args
    return _out(cls.apply(*[_front(t, level) for t in tensors], dim + 1), level)


@register("argmax", "argmin", "any", "all")
def reduce_to_index(cls, level, args, kwargs):
    input, *rest = args
    options = dict(zip(("dim", "keepdim"), rest), **kwargs)
    if options.get("out") is not None:
        return NotImplemented
    value, dim = _front(input, level), options.get("dim")
    if dim is None:
        result = cls.apply(value.reshape(level.size, -1), 1)
        if options.get("keepdim"):
            result = result.reshape(level.size, *(1,) * input.dim())
        return _out(result, level)
    dim = tuple(d % max(input.dim(), 1) for d in dim) if isinstance(dim, (tuple, list)) else dim % max(input.dim(), 1)
    return _out(cls.apply(value, _shift(dim), options.get("keepdim", False)), level)


@register("_is_all_true", "_is_any_true")
def whole_batch(cls, level, args, kwargs):
    """One answer for the whole batch, unbatched (so that validation can branch on it), as PyTorch's rule."""
    return cls.apply(_front(args[0], level))


def _data_dim_op(position, default, pick_from_flat=False):
    """Rule for ops that pick elements along a dim from the data (max, sort, topk, ...): the dim shifts by one; with
    no dim the op's own body runs, its inner ops dispatching, or (``pick_from_flat``: the medians, whose whole-tensor
    form picks one element too) the op picks along each example flattened."""
    def rule(cls, level, args, kwargs):
        args, kwargs = list(args), dict(kwargs)
        if len(args) > position:
            dim = args[position]
        else:
            dim = kwargs.get("dim", default)
        if isinstance(dim, Tensor):   # max(input, other): elementwise
            return pointwise(cls, level, args, kwargs)
        if kwargs.get("out") is not None or any(_is_batched(a, level) for a in args[1:]):
            return NotImplemented
        if dim is None and pick_from_flat and not kwargs and len(args) == 1 and args[0].numel():
            return _out(cls.apply(_front(args[0], level).reshape(level.size, -1), 1)[0], level)
        if dim is None:   # a full reduction: the op's own body, whose primitives dispatch
            return cls._apply(tuple(args), kwargs)
        dim = dim % max(args[0].dim(), 1) + 1
        if len(args) > position:
            args[position] = dim
        else:
            kwargs["dim"] = dim
        args[0] = _front(args[0], level)
        return _out(cls.apply(*args, **kwargs), level)
    return rule


for _name, (_position, _default) in {"max": (1, None), "min": (1, None), "cummax": (1, None), "cummin": (1, None),
                                     "sort": (1, -1), "argsort": (1, -1), "topk": (2, -1), "kthvalue": (2, -1),
                                     "mode": (1, -1)}.items():
    rules[_name] = _data_dim_op(_position, _default)
rules["median"] = rules["nanmedian"] = _data_dim_op(1, None, pick_from_flat=True)


@register("nonzero", "unique")
def dynamic_shape(cls, level, args, kwargs):
    """Ops whose result size depends on each example's data cannot be batched, as in PyTorch."""
    name = "_unique2" if cls.__name__ == "unique" else cls.__name__
    raise RuntimeError(f"vmap: We do not support batching operators that can output dynamic shape. Attempted to vmap "
                       f"over aten::{name}. Please file an issue at https://github.com/pytorch/pytorch/issues if you "
                       "need this feature.")


@register("masked_select")
def masked_select(cls, level, args, kwargs):
    """The same elements of every example (an unbatched mask); a batched mask is refused, as PyTorch refuses it: the
    examples would select different numbers of elements."""
    input, mask = args
    if _is_batched(mask, level):
        raise RuntimeError("vmap: Attempted to vmap over `mask` in torch.masked_select(self, mask) We cannot support "
                           "this because for each batch this would return a differently shaped Tensor. Please file an "
                           "issue at https://github.com/pytorch/pytorch/issues if you need this feature.")
    selected = cls.apply(_front_at_rank(input, level, mask.dim()), mask)
    return _out(selected.reshape(level.size, selected.numel() // level.size), level)


@register("one_hot")
def one_hot(cls, level, args, kwargs):
    """The classes of every example checked and encoded at once; ``num_classes`` must be given, as in PyTorch."""
    num_classes = args[1] if len(args) > 1 else kwargs.get("num_classes", -1)
    if num_classes == -1:
        raise RuntimeError("When vmap-ing torch.nn.functional.one_hot, please provide an explicit positive "
                           "num_classes argument.")
    return _out(cls.apply(_front(args[0], level), num_classes), level)


# --- shape ops ------------------------------------------------------------------------------------------------------
@register("Reshape")
def reshape(cls, level, args, kwargs):
    input, shape = args
    return _out(cls.apply(_front(input, level), (level.size, *shape)), level)


@register("Expand", "ExpandedCopy")
def expand(cls, level, args, kwargs):
    """The batch first, then size-1 dims for those ``shape`` adds in front, so that the example's dims line up with
    the trailing ones of ``shape`` (not with the batch)."""
    input, shape = args
    return _out(cls.apply(_front_at_rank(input, level, len(shape)), (level.size, *shape)), level)


@register("Permute")
def permute(cls, level, args, kwargs):
    input, dims = args
    return _out(cls.apply(_front(input, level), (0, *_shift(tuple(dims)))), level)


@register("Slice")
def slice_(cls, level, args, kwargs):
    input, key = args
    key = key if isinstance(key, tuple) else (key,)
    return _out(cls.apply(_front(input, level), (slice(None), *key)), level)


@register("Index")
def index(cls, level, args, kwargs):
    input, (basic, advanced) = args
    if advanced is not None:
        arrays = [i for i, k in enumerate(advanced) if not isinstance(k, slice)]
        if arrays and arrays != list(range(arrays[0], arrays[-1] + 1)):
            return NotImplemented   # separated index arrays move their dims to the front, ahead of the batch
        advanced = (slice(None), *advanced)
    return _out(cls.apply(_front(input, level), ((slice(None), *basic), advanced)), level)


@register("Pad")
def pad(cls, level, args, kwargs):
    input, widths, *rest = args
    return _out(cls.apply(_front(input, level), ((0, 0), *widths), *rest), level)


@register("Repeat")
def repeat(cls, level, args, kwargs):
    """As ``expand``: the dims ``repeats`` adds in front of the example go after the batch."""
    input, repeats = args
    return _out(cls.apply(_front_at_rank(input, level, len(repeats)), (1, *repeats)), level)


@register("AsStrided")
def as_strided(cls, level, args, kwargs):
    """Each example's window at the same place relative to the example (PyTorch's vmap semantics): the batch is one
    more strided dim, stepping by the batch's stride in the storage."""
    input, size, stride, offset = args
    front = _front(input, level)
    return _out(cls.apply(front, (level.size, *size), (front.stride(0), *stride), offset), level)


@register("DiagEmbed")
def diag_embed(cls, level, args, kwargs):
    input, shape, offset, dim1, dim2 = args
    return _out(cls.apply(_front(input, level), (level.size, *shape), offset, dim1 + 1, dim2 + 1), level)


def _basic(key):
    return all(k is None or k is Ellipsis or isinstance(k, (int, slice)) for k in key)


@register("getitem")
def getitem(cls, level, args, kwargs):
    input, key = args
    key = key if isinstance(key, tuple) else (key,)
    if _is_batched(input, level) and not any(_is_batched(k, level) for k in key):
        advanced = [i for i, k in enumerate(key) if not (k is None or k is Ellipsis or isinstance(k, (int, slice)))]
        # PyTorch moves the dims of advanced indices separated by basic ones to the front: that the batch cannot keep
        if _basic(key) or (advanced and advanced == list(range(advanced[0], advanced[-1] + 1))
                           and not any(isinstance(k, int) for k in key)):
            return _out(cls.apply(_front(input, level), (slice(None), *key)), level)
    tensors = [i for i, k in enumerate(key) if isinstance(k, Tensor)]
    if tensors and tensors == list(range(len(tensors))) and all(
            key[i].dtype in (_dtype.int64, _dtype.int32) for i in tensors) and all(
            k is Ellipsis or isinstance(k, slice) for k in key[len(tensors):]):
        # batched integer indices leading the key: one advanced index with the examples' positions in front
        from .. import arange
        rank = max(key[i].dim() for i in tensors)
        positions = arange(level.size, device=input.device).reshape(level.size, *(1,) * rank)
        fronted = [_front_at_rank(key[i], level, rank) for i in tensors]
        return _out(cls.apply(_front(input, level), (positions, *fronted, *key[len(tensors):])), level)
    return NotImplemented


# --- the matmul family, linear, einsum ------------------------------------------------------------------------------
def _matrices(a, b, level):
    """Physical operands for a batched matmul with the batch first, vectors made matrices (a left one a row, a right
    one a column, batched or not: the primitive's backward takes matrices); which vector dims to drop afterwards."""
    drop = []
    operands = []
    for x, vector_dim in ((a, -2), (b, -1)):
        value, rank = (_front(x, level), max(x.dim(), 2)) if _is_batched(x, level) else (x, None)
        if x.dim() == 1:
            value = value.unsqueeze(vector_dim)
            drop.append(vector_dim)
        operands.append((value, rank))
    rank = max(r if r is not None else x.dim() for (x, r) in operands)
    physical = [x if r is None else x.reshape(level.size, *(1,) * (rank - r), *x.shape[1:]) for x, r in operands]
    return physical, drop


@register("Matmul")
def matmul(cls, level, args, kwargs):
    (a, b), drop = _matrices(*args, level)
    result = cls.apply(a, b)
    for dim in sorted(drop):   # the row dim (-2) of a vector left operand first, then the column of a right one
        result = result.squeeze(dim)
    return _out(result, level)


@register("Linear")
def linear(cls, level, args, kwargs):
    input, weight, *bias = args
    bias = bias[0] if bias else None
    if not _is_batched(weight, level) and not _is_batched(bias, level):
        return _out(cls.apply(_front(input, level), weight, *([bias] if bias is not None else [])), level)
    from .. import matmul as mm
    x = _front(input, level)
    flat = x.reshape(level.size, -1, input.shape[-1])
    result = mm(flat, _front(weight, level).transpose(1, 2))
    result = result.reshape(level.size, *input.shape[:-1], weight.shape[0])
    if bias is not None:
        result = result + _front(bias, level).reshape(level.size, *(1,) * (input.dim() - 1), -1)
    return _out(result, level)


@register("NativeLayerNorm")
def layer_norm(cls, level, args, kwargs):
    """The statistics are over trailing dims: a batch in front is more rows (a batched weight or bias runs per
    example)."""
    input, weight, bias, *rest = args
    if _is_batched(weight, level) or _is_batched(bias, level):
        return NotImplemented
    return _out(cls.apply(_front(input, level), weight, bias, *rest), level)


_UNBATCHED_STATISTICS = (
    "Batch norm got a batched tensor as input while the running_mean or running_var, which will be updated in place, "
    "were not batched.\nIf you are using a module and do not need eval mode, please set `track_running_stats` to be "
    "False.If you are using a prebuilt module and do not need eval mode, please see the functorch website for "
    "resources on how to patch your module to work with vmap")


@register("instance_norm_running_stats")
def instance_norm_running_stats(cls, level, args, kwargs):
    """Instance norm's statistics of batched samples go into running statistics batched alike, or raise batch
    norm's error (PyTorch's instance norm is its batch norm)."""
    if not (_is_batched(args[0], level) and _is_batched(args[1], level)):
        raise RuntimeError(_UNBATCHED_STATISTICS)
    return cls.function(*args, **kwargs)


def _batch_norm_per_example(cls, level, input, stats, stats_batched, weight, bias, training, momentum, eps):
    """Batch norm with each example's own running statistics (an ensemble's stacked buffers): the examples' channels
    are channels of one batch norm, whose updates of the statistics write through views into the stacked ones."""
    size, (n, channels, *rest) = level.size, input.shape
    flat_stats = []
    for stat, batched_ in zip(stats, stats_batched):
        if stat is None:
            flat_stats.append(None)
            continue
        if not batched_:   # (the same statistics for every example: eval only, the training case refused above)
            flat_stats.append(stat.repeat(size))
            continue
        front = _front(stat, level)
        if training and not front.is_contiguous():   # a copy would not take the update
            return NotImplemented
        flat_stats.append(front.reshape(size * channels))
    affine = [None if t is None else _front(t, level).reshape(size * channels) if _is_batched(t, level) else
              t.repeat(size) for t in (weight, bias)]
    folded = _front(input, level).transpose(0, 1).reshape(n, size * channels, *rest)
    out = cls.apply(folded, *flat_stats, *affine, training, momentum, eps)
    return _out(out.reshape(n, size, channels, *rest).transpose(0, 1), level)


@register("ChannelAffine")
def channel_affine(cls, level, args, kwargs):
    """``x * scale + shift`` per channel (dim 1): the batch joins N; batched scales broadcast per example."""
    x, scale, shift = args
    if _is_batched(scale, level) or _is_batched(shift, level):
        shape = (x.shape[1],) + (1,) * (x.dim() - 2)
        return x * scale.reshape(shape) + shift.reshape(shape)
    merged, unfold = _merged(x, level)
    return _out(unfold(cls.apply(merged, scale, shift)), level)


_BATCH_NORM_ARGUMENTS = ("input", "running_mean", "running_var", "weight", "bias", "training", "momentum", "eps")


@register("batch_norm")
def batch_norm(cls, level, args, kwargs):
    """PyTorch's rule: running statistics a training call updates in place must be batched where the input is.
    Otherwise each example is normalized on its own: in training the batch joins the channels (statistics per
    example and channel), by running statistics it joins N; a batched weight or bias is applied after."""
    bound = {"weight": None, "bias": None, "training": False, "momentum": 0.1, "eps": 1e-5,
             **dict(zip(_BATCH_NORM_ARGUMENTS, args)), **kwargs}
    input, mean, var, weight, bias = (bound[name] for name in _BATCH_NORM_ARGUMENTS[:5])
    training, momentum, eps = bound["training"], bound["momentum"], bound["eps"]
    stats_batched = [_is_batched(t, level) for t in (mean, var)]
    if training and _is_batched(input, level) and any(t is not None and not batched_ for t, batched_ in
                                                       zip((mean, var), stats_batched)):
        raise RuntimeError(_UNBATCHED_STATISTICS)
    if any(stats_batched):   # running statistics per example: the batch joins the channels
        return _batch_norm_per_example(cls, level, input, (mean, var), stats_batched, weight, bias, training,
                                       momentum, eps)
    if _is_batched(weight, level) or _is_batched(bias, level):
        out = cls.apply(input, mean, var, None, None, training, momentum, eps)
        shape = (input.shape[1],) + (1,) * (input.dim() - 2)
        if weight is not None:
            out = out * weight.reshape(shape)
        return out if bias is None else out + bias.reshape(shape)
    x, size, (n, channels, *rest) = _front(input, level), level.size, input.shape
    if training:
        folded = x.transpose(0, 1).reshape(n, size * channels, *rest)
        out = cls.apply(folded, None, None, None if weight is None else weight.repeat(size),
                        None if bias is None else bias.repeat(size), True, momentum, eps)
        return _out(out.reshape(n, size, channels, *rest).transpose(0, 1), level)
    out = cls.apply(x.reshape(size * n, channels, *rest), mean, var, weight, bias, False, momentum, eps)
    return _out(out.reshape(size, n, channels, *rest), level)


@register("Einsum")
def einsum(cls, level, args, kwargs):
    *operands, equation = args
    inputs, _, output = equation.replace(" ", "").partition("->")
    if not _ or "..." in equation:
        return NotImplemented
    letter = next(c for c in "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkjihgfedcba" if c not in equation)
    terms = inputs.split(",")
    physical = [_front(t, level) if _is_batched(t, level) else t for t in operands]
    terms = [letter + term if _is_batched(t, level) else term for term, t in zip(terms, operands)]
    return _out(cls.apply(*physical, ",".join(terms) + "->" + letter + output), level)


# --- convolution and pooling: the batch joins the N dimension -------------------------------------------------------
def _merged(x, level):
    """Physical ``x`` (N, C, ...) with the batch folded into N; and how to unfold a result."""
    value = _front(x, level)
    merged = value.reshape(level.size * x.shape[0], *x.shape[1:])
    return merged, lambda r: r.reshape(level.size, x.shape[0], *r.shape[1:])


@register("Convolution")
def convolution(cls, level, args, kwargs):
    x, w, stride, padding, dilation, groups, *bias = args
    bias = bias[0] if bias else None
    if not _is_batched(w, level):
        merged, unfold = _merged(x, level)
        if not _is_batched(bias, level):
            biases = [] if bias is None else [bias]
            return _out(unfold(cls.apply(merged, w, stride, padding, dilation, groups, *biases)), level)
        # a per-example bias is added after the convolution, as an unfused one adds it
        result = unfold(cls.apply(merged, w, stride, padding, dilation, groups))
        return _out(result + _front(bias, level).reshape(level.size, 1, -1, *(1,) * (result.dim() - 3)), level)
    # per-example weights: one group per example, the batch beside the channels
    xs = _front(x, level)                                                    # B, N, C, ...
    n = x.shape[0]
    xs = xs.movedim(0, 1).reshape(n, level.size * x.shape[1], *x.shape[2:])   # N, B*C, ...
    ws = _front(w, level).reshape(level.size * w.shape[0], *w.shape[1:])      # B*O, C/g, ...
    biases = [] if bias is None else [_front(bias, level).reshape(-1)]       # B*O
    result = cls.apply(xs, ws, stride, padding, dilation, groups * level.size, *biases)
    return _out(result.reshape(n, level.size, w.shape[0], *result.shape[2:]), level, bdim=1)


@register("grid_sampler")
def grid_sampler(cls, level, args, kwargs):
    """The batch folded into N of the input and of the grid (an unbatched one repeated per example)."""
    input, grid, *rest = args
    merged_input, unfold = _merged(input, level)
    merged_grid, _ = _merged(grid, level)
    return _out(unfold(cls.apply(merged_input, merged_grid, *rest, **kwargs)), level)


def _pooling(spatial):
    def rule(cls, level, args, kwargs):
        input, *rest = args
        if any(_is_batched(a, level) for a in rest + list(kwargs.values())):
            return NotImplemented
        if input.dim() == spatial + 1:   # unbatched (C, ...): the vmap batch is N
            return _out(cls.apply(_front(input, level), *rest, **kwargs), level)
        merged, unfold = _merged(input, level)
        result = cls.apply(merged, *rest, **kwargs)
        return _out(tuple(unfold(r) for r in result) if isinstance(result, tuple) else unfold(result), level)
    return rule


for _n in (1, 2, 3):
    rules[f"max_pool{_n}d"] = rules[f"adaptive_max_pool{_n}d"] = _pooling(_n)
rules["Unfold"] = _pooling(2)


@register("interpolate")
def interpolate(cls, level, args, kwargs):
    input = args[0]
    merged, unfold = _merged(input, level)
    return _out(unfold(cls.apply(merged, *args[1:], **kwargs)), level)


@register("nll_loss")
def nll_loss(cls, level, args, kwargs):
    names = ("input", "target", "weight", "size_average", "ignore_index", "reduce", "reduction")
    options = dict(zip(names, args), **kwargs)
    input, target, weight = options.pop("input"), options.pop("target"), options.get("weight")
    if _is_batched(weight, level) or options.get("size_average") is not None or options.get("reduce") is not None:
        return NotImplemented
    reduction = options.pop("reduction", "mean")
    ignore_index = options.get("ignore_index", -100)
    x, t = _front(input, level), _front(target, level)
    if input.dim() > 1:   # (N, C, ...): the batch joins N
        x = x.reshape(level.size * input.shape[0], *input.shape[1:])
        t = t.reshape(level.size * input.shape[0], *target.shape[1:])
    loss = cls.apply(x, t, reduction="none", **options).reshape(level.size, *target.shape)
    if reduction == "none":
        return _out(loss, level)
    def per_example_sum(t):   # sum(()) would reduce every dim
        return t.sum(tuple(range(1, t.dim()))) if t.dim() > 1 else t
    if reduction == "sum":
        return _out(per_example_sum(loss), level)
    target = _front(target, level).long()
    mask = target != ignore_index
    counted = mask.to(loss.dtype) if weight is None else weight.take(target.where(mask, 0)) * mask
    return _out(per_example_sum(loss) / per_example_sum(counted), level)


@register("embedding")
def embedding(cls, level, args, kwargs):
    input, weight, *rest = args
    if _is_batched(weight, level):
        return NotImplemented
    return _out(cls.apply(_front(input, level), weight, *rest, **kwargs), level)


# --- random ops -----------------------------------------------------------------------------------------------------
@contextlib.contextmanager
def batched_draws():
    """Random draws made here cover every example (the 'different' mode of a batched random op)."""
    _vmap.batched_draw_depth[0] += 1
    try:
        yield
    finally:
        _vmap.batched_draw_depth[0] -= 1


@register("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout")
def dropout(cls, level, args, kwargs):
    input, *rest = args
    options = dict(zip(("p", "training", "inplace"), rest), **kwargs)
    if not options.get("training", cls.__name__ not in ("alpha_dropout", "feature_alpha_dropout")) \
            or options.get("p", 0.5) == 0:
        return _out(_front(input, level), level)
    if options.get("inplace"):
        return NotImplemented
    if level.randomness == "error":
        _vmap._random_check()
    if level.randomness == "same":   # one mask for all examples: drop a tensor of ones of the example's shape
        from .. import ones
        mask = cls.apply(ones(input.shape, dtype=input.dtype, device=input.device), **options)
        return input * mask
    with batched_draws():
        name = cls.__name__
        if name in ("dropout", "alpha_dropout") or name[-2:-1].isdigit() and input.dim() == int(name[-2]) + 1:
            return _out(cls.apply(_front(input, level), **options), level)   # elementwise, or (C, ...): B is N
        merged, unfold = _merged(input, level)
        return _out(unfold(cls.apply(merged, **options)), level)


# --- in-place writes ------------------------------------------------------------------------------------------------
@register("CopyFrom")
def copy_from(cls, level, args, kwargs):
    """``copy_``'s value: the source cast to the target's dtype and broadcast to its (logical) shape."""
    target, source = args
    values = _front_at_rank(source, level, target.dim())
    if values.dtype != target.dtype:
        values = values.to(target.dtype)
    return _out(values.expand(level.size, *target.shape), level)


@register("Fill")
def fill(cls, level, args, kwargs):
    """``fill_``'s value over the target's (logical) shape: one number, or a batched 0-d value per example."""
    target, value = args
    if not _is_batched(value, level):
        return _out(cls.apply(_front(target, level), value), level)
    values = _front(value, level).to(target.dtype)
    return _out(values.reshape(level.size, *(1,) * target.dim()).expand(level.size, *target.shape), level)


_ARITHMETIC = ("sub_", "mul_", "multiply_", "div_", "divide_", "true_divide_", "copy_", "masked_fill_", "clamp_min_",
               "clamp_max_")   # PyTorch's in-place ops under its "inplace arithmetic" batching rules
_OWN_RULES = ("fill_", "index_add_", "index_fill_")   # in-place ops with rules of their own
_FALLBACK = ("pow_", "lerp_", "addcmul_", "addcdiv_", "floor_divide_", "remainder_", "fmod_", "clamp_",
             "index_copy_", "scatter_", "hypot_", "xlogy_",
             "ldexp_")   # in-place ops PyTorch runs through its vmap fallback


def _inplace_method():
    """The in-place method whose write is running (``mul_``), read off the call stack; "" where not found."""
    import sys
    frame = sys._getframe(2)
    for _ in range(8):
        if frame is None:
            break
        name, module = frame.f_code.co_name, frame.f_globals.get("__name__", "")
        if module == "ember.ops._inplace" and name == "method":
            return getattr(frame.f_locals.get("function"), "__name__", "") + "_"
        if module == "ember.ops.indexing" and name == "_setitem":   # x[key] = value: PyTorch's copy_
            return "copy_"
        if module.startswith("ember.ops") and name.endswith("_") and not name.startswith("_"):
            return name
        frame = frame.f_back
    return ""


def _unbatched_target_error(self, result, level):
    """PyTorch's error for writing a batched value into a tensor all examples share, which depends on the op."""
    method = _inplace_method()
    if method in _ARITHMETIC or method in _OWN_RULES or method in _FALLBACK:
        name = "inplace arithmetic" if method in _ARITHMETIC else method if method in _OWN_RULES else f"aten::{method}"
        where = f"at level {level.number}" if method in _FALLBACK else "in a vmap"
        return RuntimeError(f"vmap: {name}(self, *extra_args) is not possible because there exists a Tensor `other` in "
                            f"extra_args that has more elements than `self`. This happened due to `other` being "
                            f"vmapped over but `self` not being vmapped over {where}. Please try to use out-of-place "
                            f"operators instead of {name}. If said operator is being called inside the PyTorch "
                            f"framework, please file a bug report instead.")
    return RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast shape "
                        f"{[level.size, *result.shape]}")


@register("AssignInplace")
def assign_inplace(cls, level, args, kwargs):
    self, result = args
    if not _is_batched(self, level):
        # as PyTorch: the batched result cannot be written into the one tensor all examples share
        raise _unbatched_target_error(self, result, level)
    if _is_batched(result, level):
        node = result._value.grad_fn
        if node is not None:   # the op's saved batch-first view of self keeps the values from before the write
            from ..ops import _buffers
            node._snapshot_input(self._value, _buffers.copy, whole_views=True)
        source = result._value.movedim(result._bdim, self._bdim)
    else:
        source = result.reshape((1,) * (self.dim() - result.dim()) + tuple(result.shape)).unsqueeze(self._bdim)
        source = source.expand(self._value.shape)
    cls.apply(self._value, source)
    return self
