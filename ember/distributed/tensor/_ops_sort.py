"""Sharding rules of the ops that order or select along a dim, as PyTorch 2.13's strategies. Sorts (``sort``,
``argsort``, ``msort``, ``topk``) and running extremes (``cummax``, ``cummin``) keep a shard of another dim or
gather (the cheapest: a partial input is reduce-scattered onto another dim where that is cheaper). Selections
along a dim (``kthvalue``, ``max``/``min``/``median``/``nanmedian``/``mode`` with a dim) keep a shard of another
dim only when the input has one (partial values are reduced); ``argmax``/``argmin`` and a whole tensor's
``median`` gather the dims they reduce. ``flip`` and ``roll`` keep shards of the dims they leave alone and pass
partial values through (they only move elements). Triangles and diagonals (``tril``, ``triu``, ``diagonal``,
``diag``, ``diag_embed``) gather their input, as PyTorch's replicate strategy for them. ``diff`` and ``rot90``
run as PyTorch decomposes them (differences of narrowed views; flips and a transpose), each step by its rule."""
import inspect

from ..._tensor import Size
from ._dtensor import DTensorSpec, contiguous_stride
from ._local import run
from ._strategies import by_strategy, single_dim
from .placement_types import Partial, Replicate, Shard

SORTS = frozenset("sort argsort msort topk cummax cummin".split())
SELECTS = frozenset("kthvalue median nanmedian mode".split())
ARG_EXTREMES = frozenset(["argmax", "argmin"])
FLIPS = frozenset("flip fliplr flipud roll".split())
TRIANGLES = frozenset("tril triu diagonal diag diag_embed".split())
COMPOSITES = frozenset(["diff", "rot90"])
_PASSED_PARTIALS = ("sum", "avg", "max", "min")


def given_arguments(inner, args, kwargs):
    """``inner``'s arguments by name, defaults filled in (a method's ``self`` as ``input``, its ``**kwargs``
    among the others)."""
    signature = inspect.signature(inner)
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    given = dict(bound.arguments)
    for parameter in signature.parameters.values():
        if parameter.kind is parameter.VAR_KEYWORD:
            given.update(given.pop(parameter.name, {}))
    if "self" in given:
        given["input"] = given.pop("self")
    return given


def sort(name, inner, args, kwargs):
    """A sort, top-k or running extreme along a dim: all replicated, or sharded alike on another dim (PyTorch's
    sort strategy)."""
    given = given_arguments(inner, args, kwargs)
    self = given["input"]
    ndim = max(self.ndim, 1)
    dim = 0 if name == "msort" else given["dim"] % ndim
    strategies = [[Replicate()] * 2] + [[Shard(d)] * 2 for d in range(self.ndim) if d != dim]
    return by_strategy(name, inner, args, kwargs, [self], strategies)


def select(name, inner, args, kwargs):
    """A value (and its index) chosen along a dim, with or without keepdim: sharded on another dim where the
    input is sharded, else replicated; a whole tensor's median replicated."""
    given = given_arguments(inner, args, kwargs)
    self, dim = given["input"], given.get("dim")
    if dim is None:
        return by_strategy(name, inner, args, kwargs, [self], [[Replicate()] * 2])
    dim, keepdim = dim % max(self.ndim, 1), bool(given.get("keepdim"))
    strategies = [[Shard(d if keepdim or d < dim else d - 1), Shard(d)] for d in range(self.ndim) if d != dim]
    return by_strategy(name, inner, args, kwargs, [self], single_dim(strategies, [self]))


def arg_extreme(name, inner, args, kwargs):
    """``argmax``/``argmin`` as PyTorch's reduction strategy for them: partial values and the reduced dims'
    shards gathered (indices of parts do not combine), other shards moved to their dim's place in the output."""
    given = given_arguments(inner, args, kwargs)
    self, dim, keepdim = given["input"], given["dim"], bool(given["keepdim"])
    reduced = set(range(self.ndim)) if dim is None else {dim % max(self.ndim, 1)}
    wanted = tuple(Replicate() if p.is_partial() or p.is_shard() and p.dim in reduced else p
                   for p in self.placements)
    out = tuple(Shard(p.dim - sum(1 for d in reduced if d < p.dim)) if p.is_shard() and not keepdim and
                dim is not None else p for p in wanted)
    shape = () if dim is None and not keepdim else tuple(
        1 if d in reduced else size for d, size in enumerate(self.shape) if keepdim or d not in reduced)
    spec = DTensorSpec(self.device_mesh, out, Size(shape), contiguous_stride(shape))
    return run(inner, args, kwargs, {id(self): wanted}, spec)


def flip(name, inner, args, kwargs):
    """``flip`` and ``roll``: shards of the dims they leave alone kept where the input is sharded, partial values
    passed through, else replicated (PyTorch's single-dim strategies)."""
    given = given_arguments(inner, args, kwargs)
    self = given["input"]
    ndim = max(self.ndim, 1)
    if name == "roll":
        dims = given["dims"]
        dims = range(self.ndim) if dims is None or dims == () or dims == [] else dims
    elif name in ("fliplr", "flipud"):
        dims = [1 if name == "fliplr" else 0]
    else:
        dims = given["dims"]
        if isinstance(dims, tuple) and len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = dims[0]
    active = {d % ndim for d in ((dims,) if isinstance(dims, int) else dims)}
    strategies = [[Shard(d)] * 2 for d in range(self.ndim) if d not in active]
    strategies += [[Partial(op)] * 2 for op in _PASSED_PARTIALS]
    return by_strategy(name, inner, args, kwargs, [self], single_dim(strategies, [self]))


def replicated(name, inner, args, kwargs):
    """An op PyTorch's DTensor runs on the whole tensor: its input gathered (partial values reduced), its output
    replicated."""
    self = given_arguments(inner, args, kwargs)["input"]
    return by_strategy(name, inner, args, kwargs, [self], [[Replicate()] * 2])


def composite(name, inner, args, kwargs):
    """``diff`` and ``rot90`` as PyTorch's C++ decomposes them into ops with sharding rules."""
    import ember
    given = given_arguments(inner, args, kwargs)
    self = given["input"]
    if name == "rot90":
        dims, k = list(given["dims"]), given["k"] % 4
        if len(dims) != 2 or self.ndim < 2 or dims[0] % self.ndim == dims[1] % self.ndim:
            return inner(ember.empty(self.shape), k, dims)   # (PyTorch's argument errors)
        if k == 1:
            return self.flip([dims[1]]).transpose(dims[0], dims[1])
        if k == 2:
            return self.flip(dims)
        if k == 3:
            return self.flip([dims[0]]).transpose(dims[0], dims[1])
        return self.clone()
    dim, result = given["dim"], self
    parts = [t for t in (given["prepend"], self, given["append"]) if t is not None]
    if len(parts) > 1:
        result = ember.cat([t if t.ndim else t.expand(1) for t in parts], dim)
    length = result.shape[dim] - 1
    for _ in range(given["n"]):
        if result.dtype == ember.bool:
            result = ember.logical_xor(result.narrow(dim, 1, length), result.narrow(dim, 0, length))
        else:
            result = result.narrow(dim, 1, length) - result.narrow(dim, 0, length)
        length -= 1
    return result
