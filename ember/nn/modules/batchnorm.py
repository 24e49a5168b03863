"""PyTorch's module path of the batch-norm layers (``torch.nn.modules.batchnorm``), which checkpoints name."""
from .normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d, _BatchNorm, _NormBase  # noqa: F401


def __getattr__(name):
    # SyncBatchNorm lives with the distributed layers, which import this package; load it on first use.
    if name == "SyncBatchNorm":
        from ..parallel.sync_batchnorm import SyncBatchNorm
        return SyncBatchNorm
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
