"""``torch.cuda.graphs``' names: ``CUDAGraph`` and the ``graph`` capture context. ember records no CUDA graphs, so
making a ``CUDAGraph`` raises, as PyTorch's does where it was built without CUDA; libraries that only name the types
(in annotations, ``isinstance`` checks) import."""

__all__ = ["CUDAGraph", "graph", "is_current_stream_capturing"]


class CUDAGraph:
    """A captured CUDA graph (``torch.cuda.CUDAGraph``); not available in ember: making one raises RuntimeError."""

    def __new__(cls, keep_graph=False):
        raise RuntimeError("Tried to instantiate dummy base class CUDAGraph")


class graph:
    """Captures the CUDA work inside the ``with`` block into ``cuda_graph`` (``torch.cuda.graph``); as no
    ``CUDAGraph`` can be made in ember, entering it raises."""

    def __init__(self, cuda_graph, pool=None, stream=None, capture_error_mode="global", enable_annotations=False,
                 check_input_liveness=False):
        self.cuda_graph = cuda_graph

    def __enter__(self):
        raise RuntimeError("Tried to instantiate dummy base class CUDAGraph")

    def __exit__(self, *exc):
        return False


def is_current_stream_capturing():
    """False: ember never captures a CUDA graph."""
    return False
