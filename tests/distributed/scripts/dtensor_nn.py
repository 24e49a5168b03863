"""One program on DTensor through pooling, convolutions, scaled_dot_product_attention and reductions over sharded dims,
run on ember (under mpiexec) or on torch (gloo): the output placements, whole values and the inputs' gradients.
Pooling, convolutions and the reductions run on DTensors on both (torch's gradients: of the whole tensors, as its
DTensor lacks most pooling backward strategies, gives NaN for amin's and raises for convolutions of other layouts
than a batch shard). Attention on torch's CPU goes through kernels DTensor has no strategy for, or through its
math decomposition, so torch's side asks its sharding propagator which placement its attention strategy (the one
CUDA's kernels use) gives, and computes values and gradients on the whole tensors. Each rank writes its results
to OUT_DIR/<library>-<rank>.json.

    python dtensor_nn.py ember|torch OUT_DIR
"""
import sys

from _beside_torch import LIBRARY, finish, record, start_mesh, torch

if LIBRARY == "torch":
    from torch.distributed.tensor import DTensor, Partial, Replicate, Shard, distribute_tensor
    from torch.distributed.tensor._op_schema import OpSchema
else:
    from ember.distributed.tensor import DTensor, Partial, Replicate, Shard, distribute_tensor

F = torch.nn.functional
rank, world, mesh = start_mesh()
torch.manual_seed(0)
R, S0, S1, S2, S3 = Replicate(), Shard(0), Shard(1), Shard(2), Shard(3)


def seen(value):
    """A DTensor's placements, global shape and whole value (partial ones reduced)."""
    return [str(value.placements), list(value.shape), value.full_tensor().tolist()]


def weights_for(shape):
    return torch.linspace(-1, 1, torch.Size(shape).numel(), dtype=torch.float64).reshape(shape)


def shares(tensor):
    """Each rank's share of a Partial ``tensor``: rank r holds (r + 1) / (1 + ... + world) of it."""
    return [tensor * (r + 1) / sum(range(1, world + 1)) for r in range(world)]


def whole_gradient(op, tensor, placement):
    """The gradient of sum(op(whole) * weights) for this rank's part (its share of a Partial(sum)), on plain
    tensors: torch's DTensor has no strategy for most pooling backward ops, so its side computes this reference."""
    parts = shares(tensor) if placement.is_partial() else [tensor]
    mine = parts[rank if placement.is_partial() else 0].clone().requires_grad_()
    parts[rank if placement.is_partial() else 0] = mine
    result = op(sum(parts[1:], parts[0]))
    values = result[0] if isinstance(result, tuple) else result
    (values * weights_for(values.shape)).sum().backward()
    return mine.grad.tolist()


def pooled(op, tensor, placement):
    """``op`` on ``tensor`` laid out by ``placement``: its result (and indices, where it gives them) and the
    gradient of this rank's part (torch: the plain tensors' reference) for the loss sum(result * weights)."""
    if placement.is_partial():
        leaf = shares(tensor)[rank].requires_grad_()
        x = DTensor.from_local(leaf, mesh, [placement])
    else:
        leaf = x = distribute_tensor(tensor, mesh, [placement]).requires_grad_()
    result = op(x)
    values, indices = result if isinstance(result, tuple) else (result, None)
    forward = [seen(values), None if indices is None else seen(indices)]
    if placement.is_partial() and placement.reduce_op != "sum":
        return forward   # (a Partial input's gradient is the whole's, by torch's convention: a share's for a sum)
    if LIBRARY == "torch":
        return forward + [whole_gradient(op, tensor, placement)]
    (values.full_tensor() * weights_for(values.shape)).sum().backward()
    return forward + [leaf.grad.tolist() if placement.is_partial() else leaf.grad.full_tensor().tolist()]


images = torch.randn(4, 4, 6, 6, dtype=torch.float64)
POOLS = {
    "max_pool2d": lambda t: F.max_pool2d(t, 2),
    "max_pool2d_indices": lambda t: F.max_pool2d(t, 3, 2, 1, return_indices=True),
    "avg_pool2d": lambda t: F.avg_pool2d(t, 3, 2, 1, count_include_pad=False),
    "adaptive_avg_pool2d": lambda t: F.adaptive_avg_pool2d(t, (2, 3)),
    "adaptive_avg_pool2d_global": lambda t: F.adaptive_avg_pool2d(t, 1),
    "adaptive_max_pool2d": lambda t: F.adaptive_max_pool2d(t, (2, 3), return_indices=True),
    "lp_pool2d": lambda t: F.lp_pool2d(t, 2, 2),
    "max_pool1d": lambda t: F.max_pool1d(t.flatten(2), 3),
    "avg_pool1d": lambda t: F.avg_pool1d(t.flatten(2), 4),
    "adaptive_avg_pool1d": lambda t: F.adaptive_avg_pool1d(t.flatten(2), 5),
    "adaptive_max_pool1d": lambda t: F.adaptive_max_pool1d(t.flatten(2), 5),
    "max_pool3d": lambda t: F.max_pool3d(t.unsqueeze(2), (1, 2, 2)),
    "avg_pool3d": lambda t: F.avg_pool3d(t.unsqueeze(2), (1, 3, 3)),
    "module_MaxPool2d": torch.nn.MaxPool2d(2, 1),
    "module_AdaptiveAvgPool2d": torch.nn.AdaptiveAvgPool2d((3, 3)),
}
POOLS.update({
    "interpolate_nearest": lambda t: F.interpolate(t, scale_factor=2),
    "interpolate_bilinear": lambda t: F.interpolate(t, size=(5, 7), mode="bilinear", align_corners=False),
    "interpolate_bicubic_aa": lambda t: F.interpolate(t, size=(4, 4), mode="bicubic", antialias=True),
    "interpolate_linear": lambda t: F.interpolate(t.flatten(2), scale_factor=1.5, mode="linear"),
    "module_Upsample": torch.nn.Upsample(scale_factor=2, mode="nearest"),
})
for name, op in POOLS.items():
    for placement in (R, S0, S1, S2, S3):
        record(f"{name}_{placement}", lambda: pooled(op, images, placement))
for name in ("max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "adaptive_avg_pool2d_global", "lp_pool2d",
             "interpolate_bilinear"):
    for op in ("sum", "avg", "max"):
        record(f"{name}_partial_{op}", lambda: pooled(POOLS[name], images, Partial(op)))
unbatched = torch.randn(3, 6, 6, dtype=torch.float64)   # (C, H, W): dim 0 is the channel dim
for placement in (S0, S1):
    record(f"unbatched_max_pool2d_{placement}", lambda: pooled(lambda t: F.max_pool2d(t, 2), unbatched, placement))
    record(f"unbatched_avg_pool2d_{placement}", lambda: pooled(lambda t: F.avg_pool2d(t, 2), unbatched, placement))
for placement in (S0, S1, S2, Partial("avg")):   # a mean of even shards stays a Partial(avg), as the global pool's
    record(f"mean_dims_{placement}", lambda: pooled(lambda t: t.mean((0, 2)), images, placement))
    record(f"mean_all_{placement}", lambda: pooled(lambda t: t.mean(), images, placement))
def unpooled(placement, indices_placement):
    """max_unpool2d of pooled values and their indices laid out by the placements: its result and the values'
    gradient (torch: of the whole tensors)."""
    pooled_values, indices = F.max_pool2d(images, 2, return_indices=True)

    def op(t):
        laid = distribute_tensor(indices, mesh, [indices_placement]) if isinstance(t, DTensor) else indices
        return F.max_unpool2d(t, laid, 2)
    return pooled(op, pooled_values, placement)


for placement, indices_placement in ((S0, S0), (S1, S1), (S0, S1), (R, S0), (S2, S2), (Partial(), R),
                                     (Partial(), S0)):
    record(f"max_unpool2d_{placement}_{indices_placement}", lambda: unpooled(placement, indices_placement))
def convolved(op, tensors, placements, torch_runs=True):
    """``op`` on DTensors laid out by ``placements`` (a Partial input: shares): the output's placement (where
    ``torch_runs``: torch's DTensor raises for the other layouts), whole value and the inputs' whole gradients
    (torch: of the whole tensors) for the loss sum(output * weights)."""
    if LIBRARY == "torch":
        leaves = [t.clone().requires_grad_() for t in tensors]
        out = op(*leaves)
        (out * weights_for(out.shape)).sum().backward()
        laid = [distribute_tensor(t, mesh, [p]) for t, p in zip(tensors, placements)] if torch_runs else None
        shown = [str(op(*laid).placements) if torch_runs else None, list(out.shape), out.tolist()]
        return [shown] + [t.grad.tolist() for t in leaves]
    leaves = [(DTensor.from_local(shares(t)[rank], mesh, [p]) if p.is_partial() else distribute_tensor(t, mesh, [p]))
              .requires_grad_() for t, p in zip(tensors, placements)]
    out = op(*leaves)
    (out.full_tensor() * weights_for(out.shape)).sum().backward()
    shown = [str(out.placements) if torch_runs else None, list(out.shape), out.full_tensor().tolist()]
    return [shown] + [t.grad.full_tensor().tolist() for t in leaves]


filters, bias = torch.randn(3, 4, 3, 3, dtype=torch.float64), torch.randn(3, dtype=torch.float64)
CONVOLUTIONS = {
    "conv2d": (lambda x, w, b: F.conv2d(x, w, b, padding=1), [images, filters, bias]),
    "conv2d_no_bias": (lambda x, w: F.conv2d(x, w, stride=2), [images, filters]),
    "conv1d": (lambda x, w, b: F.conv1d(x, w, b, dilation=2), [images.flatten(2), filters[..., 0], bias]),
    "conv_transpose2d": (lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2), [images, filters.transpose(0, 1),
                                                                                    bias]),
    "conv2d_groups": (lambda x, w, b: F.conv2d(x, w, b, groups=2),
                      [images, filters[:2, :2].clone(), bias[:2].clone()]),
}
for name, (op, tensors) in CONVOLUTIONS.items():
    for placement in (S0, R):
        record(f"{name}_{placement}", lambda: convolved(op, tensors, [placement] + [R] * (len(tensors) - 1)))
    for placements in ((S1, R, R), (S2, R, R), (Partial(), R, R), (S0, S0, R)):   # (torch's DTensor raises)
        record(f"{name}_{placements}", lambda: convolved(op, tensors, placements[:len(tensors)], torch_runs=False))
REDUCTIONS = {"amax": lambda t: t.amax(), "amax_dims": lambda t: t.amax((0, 3)), "max": lambda t: t.max(),
              "amin_dim": lambda t: torch.amin(t, 2, keepdim=True), "norm": lambda t: torch.linalg.vector_norm(t),
              "norm_1": lambda t: torch.linalg.vector_norm(t, 1, dim=(0, 1)),
              "norm_3": lambda t: torch.linalg.vector_norm(t, 3, dim=0), "norm_inf": lambda t: t.norm(float("inf")),
              "norm_neg_inf": lambda t: torch.linalg.vector_norm(t, -float("inf"), dim=2)}
for name, op in REDUCTIONS.items():   # a part's gradient is its share of the whole's (a max's: where it is the max)
    for placement in (S0, S2):
        record(f"{name}_{placement}", lambda: pooled(op, images, placement))
record("uneven_batch", lambda: pooled(lambda t: F.max_pool2d(t, 2), images[:3].clone(), S0))


def torch_strategy_placement(query, key, value, mask, placements):
    """The output placement torch's strategy for its attention kernels gives these layouts (its propagator's
    answer; the CPU kernels have none)."""
    laid = [distribute_tensor(t, mesh, [p]) for t, p in zip((query, key, value, mask), placements) if t is not None]
    schema = OpSchema(torch.ops.aten._scaled_dot_product_efficient_attention.default,
                      tuple(d._spec for d in laid[:3]) + (laid[3]._spec if mask is not None else None, False), {})
    return str(DTensor._op_dispatcher.sharding_propagator.propagate_op_sharding(schema).output_spec[0].placements)


def attention(query, key, value, placements, mask=None, mask_placement=R, strategy_mask=True, **options):
    """scaled_dot_product_attention of DTensors laid out by ``placements`` (torch: of the whole tensors): the
    output's placement, values and the inputs' gradients."""
    tensors = [query, key, value]
    if LIBRARY == "torch":
        placement = torch_strategy_placement(query, key, value, mask if strategy_mask else None,
                                             list(placements) + [mask_placement])
        leaves = [t.clone().requires_grad_() for t in tensors]
        out = F.scaled_dot_product_attention(*leaves, attn_mask=mask, **options)
        (out * weights_for(out.shape)).sum().backward()
        return [[placement, list(out.shape), out.tolist()]] + [t.grad.tolist() for t in leaves]
    leaves = [distribute_tensor(t, mesh, [p]).requires_grad_() for t, p in zip(tensors, placements)]
    laid_mask = None if mask is None else distribute_tensor(mask, mesh, [mask_placement])
    out = F.scaled_dot_product_attention(*leaves, attn_mask=laid_mask, **options)
    (out.full_tensor() * weights_for(out.shape)).sum().backward()
    return [seen(out)] + [t.grad.full_tensor().tolist() for t in leaves]


q, k, v = (torch.randn(4, 4, length, 8, dtype=torch.float64) for length in (5, 7, 7))
for placements in ((R, R, R), (S0, S0, S0), (S1, S1, S1), (S2, S2, S2), (S3, S3, S3), (S0, S1, S0), (S1, S0, S1),
                   (R, S1, S1)):
    record(f"sdpa_{placements}", lambda: attention(q, k, v, placements))
    record(f"sdpa_causal_{placements}", lambda: attention(q, k[:, :, :5].clone(), v[:, :, :5].clone(), placements,
                                                          is_causal=True))
    record(f"sdpa_scale_{placements}", lambda: attention(q, k, v, placements, scale=0.3))
additive = torch.randn(4, 4, 5, 7, dtype=torch.float64)
for placements in ((S0, S0, S0), (S1, S1, S1), (R, R, R)):
    record(f"sdpa_mask_{placements}", lambda: attention(q, k, v, placements, additive))
    record(f"sdpa_mask_sharded_{placements}", lambda: attention(q, k, v, placements, additive, S0))
    keep = torch.rand(5, 7) > 0.3   # (broadcast over batch and heads: not part of the strategy)
    record(f"sdpa_bool_mask_{placements}", lambda: attention(q, k, v, placements, keep, strategy_mask=False))


def values_only(case):
    """An attention case's output shape and values and the inputs' gradients, without the placement (torch's
    attention kernels' strategy has no reference for it: grouped heads, 3-D inputs)."""
    out, *grads = case()
    return [out[1:]] + grads


group = [torch.randn(4, 2, 7, 8, dtype=torch.float64) for _ in range(2)]   # 2 key heads for 4 query heads
for placements in ((S0, S0, S0), (S1, S1, S1), (R, R, R)):
    record(f"sdpa_gqa_{placements}", lambda: values_only(lambda: attention(q, *group, placements, enable_gqa=True)))
flat = [t[:, 0].clone() for t in (q, k, v)]   # (N, L, E)
record("sdpa_3d_S(0)", lambda: attention(*flat, (S0, S0, S0)))
for placements in ((S1, S1, S1), (S2, S2, S2)):
    record(f"sdpa_3d_{placements}", lambda: values_only(lambda: attention(*flat, placements)))


def mixed():
    """A plain tensor among DTensors: the error's type."""
    laid = [distribute_tensor(t, mesh, [S0]) for t in (q, k)]
    try:
        F.scaled_dot_product_attention(*laid, v)
    except RuntimeError as error:
        return type(error).__name__


record("sdpa_mixed", mixed)
finish(sys.argv[2])
