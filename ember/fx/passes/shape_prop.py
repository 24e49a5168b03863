"""``ShapeProp``: runs a GraphModule and records each node's tensor metadata in ``node.meta['tensor_meta']``."""
from typing import Any, NamedTuple

from ... import Tensor, Size, channels_last, channels_last_3d, contiguous_format, dtype
from ..interpreter import Interpreter
from ..node import map_aggregate

__all__ = ["TensorMetadata", "ShapeProp"]


class TensorMetadata(NamedTuple):
    """What ShapeProp records of a tensor: shape, dtype, requires_grad, stride, memory format, quantization."""

    shape: Size
    dtype: dtype
    requires_grad: bool
    stride: tuple
    memory_format: Any
    is_quantized: bool
    qparams: dict


def _extract_tensor_metadata(result):
    memory_format = None
    for query_format in (contiguous_format, channels_last, channels_last_3d):
        if result.is_contiguous(memory_format=query_format):
            memory_format = query_format
            break
    return TensorMetadata(result.shape, result.dtype, result.requires_grad, result.stride(), memory_format,
                          False, {})


class ShapeProp(Interpreter):
    """Runs the module on example inputs (``propagate``), storing each node's result metadata
    (``TensorMetadata``, in the result's structure) in ``meta['tensor_meta']`` and its type in ``meta['type']``."""

    def __init__(self, gm, fake_mode=None):
        super().__init__(gm)

    def run_node(self, n):
        """Runs the node and records the metadata of the tensors it returned."""
        result = super().run_node(n)
        found_tensor = False

        def extract(obj):
            nonlocal found_tensor
            if isinstance(obj, Tensor):
                found_tensor = True
                return _extract_tensor_metadata(obj)
            return obj
        meta = map_aggregate(result, extract)
        if found_tensor:
            n.meta["tensor_meta"] = meta
        n.meta["type"] = type(result)
        return result

    def propagate(self, *args):
        """Runs the module on ``args`` (recording metadata) and returns its output."""
        return super().run(*args)
