"""``torch.distributed.tensor``: the DTensor API's names. ember has no DeviceMesh, so no DTensor is ever made: the
type exists (a Tensor subclass, as PyTorch's) and no tensor is an instance of it, which is what libraries' checks
(``isinstance(p, DTensor)`` in transformers' Trainer and accelerate) see on a run without a device mesh; the calls
that would build one (``distribute_tensor``, ``DTensor.from_local``, the factories) raise NotImplementedError."""
from ..._tensor import Tensor
from .placement_types import Partial, Placement, Replicate, Shard

__all__ = ["DTensor", "distribute_tensor", "distribute_module", "Shard", "Replicate", "Partial", "Placement", "ones",
           "empty", "full", "rand", "randn", "zeros"]


def _no_mesh(what):
    return NotImplementedError(f"{what} needs a DeviceMesh, which ember does not implement (torch.distributed."
                               "device_mesh); ember runs distributed programs on MPI process groups")


class DTensor(Tensor):
    """A tensor laid over a device mesh by one placement per mesh dimension (``torch.distributed.tensor.DTensor``);
    ember makes none."""

    __slots__ = ()

    def __new__(cls, *args, **kwargs):
        raise _no_mesh("DTensor")

    @staticmethod
    def from_local(local_tensor, device_mesh=None, placements=None, *, run_check=False, shape=None, stride=None,
                   grad_placements=None):
        """The DTensor whose local shard on this rank is ``local_tensor`` (needs a device mesh)."""
        raise _no_mesh("DTensor.from_local")


def distribute_tensor(tensor, device_mesh=None, placements=None, *, src_data_rank=0):
    """``tensor`` laid over ``device_mesh`` by ``placements`` (needs a device mesh)."""
    raise _no_mesh("distribute_tensor")


def distribute_module(module, device_mesh=None, partition_fn=None, input_fn=None, output_fn=None):
    """``module``'s parameters made DTensors over ``device_mesh`` (needs a device mesh)."""
    raise _no_mesh("distribute_module")


def _factory(name):
    def factory(*size, **kwargs):
        raise _no_mesh(f"torch.distributed.tensor.{name}")
    factory.__name__ = factory.__qualname__ = name
    factory.__doc__ = f"A DTensor made by ``{name}`` over a device mesh (needs a device mesh)."
    return factory


ones, empty, full, rand, randn, zeros = (_factory(n) for n in ("ones", "empty", "full", "rand", "randn", "zeros"))
