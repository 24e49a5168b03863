"""``ember.cuda``: whether a GPU is usable, device management, streams, events and memory statistics, through
CuPy when it is installed."""
import collections

from .. import _backend
from .memory import (empty_cache, max_memory_allocated, max_memory_reserved, mem_get_info,  # noqa: F401 (public)
                     memory_allocated, memory_reserved, reset_max_memory_allocated, reset_peak_memory_stats)
from .streams import Event, Stream, StreamContext, current_stream, default_stream, stream  # noqa: F401 (public)
from .graphs import CUDAGraph, graph, is_current_stream_capturing  # noqa: F401 (public)


def is_available():
    """True when CuPy is installed and sees at least one CUDA device."""
    return _backend.cuda_available()


def is_initialized():
    """True once ember has used CUDA in this process."""
    return _backend._cupy is not None


def init():
    """Initialises CUDA (ember does this on first use); raises when no GPU is available."""
    _cupy()


def device_count():
    """The number of CUDA devices CuPy sees (0 without CuPy)."""
    if not is_available():
        return 0
    return _backend._load_cupy().cuda.runtime.getDeviceCount()


def _cupy():
    if not is_available():
        raise AssertionError("Torch not compiled with CUDA enabled: ember has no CUDA device available "
                             "(install cupy-cuda12x and use a machine with an NVIDIA GPU)")
    return _backend._load_cupy()


def _index(device):
    if device is None:
        return current_device()
    if isinstance(device, int):
        return device
    return _backend.as_device(device).index or 0


def current_device():
    """The index of the current CUDA device."""
    return _cupy().cuda.runtime.getDevice()


def set_device(device):
    """Makes ``device`` (an index, "cuda:N" or an ember.device) the current CUDA device."""
    _cupy().cuda.runtime.setDevice(_index(device))


class device:
    """Context manager that makes ``device`` the current CUDA device inside the ``with`` block."""

    def __init__(self, device):
        self.index = _index(device)

    def __enter__(self):
        self.previous = current_device()
        set_device(self.index)

    def __exit__(self, *exc):
        set_device(self.previous)


def synchronize(device=None):
    """Waits for all work queued on the device to finish."""
    _cupy().cuda.runtime.deviceSynchronize()


_DeviceProperties = collections.namedtuple(
    "_CudaDeviceProperties", "name major minor total_memory multi_processor_count L2_cache_size")


def get_device_properties(device=None):
    """The GPU's name, compute capability (major, minor), memory in bytes, multiprocessor count and L2 size."""
    p = _cupy().cuda.runtime.getDeviceProperties(_index(device))
    name = p["name"].decode() if isinstance(p["name"], bytes) else p["name"]
    return _DeviceProperties(name, p["major"], p["minor"], p["totalGlobalMem"], p["multiProcessorCount"],
                             p["l2CacheSize"])


def get_device_name(device=None):
    """The GPU's name, such as 'NVIDIA H100 80GB HBM3'."""
    return get_device_properties(device).name


def get_device_capability(device=None):
    """The GPU's compute capability as (major, minor)."""
    properties = get_device_properties(device)
    return properties.major, properties.minor


def is_bf16_supported(including_emulation=True):
    """Whether CuPy holds bfloat16 arrays here (through ml_dtypes; CuPy 14 does, though not every kernel takes
    them)."""
    if not is_available():
        return False
    try:
        from .. import _dtype
        return _cupy().zeros(1, dtype=_dtype.bfloat16.numpy) is not None
    except Exception:
        return False


def manual_seed(seed):
    """Seeds the random numbers ember draws for CUDA tensors: the shared default generator (CUDA tensors' samples
    come from it) and the GPUs' dropout streams."""
    from ..ops.random import manual_seed as seed_all
    seed_all(seed)


manual_seed_all = manual_seed


def seed():
    """Restarts the current GPU's dropout stream from a fresh random seed."""
    import secrets

    from ..ops import random
    random.start_device_stream(current_device(), secrets.randbits(64))


def seed_all():
    """Restarts every GPU's dropout stream from a fresh random seed."""
    import secrets

    from ..ops import random
    fresh = secrets.randbits(64)
    for index in range(device_count()):
        random.start_device_stream(index, fresh + index)


def initial_seed():
    """The seed the current GPU's dropout stream started from."""
    from ..ops import random
    return random.device_stream(current_device())[0]


def get_rng_state(device="cuda"):
    """The GPU's dropout stream state as a CPU ByteTensor (its seed and how many fills it has drawn)."""
    import numpy

    from ..ops import random
    from .._tensor import _make
    return _make(numpy.array(random.device_stream(_index(device)), dtype=numpy.uint64).view(numpy.uint8).copy())


def set_rng_state(new_state, device="cuda"):
    """Restores a GPU's dropout stream from a ByteTensor that ``get_rng_state`` returned."""
    import numpy

    from ..ops import random
    data = new_state.cpu().numpy()
    if data.dtype != numpy.uint8 or data.size != 16:
        raise RuntimeError(f"Expected a CUDA RNG state of 16 bytes (ember's), got {data.size} {data.dtype} elements")
    seed, drawn = (int(v) for v in data.view(numpy.uint64))
    random.start_device_stream(_index(device), seed, drawn)


def get_rng_state_all():
    """Every GPU's ``get_rng_state``."""
    return [get_rng_state(i) for i in range(device_count())]


def set_rng_state_all(new_states):
    """Restores every GPU's dropout stream from ``get_rng_state_all``'s list."""
    for i, state in enumerate(new_states):
        set_rng_state(state, i)


from . import amp  # noqa: E402,F401  (ember.cuda.amp: the deprecated AMP aliases)


class _OutOfMemoryError(RuntimeError):
    """A CUDA allocation failed (where CuPy is not installed, nothing raises it)."""


def __getattr__(name):
    """``OutOfMemoryError``: CuPy's own error where CuPy is installed (so ``except cuda.OutOfMemoryError`` catches
    what a failed allocation raises), else a RuntimeError subclass."""
    if name == "OutOfMemoryError":
        from importlib.util import find_spec
        if find_spec("cupy") is not None:
            return _backend._load_cupy().cuda.memory.OutOfMemoryError
        return _OutOfMemoryError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
