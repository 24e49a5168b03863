"""The calling thread's floating-point environment as PyTorch's ``set_flush_denormal`` sets it: x86's
flush-to-zero and denormals-are-zero bits of MXCSR, read and written through the C library's ``fegetenv`` /
``fesetenv`` (64-bit x86 Linux with glibc, whose ``fenv_t`` ends with MXCSR; elsewhere unsupported, as PyTorch's
answer is off x86)."""
import ctypes
import ctypes.util
import functools
import platform

_FLUSH_BITS = 0x8040   # FTZ (bit 15): denormal results become 0; DAZ (bit 6): denormal operands read as 0
_ENV_BYTES, _MXCSR_AT = 32, 28


@functools.lru_cache(maxsize=1)
def _libm():
    """The C math library when its ``fenv_t`` layout is known here, else None."""
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64") or \
            platform.libc_ver()[0] != "glibc":
        return None
    name = ctypes.util.find_library("m")
    return None if name is None else ctypes.CDLL(name)


def supported():
    """Whether this platform's denormal flushing can be set."""
    return _libm() is not None


def set_flush(mode):
    """Sets or clears the calling thread's flush-to-zero and denormals-are-zero bits."""
    libm = _libm()
    env = (ctypes.c_uint8 * _ENV_BYTES)()
    if libm.fegetenv(env) != 0:
        raise OSError("fegetenv failed")
    mxcsr = int.from_bytes(bytes(env[_MXCSR_AT:]), "little")
    mxcsr = mxcsr | _FLUSH_BITS if mode else mxcsr & ~_FLUSH_BITS
    env[_MXCSR_AT:] = list(mxcsr.to_bytes(4, "little"))
    if libm.fesetenv(env) != 0:
        raise OSError("fesetenv failed")
