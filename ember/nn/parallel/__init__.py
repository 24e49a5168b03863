"""``ember.nn.parallel``: DataParallel, DistributedDataParallel and SyncBatchNorm."""
from .data_parallel import DataParallel  # noqa: F401
from .distributed import DistributedDataParallel  # noqa: F401
from .sync_batchnorm import SyncBatchNorm  # noqa: F401
