"""NumPy's keyword names that PyTorch's functions and Tensor methods also accept: ``axis=`` for ``dim``,
``keepdims=`` for ``keepdim``, and ``size=`` for the sizes of factory functions (``zeros(size=(2, 3))``)."""
import functools
import inspect

from .._warnings import transparent

_ALIASES = {"axis": "dim", "keepdims": "keepdim"}
_wrapped = {}


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
    return wrapper


def install(namespace, cls):
    """Replaces the functions of a module's namespace dict and the methods of ``cls`` by their accepting forms.

    A wrapper names the namespace (or ``cls`` there) as its home, where pickle finds it as the object it pickles
    (the wrapped function's module holds the function itself)."""
    homed = set()
    for name, value in list(namespace.items()):
        if inspect.isfunction(value) and not name.startswith("_"):
            namespace[name] = accepting_numpy_keywords(value)
            _home(namespace[name], value, namespace["__name__"], name, homed)
    for name, value in list(vars(cls).items()):
        if inspect.isfunction(value) and not name.startswith("__"):
            setattr(cls, name, accepting_numpy_keywords(value))
            _home(vars(cls)[name], value, namespace["__name__"], f"{cls.__name__}.{name}", homed)


def _home(wrapper, function, module, qualname, homed):
    if wrapper is not function and id(wrapper) not in homed:
        homed.add(id(wrapper))
        wrapper.__module__, wrapper.__qualname__ = module, qualname
