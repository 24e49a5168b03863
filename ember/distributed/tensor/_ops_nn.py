"""Sharding rules of the nn ops, as PyTorch's. Norms and softmax keep shards of the dims they do not compute
along; embedding lookups follow the table's shard (rows: masked partial sums). Pooling, convolutions and attention
choose among strategies (per mesh dimension, lists of [output, input, ...] placements) by ``_ops_matrix.cheapest``.
Pooling runs per sample and channel: the input replicated, or sharded on its batch dim (and on its channel dim when
it has one), an average pool also Partial(sum or avg) (it is linear); a power-average pool takes partial values
reduced first; resampling (``interpolate``) and unpooling (values and indices alike) run per sample and channel
too, resampling also on Partial values. Convolutions run per sample: the input's batch shard kept, the weight and
bias replicated. Attention runs per sample and head: query, key, value (and a mask) replicated, sharded on the
heads (4-D inputs) or sharded on the batch."""
import inspect

from ... import overrides
from ..._tensor import Size, Tensor
from ._dtensor import DTensor, DTensorSpec, contiguous_stride
from ._local import check_operands, dtensor_args, local_part, mixed, no_rule, require_dtensors, run, wrap
from ._ops_matrix import cheapest
from ._redistribute import local_shape_and_offset
from .placement_types import Partial, Replicate, Shard, _MaskPartial

_POOL_RANKS = {f"{kind}{n}d{suffix}": n for n in (1, 2, 3) for kind, suffix in (
    ("max_pool", ""), ("max_pool", "_with_indices"), ("avg_pool", ""), ("adaptive_avg_pool", ""),
    ("adaptive_max_pool", ""), ("adaptive_max_pool", "_with_indices"), ("lp_pool", ""))}
_RESAMPLES = frozenset("interpolate upsample upsample_nearest upsample_bilinear".split())
_UNPOOLS = frozenset(f"max_unpool{n}d" for n in (1, 2, 3))
POOL_RANKED = frozenset(_POOL_RANKS)   # (the others' strategies are PyTorch's per-mesh-dimension ones)
POOLS = POOL_RANKED | _RESAMPLES | _UNPOOLS
_LINEAR_OPS = ("sum", "avg")


def pool_rank(name):
    """The number of spatial dims pooling op ``name`` reduces."""
    return _POOL_RANKS[name]


def pool_operands(name):
    """The names of pooling op ``name``'s tensor arguments."""
    return ("input", "indices") if name in _UNPOOLS else ("input",)


def pool_strategies(name, ndim):
    """Pooling (resampling, unpooling) op ``name``'s strategies on an input of ``ndim`` dims (batched when it has a
    channel dim as well; resampled and unpooled inputs always have one)."""
    columns = 1 + len(pool_operands(name))
    strategies = [[Replicate()] * columns, [Shard(0)] * columns]
    if name in _RESAMPLES or name.startswith("avg_pool") or name.startswith("adaptive_avg_pool"):
        strategies += [[Partial(op)] * columns for op in _LINEAR_OPS]
    if name in _RESAMPLES or name in _UNPOOLS or ndim >= pool_rank(name) + 2:
        strategies.append([Shard(1)] * columns)
    return strategies


CONVOLUTIONS = {f"{kind}{n}d": n for n in (1, 2, 3) for kind in ("conv", "conv_transpose")}


def convolution_strategies(name, ndim, has_bias):
    """Convolution ``name``'s strategies ([output, input, weight(, bias)]) on an input of ``ndim`` dims: all
    replicated, or a batched input sharded on its batch dim against a replicated weight and bias."""
    columns = 3 + has_bias
    strategies = [[Replicate()] * columns]
    if ndim == CONVOLUTIONS[name] + 2:
        strategies.append([Shard(0), Shard(0)] + [Replicate()] * (columns - 2))
    return strategies


def attention_strategies(ndim, mask_shape, grouped):
    """Attention's strategies on query, key and value of ``ndim`` dims and a mask of ``mask_shape`` (None: no
    mask; a dim of size 1 or missing broadcasts, so stays replicated): the heads first, as PyTorch lists them,
    when the inputs are 4-D and query's and key's head counts are equal (``grouped`` False)."""
    dims = ([1] if ndim == 4 and not grouped else []) + ([0] if ndim >= 3 else [])
    strategies = [[Replicate()] * (4 + (mask_shape is not None))]
    for dim in dims:
        strategy = [Shard(dim)] * 4
        if mask_shape is not None:
            at = dim - (ndim - len(mask_shape))
            strategy.append(Shard(at) if at >= 0 and mask_shape[at] != 1 else Replicate())
        strategies.append(strategy)
    return strategies


ROWWISE = frozenset("layer_norm rms_norm softmax log_softmax".split())


def rowwise(name, inner, args, kwargs):
    """An op computing along some dims of its input (the normalized dims, softmax's dim): shards of the other dims
    stay, those dims are gathered first, partial values reduced; weight and bias replicated."""
    bound = inspect.signature(inner).bind(*args, **kwargs)
    given = bound.arguments
    self = args[0]
    mesh = check_operands(name, dtensor_args(args, kwargs), args, kwargs)
    if name in ("softmax", "log_softmax"):
        along = {given["dim"] % max(self.ndim, 1)}
    else:
        normalized_shape = given["normalized_shape"]
        count = 1 if isinstance(normalized_shape, int) else len(normalized_shape)
        along = set(range(self.ndim - count, self.ndim))
    placements = tuple(p if p.is_shard() and p.dim not in along else Replicate() for p in self.placements)
    targets = {id(d): (Replicate(),) * mesh.ndim for d in dtensor_args(args, kwargs)}
    targets[id(self)] = placements
    return run(inner, args, kwargs, targets, self._spec.with_placements(placements))


def embedding(name, inner, args, kwargs):
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
        raise mixed(name)
    mesh = check_operands(name, [ids, weight], args, kwargs)
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
    local_ids = local_part(ids, ids_wanted, out)
    local_weight = local_part(weight, weight_wanted, out)
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
    return wrap(result, spec)


def pool(name, inner, args, kwargs):
    """Pooling, resampling and unpooling by PyTorch's strategies (above): the inputs laid out as the cheapest
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
    require_dtensors(name, operands)
    mesh = check_operands(name, operands, args, kwargs)
    strategies = pool_strategies(name, self.ndim)
    if name.startswith("lp_pool") or name not in POOL_RANKED:   # (PyTorch reduces partial values its strategies
        kept = {s[1] for s in strategies}                        # for these lack, its power's or per dimension)
        if any(p.is_partial() and p not in kept for p in self.placements):
            self = given["input"] = operands[0] = self.redistribute(
                mesh, [Replicate() if p.is_partial() and p not in kept else p for p in self.placements])
    wanted, out, _ = cheapest(strategies, operands)
    for key, operand, placements in zip(pool_operands(name), operands, wanted):
        given[key] = local_part(operand, placements, out)
    with overrides.DisableTorchFunctionSubclass():
        result = inner(**given)
    shape = list((result[0] if isinstance(result, tuple) else result).shape)
    for placement in out:
        if placement.is_shard():   # (pooling keeps the batch and channel dims' sizes)
            shape[placement.dim] = self.shape[placement.dim]
    return wrap(result, DTensorSpec(mesh, tuple(out), Size(shape), contiguous_stride(shape)))


def convolution(name, inner, args, kwargs):
    """A convolution by PyTorch's strategies (above): per sample on a batch-sharded input, the weight and bias
    replicated, or all replicated; the output keeps the input's batch shard."""
    bound = inspect.signature(inner).bind(*args, **kwargs)
    given = dict(bound.arguments)
    keys = [key for key in ("input", "weight", "bias") if given.get(key) is not None]
    operands = [given[key] for key in keys]
    require_dtensors(name, operands)
    mesh = check_operands(name, operands, args, kwargs)
    wanted, out, _ = cheapest(convolution_strategies(name, operands[0].ndim, len(operands) == 3), operands)
    for key, operand, placements in zip(keys, operands, wanted):
        given[key] = local_part(operand, placements, out)
    with overrides.DisableTorchFunctionSubclass():
        result = inner(**given)
    shape = list(result.shape)
    if any(p.is_shard() for p in out):
        shape[0] = operands[0].shape[0]
    return wrap(result, DTensorSpec(mesh, tuple(out), Size(shape), contiguous_stride(shape)))


def attention(name, inner, args, kwargs):
    """``scaled_dot_product_attention`` by PyTorch's strategies for its attention kernels (above): query,
    key, value and a DTensor mask laid out as the cheapest keeps them, attention of the local parts (each rank
    draws its own dropout), the output laid out alike."""
    bound = inspect.signature(inner).bind(*args, **kwargs)
    given = dict(bound.arguments)
    query, key, value, mask = given["query"], given["key"], given["value"], given.get("attn_mask")
    operands = [query, key, value] + ([mask] if isinstance(mask, Tensor) else [])
    require_dtensors(name, operands)
    mesh = check_operands(name, operands, args, kwargs)
    grouped = query.ndim == 4 and key.shape[1] != query.shape[1]
    strategies = attention_strategies(query.ndim, tuple(mask.shape) if len(operands) == 4 else None, grouped)
    wanted, out, _ = cheapest(strategies, operands)
    shape = tuple(query.shape[:-1]) + (value.shape[-1],)
    spec = DTensorSpec(mesh, tuple(out), Size(shape), contiguous_stride(shape))
    for key_name, operand, placements in zip(("query", "key", "value", "attn_mask"), operands, wanted):
        given[key_name] = local_part(operand, placements, out)
    with overrides.DisableTorchFunctionSubclass():
        return wrap(inner(**given), spec)
