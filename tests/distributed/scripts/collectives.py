"""Every collective on every rank, checked against NumPy on the inputs of all ranks (each rank can compute them)."""
import datetime
import os
import sys
import warnings

import numpy as np

import ember
import ember.distributed as dist

dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=30))
rank, size = dist.get_rank(), dist.get_world_size()
assert dist.is_initialized() and dist.get_backend() == "gloo"


def data(r, shape=(3, 4), dtype=np.float64, seed=0):
    values = np.random.default_rng(seed * 100 + r).integers(-5, 6, size=shape)
    return values.astype(dtype)


every = [data(r) for r in range(size)]
# all_reduce, every op and several dtypes
for op, fn in [(dist.ReduceOp.SUM, np.sum), (dist.ReduceOp.PRODUCT, np.prod), (dist.ReduceOp.MIN, np.min),
               (dist.ReduceOp.MAX, np.max), (dist.ReduceOp.AVG, np.mean)]:
    for dtype in (np.float32, np.float64, np.int64):
        t = ember.from_numpy(data(rank, dtype=dtype))
        dist.all_reduce(t, op=op)
        expected = fn(np.stack([data(r, dtype=dtype) for r in range(size)]), axis=0)
        if dtype == np.int64 and op is dist.ReduceOp.AVG:
            expected = np.trunc(expected)
        assert np.allclose(t.numpy(), expected, rtol=1e-6), (op, dtype, t, expected)
        assert t.dtype == ember.from_numpy(np.zeros(1, dtype)).dtype
for op, fn in [(dist.ReduceOp.BAND, np.bitwise_and), (dist.ReduceOp.BOR, np.bitwise_or),
               (dist.ReduceOp.BXOR, np.bitwise_xor)]:
    t = ember.tensor([rank + 1, 3 * rank + 5, 255], dtype=ember.int32)
    dist.all_reduce(t, op=op)
    expected = fn.reduce(np.array([[r + 1, 3 * r + 5, 255] for r in range(size)], np.int32), axis=0)
    assert (t.numpy() == expected).all(), (op, t)
flags = ember.tensor([rank == 0, True, False])
dist.all_reduce(flags)   # SUM on bool is "any"
assert flags.tolist() == [True, True, False]
try:
    dist.all_reduce(ember.ones(2), op=dist.ReduceOp.BAND)
    raise AssertionError("BAND on float must fail")
except RuntimeError as error:
    assert "non-integral" in str(error)

# in place on a non-contiguous view, and async
base = ember.from_numpy(data(rank, (4, 6)))
view = base[:, ::2]
work = dist.all_reduce(view, async_op=True)
work.wait()
assert work.is_completed()
full = sum(data(r, (4, 6)) for r in range(size))
assert np.allclose(base.numpy()[:, ::2], full[:, ::2])
assert np.allclose(base.numpy()[:, 1::2], data(rank, (4, 6))[:, 1::2])

# float16 and bfloat16 (through a NumPy reduction, as MPI has no bfloat16)
t = ember.full((5,), rank + 0.5, dtype=ember.float16)
dist.all_reduce(t)
assert np.allclose(t.float().numpy(), sum(r + 0.5 for r in range(size)))
t = ember.full((5,), rank + 1.0, dtype=ember.bfloat16)
dist.all_reduce(t, op=dist.ReduceOp.MAX)
assert np.allclose(t.float().numpy(), size)

# broadcast / reduce
t = ember.from_numpy(data(rank))
dist.broadcast(t, src=size - 1)
assert (t.numpy() == every[-1]).all()
t = ember.from_numpy(data(rank))
dist.reduce(t, dst=1, op=dist.ReduceOp.MAX)
if rank == 1:
    assert (t.numpy() == np.max(every, axis=0)).all()

# all_gather / all_gather_single (concatenated and stacked; all_gather_into_tensor its old name) / gather / scatter
outs = [ember.zeros(3, 4, dtype=ember.float64) for _ in range(size)]
dist.all_gather(outs, ember.from_numpy(data(rank)))
assert all((o.numpy() == e).all() for o, e in zip(outs, every))
flat = ember.zeros(size * 3, 4, dtype=ember.float64)
dist.all_gather_single(flat, ember.from_numpy(data(rank)))
assert (flat.numpy() == np.concatenate(every)).all()
stacked = ember.zeros(size, 3, 4, dtype=ember.float64)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    dist.all_gather_into_tensor(stacked, ember.from_numpy(data(rank)))
assert (stacked.numpy() == np.stack(every)).all()
assert [(w.category, str(w.message)) for w in caught] == [
    (FutureWarning, "`torch.distributed.all_gather_into_tensor` is deprecated. Please use "
                    "`torch.distributed.all_gather_single` instead.")]
gathered = [ember.zeros(3, 4, dtype=ember.float64) for _ in range(size)] if rank == 0 else None
dist.gather(ember.from_numpy(data(rank)), gathered, dst=0)
if rank == 0:
    assert all((o.numpy() == e).all() for o, e in zip(gathered, every))
t = ember.zeros(3, 4, dtype=ember.float64)
dist.scatter(t, [ember.from_numpy(data(r, seed=7)) for r in range(size)] if rank == 1 else None, src=1)
assert (t.numpy() == data(rank, seed=7)).all()

# reduce_scatter / reduce_scatter_single (reduce_scatter_tensor its deprecated name)
inputs = [ember.from_numpy(data(rank, seed=10 + r)) for r in range(size)]
t = ember.zeros(3, 4, dtype=ember.float64)
dist.reduce_scatter(t, inputs)
assert (t.numpy() == sum(data(r, seed=10 + rank) for r in range(size))).all()
t = ember.zeros(3, 4, dtype=ember.float64)
dist.reduce_scatter_single(t, ember.cat(inputs), op=dist.ReduceOp.AVG)
assert np.allclose(t.numpy(), np.mean([data(r, seed=10 + rank) for r in range(size)], axis=0))
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    dist.reduce_scatter_tensor(t, ember.cat(inputs))
assert (t.numpy() == sum(data(r, seed=10 + rank) for r in range(size))).all()
assert len(caught) == 1 and caught[0].category is FutureWarning and "reduce_scatter_single" in str(caught[0].message)

# all_to_all with uneven sizes, all_to_all_single with and without splits
ins = [ember.full((rank + r + 1,), float(10 * rank + r)) for r in range(size)]
outs = [ember.zeros(r + rank + 1) for r in range(size)]
dist.all_to_all(outs, ins)
assert all((o.numpy() == 10 * r + rank).all() for r, o in enumerate(outs))
src = ember.arange(size * 2, dtype=ember.float32) + 100 * rank
dst = ember.zeros(size * 2)
dist.all_to_all_single(dst, src)
assert dst.tolist() == [100 * r + 2 * rank + k for r in range(size) for k in range(2)]
in_splits = [r + 1 for r in range(size)]
src = ember.full((sum(in_splits), 2), float(rank))
out_splits = [rank + 1] * size
dst = ember.zeros(sum(out_splits), 2)
dist.all_to_all_single(dst, src, out_splits, in_splits)
assert dst[:, 0].tolist() == [float(r) for r in range(size) for _ in range(rank + 1)]

# point to point: a ring, blocking and non-blocking, and recv from any source
right, left = (rank + 1) % size, (rank - 1) % size
t = ember.zeros(3)
if rank % 2 == 0:
    dist.send(ember.full((3,), float(rank)), right)
    dist.recv(t, left)
else:
    dist.recv(t, left)
    dist.send(ember.full((3,), float(rank)), right)
assert t.tolist() == [float(left)] * 3
t = ember.zeros(2)
works = [dist.isend(ember.full((2,), float(rank)), right, tag=3), dist.irecv(t, tag=3)]
for w in works:
    w.wait()
assert t.tolist() == [float(left)] * 2 and works[1].source_rank == left
if rank == 0:
    sender = dist.recv(ember.zeros(1), tag=9)
    assert sender == size - 1
elif rank == size - 1:
    dist.send(ember.ones(1), 0, tag=9)
got = ember.zeros(2)
works = dist.batch_isend_irecv([dist.P2POp(dist.isend, ember.full((2,), 7.0 * rank), right),
                                dist.P2POp(dist.irecv, got, left)])
for w in works:
    w.wait()
assert got.tolist() == [7.0 * left] * 2
try:
    dist.send(ember.ones(1), rank)
    raise AssertionError("send to self must fail")
except ValueError as error:
    assert "should not be the same" in str(error)

# object collectives
objects = [{"rank": rank}, "x" * rank] if rank == 0 else [None, None]
dist.broadcast_object_list(objects, src=0)
assert objects == [{"rank": 0}, ""]
everyone = [None] * size
dist.all_gather_object(everyone, ("r", rank, list(range(rank))))
assert everyone == [("r", r, list(range(r))) for r in range(size)]
collected = [None] * size if rank == 1 else None
dist.gather_object({"from": rank}, collected, dst=1)
if rank == 1:
    assert collected == [{"from": r} for r in range(size)]
received = [None]
dist.scatter_object_list(received, [f"to {r}" for r in range(size)] if rank == 0 else None, src=0)
assert received == [f"to {rank}"]
tensor_obj = [ember.arange(3) * rank] if rank == size - 1 else [None]
dist.broadcast_object_list(tensor_obj, src=size - 1)
assert tensor_obj[0].tolist() == [0, size - 1, 2 * (size - 1)]

# groups: the even ranks, with group-rank translation; non-members get NON_GROUP_MEMBER
evens = dist.new_group([r for r in range(size) if r % 2 == 0])
if rank % 2 == 0:
    assert dist.get_rank(evens) == rank // 2 and dist.get_world_size(evens) == (size + 1) // 2
    t = ember.tensor([float(rank)])
    dist.all_reduce(t, group=evens)
    assert t.item() == sum(range(0, size, 2))
    t = ember.tensor([float(rank)])
    dist.broadcast(t, group_src=0, group=evens)
    assert t.item() == 0
else:
    assert evens is dist.GroupMember.NON_GROUP_MEMBER and dist.get_rank(evens) == -1
assert dist.get_process_group_ranks(dist.group.WORLD) == list(range(size))

# mismatched collectives raise on every rank
try:
    dist.all_reduce(ember.ones(3 + rank))
    raise AssertionError("mismatched shapes must fail")
except dist.DistBackendError as error:
    assert "mismatched collective" in str(error) and "rank 1 called all_reduce" in str(error), error
try:
    dist.broadcast(ember.ones(2, dtype=ember.float32 if rank else ember.float64), src=0)
    raise AssertionError("mismatched dtypes must fail")
except dist.DistBackendError as error:
    assert "float32" in str(error) and "float64" in str(error)

for kwargs in ({"dtype": ember.float32 if rank % 2 else ember.int32},   # same size in bytes, other elements
               {"op": dist.ReduceOp.MAX if rank % 2 else dist.ReduceOp.SUM}):
    try:
        dist.all_reduce(ember.ones(5, dtype=kwargs.get("dtype", ember.float32)), op=kwargs.get("op", dist.ReduceOp.SUM))
        raise AssertionError(f"mismatched {kwargs} must fail")
    except dist.DistBackendError as error:
        assert "mismatched collective" in str(error) and ("int32" in str(error) or "MAX" in str(error)), error
same_bytes = ember.ones((2, 3) if rank % 2 else (3, 2))   # one element count, two shapes
try:
    dist.all_reduce(same_bytes)
    raise AssertionError("mismatched shapes with one element count must fail")
except dist.DistBackendError as error:
    assert "shape=[2, 3]" in str(error) and "shape=[3, 2]" in str(error), error
# barrier and the object collectives are checked too: a rank in one while another is in something else raises
try:
    if rank % 2:
        dist.all_reduce(ember.ones(2))
    else:
        dist.barrier()
    raise AssertionError("a barrier beside an all_reduce must fail")
except dist.DistBackendError as error:
    assert "called barrier" in str(error) and "called all_reduce" in str(error), error
try:
    if rank % 2:
        dist.broadcast_object_list([None], src=0)
    else:
        dist.all_gather_object([None] * size, rank)
    raise AssertionError("broadcast_object_list beside all_gather_object must fail")
except dist.DistBackendError as error:
    assert "called broadcast_object_list" in str(error) and "called all_gather_object" in str(error), error
try:
    dist.broadcast_object_list([rank], src=rank % 2)
    raise AssertionError("broadcast_object_list from two roots must fail")
except dist.DistBackendError as error:
    assert "root=0" in str(error) and "root=1" in str(error), error
gathered = [None] * size
dist.all_gather_object(gathered, {"rank": rank})
assert gathered == [{"rank": r} for r in range(size)]
try:
    dist.all_reduce(ember.ones(2), op="sum")
    raise AssertionError("an op that is not a ReduceOp must fail")
except TypeError as error:
    assert "ReduceOp" in str(error)
# after those errors the group still works, asynchronously too (AVG's division runs when the work ends)
t = ember.full((4,), float(rank))
work = dist.all_reduce(t, op=dist.ReduceOp.AVG, async_op=True)
assert work.wait() and t.tolist() == [sum(range(size)) / size] * 4
# a group made under TORCH_DISTRIBUTED_DEBUG=OFF skips the agreement check, as torch does without it: ranks that
# pass one element count in two shapes reduce element by element
os.environ["TORCH_DISTRIBUTED_DEBUG"] = "OFF"
unchecked = dist.new_group()
del os.environ["TORCH_DISTRIBUTED_DEBUG"]
assert dist.group.WORLD.checked and not unchecked.checked
same_bytes = ember.arange(6.0).reshape((2, 3) if rank % 2 else (3, 2))
dist.all_reduce(same_bytes, group=unchecked)
assert same_bytes.reshape(-1).tolist() == [size * v for v in range(6)]

dist.barrier()
dist.monitored_barrier(timeout=datetime.timedelta(seconds=20))
dist.destroy_process_group()
assert not dist.is_initialized()
print(f"rank {rank} ok", flush=True)
sys.exit(0)
