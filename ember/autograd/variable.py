"""``autograd.Variable``: PyTorch's pre-0.4 wrapper, kept as PyTorch keeps it: calling it returns a Tensor, and
every Tensor is an instance of it."""
import warnings

import numpy

from .. import _dtype
from .._tensor import Tensor, _make


class _VariableMeta(type):
    def __instancecheck__(cls, other):
        return isinstance(other, Tensor)


class Variable(metaclass=_VariableMeta):
    """``Variable(tensor, requires_grad=False)``: the tensor itself (detached), with ``requires_grad`` set; no data
    gives an empty tensor. ``volatile`` has no effect but PyTorch's warning."""

    def __new__(cls, data=None, requires_grad=False, volatile=False):
        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with torch.no_grad():` instead.",
                          stacklevel=2)
            if requires_grad:
                raise ValueError("Variable can't be volatile and require_grad at the same time!")
        if data is None:
            data = _make(numpy.empty(0, _dtype.get_default_dtype()._numpy))
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        return data.detach().requires_grad_(requires_grad)


def _volatile(self):
    """Always False: ``volatile`` was removed (use ``torch.no_grad()``); reading it warns, as PyTorch's."""
    warnings.warn("volatile was removed (Variable.volatile is always False)", stacklevel=2)
    return False


Tensor.volatile = property(_volatile, doc=_volatile.__doc__)


class _ImperativeEngine:
    """``Variable._execution_engine``: the autograd engine's Python face, for ``queue_callback``."""

    def queue_callback(self, callback):
        """Runs ``callback`` once the running backward has finished (every gradient accumulated)."""
        from .engine import current_task
        task = current_task()
        if task is None:
            raise RuntimeError("Final callbacks can only be installed during backward pass.")
        task.callbacks.append(callback)


Variable._execution_engine = _ImperativeEngine()
