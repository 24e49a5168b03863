"""``torch.__config__``: human-readable descriptions of how ember is built, in the layout of PyTorch's (libraries
read flags out of ``show()``, PyTorch Geometric ``'USE_MKL=OFF'`` among them). ember has no C++ build: its settings
are the array libraries it runs on (NumPy and its BLAS, CuPy where installed) and its own thread pool."""

import os


def _blas_name():
    """The name of the BLAS NumPy is linked against ("openblas", "mkl", ...), "unknown" when NumPy does not say."""
    import numpy
    try:
        config = numpy.show_config(mode="dicts")
    except TypeError:   # NumPy before 1.26 only prints its configuration
        return "unknown"
    return str(config.get("Build Dependencies", {}).get("blas", {}).get("name", "unknown"))


def _use_cuda():
    from . import cuda
    return cuda.is_available()


def show():
    """Return a human-readable string with descriptions of the configuration of ember (PyTorch's
    ``torch.__config__.show()`` layout: a list of the libraries used, then the build settings)."""
    import numpy
    from . import __version__
    blas = _blas_name()
    settings = {"BLAS_INFO": blas, "EMBER_VERSION": __version__, "NUMPY_VERSION": numpy.__version__,
                "TORCH_VERSION": _torch_version(), "USE_CUDA": int(_use_cuda()), "USE_CUDNN": "OFF",
                "USE_MKL": "ON" if "mkl" in blas.lower() else "OFF", "USE_MKLDNN": "OFF", "USE_MPI": "OFF",
                "USE_NCCL": "OFF", "USE_OPENMP": "OFF", "USE_ROCM": "OFF"}
    lines = ["ember built with:", f"  - NumPy {numpy.__version__}", f"  - BLAS: {blas} (NumPy's)",
             "  - LAPACK is enabled (NumPy's)", "  - Build settings: "
             + "".join(f"{name}={value}, " for name, value in settings.items())]
    return "\n".join(lines) + "\n"


def _torch_version():
    from .version import __version__
    return str(__version__)


def _cxx_flags():
    """Returns the CXX_FLAGS used when building PyTorch; ember is not compiled, so there are none."""
    return ""


def parallel_info():
    r"""Returns detailed string with parallelization settings"""
    from ._runtime import get_num_interop_threads, get_num_threads
    variables = "".join(f"\t{name} : {os.environ.get(name, '[not set]')}\n"
                        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"))
    return (f"ATen/Parallel:\n\tat::get_num_threads() : {get_num_threads()}\n"
            f"\tat::get_num_interop_threads() : {get_num_interop_threads()}\n"
            f"std::thread::hardware_concurrency() : {os.cpu_count()}\n"
            f"Environment variables:\n{variables}ATen parallel backend: ember intra-op thread pool\n")
