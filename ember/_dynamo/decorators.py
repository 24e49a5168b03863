"""``torch._dynamo.decorators``' pickled data: ``_DimRange``, the range ``mark_dynamic(min=, max=)`` records for a
dim, which PyTorch's pickles of nested jagged tensors carry on their cached sequence-length tensors."""
import dataclasses

__all__ = []


@dataclasses.dataclass(frozen=True, slots=True)   # pickled as PyTorch's: state as a list
class _DimRange:
    """A dim of a tensor and the least and greatest sizes it may take (PyTorch's ``mark_dynamic`` record)."""

    dim: int
    min: int
    max: int
