"""``autocast``: regions where each listed op casts its inputs by PyTorch's per-device policy (``policy.py``).

The listed ops are composites registered under their ATen names (``autograd.function.composite``), so each public
call is one dispatch. While any region is enabled, a hook at the single dispatch point (``dispatch_hooks``) casts the
arguments of listed ops; it is removed when the last region closes, so outside autocast ops run at full speed.
"""
import functools
import threading
import warnings

import numpy

from .. import _dtype
from .._arg_parser import _type_name
from .._tensor import Tensor
from ..autograd import grad_mode
from ..autograd.function import Composite, dispatch_hooks
from . import policy

# PyTorch keeps autocast state for each device type with an autocast dispatch key, and its default lower dtype;
# ember's tensors live on cpu and cuda only, so on the others a region only sets the state libraries query
_DEFAULT_DTYPES = {"cpu": "bfloat16", "cuda": "float16", "mps": "float16", "xpu": "float16", "hpu": "bfloat16",
                   "xla": "bfloat16", "ipu": "float16", "mtia": "float16", "maia": "bfloat16",
                   "privateuseone": "float16"}
_DEVICE_TYPES = tuple(_DEFAULT_DTYPES)
_DTYPE_ONLY = {"hip": "float16"}   # device types with an autocast dtype but no autocast state
_PRIVATEUSE1 = "privateuseone"
_LISTED = policy.LISTED
_POLICIES = policy.POLICIES
_ndarray = numpy.ndarray
_FLOAT32 = numpy.dtype(numpy.float32)
_KNOWN_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia",
                       "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")
_NOT_GIVEN = object()


class _State(threading.local):
    def __init__(self):
        self.enabled = dict.fromkeys(_DEVICE_TYPES, False)
        self.dtype = {kind: getattr(_dtype, name) for kind, name in {**_DEFAULT_DTYPES, **_DTYPE_ONLY}.items()}
        self.cache_enabled = True
        self.nesting = 0
        self.cache = {}          # id(fp32 leaf) -> (leaf, its cast): the leaf is kept so its id is not reused
        self.running = set()     # device types whose autocast op is running now (its inner ops are not cast)


_state = _State()
_lock = threading.Lock()
_enabled_count = [0]   # enabled (thread, device type) pairs across threads: the hook stays installed while > 0


def _argument_error(function, name, position, expected, value):
    return TypeError(f"{function}(): argument '{name}' (position {position}) must be {expected}, not "
                     f"{_type_name(value)}")


def _check_device_type(device_type):
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")  # noqa: TRY004 (as PyTorch)
    kind = device_type.split(":")[0]
    if kind not in _KNOWN_DEVICE_TYPES:
        raise RuntimeError(f"Expected one of {', '.join(_KNOWN_DEVICE_TYPES)} device type at start of device "
                           f"string: {device_type}")
    return kind


def _device_kind(function, device_type):
    """The device type named by the string ``device_type`` passed to the binding ``function``."""
    if not isinstance(device_type, str):
        raise _argument_error(function, "device_type", 1, "str", device_type)
    return _check_device_type(device_type)


def is_autocast_available(device_type):
    """Whether PyTorch has autocast for ``device_type`` (ember's tensors, and so its casts, are on cpu and cuda)."""
    return _device_kind("_is_autocast_available", device_type) in _DEVICE_TYPES


def _supported(device_type):
    kind = _check_device_type(device_type)
    if kind not in _DEVICE_TYPES:
        raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")
    return kind


def _autocast_key(function, device_type):
    """The device type whose autocast state a query reads or sets (PyTorch's error where it has none)."""
    kind = _device_kind(function, device_type)
    if kind not in _DEVICE_TYPES:
        raise RuntimeError("unknown device type for autocast in get_autocast_dispatch_key_from_device_type")
    return kind


def _deprecated(old, new):
    warnings.warn(f"torch.{old} is deprecated. Please use torch.{new} instead.", DeprecationWarning, stacklevel=3)


def is_autocast_enabled(device_type=_NOT_GIVEN):
    """Whether autocast is on for ``device_type`` (CUDA when omitted, as in PyTorch)."""
    kind = _autocast_key("is_autocast_enabled", "cuda" if device_type is _NOT_GIVEN else device_type)
    return _state.enabled[kind]


def _is_any_autocast_enabled():
    """Whether autocast is on for some device type in this thread."""
    return any(_state.enabled.values())


def set_autocast_enabled(device_type=_NOT_GIVEN, enabled=_NOT_GIVEN):
    """Turns autocast on or off for ``device_type`` in this thread (``set_autocast_enabled(bool)``: CUDA)."""
    if enabled is _NOT_GIVEN:
        if device_type is _NOT_GIVEN:
            raise TypeError("set_autocast_enabled() received an invalid combination of arguments - got (), but "
                            "expected one of:\n * (str device_type, bool enabled)\n * (bool enabled)\n")
        if not isinstance(device_type, bool):
            raise _argument_error("set_autocast_enabled", "enabled", 1, "bool", device_type)
        device_type, enabled = "cuda", device_type
    elif device_type is _NOT_GIVEN:   # set_autocast_enabled(enabled=...): CUDA's
        device_type = "cuda"
    if not isinstance(enabled, bool):
        if not isinstance(device_type, str):
            raise _argument_error("set_autocast_enabled", "device_type", 1, "str", device_type)
        raise _argument_error("set_autocast_enabled", "enabled", 2, "bool", enabled)
    kind = _autocast_key("set_autocast_enabled", device_type)
    if _state.enabled[kind] != enabled:
        _state.enabled[kind] = enabled
        with _lock:
            _enabled_count[0] += 1 if enabled else -1
            if _enabled_count[0] == 1 and enabled:
                dispatch_hooks.append(_hook)
            elif _enabled_count[0] == 0:
                dispatch_hooks.remove(_hook)


def get_autocast_dtype(device_type):
    """The dtype autocast casts lower-precision ops to on ``device_type`` (bfloat16 on CPU, float16 on CUDA)."""
    dtype = _state.dtype.get(_device_kind("get_autocast_dtype", device_type))
    if dtype is None:
        raise RuntimeError("unsupported scalarType")
    return dtype


def set_autocast_dtype(device_type, dtype):
    """Sets the dtype autocast uses on ``device_type`` in this thread."""
    kind = _device_kind("set_autocast_dtype", device_type)
    if not isinstance(dtype, _dtype.dtype):
        raise _argument_error("set_autocast_dtype", "dtype", 2, "torch.dtype", dtype)
    _state.dtype[kind] = dtype


def _check_flag(enabled):
    if not isinstance(enabled, bool):
        raise TypeError(f"enabled must be a bool (got {_type_name(enabled)})")


def _check_dtype(dtype):
    if not isinstance(dtype, _dtype.dtype):
        raise TypeError(f"dtype must be a torch.dtype (got {_type_name(dtype)})")


def is_autocast_cache_enabled():
    """Whether casts of float32 parameters are cached within an autocast region."""
    return _state.cache_enabled


def set_autocast_cache_enabled(enabled):
    """Turns the weight-cast cache on or off in this thread."""
    _check_flag(enabled)
    _state.cache_enabled = enabled


def clear_autocast_cache():
    """Forgets the cached casts (done when the outermost autocast region exits)."""
    _state.cache.clear()


def autocast_increment_nesting():
    """Counts one more open autocast region; returns the depth."""
    _state.nesting += 1
    return _state.nesting


def autocast_decrement_nesting():
    """Counts one region closed; returns the depth."""
    _state.nesting -= 1
    return _state.nesting


def _deprecated_functions(alias, device_type, flags=True):
    """PyTorch's deprecated per-device state functions (``is/set_autocast_{alias}_enabled``,
    ``get/set_autocast_{alias}_dtype``) for ``device_type``, each warning once called; ``flags=False``: the dtype
    functions only (CUDA's ``gpu`` ones)."""
    def is_enabled():
        _deprecated(f"is_autocast_{alias}_enabled()", f"is_autocast_enabled('{device_type}')")
        return _state.enabled[device_type]

    def set_enabled(enabled):
        _check_flag(enabled)
        _deprecated(f"set_autocast_{alias}_enabled(enabled)", f"set_autocast_enabled('{device_type}', enabled)")
        set_autocast_enabled(device_type, enabled)

    def get_dtype():
        _deprecated(f"get_autocast_{alias}_dtype()", f"get_autocast_dtype('{device_type}')")
        return _state.dtype[device_type]

    def set_dtype(dtype):
        _check_dtype(dtype)
        _deprecated(f"set_autocast_{alias}_dtype(dtype)", f"set_autocast_dtype('{device_type}', dtype)")
        _state.dtype[device_type] = dtype

    functions = {f"get_autocast_{alias}_dtype": (get_dtype, f'get_autocast_dtype("{device_type}")'),
                 f"set_autocast_{alias}_dtype": (set_dtype, f'set_autocast_dtype("{device_type}", dtype)')}
    if flags:
        functions.update({f"is_autocast_{alias}_enabled": (is_enabled, f'is_autocast_enabled("{device_type}")'),
                          f"set_autocast_{alias}_enabled": (set_enabled,
                                                            f'set_autocast_enabled("{device_type}", enabled)')})
    for name, (function, replacement) in functions.items():
        function.__name__ = function.__qualname__ = name
        function.__doc__ = f"Deprecated: ``{replacement}``."
    return {name: function for name, (function, _) in functions.items()}


for _functions in (_deprecated_functions("cpu", "cpu"), _deprecated_functions("gpu", "cuda", flags=False),
                   _deprecated_functions("ipu", "ipu"), _deprecated_functions("xla", "xla")):
    globals().update(_functions)   # is_autocast_cpu_enabled, get_autocast_gpu_dtype, set_autocast_xla_dtype, ...
del _functions


def autocast_decorator(autocast_instance, func):
    """``func`` run inside the region ``autocast_instance`` at each call."""
    @functools.wraps(func)
    def decorate_autocast(*args, **kwargs):
        with autocast_instance:
            return func(*args, **kwargs)
    decorate_autocast.__script_unsupported = "@autocast() decorator is not supported in script mode"
    return decorate_autocast


class autocast:
    """Context manager and decorator: ops in the region run in PyTorch's per-op dtype for ``device_type``."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")  # noqa: TRY004 (as PyTorch)
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None else dtype
        self.device = device_type
        _supported(device_type)
        if device_type == _PRIVATEUSE1:   # no backend registers a module for it in ember
            raise AssertionError(
                "Tried to use AMP with the `privateuseone` backend, but the backend has not registered a module or  "
                "the module miss some necessary funcs. The backend should register a module by "
                "`torch._register_device_module`, and the module must have these funcs: \n"
                "`get_amp_supported_dtype() -> List[torch.dtype]`. \n")
        self._cache_enabled = is_autocast_cache_enabled() if cache_enabled is None else cache_enabled
        if enabled:
            if device_type == "cuda" and not _cuda_available():
                warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.", stacklevel=2)
                enabled = False
            elif device_type != "cuda" and self.fast_dtype not in (_dtype.bfloat16, _dtype.float16):
                name = device_type.upper()
                warnings.warn(f"In {name} autocast, but the target dtype is not supported. Disabling autocast.\n"
                              f"{name} Autocast only supports dtypes of torch.bfloat16, torch.float16 currently.",
                              stacklevel=2)
                enabled = False
        self._enabled = enabled

    def __enter__(self):
        self.prev_cache_enabled = is_autocast_cache_enabled()
        self.prev = is_autocast_enabled(self.device)
        self.prev_fastdtype = get_autocast_dtype(self.device)
        set_autocast_enabled(self.device, self._enabled)
        set_autocast_dtype(self.device, self.fast_dtype)
        autocast_increment_nesting()
        set_autocast_cache_enabled(self._cache_enabled)
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        if autocast_decrement_nesting() == 0:
            clear_autocast_cache()
        set_autocast_enabled(self.device, self.prev)
        set_autocast_dtype(self.device, self.prev_fastdtype)
        set_autocast_cache_enabled(self.prev_cache_enabled)
        return False

    def __call__(self, func):
        if not callable(func):
            raise TypeError(f"autocast()(func) requires a callable, but got {type(func).__name__}. Did you mean to "
                            "use autocast as a context manager? For example:\n    with torch.autocast(device_type=...):"
                            "\n        output = model(input)")
        return autocast_decorator(self, func)


class _UnmanagedAutocast(autocast):
    """An autocast region entered and exited by explicit calls (``_enter_autocast``), as traced graphs run them."""


def _enter_autocast(*vals):
    """Enters an autocast region made from ``autocast``'s arguments; returns it for ``_exit_autocast``."""
    mode = _UnmanagedAutocast(*vals)
    mode.__enter__()
    return mode


def _exit_autocast(mode):
    """Exits a region ``_enter_autocast`` entered."""
    mode.__exit__(None, None, None)


def _cuda_available():
    from .._backend import cuda_available
    return cuda_available()


# --- the dispatch hook -------------------------------------------------------------------------------------------
def _device_type(value):
    """"cpu" or "cuda" for a tensor, None for anything else."""
    if isinstance(value, Tensor):
        return "cpu" if type(value._data) is _ndarray else value.device.type
    return None


def _device_type_of(args, kwargs):
    for value in (*args, *kwargs.values()):
        kind = _device_type(value)
        if kind is None and isinstance(value, (list, tuple)) and value:
            kind = _device_type(value[0])
        if kind is not None:
            return kind
    return None


def _cast_to(value, device_type, to):
    """``value`` cast to ``to`` when autocast may cast it; float32 leaf parameters' casts are cached per region."""
    if not isinstance(value, Tensor):
        if isinstance(value, (list, tuple)):
            return type(value)([_cast_to(v, device_type, to) for v in value])
        return value
    kind = value._data.dtype
    if kind is to._numpy or kind.kind not in "fV" or kind.itemsize == 8 or _device_type(value) != device_type:
        return value
    state = _state
    if (value.requires_grad and value.grad_fn is None and value._base is None and kind is _FLOAT32
            and to is state.dtype[device_type] and state.cache_enabled):
        entry = state.cache.get(id(value))
        if entry is None:
            # PyTorch records the cached cast in autograd even under no_grad, so a later use with grad enabled
            # still reaches the leaf (with the values cast when it was cached)
            grad = grad_mode.state
            previous, grad.enabled = grad.enabled, not grad.inference
            try:
                entry = state.cache[id(value)] = (value, value.to(to))
            finally:
                grad.enabled = previous
        return entry[1]
    return value.to(to)


def _hook(cls, args, kwargs, proceed):
    """The dispatch hook: a listed op (a composite named by its ATen name) casts its arguments by the policy of its
    inputs' device and runs with autocast off for that device, as PyTorch's autocast kernels do, so the ops it is
    built from are not cast again. Every other op passes through."""
    name = cls.__name__
    if name not in _LISTED or not issubclass(cls, Composite):
        return proceed(args, kwargs)
    first = args[0] if args else None
    device_type = _device_type(first) if isinstance(first, Tensor) else _device_type_of(args, kwargs)
    state = _state
    if device_type is None or not state.enabled[device_type] or device_type in state.running or \
            (kwargs and kwargs.get("out") is not None):   # calls with out= are not autocast, as in PyTorch
        return proceed(args, kwargs)
    kind = _POLICIES[device_type].get(name)
    if kind is None:
        kind = policy.policy_of(device_type, name, args, kwargs)
        if kind is None:
            return proceed(args, kwargs)
    if kind == "lower" or kind == "fp32" or kind == "promote":
        to = state.dtype[device_type] if kind == "lower" else _dtype.float32 if kind == "fp32" else \
            policy.widest(policy.flatten(args, kwargs), device_type, state.dtype[device_type])
        if not _uncast(args, kwargs, to):
            args, kwargs = _cast_arguments(args, kwargs, device_type, to)
    elif kind == "banned":
        raise RuntimeError(policy.BANNED_MESSAGE)
    elif kind != "opaque":   # fp32_set_opt_dtype, fp32_append_dtype: a float32 result through the dtype argument
        first = args[0] if args else next(iter(kwargs.values()), None)
        if policy.eligible(first, device_type) and kwargs.get("dtype") is None:
            kwargs = dict(kwargs, dtype=_dtype.float32)
    running = state.running
    running.add(device_type)   # the ops it is built from run as they are
    try:
        return proceed(args, kwargs)
    finally:
        running.discard(device_type)


_hook.keys_on_op_names = True   # traced graphs run the ops they recorded inside a listed op as that op's call


def _cast_arguments(args, kwargs, device_type, to):
    """``args`` and ``kwargs`` with each tensor autocast may cast converted to ``to``."""
    args = [_cast_to(a, device_type, to) for a in args]
    if kwargs:
        kwargs = {k: _cast_to(v, device_type, to) for k, v in kwargs.items()}
    return args, kwargs


def _uncast(args, kwargs, to):
    """Whether no argument needs a look (tensors all of dtype ``to``, no lists, no keyword arguments): the common
    case inside a region, where activations are already 16-bit."""
    if kwargs:
        return False
    target = to._numpy
    for value in args:
        if isinstance(value, Tensor):
            if value._data.dtype is not target:
                return False
        elif isinstance(value, (list, tuple)):
            return False
    return True


# --- custom autograd Functions ------------------------------------------------------------------------------------
def _cast(value, device_type, dtype):
    """Casts eligible tensors in ``value`` (nested lists, tuples, dicts) to ``dtype``."""
    if isinstance(value, Tensor):
        return value.to(dtype) if policy.eligible(value, device_type) else value
    if isinstance(value, dict):
        return {_cast(k, device_type, dtype): _cast(v, device_type, dtype) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(v, device_type, dtype) for v in value)
    return value


def custom_fwd(fwd=None, *, device_type, cast_inputs=None):
    """Decorator for a custom Function's ``forward``: with ``cast_inputs``, inside autocast, casts floating inputs to
    it and runs forward with autocast off; records the autocast state for ``custom_bwd``."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")  # noqa: TRY004 (as PyTorch)
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        ctx = args[0]
        ctx._dtype = get_autocast_dtype(device_type)
        if cast_inputs is None:
            ctx._fwd_used_autocast = is_autocast_enabled(device_type)
            return fwd(*args, **kwargs)
        ctx._fwd_used_autocast = False
        if not is_autocast_enabled(device_type):
            return fwd(*args, **kwargs)
        with autocast(device_type=device_type, enabled=False):
            return fwd(*_cast(args, device_type, cast_inputs), **_cast(kwargs, device_type, cast_inputs))
    return decorate_fwd


def custom_bwd(bwd=None, *, device_type):
    """Decorator for a custom Function's ``backward``: runs it under the autocast state its forward ran in."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")  # noqa: TRY004 (as PyTorch)
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        ctx = args[0]
        with autocast(device_type=device_type, enabled=ctx._fwd_used_autocast, dtype=ctx._dtype):
            return bwd(*args, **kwargs)
    return decorate_bwd
