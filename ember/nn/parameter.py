"""Parameter: a tensor that a Module registers as learnable; Buffer: a tensor it registers as state."""
from .._tensor import Tensor, _make


class Parameter(Tensor):
    """A tensor that is a module parameter: assigned to a Module attribute, it appears in ``parameters()``."""

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            from ..ops.creation import empty
            data = empty(0)
        parameter = _make(data._data, cls=cls)
        parameter.requires_grad = requires_grad
        return parameter

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        return (Parameter, (self.detach(), self.requires_grad))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = Parameter(_make(self._data.copy()), self.requires_grad)
        memo[id(self)] = result
        return result


class Buffer(Tensor):
    """Marks a tensor to be registered as a module buffer when assigned to a Module attribute."""

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            from ..ops.creation import empty
            data = empty(0)
        buffer = _make(data._data, cls=cls)
        buffer.persistent = persistent
        return buffer

    def __init__(self, data=None, *, persistent=True):
        pass
