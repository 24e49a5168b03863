"""``torch.distributed.checkpoint.staging``: copying a state_dict aside before an ``async_save`` writes it, so training
may change the model's tensors while the copy is written."""
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = ["AsyncStager", "BlockingAsyncStager", "DefaultStager", "StagingOptions"]


def _staged(state_dict, type_check=False):
    """A CPU copy of ``state_dict``: new tensors, other values deep-copied."""
    from .._state_dict_utils import _copy_state_dict, _create_cpu_state_dict
    staged = _create_cpu_state_dict(state_dict)
    _copy_state_dict(state_dict, staged, type_check=type_check)
    return staged


@runtime_checkable
class AsyncStager(Protocol):
    """What ``async_save`` calls to copy a state_dict aside (``stage``) before writing it in the background; a
    protocol, as PyTorch's: a storage writer with these methods stages its own state_dicts."""

    _synchronize_after_execute = True

    @property
    def should_synchronize_after_execute(self):
        """Whether to synchronize after executing the stage."""
        return self._synchronize_after_execute

    def stage(self, state_dict):
        """Returns a copy of ``state_dict`` (or a Future of one)."""
        raise NotImplementedError(f"{self.__class__.__name__} must implement stage method")

    def synchronize_staging(self):
        """Waits for the staging to finish."""

    def close(self):
        """Clean up all resources used by the stager."""


@dataclass
class StagingOptions:
    """How ``DefaultStager`` copies (pinned and shared memory, a background thread, non-blocking copies)."""

    use_pinned_memory: bool = True
    use_shared_memory: bool = True
    use_async_staging: bool = True
    use_non_blocking_copy: bool = True


class DefaultStager(AsyncStager):
    """Copies a state_dict to CPU memory, in a background thread when ``use_async_staging``."""

    def __init__(self, config=StagingOptions()):
        self._config = config
        self._staging_executor = ThreadPoolExecutor(max_workers=1) if config.use_async_staging else None
        self._staging_future = None

    def stage(self, state_dict, **kwargs):
        if self._staging_executor is not None:
            self._staging_future = self._staging_executor.submit(_staged, state_dict)
            return self._staging_future
        return _staged(state_dict)

    def close(self):
        if self._staging_executor is not None:
            self._staging_executor.shutdown(wait=True)

    def synchronize_staging(self):
        if self._staging_future is not None:
            self._staging_future.result()


class BlockingAsyncStager(AsyncStager):
    """Copies a state_dict to CPU memory in the calling thread (``FileSystemWriter`` is one), reusing the copy between
    saves when ``cache_staged_state_dict``."""

    _synchronize_after_execute = False

    def __init__(self, cache_staged_state_dict=False, type_check=False):
        self.cache_staged_state_dict = cache_staged_state_dict
        self.type_check = type_check
        self.state_dict_cache = None

    def stage(self, state_dict):
        from .._state_dict_utils import _copy_state_dict, _create_cpu_state_dict
        if not self.cache_staged_state_dict:
            return _staged(state_dict, self.type_check)
        if self.state_dict_cache is None:   # pinned, as PyTorch's (which needs an accelerator)
            self.state_dict_cache = _create_cpu_state_dict(state_dict, pin_memory=True)
        return _copy_state_dict(state_dict, self.state_dict_cache)

    def synchronize_staging(self):
        pass

    def close(self):
        pass



