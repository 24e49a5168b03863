"""One 2-rank program on torch.distributed's less common calls, run on ember (under mpiexec) or on torch (gloo, ranks
started by the test with RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT): subgroups, object point-to-point, the coalesced
collectives, the group count and backend config, and init_process_group(store=FileStore). Each rank writes its
results as JSON to OUT_DIR/<library>-<rank>.json, for the test to compare ember's with torch's.

    python extras.py ember|torch STORE_PATH OUT_DIR
"""
import datetime
import importlib
import json
import os
import pickle
import sys
import warnings

if sys.argv[1] == "torch":
    import torch
    import torch.distributed as dist
else:
    import ember as torch
    import ember.distributed as dist

results = {}


def record(name, call):
    """Stores call()'s value, or its error's type and message."""
    try:
        results[name] = call()
    except Exception as error:   # recorded for comparison
        results[name] = [type(error).__name__, str(error)]


dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=60))
rank = dist.get_rank()
results["rank"] = rank
record("count_at_init", dist.get_pg_count)
record("config", dist.get_backend_config)

only_zero = dist.new_group([0])
record("count_after_new_group", dist.get_pg_count)
record("rank_not_in_group", lambda: [dist._rank_not_in_group(g) for g in (None, only_zero, dist.GroupMember.WORLD)])
record("config_of_member_or_error", lambda: dist.get_backend_config(only_zero))

current, subgroups = dist.new_subgroups(group_size=1)
record("subgroup", lambda: [dist.get_process_group_ranks(current), dist.get_rank(current), len(subgroups),
                            [s is dist.GroupMember.NON_GROUP_MEMBER for s in subgroups]])
current, subgroups = dist.new_subgroups_by_enumeration([[1], [0]])
record("enumerated", lambda: [dist.get_process_group_ranks(current),
                              [s is dist.GroupMember.NON_GROUP_MEMBER for s in subgroups]])
pair, _ = dist.new_subgroups(group_size=2)
value = torch.tensor([rank + 1.0, 10.0 * rank])
dist.all_reduce(value, group=pair)
results["reduced_in_subgroup"] = value.tolist()
record("overlap", lambda: dist.new_subgroups_by_enumeration([[0, 1], [1]]))
record("count_after_subgroups", dist.get_pg_count)
record("too_big", lambda: dist.new_subgroups(group_size=3))
record("not_positive", lambda: dist.new_subgroups(group_size=0))
record("empty", lambda: dist.new_subgroups_by_enumeration([]))

# objects point to point
if rank == 0:
    dist.send_object_list(["foo", 12, {1: 2}, torch.tensor([1.5, 2.5]), None], dst=1)
    dist.send_object_list([(3, "x")], group_dst=1, use_batch=True)
    if sys.argv[1] == "ember":   # a receiving list longer than what was sent: torch leaves this undefined
        dist.send_object_list(["one"], dst=1)
    record("send_to_self", lambda: dist.send_object_list([1], dst=0))
    record("send_nowhere", lambda: dist.send_object_list([1]))
    record("send_both", lambda: dist.send_object_list([1], dst=1, group_dst=1))
else:
    objects = [None] * 5
    sender = dist.recv_object_list(objects, src=0)
    objects[3] = objects[3].tolist()
    results["received"] = [sender, objects[:3], objects[3], objects[4]]
    objects = [None]
    results["received_batched"] = [dist.recv_object_list(objects, group_src=0, use_batch=True), list(objects[0])]
    record("recv_from_anyone", lambda: dist.recv_object_list([None]))
    if sys.argv[1] == "ember":
        try:
            dist.recv_object_list([None, None], src=0)
            raise AssertionError("a longer receiving list must fail")
        except ValueError as error:
            assert "sent 1 objects but object_list has 2 entries" in str(error), error

# a program's own unpickler (avalanche-lib installs one): the object collectives unpickle each object with it
c10d = importlib.import_module(f"{sys.argv[1]}.distributed.distributed_c10d")


class Tagged(pickle.Unpickler):
    def load(self):
        return ["unpickled", super().load()]


saved, c10d._unpickler = c10d._unpickler, Tagged
objects = [{"a": 1}, "b"] if rank == 0 else [None, None]
dist.broadcast_object_list(objects, src=0)
gathered, scattered = [None, None], [None]
dist.all_gather_object(gathered, rank)
dist.scatter_object_list(scattered, ["x", "y"] if rank == 0 else None, src=0)
c10d._unpickler = saved
results["own_unpickler"] = [objects, gathered, scattered, c10d.broadcast_object_list is dist.broadcast_object_list]

# the coalesced collectives, with their deprecation warnings
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    tensors = [torch.ones(2) * (rank + 1), torch.arange(3.0).reshape(3, 1)]
    dist.all_reduce_coalesced(tensors)
    outputs = [[torch.empty(2), torch.empty(1)] for _ in range(2)]
    dist.all_gather_coalesced(outputs, [torch.ones(2) * rank, torch.tensor([rank + 5.0])])
    record("mixed_dtypes", lambda: dist.all_reduce_coalesced([torch.ones(1), torch.ones(1, dtype=torch.int64)]))
    record("not_a_list", lambda: dist.all_gather_coalesced(outputs, (torch.ones(1),)))
results["coalesced"] = [[t.tolist() for t in tensors], [[t.tolist() for t in row] for row in outputs]]
results["warnings"] = [[w.category.__name__, str(w.message)] for w in caught]

record("local_rank_fallback", lambda: (os.environ.pop("LOCAL_RANK", None), dist.get_node_local_rank(7))[1])
record("local_rank_missing", dist.get_node_local_rank)
os.environ["LOCAL_RANK"] = str(rank)
record("local_rank", lambda: dist.get_node_local_rank(7))
record("complex_ops", lambda: [dist.supports_complex(op) for op in (dist.ReduceOp.SUM, dist.ReduceOp.AVG,
                                                                     dist.ReduceOp.MAX, dist.ReduceOp.BXOR)])
for name in ("gloo", "GLOO", "cpu:gloo", "nosuch"):
    record(f"available_{name}", lambda: dist.is_backend_available(name))
for device in ("cpu", "cuda", "mps", "meta"):
    record(f"default_backend_{device}", lambda: dist.get_default_backend_for_device(device))

dist.destroy_process_group()
record("count_after_destroy", dist.get_pg_count)

# a store passed to init_process_group: rank and world_size must come with it
store = dist.FileStore(sys.argv[2], 2)
record("store_without_rank", lambda: dist.init_process_group("gloo", store=store, world_size=2))
record("store_without_world_size", lambda: dist.init_process_group("gloo", store=store, rank=rank))
dist.init_process_group("gloo", store=store, rank=rank, world_size=2, timeout=datetime.timedelta(seconds=60))
value = torch.tensor([float(rank + 1)])
dist.all_reduce(value)
results["with_store"] = [dist.get_world_size(), value.tolist()]

# the shard layout query libraries import (transformers), on meshes made last: they add groups
if sys.argv[1] == "torch":
    from torch.distributed.tensor import Replicate, Shard
    from torch.distributed.tensor._utils import compute_local_shape_and_global_offset
else:
    from ember.distributed.tensor import Replicate, Shard
    from ember.distributed.tensor._utils import compute_local_shape_and_global_offset
line, grid = dist.init_device_mesh("cpu", (2,)), dist.init_device_mesh("cpu", (2, 1))
record("local_shapes", lambda: [compute_local_shape_and_global_offset(*case) for case in [
    ((5, 3), line, [Shard(0)]), ((1, 3), line, [Shard(0)]), ((4, 7), line, [Shard(1)]), ((4, 7), line, [Replicate()]),
    ((9, 2), grid, [Shard(0), Shard(0)]), ((9, 6), grid, [Replicate(), Shard(1)]),
    ((9, 6), grid, [Shard(1), Shard(0)], True)]])
functional = importlib.import_module(f"{sys.argv[1]}.distributed._functional_collectives")
for name, group in (("world", dist.group.WORLD), ("mesh", line), ("mesh_dim", (grid, 0))):
    x = torch.arange(4.0 + rank * 2).mul(rank + 1).requires_grad_()
    splits = ([1, 3], [1, 2]) if rank == 0 else ([2, 4], [3, 4])   # (input, output) rows to and from each rank
    out = functional.wait_tensor(functional.all_to_all_single_autograd(x, splits[1], splits[0], group))
    (out * torch.arange(1.0, out.shape[0] + 1)).sum().backward()
    results[f"all_to_all_{name}"] = [out.tolist(), x.grad.tolist()]
record("all_to_all_even", lambda: functional.all_to_all_single(torch.arange(4.0) + rank, None, None, line).tolist())
dist.destroy_process_group()

with open(os.path.join(sys.argv[3], f"{sys.argv[1]}-{rank}.json"), "w") as file:   # files: ranks' stdout interleave
    json.dump(results, file, sort_keys=True)
print(f"rank {rank} ok", flush=True)
