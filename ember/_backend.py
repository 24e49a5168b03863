"""Devices and the array module behind them: NumPy for "cpu", CuPy for "cuda".

This is the only core file that imports cupy (``distributed/_nccl`` imports its NCCL binding), and only when a CUDA
device is first used.
"""
import numpy

from . import _meta
from ._meta import MetaArray

_cupy = None
_peak_bytes = [0]


def _load_cupy():
    global _cupy
    if _cupy is None:
        try:
            import cupy
        except ImportError as error:
            raise AssertionError("ember was asked for a CUDA device, but CuPy is not installed "
                                 "(pip install cupy-cuda12x)") from error
        _cupy = cupy
        _watch_peak(cupy)
    return _cupy


def _watch_peak(cupy):
    """Keeps the peak of the bytes CuPy's pool hands out (``ember.cuda.max_memory_allocated``): a memory hook on
    the thread that first uses CUDA."""
    from cupy.cuda import memory_hook
    pool = cupy.get_default_memory_pool()

    class PeakHook(memory_hook.MemoryHook):
        name = "ember_peak"

        def malloc_postprocess(self, device_id, size, mem_size, mem_ptr, pmem_id):
            used = pool.used_bytes()
            if used > _peak_bytes[0]:
                _peak_bytes[0] = used

    PeakHook().__enter__()


# PyTorch's device types, in the order its error lists them: each names a device; ember's tensors live on cpu, cuda
# and meta, and the others say PyTorch is not linked with them when a tensor is put there (``xp_for``).
_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia", "xla",
                 "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")


class device:
    """Where a tensor's memory lives: ``device("cpu")``, ``device("cuda:0")`` or ``device("cuda", 1)``."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, int) and not isinstance(type, bool):   # an index of the current accelerator
            if type < 0:
                raise RuntimeError("Device index must not be negative")
            if not cuda_available():
                raise RuntimeError("Cannot access accelerator device when none is available.")
            type, index = "cuda", type
        elif ":" in type:
            type, _, number = type.partition(":")
            if not number.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}:{number}'")
            index = int(number)
        if type not in _DEVICE_TYPES:
            raise RuntimeError(f"Expected one of {', '.join(_DEVICE_TYPES)} device type at start of device string: "
                               f"{type}")
        if index is not None and index < 0:
            raise RuntimeError("Device index must not be negative")
        self.type = type
        self.index = index

    def __eq__(self, other):   # a device equals devices only: device("cpu") == "cpu" is False, as in PyTorch
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):   # as PyTorch's: torch.device("cuda", 1), so a plain pickle loads in either library
        return device, (self.type,) if self.index is None else (self.type, self.index)

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __enter__(self):
        """``with device("cuda"):`` makes factory functions and new modules' tensors default to this device until
        the block ends (the default before it comes back, however the blocks nest)."""
        global default_device
        _outer_defaults.append(default_device)
        default_device = self
        return self

    def __exit__(self, *exc_info):
        global default_device
        default_device = _outer_defaults.pop()


CPU = device("cpu")
META = device("meta")


default_device = CPU
"""Where factory functions put tensors when given no device (``ember.set_default_device``)."""
_outer_defaults = []


def as_device(value):
    """Turns a device, a string like "cuda:0", an int or None (the default device, cpu unless set) into a device."""
    if value is None:
        return default_device
    if isinstance(value, device):
        return value
    return device(value)


def xp_for(dev):
    """The array module (numpy or cupy) that holds tensors on ``dev``; on "meta", NumPy making MetaArrays."""
    if dev.type == "cpu":
        return numpy
    if dev.type == "meta":
        return _meta.xp
    if dev.type != "cuda":
        raise RuntimeError(f"PyTorch is not linked with support for {dev.type} devices")
    return _load_cupy()


def xp_of(array):
    """The array module an array belongs to (for a meta tensor's, NumPy making MetaArrays)."""
    if type(array) is numpy.ndarray:
        return numpy
    if isinstance(array, numpy.ndarray):
        return _meta.xp if isinstance(array, MetaArray) else numpy
    return _load_cupy()


def device_of(array):
    """The device an array lives on."""
    if type(array) is numpy.ndarray:
        return CPU
    if isinstance(array, numpy.ndarray):
        return META if isinstance(array, MetaArray) else CPU
    return device("cuda", array.device.id)


def move(array, dev):
    """Copies ``array`` to ``dev`` (or returns it unchanged when it already lives there)."""
    if dev.type == "cpu":
        if type(array) is MetaArray:
            _meta.refuse_copy()
        return array if isinstance(array, numpy.ndarray) else array.get()
    if dev.type == "meta":
        return _meta.like(array) if isinstance(array, numpy.ndarray) else _meta.empty(array.shape, array.dtype)
    if dev.type != "cuda":
        raise RuntimeError(f"PyTorch is not linked with support for {dev.type} devices")
    if type(array) is MetaArray:
        _meta.refuse_copy()
    cupy = _load_cupy()
    with cupy.cuda.Device(dev.index or 0):
        return cupy.asarray(array)


def cuda_available():
    """True when CuPy imports and sees at least one GPU."""
    try:
        return _load_cupy().cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False
