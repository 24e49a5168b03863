"""``Tensor.grad`` and ``Tensor.grad_dtype`` as PyTorch reads and writes them: reading the unset ``.grad`` of a
non-leaf tensor that does not retain its gradient warns, since backward never fills it (a common mistake); an assigned
gradient must be a Tensor of the tensor's size, device type and gradient dtype."""

from .. import _dtype
from .._warnings import warn
from .._tensor import Tensor
from ..autograd.engine import ANY_GRAD_DTYPE as _ANY_DTYPE
from ._kernel_dtypes import cpp_type_name
from .tensor_utilities import typename

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
    if value is not None:
        mine, given = self._data, value._data if type(value) is Tensor else None
        if not (given is not None and given.dtype is mine.dtype and given.shape == mine.shape and   # (the usual
                type(given) is type(mine) and value is not self and "_grad_dtype" not in self.__dict__):   # case)
            _check_assigned(self, value)
    self.__dict__["grad"] = value


def _check_assigned(tensor, grad):
    """PyTorch's checks of an assigned gradient: a Tensor, not the tensor itself, of its device type, gradient dtype
    and size."""
    if not isinstance(grad, Tensor):
        raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type {typename(type(grad))}")
    if grad is tensor:
        raise RuntimeError("can't assign Variable as its own grad")
    wanted = tensor.__dict__.get("_grad_dtype", tensor.dtype)
    if wanted != _ANY_DTYPE and grad.dtype != wanted:
        raise RuntimeError(
            f"attempting to assign a gradient with dtype '{cpp_type_name(grad.dtype)}' to a tensor with grad_dtype "
            f"'{_dtype.scalar_type_name(wanted)}'. The gradient must match the tensor's grad_dtype (defaults to the "
            "tensor's dtype). You can set the tensor's grad_dtype attribute with a specific dtype, or None to allow "
            "any dtype. Set grad_dtype with caution. Diverging the dtypes of a tensor and its gradient may break "
            "downstream systems that assume they match.")
    if grad.device.type != tensor.device.type:
        raise RuntimeError(f"attempting to assign a gradient with device type '{grad.device.type}' to a tensor with "
                           f"device type '{tensor.device.type}'. Please ensure that the gradient and the tensor are on "
                           "the same device")
    if grad.shape != tensor.shape:
        raise RuntimeError(f"attempting to assign a gradient of size '{list(grad.shape)}' to a tensor of size "
                           f"'{list(tensor.shape)}'. Please ensure that the gradient and the tensor are the same size")


def _del_grad(self):
    self.__dict__.pop("grad", None)


def _get_grad_dtype(self):
    _leaf_only(self, "accessed")
    wanted = self.__dict__.get("_grad_dtype", self.dtype)
    return None if wanted == _ANY_DTYPE else wanted


def _set_grad_dtype(self, value):
    _leaf_only(self, "set")
    if value is not None and not isinstance(value, _dtype.dtype):
        raise RuntimeError(f"grad_dtype must be a torch.dtype or None, but got {typename(type(value))}")
    grad = self.__dict__.get("grad")
    if grad is not None and value is not None and grad.dtype != value:
        raise RuntimeError(
            f"Cannot set grad_dtype to '{_dtype.scalar_type_name(value)}' because there is already a gradient with "
            f"dtype '{cpp_type_name(grad.dtype)}'. Please clear the gradient (.grad = None) before changing "
            "grad_dtype, or ensure the new grad_dtype matches the existing gradient's dtype.")
    self.__dict__["_grad_dtype"] = _ANY_DTYPE if value is None else value


def _leaf_only(tensor, verb):
    if tensor.grad_fn is not None:
        raise RuntimeError(f"grad_dtype can only be {verb} on leaf tensors.")


Tensor.grad = property(_get_grad, _set_grad, _del_grad, "The gradient backward accumulated into this tensor (None "
                       "until then).")
Tensor.grad_dtype = property(_get_grad_dtype, _set_grad_dtype, None, "The dtype a gradient assigned to or "
                             "accumulated into this leaf's .grad must have (None: any; defaults to the leaf's dtype).")
