"""Sharding strategies of pooling and attention, as PyTorch's: per mesh dimension, lists of [output, input, ...]
placements for ``_ops_matrix.cheapest`` to choose from. Pooling runs per sample and channel: the input replicated,
or sharded on its batch dim (and on its channel dim when it has one), an average pool also Partial(sum or avg)
(it is linear); a power-average pool takes partial values reduced first; resampling (``interpolate``) and
unpooling (values and indices alike) run per sample and channel too, resampling also on Partial values.
Convolutions run per sample: the input's batch shard kept, the weight and bias replicated. Attention runs per
sample and head: query, key, value (and a mask) replicated, sharded on the heads (4-D inputs) or sharded on the
batch."""
from .placement_types import Partial, Replicate, Shard

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
