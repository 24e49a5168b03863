"""``TVTensor``: the base of the tensor subclasses that tell the v2 transforms what a tensor holds.

As in torchvision, ops on a TVTensor return plain tensors (ember's ops already do), except ``clone``, ``to``,
``detach``, ``requires_grad_`` and ``pin_memory``, which keep the type and metadata; ``set_return_type("TVTensor")``
makes every op keep them.
"""
import ember
from ember.autograd import function as _function


class TVTensor(ember.Tensor):
    """Base class of ``Image``, ``Video``, ``Mask``, ``BoundingBoxes`` and ``KeyPoints``; subclass it for custom
    TVTensors."""

    def __init__(self, *args, **kwargs):
        pass   # construction happens in __new__; Tensor.__init__ is the legacy constructor

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        """Ops give plain tensors, for TVTensor subclasses defined by users too (the few that keep the type do
        so through the dispatch hook below), as torchvision's."""
        with ember._C.DisableTorchFunctionSubclass():
            return func(*args, **(kwargs or {}))

    @staticmethod
    def _to_tensor(data, dtype=None, device=None, requires_grad=None):
        if requires_grad is None:
            requires_grad = data.requires_grad if isinstance(data, ember.Tensor) else False
        return ember.as_tensor(data, dtype=dtype, device=device).requires_grad_(requires_grad)

    @classmethod
    def wrap(cls, tensor, like, **kwargs):
        """``tensor`` as an instance of ``cls``, taking metadata from ``like`` (overridden by ``kwargs``)."""
        return tensor.as_subclass(cls)

    @classmethod
    def _wrap_output(cls, output, args):
        """An op's ``output`` (a tensor, or a tuple or list of them) as ``cls``, metadata from ``args``."""
        if isinstance(output, ember.Tensor) and not isinstance(output, cls):
            return output.as_subclass(cls)
        if isinstance(output, (tuple, list)):
            return type(output)(cls._wrap_output(part, args) for part in output)
        return output

    def _keep(self, output):
        return output if output is self else type(self)._wrap_output(output, (self,))

    def clone(self, *args, **kwargs):
        """A copy, of this TVTensor's type and metadata."""
        return self._keep(ember.Tensor.clone(self, *args, **kwargs))

    def to(self, *args, **kwargs):
        """``Tensor.to``, keeping this TVTensor's type and metadata."""
        return self._keep(ember.Tensor.to(self, *args, **kwargs))

    def detach(self):
        """``Tensor.detach``, keeping this TVTensor's type and metadata."""
        return self._keep(ember.Tensor.detach(self))

    def pin_memory(self, *args, **kwargs):
        """``Tensor.pin_memory``, keeping this TVTensor's type and metadata."""
        return self._keep(ember.Tensor.pin_memory(self, *args, **kwargs))

    def _make_repr(self, **kwargs):
        extra = ", ".join(f"{key}={value}" for key, value in kwargs.items())
        return f"{ember.Tensor.__repr__(self)[:-1]}, {extra})"

    def __deepcopy__(self, memo):
        return self.detach().clone().requires_grad_(self.requires_grad)


def _first_tv_tensor(args):
    for arg in args:
        if isinstance(arg, TVTensor):
            return arg
        if isinstance(arg, (tuple, list)):
            found = _first_tv_tensor(arg)
            if found is not None:
                return found
    return None


def _keep_subclass_hook(op, args, kwargs, proceed):
    """While ``set_return_type("TVTensor")`` is on: an op given a TVTensor returns that TVTensor type."""
    output = proceed(args, kwargs)
    like = _first_tv_tensor(args)
    if like is None and kwargs:
        like = _first_tv_tensor(tuple(kwargs.values()))
    return output if like is None else type(like)._wrap_output(output, args)


class _ReturnTypeCM:
    def __init__(self, to_restore):
        self.to_restore = to_restore

    def __enter__(self):
        return self

    def __exit__(self, *args):
        _set_keep_subclass(self.to_restore)


def _keeps_subclass():
    return _keep_subclass_hook in _function.dispatch_hooks


def _set_keep_subclass(keep):
    if keep and not _keeps_subclass():
        _function.dispatch_hooks.append(_keep_subclass_hook)
    elif not keep and _keeps_subclass():
        _function.dispatch_hooks.remove(_keep_subclass_hook)


def set_return_type(return_type):
    """Whether ops on TVTensors return plain tensors ("Tensor", the default) or keep the TVTensor type ("TVTensor");
    a global switch, also usable as a context manager that restores the previous setting."""
    to_restore = _keeps_subclass()
    try:
        keep = {"tensor": False, "tvtensor": True}[return_type.lower()]
    except KeyError:
        raise ValueError(f"return_type must be 'TVTensor' or 'Tensor', got {return_type}") from None
    _set_keep_subclass(keep)
    return _ReturnTypeCM(to_restore)
