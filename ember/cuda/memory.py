"""GPU memory statistics (``torch.cuda.memory_allocated`` and friends) over CuPy's memory pool."""
from .. import _backend


def _pool():
    return _backend._load_cupy().get_default_memory_pool()


def memory_allocated(device=None):
    """Bytes of GPU memory held by live tensors."""
    return _pool().used_bytes() if _backend.cuda_available() else 0


def max_memory_allocated(device=None):
    """The most bytes held by live tensors at once since the start or ``reset_peak_memory_stats``."""
    return max(_backend._peak_bytes[0], memory_allocated(device))


def reset_peak_memory_stats(device=None):
    """Starts the peak of ``max_memory_allocated`` again from what is allocated now."""
    _backend._peak_bytes[0] = memory_allocated(device)


reset_max_memory_allocated = reset_peak_memory_stats   # PyTorch's older name


def memory_reserved(device=None):
    """Bytes of GPU memory held by the allocator, used or cached."""
    return _pool().total_bytes() if _backend.cuda_available() else 0


def max_memory_reserved(device=None):
    """Bytes held by the allocator now (CuPy's pool keeps no peak of its reserve)."""
    return memory_reserved(device)


def empty_cache():
    """Returns cached, unused GPU memory (and pinned host memory) to the driver."""
    if _backend.cuda_available():
        _pool().free_all_blocks()
        _backend._load_cupy().get_default_pinned_memory_pool().free_all_blocks()


def mem_get_info(device=None):
    """(free, total) bytes of the device's memory, as the driver reports them."""
    return _backend._load_cupy().cuda.runtime.memGetInfo()
