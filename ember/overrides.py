"""PyTorch's ``torch.overrides``: the ``__torch_function__`` protocol.

A Tensor subclass, or any class defining ``__torch_function__`` (a "tensor-like"), takes over the public functions
called with it: ``torch.add(x, 1)``, ``x.add(1)``, ``x + 1``, ``F.relu(x)``, ``nn.init.zeros_(x)`` call
``type(x).__torch_function__(func, types, args, kwargs)`` instead. ``Tensor.__torch_function__`` (the default a
subclass inherits) runs the function with subclass dispatch off and returns tensors as the subclass, so
``x.as_subclass(MyTensor) + 1`` is a ``MyTensor``. A ``TorchFunctionMode`` entered with ``with`` sees every public
call, factories included, while it is on the stack.

The check costs nothing until a program uses the protocol: the public functions of ember's namespaces and Tensor's
methods are replaced by dispatching wrappers (``_install``) the first time a Tensor subclass outside ember defines or
inherits a ``__torch_function__`` that is not ``_disabled_torch_function_impl``, or a mode is entered. From then on
each call checks its arguments' types (a dict lookup per argument). A tensor-like class that is not a Tensor
subclass is dispatched once the wrappers are installed: ``import ember.overrides`` does not install them, but any of
these do, and so do ``has_torch_function`` finding one, ``handle_torch_function`` and
``enable_torch_function_dispatch()``. Until then a tensor-like passed straight to an ember function gets that
function's type error. ember's own subclasses
(Parameter, Buffer, vmap's BatchedTensor, quantized and sparse tensors, torchvision's TVTensors) are never
dispatched, as PyTorch's Parameter is not: they keep their own mechanisms. The exception is a class that sets
``_takes_over_calls`` (DTensor): dispatched as a user's subclass, installing the wrappers on its first instance.
"""
import functools
import importlib
import sys
import threading
import types

from . import _alias
from ._tensor import Tensor
from . import _tensor
from ._warnings import transparent
from .ops import numpy_keywords as _numpy_keywords

__all__ = ["get_ignored_functions", "get_overridable_functions", "get_testing_overrides", "handle_torch_function",
           "has_torch_function", "has_torch_function_unary", "has_torch_function_variadic", "is_tensor_like",
           "is_tensor_method_or_property", "resolve_name", "wrap_torch_function", "enable_reentrant_dispatch",
           "TorchFunctionMode", "BaseTorchFunctionMode"]

_NAMESPACES = ("", "nn.functional", "linalg", "fft", "special", "nn.init")
_PREFIXED = {"ember.linalg": "linalg_", "ember.fft": "fft_", "ember.special": "special_"}

# Functions of the torch namespace that only read or set settings, or build things that are not tensors: PyTorch's
# ignored functions that are not factories (its modes see factories; no argument can carry a __torch_function__).
_NOT_DISPATCHED = frozenset("""
are_deterministic_algorithms_enabled autocast_decrement_nesting autocast_increment_nesting broadcast_shapes
can_cast clear_autocast_cache compile cond fork get_autocast_cpu_dtype get_autocast_dtype get_autocast_gpu_dtype
get_autocast_ipu_dtype get_autocast_xla_dtype get_default_device get_default_dtype get_deterministic_debug_mode
get_device_module get_float32_matmul_precision get_num_interop_threads get_num_threads get_rng_state
init_num_threads initial_seed is_anomaly_check_nan_enabled is_anomaly_enabled is_autocast_cache_enabled
is_autocast_cpu_enabled is_autocast_enabled is_autocast_ipu_enabled is_autocast_xla_enabled
is_deterministic_algorithms_warn_only_enabled is_grad_enabled is_inference_mode_enabled is_storage is_tensor
is_vulkan_available is_warn_always_enabled load manual_seed promote_types result_type save seed set_anomaly_enabled
set_autocast_cache_enabled set_autocast_cpu_dtype set_autocast_cpu_enabled set_autocast_dtype set_autocast_enabled
set_autocast_gpu_dtype set_autocast_ipu_dtype set_autocast_ipu_enabled set_autocast_xla_dtype
set_autocast_xla_enabled set_default_device set_default_dtype set_default_tensor_type set_deterministic_debug_mode
set_float32_matmul_precision set_flush_denormal set_num_interop_threads set_num_threads set_printoptions
set_rng_state set_warn_always typename unify_type_list use_deterministic_algorithms vmap wait
assert_int_or_pair boolean_dispatch handle_torch_function has_torch_function has_torch_function_unary
has_torch_function_variadic calculate_gain fftfreq rfftfreq is_nonzero get_file_path
""".split())

# Tensor attributes that are not dispatched: object protocol, pickling, NumPy's and DLPack's hooks, construction.
_TENSOR_NOT_DISPATCHED = frozenset("""
__new__ __init__ __init_subclass__ __getattribute__ __getattr__ __setattr__ __delattr__ __dir__ __sizeof__
__reduce__ __reduce_ex__ __getstate__ __setstate__ __deepcopy__ __copy__ __array__ __array_wrap__
__array_priority__ __array_ufunc__ __array_function__ __dlpack__ __dlpack_device__ __hash__ __class__
__torch_function__ __weakref__ __dict__ __slots__ __module__ __doc__ __subclasshook__ __class_getitem__
as_subclass _make_subclass
""".split())
# Tensor's own methods among them, as ember made them: they dispatch under no name (fastai keeps the original as
# ``torch.as_subclass = torch.Tensor.as_subclass`` and then patches the method).
_PLAIN_METHODS = frozenset(vars(Tensor)[name] for name in _TENSOR_NOT_DISPATCHED
                           if isinstance(vars(Tensor).get(name), types.FunctionType))


# Operators whose handlers are given the named method, as PyTorch's (``x + 1`` calls them with ``Tensor.add``).
_OPERATOR_METHODS = {"__add__": "add", "__radd__": "add", "__iadd__": "add_", "__sub__": "sub", "__isub__": "sub_",
                     "__mul__": "mul", "__rmul__": "mul", "__imul__": "mul_", "__truediv__": "div",
                     "__div__": "div", "__itruediv__": "div_", "__ifloordiv__": "floor_divide_",
                     "__mod__": "remainder", "__imod__": "remainder_", "__matmul__": "matmul", "__neg__": "neg",
                     "__pos__": "positive", "__abs__": "abs", "__lt__": "lt", "__le__": "le", "__gt__": "gt",
                     "__ge__": "ge", "__ne__": "ne", "__rand__": "bitwise_and", "__ror__": "bitwise_or",
                     "__rxor__": "bitwise_xor"}

# The properties whose results a subclass's default __torch_function__ converts (``x.data``, ``x.T``).
_TENSOR_PROPERTIES = ("data", "T", "mT", "H", "mH", "real", "imag")


class _State(threading.local):
    """This thread's torch-function state: the mode stack and the two switches of ``torch._C``."""
    modes = ()
    subclasses_off = False   # DisableTorchFunctionSubclass
    all_off = False          # DisableTorchFunction


_state = _State()
_installed = False
_names = {}        # wrapper -> "torch.nn.functional.relu", for resolve_name
_dispatched = {}   # type -> True where its instances take over calls (a dict lookup per argument)


def _disabled_torch_function_impl(func, types, args=(), kwargs=None):
    """The ``__torch_function__`` of classes that opt out of the protocol (PyTorch's Parameter): calls ``func``
    with subclass dispatch off and returns its result unchanged."""
    with DisableTorchFunctionSubclass():
        return func(*args, **(kwargs or {}))


_disabled_torch_function_impl = classmethod(_disabled_torch_function_impl)
_DISABLED = _disabled_torch_function_impl.__func__


def _takes_over(cls):
    """Whether instances of ``cls`` dispatch calls to their ``__torch_function__`` (computed once per type)."""
    found = _dispatched.get(cls)
    if found is None:
        handler = getattr(cls, "__torch_function__", None)
        function = getattr(handler, "__func__", handler)
        own = _alias.is_ember_module(cls.__module__)
        found = handler is not None and function is not _DISABLED and not (
            issubclass(cls, Tensor) and (cls is Tensor or own and not getattr(cls, "_takes_over_calls", False))) \
            and not (
            not own and (cls.__module__ or "").split(".")[0] == "torch" and not issubclass(cls, Tensor))
        # (the last: real PyTorch's tensors given to ember are data)
        _dispatched[cls] = found
    return found


class DisableTorchFunctionSubclass:
    """Context manager: within it, Tensor subclasses and tensor-likes no longer take over calls (modes still
    do). ``Tensor.__torch_function__`` runs the function inside one."""

    def __enter__(self):
        self._previous, _state.subclasses_off = _state.subclasses_off, True
        return self

    def __exit__(self, *exc):
        _state.subclasses_off = self._previous


class DisableTorchFunction:
    """Context manager: within it, neither modes nor subclasses take over calls."""

    def __enter__(self):
        self._previous, _state.all_off = _state.all_off, True
        return self

    def __exit__(self, *exc):
        _state.all_off = self._previous


def _is_torch_function_enabled():
    """False inside ``DisableTorchFunctionSubclass`` or ``DisableTorchFunction``."""
    return not (_state.subclasses_off or _state.all_off)


def _is_torch_function_mode_enabled():
    """True while a ``TorchFunctionMode`` is on this thread's stack and not disabled."""
    return bool(_state.modes) and not _state.all_off


# --- which arguments take over -------------------------------------------------------------------------------

def _overloaded(args, kwargs):
    """The arguments (and elements of list or tuple arguments) whose types take over the call, one per type, in
    order of appearance with subclasses before their bases, as PyTorch collects them."""
    found = []
    for value in (args if not kwargs else tuple(args) + tuple(kwargs.values())):
        cls = type(value)
        if cls is list or cls is tuple:
            for item in value:
                if _takes_over(type(item)):
                    _add(found, item)
        elif _takes_over(cls):
            _add(found, value)
    return found


def _add(found, value):
    cls = type(value)
    if any(type(other) is cls for other in found):
        return
    for index, other in enumerate(found):   # a subclass goes before the first of its bases
        if issubclass(cls, type(other)):
            found.insert(index, value)
            return
    found.append(value)


def _needs_dispatch(args, kwargs):
    state = _state
    if state.all_off:
        return False
    if state.modes:
        return True
    if state.subclasses_off:
        return False
    for value in args:
        cls = type(value)
        taken = _dispatched.get(cls)
        if taken or (taken is None and _takes_over(cls)):
            return True
        if (cls is list or cls is tuple) and value and any(_takes_over(type(item)) for item in value):
            return True
    return bool(kwargs) and _needs_dispatch(tuple(kwargs.values()), None)


@transparent
def _dispatch(public, args, kwargs, relevant=None):
    """Calls the top mode's, then each overloaded argument type's ``__torch_function__`` until one returns something
    other than NotImplemented. ``relevant``: the arguments to look at, where not all of ``args`` and ``kwargs``."""
    kwargs = {} if kwargs is None else kwargs
    if _state.subclasses_off:
        overloaded = []
    else:
        overloaded = _overloaded(args, kwargs) if relevant is None else _overloaded(tuple(relevant), None)
    type_list = tuple(type(value) for value in overloaded)
    tried = []
    if _state.modes and not _state.all_off:
        mode = _state.modes[-1]
        with _mode_popped():
            result = mode.__torch_function__(public, type_list, args, kwargs)
        if result is not NotImplemented:
            return result
        tried.append(f"mode object {mode!r}")
    for value in overloaded:
        result = type(value).__torch_function__(public, type_list, args, kwargs)
        if result is not NotImplemented:
            return result
        tried.append(f"tensor subclass {type(value)!r}")
    raise TypeError(f"Multiple dispatch failed for '{resolve_name(public)}'; all __torch_function__ handlers "
                    "returned NotImplemented:\n\n" + "".join(f"  - {entry}\n" for entry in tried) +
                    "\nFor more information, try re-running with TORCH_LOGS=not_implemented")


# --- the wrappers ----------------------------------------------------------------------------------------------

def _overridable(function, name, home, qualname, public=None):
    """``function`` as a public function that dispatches through the protocol when an argument or a mode asks;
    handlers are given ``public`` as the function called (default: the wrapper itself). ``home`` and ``qualname``
    say where it is found, so that pickle finds it there."""
    @transparent   # warnings name the caller's line, as PyTorch's (no such frame there)
    def dispatching(*args, **kwargs):
        if _needs_dispatch(args, kwargs):
            return _dispatch(public or dispatching, args, kwargs)
        return function(*args, **kwargs)
    functools.update_wrapper(dispatching, function)
    # named as installed (Tensor.__setitem__ is _setitem, torch.absolute is abs): handlers read PyTorch's names
    dispatching.__module__, dispatching.__qualname__ = home, qualname
    dispatching.__name__ = qualname.rpartition(".")[2]
    _names[dispatching] = name
    return dispatching


def _namespaces():
    """ember's op namespaces whose public functions dispatch (``ember``, ``ember.nn.functional``, ...)."""
    return [importlib.import_module("ember" + ("." + suffix if suffix else "")) for suffix in _NAMESPACES]


def _dispatched_functions(module):
    """``(name, function)`` of ``module``'s public functions that dispatch (wrapped or not yet); a namespace whose
    PyTorch functions are Python that dispatches only some of them (``nn.init``) names those in ``_DISPATCHED``."""
    only = getattr(module, "_DISPATCHED", None)
    return [(name, value) for name, value in list(vars(module).items())
            if not name.startswith("_") and name not in _NOT_DISPATCHED and isinstance(value, types.FunctionType)
            and value not in _PLAIN_METHODS and (unwrapped(value).__module__ or "").startswith("ember")
            and (only is None or name in only)]


def _dispatched_methods():
    """``(name, function)`` of Tensor's methods and operators that dispatch."""
    return [(name, value) for name, value in vars(Tensor).items()
            if name not in _TENSOR_NOT_DISPATCHED and isinstance(value, types.FunctionType)
            and (not name.startswith("_") or name.startswith("__") and name.endswith("__"))]


def _install():
    """Replaces the public functions of ember's namespaces and Tensor's methods by dispatching wrappers (once)."""
    global _installed
    if _installed:
        return
    _installed = True
    from . import _alias
    root = _alias.package()
    for module in _namespaces():
        for name, value in _dispatched_functions(module):
            setattr(module, name, _wrapper(module, name, value))
    rebind_libraries()
    for name, value in sorted(_dispatched_methods(), key=lambda item: item[0] in _OPERATOR_METHODS):   # named first
        public = vars(Tensor).get(_OPERATOR_METHODS.get(name))
        setattr(Tensor, name, _overridable(value, f"{root}.Tensor.{name}", root, f"Tensor.{name}",
                                           public if public in _names else None))
    for name in _TENSOR_PROPERTIES:
        value = vars(Tensor).get(name)
        if isinstance(value, property):
            getter = _overridable(value.fget, f"{root}.Tensor.{name}.__get__", root, f"Tensor.{name}")
            setattr(Tensor, name, property(getter, value.fset, value.fdel, value.__doc__))


def _wrapper(module, name, value):
    """The dispatching wrapper of ``module``'s public function ``name`` (made once per function)."""
    wrapped = _wrapped
    if id(value) not in wrapped:
        from . import _alias
        home = _alias.public_name(module.__name__) if _alias.installed else module.__name__
        wrapped[id(value)] = _overridable(value, f"{_alias.package()}{module.__name__[len('ember'):]}.{name}", home,
                                          name)
        if module.__name__ in _PREFIXED:   # PyTorch's torch.linalg.qr is named linalg_qr (its ATen op's name)
            wrapped[id(value)].__name__ = _PREFIXED[module.__name__] + name
        if value.__module__ == module.__name__ and value.__qualname__ == name:
            value.__qualname__ = f"{name}.__wrapped__"   # where pickle finds it now (kept references)
    inner = getattr(value, "__wrapped__", None)   # the op behind a keyword-renaming wrapper, which
    while isinstance(inner, types.FunctionType):   # library modules may hold instead
        _inner_wrapped.setdefault(id(inner), wrapped[id(value)])
        inner = getattr(inner, "__wrapped__", None)
    return wrapped[id(value)]


def loaded_on_first_use(module, name, value):
    """``value``, a name of ``module`` that loads on first use (``ember.gru_cell``), as the namespace holds it: its
    dispatching wrapper when the wrappers are installed already and it is a public function, else itself."""
    if _installed and (name, value) in _dispatched_functions(types.SimpleNamespace(**{name: value})):
        return _wrapper(module, name, value)
    return value


_LIBRARY_PACKAGES = ("ember.distributions", "ember.functional")
"""ember's packages that are Python code on the public API in PyTorch (``torch.distributions`` calls
``torch.broadcast_tensors``, ``F.binary_cross_entropy_with_logits``...; ``torch.functional`` defines ``torch.norm``
and kin): the public functions they hold under their own names are rebound to the dispatching wrappers too, so
tensor subclasses see those calls as in PyTorch and ``torch.functional.norm is torch.norm`` stays true."""
_wrapped = {}   # id(public function) -> its dispatching wrapper, once installed
_inner_wrapped = {}   # id(function a public one wraps, e.g. stack behind its NumPy-keyword form) -> that wrapper


def rebind_libraries():
    """Points the loaded library modules' globals that are public ember functions at their dispatching wrappers
    (when installed; a library package imported later calls this at the end of its import)."""
    if not _wrapped:
        return
    for name, module in list(sys.modules.items()):
        if name.startswith(_LIBRARY_PACKAGES) and module is not None:
            for attribute, value in list(vars(module).items()):
                if isinstance(value, types.FunctionType):
                    wrapper = _wrapped.get(id(value)) or _inner_wrapped.get(id(value))
                    if wrapper is not None:
                        setattr(module, attribute, wrapper)


def unwrapped(function):
    """The function behind a dispatching wrapper and the NumPy-keyword wrapper under it (tables keyed by ember's
    functions look it up), else ``function``."""
    try:
        function = function.__wrapped__ if function in _names else function
    except TypeError:   # unhashable
        return function
    return _numpy_keywords.original(function)


def enable_torch_function_dispatch():
    """Installs the dispatching wrappers now (ember's own switch; they install themselves when a Tensor subclass
    with ``__torch_function__`` is defined or a mode is entered). Tensor-like classes that are not Tensor
    subclasses take over calls from then on."""
    _install()


def _on_subclass(cls):
    if _takes_over(cls) and not _alias.is_ember_module(cls.__module__):   # ember's own install on first use
        _install()


# --- PyTorch's public helpers ----------------------------------------------------------------------------------

@transparent
def _tensor_torch_function(cls, func, types, args=(), kwargs=None):
    """The default ``__torch_function__`` of Tensor subclasses: runs ``func`` with subclass dispatch off and returns
    its tensors (also inside lists and tuples) as ``cls``."""
    if kwargs is None:
        kwargs = {}
    if not all(issubclass(cls, t) for t in types):
        return NotImplemented
    with DisableTorchFunctionSubclass():
        return _convert(func(*args, **kwargs), cls)


def _convert(result, cls):
    if cls is Tensor:
        return result
    if isinstance(result, Tensor) and not isinstance(result, cls):
        return result.as_subclass(cls)
    if isinstance(result, (tuple, list)):
        items = (_convert(item, cls) for item in result)
        return type(result)._make(items) if hasattr(type(result), "_make") else type(result)(items)
    return result


def has_torch_function(relevant_args):
    """True when a mode is active or an element of ``relevant_args`` takes over calls (a Tensor subclass with
    ``__torch_function__``, or a tensor-like). A True answer installs the dispatch (a tensor-like seen)."""
    found = _needs_dispatch(tuple(relevant_args), None)
    if found and not _installed:
        _install()
    return found


def has_torch_function_unary(argument):
    """``has_torch_function((argument,))``."""
    return has_torch_function((argument,))


def has_torch_function_variadic(*arguments):
    """``has_torch_function(arguments)``."""
    return has_torch_function(arguments)


def handle_torch_function(public_api, relevant_args, *args, **kwargs):
    """Dispatches a call of ``public_api`` (a function written with ``has_torch_function``) to the active mode and the
    ``__torch_function__`` of ``relevant_args``' types; raises TypeError if every one returns NotImplemented."""
    _install()
    return _dispatch(public_api, args, kwargs, relevant_args)


def is_tensor_like(inp):
    """True for tensors, Tensor subclasses and objects (or classes) that define ``__torch_function__``."""
    return type(inp) is Tensor or hasattr(inp, "__torch_function__")


def is_tensor_method_or_property(func):
    """True for Tensor's methods and property getters (``Tensor.add``, ``Tensor.shape.__get__``)."""
    owner = getattr(func, "__self__", None)
    if isinstance(owner, property):
        return any(getattr(value, "fget", None) is func or value is owner for value in vars(Tensor).values())
    name = getattr(func, "__name__", None)
    return name is not None and vars(Tensor).get(name) is func


def resolve_name(f):
    """The public name of an overridable function (``'torch.nn.functional.relu'``), or None."""
    name = _names.get(f)
    if name is not None:
        return name
    module = getattr(f, "__module__", None)
    qualname = getattr(f, "__qualname__", None)
    if module and qualname and module.split(".")[0] == "ember":
        from ._alias import public_name
        for namespace in _namespaces():
            if getattr(namespace, f.__name__, None) is f:
                return public_name(namespace.__name__) + "." + f.__name__
        if vars(Tensor).get(f.__name__) is f:
            return public_name("ember") + ".Tensor." + f.__name__
    return None


def get_ignored_functions():
    """The public functions no argument can take over (settings, seeds, save/load, ...)."""
    return {value for module in _namespaces() for name, value in vars(module).items()
            if name in _NOT_DISPATCHED and callable(value) and not isinstance(value, type)}


def get_overridable_functions():
    """``{namespace: [functions]}`` of the functions that dispatch through ``__torch_function__`` (the namespaces'
    public functions and Tensor's methods)."""
    result = {module: [value for _, value in _dispatched_functions(module)] for module in _namespaces()}
    result[Tensor] = [value for _, value in _dispatched_methods()]
    return result


def get_testing_overrides():
    """``{function: lambda with its signature returning -1}`` for the overridable functions, as PyTorch gives for
    testing ``__torch_function__`` implementations."""
    import inspect
    overrides = {}
    for functions in get_overridable_functions().values():
        for function in functions:
            try:
                signature = inspect.signature(function)
            except (TypeError, ValueError):
                signature = inspect.Signature()
            overrides[function] = _returning_minus_one(signature)
    return overrides


def _returning_minus_one(signature):
    def dummy(*args, **kwargs):
        signature.bind(*args, **kwargs)
        return -1
    dummy.__signature__ = signature
    return dummy


def wrap_torch_function(dispatcher):
    """Decorator: makes a function dispatch through ``__torch_function__`` on the arguments ``dispatcher`` returns
    (called with the function's own arguments)."""
    def decorate(func):
        @functools.wraps(func)
        def wrapped(*args, **kwargs):
            relevant = dispatcher(*args, **kwargs)
            if has_torch_function(relevant):
                return handle_torch_function(wrapped, relevant, *args, **kwargs)
            return func(*args, **kwargs)
        return wrapped
    return decorate


class enable_reentrant_dispatch:
    """Context manager for re-entering dispatch from a handler (a no-op: ember has no C++ dispatcher below the
    Python functions, so calls made inside a handler already dispatch again)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


# --- modes ------------------------------------------------------------------------------------------------------

class _mode_popped:
    """Takes the top mode off this thread's stack while its handler runs (calls made inside see the modes below)."""

    def __enter__(self):
        self.mode = _pop_mode()

    def __exit__(self, *exc):
        _push_mode(self.mode)


def _push_mode(mode):
    _install()
    _state.modes = _state.modes + (mode,)


def _pop_mode():
    if not _state.modes:
        raise RuntimeError("Trying to pop from an empty mode stack")
    mode = _state.modes[-1]
    _state.modes = _state.modes[:-1]
    return mode


def _get_current_function_mode():
    """The mode on top of this thread's stack, or None."""
    return _state.modes[-1] if _state.modes else None


def _get_current_function_mode_stack():
    """This thread's modes, bottom first."""
    return list(_state.modes)


def _len_torch_function_stack():
    return len(_state.modes)


class TorchFunctionMode:
    """Base class of torch-function modes: while one is entered (``with Mode():``), its ``__torch_function__(func,
    types, args, kwargs)`` is called for every public function call on this thread, with the mode itself off the
    stack, so calls made inside it go on to the modes below or to the function."""

    def __init__(self):
        pass

    def __torch_function__(self, func, types, args=(), kwargs=None):
        raise NotImplementedError()

    def __enter__(self):
        _push_mode(self)
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        _pop_mode()

    @classmethod
    def push(cls, *args, **kwargs):
        """Deprecated in PyTorch: makes the mode; enter it with ``with``."""
        import warnings
        warnings.warn("`Mode.push()` is no longer necessary and can be replaced with just `with Mode()`")
        return cls(*args, **kwargs)


class BaseTorchFunctionMode(TorchFunctionMode):
    """A mode that calls each function unchanged: subclass it and override what you need."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        return func(*args, **(kwargs or {}))


Tensor.__torch_function__ = classmethod(_tensor_torch_function)
_tensor.subclass_hooks.append(_on_subclass)
for _cls in list(_tensor.all_subclasses()):
    _on_subclass(_cls)
