"""``ember.nn.parallel``: DataParallel, DistributedDataParallel, SyncBatchNorm, and scatter/gather."""
from .data_parallel import DataParallel  # noqa: F401
from .distributed import DistributedDataParallel  # noqa: F401
from .scatter_gather import gather, scatter  # noqa: F401
from .sync_batchnorm import SyncBatchNorm  # noqa: F401
