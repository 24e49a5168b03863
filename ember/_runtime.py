"""Process-wide settings PyTorch exposes at the top level: CPU threads (NumPy's BLAS, through threadpoolctl or
OpenBLAS's own call), deterministic algorithms, float32 matmul precision and the default device."""
import functools
import glob
import os
import warnings

from . import _backend

__all__ = ["set_num_threads", "get_num_threads", "set_num_interop_threads", "get_num_interop_threads",
           "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
           "is_deterministic_algorithms_warn_only_enabled", "set_deterministic_debug_mode",
           "get_deterministic_debug_mode", "set_float32_matmul_precision", "get_float32_matmul_precision",
           "set_default_device", "get_default_device", "set_warn_always", "is_warn_always_enabled", "init_num_threads",
           "get_device_module", "set_flush_denormal"]
_settings = {"interop_threads": os.cpu_count() or 1, "deterministic": False, "warn_only": False,
             "matmul_precision": "highest", "warn_always": False, "fill_uninitialized_memory": True}


@functools.lru_cache(maxsize=None)
def _openblas():
    """NumPy's bundled OpenBLAS as (library, name prefix, suffix) for ctypes, or None."""
    import ctypes
    import numpy
    folder = os.path.join(os.path.dirname(os.path.dirname(numpy.__file__)), "numpy.libs")
    for path in glob.glob(os.path.join(folder, "*openblas*")):
        library = ctypes.CDLL(path)
        for prefix, suffix in (("scipy_openblas", "64_"), ("scipy_openblas", ""), ("openblas", "64_"),
                               ("openblas", "")):
            if hasattr(library, f"{prefix}_set_num_threads{suffix}"):
                return library, prefix, suffix
    return None


_QUIET_TIMEOUT = "19"
"""OpenBLAS's ``OPENBLAS_THREAD_TIMEOUT`` (log2 of the cycles its threads wait, spinning, for the next product) beside
ember's intra-op pool: by default (2**28 cycles, ~0.1 s) the BLAS threads spin on the cores after every product and
a second pool thread competing with them made every model slower; at 2**19 (~0.2 ms) they still catch a training
step's back-to-back products (at 2**4 each small product waited for its threads to wake: the seeds' MLP step 1.15
-> 1.45 ms) and leave the cores to the pool between layers (docs/speed_threads.md, "Intra-op threads")."""


def _blas_threads_sleep():
    """Whether NumPy's OpenBLAS threads sleep soon after a product ends (within ~0.2 ms), as ember's intra-op pool
    needs beside them: by the user's ``OPENBLAS_THREAD_TIMEOUT`` if set, else whether this OpenBLAS can be told so at
    run time."""
    chosen = os.environ.get("OPENBLAS_THREAD_TIMEOUT")
    if chosen is not None:
        return chosen.strip().isdigit() and int(chosen) <= int(_QUIET_TIMEOUT)
    found = _openblas()
    return found is not None and all(hasattr(found[0], name) for name in ("openblas_read_env",
                                                                          "blas_thread_shutdown_"))


@functools.lru_cache(maxsize=None)
def _quiet_blas_threads():
    """Makes NumPy's OpenBLAS threads sleep soon after a product ends (``_QUIET_TIMEOUT``), once per process, unless
    the user chose ``OPENBLAS_THREAD_TIMEOUT``: OpenBLAS reads the variable again and stops its threads, which start
    with the new timeout at the next product; the variable is removed again, so child processes are as before. Called
    when ember's pool first starts its threads (no other thread should be inside a BLAS call then)."""
    if "OPENBLAS_THREAD_TIMEOUT" in os.environ or not _blas_threads_sleep():
        return
    library = _openblas()[0]
    os.environ["OPENBLAS_THREAD_TIMEOUT"] = _QUIET_TIMEOUT
    try:
        library.openblas_read_env()
        library.blas_thread_shutdown_()
    finally:
        del os.environ["OPENBLAS_THREAD_TIMEOUT"]


def set_num_threads(num):
    """Sets PyTorch's intra-op thread count: the threads of ember's parallel kernels and of NumPy's BLAS."""
    if not isinstance(num, int) or num <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    from .ops import _parallel
    _parallel.set_num_threads(num)
    # NumPy's own OpenBLAS directly when it has one: importing threadpoolctl costs ~40 ms, which every DataLoader
    # worker would pay on start.
    found = _openblas()
    if found is not None:
        library, prefix, suffix = found
        getattr(library, f"{prefix}_set_num_threads{suffix}")(num)
        if num == 1 and hasattr(library, "blas_thread_shutdown_"):
            # Setting the count starts OpenBLAS's worker threads where none run (a forked DataLoader worker), and
            # each then spins ~0.1 s on a core; one thread needs none of them.
            library.blas_thread_shutdown_()
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        warnings.warn("set_num_threads: neither threadpoolctl nor NumPy's OpenBLAS was found; the BLAS thread "
                      "count is unchanged")
        return
    threadpool_limits(num, user_api="blas")


def get_num_threads():
    """How many threads NumPy's BLAS uses (the CPU count when no BLAS library is found)."""
    found = _openblas()
    if found is not None:
        library, prefix, suffix = found
        return int(getattr(library, f"{prefix}_get_num_threads{suffix}")())
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return os.cpu_count() or 1
    counts = [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]
    return counts[0] if counts else os.cpu_count() or 1


def init_num_threads():
    """PyTorch's per-thread set-up of its OpenMP threads; ember's intra-op pool serves every calling thread as it
    is, so there is nothing to set up."""


def get_device_module(device=None):
    """The module of a device's type (``ember.cpu``, ``ember.cuda``); for None, the current accelerator's, else
    ``ember.cpu``."""
    import ember
    if isinstance(device, _backend.device):
        name = device.type
    elif isinstance(device, str):   # an accelerator ember lacks still has its module (ember.xpu, ember.mps)
        name = device.partition(":")[0] if device.partition(":")[0] in ("xpu", "mps") else _backend.device(device).type
    elif device is None:
        accelerator = ember.accelerator.current_accelerator()
        name = "cpu" if accelerator is None else accelerator.type
    else:
        raise RuntimeError(f"Invalid value of device '{device}', expect torch.device, str, or None")
    module = getattr(ember, name, None)
    if not isinstance(module, type(ember)):
        raise RuntimeError(f"Device '{name}' does not have a corresponding module registered as 'torch.{name}'.")
    return module


def set_num_interop_threads(num):
    """Sets the inter-op thread count (kept for ``get_num_interop_threads``; ember runs ops one at a time)."""
    if not isinstance(num, int) or num <= 0:
        raise RuntimeError("Expected positive number of threads")
    _settings["interop_threads"] = num


def get_num_interop_threads():
    """The inter-op thread count (the CPU count unless set)."""
    return _settings["interop_threads"]


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Asks for deterministic algorithms; ember's NumPy and CuPy ops already are, so this records the choice."""
    if not isinstance(mode, bool):
        raise TypeError(f"use_deterministic_algorithms expects a bool, but got {type(mode).__name__}")
    _settings["deterministic"], _settings["warn_only"] = mode, warn_only


def uninitialized_fill(dtype):
    """What new uninitialised memory of NumPy ``dtype`` is filled with (NaN, the largest integer, True), or None
    when it is left as it is: PyTorch fills it while deterministic algorithms are on, unless
    ``utils.deterministic.fill_uninitialized_memory`` is off."""
    if not (_settings["deterministic"] and _settings["fill_uninitialized_memory"]):
        return None
    import numpy
    if dtype.kind in "fc" or dtype.name == "bfloat16":
        return float("nan")
    return True if dtype.kind == "b" else numpy.iinfo(dtype).max


def are_deterministic_algorithms_enabled():
    """Whether ``use_deterministic_algorithms(True)`` is in effect."""
    return _settings["deterministic"]


def is_deterministic_algorithms_warn_only_enabled():
    """Whether deterministic mode was asked with ``warn_only=True``."""
    return _settings["warn_only"]


def set_deterministic_debug_mode(debug_mode):
    """0/"default", 1/"warn" or 2/"error": the same switch as ``use_deterministic_algorithms``."""
    modes = {"default": 0, "warn": 1, "error": 2}
    mode = modes.get(debug_mode, debug_mode)
    if mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected one of `default`, `warn`, `error`, but got "
                           f"{debug_mode}")
    use_deterministic_algorithms(mode > 0, warn_only=mode == 1)


def get_deterministic_debug_mode():
    """0 when deterministic algorithms are off, 1 in warn-only mode, 2 otherwise."""
    return 0 if not _settings["deterministic"] else 1 if _settings["warn_only"] else 2


def set_float32_matmul_precision(precision):
    """'highest', 'high' or 'medium' (ember computes float32 products in float32 whatever the setting)."""
    if precision not in ("highest", "high", "medium"):
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      "setFloat32MatmulPrecision call has no effect.")
        return
    _settings["matmul_precision"] = precision


def get_float32_matmul_precision():
    """The precision set by ``set_float32_matmul_precision`` ('highest' by default)."""
    return _settings["matmul_precision"]


def set_default_device(device):
    """Makes factory functions (``zeros``, ``randn``, ``tensor``, ...) put tensors on ``device`` when given none;
    None restores the CPU."""
    _backend.default_device = _backend.CPU if device is None else _backend.as_device(device)


def get_default_device():
    """The device factory functions use when given none."""
    return _backend.default_device


def set_warn_always(b):
    """Asks that warnings PyTorch gives once per process be given every time (recorded: ember's warnings use
    Python's filters)."""
    _settings["warn_always"] = bool(b)


def is_warn_always_enabled():
    """What ``set_warn_always`` set."""
    return _settings["warn_always"]


def set_flush_denormal(mode):
    """Makes float arithmetic treat denormal numbers as zero (``mode`` True) or not, on the calling thread and
    ember's intra-op threads; returns False, changing nothing, where the CPU offers no such switch (off x86)."""
    from . import _float_env
    if not _float_env.supported():
        return False
    from .ops import _parallel
    _float_env.set_flush(mode)
    _parallel.on_each_worker(lambda: _float_env.set_flush(mode))
    return True
