"""``ember.accelerator``: the device-agnostic accelerator API; ember's accelerator is CUDA through CuPy."""
from . import _backend, cuda


def is_available():
    """True when a CUDA device is usable (CuPy installed and a GPU present)."""
    return cuda.is_available()


def current_accelerator(check_available=False):
    """``device('cuda')`` when a GPU is usable; None otherwise."""
    return _backend.device("cuda") if cuda.is_available() else None


def device_count():
    """The number of accelerator devices (0 without a GPU)."""
    return cuda.device_count()


def _require():
    if not cuda.is_available():
        raise RuntimeError("Cannot access accelerator device when none is available.")


def current_device_index():
    """The index of the current accelerator device."""
    _require()
    return cuda.current_device()


def set_device_index(device):
    """Makes ``device`` (an index, "cuda:N" or a device) the current accelerator device."""
    _require()
    cuda.set_device(device)


set_device_idx = set_device_index
current_device_idx = current_device_index


def synchronize(device=None):
    """Waits for all work queued on the accelerator to finish."""
    _require()
    cuda.synchronize(device)
