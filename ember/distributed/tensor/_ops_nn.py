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
import math

from ... import overrides
from ..._tensor import Size, Tensor
from ...ops.attention import _heads, _mha_shape_check
from ._dtensor import DTensor, DTensorSpec, contiguous_stride
from ._local import check_operands, dtensor_args, local_part, mixed, no_rule, require_dtensors, run, wrap
from ._ops_matrix import cheapest
from ._strategies import single_dim
from ._redistribute import local_shape_and_offset
from .placement_types import Partial, Replicate, Shard, _MaskPartial, _StridedShard

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
    placements = tuple(p if (p.is_shard() or isinstance(p, _StridedShard)) and p.dim not in along else Replicate()
                       for p in self.placements)
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
    """A convolution by PyTorch's single-dim strategies (above): per sample on a batch-sharded input, the weight
    and bias replicated (offered only where an operand is sharded), or all replicated; the output keeps the
    input's batch shard."""
    bound = inspect.signature(inner).bind(*args, **kwargs)
    given = dict(bound.arguments)
    keys = [key for key in ("input", "weight", "bias") if given.get(key) is not None]
    operands = [given[key] for key in keys]
    require_dtensors(name, operands)
    mesh = check_operands(name, operands, args, kwargs)
    strategies = single_dim(convolution_strategies(name, operands[0].ndim, len(operands) == 3), operands)
    wanted, out, _ = cheapest(strategies, operands)
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


def multi_head_attention(name, inner, args, kwargs):
    """``multi_head_attention_forward`` (``nn.MultiheadAttention``'s) as PyTorch's DTensor runs it: its steps
    (unbatched inputs given a batch dim, the input projections, the split into heads, bias_k/bias_v repeated over
    the batch, static keys and values, zero attention, the masks padded and merged, the scores and their softmax or
    attention, the output projection) as public ops on the DTensors, each by its own rule, so the placements come
    out as PyTorch's (a batch shard is gathered where the heads are merged back with the weights)."""
    import ember
    F = ember.nn.functional
    bound = inspect.signature(inner).bind(*args, **kwargs)
    bound.apply_defaults()
    given = bound.arguments
    heads, need_weights = given["num_heads"], given["need_weights"]
    padding, mask = given["key_padding_mask"], given["attn_mask"]
    is_batched = _mha_shape_check(given["query"], given["key"], given["value"], padding, mask, heads)
    if not is_batched:   # (each unsqueezed on its own, as PyTorch's: self-attention then projects by thirds)
        given["query"], given["key"], given["value"] = (given[x].unsqueeze(1) for x in ("query", "key", "value"))
        padding = None if padding is None else padding.unsqueeze(0)
    query = given["query"]
    tgt_len, bsz, embed_dim = query.shape
    src_len = given["key"].shape[0]
    head_dim = embed_dim // heads
    padding = F._canonical_mask(padding, "key_padding_mask", F._none_or_dtype(mask), "attn_mask", query.dtype)
    is_causal = given["is_causal"]
    if is_causal and mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")
    if is_causal and padding is None and not need_weights:
        mask = None
    else:
        mask = F._canonical_mask(mask, "attn_mask", None, "", query.dtype, check_other=False)
        is_causal = is_causal and padding is None
    if embed_dim != given["embed_dim_to_check"]:
        raise AssertionError(f"was expecting embedding dimension of {given['embed_dim_to_check']}, but got "
                             f"{embed_dim}")
    if head_dim * heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {heads}")
    q, k, v = _projections(F, given)
    if mask is not None:
        expected = {2: (tgt_len, src_len), 3: (bsz * heads, tgt_len, src_len)}.get(mask.ndim)
        if expected is None:
            raise RuntimeError(f"attn_mask's dimension {mask.ndim} is not supported")
        if tuple(mask.shape) != expected:
            raise RuntimeError(f"The shape of the {mask.ndim}D attn_mask is {mask.shape}, but should be {expected}.")
        mask = mask.unsqueeze(0) if mask.ndim == 2 else mask
    bias_k, bias_v, static_k, static_v = (given[x] for x in ("bias_k", "bias_v", "static_k", "static_v"))
    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise AssertionError(f"bias cannot be added to static {'key' if static_k is not None else 'value'}.")
        k, v = ember.cat([k, bias_k.repeat(1, bsz, 1)]), ember.cat([v, bias_v.repeat(1, bsz, 1)])
        mask, padding = (None if m is None else F.pad(m, (0, 1)) for m in (mask, padding))
    elif bias_k is not None or bias_v is not None:
        raise AssertionError(f"{'bias_k' if bias_k is not None else 'bias_v'} is set but "
                             f"{'bias_v' if bias_k is not None else 'bias_k'} is None")
    q = q.view(tgt_len, bsz * heads, head_dim).transpose(0, 1)
    k, v = _heads(k, static_k, bsz, heads, head_dim, "k"), _heads(v, static_v, bsz, heads, head_dim, "v")
    if given["add_zero_attn"]:   # (plain zeros beside DTensors: PyTorch's cat refuses them as its does)
        k, v = (ember.cat([x, ember.zeros((bsz * heads, 1, head_dim), dtype=x.dtype, device=x.device)], dim=1)
                for x in (k, v))
        mask, padding = (None if m is None else F.pad(m, (0, 1)) for m in (mask, padding))
    src_len = k.shape[1]
    if padding is not None:
        if tuple(padding.shape) != (bsz, src_len):
            raise AssertionError(f"expecting key_padding_mask shape of {(bsz, src_len)}, but got "
                                 f"{tuple(padding.shape)}")
        padding = padding.view(bsz, 1, 1, src_len).expand(-1, heads, -1, -1).reshape(bsz * heads, 1, src_len)
        mask = padding if mask is None else mask + padding
    dropout_p = given["dropout_p"] if given["training"] else 0.0
    weight, bias = given["out_proj_weight"], given["out_proj_bias"]
    if not need_weights:
        if mask is not None:
            mask = mask.unsqueeze(0) if mask.shape[0] == 1 else mask.view(bsz, heads, -1, src_len)
        q, k, v = (x.view(bsz, heads, -1, head_dim) for x in (q, k, v))
        output = F.scaled_dot_product_attention(q, k, v, mask, dropout_p, is_causal)
        output = F.linear(output.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim), weight, bias)
        output = output.view(tgt_len, bsz, output.shape[1])
        return (output if is_batched else output.squeeze(1)), None
    if is_causal and mask is None:
        raise AssertionError("FIXME: is_causal not implemented for need_weights")
    scaled, keys = q * math.sqrt(1.0 / head_dim), k.transpose(-2, -1)
    scores = ember.bmm(scaled, keys) if mask is None else ember.baddbmm(mask, scaled, keys)
    scores = F.softmax(scores, dim=-1)
    if dropout_p > 0.0:
        scores = F.dropout(scores, p=dropout_p)
    output = ember.bmm(scores, v).transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
    output = F.linear(output, weight, bias)
    output = output.view(tgt_len, bsz, output.shape[1])
    scores = scores.view(bsz, heads, tgt_len, src_len)
    scores = scores.mean(dim=1) if given["average_attn_weights"] else scores
    return (output, scores) if is_batched else (output.squeeze(1), scores.squeeze(0))


def _projections(F, given):
    """Multi-head attention's query, key and value projections, as PyTorch's: one product for self-attention with
    the packed weight (split by a view), two when key is value, else three with the weight's (or the separate
    weights') thirds."""
    query, key, value = given["query"], given["key"], given["value"]
    weight, bias, size = given["in_proj_weight"], given["in_proj_bias"], query.shape[-1]
    biases = (None,) * 3 if bias is None else bias.chunk(3)
    if given["use_separate_proj_weight"]:
        weights = (given["q_proj_weight"], given["k_proj_weight"], given["v_proj_weight"])
    elif query is key and key is value:
        packed = F.linear(query, weight, bias)
        return packed.view(*packed.shape[:-1], 3, size).unbind(-2)
    elif key is value:
        q_weight, kv_weight = weight.split([size, 2 * size])
        q_bias, kv_bias = (None, None) if bias is None else bias.split([size, 2 * size])
        packed = F.linear(key, kv_weight, kv_bias)
        return (F.linear(query, q_weight, q_bias),) + packed.view(*packed.shape[:-1], 2, size).unbind(-2)
    else:
        weights = weight.chunk(3)
    return tuple(F.linear(x, w, b) for x, w, b in zip((query, key, value), weights, biases))
