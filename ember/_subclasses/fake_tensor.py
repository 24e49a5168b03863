"""``torch._subclasses.fake_tensor``: ``FakeTensor`` as a real type and ``is_fake``. ember never makes a fake tensor,
so no tensor is an instance of it and ``is_fake`` is False for every tensor ember gives, as for PyTorch's eager ones."""
from .._tensor import Tensor


class FakeTensor(Tensor):
    """PyTorch's tensor that has metadata but no data, made under ``FakeTensorMode``; ember makes none (use the
    ``meta`` device for shape inference)."""

    __slots__ = ()


def is_fake(x):
    """Whether ``x`` is a fake tensor (always False in ember, where none are made)."""
    return isinstance(x, FakeTensor)
