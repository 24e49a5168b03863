"""``torch.distributed.algorithms``: the join context for uneven inputs (``Join``) and DistributedDataParallel's
communication hooks (``ddp_comm_hooks``)."""
from .join import Join, JoinHook, Joinable  # noqa: F401
