"""``ember.version`` (``torch.version`` under the alias): the PyTorch version whose API ember follows, and the CUDA
version ember runs on (CuPy's, None without a GPU), as PyTorch describes its build."""
from ._alias import API_VERSIONS

__version__ = API_VERSIONS["torch"]
hip = None
debug = False


def __getattr__(name):
    if name == "cuda":
        from . import _backend
        if not _backend.cuda_available():
            return None
        runtime = _backend._load_cupy().cuda.runtime.runtimeGetVersion()
        return f"{runtime // 1000}.{runtime % 1000 // 10}"
    raise AttributeError(f"module 'ember.version' has no attribute '{name}'")
