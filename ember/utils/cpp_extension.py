"""``torch.utils.cpp_extension``: the names libraries probe. Its builders compile C++/CUDA sources against PyTorch's
C++ API (ATen, libtorch), which ember does not have, so ``load``, ``load_inline`` and the setuptools extension types
raise a RuntimeError saying so; libraries that build optional kernels inside ``try`` (peft's BOFT) fall back to
their Python paths, as they do where PyTorch's build fails. The toolchain constants (``CUDA_HOME``, ...) are found as
PyTorch finds them (``CUDA_HOME`` where ember has CUDA, through CuPy, as PyTorch's where built with CUDA)."""
import importlib.util
import os
import shutil
import sys

__all__ = ["load", "load_inline", "include_paths", "library_paths", "CppExtension", "CUDAExtension", "BuildExtension",
           "is_ninja_available", "verify_ninja_availability", "CUDA_HOME", "ROCM_HOME", "SYCL_HOME"]

IS_WINDOWS = sys.platform == "win32"
IS_MACOS = sys.platform.startswith("darwin")
IS_LINUX = sys.platform.startswith("linux")
IS_HIP_EXTENSION = False

_NO_BUILD = ("ember cannot build {}: torch.utils.cpp_extension compiles C++/CUDA sources against PyTorch's C++ API "
             "(ATen, libtorch), which ember does not have")


def _find_cuda_home():
    """The CUDA toolkit's root: $CUDA_HOME or $CUDA_PATH, else above ``nvcc`` on PATH, else /usr/local/cuda."""
    home = os.environ.get("CUDA_HOME") or os.environ.get("CUDA_PATH")
    if home is None:
        nvcc = shutil.which("nvcc")
        if nvcc is not None:
            home = os.path.dirname(os.path.dirname(nvcc))
        elif not IS_WINDOWS and os.path.exists("/usr/local/cuda"):
            home = "/usr/local/cuda"
    return home


CUDA_HOME = _find_cuda_home() if importlib.util.find_spec("cupy") is not None else None   # PyTorch: if built with CUDA
CUDNN_HOME = os.environ.get("CUDNN_HOME") or os.environ.get("CUDNN_PATH")
ROCM_HOME = HIP_HOME = SYCL_HOME = None


def load(name, sources, *args, **kwargs):
    """Would compile ``sources`` into the extension module ``name``; ember has no C++ API, so it raises."""
    raise RuntimeError(_NO_BUILD.format(f"the extension '{name}'"))


def load_inline(name, cpp_sources, *args, **kwargs):
    """Would compile inline C++/CUDA sources into the extension module ``name``; ember has no C++ API, so it
    raises."""
    raise RuntimeError(_NO_BUILD.format(f"the extension '{name}'"))


def CppExtension(name, sources, *args, **kwargs):
    """Would describe a C++ extension for setuptools; ember has no C++ API, so it raises."""
    raise RuntimeError(_NO_BUILD.format(f"the extension '{name}'"))


def CUDAExtension(name, sources, *args, **kwargs):
    """Would describe a CUDA extension for setuptools; ember has no C++ API, so it raises."""
    raise RuntimeError(_NO_BUILD.format(f"the extension '{name}'"))


class BuildExtension:
    """Would be setuptools' ``build_ext`` command for PyTorch extensions; ember has no C++ API, so making one
    raises."""

    def __init__(self, *args, **kwargs):
        raise RuntimeError(_NO_BUILD.format("extensions"))

    @classmethod
    def with_options(cls, **options):
        """The command class with ``options`` bound (making it raises, as the class does)."""
        return cls


def include_paths(device_type="cpu"):
    """PyTorch's C++ header directories: ember has none."""
    return []


def library_paths(device_type="cpu"):
    """PyTorch's C++ library directories: ember has none."""
    return []


def is_ninja_available():
    """Whether the ninja build tool runs."""
    return shutil.which("ninja") is not None


def verify_ninja_availability():
    """Raises RuntimeError when ninja is not available."""
    if not is_ninja_available():
        raise RuntimeError("Ninja is required to load C++ extensions")
