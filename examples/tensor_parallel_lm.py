"""A small character-level Transformer trained with tensor parallelism (Megatron-style, as PyTorch's TP tutorial):

    mpiexec -n 2 python examples/tensor_parallel_lm.py
    python -m ember.distributed.run --nproc-per-node 2 examples/tensor_parallel_lm.py
    mpiexec -n 4 python examples/tensor_parallel_lm.py --dp 2   # 2-D: FSDP over dp, tensor parallel over tp

The token embedding is sharded by rows and hands out sequence shards; the norms run on those shards
(SequenceParallel); attention's q/k/v projections and the MLP's first layer are sharded by output features, the
output projections by input features (each rank computes its own heads); the vocabulary head is sharded by classes
and the loss computed on the shards (loss_parallel). With ``--dp``, the ranks form a (dp, tp) mesh: each block and the
model are also sharded over dp with fully_shard, and each dp group trains on its part of the batch. The losses
printed by rank 0 (averaged over dp) are the one-process training's, whatever the number of ranks (tp must divide
the heads and the sequence, dp the batch).
"""
import argparse
import math

import ember as torch
import ember.distributed as dist
import ember.nn as nn
import ember.nn.functional as F
from ember.distributed.device_mesh import init_device_mesh
from ember.distributed.fsdp import fully_shard
from ember.distributed.tensor import Replicate, Shard
from ember.distributed.tensor.parallel import (ColwiseParallel, PrepareModuleInput, RowwiseParallel,
                                               SequenceParallel, loss_parallel, parallelize_module)

TEXT = ("It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of "
        "foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the season of Light, it "
        "was the season of Darkness, it was the spring of hope, it was the winter of despair.")


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.head_dim = dim // heads
        self.wq, self.wk, self.wv = (nn.Linear(dim, dim, bias=False) for _ in range(3))
        self.wo = nn.Linear(dim, dim, bias=False)

    def forward(self, x):
        b, t, _ = x.shape
        q, k, v = (w(x).view(b, t, -1, self.head_dim).transpose(1, 2) for w in (self.wq, self.wk, self.wv))
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(self.head_dim)
        causal = torch.ones(t, t, dtype=torch.bool).triu(1)
        out = scores.masked_fill(causal, float("-inf")).softmax(-1) @ v
        return self.wo(out.transpose(1, 2).reshape(b, t, -1))


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.attention_norm, self.attention = nn.LayerNorm(dim), Attention(dim, heads)
        self.ffn_norm = nn.LayerNorm(dim)
        self.w1, self.w2 = nn.Linear(dim, 4 * dim), nn.Linear(4 * dim, dim)

    def feed_forward(self, x):
        return self.w2(F.gelu(self.w1(x)))

    def forward(self, x):
        x = x + self.attention(self.attention_norm(x))
        return x + self.feed_forward(self.ffn_norm(x))


class CharLM(nn.Module):
    def __init__(self, vocab, dim=32, heads=4, layers=2):
        super().__init__()
        self.tok = nn.Embedding(vocab, dim)
        self.layers = nn.ModuleList(Block(dim, heads) for _ in range(layers))
        self.norm, self.output = nn.LayerNorm(dim), nn.Linear(dim, vocab, bias=False)

    def forward(self, ids):
        h = self.tok(ids)   # (no position embedding: the causal mask tells the positions apart)
        for layer in self.layers:
            h = layer(h)
        return self.output(self.norm(h))


def parallelize(model, mesh):
    """PyTorch's TP plan for a Llama-style model: sequence shards between the blocks' parallel regions."""
    parallelize_module(model, mesh, {
        "tok": RowwiseParallel(input_layouts=Replicate(), output_layouts=Shard(1)),
        "norm": SequenceParallel(),
        "output": ColwiseParallel(input_layouts=Shard(1), use_local_output=False),
    })
    for block in model.layers:
        parallelize_module(block, mesh, {
            "attention_norm": SequenceParallel(),
            "attention": PrepareModuleInput(input_layouts=(Shard(1),), desired_input_layouts=(Replicate(),)),
            "attention.w[qkv]": ColwiseParallel(),
            "attention.wo": RowwiseParallel(output_layouts=Shard(1)),
            "ffn_norm": SequenceParallel(),
            "w1": ColwiseParallel(input_layouts=Shard(1)),
            "w2": RowwiseParallel(output_layouts=Shard(1)),
        })
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--print-every", type=int, default=5)
    parser.add_argument("--dp", type=int, default=1, help="data-parallel (FSDP) size; the other ranks' factor is tp")
    args = parser.parse_args()
    dist.init_process_group("gloo")
    mesh = init_device_mesh("cpu", (args.dp, dist.get_world_size() // args.dp), mesh_dim_names=("dp", "tp"))
    chars = sorted(set(TEXT))
    data = torch.tensor([chars.index(c) for c in TEXT])
    torch.manual_seed(0)   # the same weights and batches on every rank
    model = parallelize(CharLM(len(chars)), mesh["tp"])
    if args.dp > 1:
        for block in model.layers:
            fully_shard(block, mesh=mesh["dp"])
        fully_shard(model, mesh=mesh["dp"])
    rows = slice(mesh.get_local_rank("dp") * 8 // args.dp, (mesh.get_local_rank("dp") + 1) * 8 // args.dp)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for step in range(1, args.steps + 1):
        starts = torch.randint(0, len(data) - 17, (8,))
        batch = torch.stack([data[s:s + 17] for s in starts.tolist()])[rows]   # (this dp group's rows)
        logits = model(batch[:, :-1])
        with loss_parallel():
            loss = F.cross_entropy(logits.flatten(0, 1), batch[:, 1:].flatten())
            loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if step % args.print_every == 0 or step == 1:
            mean = torch.tensor(loss.item() / args.dp)
            dist.all_reduce(mean, group=mesh["dp"].get_group())
            if dist.get_rank() == 0:
                print(f"step {step} loss {mean.item():.6f}")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
