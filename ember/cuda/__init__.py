"""``ember.cuda``: whether a GPU is usable and simple device management, through CuPy when it is installed."""
from .. import _backend


def is_available():
    """True when CuPy is installed and sees at least one CUDA device."""
    return _backend.cuda_available()


def device_count():
    """The number of CUDA devices CuPy sees (0 without CuPy)."""
    if not is_available():
        return 0
    return _backend._load_cupy().cuda.runtime.getDeviceCount()


def _cupy():
    if not is_available():
        raise AssertionError("ember has no CUDA device available (install cupy-cuda12x and use a machine with an "
                           "NVIDIA GPU)")
    return _backend._load_cupy()


def current_device():
    """The index of the current CUDA device."""
    return _cupy().cuda.runtime.getDevice()


def set_device(device):
    """Makes ``device`` (an index, "cuda:N" or an ember.device) the current CUDA device."""
    index = _backend.as_device(device).index if not isinstance(device, int) else device
    _cupy().cuda.runtime.setDevice(index or 0)


def synchronize(device=None):
    """Waits for all work queued on the device to finish."""
    _cupy().cuda.runtime.deviceSynchronize()


def get_device_name(device=None):
    """The GPU's name, such as 'NVIDIA H100 80GB HBM3'."""
    index = 0 if device is None else (device if isinstance(device, int) else _backend.as_device(device).index or 0)
    name = _cupy().cuda.runtime.getDeviceProperties(index)["name"]
    return name.decode() if isinstance(name, bytes) else name


def empty_cache():
    """Returns cached, unused GPU memory to the driver."""
    if is_available():
        _backend._load_cupy().get_default_memory_pool().free_all_blocks()


def memory_allocated(device=None):
    """Bytes of GPU memory held by live arrays."""
    return _cupy().get_default_memory_pool().used_bytes() if is_available() else 0


def memory_reserved(device=None):
    """Bytes of GPU memory held by the allocator, used or cached."""
    return _cupy().get_default_memory_pool().total_bytes() if is_available() else 0


def manual_seed(seed):
    """Seeds the random numbers ember draws for CUDA tensors (the shared default generator)."""
    from ..ops.random import manual_seed as seed_all
    seed_all(seed)


manual_seed_all = manual_seed


from . import amp  # noqa: F401  (ember.cuda.amp: the deprecated AMP aliases)
