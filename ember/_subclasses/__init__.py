"""``torch._subclasses``: the tensor subclasses PyTorch's tracing uses. ember has no fake tensors (its meta device
plays their part), so the names exist for libraries' checks (``is_fake(x)``), which answer as on a plain eager run."""
from .fake_tensor import FakeTensor, is_fake

__all__ = ["FakeTensor", "is_fake"]
