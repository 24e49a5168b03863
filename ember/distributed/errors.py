"""The errors ember.distributed raises, with torch.distributed's names."""
__all__ = ["DistBackendError", "DistError", "DistNetworkError", "DistStoreError"]


class DistError(RuntimeError):
    """Base of the errors ember.distributed raises (as ``torch.distributed.DistError``)."""


class DistBackendError(DistError):
    """A collective failed: it timed out or its arguments disagree across ranks."""


class DistNetworkError(DistError):
    """The ranks could not reach each other."""


class DistStoreError(DistError):
    """A store operation failed: a key did not appear within the store's timeout, or its file could not be used."""
