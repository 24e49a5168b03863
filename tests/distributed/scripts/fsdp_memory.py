"""One program on FullyShardedDataParallel's (FSDP1's) freeing of gathered parameters, run on ember (under mpiexec)
or on torch (gloo): four Linear layers, a FULL_SHARD unit each inside a root unit (flat parameters, and with
use_orig_params), trained two steps with SGD; each rank records the losses and gradients as JSON in
OUT_DIR/<library>-<rank>.json. On ember it also records (``ember_*``) the bytes alive by tracemalloc after the
forward and at the peak of the backward, beside one layer's whole parameters, for FULL_SHARD and for SHARD_GRAD_OP
(which keeps them until backward, as PyTorch).

    python fsdp_memory.py ember|torch OUT_DIR
"""
import sys
import tracemalloc

from _beside_torch import LIBRARY, finish, record, results, start, torch

if LIBRARY == "torch":
    from torch.distributed import fsdp
    from torch.distributed.fsdp import wrap
else:
    from ember.distributed import fsdp
    from ember.distributed.fsdp import wrap
    from ember.ops import _buffers

FSDP = fsdp.FullyShardedDataParallel
nn = torch.nn
rank = start()
WIDTH, LAYERS = 192, 4
LAYER_BYTES = (WIDTH * WIDTH + WIDTH) * 4


def train(name, measure, **options):
    torch.manual_seed(0)
    model = FSDP(nn.Sequential(*[nn.Linear(WIDTH, WIDTH) for _ in range(LAYERS)]), device_id=torch.device("cpu"),
                 auto_wrap_policy=wrap.ModuleWrapPolicy({nn.Linear}), **options)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    losses = []
    for step in range(2):
        torch.manual_seed(10 * step + rank)
        x = torch.randn(4, WIDTH)
        if measure and step == 1:   # the second step, as in training
            _buffers._pool.clear()
            tracemalloc.start()
            base = tracemalloc.get_traced_memory()[0]
        loss = model(x).square().mean()
        if measure and step == 1:
            after_forward = tracemalloc.get_traced_memory()[0] - base
            tracemalloc.reset_peak()
        loss.backward()
        if measure and step == 1:
            peak = tracemalloc.get_traced_memory()[1] - base
            tracemalloc.stop()
            results["ember_" + name] = {"after_forward": after_forward, "backward_peak": peak, "layer": LAYER_BYTES}
        record(f"{name}_grads{step}", lambda: [[n, p.grad.flatten().tolist()] for n, p in model.named_parameters()])
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    results[name + "_losses"] = losses


measure = LIBRARY == "ember"
train("full_shard", measure)
train("orig_params", measure, use_orig_params=True)
train("grad_op", measure, sharding_strategy=fsdp.ShardingStrategy.SHARD_GRAD_OP)
finish(sys.argv[2])
