"""How a call to a registered operator runs: arguments checked against its schema and normalized as PyTorch's
dispatcher passes them, then the first of its kernels in PyTorch's order (an Autograd kernel; else the backend
kernel below an autograd fallback; else a CompositeImplicitAutograd kernel)."""
import numbers
import re
import warnings

from .._backend import device as _device
from .._dtype import dtype as _dtype
from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import state as _grad_state

_PYTHON_TYPES = {"SymInt": "int", "int": "int", "float": "float", "bool": "bool", "str": "str", "Tensor": "Tensor",
                 "Scalar": "number", "ScalarType": "int", "Device": "Device", "Layout": "int",
                 "MemoryFormat": "int"}


def _type_name(arg):
    """The argument's type as PyTorch names it in binding errors (``int``, ``Optional[Tensor]``, ``List[int]``)."""
    name = _PYTHON_TYPES.get(arg.base, arg.base)
    for mark in re.findall(r"\?|\[\d*\]", arg._suffix):
        name = f"Optional[{name}]" if mark == "?" else f"List[{name}]"
    return name


def _accepts(base, value):
    if base == "Tensor":
        return isinstance(value, Tensor)
    if base in ("SymInt", "int"):
        return isinstance(value, numbers.Integral)
    if base == "float":
        return isinstance(value, numbers.Real)
    if base == "bool":
        return isinstance(value, (bool, numbers.Integral))
    if base == "str":
        return isinstance(value, str)
    if base == "Scalar":
        return isinstance(value, numbers.Number)
    if base == "ScalarType":
        return isinstance(value, _dtype)
    if base == "Device":
        return isinstance(value, (_device, str, int))
    return True


def _matches(arg, value):
    """Whether ``value`` fits the argument's type (lists, optionals, ``int[2]`` taking one int)."""
    suffix = arg._suffix
    if value is None and suffix.endswith("?"):
        return True
    if arg.is_list:
        element_optional = suffix.startswith("?")
        if isinstance(value, (list, tuple)):
            return all((v is None and element_optional) or _accepts(arg.base, v) for v in value)
        return suffix.rstrip("?") not in ("[]", "?[]") and _accepts(arg.base, value) and arg.base != "Tensor"
    return _accepts(arg.base, value)


def _convert(arg, value):
    """The value as PyTorch's kernels receive it: ints for SymInt, floats for float, devices for Device, and a list
    for a list argument given as a tuple (its elements converted so)."""
    if arg.is_list:
        if isinstance(value, (list, tuple)):
            return [_convert_one(arg.base, v) for v in value]
        return value
    return _convert_one(arg.base, value)


def _convert_one(base, value):
    if base == "float" and isinstance(value, numbers.Real):
        return float(value)
    if base == "Device" and isinstance(value, (str, int)):
        return _device(value)
    if base in ("SymInt", "int") and isinstance(value, bool):
        return int(value)
    return value


def bind(op, args, kwargs):
    """``(args, kwargs)`` for the kernels: positional parameters positional, keyword-only ones as keywords, and
    trailing values equal to their defaults left out, as PyTorch's dispatcher hands them to Python kernels.
    Raises PyTorch's RuntimeError for arguments that do not fit the schema."""
    bound = _bind(op, args, kwargs)
    if isinstance(bound, str):
        raise RuntimeError(bound)
    return bound


def _bind(op, args, kwargs):
    """``bind``'s result, or the message of its error."""
    schema = op._schema
    name = f"{op.namespace}::{op._opname}"
    positional = [a for a in schema.arguments if not a.kwarg_only]
    if len(args) > len(positional):
        return (f"{name}() expected at most {len(schema.arguments)} argument(s) but received {len(args)} "
                f"argument(s). Declaration: {schema}")
    values = dict(zip((a.name for a in positional), args))
    values.update(kwargs)
    bound_args, bound_kwargs = [], {}
    for position, arg in enumerate(schema.arguments):
        if arg.name not in values:
            if not arg.has_default:
                return f"{name}() is missing value for argument '{arg.name}'. Declaration: {schema}"
            value, given = arg.default_value, False
        else:
            value, given = values[arg.name], True
            if not _matches(arg, value):
                return (f"{name}() Expected a value of type '{_type_name(arg)}' for argument '{arg.name}' but "
                        f"instead found type '{type(value).__name__}'.\nPosition: {position}\nValue: {value!r}\n"
                        f"Declaration: {schema}")
            value = _convert(arg, value)
        is_default = arg.has_default and (not given or _equal(value, arg.default_value))
        if arg.kwarg_only:
            if not is_default:
                bound_kwargs[arg.name] = value
        else:
            bound_args.append((value, is_default))
    known = {a.name for a in schema.arguments}
    for key in kwargs:
        if key not in known:
            return f"Unknown keyword argument '{key}' for operator '{name}'. Schema: {schema}"
    while bound_args and bound_args[-1][1]:
        bound_args.pop()
    return tuple(value for value, _ in bound_args), bound_kwargs


def _equal(value, default):
    if isinstance(value, Tensor) or isinstance(default, Tensor):
        return value is default
    try:
        return type(value) is type(default) and bool(value == default) or (value is None and default is None)
    except (TypeError, ValueError):
        return False


def call(op, args, kwargs):
    """Runs ``op`` on the arguments through its kernels, in PyTorch's dispatch order."""
    args, kwargs = bind(op, args, kwargs)
    return run(op, args, kwargs)


def call_packet(overloads, args, kwargs):
    """Calls the first overload whose schema the arguments fit, or raises PyTorch's error listing them all."""
    if len(overloads) == 1:
        return overloads[0](*args, **kwargs)
    errors = []
    for op in overloads:
        bound = _bind(op, args, kwargs)
        if not isinstance(bound, str):
            return op(*args, **kwargs)
        errors.append(bound)
    raise RuntimeError("Overloaded torch operator invoked from Python failed to match any schema:\n"
                       + "".join(f"{e}\n\n" for e in errors))


def fallthrough_kernel():
    """A marker to register with ``Library.impl``: at an Autograd key the op skips autograd (its kernel runs as
    called, with no fallback warning); at a backend key that kernel counts as absent. Never called."""
    raise NotImplementedError("fallthrough_kernel() should never be called.")


def run(op, args, kwargs):
    """Dispatches bound arguments: Autograd kernel, backend kernel (below the autograd fallback), or
    CompositeImplicitAutograd kernel."""
    kernels = op.kernels
    device = device_type(args, kwargs)
    autograd = kernels.get("AutogradCUDA" if device == "cuda" else "AutogradCPU") or kernels.get("Autograd")
    if autograd is fallthrough_kernel:
        return below_autograd(op, args, kwargs)
    if autograd is not None:
        return autograd(*args, **kwargs)
    if _backend_kernel(op, device) is None and "CompositeImplicitAutograd" in kernels:
        return kernels["CompositeImplicitAutograd"](*args, **kwargs)
    return _autograd_fallback(op, args, kwargs)


def device_type(args, kwargs):
    """The device type a call dispatches on: its first tensor's, else its first device argument's, else cpu."""
    found = None
    for value in _leaves(args, kwargs):
        if isinstance(value, Tensor):
            return value.device.type
        if found is None and isinstance(value, _device):
            found = value.type
    return found or "cpu"


def _leaves(args, kwargs):
    for value in (*args, *kwargs.values()):
        if isinstance(value, (list, tuple)):
            yield from value
        else:
            yield value


def _backend_kernel(op, device):
    kernel = op.kernels.get(device.upper())
    if kernel is None or kernel is fallthrough_kernel:
        kernel = op.kernels.get("CompositeExplicitAutograd")
    return None if kernel is fallthrough_kernel else kernel


def below_autograd(op, args, kwargs):
    """The backend kernel's call; for a ``custom_op``, after bumping the versions of the arguments its schema
    marks as written (the ADInplaceOrView step PyTorch registers for custom ops only)."""
    device = device_type(args, kwargs)
    kernel = _backend_kernel(op, device)
    if kernel is None:
        kernel = op.kernels.get("CompositeImplicitAutograd")
    if kernel is None and op.opdef is not None and not any(a.is_tensor_like for a in op._schema.arguments):
        raise RuntimeError(f"{op._opname} does not have a kernel registered for {device}. Please use "
                           f"register_kernel to do so.")
    if kernel is None:
        key = device.upper()
        raise NotImplementedError(
            f"Could not run '{op.name()}' with arguments from the '{key}' backend. This could be because the "
            f"operator doesn't exist for this backend, or was omitted during the selective/custom build process (if "
            f"using custom build). '{op.name()}' is only available for these backends: "
            f"[{', '.join(sorted(op.kernels))}].")
    for arg, value in zip_arguments(op._schema, args, kwargs) if op.opdef is not None else ():
        if arg.alias_info is not None and arg.alias_info.is_write:
            for tensor in (value if isinstance(value, (list, tuple)) else (value,)):
                if isinstance(tensor, Tensor):
                    tensor._version_counter[0] += 1
    return kernel(*args, **kwargs)


def zip_arguments(schema, args, kwargs):
    """``(Argument, value)`` for each argument given in a bound call."""
    pairs = list(zip(schema.arguments, args))
    for arg in schema.arguments:
        if arg.kwarg_only and arg.name in kwargs:
            pairs.append((arg, kwargs[arg.name]))
    return pairs


def requires_grad(args, kwargs):
    """Whether grad mode is on and some tensor argument requires grad."""
    if not _grad_state.enabled:
        return False
    return any(isinstance(v, Tensor) and v.requires_grad for v in _leaves(args, kwargs))


def _autograd_fallback(op, args, kwargs):
    """An op with no autograd kernel: the kernel's own ops are recorded, and backward through its outputs warns
    as PyTorch's default ("warn") fallback does; outputs that the kernel left outside the graph get a node that
    warns and passes no gradient."""
    needed = requires_grad(args, kwargs)
    output = below_autograd(op, args, kwargs)
    if not needed:
        return output
    inputs = [t for t in _leaves(args, kwargs) if isinstance(t, Tensor) and t.requires_grad]
    outputs = output if isinstance(output, (tuple, list)) else (output,)
    results = []
    for out in outputs:
        if isinstance(out, Tensor) and (out.dtype.is_floating_point or out.dtype.is_complex):
            if out.requires_grad:
                out.register_hook(_Warn(op))
            else:
                out = _NotImplementedBackward.apply(op, out, *inputs)
        results.append(out)
    if isinstance(output, (tuple, list)):
        return type(output)(results)
    return results[0]


class _Warn:
    """A gradient hook that warns that ``op`` has no autograd kernel."""

    def __init__(self, op):
        self.op = op

    def __call__(self, grad):
        warnings.warn(_fallback_message(self.op), UserWarning, stacklevel=2)


def _fallback_message(op):
    return (f"{op.name()}: an autograd kernel was not registered to the Autograd key(s) but we are trying to "
            f"backprop through it. This may lead to silently incorrect behavior. This behavior is deprecated and "
            f"will be removed in a future version of PyTorch. If your operator is differentiable, please ensure you "
            f"have registered an autograd kernel to the correct Autograd key (e.g. DispatchKey::Autograd, "
            f"DispatchKey::CompositeImplicitAutograd). If your operator is not differentiable, or to squash this "
            f"warning and use the previous behavior, please register torch::CppFunction::makeFallthrough() to "
            f"DispatchKey::Autograd.")


class _NotImplementedBackward(Function):
    """Joins an output computed outside autograd to the op's inputs: backward warns and passes no gradient."""

    @staticmethod
    def forward(ctx, op, out, *inputs):
        ctx.op, ctx.count = op, len(inputs)
        return out.detach()

    @staticmethod
    def backward(ctx, grad):
        warnings.warn(_fallback_message(ctx.op), UserWarning, stacklevel=2)
        return (None, None) + (None,) * ctx.count
