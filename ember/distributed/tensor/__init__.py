"""``torch.distributed.tensor``: DTensor, a tensor laid over a DeviceMesh by one placement per mesh dimension
(``Shard(dim)``, ``Replicate()``, ``Partial(reduce_op)``), on ember's MPI process groups; ``distribute_tensor`` and
``distribute_module`` lay tensors and modules over a mesh. Ops run on the local parts by sharding rules (pointwise
ops, reductions, views, matrix products, embeddings, norms, pooling, convolutions, attention, the optimizers'
foreach ops, copies); an op without a rule raises PyTorch's NotImplementedError. ``parallel`` holds tensor
parallelism's styles. The factories ``zeros``/``ones``/``empty``/``full`` make DTensors; the random ones (``rand``,
``randn``) are not provided (PyTorch draws them with its offset-based generator)."""
from ..device_mesh import DeviceMesh, init_device_mesh  # noqa: F401 (PyTorch's module holds them too)
from ._dtensor import DTensor, distribute_module, distribute_tensor
from ._factories import empty, full, ones, zeros
from .placement_types import Partial, Placement, Replicate, Shard

__all__ = ["DTensor", "distribute_tensor", "distribute_module", "Shard", "Replicate", "Partial", "Placement", "zeros",
           "ones", "empty", "full"]
