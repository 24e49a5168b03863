"""One 2-rank program on DistributedDataParallel's communication hooks, run on ember (under mpiexec) or on torch
(gloo, ranks started by the test with RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT): the gradients after one backward
with no hook, the default hooks (allreduce, fp16 compression, the fp16 wrapper, the no-op), PowerSGD, a built-in
hook and a user's annotated hook that records the buckets it is given; and the registration errors. Each rank writes
its results as JSON to OUT_DIR/<library>-<rank>.json, for the test to compare ember's with torch's.

    python comm_hooks.py ember|torch OUT_DIR
"""
import sys

from _beside_torch import LIBRARY, dist, finish, record, results, start, torch

if LIBRARY == "torch":
    from torch.distributed.algorithms.ddp_comm_hooks import debugging_hooks, default_hooks, powerSGD_hook
else:
    from ember.distributed.algorithms.ddp_comm_hooks import debugging_hooks, default_hooks, powerSGD_hook


def model():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.ReLU(), torch.nn.Linear(4, 3))
    return torch.nn.parallel.DistributedDataParallel(net, bucket_cap_mb=0.00005)   # 52 bytes: several buckets


def gradients(ddp):
    torch.manual_seed(10 + rank)
    ddp(torch.randn(6, 5)).square().sum().backward()
    return [p.grad.flatten().tolist() for p in ddp.parameters()]


rank = start()

results["no_hook"] = gradients(model())
for name, state, hook in (("allreduce", None, default_hooks.allreduce_hook),
                          ("allreduce_group", dist.group.WORLD, default_hooks.allreduce_hook),
                          ("fp16", None, default_hooks.fp16_compress_hook),
                          ("fp16_wrapper", None, default_hooks.fp16_compress_wrapper(default_hooks.allreduce_hook)),
                          ("noop", None, debugging_hooks.noop_hook)):
    ddp = model()
    ddp.register_comm_hook(state, hook)
    results[name] = gradients(ddp)

seen = []


def doubled(state, bucket: dist.GradBucket) -> torch.futures.Future[torch.Tensor]:
    seen.append([bucket.index(), bucket.is_last(), [list(p.shape) for p in bucket.parameters()],
                 [list(g.shape) for g in bucket.gradients()], bucket.buffer().numel(), state])
    work = dist.all_reduce(bucket.buffer(), async_op=True)
    return work.get_future().then(lambda future: future.value()[0] * 2)


for cap in (0.00005, None):   # 52-byte buckets, or PyTorch's default (a small first bucket, then 25 MiB)
    torch.manual_seed(0)
    ddp = torch.nn.parallel.DistributedDataParallel(torch.nn.Sequential(
        torch.nn.Linear(5, 4), torch.nn.ReLU(), torch.nn.Linear(4, 3)), bucket_cap_mb=cap)
    ddp.register_comm_hook("state", doubled)
    for step in range(2):   # the buckets are rebuilt after the first backward, in the order gradients came
        ddp.zero_grad()
        results[f"doubled_{cap}_{step}"] = gradients(ddp)
        if step == 0:
            results[f"buckets_seen_{cap}"] = list(seen)
        else:   # rebuilt in backward's order, which within a Linear is ember's (weight, bias), torch's (bias, weight)
            results[f"rebuilt_{cap}"] = [sorted(shape for b in seen for shape in b[2]), sum(b[4] for b in seen),
                                         seen[-1][1]]
        seen[:] = []

ddp = model()
ddp._register_builtin_comm_hook(dist.BuiltinCommHookType.FP16_COMPRESS)
results["builtin_fp16"] = gradients(ddp)
record("builtin_twice", lambda: ddp._register_builtin_comm_hook(dist.BuiltinCommHookType.ALLREDUCE))
record("hook_twice", lambda: ddp.register_comm_hook(None, default_hooks.allreduce_hook))
record("not_callable", lambda: model().register_comm_hook(None, 3))
record("no_bucket_parameter", lambda: model().register_comm_hook(None, lambda state, grads: grads))


def badly_annotated(state, bucket: int):
    return bucket


def badly_returning(state, bucket) -> int:
    return bucket


record("bucket_annotation", lambda: model().register_comm_hook(None, badly_annotated))
record("return_annotation", lambda: model().register_comm_hook(None, badly_returning))
record("bf16_on_cpu", lambda: model().register_comm_hook(None, default_hooks.bf16_compress_hook))
record("builtin_types", lambda: [repr(t) for t in (dist.BuiltinCommHookType.ALLREDUCE,
                                                   dist.BuiltinCommHookType.FP16_COMPRESS)])

# PowerSGD: plain averaging for two steps, then rank-r factors with error feedback and warm start (rank 3 takes
# the QR path); same-shaped matrices batched; its state's statistics and settings check
for name, settings, widths in (("rank1", {}, (16, 12, 3)), ("rank3", {"matrix_approximation_rank": 3}, (16, 12, 3)),
                               ("batched", {"batch_tensors_with_same_shape": True}, (12, 12, 12, 3)),
                               ("no_feedback", {"use_error_feedback": False, "warm_start": False,
                                                "start_powerSGD_iter": 1}, (16, 12, 3))):
    torch.manual_seed(0)
    layers = []
    for a, b in zip(widths[:-1], widths[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.Tanh()]
    ddp = torch.nn.parallel.DistributedDataParallel(torch.nn.Sequential(*layers[:-1]))
    state = powerSGD_hook.PowerSGDState(None, start_powerSGD_iter=settings.pop("start_powerSGD_iter", 2),
                                        **settings)
    ddp.register_comm_hook(state, powerSGD_hook.powerSGD_hook)
    for step in range(4):
        ddp.zero_grad()
        torch.manual_seed(20 + 2 * step + rank)
        ddp(torch.randn(6, widths[0])).square().sum().backward()
        results[f"powerSGD_{name}_{step}"] = [p.grad.flatten().tolist() for p in ddp.parameters()]
    results[f"powerSGD_{name}_stats"] = [state.iter, list(state.compression_stats()), sorted(state.error_dict)]
record("powerSGD_start_too_early", lambda: powerSGD_hook.PowerSGDState(None, start_powerSGD_iter=1))

finish(sys.argv[2])
