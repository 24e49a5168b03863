"""FSDP2 over tensor parallelism on a 2-D mesh (dp x tp = 2 x 2), run on ember (under mpiexec) or on torch (gloo):
parallelize_module over mesh["tp"], then fully_shard over mesh["dp"] per block and at the root, for a colwise/rowwise
MLP (SGD, then AdamW, with and without gradient clipping, and gathered in float32; then with sizes that split
unevenly; then on a mesh named (tp, dp); then HSDP over TP on a (2, 1, 2) mesh) and two small Transformer blocks
(AdamW), also with sequence parallelism (its norms' gradients Partial over tp). Each dp group feeds its own batch.
Each rank records losses, its parameters' and gradients' placements and local parts, the whole parameters and the
state dict's placements, gradients accumulated without sync, the values of ops on a _StridedShard parameter, and
the errors of dp meshes unnamed or not sliced from the tp mesh's parent, to OUT_DIR/<library>-<rank>.json.

    python fsdp2_tp.py ember|torch OUT_DIR
"""
import sys

from _beside_torch import LIBRARY, finish, record, results, start, torch

if LIBRARY == "torch":
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard
    from torch.distributed.tensor import Replicate, Shard, distribute_tensor
    from torch.distributed.tensor.parallel import (ColwiseParallel, PrepareModuleInput, RowwiseParallel,
                                                   SequenceParallel, parallelize_module)
else:
    from ember.distributed.device_mesh import init_device_mesh
    from ember.distributed.fsdp import MixedPrecisionPolicy, fully_shard
    from ember.distributed.tensor import Replicate, Shard, distribute_tensor
    from ember.distributed.tensor.parallel import (ColwiseParallel, PrepareModuleInput, RowwiseParallel,
                                                   SequenceParallel, parallelize_module)

nn, F = torch.nn, torch.nn.functional
rank = start()
mesh = init_device_mesh("cpu", (2, 2), mesh_dim_names=("dp", "tp"))
dp_rank, tp_rank = mesh.get_local_rank("dp"), mesh.get_local_rank("tp")
tp_first = init_device_mesh("cpu", (2, 2), mesh_dim_names=("tp", "dp"))   # (the joint mesh is (dp, tp) all the same)
hsdp = init_device_mesh("cpu", (2, 1, 2), mesh_dim_names=("replicate", "shard", "tp"))   # HSDP over TP


def fill(model):
    """Deterministic values, the same in both libraries."""
    with torch.no_grad():
        for i, param in enumerate(model.parameters()):
            values = torch.arange(param.numel(), dtype=torch.float64) * 0.41 + i
            param.copy_(torch.sin(values).reshape(param.shape) / 3)
    return model


class MLP(nn.Module):
    def __init__(self, dim=6, hidden=8):
        super().__init__()
        self.w1, self.w2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)

    def forward(self, x):
        return self.w2(torch.tanh(self.w1(x)))


class Block(nn.Module):
    """Pre-norm self-attention and MLP; the attention's heads are split over tp (a view with -1 heads)."""

    def __init__(self, dim=8, heads=4):
        super().__init__()
        self.head_dim = dim // heads
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.wq, self.wk, self.wv, self.wo = (nn.Linear(dim, dim) for _ in range(4))
        self.mlp = MLP(dim, 2 * dim)

    def forward(self, x):
        b, s, _ = x.shape
        h = self.norm1(x)
        q, k, v = (w(h).view(b, s, -1, self.head_dim).transpose(1, 2) for w in (self.wq, self.wk, self.wv))
        attn = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.wo(attn.transpose(1, 2).reshape(b, s, -1))
        return x + self.mlp(self.norm2(x))


class Attention(nn.Module):
    def __init__(self, dim=8, heads=4):
        super().__init__()
        self.head_dim = dim // heads
        self.wq, self.wk, self.wv, self.wo = (nn.Linear(dim, dim) for _ in range(4))

    def forward(self, h):
        b, s, _ = h.shape
        q, k, v = (w(h).view(b, s, -1, self.head_dim).transpose(1, 2) for w in (self.wq, self.wk, self.wv))
        attn = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.wo(attn.transpose(1, 2).reshape(b, s, -1))


class SequenceBlock(nn.Module):
    """The block with its attention a module of its own, for a sequence-parallel plan."""

    def __init__(self, dim=8):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn, self.mlp = Attention(dim), MLP(dim, 2 * dim)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class Transformer(nn.Module):
    def __init__(self, block=Block):
        super().__init__()
        self.blocks = nn.ModuleList([block(), block()])
        self.norm = nn.LayerNorm(8)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.norm(x)


MLP_PLAN = {"w1": ColwiseParallel(), "w2": RowwiseParallel()}
BLOCK_PLAN = {"wq": ColwiseParallel(), "wk": ColwiseParallel(), "wv": ColwiseParallel(), "wo": RowwiseParallel(),
              "mlp.w1": ColwiseParallel(), "mlp.w2": RowwiseParallel()}


SEQUENCE_PLAN = {
    "norm1": SequenceParallel(), "norm2": SequenceParallel(),
    "attn": PrepareModuleInput(input_layouts=(Shard(1),), desired_input_layouts=(Replicate(),)),
    "attn.wq": ColwiseParallel(), "attn.wk": ColwiseParallel(), "attn.wv": ColwiseParallel(),
    "attn.wo": RowwiseParallel(output_layouts=Shard(1)),
    "mlp": PrepareModuleInput(input_layouts=(Shard(1),), desired_input_layouts=(Replicate(),)),
    "mlp.w1": ColwiseParallel(), "mlp.w2": RowwiseParallel(output_layouts=Shard(1))}


def mlp_2d(dim=6, hidden=8, on=mesh, dp=("dp",), **options):
    model = parallelize_module(fill(MLP(dim, hidden).double()), on["tp"], MLP_PLAN)
    for layer in (model.w1, model.w2):
        fully_shard(layer, mesh=on[dp], **options)
    return fully_shard(model, mesh=on[dp], **options)


def transformer_2d(block=Block, plan=BLOCK_PLAN):
    model = fill(Transformer(block).double())
    for block in model.blocks:
        parallelize_module(block, mesh["tp"], plan)
        fully_shard(block, mesh=mesh["dp"])
    return fully_shard(model, mesh=mesh["dp"])


def layouts(model):
    return [(n, str(p.placements), str(p.device_mesh.mesh_dim_names), p.device_mesh.mesh.tolist(), list(p.shape),
             p.to_local().flatten().tolist()) for n, p in model.named_parameters()]


def grads(model):
    return [(n, str(p.grad.placements), p.grad.to_local().flatten().tolist()) for n, p in model.named_parameters()]


def train(model, optimizer, batch, steps=3):
    losses = []
    for step in range(steps):
        loss = model(batch).pow(2).mean()
        loss.backward()
        if step == 0:
            record(f"{name}_grads", lambda: grads(model))
        if name == "mlp_clipped":   # (norms of _StridedShard gradients; on one mesh, which torch's stack needs)
            results.setdefault("mlp_clipped_norms", []).append(
                float(nn.utils.clip_grad_norm_(model.parameters(), 0.05).full_tensor()))
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    return losses


def check(model, make_optimizer, batch):
    record(f"{name}_layouts", lambda: layouts(model))
    results[f"{name}_losses"] = train(model, make_optimizer(model), batch)
    record(f"{name}_shards", lambda: [p.to_local().flatten().tolist() for p in model.parameters()])
    record(f"{name}_full", lambda: [p.full_tensor().flatten().tolist() for p in model.parameters()])
    record(f"{name}_state_dict", lambda: [(k, type(v).__name__, str(v.placements), list(v.to_local().shape))
                                          for k, v in model.state_dict().items()])


mlp_batch = torch.cos(torch.arange(4 * 6, dtype=torch.float64) * (dp_rank + 1)).reshape(4, 6)
tp_first_batch = torch.cos(torch.arange(4 * 6, dtype=torch.float64) * (tp_first.get_local_rank("dp") + 1)).reshape(4, 6)
uneven_batch = torch.cos(torch.arange(4 * 5, dtype=torch.float64) * (dp_rank + 1)).reshape(4, 5)
block_batch = torch.cos(torch.arange(2 * 3 * 8, dtype=torch.float64) * (dp_rank + 1)).reshape(2, 3, 8)
sequence = torch.cos(torch.arange(2 * 4 * 8, dtype=torch.float64) * (dp_rank + 1)).reshape(2, 4, 8)
sequence_batch = sequence[:, 2 * tp_rank:2 * tp_rank + 2]   # each tp rank holds its half of the sequence
for name, build, optimizer, batch in (
        ("mlp_sgd", mlp_2d, lambda m: torch.optim.SGD(m.parameters(), lr=0.3), mlp_batch),
        ("mlp_adamw", mlp_2d, lambda m: torch.optim.AdamW(m.parameters(), lr=0.05), mlp_batch),
        ("mlp_clipped", mlp_2d, lambda m: torch.optim.AdamW(m.parameters(), lr=0.05), mlp_batch),
        ("mlp_float32", lambda: mlp_2d(mp_policy=MixedPrecisionPolicy(param_dtype=torch.float32)),
         lambda m: torch.optim.AdamW(m.parameters(), lr=0.05), mlp_batch),
        ("mlp_uneven", lambda: mlp_2d(5, 6), lambda m: torch.optim.SGD(m.parameters(), lr=0.3), uneven_batch),
        ("mlp_tp_first", lambda: mlp_2d(on=tp_first), lambda m: torch.optim.SGD(m.parameters(), lr=0.3),
         tp_first_batch),
        ("mlp_hsdp", lambda: mlp_2d(on=hsdp, dp=("replicate", "shard")),
         lambda m: torch.optim.AdamW(m.parameters(), lr=0.05), mlp_batch),
        ("block_adamw", transformer_2d, lambda m: torch.optim.AdamW(m.parameters(), lr=0.05), block_batch),
        ("block_sequence_parallel", lambda: transformer_2d(SequenceBlock, SEQUENCE_PLAN),
         lambda m: torch.optim.AdamW(m.parameters(), lr=0.05), sequence_batch)):
    check(build(), optimizer, batch)


def error_type(call):
    try:
        call()
    except Exception as error:   # the messages differ (they print the meshes)
        return type(error).__name__


# gradient accumulation: the first half-batch's gradients kept unreduced, the second's backward reduces their sum
accumulating = mlp_2d(reshard_after_forward=False)
accumulating.set_requires_gradient_sync(False)
accumulating(mlp_batch[:2]).pow(2).mean().backward()
record("accumulated_before_sync", lambda: [p.grad is None for p in accumulating.parameters()])
accumulating.set_requires_gradient_sync(True)
accumulating(mlp_batch[2:]).pow(2).mean().backward()
record("accumulated_grads", lambda: grads(accumulating))

strided = mlp_2d().w1.weight   # (_StridedShard(dim=0, sf=2), Shard(dim=0))
with torch.no_grad():
    results["strided_ops"] = [op(strided).full_tensor().flatten().tolist() for op in (
        torch.linalg.vector_norm, torch.sum, lambda t: t.sum(0), lambda t: t.sum(1), torch.max, lambda t: t.t() * 2,
        lambda t: t.reshape(-1), lambda t: t.mean(1, keepdim=True), lambda t: t + 1,
        lambda t: t * distribute_tensor(torch.arange(6.0, dtype=torch.float64), mesh, [Replicate(), Replicate()]),
        lambda t: t - distribute_tensor(torch.ones(8, 6, dtype=torch.float64), mesh, [Replicate(), Replicate()]))]
for name, names in (("unnamed_dp_mesh", None), ("other_parent_mesh", ("dp",))):
    flat_mesh = init_device_mesh("cpu", (4,), mesh_dim_names=names)   # not the tp mesh's parent
    results[name] = error_type(
        lambda: fully_shard(parallelize_module(fill(MLP().double()), mesh["tp"], MLP_PLAN), mesh=flat_mesh))
finish(sys.argv[2])
