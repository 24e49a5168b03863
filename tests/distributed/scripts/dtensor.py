"""One program on torch.distributed.tensor (DTensor), run on ember (under mpiexec) or on torch (gloo): tensors laid
out by distribute_tensor and from_local (even and uneven shards), redistribution between Shard, Replicate and
Partial, pointwise ops on matching and mixed placements, reductions giving Partial placements, autograd through
from_local/to_local/full_tensor/redistribute, DTensor parameters with clip_grad_norm_ and the optimizers, and the
errors. Each rank writes its results as JSON to OUT_DIR/<library>-<rank>.json, for the test to compare.

    python dtensor.py ember|torch OUT_DIR
"""
import io
import sys

from _beside_torch import LIBRARY, finish, record, start_mesh, torch

if LIBRARY == "torch":
    from torch.distributed.tensor import (DTensor, Partial, Replicate, Shard, distribute_module, distribute_tensor,
                                          full, ones, zeros)
else:
    from ember.distributed.tensor import (DTensor, Partial, Replicate, Shard, distribute_module, distribute_tensor,
                                          full, ones, zeros)

rank, world, mesh = start_mesh()


def seen(value):
    """What a rank sees of a result: a DTensor's placements, shapes, local part and (unless partial) whole value."""
    if isinstance(value, DTensor):
        partial = any(p.is_partial() for p in value.placements)
        return [str(value.placements), list(value.shape), list(value.to_local().shape), value.to_local().tolist(),
                None if partial else value.full_tensor().tolist(), value.requires_grad]
    if isinstance(value, torch.Tensor):
        return ["tensor", value.tolist()]
    return value


def check(name, call):
    record(name, lambda: seen(call()))


def type_of_error(call):
    """The type of the error ``call`` raises (the messages name torch's aten ops and ember's public ones)."""
    try:
        call()
    except Exception as error:   # compared by type
        return type(error).__name__
    return None


x = torch.arange(35.).reshape(7, 5) / 7
d0 = distribute_tensor(x, mesh, [Shard(0)])
d1 = distribute_tensor(x, mesh, [Shard(1)])
rep = distribute_tensor(x, mesh, [Replicate()])
check("shard0", lambda: d0)
check("shard1", lambda: d1)
check("replicate", lambda: rep)
check("metadata", lambda: [list(d0.size()), d0.size(1), list(d0.stride()), d0.numel(), d0.ndim, len(d0), d0.dim(),
                           str(d0.dtype), d0.device_mesh == mesh, repr(d0.placements), d0.is_contiguous()])
check("repr", lambda: repr(distribute_tensor(torch.ones(world, 2), mesh, [Shard(0)])))
check("short_dim", lambda: distribute_tensor(torch.arange(2.), mesh, [Shard(0)]))
check("src_data_rank", lambda: distribute_tensor(torch.full((4,), float(rank)), mesh, [Shard(0)]))
check("own_data", lambda: distribute_tensor(torch.full((4,), float(rank)), mesh, [Replicate()], src_data_rank=None))
check("from_local", lambda: DTensor.from_local(torch.full((2, 3), float(rank)), mesh, [Shard(0)]))
check("from_local_shape", lambda: [list(DTensor.from_local(torch.ones(2, 3), mesh, [Shard(1)], shape=(2, 5),
                                                          stride=(5, 1)).shape)])
check("from_local_replicate_check", lambda: DTensor.from_local(torch.full((2,), float(rank)), mesh, run_check=True))
check("from_local_partial", lambda: DTensor.from_local(torch.full((2,), rank + 1.0), mesh, [Partial()]))
check("partial_full", lambda: DTensor.from_local(torch.full((2,), rank + 1.0), mesh, [Partial()]).full_tensor())
check("partial_avg", lambda: DTensor.from_local(torch.full((2,), rank + 1.0), mesh, [Partial("avg")]).full_tensor())
check("partial_max", lambda: DTensor.from_local(torch.full((2,), rank + 1.0), mesh, [Partial("max")]).full_tensor())
check("partial_to_shard", lambda: DTensor.from_local(torch.arange(5.) * (rank + 1), mesh, [Partial()])
      .redistribute(mesh, [Shard(0)]))
check("shard_to_shard", lambda: d0.redistribute(mesh, [Shard(1)]))
check("shard_to_replicate", lambda: d1.redistribute(mesh, [Replicate()]))
check("replicate_to_shard", lambda: rep.redistribute(mesh, [Shard(1)]))
check("to_partial", lambda: rep.redistribute(mesh, [Partial()]))
check("full_tensor", lambda: d1.full_tensor())

check("zeros", lambda: zeros(5, 2, device_mesh=mesh, placements=[Shard(0)]))
check("ones", lambda: ones((2, 5), dtype=torch.float64, device_mesh=mesh, placements=[Shard(1)]))
check("full", lambda: full((3,), 2.5, device_mesh=mesh, requires_grad=True))
check("factory_dtypes", lambda: [str(f(2, device_mesh=mesh).dtype) for f in (zeros, ones)])

# initialisation: nn.init's fillers on DTensors (fans from the global shape; each rank draws its own part, as
# PyTorch's on a CPU mesh)
torch.manual_seed(0)
filled = [zeros(6, 4, device_mesh=mesh, placements=[Shard(0)]) for _ in range(5)]
torch.nn.init.normal_(filled[0], 1.0, 2.0)
torch.nn.init.kaiming_uniform_(filled[1], a=1.0)
torch.nn.init.xavier_normal_(filled[2])
torch.nn.init.constant_(filled[3], 0.25)
filled[4].uniform_(-1, 1)
for i, value in enumerate(filled):
    check(f"init_{i}", lambda: value)
check("init_after", lambda: torch.rand(2).tolist())

def saved_and_loaded():
    buffer = io.BytesIO()
    torch.save({"value": d1}, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=False)["value"]


check("save_load", saved_and_loaded)

# pointwise ops
check("add", lambda: d0 + d0 * 2)
check("sub_scalar", lambda: 1 - d0)
check("unary", lambda: d0.exp().sqrt().neg().abs())
check("mixed_placements", lambda: d0 + d1)
check("shard_plus_replicate", lambda: rep * d1)
check("broadcast_row", lambda: d1 + distribute_tensor(torch.arange(5.), mesh, [Shard(0)]))
check("zero_dim_tensor", lambda: d0 * torch.tensor(3.0))
check("mixed_tensor", lambda: d0 + torch.ones(7, 5))
check("where", lambda: torch.where(d0 > 2, d0, -d0))
record("invert", lambda: [seen(~(d0 > 2)), seen(d0 > 2)])
check("clamp", lambda: d0.clamp(min=1.0, max=3.0))
check("partial_plus_partial", lambda: d0.sum() + d0.sum())
check("partial_plus_one", lambda: d0.sum() + 1)
check("partial_times_two", lambda: d0.sum() * 2)
check("partial_squared", lambda: d0.sum().square())
check("clone", lambda: d0.clone())
check("detach", lambda: d0.detach())
check("zeros_like", lambda: torch.zeros_like(d1))
check("to_double", lambda: str(d0.to(torch.float64).dtype))


def in_place():
    value = d0.clone()
    value.mul_(2).add_(rep)
    value.copy_(value * 3)
    return value


check("in_place", in_place)
check("in_place_replicate", lambda: rep.clone().sub_(d0))
check("zero_", lambda: d1.clone().zero_())
check("copy_plain", lambda: d0.clone().copy_(x))

# shape ops
cube = distribute_tensor(torch.arange(60.).reshape(5, 4, 3), mesh, [Shard(1)])
check("transpose", lambda: d0.transpose(0, 1))
check("t", lambda: d1.t())
check("T", lambda: d0.T)
check("permute", lambda: cube.permute(2, 0, 1))
check("unsqueeze", lambda: d1.unsqueeze(0))
check("view_keeping_shard", lambda: cube.view(5, 4, 3, 1))
check("reshape_other_dims", lambda: distribute_tensor(torch.arange(60.).reshape(5, 4, 3), mesh, [Shard(0)])
      .reshape(5, 12))
check("flatten_tail", lambda: distribute_tensor(torch.arange(60.).reshape(5, 4, 3), mesh, [Shard(0)]).flatten(1))
check("replicated_view", lambda: rep.view(35))
record("chunk_other_dim", lambda: [seen(p) for p in cube.chunk(2, 2)])
record("chunk_sharded_dim", lambda: [seen(p) for p in cube.chunk(3, 1)])
record("split_sizes", lambda: [seen(p) for p in torch.split(d1, [3, 4])])
record("unbind", lambda: [seen(p) for p in cube.unbind(0)])
check("select_before_shard", lambda: cube.select(0, 2))
check("select_sharded", lambda: d0.select(0, -1))
check("expand", lambda: distribute_tensor(torch.arange(5.).reshape(5, 1), mesh, [Shard(0)]).expand(2, 5, 3))
check("expand_partial", lambda: DTensor.from_local(torch.ones(3, 1) * (rank + 1), mesh, [Partial()]).expand(3, 2))
check("select_partial", lambda: DTensor.from_local(torch.ones(3, 2) * (rank + 1), mesh, [Partial()]).select(1, 0))
part = DTensor.from_local(torch.arange(6.).reshape(2, 3) * (rank + 1), mesh, [Partial()])
check("repeat_kept_shard", lambda: cube.repeat(2, 1, 2))
check("repeat_sharded_dim", lambda: cube.repeat(1, 2, 1))
check("repeat_new_dims", lambda: d0.repeat(2, 1, 3))
check("repeat_partial", lambda: part.repeat(2, 1))
ones_dims = distribute_tensor(torch.arange(12.).reshape(1, 4, 1, 3), mesh, [Shard(1)])
check("squeeze_all", lambda: ones_dims.squeeze())
check("squeeze_dim", lambda: ones_dims.squeeze(2))
check("squeeze_dims", lambda: ones_dims.squeeze((0, 1)))
record("squeeze_sharded_dim", lambda: type_of_error(
    lambda: distribute_tensor(torch.arange(3.).reshape(1, 3), mesh, [Shard(0)]).squeeze(0)))
check("squeeze_partial", lambda: part.unsqueeze(0).squeeze(0))
F = torch.nn.functional
check("pad_other_dim", lambda: F.pad(d0, (1, 2)))
check("pad_sharded_dim", lambda: F.pad(d1, (1, 2), value=0.5))
check("pad_leading_dim", lambda: F.pad(d0, (0, 0, 1, 1)))
check("pad_partial_zero", lambda: F.pad(part, (1, 0)))
check("pad_partial_value", lambda: F.pad(part, (1, 0), value=2.0))
check("pad_partial_avg", lambda: F.pad(DTensor.from_local(torch.ones(2, 3) * rank, mesh, [Partial("avg")]), (1, 0),
                                       value=2.0))
record("pad_reflect", lambda: type_of_error(lambda: F.pad(d0, (1, 1), mode="reflect")))
check("new_zeros_follows_shard", lambda: d0.new_zeros(7, 5))
check("new_zeros_other_shape", lambda: d0.new_zeros(3))
check("new_ones_replicated", lambda: rep.new_ones((7, 5)))
check("new_full_follows_shard", lambda: d1.new_full((7, 5), 2.0))
check("new_zeros_partial", lambda: part.new_zeros(2, 3))
check("new_empty_partial", lambda: [str((e := part.new_empty(2, 3)).placements), list(e.shape)])
check("clone_partial", lambda: part.clone())
check("contiguous_partial", lambda: part.contiguous())
check("contiguous_transposed_partial", lambda: part.t().contiguous())
check("reshape_transposed_partial", lambda: part.t().reshape(6))
check("reshape_partial", lambda: part.reshape(6))

# reductions
check("sum", lambda: d0.sum())
check("sum_dim_sharded", lambda: d0.sum(0))
check("sum_dim_other", lambda: d0.sum(1))
check("sum_keepdim", lambda: d1.sum(0, keepdim=True))
check("mean", lambda: d0.mean())
check("amax", lambda: d0.amax())
check("max", lambda: d1.max())
check("min", lambda: d0.min())
check("norm", lambda: torch.linalg.vector_norm(d0))
check("norm_full", lambda: torch.linalg.vector_norm(d1).full_tensor())
check("norm_1", lambda: torch.linalg.vector_norm(d0, 1).full_tensor())
check("item", lambda: d0.sum().item())
check("cumsum_sharded_dim", lambda: torch.cumsum(d0, 0))
check("cumsum_other_dim", lambda: d0.cumsum(-1))
check("cumprod", lambda: torch.cumprod(cube, 2))
check("logcumsumexp", lambda: torch.logcumsumexp(cube, 1))
check("cumsum_partial", lambda: part.cumsum(1))

# autograd
leaf = torch.full((2, 3), rank + 1.0, requires_grad=True)
made = DTensor.from_local(leaf, mesh, [Shard(0)])
(made * made).sum().full_tensor().backward()
check("from_local_grad", lambda: leaf.grad)
weight = torch.nn.Parameter(distribute_tensor(x, mesh, [Shard(0)]))
check("parameter", lambda: [type(weight).__name__, isinstance(weight, torch.nn.Parameter), weight.requires_grad,
                            isinstance(weight, DTensor)])
(weight.redistribute(mesh, [Replicate()]).to_local() ** 2).sum().backward()
check("redistribute_grad", lambda: weight.grad)
check("grad_type", lambda: type(weight.grad).__name__)
local = torch.ones(3, requires_grad=True)
total = DTensor.from_local(local, mesh, [Replicate()]).redistribute(mesh, [Shard(0)]).sum()
total.full_tensor().backward()
check("shard_from_replicate_grad", lambda: local.grad)
check("to_local_grad_placements", lambda: DTensor.from_local(torch.ones(2, requires_grad=True), mesh, [Shard(0)])
      .to_local(grad_placements=[Shard(0)]).requires_grad)

cast_leaf = torch.nn.Parameter(distribute_tensor(x, mesh, [Shard(0)]))
cast = cast_leaf.redistribute(mesh, [Replicate()], forward_dtype=torch.float64, backward_dtype=torch.float64)
(cast.to_local() * 3).sum().backward()
check("forward_dtype", lambda: [str(cast.dtype), str(cast_leaf.grad.dtype)])
check("backward_dtype_grad", lambda: cast_leaf.grad)

# distribute_module: a partition function sharding the linear layers, the rest replicated; input and output hooks


def shard_linear(name, module, device_mesh):
    if isinstance(module, torch.nn.Linear):
        module.register_parameter("weight", torch.nn.Parameter(distribute_tensor(module.weight, device_mesh,
                                                                                 [Shard(0)])))


torch.manual_seed(0)
net = distribute_module(torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.BatchNorm1d(5)), mesh, shard_linear)
check("module_placements", lambda: [(n, type(t).__name__, str(t.placements), t.to_local().flatten().tolist())
                                    for n, t in list(net.named_parameters()) + list(net.named_buffers())])
check("module_twice", lambda: distribute_module(net, mesh))
relu = distribute_module(torch.nn.ReLU(), mesh,
                         input_fn=lambda mod, inputs, device_mesh: tuple(
                             DTensor.from_local(i, device_mesh, [Shard(0)]) for i in inputs),
                         output_fn=lambda mod, outputs, device_mesh: outputs.full_tensor())
check("module_hooks", lambda: relu(torch.arange(-2.0, 4.0) * (rank + 1)))
check("module_bad_hook", lambda: distribute_module(torch.nn.ReLU(), mesh, input_fn=lambda inputs: inputs))

# optimizers and gradient clipping on DTensor parameters
for name, make in (("adam", lambda ps: torch.optim.Adam(ps, lr=0.1)),
                   ("adamw_foreach", lambda ps: torch.optim.AdamW(ps, lr=0.1, foreach=True)),
                   ("sgd", lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.5, foreach=False))):
    torch.manual_seed(0)
    params = [torch.nn.Parameter(distribute_tensor(torch.randn(5, 3), mesh, [Shard(0)])),
              torch.nn.Parameter(distribute_tensor(torch.randn(4), mesh, [Replicate()]))]
    optimizer = make(params)
    for _ in range(2):
        for p in params:
            p.grad = (p.detach() * 3 + 1).square()
        record(name + "_clip", lambda: float(torch.nn.utils.clip_grad_norm_(params, 1.0).full_tensor()))
        record(name + "_clip_inf", lambda: float(torch.nn.utils.clip_grad_norm_(params, 0.5, "inf").full_tensor()))
        optimizer.step()
    check(name + "_weight", lambda: params[0])
    check(name + "_bias", lambda: params[1])
finish(sys.argv[2])
