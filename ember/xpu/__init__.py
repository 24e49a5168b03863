"""``ember.xpu``: Intel GPUs are not an ember backend. Calls answer as PyTorch's CPU build does: nothing is
available, memory counters are 0, seeding does nothing, and what needs a device raises its AssertionError."""
import contextlib

__all__ = ["is_available", "device_count", "is_initialized", "init", "current_device", "set_device",
           "synchronize", "get_device_name", "get_device_properties", "get_device_capability", "empty_cache",
           "manual_seed", "manual_seed_all", "seed", "seed_all", "initial_seed", "get_rng_state", "set_rng_state",
           "memory_allocated", "max_memory_allocated", "memory_reserved", "is_bf16_supported", "get_arch_list",
           "device", "device_of"]


def _unavailable(*args, **kwargs):
    raise AssertionError("Torch not compiled with XPU enabled")


def is_available():
    """False: ember has no XPU backend."""
    return False


def device_count():
    """0 XPU devices."""
    return 0


def is_initialized():
    """False: there is no XPU state to initialise."""
    return False


def empty_cache():
    """Nothing to release."""


def manual_seed(seed):
    """Seeds nothing (no XPU generator), as PyTorch's CPU build."""


def manual_seed_all(seed):
    """Seeds nothing (no XPU generators)."""


def seed():
    """Seeds nothing (no XPU generator)."""


def seed_all():
    """Seeds nothing (no XPU generators)."""


def memory_allocated(device=None):
    """0 bytes."""
    return 0


def max_memory_allocated(device=None):
    """0 bytes."""
    return 0


def memory_reserved(device=None):
    """0 bytes."""
    return 0


def is_bf16_supported(including_emulation=True):
    """False: no XPU device."""
    return False


def get_arch_list():
    """No architectures: ember is not built for XPU."""
    return []


init = current_device = set_device = synchronize = get_device_name = get_device_properties = _unavailable
get_device_capability = initial_seed = get_rng_state = _unavailable


def set_rng_state(new_state, device="xpu"):
    """Sets nothing (no XPU generator), as PyTorch's CPU build."""


class device(contextlib.AbstractContextManager):
    """A block run on an XPU device: entering one raises, as there is none (``device(-1)`` / ``None`` runs as is)."""

    def __init__(self, device):
        self.idx = -1 if device is None else getattr(device, "index", device)

    def __enter__(self):
        if self.idx != -1:
            _unavailable()
        return self

    def __exit__(self, *exc):
        return False


class device_of(device):
    """A block run on the XPU device of a tensor; ember's tensors are never on one."""

    def __init__(self, obj):
        super().__init__(-1)
