"""One program on torch.distributed.tensor.parallel, run on ember (under mpiexec) or on torch (gloo): a 2-layer MLP
(ColwiseParallel then RowwiseParallel, its batch-sharded input gathered by a root PrepareModuleInput) and a small
Transformer (a RowwiseParallel embedding giving sequence shards, SequenceParallel norms, attention with colwise
q/k/v and a rowwise output projection, a colwise/rowwise MLP, a colwise vocabulary head under loss_parallel),
trained a few steps with SGD and Adam. Each rank records losses, parameter layouts, local parts and whole values,
the styles' reprs and the errors, and writes them to OUT_DIR/<library>-<rank>.json.

    python tensor_parallel.py ember|torch OUT_DIR
"""
import math
import sys
import warnings

from _beside_torch import LIBRARY, dist, finish, record, start, torch

if LIBRARY == "torch":
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.tensor import DTensor, Replicate, Shard
    from torch.distributed.tensor.parallel import (ColwiseParallel, PrepareModuleInput, PrepareModuleOutput,
                                                   RowwiseParallel, SequenceParallel, loss_parallel,
                                                   parallelize_module)
else:
    from ember.distributed.device_mesh import init_device_mesh
    from ember.distributed.tensor import DTensor, Replicate, Shard
    from ember.distributed.tensor.parallel import (ColwiseParallel, PrepareModuleInput, PrepareModuleOutput,
                                                   RowwiseParallel, SequenceParallel, loss_parallel,
                                                   parallelize_module)

nn, F = torch.nn, torch.nn.functional
rank = start()
world = dist.get_world_size()
mesh = init_device_mesh("cpu", (world,))


def fill(model, dtype):
    """Deterministic weights, the same on both libraries."""
    model.to(dtype)
    with torch.no_grad():
        for i, param in enumerate(model.parameters()):
            param.copy_(torch.sin(torch.arange(param.numel(), dtype=dtype) * 0.37 + i).reshape(param.shape) * 0.4)
    return model


def layouts(model):
    """Each parameter's type, placements, local part and whole value."""
    return {name: [type(p).__name__, isinstance(p, DTensor), str(p.placements), p.to_local().tolist(),
                   p.full_tensor().tolist()] for name, p in model.named_parameters()}


def train(model, step, optimizer, steps=3):
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = step(model)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


# --- a 2-layer MLP ------------------------------------------------------------------------------------------------
class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.w1, self.w2 = nn.Linear(8, 16), nn.Linear(16, 8)

    def forward(self, x):
        return self.w2(F.relu(self.w1(x)))


batch = torch.cos(torch.arange(8 * 8, dtype=torch.float32).reshape(8, 8))
my_rows = batch.chunk(world)[rank]   # each rank's batch shard; the root hook gathers them
plan = {"": PrepareModuleInput(input_layouts=Shard(0), desired_input_layouts=Replicate()),
        "w1": ColwiseParallel(), "w2": RowwiseParallel()}
for name, make in (("sgd", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
                   ("adam", lambda p: torch.optim.Adam(p, lr=0.01))):
    mlp = parallelize_module(fill(MLP(), torch.float32), mesh, plan)
    record(f"mlp_{name}_layouts_before", lambda: layouts(mlp))
    record(f"mlp_{name}_losses", lambda: train(mlp, lambda m: m(my_rows).pow(2).mean(), make(mlp.parameters())))
    record(f"mlp_{name}_layouts_after", lambda: layouts(mlp))
    record(f"mlp_{name}_output", lambda: [isinstance(mlp(my_rows), DTensor), mlp(my_rows).tolist()])


# --- a small Transformer ------------------------------------------------------------------------------------------
class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.head_dim = dim // heads
        self.wq, self.wk, self.wv = (nn.Linear(dim, dim, bias=False) for _ in range(3))
        self.wo = nn.Linear(dim, dim)

    def forward(self, x):
        b, t, _ = x.shape
        q, k, v = (w(x).view(b, t, -1, self.head_dim).transpose(1, 2) for w in (self.wq, self.wk, self.wv))
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(self.head_dim)
        return self.wo((scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, -1))


class FeedForward(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.w1, self.w2 = nn.Linear(dim, 2 * dim), nn.Linear(2 * dim, dim)

    def forward(self, x):
        return self.w2(F.gelu(self.w1(x)))


class Transformer(nn.Module):
    def __init__(self, vocab=12, dim=8, heads=4):
        super().__init__()
        self.tok = nn.Embedding(vocab, dim)
        self.norm1, self.attn = nn.LayerNorm(dim), Attention(dim, heads)
        self.norm2, self.mlp = nn.LayerNorm(dim), FeedForward(dim)
        self.norm, self.head = nn.LayerNorm(dim), nn.Linear(dim, vocab, bias=False)

    def forward(self, ids):
        h = self.tok(ids)
        h = h + self.attn(self.norm1(h))
        h = h + self.mlp(self.norm2(h))
        return self.head(self.norm(h))


tp_plan = {
    "tok": RowwiseParallel(input_layouts=Replicate(), output_layouts=Shard(1)),
    "norm*": SequenceParallel(),
    "attn": PrepareModuleInput(input_layouts=(Shard(1),), desired_input_layouts=(Replicate(),)),
    "attn.w[qkv]": ColwiseParallel(),
    "attn.wo": RowwiseParallel(output_layouts=Shard(1)),
    "mlp": PrepareModuleInput(input_layouts=(Shard(1),), desired_input_layouts=(Replicate(),)),
    "mlp.w1": ColwiseParallel(),
    "mlp.w2": RowwiseParallel(output_layouts=Shard(1)),
    "head": ColwiseParallel(input_layouts=Shard(1), use_local_output=False),
}
ids = (torch.arange(2 * 6).reshape(2, 6) * 5) % 12
labels = (ids * 7 + 3) % 12
labels[0, 2] = -100   # an ignored position


def lm_step(model, **loss_options):
    logits = model(ids)
    with loss_parallel():
        loss = F.cross_entropy(logits.flatten(0, 1), labels.flatten(), **loss_options)
        loss.backward()
    return loss


def train_lm(model, optimizer, steps=3, **loss_options):
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        losses.append(lm_step(model, **loss_options).item())
        optimizer.step()
    return losses


for dtype in (torch.float64, torch.float32):
    for name, make in (("sgd", lambda p: torch.optim.SGD(p, lr=0.2)), ("adam", lambda p: torch.optim.Adam(p, lr=0.01))):
        key = f"lm_{name}_{str(dtype)[-7:]}"
        lm = parallelize_module(fill(Transformer(), dtype), mesh, tp_plan)
        record(f"{key}_logits", lambda: [str(lm(ids).placements), list(lm(ids).shape),
                                         lm(ids).full_tensor().tolist()])
        record(f"{key}_losses", lambda: train_lm(lm, make(lm.parameters())))
        record(f"{key}_layouts", lambda: layouts(lm))

lm = parallelize_module(fill(Transformer(), torch.float64), mesh, tp_plan)
weight = torch.linspace(0.5, 1.5, 12, dtype=torch.float64)
unignored = torch.where(labels < 0, 3, labels).flatten()


def loss_case(options, targets, torch_can):
    """cross_entropy of the vocabulary-sharded logits under loss_parallel, and every parameter's gradient. Where
    torch 2.13's loss_parallel fails (label smoothing: a mixed masked_fill; weights with an ignored target: its
    index), torch's side is its cross_entropy of the gathered logits."""
    logits = lm(ids).flatten(0, 1)
    for p in lm.parameters():
        p.grad = None
    if LIBRARY == "torch" and not torch_can:
        loss = F.cross_entropy(logits.full_tensor(), targets, **options)
        loss.backward()
    else:
        with loss_parallel():
            loss = F.cross_entropy(logits, targets, **options)
            loss.backward()
    return [loss.item()] + [p.grad.full_tensor().tolist() for p in lm.parameters()]


for name, options, targets, torch_can in (
        ("sum", {"reduction": "sum"}, labels.flatten(), True),
        ("weight", {"weight": weight}, unignored, True),
        ("smoothing", {"label_smoothing": 0.1}, labels.flatten(), False),
        ("weight_ignored", {"weight": weight}, labels.flatten(), False),
        ("weight_smoothing", {"weight": weight, "label_smoothing": 0.2, "ignore_index": 3}, unignored, False),
        ("smoothing_sum", {"label_smoothing": 0.3, "reduction": "sum"}, labels.flatten(), False)):
    record(f"loss_parallel_{name}", lambda: loss_case(options, targets, torch_can))


def clipped():
    """A step's gradients clipped to total norm 0.5 across the sharded and replicated parameters."""
    for p in lm.parameters():
        p.grad = None
    lm_step(lm)
    norm = torch.nn.utils.clip_grad_norm_(lm.parameters(), 0.5)
    return [str(norm.placements), norm.full_tensor().item()] + [p.grad.full_tensor().tolist() for p in lm.parameters()]


record("clip_grad_norm", clipped)
record("state_dict", lambda: {k: [type(v).__name__, str(v.placements), list(v.shape)] for k, v in
                              lm.state_dict().items()})


def per_token():
    with loss_parallel():
        loss = F.cross_entropy(lm(ids).flatten(0, 1), labels.flatten(), reduction="none")
    return [str(loss.placements), loss.full_tensor().tolist()]


record("loss_parallel_none", per_token)


def loss_module():
    """nn.CrossEntropyLoss (its class weights a buffer) under loss_parallel."""
    criterion = nn.CrossEntropyLoss(weight=weight, reduction="sum")
    with loss_parallel():
        loss = criterion(lm(ids).flatten(0, 1), unignored)
    return [str(loss.placements), loss.item()]


record("loss_parallel_module", loss_module)


def log_softmax_parallel():
    with loss_parallel():
        return F.log_softmax(lm(ids), dim=1).full_tensor().tolist(), F.log_softmax(
            lm(ids).flatten(0, 1), dim=1).full_tensor().tolist()


record("log_softmax_parallel", log_softmax_parallel)

# --- the styles themselves ----------------------------------------------------------------------------------------
record("reprs", lambda: [repr(s) for s in (ColwiseParallel(), RowwiseParallel(output_layouts=Shard(1)),
                                             SequenceParallel(sequence_dim=0), PrepareModuleInput(
                                                 input_layouts=Shard(0), desired_input_layouts=Replicate()),
                                             PrepareModuleOutput(output_layouts=Shard(0),
                                                                 desired_output_layouts=Replicate()))])
record("colwise_relu", lambda: parallelize_module(nn.ReLU(), mesh, ColwiseParallel()))
record("rowwise_relu", lambda: parallelize_module(nn.ReLU(), mesh, RowwiseParallel()))
record("plan_type", lambda: parallelize_module(nn.Linear(2, 2), mesh, [ColwiseParallel()]))


def no_plan():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        parallelize_module(nn.Linear(2, 2), mesh)
        parallelize_module(MLP(), mesh, {"w3": ColwiseParallel()})
    return [str(w.message) for w in caught]


record("warnings", lambda: [m.split(" in module")[0] for m in no_plan()])


def module_output():
    net = nn.Linear(4, 4)
    fill(net, torch.float32)
    parallelize_module(net, mesh, PrepareModuleOutput(output_layouts=Shard(0), desired_output_layouts=Replicate()))
    out = net(torch.ones(2, 4) * (rank + 1))
    return [type(out).__name__, out.tolist()]


record("prepare_output", module_output)


def source_ranks():
    """src_data_rank=0 shards rank 0's weights out; None keeps each rank's own."""
    parts = []
    for source in (0, None):
        net = nn.Linear(4, 4)
        with torch.no_grad():
            net.weight.copy_(torch.arange(16.0).reshape(4, 4) + 100 * rank)
        parallelize_module(net, mesh, ColwiseParallel(), src_data_rank=source)
        parts.append(net.weight.to_local().tolist())
    return parts


record("src_data_rank", source_ranks)


class Joiner(nn.Module):
    def forward(self, x, *, y):
        return x * 2 + y


def keyword_inputs():
    """PrepareModuleInput on positional and keyword inputs, and SequenceParallel with local outputs."""
    joiner = parallelize_module(Joiner(), mesh, PrepareModuleInput(
        input_layouts=(Shard(0),), desired_input_layouts=(Replicate(),), input_kwarg_layouts={"y": Shard(0)},
        desired_input_kwarg_layouts={"y": Replicate()}, use_local_output=True))
    joined = joiner(torch.ones(2, 3) * (rank + 1), y=torch.arange(6.0).reshape(2, 3) + rank)
    norm = parallelize_module(fill(nn.LayerNorm(3), torch.float32), mesh,
                              SequenceParallel(sequence_dim=0, use_local_output=True))
    normed = norm(joined[rank * 2:rank * 2 + 2] * (rank + 1))
    return [type(joined).__name__, joined.tolist(), isinstance(normed, DTensor), normed.tolist()]


record("keyword_inputs", keyword_inputs)


def embedding_styles():
    """ColwiseParallel and RowwiseParallel on nn.Embedding: the table's layout, the output and the gradient."""
    seen = []
    for style in (ColwiseParallel(), RowwiseParallel(), ColwiseParallel(output_layouts=Replicate())):
        table = parallelize_module(fill(nn.Embedding(6, 4), torch.float64), mesh, style)
        out = table(torch.tensor([[0, 5, 3], [2, 2, 1]]))
        (out * torch.arange(out.numel(), dtype=torch.float64).reshape(out.shape)).sum().backward()
        seen.append([str(table.weight.placements), isinstance(out, DTensor), out.tolist(),
                     table.weight.grad.full_tensor().tolist()])
    return seen


record("embedding_styles", embedding_styles)
finish(sys.argv[2])
