"""Sharding rules of elementwise ops, as PyTorch's pointwise strategy: an output dim keeps an operand's shard (a
``_StridedShard`` too) where the operand has that dim at full size, Partial values stay partial where the op is
linear in them (sums and differences of two partial operands, products and quotients by a replicated factor), and
the ``*_like`` factories take their input's layout (partial values reduced, except zeros'), the ``new_*`` ones a
sharded input's where the shapes match. Copies (``clone``, ``contiguous`` of a non-contiguous part) reduce partial
values, as PyTorch's clone does."""
from ... import overrides
from ..._tensor import Size, Tensor, _make
from ._dtensor import DTensor, DTensorSpec, contiguous_stride
from ._local import check_operands, dtensor_args, in_place_local, mixed, run, wrap
from .placement_types import Replicate, Shard, _NormPartial, _StridedShard

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
LIKE = frozenset("zeros_like ones_like empty_like full_like".split())
NEW = frozenset("new_zeros new_ones new_full new_empty".split())
IN_PLACE = frozenset([name + "_" for name in POINTWISE | IDENTITY if not name.endswith("__")] +
                     ["copy_", "zero_", "fill_"])


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
    if base in ("clone", "contiguous"):   # (PyTorch's copies reduce partial values: a copy is replicated)
        return False
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


def pointwise(name, inner, args, kwargs):
    """An elementwise op (or its in-place form): the output sharded where an operand is sharded on a dim of the
    output's size, partial where its partial values give the result's, replicated otherwise; an in-place op keeps
    its tensor's placements."""
    base = name[:-1] if name in IN_PLACE else name
    inplace = base != name
    if name == "contiguous" and copies_nothing(args[0]):
        return args[0]
    if name == "copy_" and not isinstance(args[1], DTensor):
        raise mixed(name)
    dtensors = dtensor_args(args, kwargs)
    mesh = check_operands(base, dtensors, args, kwargs, _overload(base, args, kwargs))
    self = args[0] if isinstance(args[0], DTensor) else None
    if inplace and self is None:
        raise mixed(name, "Tensor")
    shapes = [tuple(d.shape) for d in dtensors] + [tuple(a.shape) for a in list(args) + list(kwargs.values())
                                                    if isinstance(a, Tensor) and not isinstance(a, DTensor)]
    out_shape = tuple(self.shape) if inplace else _broadcast_shape(shapes)
    out_placements = []
    for mesh_dim in range(mesh.ndim):
        if inplace:
            placement = self.placements[mesh_dim]
            if placement.is_partial() and not _keeps_partial(base, dtensors, args, kwargs, placement):
                raise RuntimeError(f"aten.{name}.{_overload(base, args, kwargs)}: in-place operations that require "
                                   "placement changes are not supported. The input has placement "
                                   f"{tuple(self.placements)}, but no valid strategy preserves this placement. "
                                   "Please use the out-of-place version of this operation instead.")
            out_placements.append(placement)
            continue
        out_placements.append(_output_placement(base, dtensors, args, kwargs, mesh_dim, out_shape))
    targets = {id(d): _input_placements(d, out_placements, out_shape) for d in dtensors}
    spec = DTensorSpec(mesh, tuple(out_placements), Size(out_shape), contiguous_stride(out_shape))
    if not inplace:
        return run(inner, args, kwargs, targets, spec)
    return in_place_local(name, inner, args, kwargs, targets)


def _overload(base, args, kwargs):
    """The overload of aten ``base`` PyTorch's errors name: a fill by a number is ``Scalar``."""
    value = kwargs.get("value", args[-1] if len(args) > 1 else None)
    return "Scalar" if base in ("masked_fill", "fill") and not isinstance(value, Tensor) else "Tensor"


def _output_placement(base, dtensors, args, kwargs, mesh_dim, out_shape):
    for d in dtensors:
        placement = d.placements[mesh_dim]
        if placement.is_shard() or isinstance(placement, _StridedShard):
            out_dim = placement.dim + len(out_shape) - d.ndim
            if d.shape[placement.dim] == out_shape[out_dim]:
                return along(placement, out_dim)
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
            made.append(along(out, dim) if dim >= 0 and dtensor.shape[dim] == out_shape[out.dim] else Replicate())
        elif out.is_partial():
            made.append(current if current.is_partial() else Replicate())
        else:
            made.append(Replicate())
    return tuple(made)


def copies_nothing(dtensor):
    """Whether ``contiguous`` (or ``reshape``) returns a view of ``dtensor``'s local part rather than a copy."""
    return _make(dtensor._data).is_contiguous()


def along(placement, dim):
    """A Shard or ``_StridedShard`` like ``placement`` along ``dim``."""
    return _StridedShard(dim, placement.split_factor) if isinstance(placement, _StridedShard) else Shard(dim)


def like(name, inner, args, kwargs):
    """``zeros_like`` and its kin: the input's placements, partial ones replicated except for zeros."""
    self = args[0]
    placements = tuple(Replicate() if p.is_partial() and name != "zeros_like" else p for p in self.placements)
    return run(inner, args, kwargs, {id(self): placements}, self._spec.with_placements(placements))


def new_factory(name, inner, args, kwargs):
    """``new_zeros`` and its kin, as PyTorch's: the input's layout where the new tensor has its shape and the input
    is sharded (an empty one's layout, partial too, whenever the shapes match), replicated otherwise."""
    self = args[0]
    with overrides.DisableTorchFunctionSubclass():   # the new tensor's global shape, from a meta tensor's
        from ... import empty
        shape = tuple(inner(empty(tuple(self.shape), device="meta"), *args[1:], **kwargs).shape)
    follows = shape == tuple(self.shape) and (name == "new_empty" or any(p.is_shard() for p in self.placements))
    if not follows:
        spec = DTensorSpec(self.device_mesh, (Replicate(),) * self.device_mesh.ndim, Size(shape),
                           contiguous_stride(shape))
        return run(inner, args, kwargs, {id(self): self.placements}, spec)
    spec = DTensorSpec(self.device_mesh, self.placements, Size(shape), contiguous_stride(shape))
    rest = args[2:] if name == "new_full" else ()   # (new_full's fill value)
    with overrides.DisableTorchFunctionSubclass():
        return wrap(inner(_make(self._data), tuple(spec.local_shape()), *rest, **kwargs), spec)
