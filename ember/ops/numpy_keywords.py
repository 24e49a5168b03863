"""NumPy's keyword names that PyTorch's native functions and Tensor methods also accept: ``axis=`` for ``dim``,
``keepdims=`` for ``keepdim``, ``x=``, ``a=`` and ``x1=`` for ``input``, ``x2=`` for ``other``, and ``size=`` for the
sizes of factory functions (``zeros(size=(2, 3))``)."""
import functools
import inspect

from .._warnings import transparent

_ALIASES = {"axis": "dim", "keepdims": "keepdim", "x": "input", "a": "input", "x1": "input", "x2": "other"}
# Written in Python in PyTorch, not by its argument parser: they take none of the aliases.
_PYTHON_FUNCTIONS = {"ember": frozenset({"norm", "split", "stft", "unique", "unique_consecutive"})}
_PYTHON_METHODS = frozenset({"norm", "split", "unflatten", "unique", "unique_consecutive"})
_wrapped = {}     # function -> its accepting wrapper
_originals = {}   # wrapper -> the function it wraps
_homed = set()   # ids of the wrappers given a home: the first namespace installed keeps it


def accepting_numpy_keywords(function):
    """``function``, or a wrapper of it that renames NumPy's keywords, when its signature has their PyTorch names."""
    if function in _wrapped or getattr(function, "__wrapped__", None) in _wrapped:
        return _wrapped.get(function, function)
    code = getattr(inspect.unwrap(function), "__code__", None)
    if code is None:
        return function
    parameters = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]  # read from the code: fast at import
    aliases = {alias: name for alias, name in _ALIASES.items() if name in parameters and alias not in parameters}
    sizes = bool(code.co_flags & inspect.CO_VARARGS) and code.co_varnames[len(parameters)] == "size"
    bound = 1 if code.co_argcount and parameters[0] == "self" else 0   # a Tensor method's self precedes the sizes
    if not aliases and not sizes:
        return function

    @transparent
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if kwargs:
            for alias, name in aliases.items():
                if alias in kwargs:
                    if name in kwargs:
                        raise TypeError(f"{function.__name__}() got multiple values for argument '{name}'")
                    kwargs[name] = kwargs.pop(alias)
            if sizes and "size" in kwargs:
                if len(args) > bound:
                    raise TypeError(f"{function.__name__}() got multiple values for argument 'size'")
                if isinstance(kwargs["size"], (int, float)):   # a number is a size only by position, as in PyTorch
                    raise TypeError(f"{function.__name__}(): argument 'size' must be tuple of ints, not "
                                    f"{type(kwargs['size']).__name__}")
                args = args[:bound] + (kwargs.pop("size"),)
        try:
            return function(*args, **kwargs)
        except Exception:   # arguments of the wrong types get PyTorch's TypeError
            from .. import _arg_parser   # (loaded on errors only)
            _arg_parser.check_call(function, args, kwargs)
            raise
    _wrapped[function] = wrapper
    _originals[wrapper] = function
    return wrapper


def original(function):
    """The function behind an accepting wrapper, else ``function`` (unhashable callables included)."""
    try:
        return _originals.get(function, function)
    except TypeError:
        return function


def install(namespace, cls=None, names=None):
    """Replaces the functions of a module's namespace dict (those in ``names`` if given) and the methods of ``cls``
    by their accepting forms.

    A wrapper names the namespace (or ``cls`` there) as its home, where pickle finds it as the object it pickles
    (the wrapped function's module holds the function itself)."""
    python = _PYTHON_FUNCTIONS.get(namespace["__name__"], ())
    for name, value in list(namespace.items()):
        if inspect.isfunction(value) and not name.startswith("_") and name not in python and (
                names is None or name in names):
            namespace[name] = accepting_numpy_keywords(value)
            _home(namespace[name], value, namespace["__name__"], name)
    for name, value in list(vars(cls).items()) if cls is not None else ():
        if inspect.isfunction(value) and not name.startswith("__") and name not in _PYTHON_METHODS:
            setattr(cls, name, accepting_numpy_keywords(value))
            _home(vars(cls)[name], value, namespace["__name__"], f"{cls.__name__}.{name}")


def _home(wrapper, function, module, qualname):
    if wrapper is not function and id(wrapper) not in _homed:
        _homed.add(id(wrapper))
        wrapper.__module__, wrapper.__qualname__ = module, qualname
