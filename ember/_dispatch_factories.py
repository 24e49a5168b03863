"""Factories for ``__torch_dispatch__`` handlers: ``torch.zeros``, ``randn``, ``arange``, ``zeros_like``, ...

Factories make tensors outside ember's dispatch point, so while the hook of ``_python_dispatch`` is installed (a
mode on, or a wrapper subclass instance alive) the ``ember`` namespace holds wrappers that hand each call to the
handlers as PyTorch's ATen factory (``aten.zeros.default([2, 3], device=cpu, pin_memory=False)``) and run the
factory itself below them. Outside those times the namespace holds the factories themselves: no cost.
"""
import functools
import numbers

from . import _python_dispatch as _pd
from ._tensor import Tensor

_SIZED = {"zeros": "default", "ones": "default", "empty": "memory_format", "randn": "default", "rand": "default"}
_LIKE = ("zeros_like", "ones_like", "empty_like", "full_like", "randn_like", "rand_like")
_saved = {}


def _aten(name, overload):
    from .library._aten import aten
    return getattr(getattr(aten, name), overload)


def _size(args):
    if len(args) == 1 and not isinstance(args[0], numbers.Integral):
        return [int(s) for s in args[0]]
    return [int(s) for s in args]


def _options(kwargs):
    """The keywords PyTorch's factories hand on: dtype and layout where given, the device, ``pin_memory``."""
    import ember
    options = {k: kwargs[k] for k in ("dtype", "layout") if kwargs.get(k) is not None}
    device = kwargs.get("device")
    options["device"] = ember.device(device) if device is not None else ember.get_default_device()
    options["pin_memory"] = bool(kwargs.get("pin_memory", False))
    if kwargs.get("generator") is not None:
        options["generator"] = kwargs["generator"]
    return options


def _aten_call(name, args, kwargs):
    """(operator, args, kwargs) PyTorch's dispatcher gets for the factory call, or None where ember runs it as is
    (``out=``)."""
    if kwargs.get("out") is not None:
        return None
    if name in _SIZED:
        return _aten(name, _SIZED[name]), (_size(args),), _options(kwargs)
    if name == "full":
        size = args[0] if args else kwargs["size"]
        fill = args[1] if len(args) > 1 else kwargs["fill_value"]
        return _aten("full", "default"), ([int(s) for s in size], fill), _options(kwargs)
    if name == "arange":
        bounds = [a for a in args] + [kwargs[k] for k in ("start", "end", "step") if k in kwargs]
        overload = {1: "default", 2: "start", 3: "start_step"}[len(bounds)]
        return _aten("arange", overload), tuple(bounds), _options(kwargs)
    options = {k: kwargs[k] for k in ("dtype", "layout", "device", "memory_format") if kwargs.get(k) is not None}
    options["pin_memory"] = False
    if kwargs.get("generator") is not None:
        options["generator"] = kwargs["generator"]
    return _aten(name, "default"), tuple(args[:2 if name == "full_like" else 1]), options


def _wrapper(name, factory):
    @functools.wraps(factory)
    def handed(*args, **kwargs):
        state = _pd.state
        if state.below or not (state.modes or (name in _LIKE and args and isinstance(args[0], Tensor)
                                               and type(args[0])._dispatches)):
            return factory(*args, **kwargs)
        call = _aten_call(name, args, kwargs)
        if call is None:
            return factory(*args, **kwargs)
        func, aten_args, aten_kwargs = call
        return _pd.handed(func, aten_args, aten_kwargs, lambda: factory(*args, **kwargs))
    handed.handed_factory = factory
    return handed


def install():
    """Puts the handing wrappers in the ``ember`` namespace (not where one already stands inside another protocol's
    wrapper, which copied its ``handed_factory``)."""
    import ember
    for name in (*_SIZED, "full", "arange", *_LIKE):
        current = getattr(ember, name)
        if getattr(current, "handed_factory", None) is None:
            wrapper = _wrapper(name, current)
            _saved[name] = (current, wrapper)
            setattr(ember, name, wrapper)


def uninstall():
    """Puts the factories back where the wrappers still stand themselves (one another protocol has wrapped since
    stays inside that wrapper, and hands nothing while the hook is off)."""
    import ember
    for name, (factory, wrapper) in list(_saved.items()):
        if getattr(ember, name) is wrapper:
            setattr(ember, name, factory)
        del _saved[name]
