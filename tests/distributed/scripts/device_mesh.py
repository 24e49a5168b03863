"""One 4-rank program on torch.distributed.device_mesh, run on ember (under mpiexec) or on torch (gloo, ranks started
by the test with RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT): meshes made by init_device_mesh, from explicit rank
arrays and from existing groups, their printed forms, sizes, coordinates and local ranks, each dimension's process
group (its ranks and an all_reduce over it), slicing by dimension names, and the errors. Each rank writes its
results as JSON to OUT_DIR/<library>-<rank>.json, for the test to compare ember's with torch's.

    python device_mesh.py ember|torch OUT_DIR
"""
import os
import sys

from _beside_torch import LIBRARY, dist, finish, record, results, start, torch

if LIBRARY == "torch":
    from torch.distributed.device_mesh import DeviceMesh, init_device_mesh
else:
    from ember.distributed.device_mesh import DeviceMesh, init_device_mesh


def describe(prefix, mesh):
    """What a rank sees of ``mesh``: its form, sizes, position and groups."""
    record(prefix + "repr", lambda: repr(mesh))
    record(prefix + "mesh", lambda: mesh.mesh.tolist())
    record(prefix + "mesh_dtype", lambda: str(mesh.mesh.dtype).replace("ember", "torch"))
    record(prefix + "shape", lambda: list(mesh.shape))
    record(prefix + "ndim", lambda: mesh.ndim)
    record(prefix + "size", lambda: [mesh.size()] + [mesh.size(d) for d in range(mesh.ndim)])
    record(prefix + "names", lambda: mesh.mesh_dim_names)
    record(prefix + "coordinate", lambda: mesh.get_coordinate())
    record(prefix + "rank", lambda: mesh.get_rank())
    record(prefix + "device_type", lambda: mesh.device_type)
    for d in range(mesh.ndim):
        record(f"{prefix}local_rank_{d}", lambda: mesh.get_local_rank(d))
        record(f"{prefix}group_{d}", lambda: dist.get_process_group_ranks(mesh.get_group(d)))
    record(prefix + "local_rank", lambda: mesh.get_local_rank())
    record(prefix + "group", lambda: dist.get_process_group_ranks(mesh.get_group()))
    record(prefix + "all_groups", lambda: [dist.get_process_group_ranks(g) for g in mesh.get_all_groups()])


rank = start()
os.environ.pop("TORCH_DISTRIBUTED_DEBUG", None)

grid = init_device_mesh("cpu", (2, 2), mesh_dim_names=("dp", "tp"))
describe("grid_", grid)
for name in ("dp", "tp"):
    record(f"grid_local_rank_{name}", lambda: grid.get_local_rank(name))
    record(f"grid_group_{name}", lambda: dist.get_process_group_ranks(grid.get_group(name)))
    part = grid[name]
    describe(f"grid_{name}_", part)
    record(f"grid_{name}_is_cached_equal", lambda: part == grid[name] and hash(part) == hash(grid[name]))
    total = torch.tensor([float(rank + 1)])
    dist.all_reduce(total, group=grid.get_group(name))
    results[f"grid_all_reduce_{name}"] = total.tolist()
record("grid_whole", lambda: grid["dp", "tp"] is grid)
record("grid_missing_name", lambda: grid["pp"])
record("grid_unsorted", lambda: repr(grid["tp", "dp"]))
record("grid_group_name_missing", lambda: grid.get_group("pp"))
record("grid_equal_other", lambda: grid == init_device_mesh("cpu", (2, 2), mesh_dim_names=("dp", "tp")))
record("grid_not_equal_unnamed", lambda: grid == init_device_mesh("cpu", (2, 2)))

line = init_device_mesh("cpu", (4,))
describe("line_", line)
record("line_slice_unnamed", lambda: line["x"])

cube = init_device_mesh("cpu", (2, 1, 2), mesh_dim_names=("a", "b", "c"))
describe("cube_", cube)
describe("cube_ac_", cube["a", "c"])
describe("cube_bc_", cube["b", "c"])
record("cube_ca", lambda: repr(cube["c", "a"]))

explicit = DeviceMesh("cpu", [[0, 2], [1, 3]], mesh_dim_names=("x", "y"))
describe("explicit_", explicit)
describe("explicit_y_", explicit["y"])

half = DeviceMesh("cpu", [1, 2])
describe("half_", half)
record("half_from_tensor", lambda: repr(DeviceMesh("cpu", torch.tensor([1, 2]))))

describe("from_group_", DeviceMesh.from_group(grid.get_group("tp"), "cpu", mesh_dim_names=("tp",)))
record("from_group_wrong_mesh", lambda: DeviceMesh.from_group(grid.get_group("tp"), "cpu", mesh=[5, 6]))
record("from_groups_without_mesh", lambda: DeviceMesh.from_group(grid.get_all_groups(), "cpu"))
describe("from_groups_", DeviceMesh.from_group(grid.get_all_groups(), "cpu", mesh=[[0, 1], [2, 3]],
                                               mesh_dim_names=("dp", "tp")))

record("too_big", lambda: init_device_mesh("cpu", (8,)))
record("names_repeated", lambda: init_device_mesh("cpu", (2, 2), mesh_dim_names=("a", "a")))
record("names_length", lambda: init_device_mesh("cpu", (2, 2), mesh_dim_names=("a",)))
record("device_with_index", lambda: init_device_mesh("cpu:0", (4,)))

with grid as entered:
    record("entered_is_mesh", lambda: entered is grid)

finish(sys.argv[2])
