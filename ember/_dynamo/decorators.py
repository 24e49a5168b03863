"""``torch._dynamo.decorators``: the marks and decorators ``torch._dynamo`` defines here (ember's, re-exported) and
``_DimRange``, the range ``mark_dynamic(min=, max=)`` records for a dim, which PyTorch's pickles of nested jagged
tensors carry on their cached sequence-length tensors."""
import dataclasses

from . import (allow_in_graph, assume_constant_result, disable, graph_break, is_compiling,  # noqa: F401
               mark_dynamic, mark_static, mark_static_address, maybe_mark_dynamic)

__all__ = ["allow_in_graph", "assume_constant_result", "disable", "graph_break", "is_compiling", "mark_dynamic",
           "mark_static", "mark_static_address", "maybe_mark_dynamic"]


@dataclasses.dataclass(frozen=True, slots=True)   # pickled as PyTorch's: state as a list
class _DimRange:
    """A dim of a tensor and the least and greatest sizes it may take (PyTorch's ``mark_dynamic`` record)."""

    dim: int
    min: int
    max: int
