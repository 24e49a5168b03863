"""``torch.distributed.device_mesh``: ranks laid out as an n-dimensional grid, one process group per dimension.

A mesh of shape (2, 4) over 8 ranks gives each rank two groups: the ranks sharing its column (dimension 0, of 2) and
those sharing its row (dimension 1, of 4), as PyTorch's ``init_device_mesh`` makes them. Slicing by dimension names
(``mesh["tp"]``) gives the submesh holding this rank, which reuses the whole mesh's groups. Groups are made with
``new_group``, so every rank of the job builds every mesh, in the same order (PyTorch's SPMD rule).
"""
import numpy

from .process_group import (GroupMember, ProcessGroup, _resolve, get_process_group_ranks, get_rank, get_world_size,
                            init_process_group, is_initialized, new_group)

__all__ = ["init_device_mesh", "DeviceMesh"]

_entered = []   # the meshes entered with ``with mesh:``, innermost last


def _contiguous_strides(shape):
    """Row-major strides of ``shape`` (a mesh's, or a DTensor's global shape)."""
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= size
    return tuple(reversed(strides))


def _dimension_groups(meshes, dim):
    """For each of ``meshes`` (an array (K, *shape)), the ranks along ``dim``: one row per group."""
    moved = numpy.moveaxis(meshes, dim + 1, -1)
    return moved.reshape(-1, moved.shape[-1])


class DeviceMesh:
    """Ranks as an n-dimensional grid (``mesh``, global ranks) with one process group per dimension; this rank's
    groups are those along each dimension through its place in the grid."""

    def __init__(self, device_type, mesh=None, *, mesh_dim_names=None, backend_override=None, _init_backend=True):
        if mesh is None:
            raise TypeError("The mesh argument is required except for PRIVATE USAGE ONLY!")
        ranks = numpy.asarray(mesh.tolist() if hasattr(mesh, "tolist") else mesh, dtype=numpy.int32)
        self._setup(device_type, ranks[None], _contiguous_strides(ranks.shape), mesh_dim_names)
        if _init_backend:
            if not is_initialized():
                init_process_group()
            world_size = get_world_size()
            if ranks.size > world_size:
                raise RuntimeError(f"Mesh should not be bigger than default world size {world_size}, but found "
                                   f"{ranks.size} ranks!")
            self._groups = self._make_groups()

    def _setup(self, device_type, meshes, strides, mesh_dim_names, groups=()):
        self._device_type = device_type
        self._meshes = meshes   # (K, *shape): every mesh of this family (K > 1 for a slice), this rank's among them
        self._strides = strides   # each dimension's step in the whole mesh's ranks, as PyTorch prints it
        self._mesh_dim_names = tuple(mesh_dim_names) if mesh_dim_names else None
        self._groups = list(groups)   # this rank's group per dimension; none where it is not in the mesh
        self._slices = {}
        self._root_mesh = self

    def _make_groups(self):
        """Every dimension's groups, made on every rank; this rank keeps the ones it is in."""
        world = _resolve(None)
        if self._meshes.shape[1:] == (world.size(),) and self._meshes[0].tolist() == list(range(world.size())):
            return [world]   # a line over the whole job is the job's own group, as in PyTorch
        rank, mine = get_rank(), []
        for dim in range(self.ndim):
            for ranks in _dimension_groups(self._meshes, dim).tolist():
                group = new_group(ranks)
                if rank in ranks:
                    mine.append(group)
        return mine

    # --- what it is -------------------------------------------------------------------------------------------
    @property
    def device_type(self):
        """The device type of the mesh ("cpu", "cuda")."""
        return self._device_type

    @property
    def mesh(self):
        """The grid of global ranks holding this rank (an int32 tensor)."""
        from ..ops.creation import tensor
        if len(self._meshes) == 1:
            return tensor(self._meshes[0])
        for grid in self._meshes:
            if (grid == get_rank()).any():
                return tensor(grid)
        raise RuntimeError("In order to get the mesh Tensor of a DeviceMesh it needs to either have all its original "
                           "dimensions (e.g., no slicing) or it needs to contain the local rank")

    @property
    def mesh_dim_names(self):
        """The dimensions' names, or None."""
        return self._mesh_dim_names

    @property
    def ndim(self):
        """The number of dimensions."""
        return self._meshes.ndim - 1

    @property
    def shape(self):
        """The grid's shape."""
        return tuple(self._meshes.shape[1:])

    def size(self, mesh_dim=None):
        """The number of ranks in the mesh, or along ``mesh_dim``."""
        return int(self._meshes[0].size) if mesh_dim is None else self.shape[mesh_dim]

    def get_rank(self):
        """This process's global rank."""
        return get_rank()

    def get_coordinate(self):
        """This rank's index along each dimension, or None where it is not in the mesh."""
        for grid in self._meshes:
            found = numpy.argwhere(grid == get_rank())
            if len(found):
                return [int(i) for i in found[0]]
        return None

    # --- groups -----------------------------------------------------------------------------------------------
    def _dim(self, mesh_dim):
        if not isinstance(mesh_dim, str):
            return mesh_dim
        if not self._mesh_dim_names:
            raise KeyError("No `mesh_dim_names` found.")
        if mesh_dim not in self._mesh_dim_names:
            raise KeyError(f"Mesh dimension '{mesh_dim}' does not exist.",
                           f"Available mesh dimensions are: mesh_dim_names={self._mesh_dim_names}")
        return self._mesh_dim_names.index(mesh_dim)

    def get_group(self, mesh_dim=None):
        """The process group along ``mesh_dim`` (an index or a name) through this rank; a 1-D mesh's only group."""
        if self.ndim > 1 and mesh_dim is None:
            raise RuntimeError(f"Found the DeviceMesh have {self.ndim} dimensions",
                               "Optional kwarg `mesh_dim` needs to be specified when device_mesh.ndim > 1.",
                               "If you want to get the list of all the ProcessGroups in the DeviceMesh,"
                               "please use `get_all_groups()` instead.")
        return self._groups[0 if mesh_dim is None else self._dim(mesh_dim)]

    def get_all_groups(self):
        """This rank's process group along each dimension."""
        return [self.get_group(i) for i in range(self.ndim)]

    def get_local_rank(self, mesh_dim=None):
        """This rank's rank in its group along ``mesh_dim``."""
        if self.ndim > 1 and mesh_dim is None:
            raise RuntimeError(f"Found the DeviceMesh have {self.ndim} dimensions",
                               "Optional kwarg `mesh_dim` needs to be specified when device_mesh.ndim > 1.")
        return get_rank(self.get_group(0 if mesh_dim is None else mesh_dim))

    # --- slicing ----------------------------------------------------------------------------------------------
    def __getitem__(self, mesh_dim_names):
        """The submesh of the named dimensions (in the mesh's order) holding this rank, with the mesh's groups."""
        if not self._mesh_dim_names:
            raise RuntimeError("Cannot slice a DeviceMesh without mesh_dim_names!")
        names = (mesh_dim_names,) if isinstance(mesh_dim_names, str) else tuple(mesh_dim_names)
        if names == self._mesh_dim_names:
            return self
        if names not in self._slices:
            self._slices[names] = self._slice(names)
        return self._slices[names]

    def _slice(self, names, ordered=True):
        if not all(name in self._mesh_dim_names for name in names):
            raise KeyError(f"Invalid mesh_dim_names {names} specified. Valid mesh_dim_names are "
                           f"{list(self._mesh_dim_names)}.")
        dims = [self._mesh_dim_names.index(name) for name in names]
        if ordered and dims != sorted(dims):
            raise KeyError(f"Invalid mesh_dim_names {names} specified. Mesh dim indices should be in ascending order.")
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"Slicing overlapping dim_names {names} is not allowed.")
        others = [d for d in range(self.ndim) if d not in dims]
        moved = self._meshes.transpose([0] + [d + 1 for d in others] + [d + 1 for d in dims])
        meshes = moved.reshape((-1,) + tuple(self.shape[d] for d in dims))
        submesh = DeviceMesh.__new__(DeviceMesh)
        groups = [self._groups[d] for d in dims] if self._groups else ()
        submesh._setup(self._device_type, meshes, tuple(self._strides[d] for d in dims), names, groups)
        submesh._root_mesh = self._root_mesh
        return submesh

    @staticmethod
    def _concatenate(meshes):
        """One mesh of the dimensions of ``meshes`` (slices of one mesh), in their order, as PyTorch's (FSDP over
        tensor parallelism joins the dp and tp meshes)."""
        root, names = meshes[0]._root_mesh, []
        for mesh in meshes:
            if mesh._mesh_dim_names is None:
                raise TypeError(f"Cannot concatenate a DeviceMesh without mesh_dim_names: {mesh}")
            if mesh._root_mesh is not root:
                raise RuntimeError("Cannot concatenate DeviceMeshes derived from different device meshs")
            names.extend(mesh._mesh_dim_names)
        if len(set(names)) != len(names):
            raise RuntimeError(f"Cannot concatenate overlapping meshes: {meshes}")
        names = tuple(names)
        if names == root._mesh_dim_names:
            return root
        if names not in root._slices:
            root._slices[names] = root._slice(names, ordered=False)
        return root._slices[names]

    # --- PyTorch's protocol -----------------------------------------------------------------------------------
    def __repr__(self):
        sizes = self.shape
        shown = (f"({', '.join(f'{k}={v}' for k, v in zip(self._mesh_dim_names, sizes))})" if self._mesh_dim_names
                 else f"{sizes}")
        strides = tuple(() if size == 1 else stride for size, stride in zip(sizes, self._strides))
        return f"DeviceMesh({shown}, '{self._device_type}', stride={strides})"

    def _key(self):
        return (tuple(self._meshes.reshape(-1).tolist()), self.shape, self._strides, self._device_type,
                self._mesh_dim_names)

    def __eq__(self, other):
        return self is other or (isinstance(other, DeviceMesh) and self._key() == other._key())

    def __hash__(self):
        return hash(self._key())

    def __enter__(self):
        _entered.append(self)
        return self

    def __exit__(self, *exc_info):
        _entered.pop()

    @staticmethod
    def from_group(group, device_type, mesh=None, *, mesh_dim_names=None):
        """A mesh over existing process groups: one group gives a 1-D mesh of its ranks; a list of groups needs
        ``mesh`` (their grid) and ``mesh_dim_names``, one dimension per group."""
        if isinstance(group, ProcessGroup):
            ranks = get_process_group_ranks(group)
            given = mesh.tolist() if hasattr(mesh, "tolist") else mesh
            if mesh is not None and given != ranks:
                raise ValueError(f"Invalid mesh {str(mesh)} for ProcessGroup with ranks {ranks}")
            made = DeviceMesh(device_type, ranks, mesh_dim_names=mesh_dim_names, _init_backend=False)
            made._groups = [group]
            return made
        groups = list(group)
        if not groups:
            raise ValueError("Expects at least one ProcessGroup to be passed")
        if mesh is None:
            raise ValueError("Must pass mesh if passing multiple ProcessGroups")
        if mesh_dim_names is None:
            raise ValueError("Must pass mesh_dim_names if passing multiple ProcessGroups")
        made = DeviceMesh(device_type, mesh, mesh_dim_names=mesh_dim_names, _init_backend=False)
        if made.ndim != len(groups):
            raise ValueError(f"Expects mesh with ndim equal to number of ProcessGroups but got mesh "
                             f"{made.mesh.tolist()} and {len(groups)} ProcessGroups")
        made._groups = [g for g in groups if g is not GroupMember.NON_GROUP_MEMBER]
        return made


def init_device_mesh(device_type, mesh_shape, *, mesh_dim_names=None, backend_override=None):
    """A ``DeviceMesh`` of ``mesh_shape`` over the job's ranks in order, with a process group along each dimension
    (starting the default group first when there is none)."""
    if mesh_dim_names is not None:
        if len(set(mesh_dim_names)) != len(mesh_dim_names):
            raise RuntimeError(f"Each mesh_dim_name must be unique. Found repeated mesh_dim_name in mesh_dim_names "
                               f"{mesh_dim_names}")
        if len(mesh_shape) != len(mesh_dim_names):
            raise RuntimeError(f"mesh_shape and mesh_dim_names should have same length! Found len(mesh_dim_names): "
                               f"{len(mesh_dim_names)} and len(mesh_shape):{len(mesh_shape)}.")
    if device_type and not device_type.isalpha():
        raise RuntimeError(f"Device type with index is not supported but got {device_type}. ",
                           "If you maintained a 'torch.device' object, it's recommended to pass in 'device.type'.")
    ranks = numpy.arange(int(numpy.prod(mesh_shape)), dtype=numpy.int32).reshape(tuple(mesh_shape))
    return DeviceMesh(device_type, ranks, mesh_dim_names=mesh_dim_names, backend_override=backend_override)
