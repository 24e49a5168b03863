"""One program on FSDP2's resharding after forward, run on ember (under mpiexec) or on torch (gloo): a stack of four
Linear layers, each sharded with reshard_after_forward True (the root too) or an int (groups of 2 ranks), trained
two steps with SGD (also with activation checkpointing around each layer); each rank records the gradients, the
shards and the losses as JSON in OUT_DIR/<library>-<rank>.json. On ember it also records (``ember_*``, for the test
to check: torch's CPU allocations are not visible to tracemalloc) the bytes alive, by tracemalloc, at each layer's
forward (after the layer's gathering), after the forward and at the peak of the backward, beside one layer's whole
parameters; and the error from computing with a gathered parameter after its module resharded (its storage is
freed: on torch that crashes the process).

    python fsdp2_memory.py ember|torch OUT_DIR
"""
import sys
import tracemalloc

from _beside_torch import LIBRARY, finish, record, results, start_mesh, torch

if LIBRARY == "torch":
    from torch.distributed.algorithms._checkpoint.checkpoint_wrapper import checkpoint_wrapper
    from torch.distributed.fsdp import fully_shard
else:
    from ember.distributed.algorithms._checkpoint.checkpoint_wrapper import checkpoint_wrapper
    from ember.distributed.fsdp import fully_shard
    from ember.ops import _buffers

nn = torch.nn
rank, world, mesh = start_mesh()
WIDTH, LAYERS = 192, 4
LAYER_BYTES = (WIDTH * WIDTH + WIDTH) * 4


def build(wrap):
    torch.manual_seed(0)
    layers = [nn.Linear(WIDTH, WIDTH) for _ in range(LAYERS)]
    return nn.Sequential(*[checkpoint_wrapper(layer) if wrap else layer for layer in layers])


torch.manual_seed(1)
inputs = torch.randn(4 * world, WIDTH)
x = inputs[4 * rank:4 * rank + 4]


def train(name, reshard_after_forward, measure, wrap=False):
    model = build(wrap)
    for layer in model:
        fully_shard(layer, mesh=mesh, reshard_after_forward=reshard_after_forward)
    fully_shard(model, mesh=mesh, reshard_after_forward=reshard_after_forward)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    at_layers, base = [], [0]

    def alive(*_):
        if tracemalloc.is_tracing():
            at_layers.append(tracemalloc.get_traced_memory()[0] - base[0])
    if measure:
        for layer in model:   # after FSDP's own pre-hook: the layer's parameters are gathered
            layer.register_forward_pre_hook(alive)
    losses = []
    for step in range(2):
        if measure and step == 1:   # the second step: the unsharded parameters exist, as in training
            _buffers._pool.clear()
            tracemalloc.start()
            base[0] = tracemalloc.get_traced_memory()[0]
        loss = model(x).square().mean()
        if measure and step == 1:
            after_forward = tracemalloc.get_traced_memory()[0] - base[0]
            tracemalloc.reset_peak()
        loss.backward()
        if measure and step == 1:
            peak = tracemalloc.get_traced_memory()[1] - base[0]
            tracemalloc.stop()
            results["ember_" + name] = {"at_layers": at_layers, "after_forward": after_forward,
                                         "backward_peak": peak, "layer": LAYER_BYTES}
        if step == 0:
            record(name + "_grads", lambda: [(str(p.grad.placements), p.grad.to_local().flatten().tolist())
                                             for p in model.parameters()])
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    results[name + "_losses"] = losses
    record(name + "_shards", lambda: [p.to_local().flatten().tolist() for p in model.parameters()])


train("resharded", True, LIBRARY == "ember")
train("kept", False, LIBRARY == "ember")
train("checkpointed", True, False, wrap=True)   # each layer recomputed in backward, after its gathering
if world % 2 == 0 and world > 2:
    train("to_pairs", 2, LIBRARY == "ember")


def freed_use():
    model = build(False)
    fully_shard(model, mesh=mesh)
    model.unshard()
    weight = model[0].weight
    model.reshard()
    try:
        weight * 2
    except RuntimeError as error:
        return type(error).__name__


if LIBRARY == "ember":
    record("ember_freed_use", freed_use)
finish(sys.argv[2])
