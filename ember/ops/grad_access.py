"""``Tensor.grad`` as PyTorch reads it: reading the unset ``.grad`` of a non-leaf tensor that does not retain its
gradient warns, since backward never fills it (a common mistake)."""

from .._warnings import warn
from .._tensor import Tensor

_NON_LEAF_MESSAGE = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute won't be "
    "populated during autograd.backward(). If you indeed want the .grad field to be populated for a non-leaf Tensor, "
    "use .retain_grad() on the non-leaf Tensor. If you access the non-leaf Tensor by mistake, make sure you access "
    "the leaf Tensor instead. See github.com/pytorch/pytorch/pull/30531 for more information.")


def _get_grad(self):
    grad = self.__dict__.get("grad")
    if grad is None and self.grad_fn is not None and not self._retains_grad:
        warn(_NON_LEAF_MESSAGE, UserWarning, stacklevel=2)
    return grad


def _set_grad(self, value):
    if value is not None and not isinstance(value, Tensor):   # (sizes and dtypes unchecked: FSDP stores others)
        raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type {type(value).__name__}")
    self.__dict__["grad"] = value


def _del_grad(self):
    self.__dict__.pop("grad", None)


Tensor.grad = property(_get_grad, _set_grad, _del_grad, "The gradient backward accumulated into this tensor (None "
                       "until then).")
