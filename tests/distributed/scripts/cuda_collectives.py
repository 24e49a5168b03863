"""Collectives and DistributedDataParallel on CUDA tensors with backend='nccl', checked against NumPy: NCCL carries
them where each rank has its own GPU, MPI through host memory where ranks share one. Prints the path taken."""
import numpy as np

import ember
import ember.distributed as dist
from ember import nn
from ember.distributed.process_group import _resolve
from ember.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("nccl")
rank, size = dist.get_rank(), dist.get_world_size()
ember.cuda.set_device(rank % ember.cuda.device_count())
Op = dist.ReduceOp


def data(r, dtype=np.float32, shape=(3, 4)):
    return np.random.default_rng(r).integers(-5, 6, shape).astype(dtype)


def on_gpu(array):
    return ember.tensor(array, device="cuda")


every = {dtype: np.stack([data(r, dtype) for r in range(size)]) for dtype in (np.float32, np.float64, np.int64)}
for op, fn in [(Op.SUM, np.sum), (Op.MAX, np.max), (Op.MIN, np.min), (Op.PRODUCT, np.prod), (Op.AVG, np.mean)]:
    for dtype in (np.float32, np.float64, np.int64):
        t = on_gpu(data(rank, dtype))
        dist.all_reduce(t, op=op)
        expected = fn(every[dtype], axis=0)
        if dtype == np.int64 and op is Op.AVG:
            expected = np.trunc(expected)
        assert t.is_cuda and t.dtype == ember.from_numpy(np.zeros(1, dtype)).dtype
        np.testing.assert_allclose(t.cpu().numpy(), expected, rtol=1e-6, err_msg=f"{op} {dtype}")
t = on_gpu(data(rank))
work = dist.all_reduce(t, async_op=True)
assert work.wait() and work.is_completed()
np.testing.assert_allclose(t.cpu().numpy(), every[np.float32].sum(0))
flags = ember.tensor([rank == 0, False], device="cuda")
dist.all_reduce(flags)
assert flags.tolist() == [True, False]
t = on_gpu(data(rank))
dist.broadcast(t, src=size - 1)
np.testing.assert_array_equal(t.cpu().numpy(), data(size - 1))
out = ember.empty(size * 3, 4, device="cuda")
dist.all_gather_single(out, on_gpu(data(rank)))
np.testing.assert_array_equal(out.cpu().numpy(), np.concatenate([data(r) for r in range(size)]))
parts = [ember.empty(3, 4, device="cuda") for _ in range(size)]
dist.all_gather(parts, on_gpu(data(rank)))
assert all(p.is_cuda for p in parts)
np.testing.assert_array_equal(np.stack([p.cpu().numpy() for p in parts]), every[np.float32])
scattered = ember.empty(3, 4, device="cuda")
dist.reduce_scatter_single(scattered, on_gpu(np.concatenate([data(rank + 10 * r) for r in range(size)])))
np.testing.assert_allclose(scattered.cpu().numpy(), sum(data(r + 10 * rank) for r in range(size)))

# DDP on the GPU: each rank trains on its slice of the global batch; the weights end equal to training on the whole
# batch in one process (on the CPU, in float64)
ember.manual_seed(0)
reference = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3)).double()
start = {k: v.clone() for k, v in reference.state_dict().items()}
model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3)).double()
model.load_state_dict(start)
ddp = DDP(model.cuda(), bucket_cap_mb=0.0001)
optimizers = [ember.optim.SGD(m.parameters(), lr=0.1, momentum=0.9) for m in (ddp, reference)]
rng = np.random.default_rng(7)
for step in range(4):
    x, y = rng.standard_normal((8, 5)), rng.integers(0, 3, 8)
    mine = slice(rank * 8 // size, (rank + 1) * 8 // size)
    for net, optimizer, device, rows in ((ddp, optimizers[0], "cuda", mine), (reference, optimizers[1], "cpu",
                                                                              slice(None))):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(net(ember.tensor(x[rows], device=device)),
                                           ember.tensor(y[rows], device=device))
        loss.backward()
        optimizer.step()
for key, value in reference.state_dict().items():
    np.testing.assert_allclose(model.state_dict()[key].cpu().numpy(), value.numpy(), rtol=1e-9, atol=1e-12,
                               err_msg=key)
path = "nccl" if _resolve(None).nccl else "host"
dist.destroy_process_group()
print(f"rank {rank} ok path={path}", flush=True)
