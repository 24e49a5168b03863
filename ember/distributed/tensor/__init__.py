"""``torch.distributed.tensor``: the DTensor type and its placement types. ember has no DeviceMesh, so no DTensor
is ever made: the type exists (a Tensor subclass, as PyTorch's) and no tensor is an instance of it, which is what
libraries' checks (``isinstance(p, DTensor)`` in transformers' Trainer and accelerate) see on a run without a device
mesh. ``distribute_tensor`` exists because libraries import it beside DTensor (transformers' tensor parallelism,
accelerate's FSDP utilities) where torch.distributed is available; calling it says ember does not implement it.
The other builders (``distribute_module``, the factories) are not provided."""
from ..._tensor import Tensor
from .placement_types import Partial, Placement, Replicate, Shard

__all__ = ["DTensor", "distribute_tensor", "Shard", "Replicate", "Partial", "Placement"]

_NO_MESH = ("ember does not implement {}: it needs a DeviceMesh (torch.distributed.device_mesh), which ember lacks; "
            "ember runs distributed programs on MPI process groups")


class DTensor(Tensor):
    """A tensor laid over a device mesh by one placement per mesh dimension (``torch.distributed.tensor.DTensor``);
    ember makes none, as it has no device mesh."""

    __slots__ = ()

    def __new__(cls, *args, **kwargs):
        raise RuntimeError(_NO_MESH.format("DTensor"))


def distribute_tensor(tensor, device_mesh=None, placements=None, *, src_data_rank=0):
    """Would lay ``tensor`` over ``device_mesh``; ember has no device mesh, so it raises (see the module's note)."""
    raise RuntimeError(_NO_MESH.format("distribute_tensor"))
