"""The TorchScript language helpers model code calls in eager mode too: ``is_scripting`` / ``is_tracing``,
``annotate``, ``Attribute``, ``Final``, ``interface``, ``isinstance`` on typed containers, ``fork`` / ``wait``,
``script_if_tracing``, and the ``Error`` / ``ScriptWarning`` types."""
import builtins
import collections
import contextlib
import functools
import types
import typing
import warnings

from .._scripting import scripting as _scripting
from ..autograd import function as _function
from .. import futures
from ..futures import Future

__all__ = ["is_scripting", "is_tracing", "annotate", "Attribute", "Final", "interface", "isinstance", "fork", "wait",
           "script_if_tracing", "Error", "ScriptWarning", "Future"]

Final = typing.Final


class Error(Exception):
    """The error a scripted program raises (PyTorch's ``torch.jit.Error``)."""


class ScriptWarning(Warning):
    """A warning about scripted code."""


class Attribute(collections.namedtuple("Attribute", ["value", "type"])):
    """Marks a module attribute's type for scripting; in eager code it is the (value, type) pair."""

    __slots__ = ()


def is_scripting():
    """True while ``jit.script`` compiles the calling code (so ``if not is_scripting():`` branches fold away)."""
    return _scripting.get()


@contextlib.contextmanager
def scripting():
    """While ``jit.script`` compiles: ``is_scripting()`` answers True."""
    token = _scripting.set(True)
    try:
        yield
    finally:
        _scripting.reset(token)


def tracing_state():
    """The tracer ``jit.trace`` is recording with, or None (``torch._C._get_tracing_state``)."""
    from ._trace import _Tracer
    return next((hook.__self__ for hook in _function.dispatch_hooks
                 if builtins.isinstance(getattr(hook, "__self__", None), _Tracer)), None)


def is_tracing():
    """True while ``jit.trace`` records the calling code."""
    return tracing_state() is not None


def annotate(the_type, the_value):
    """Gives ``the_value`` its type for the script compiler; returns it unchanged."""
    return the_value


def _deprecated(name):
    warnings.warn(f"`torch.jit.{name}` is deprecated. Please use `torch.compile` instead.", DeprecationWarning)


def interface(obj):
    """Declares a class an interface type for scripting; eager code uses the class as it is."""
    _deprecated("interface")
    if not builtins.isinstance(obj, type):
        raise RuntimeError("interface must be applied to a class")
    return obj


def fork(func, *args, **kwargs):
    """Runs ``func(*args, **kwargs)`` and returns a completed Future of its result (eager code runs it at once)."""
    _deprecated("fork")
    return futures.fork(func, *args, **kwargs)


def wait(future):
    """The result of a Future from ``fork``."""
    _deprecated("wait")
    return futures.wait(future)


def script_if_tracing(fn):
    """Calls ``fn`` as it is, or its scripted form while ``jit.trace`` records (the trace keeps the ops it runs)."""
    @functools.wraps(fn)
    def run(*args, **kwargs):
        if not is_tracing():
            return fn(*args, **kwargs)
        from ._script import script
        return script(fn)(*args, **kwargs)
    return run


_BARE = {dict: "dict", list: "list", tuple: "tuple", typing.Dict: "Dict", typing.List: "List",
         typing.Optional: "Optional", typing.Tuple: "Tuple"}


def isinstance(obj, target_type):
    """Python's isinstance that also checks typed containers (``List[int]``, ``Dict[str, Tensor]``, ``Optional``)
    element by element, as scripted code does; an empty container matches any element type (with a warning)."""
    if builtins.isinstance(target_type, collections.abc.Container):
        if not builtins.isinstance(target_type, tuple):
            raise RuntimeError("The second argument to `torch.jit.isinstance` must be a type or a tuple of types")
        return builtins.any(isinstance(obj, each) for each in target_type)
    if typing.get_origin(target_type):
        return _matches(obj, target_type)
    _require_element_types(target_type)
    return builtins.isinstance(obj, target_type)


def _require_element_types(target_type):
    name = _BARE.get(target_type)
    if name is None:
        return
    if name.endswith("ict"):
        raise RuntimeError(f"Attempted to use {name} without contained types. Please add contained type, e.g. "
                           f"{name}[int, int]")
    raise RuntimeError(f"Attempted to use {name} without a contained type. Please add a contained type, e.g. "
                       f"{name}[int]")


def _warn_if_empty(obj):
    if obj == [] or obj == {} or obj == ():
        warnings.warn("The inner type of a container is lost when calling torch.jit.isinstance in eager mode. For "
                      "example, List[int] would become list and therefore falsely return True for List[float] or "
                      "List[str].", stacklevel=3)


def _element(obj, element_type):
    return _matches(obj, element_type) if typing.get_origin(element_type) else builtins.isinstance(obj, element_type)


def _matches(obj, target_type):
    """Whether ``obj`` is of the parameterised type ``target_type`` (List, Dict, Tuple, Union / Optional)."""
    origin, arguments = typing.get_origin(target_type), typing.get_args(target_type)
    _require_element_types(target_type)
    if origin is list:
        _warn_if_empty(obj)
        return builtins.isinstance(obj, list) and builtins.all(_element(item, arguments[0]) for item in obj)
    if origin is dict:
        _warn_if_empty(obj)
        return builtins.isinstance(obj, dict) and builtins.all(
            builtins.isinstance(key, arguments[0]) and _element(value, arguments[1]) for key, value in obj.items())
    if origin is tuple:
        _warn_if_empty(obj)
        return builtins.isinstance(obj, tuple) and len(obj) == len(arguments) and builtins.all(
            _element(item, kind) for item, kind in zip(obj, arguments))
    if origin is typing.Union or origin is types.UnionType:
        if obj is None:   # TorchScript's rule: None belongs to every union
            return True
        for member in arguments:
            if typing.get_origin(member):   # the first container member decides, as in PyTorch
                return _matches(obj, member)
            if builtins.isinstance(obj, member):
                return True
    return False
