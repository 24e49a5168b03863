"""``torch.distributed.algorithms.ddp_comm_hooks``: hooks that decide how DistributedDataParallel reduces a bucket of
gradients (``model.register_comm_hook(state, hook)``): plain averaging, averaging in 16 bits, PowerSGD's low-rank
compression, and a no-op."""
from . import debugging_hooks as debugging, default_hooks as default, powerSGD_hook as powerSGD  # noqa: F401

__all__ = []
