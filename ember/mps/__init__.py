"""``ember.mps``: Apple GPUs are not an ember backend. Calls answer as PyTorch's build without MPS does: nothing is
available, and what needs the device raises its RuntimeError naming the missing call."""

__all__ = ["is_available", "device_count", "synchronize", "empty_cache", "manual_seed", "seed", "get_rng_state",
           "set_rng_state", "current_allocated_memory", "driver_allocated_memory", "recommended_max_memory",
           "set_per_process_memory_fraction"]


def _without(call):
    def unavailable(*args, **kwargs):
        raise RuntimeError(f"Cannot execute {call}() without MPS backend.")
    unavailable.__doc__ = f"Raises: ember has no MPS backend ({call})."
    return unavailable


def is_available():
    """False: ember has no MPS backend."""
    return False


def device_count():
    """0 MPS devices."""
    return 0


def manual_seed(seed):
    """Seeds nothing (no MPS generator)."""


def set_per_process_memory_fraction(fraction):
    """Checks ``fraction``; there is no MPS memory to limit."""
    if not isinstance(fraction, float):
        raise TypeError("Invalid type for fraction argument, must be `float`")
    raise RuntimeError("Cannot execute setMemoryFraction() without MPS backend.")


synchronize = _without("deviceSynchronize")
empty_cache = _without("emptyCache")
seed = get_rng_state = set_rng_state = _without("getDefaultGenerator")
current_allocated_memory = _without("getCurrentAllocatedMemory")
driver_allocated_memory = _without("getDriverAllocatedMemory")
recommended_max_memory = _without("getRecommendedMaxMemory")
