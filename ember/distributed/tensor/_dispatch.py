"""Ops on DTensors: every public call with a DTensor argument arrives here (``DTensor.__torch_function__``). A
sharding rule picks the placements the inputs must have and the output will have; the inputs are redistributed
where needed, the op runs on the local parts, and its tensors come back as DTensors. Autograd sees the conversions
(``to_local`` before, ``from_local`` after), so gradients are DTensors laid out as PyTorch's. An op without a rule
raises PyTorch's error for it rather than compute on the parts alone."""
import inspect
import math

from ... import overrides
from ..._tensor import Size, Tensor, _make
from ...autograd.function import Function
from ...autograd.grad_mode import no_grad, state as grad_state
from ._dtensor import DTensor, DTensorSpec, _FromLocal, _new, _ToLocal, contiguous_stride
from ._ops_matrix import cheapest, einsum_strategy, matmul_equation, output_shape
from ._ops_nn import (CONVOLUTIONS, POOL_RANKED, POOLS, attention_strategies, convolution_strategies, pool_operands,
                      pool_rank, pool_strategies)
from ._redistribute import local_shape_and_offset, normalized, reduce
from .placement_types import Partial, Replicate, Shard, _MaskPartial, _NormPartial, _StridedShard

_UNARY = """abs absolute acos arccos acosh arccosh asin arcsin asinh arcsinh atan arctan atanh arctanh bitwise_not
ceil cos cosh deg2rad digamma erf erfc erfinv exp exp2 expm1 fix floor frac i0 isfinite isinf isnan isneginf isposinf
lgamma log log10 log1p log2 logical_not logit nan_to_num neg negative positive rad2deg reciprocal relu round rsqrt
sgn sigmoid sign signbit sin sinc sinh sqrt square tan tanh trunc gelu silu mish softplus elu selu celu leaky_relu
hardtanh hardsigmoid hardswish relu6 threshold softsign tanhshrink logsigmoid softshrink hardshrink
__neg__ __pos__ __abs__ __invert__""".split()
_BINARY = """add sub subtract mul multiply div divide true_divide floor_divide remainder fmod pow float_power atan2
arctan2 hypot copysign maximum minimum fmax fmin eq ne lt le gt ge greater greater_equal less less_equal not_equal
logical_and logical_or logical_xor bitwise_and bitwise_or bitwise_xor logaddexp logaddexp2 xlogy nextafter
clamp clip clamp_min clamp_max lerp addcmul addcdiv where masked_fill rsub __rsub__ __rtruediv__ __rdiv__ __pow__
__rpow__ __floordiv__ __rfloordiv__ __rmod__ __eq__ __and__ __or__ __xor__ __lshift__ __rshift__""".split()
POINTWISE = frozenset(_UNARY + _BINARY)
IDENTITY = frozenset("clone contiguous to type type_as float double half bfloat16 cpu cuda".split())
_LIKE = frozenset("zeros_like ones_like empty_like full_like".split())
_SCALAR_OUT = frozenset("item tolist __bool__ __float__ __int__ __index__ numpy".split())
_PASS = frozenset("""requires_grad_ retain_grad register_hook register_post_accumulate_grad_hook backward
is_floating_point is_complex element_size dim ndimension get_device data_ptr is_contiguous __format__""".split())
REDUCTIONS = frozenset("sum mean amax amin max min vector_norm norm".split())
RANDOM_FILLS = frozenset("uniform_ normal_ random_ bernoulli_ exponential_ geometric_ cauchy_ log_normal_".split())
DROPOUTS = frozenset("dropout dropout1d dropout2d dropout3d alpha_dropout feature_alpha_dropout".split())


loss_parallel_handlers = []   # parallel.loss_parallel's, while its context is entered
_LOSS_OPS = frozenset("cross_entropy nll_loss log_softmax".split())


def op_name(func):
    """``func``'s PyTorch name without its namespace: "add", "add_", "__rsub__", "data" for a property."""
    full = overrides._names.get(func) or getattr(func, "__name__", str(func))
    parts = full.split(".")
    return parts[-2] if parts[-1] == "__get__" else parts[-1]


def no_rule(name, args, kwargs):
    """PyTorch's error for an op without a sharding strategy, naming the DTensor arguments' placements."""
    shown = ", ".join(f"{tuple(d.shape)}{d.placements}" for d in _dtensors(args, kwargs))
    return NotImplementedError(f"Operator aten.{name}.default does not have a sharding strategy registered. (ember's "
                               f"DTensor has no rule for it; DTensor arguments: {shown})")


def dispatch(func, args, kwargs):
    """Runs public function ``func`` on DTensor arguments by its sharding rule."""
    name = op_name(func)
    inner = overrides.unwrapped(func)
    if name in _PASS or ".nn.init." in overrides._names.get(func, ""):
        return inner(*args, **kwargs)   # (nn.init's fillers: their tensor methods come back here one by one)
    if name in RANDOM_FILLS:   # as PyTorch's on a CPU mesh: each rank draws its own part from its generator
        return _in_place_local(name, inner, args, kwargs)
    if name in DROPOUTS:
        return _dropout(inner, args, kwargs)
    if loss_parallel_handlers and name in _LOSS_OPS:
        result = loss_parallel_handlers[-1](name, inner, args, kwargs)
        if result is not NotImplemented:
            return result
    if name in ("detach", "data"):
        self = args[0]
        return _new(self._data, self._spec)
    if name.startswith("_foreach_"):
        return _foreach(name, args, kwargs)
    base = name[:-1] if name.endswith("_") and not name.endswith("__") else name
    inplace = base != name or name.startswith("__i")
    if base in POINTWISE or base in IDENTITY or name in ("copy_", "zero_", "fill_"):
        return _pointwise(name, base, inner, args, kwargs, inplace)
    if name in _LIKE:
        self = args[0]
        placements = tuple(Replicate() if p.is_partial() and name != "zeros_like" else p for p in self.placements)
        return _run(inner, args, kwargs, {id(self): placements}, self._spec.with_placements(placements))
    args, kwargs = _unstrided(args), _unstrided(kwargs)
    if name in REDUCTIONS:
        return _reduction(name, inner, args, kwargs)
    if name == "stack":
        return _stack(inner, args, kwargs)
    if name in ("cat", "concat", "concatenate"):
        return _cat(name, inner, args, kwargs)
    if name in MATRIX:
        return _matrix(name, inner, args, kwargs)
    if name == "einsum":
        return _einsum(inner, args, kwargs)
    if name in ROWWISE:
        return _rowwise(name, inner, args, kwargs)
    if name == "embedding":
        return _embedding(name, inner, args, kwargs)
    if name in POOLS:
        return _pool(name, inner, args, kwargs)
    if name == "scaled_dot_product_attention":
        return _attention(inner, args, kwargs)
    if name in CONVOLUTIONS:
        return _convolution(name, inner, args, kwargs)
    if name in _PERMUTING or name in _RESHAPING:
        return _shape_op(name, inner, args, kwargs)
    if name in _SCALAR_OUT:   # as PyTorch's: the local part's values, a partial one unreduced
        return inner(_make(args[0]._data), *args[1:], **kwargs)
    raise no_rule(name, args, kwargs)


def _unstrided(value):
    """``value`` (args, kwargs, lists) with each DTensor's ``_StridedShard`` mesh dimensions gathered to Replicate
    (FSDP over TP): the rules below know Shard, Replicate and Partial; pointwise ops keep the strided layout."""
    if isinstance(value, DTensor) and any(isinstance(p, _StridedShard) for p in value.placements):
        placements = [Replicate() if isinstance(p, _StridedShard) else p for p in value.placements]
        return value.redistribute(value.device_mesh, placements)
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(_unstrided(v) for v in value)
    if isinstance(value, dict):
        return {k: _unstrided(v) for k, v in value.items()}
    return value


# --- running on the local parts --------------------------------------------------------------------------------

def _dtensors(args, kwargs):
    found = []
    for value in list(args) + list(kwargs.values()):
        for item in (value if isinstance(value, (list, tuple)) else (value,)):
            if isinstance(item, DTensor):
                found.append(item)
    return found


def _replace(value, convert):
    if isinstance(value, DTensor):
        return convert(value)
    if isinstance(value, (list, tuple)) and any(isinstance(item, DTensor) for item in value):
        return type(value)(convert(item) if isinstance(item, DTensor) else item for item in value)
    return value


def _local(dtensor, placements, out_placements=None):
    """``dtensor``'s local part once laid out by ``placements`` (a Replicate mesh dim may become Partial: each
    rank's share, as PyTorch's), connected to the graph where it needs grad. The part's gradient is laid out as
    an op giving ``out_placements`` makes it: a replicated operand of an output sharded or partial on a mesh dim
    gets partial sums there; a leaf receives its gradient laid out as itself."""
    placements = dtensor.placements if placements is None else tuple(placements)
    partitioned = [i for i, (p, q) in enumerate(zip(dtensor.placements, placements)) if q.is_partial() and p != q]
    for i in partitioned:
        if not dtensor.placements[i].is_replicate():
            raise RuntimeError(f"Can not redistribute from {dtensor.placements[i]} to {placements[i]}")
    between = tuple(p if i in partitioned else q for i, (p, q) in enumerate(zip(dtensor.placements, placements)))
    if between != dtensor.placements:
        dtensor = dtensor.redistribute(dtensor.device_mesh, between)
    mesh = dtensor.device_mesh
    if grad_state.enabled and dtensor.requires_grad:   # (a share's gradient is a share of the whole's)
        grads = tuple(Partial(placements[i].reduce_op) if i in partitioned else p
                      for i, p in enumerate(_grad_placements(placements, out_placements)))
        deliver = normalized(dtensor.placements) if dtensor.grad_fn is None else None
        local = _ToLocal.apply(dtensor, grads, deliver)
    else:
        local = _make(dtensor._data)
    for i in partitioned:
        if placements[i].reduce_op == "sum":
            local = local / mesh.size(i)
    return local


def _grad_placements(placements, out_placements):
    """How the gradient of an operand's local part laid out by ``placements`` is laid out, for an op whose output
    is laid out by ``out_placements``."""
    if out_placements is None:
        return tuple(Replicate() if p.is_partial() else p for p in placements)
    made = []
    for p, out in zip(placements, out_placements):
        if p.is_partial():
            made.append(Replicate())
        elif p.is_replicate() and not out.is_replicate():   # summed over the ranks' parts (averaged for an average)
            made.append(Partial("avg" if out.is_partial("avg") else "sum"))
        else:
            made.append(p)
    return tuple(made)


def _wrap(result, spec):
    if isinstance(result, Tensor):
        if result.requires_grad:
            return _FromLocal.apply(result, spec)
        return _new(result._data, spec)
    if isinstance(result, (list, tuple)):
        wrapped = [_wrap(item, spec) for item in result]
        return type(result)._make(wrapped) if hasattr(type(result), "_make") else type(result)(wrapped)
    return result


def _run(inner, args, kwargs, targets, out_spec):
    """Calls ``inner`` on the local parts of the DTensor arguments, each first laid out by ``targets[id]``, and
    returns its tensors as DTensors of ``out_spec``."""
    def convert(dtensor):
        return _local(dtensor, targets.get(id(dtensor)), out_spec.placements)
    local_args = [_replace(a, convert) for a in args]
    local_kwargs = {k: _replace(v, convert) for k, v in kwargs.items()}
    with overrides.DisableTorchFunctionSubclass():
        result = inner(*local_args, **local_kwargs)
    return _wrap(result, out_spec)


def _check_operands(name, dtensors, args, kwargs):
    mesh = dtensors[0].device_mesh
    for other in dtensors[1:]:
        if other.device_mesh != mesh:
            raise RuntimeError(f"aten.{name}.Tensor: DTensor does not support cross-mesh operation on "
                               f"{mesh} and {other.device_mesh}")
    for value in list(args) + list(kwargs.values()):
        for item in (value if isinstance(value, (list, tuple)) else (value,)):
            if isinstance(item, Tensor) and not isinstance(item, DTensor) and item.ndim > 0:
                raise RuntimeError(f"aten.{name}.Tensor got mixed torch.Tensor and DTensor, need to convert all "
                                   "torch.Tensor to DTensor before calling distributed operators!")
    return mesh


# --- pointwise ops ---------------------------------------------------------------------------------------------

def _broadcast_shape(shapes):
    ndim = max((len(s) for s in shapes), default=0)
    out = [1] * ndim
    for shape in shapes:
        for i, size in enumerate(shape, ndim - len(shape)):
            if size != 1:
                out[i] = size
    return tuple(out)


def _keeps_partial(base, dtensors, args, kwargs, placement):
    """Whether ``base`` applied to partial values of ``placement`` gives the partial values of the result."""
    if base in IDENTITY or base in ("neg", "negative", "positive", "__neg__", "__pos__", "copy", "zero", "detach"):
        return True
    if placement.reduce_op not in ("sum", "avg") or isinstance(placement, _NormPartial):
        return False
    partial = [d for d in dtensors if d.placements.count(placement)]
    plain_tensors = [a for a in list(args) + list(kwargs.values()) if isinstance(a, Tensor) and not
                     isinstance(a, DTensor)]
    if base in ("add", "sub", "subtract"):
        numbers = [a for a in args[1:] if not isinstance(a, Tensor)]
        return len(partial) == len(dtensors) == 2 and not numbers and not plain_tensors
    if base in ("mul", "multiply", "div", "divide", "true_divide"):
        return len(partial) == 1 and (base in ("mul", "multiply") or partial[0] is args[0])
    return False


def _pointwise(name, base, inner, args, kwargs, inplace):
    if name == "copy_" and not isinstance(args[1], DTensor):
        raise RuntimeError("aten.copy_.default got mixed torch.Tensor and DTensor, need to convert all torch.Tensor "
                           "to DTensor before calling distributed operators!")
    dtensors = _dtensors(args, kwargs)
    mesh = _check_operands(base, dtensors, args, kwargs)
    self = args[0] if isinstance(args[0], DTensor) else None
    if inplace and self is None:
        raise RuntimeError(f"aten.{name}.Tensor got mixed torch.Tensor and DTensor, need to convert all torch.Tensor "
                           "to DTensor before calling distributed operators!")
    shapes = [tuple(d.shape) for d in dtensors] + [tuple(a.shape) for a in list(args) + list(kwargs.values())
                                                    if isinstance(a, Tensor) and not isinstance(a, DTensor)]
    out_shape = tuple(self.shape) if inplace else _broadcast_shape(shapes)
    out_placements = []
    for mesh_dim in range(mesh.ndim):
        if inplace:
            placement = self.placements[mesh_dim]
            if placement.is_partial() and not _keeps_partial(base, dtensors, args, kwargs, placement):
                raise RuntimeError(f"aten.{name}: in-place op on a DTensor with placement {placement} would need to "
                                   "change its placement; redistribute it to Replicate() first")
            out_placements.append(placement)
            continue
        out_placements.append(_output_placement(base, dtensors, args, kwargs, mesh_dim, out_shape))
    targets = {id(d): _input_placements(d, out_placements, out_shape) for d in dtensors}
    spec = DTensorSpec(mesh, tuple(out_placements), Size(out_shape), contiguous_stride(out_shape))
    if not inplace:
        return _run(inner, args, kwargs, targets, spec)
    return _in_place_local(name, inner, args, kwargs, targets)


def _in_place_local(name, inner, args, kwargs, targets=None):
    """Runs in-place op ``inner`` on ``args[0]``'s local part, the other DTensor arguments first laid out by
    ``targets`` (none allowed without it); the DTensor keeps its placements."""
    self, dtensors = args[0], _dtensors(args, kwargs)
    if targets is None and (len(dtensors) > 1 or any(p.is_partial() for p in self.placements)):
        raise no_rule(name, args, kwargs)
    if grad_state.enabled and any(d.requires_grad for d in dtensors):
        raise RuntimeError(f"ember's DTensor does not record in-place ops in autograd: call {name} under "
                           "torch.no_grad() or use its out-of-place form")
    with no_grad():
        local_self = _make(self._data)
        rest_args = [_replace(a, lambda d: _local(d, targets[id(d)])) for a in args[1:]]
        rest_kwargs = {k: _replace(v, lambda d: _local(d, targets[id(d)])) for k, v in kwargs.items()}
        with overrides.DisableTorchFunctionSubclass():
            inner(local_self, *rest_args, **rest_kwargs)
    self._data = local_self._data
    self._version_counter[0] += 1
    return self


def _output_placement(base, dtensors, args, kwargs, mesh_dim, out_shape):
    for d in dtensors:
        placement = d.placements[mesh_dim]
        if placement.is_shard() or isinstance(placement, _StridedShard):
            out_dim = placement.dim + len(out_shape) - d.ndim
            if d.shape[placement.dim] == out_shape[out_dim]:
                return _along(placement, out_dim)
    partials = {d.placements[mesh_dim] for d in dtensors if d.placements[mesh_dim].is_partial()}
    if len(partials) == 1:
        placement = partials.pop()
        if _keeps_partial(base, dtensors, args, kwargs, placement):
            return placement
    return Replicate()


def _input_placements(dtensor, out_placements, out_shape):
    """What ``dtensor`` must be laid out as for a pointwise op giving ``out_placements``."""
    made = []
    for mesh_dim, out in enumerate(out_placements):
        current = dtensor.placements[mesh_dim]
        if out.is_shard() or isinstance(out, _StridedShard):
            dim = out.dim - (len(out_shape) - dtensor.ndim)
            made.append(_along(out, dim) if dim >= 0 and dtensor.shape[dim] == out_shape[out.dim] else Replicate())
        elif out.is_partial():
            made.append(current if current.is_partial() else Replicate())
        else:
            made.append(Replicate())
    return tuple(made)


def _along(placement, dim):
    """A Shard or ``_StridedShard`` like ``placement`` along ``dim``."""
    return _StridedShard(dim, placement.split_factor) if isinstance(placement, _StridedShard) else Shard(dim)


def _foreach(name, args, kwargs):
    """``torch._foreach_<op>`` on lists of DTensors: the op on each index in turn, by its own rule."""
    import ember
    base = name[len("_foreach_"):]
    lists = [a for a in args if isinstance(a, (list, tuple))]
    count = len(lists[0]) if lists else 0
    results = []
    for i in range(count):
        items = [a[i] if isinstance(a, (list, tuple)) else a for a in args]
        if base == "norm":
            results.append(ember.linalg.vector_norm(items[0], *items[1:], **kwargs))
        elif base.endswith("_"):
            method = getattr(items[0], base, None)
            if method is None:
                raise no_rule(name, args, kwargs)
            method(*items[1:], **kwargs)
        else:
            function = getattr(ember, base, None)
            if function is None:
                raise no_rule(name, args, kwargs)
            results.append(function(*items, **kwargs))
    return None if base.endswith("_") else results


# --- matrix products -------------------------------------------------------------------------------------------

MATRIX = frozenset("mm bmm matmul __matmul__ __rmatmul__ dot addmm baddbmm linear".split())
_EQUATIONS = {"mm": (["mk", "kn"], "mn"), "bmm": (["bmk", "bkn"], "bmn"), "dot": (["k", "k"], "")}


def _matrix(name, inner, args, kwargs):
    """A product by the einsum strategy ``_ops_matrix`` picks: operands laid out by it, the product of the local
    parts, the output laid out as it says (a bias added to a Partial sum becomes Partial too: its share, as
    PyTorch's)."""
    bound = inspect.signature(inner).bind(*args, **kwargs)
    given = list(bound.arguments.items())
    positions = {"addmm": (1, 2, 0), "baddbmm": (1, 2, 0), "linear": (0, 1, 2), "__rmatmul__": (1, 0, None)}
    first, second, bias_at = positions.get(name, (0, 1, None))
    a, b = given[first][1], given[second][1]
    bias = given[bias_at][1] if bias_at is not None and bias_at < len(given) else None
    operands = [t for t in (a, b, bias) if t is not None]
    if not all(isinstance(t, DTensor) for t in operands):
        raise RuntimeError(f"aten.{name}.default got mixed torch.Tensor and DTensor, need to convert all "
                           "torch.Tensor to DTensor before calling distributed operators!")
    mesh = _check_operands(name, operands, args, kwargs)
    base = {"addmm": "mm", "baddbmm": "bmm"}.get(name, name)
    if base in _EQUATIONS:
        inputs, output = _EQUATIONS[base]
    elif base == "linear":
        free = "abcdefghij"[:a.ndim - 1]
        inputs, output = [free + "k", "nk"], free + "n"
    else:
        inputs, output = matmul_equation(tuple(a.shape), tuple(b.shape)) or (None, None)
        if inputs is None:
            raise no_rule(name, args, kwargs)
    wanted, out, bias_wanted = einsum_strategy(inputs, output, [a, b], bias)
    shape = output_shape(inputs, output, [tuple(a.shape), tuple(b.shape)])
    spec = DTensorSpec(mesh, tuple(out), Size(shape), contiguous_stride(shape))
    converted = {first: _local(a, wanted[0], out), second: _local(b, wanted[1], out)}
    if bias is not None:
        converted[bias_at] = _local(bias, bias_wanted, out)
    local = {key: converted.get(i, value) for i, (key, value) in enumerate(given)}
    if name == "__rmatmul__":
        local = {"self": local[given[1][0]], "other": local[given[0][0]]}
        inner = overrides.unwrapped(Tensor.__matmul__)
    with overrides.DisableTorchFunctionSubclass():
        result = inner(*local.values()) if name.startswith("__") else inner(**local)
    return _wrap(result, spec)


def _dropout(inner, args, kwargs):
    """Dropout on the local part, placements kept (partial values reduced first): as PyTorch's on a CPU mesh,
    each rank draws its own mask from its generator."""
    self = args[0]
    placements = tuple(Replicate() if p.is_partial() else p for p in self.placements)
    bound = inspect.signature(inner).bind(*args, **kwargs)
    if bound.arguments.get("inplace"):
        return _in_place_local("dropout_", inner, args, kwargs)
    return _run(inner, args, kwargs, {id(self): placements}, self._spec.with_placements(placements))


def _einsum(inner, args, kwargs):
    """``einsum`` of two DTensors by the einsum strategies (each operand's letters distinct, no ellipsis)."""
    equation, operands = args[0], list(args[1] if len(args) == 2 and isinstance(args[1], (list, tuple)) else args[1:])
    inputs, arrow, output = equation.replace(" ", "").partition("->")
    inputs = inputs.split(",")
    if not arrow:
        counts = "".join(inputs)
        output = "".join(sorted(c for c in set(counts) if counts.count(c) == 1))
    if len(operands) != 2 or "." in equation or kwargs or any(len(set(dims)) != len(dims) for dims in inputs):
        raise no_rule("einsum", args, kwargs)
    if not all(isinstance(t, DTensor) for t in operands):
        raise RuntimeError("aten.einsum.default got mixed torch.Tensor and DTensor, need to convert all "
                           "torch.Tensor to DTensor before calling distributed operators!")
    mesh = _check_operands("einsum", operands, (), {})
    wanted, out, _ = einsum_strategy(inputs, output, operands)
    shape = output_shape(inputs, output, [tuple(t.shape) for t in operands])
    spec = DTensorSpec(mesh, tuple(out), Size(shape), contiguous_stride(shape))
    parts = [_local(t, w, out) for t, w in zip(operands, wanted)]
    with overrides.DisableTorchFunctionSubclass():
        return _wrap(inner(equation, *parts), spec)


# --- ops along some dims (norms, softmax) -------------------------------------------------------------------------

ROWWISE = frozenset("layer_norm rms_norm softmax log_softmax".split())


def _rowwise(name, inner, args, kwargs):
    """An op computing along some dims of its input (the normalized dims, softmax's dim): shards of the other dims
    stay, those dims are gathered first, partial values reduced; weight and bias replicated."""
    bound = inspect.signature(inner).bind(*args, **kwargs)
    given = bound.arguments
    self = args[0]
    mesh = _check_operands(name, _dtensors(args, kwargs), args, kwargs)
    if name in ("softmax", "log_softmax"):
        along = {given["dim"] % max(self.ndim, 1)}
    else:
        normalized_shape = given["normalized_shape"]
        count = 1 if isinstance(normalized_shape, int) else len(normalized_shape)
        along = set(range(self.ndim - count, self.ndim))
    placements = tuple(p if p.is_shard() and p.dim not in along else Replicate() for p in self.placements)
    targets = {id(d): (Replicate(),) * mesh.ndim for d in _dtensors(args, kwargs)}
    targets[id(self)] = placements
    return _run(inner, args, kwargs, targets, self._spec.with_placements(placements))


# --- embedding lookups -------------------------------------------------------------------------------------------

def _embedding(name, inner, args, kwargs):
    """A lookup by PyTorch's embedding strategies, per mesh dim: a table sharded on its embedding dim gives
    outputs sharded on their last dim; one sharded by rows gives partial sums (each rank looks up the ids in its
    rows, zeros elsewhere: PyTorch's _MaskPartial); a replicated table keeps the ids' shards. The ids are
    replicated where the table is sharded."""
    bound = inspect.signature(inner).bind(*args, **kwargs)
    bound.apply_defaults()
    given = dict(bound.arguments)
    ids_key = "indices" if "indices" in given else "input"
    ids, weight = given[ids_key], given["weight"]
    if not isinstance(ids, DTensor) or not isinstance(weight, DTensor):
        raise RuntimeError(f"aten.{name}.default got mixed torch.Tensor and DTensor, need to convert all "
                           "torch.Tensor to DTensor before calling distributed operators!")
    mesh = _check_operands(name, [ids, weight], args, kwargs)
    out_ndim = ids.ndim + 1
    weight_wanted, ids_wanted, out, masked = [], [], [], None
    for mesh_dim, placement in enumerate(weight.placements):
        if placement.is_shard() and weight.shape[placement.dim] < mesh.size(mesh_dim):
            placement = Replicate()   # fewer rows or columns than ranks: not shardable, as PyTorch's
        if placement.is_shard(1):
            weight_wanted.append(placement), ids_wanted.append(Replicate()), out.append(Shard(out_ndim - 1))
        elif placement.is_shard(0) and masked is None:
            masked = mesh_dim
            weight_wanted.append(placement), ids_wanted.append(Replicate())
            out.append(_MaskPartial(offset_shape=Size(weight.shape), offset_dim=0))
        else:
            kept = ids.placements[mesh_dim] if ids.placements[mesh_dim].is_shard() else Replicate()
            weight_wanted.append(Replicate()), ids_wanted.append(kept), out.append(kept)
    if given.get("max_norm") is not None and any(p.is_shard(1) for p in weight_wanted):
        raise no_rule(name, args, kwargs)
    shape = tuple(ids.shape) + (weight.shape[1],)
    spec = DTensorSpec(mesh, tuple(out), Size(shape), contiguous_stride(shape))
    local_ids = _local(ids, ids_wanted, out)
    local_weight = _local(weight, weight_wanted, out)
    mask = None
    if masked is not None:
        sizes, offsets = local_shape_and_offset(weight.shape, mesh, tuple(weight_wanted))
        start, rows = offsets[0], sizes[0]
        mask = (local_ids >= start) & (local_ids < start + rows)
        local_ids = (local_ids - start) * mask
        padding = given.get("padding_idx")
        if padding is not None and padding >= 0:
            given["padding_idx"] = padding - start if start <= padding < start + rows else None
    given[ids_key], given["weight"] = local_ids, local_weight
    with overrides.DisableTorchFunctionSubclass():
        if mask is not None and rows == 0:   # no rows here (an uneven last shard): zeros, still in the graph
            from ... import zeros
            result = zeros(spec.local_shape(), dtype=local_weight.dtype) + local_weight.sum()
        else:
            result = inner(**given)
        if mask is not None:
            result = result * mask.unsqueeze(-1)
    return _wrap(result, spec)


# --- pooling and attention ----------------------------------------------------------------------------------------

def _pool(name, inner, args, kwargs):
    """Pooling, resampling and unpooling by PyTorch's strategies (``_ops_nn``): the inputs laid out as the cheapest
    keeps them, the op on the local parts, its outputs (values and indices) laid out alike. An adaptive average to
    an output of ones is a mean over the spatial dims, as PyTorch computes it."""
    bound = inspect.signature(inner).bind(*args, **kwargs)
    given = dict(bound.arguments)
    self = given["input"]
    if name.startswith("adaptive_avg_pool"):
        n, size = pool_rank(name), given["output_size"]
        if all(s == 1 for s in ((size,) * n if isinstance(size, int) else size)) and self.ndim > n:
            import ember
            return ember.mean(self, tuple(range(-n, 0)), keepdim=True)
    operands = [given[key] for key in pool_operands(name)]
    if not all(isinstance(t, DTensor) for t in operands):
        raise RuntimeError(f"aten.{name}.default got mixed torch.Tensor and DTensor, need to convert all "
                           "torch.Tensor to DTensor before calling distributed operators!")
    mesh = _check_operands(name, operands, args, kwargs)
    strategies = pool_strategies(name, self.ndim)
    if name.startswith("lp_pool") or name not in POOL_RANKED:   # (PyTorch reduces partial values its strategies
        kept = {s[1] for s in strategies}                        # for these lack, its power's or per dimension)
        if any(p.is_partial() and p not in kept for p in self.placements):
            self = given["input"] = operands[0] = self.redistribute(
                mesh, [Replicate() if p.is_partial() and p not in kept else p for p in self.placements])
    wanted, out, _ = cheapest(strategies, operands)
    for key, operand, placements in zip(pool_operands(name), operands, wanted):
        given[key] = _local(operand, placements, out)
    with overrides.DisableTorchFunctionSubclass():
        result = inner(**given)
    shape = list((result[0] if isinstance(result, tuple) else result).shape)
    for placement in out:
        if placement.is_shard():   # (pooling keeps the batch and channel dims' sizes)
            shape[placement.dim] = self.shape[placement.dim]
    return _wrap(result, DTensorSpec(mesh, tuple(out), Size(shape), contiguous_stride(shape)))


def _convolution(name, inner, args, kwargs):
    """A convolution by PyTorch's strategies (``_ops_nn``): per sample on a batch-sharded input, the weight and bias
    replicated, or all replicated; the output keeps the input's batch shard."""
    bound = inspect.signature(inner).bind(*args, **kwargs)
    given = dict(bound.arguments)
    keys = [key for key in ("input", "weight", "bias") if given.get(key) is not None]
    operands = [given[key] for key in keys]
    if not all(isinstance(t, DTensor) for t in operands):
        raise RuntimeError(f"aten.{name}.default got mixed torch.Tensor and DTensor, need to convert all "
                           "torch.Tensor to DTensor before calling distributed operators!")
    mesh = _check_operands(name, operands, args, kwargs)
    wanted, out, _ = cheapest(convolution_strategies(name, operands[0].ndim, len(operands) == 3), operands)
    for key, operand, placements in zip(keys, operands, wanted):
        given[key] = _local(operand, placements, out)
    with overrides.DisableTorchFunctionSubclass():
        result = inner(**given)
    shape = list(result.shape)
    if any(p.is_shard() for p in out):
        shape[0] = operands[0].shape[0]
    return _wrap(result, DTensorSpec(mesh, tuple(out), Size(shape), contiguous_stride(shape)))


def _attention(inner, args, kwargs):
    """``scaled_dot_product_attention`` by PyTorch's strategies for its attention kernels (``_ops_nn``): query,
    key, value and a DTensor mask laid out as the cheapest keeps them, attention of the local parts (each rank
    draws its own dropout), the output laid out alike."""
    bound = inspect.signature(inner).bind(*args, **kwargs)
    given = dict(bound.arguments)
    query, key, value, mask = given["query"], given["key"], given["value"], given.get("attn_mask")
    operands = [query, key, value] + ([mask] if isinstance(mask, Tensor) else [])
    if not all(isinstance(t, DTensor) for t in operands):
        raise RuntimeError("aten.scaled_dot_product_attention.default got mixed torch.Tensor and DTensor, need to "
                           "convert all torch.Tensor to DTensor before calling distributed operators!")
    mesh = _check_operands("scaled_dot_product_attention", operands, args, kwargs)
    grouped = query.ndim == 4 and key.shape[1] != query.shape[1]
    strategies = attention_strategies(query.ndim, tuple(mask.shape) if len(operands) == 4 else None, grouped)
    wanted, out, _ = cheapest(strategies, operands)
    shape = tuple(query.shape[:-1]) + (value.shape[-1],)
    spec = DTensorSpec(mesh, tuple(out), Size(shape), contiguous_stride(shape))
    for key_name, operand, placements in zip(("query", "key", "value", "attn_mask"), operands, wanted):
        given[key_name] = _local(operand, placements, out)
    with overrides.DisableTorchFunctionSubclass():
        return _wrap(inner(**given), spec)


# --- reductions ------------------------------------------------------------------------------------------------

_PARTIAL_OF = {"sum": "sum", "mean": "sum", "amax": "max", "max": "max", "amin": "min", "min": "min"}


def _reduction(name, inner, args, kwargs):
    self = args[0]
    bound = inspect.signature(inner).bind(*args, **kwargs)
    bound.apply_defaults()
    given = dict(bound.arguments)
    dim = given.get("dim", given.get("axis"))
    if name in ("max", "min") and dim is not None:
        raise no_rule(f"{name}.dim", args, kwargs)
    keepdim = bool(given.get("keepdim", False))
    ndim = self.ndim
    if dim is None or dim == () or dim == []:
        reduced = set(range(ndim))
    else:
        reduced = {d % max(ndim, 1) for d in (dim if isinstance(dim, (list, tuple)) else (dim,))}
    order = given.get("ord", given.get("p", 2))
    if name == "norm" and not isinstance(order, (int, float)):
        raise no_rule(f"norm.{order}", args, kwargs)
    norm = name in ("vector_norm", "norm")
    if norm:   # (PyTorch's infinite norms are a max or min of the parts)
        partial = Partial("max") if order == float("inf") else Partial("min") if order == -float("inf") else \
            _NormPartial(order)
    else:
        partial = Partial(_PARTIAL_OF[name])
    placements = []
    for placement in self.placements:
        if placement.is_partial() and (isinstance(placement, _NormPartial) or
                                       placement.reduce_op != {"sum": "sum", "mean": "avg"}.get(name)):
            placement = Replicate()
        placements.append(placement)
    out_placements = []
    for placement in placements:
        if placement.is_shard() and placement.dim in reduced:
            out_placements.append(partial)
        elif placement.is_shard() and not keepdim:
            out_placements.append(Shard(placement.dim - sum(1 for d in reduced if d < placement.dim)))
        else:
            out_placements.append(placement)
    shape = tuple(1 if d in reduced else size for d, size in enumerate(self.shape) if keepdim or d not in reduced)
    spec = DTensorSpec(self.device_mesh, tuple(out_placements), Size(shape), contiguous_stride(shape))
    if name == "mean":   # an average of even shards is their averages' average; uneven ones are gathered first
        for mesh_dim, placement in enumerate(placements):
            if placement.is_shard() and placement.dim in reduced and \
                    self.shape[placement.dim] % self.device_mesh.size(mesh_dim):
                placements[mesh_dim] = out_placements[mesh_dim] = Replicate()
            elif placement.is_shard() and placement.dim in reduced:
                out_placements[mesh_dim] = Partial("avg")
        spec = spec.with_placements(tuple(out_placements))
    local = self if tuple(placements) == self.placements else self.redistribute(self.device_mesh, placements)
    if local._data.size == 0 and partial.reduce_op in ("max", "min") and self.numel():
        return _empty_extreme(local, partial, spec, norm)
    reducing = [i for i, (p, out) in enumerate(zip(placements, out_placements)) if p.is_shard() and out.is_partial()]
    if not (reducing and grad_state.enabled and local.requires_grad) or out_placements[reducing[0]] == Partial():
        return _run(inner, (local,) + tuple(args[1:]), kwargs, {}, spec)
    with overrides.DisableTorchFunctionSubclass():
        part = inner(_local(local, None, spec.placements), *args[1:], **kwargs)
    from ..._backend import xp_of
    factor = _whole_gradient(xp_of(local._data).asarray(part._data), spec, reducing)
    return _wrap(_ScaledGradient.apply(part, factor), spec)


def _whole_gradient(part, spec, mesh_dims):
    """The derivative of a reduction's whole by this rank's ``part`` of it, partial on ``mesh_dims`` (the same
    placement on each): an average's share, 1 or 0 for a max or min (ties shared among the ranks holding them), a
    p-norm's (part / whole)^(p - 1). (The local op's own gradient is the part's by its elements.)"""
    from ..._backend import xp_of
    xp, mesh, placement = xp_of(part), spec.mesh, spec.placements[mesh_dims[0]]
    if placement.reduce_op == "avg":
        return 1 / math.prod(mesh.size(i) for i in mesh_dims)
    if getattr(placement, "norm_type", None) in (0, 1):
        return 1
    whole = part
    for i in mesh_dims:
        whole = reduce(whole, placement, mesh.get_group(i))
    if placement.reduce_op in ("max", "min"):
        holds = xp.asarray(part == whole, dtype=part.dtype)
        count = holds
        for i in mesh_dims:
            count = reduce(count, Partial("sum"), mesh.get_group(i))
        return _make(xp.asarray(holds / xp.maximum(count, 1), dtype=part.dtype))
    p = placement.norm_type
    with xp.errstate(divide="ignore", invalid="ignore"):
        return _make(xp.asarray(xp.where(whole == 0, 0, (part / whole) ** (p - 1)), dtype=part.dtype))


class _ScaledGradient(Function):
    """The identity, whose gradient is scaled by ``factor``."""

    @staticmethod
    def forward(ctx, tensor, factor):
        ctx.factor = factor
        return _make(tensor._data)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.factor, None


def _empty_extreme(dtensor, partial, spec, norm):
    """A max or min over a shard with no elements (a norm's: 0): the reduction's identity, so the other parts
    decide."""
    from ..._backend import xp_of
    array = dtensor._data
    xp = xp_of(array)
    shape = spec.local_shape()
    if norm:
        return _new(xp.zeros(shape, array.dtype), spec)
    value = -xp.inf if partial.reduce_op == "max" else xp.inf
    return _new(xp.full(shape, value, array.dtype), spec)


def _stack(inner, args, kwargs):
    tensors = list(args[0])
    dtensors = [t for t in tensors if isinstance(t, DTensor)]
    mesh = _check_operands("stack", dtensors, args, kwargs)
    dim = kwargs.get("dim", args[1] if len(args) > 1 else 0)
    first = dtensors[0]
    dim = dim % (first.ndim + 1)
    placements = []
    for mesh_dim in range(mesh.ndim):
        kinds = {d.placements[mesh_dim] for d in dtensors}
        placement = kinds.pop() if len(kinds) == 1 else Replicate()
        if placement.is_partial() and placement.reduce_op not in ("max", "min"):
            placement = Replicate()
        placements.append(placement)
    out_placements = [Shard(p.dim + (p.dim >= dim)) if p.is_shard() else p for p in placements]
    shape = tuple(first.shape[:dim]) + (len(tensors),) + tuple(first.shape[dim:])
    spec = DTensorSpec(mesh, tuple(out_placements), Size(shape), contiguous_stride(shape))
    return _run(inner, args, kwargs, {id(d): tuple(placements) for d in dtensors}, spec)


def _cat(name, inner, args, kwargs):
    """Concatenation: a mesh dim on which an operand is sharded along another dim shards every operand so (the
    others' chunks are local, free); partial operands all alike stay partial; otherwise all are replicated."""
    tensors = list(args[0])
    if not all(isinstance(t, DTensor) for t in tensors):
        raise RuntimeError(f"aten.{name}.default got mixed torch.Tensor and DTensor, need to convert all "
                           "torch.Tensor to DTensor before calling distributed operators!")
    mesh = _check_operands(name, tensors, args, kwargs)
    dim = kwargs.get("dim", kwargs.get("axis", args[1] if len(args) > 1 else 0)) % tensors[0].ndim
    placements = []
    for mesh_dim in range(mesh.ndim):
        kinds = [t.placements[mesh_dim] for t in tensors]
        sharded = [p for p in kinds if p.is_shard() and p.dim != dim]
        if sharded:
            placements.append(sharded[0])
        elif kinds[0].is_partial() and all(p == kinds[0] for p in kinds):
            placements.append(kinds[0])
        else:
            placements.append(Replicate())
    shape = list(tensors[0].shape)
    shape[dim] = sum(t.shape[dim] for t in tensors)
    spec = DTensorSpec(mesh, tuple(placements), Size(shape), contiguous_stride(shape))
    parts = [_local(t, placements, placements) for t in tensors]
    with overrides.DisableTorchFunctionSubclass():
        result = inner(parts, *args[1:], **kwargs)
    return _wrap(result, spec)


# --- shape ops ---------------------------------------------------------------------------------------------------

_PERMUTING = frozenset("transpose swapaxes swapdims t T mT permute unsqueeze".split())
_RESHAPING = frozenset("view reshape flatten".split())


def _permutation(name, ndim, args, kwargs):
    """For each output dim, the input dim it comes from (None: a new dim of size 1)."""
    if name in ("transpose", "swapaxes", "swapdims"):
        dims = list(range(ndim))
        first, second = (d % ndim for d in (args + tuple(kwargs.values()))[1:3])
        dims[first], dims[second] = dims[second], dims[first]
        return dims
    if name == "t":
        return list(range(ndim))[::-1]
    if name == "T":
        return list(range(ndim))[::-1]
    if name == "mT":
        return list(range(ndim - 2)) + [ndim - 1, ndim - 2]
    if name == "unsqueeze":
        dim = (args[1] if len(args) > 1 else kwargs["dim"]) % (ndim + 1)
        return list(range(dim)) + [None] + list(range(dim, ndim))
    dims = args[1:] if len(args) > 2 or not isinstance(args[1], (list, tuple)) else args[1]
    return [d % ndim for d in kwargs.get("dims", dims)]


def _view_groups(in_shape, out_shape):
    """Input and output dims grouped where their sizes' products match, or None when they cannot be grouped."""
    groups, i, j = [], 0, 0
    while i < len(in_shape) or j < len(out_shape):
        ins, outs, left, right = [], [], 1, 1
        if i < len(in_shape):
            ins.append(i)
            left, i = in_shape[i], i + 1
        if j < len(out_shape):
            outs.append(j)
            right, j = out_shape[j], j + 1
        while left != right:
            if left < right and i < len(in_shape):
                ins.append(i)
                left, i = left * in_shape[i], i + 1
            elif right < left and j < len(out_shape):
                outs.append(j)
                right, j = right * out_shape[j], j + 1
            else:
                return None
        groups.append((ins, outs))
    return groups


def _viewed_shard(dim, mesh, mesh_dim, groups, shape, out_shape, placements):
    """Where a view puts a Shard of input ``dim``: on its output dim when ``dim`` maps to one output dim of its
    size, or on the group's first output dim when ``dim`` leads a group of dims merged or split and the mesh
    dimension divides both evenly (each rank's part is then one contiguous block of the group, as PyTorch's);
    None where PyTorch would need a strided shard."""
    ins, outs = next(((ins, outs) for ins, outs in groups if dim in ins), (None, None))
    if ins is None:
        return None
    if len(ins) == 1 and len(outs) == 1:
        return Shard(outs[0])
    parts = mesh.size(mesh_dim)
    if dim != ins[0] or sum(1 for p in placements if p.is_shard(dim)) > 1:
        return None
    if len(ins) > 1 and shape[dim] % parts:
        raise RuntimeError(f"Cannot flatten unevenly sharded tensor: dimension {dim} (size {shape[dim]}) is not "
                           f"evenly divisible by mesh dimension {mesh_dim} (size {parts}). Please redistribute the "
                           "tensor before this operation.")
    if len(outs) > 1 and out_shape[outs[0]] % parts:
        raise RuntimeError(f"Cannot unflatten unevenly sharded tensor: output dimension {outs[0]} (size "
                           f"{out_shape[outs[0]]}) is not evenly divisible by mesh dimension {mesh_dim} (size "
                           f"{parts}). Please redistribute the tensor before this operation.")
    return Shard(outs[0])


def _shape_op(name, inner, args, kwargs):
    """Transposes, permutes and unsqueezes move a Shard to its dim's new place; views and reshapes keep one where
    the sharded dim maps to one output dim of its size, or leads a group of dims they merge or split evenly; other
    shards are gathered first."""
    self = args[0]
    shape = tuple(self.shape)
    if name in _PERMUTING:
        order = _permutation(name, self.ndim, args, kwargs)
        out_shape = tuple(1 if d is None else shape[d] for d in order)
        moved = {d: k for k, d in enumerate(order) if d is not None}
        placements = tuple(Shard(moved[p.dim]) if p.is_shard() else p for p in self.placements)
        spec = DTensorSpec(self.device_mesh, placements, Size(out_shape), contiguous_stride(out_shape))
        return _run(inner, args, kwargs, {}, spec)
    with overrides.DisableTorchFunctionSubclass():   # the output's global shape, from a meta tensor of the input's
        from ... import empty
        out_shape = tuple(inner(empty(shape, device="meta"), *args[1:], **kwargs).shape)
    groups = _view_groups(shape, out_shape) or []
    wanted, placements = [], []
    for mesh_dim, placement in enumerate(self.placements):
        moved = placement
        if placement.is_shard():
            moved = _viewed_shard(placement.dim, self.device_mesh, mesh_dim, groups, shape, out_shape,
                                  self.placements)
            if moved is None:   # gathered first, as PyTorch's
                placement = moved = Replicate()
        wanted.append(placement), placements.append(moved)
    spec = DTensorSpec(self.device_mesh, tuple(placements), Size(out_shape), contiguous_stride(out_shape))
    if name == "flatten":
        return _run(inner, args, kwargs, {id(self): tuple(wanted)}, spec)
    return _wrap(_local(self, wanted, spec.placements).reshape(spec.local_shape()), spec)
