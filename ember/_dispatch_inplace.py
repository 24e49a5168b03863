"""In-place methods for ``__torch_dispatch__`` handlers: ``x.add_(y)`` reaches them as ``aten.add_.Tensor``.

ember computes ``Tensor.<op>_`` as the op and a write into the tensor, so its applications would be handed as the
op and ``copy_``. While the hook of ``_python_dispatch`` is installed, ``Tensor`` holds wrappers of the in-place
methods (``ops._inplace.methods``, and ``copy_``, ``zero_``, ``fill_``) that hand the call whole, as PyTorch's
in-place ATen op, and run the method below the handlers; at other times the methods themselves: no cost.
"""
import functools

from . import _python_dispatch as _pd
from ._tensor import Tensor

_ALWAYS_TENSOR = ("add_", "sub_", "mul_", "div_")   # PyTorch's Tensor overloads, a number as `other` included
_saved = {}


def _overload(name, args):
    """``torch.ops.aten.<name>.<overload>`` for the call's arguments, or None where PyTorch has no such operator."""
    from .library._aten import _overload_names, aten
    overloads = _overload_names().get(name)
    if not overloads:
        return None
    tensor_other = len(args) > 0 and isinstance(args[0], Tensor)
    preferred = ("Tensor",) if name in _ALWAYS_TENSOR else (("Tensor" if tensor_other else "Scalar",)
                                                            if args and name != "copy_" else ())
    for choice in preferred + ("default", "Tensor", "Scalar"):
        if choice in overloads:
            return getattr(getattr(aten, name), choice)
    return getattr(getattr(aten, name), overloads[0])


def _wrapper(name, method):
    @functools.wraps(method)
    def handed(self, *args, **kwargs):
        state = _pd.state
        if state.below or not (state.modes or _pd._types((self,) + args, kwargs)):
            return method(self, *args, **kwargs)
        if not state.modes and _pd._grad.enabled and any(isinstance(a, Tensor) and a.requires_grad
                                                         for a in (self,) + args):
            return method(self, *args, **kwargs)   # a wrapper to differentiate: autograd records the op and write
        func = _overload(name, args)
        if func is None:
            return method(self, *args, **kwargs)
        return _pd.handed(func, (self,) + args, kwargs, lambda: method(self, *args, **kwargs))
    handed.handed_method = method
    return handed


def install():
    """Puts the handing wrappers on ``Tensor`` (not where one already stands inside another protocol's wrapper)."""
    from .ops import _inplace
    for name in [name for name, _ in _inplace.methods] + ["copy_", "zero_", "fill_"]:
        current = Tensor.__dict__.get(name)
        if current is not None and getattr(current, "handed_method", None) is None:
            wrapper = _wrapper(name, current)
            _saved[name] = (current, wrapper)
            setattr(Tensor, name, wrapper)


def uninstall():
    """Puts the methods back where the wrappers still stand themselves."""
    for name, (method, wrapper) in list(_saved.items()):
        if Tensor.__dict__.get(name) is wrapper:
            setattr(Tensor, name, method)
        del _saved[name]
