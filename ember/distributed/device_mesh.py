"""``torch.distributed.device_mesh``: the names only. ember runs distributed programs on MPI process groups and has
no device mesh, so ``DeviceMesh`` is a type no value is an instance of: libraries name it in annotations evaluated
when their classes are made (diffusers' ``ContextParallelConfig.mesh: torch.distributed.device_mesh.DeviceMesh``) and
in ``isinstance`` checks, which answer False as on a run without a mesh. Building one says ember does not implement
it."""

__all__ = ["init_device_mesh", "DeviceMesh"]

_NO_MESH = ("ember does not implement {}: ember runs distributed programs on MPI process groups "
            "(torch.distributed.new_group) and has no device mesh")


class DeviceMesh:
    """A grid of ranks whose every dimension is a process group (``torch.distributed.device_mesh.DeviceMesh``);
    ember makes none."""

    def __init__(self, device_type, mesh=None, *, mesh_dim_names=None, **kwargs):
        raise RuntimeError(_NO_MESH.format("DeviceMesh"))


def init_device_mesh(device_type, mesh_shape, *, mesh_dim_names=None, backend_override=None):
    """Would make a ``DeviceMesh`` of ``mesh_shape`` over the world's ranks; ember has none, so it raises."""
    raise RuntimeError(_NO_MESH.format("init_device_mesh"))
