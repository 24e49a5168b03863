"""``torch.distributed.tensor``'s factories: ``zeros``, ``ones``, ``empty`` and ``full`` make a DTensor of the given
global size whose local part (its shard under ``placements``, default replicated) is made on this rank alone."""
from ... import full as _full
from ... import get_default_dtype
from ..._tensor import Size
from ._dtensor import DTensorSpec, _mesh, _new, _placements, contiguous_stride
from ._redistribute import local_shape_and_offset


def _sizes(size):
    return tuple(size[0]) if len(size) == 1 and isinstance(size[0], (list, tuple, Size)) else tuple(size)


def _make_dtensor(size, fill_value, dtype, requires_grad, device_mesh, placements):
    mesh = _mesh(device_mesh)
    placements = _placements(placements, mesh, len(size))
    spec = DTensorSpec(mesh, placements, Size(size), contiguous_stride(size))
    local_shape = local_shape_and_offset(size, mesh, placements)[0]
    local = _full(local_shape, fill_value, dtype=dtype or get_default_dtype(), device=mesh.device_type)
    return _new(local._data, spec, requires_grad)


def zeros(*size, requires_grad=False, dtype=None, layout=None, device_mesh=None, placements=None):
    """A DTensor of zeros of global ``size``."""
    return _make_dtensor(_sizes(size), 0, dtype, requires_grad, device_mesh, placements)


def ones(*size, dtype=None, layout=None, requires_grad=False, device_mesh=None, placements=None):
    """A DTensor of ones of global ``size``."""
    return _make_dtensor(_sizes(size), 1, dtype, requires_grad, device_mesh, placements)


def empty(*size, dtype=None, layout=None, requires_grad=False, device_mesh=None, placements=None):
    """A DTensor of global ``size`` whose values are not set (ember fills its parts with zeros)."""
    return _make_dtensor(_sizes(size), 0, dtype, requires_grad, device_mesh, placements)


def full(size, fill_value, *, dtype=None, layout=None, requires_grad=False, device_mesh=None, placements=None):
    """A DTensor of global ``size`` filled with ``fill_value``."""
    return _make_dtensor(_sizes((size,)), fill_value, dtype, requires_grad, device_mesh, placements)
