"""``opcheck``: runs an operator's registration checks on sample arguments. ``test_schema`` (no undeclared
mutation or aliasing), ``test_autograd_registration`` (an autograd kernel where inputs require grad),
``test_faketensor`` (the fake kernel's outputs against the real ones: shapes, dtypes, devices) and, under PyTorch's
names of its AOT checks, the registered backward against finite differences (``autograd.gradcheck``)."""
import numpy

from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from . import _ops
from ._custom_op import CustomOpDef
from ._dispatch import below_autograd, bind

DEFAULT_TEST_UTILS = ("test_schema", "test_autograd_registration", "test_faketensor", "test_aot_dispatch_dynamic")


class OpCheckError(Exception):
    """A check of ``opcheck`` failed."""


def opcheck(op, args, kwargs=None, *, test_utils=DEFAULT_TEST_UTILS, raise_exception=True, rtol=None, atol=None):
    """Runs the checks named in ``test_utils`` on ``op(*args, **kwargs)``; returns ``{check: "SUCCESS" or the
    exception}``, or raises OpCheckError at the first failure when ``raise_exception``."""
    if (rtol is None) ^ (atol is None):
        raise ValueError("opcheck(op, ...): if you specify one of rtol/atol, you must specify both")
    kwargs = {} if kwargs is None else kwargs
    if isinstance(op, CustomOpDef):
        op = op._opoverload
    if isinstance(op, _ops.OpOverloadPacket):
        overloads = list(_ops.operators.get(op._qualified_op_name, {}))
        if len(overloads) != 1:
            raise RuntimeError(f"opcheck can only test operators without overloads. Got the following overloads "
                               f"for {op._qualified_op_name}: {overloads}")
        op = getattr(op, overloads[0] or "default")
    if not isinstance(op, _ops.OpOverload):
        raise ValueError(f"opcheck(op, ...): op must be instance of torch._ops.OpOverload, e.g. "
                         f"torch.ops.aten.sin.default, got {type(op)}")
    if test_utils == "ALL":
        test_utils = tuple(CHECKS)
    if isinstance(test_utils, str):
        test_utils = (test_utils,)
    if not isinstance(test_utils, (tuple, list)) or not set(test_utils).issubset(CHECKS):
        raise ValueError(f"opcheck(op, ..., test_utils={test_utils}), expected test_utils to be subset of "
                         f"{tuple(CHECKS)} but it was not")
    results = {}
    for name in test_utils:
        try:
            CHECKS[name](op, *_copy((args, kwargs)), rtol=rtol, atol=atol)
            results[name] = "SUCCESS"
        except Exception as error:
            if raise_exception:
                raise OpCheckError(f"opcheck(op, ...): {name} failed with {error} (scroll up for stack trace)") \
                    from error
            results[name] = error
    return results


def _copy(value):
    """The arguments with each tensor cloned (keeping requires_grad), so checks never touch the caller's."""
    if isinstance(value, Tensor):
        copy = value.detach().clone()
        return copy.requires_grad_() if value.requires_grad else copy
    if isinstance(value, (tuple, list)):
        return type(value)(_copy(v) for v in value)
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


def _tensors(value):
    if isinstance(value, Tensor):
        yield value
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from _tensors(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _tensors(v)


def _root(tensor):
    array = tensor._data
    while getattr(array, "base", None) is not None:
        array = array.base
    return id(array)


def check_schema(op, args, kwargs, rtol=None, atol=None):
    """Tensor arguments the schema does not mark as written keep their values; outputs share no memory with
    arguments the schema does not alias."""
    bound_args, bound_kwargs = bind(op, args, kwargs)
    before = []
    for arg, value in _arguments(op, bound_args, bound_kwargs):
        for tensor in _tensors(value):
            before.append((arg, tensor, tensor._data.copy()))
    result = op(*args, **kwargs)
    for arg, tensor, values in before:
        written = arg.alias_info is not None and arg.alias_info.is_write
        if not written and not numpy.array_equal(numpy.asarray(tensor._data), numpy.asarray(values), equal_nan=True):
            raise RuntimeError(f"Argument {arg.name} is not defined as mutable but was mutated")
    outputs = {_root(t) for t in _tensors(result)}
    for arg, tensor, _ in before:
        if arg.alias_info is None and _root(tensor) in outputs:
            raise RuntimeError(f"Argument {arg.name} is not defined to alias output but was aliasing")


def _arguments(op, args, kwargs):
    pairs = list(zip(op._schema.arguments, args))
    pairs += [(a, kwargs[a.name]) for a in op._schema.arguments if a.kwarg_only and a.name in kwargs]
    return pairs


def check_autograd_registration(op, args, kwargs, rtol=None, atol=None):
    """Where inputs require grad, an op without a kernel at an autograd key must not return outputs that require
    grad (an autograd.Function registered as a backend kernel would, and PyTorch would not differentiate it)."""
    inputs = list(_tensors((args, kwargs)))
    if not any(t.requires_grad for t in inputs):
        return
    if any(key in op.kernels for key in ("Autograd", "AutogradCPU", "AutogradCUDA", "CompositeImplicitAutograd")):
        return
    bound_args, bound_kwargs = bind(op, args, kwargs)
    ids = {id(t) for t in inputs}
    if any(t.requires_grad and id(t) not in ids for t in _tensors(below_autograd(op, bound_args, bound_kwargs))):
        raise AssertionError(
            f"{op.name()}: at least one output of this operator has requires_grad=True but the operator does not "
            f"have an autograd kernel defined at an autograd key (e.g. DispatchKey::Autograd). This could mean that "
            f"you have incorrectly registered an autograd kernel to a non-Autograd DispatchKey, which may lead to "
            f"silently incorrect results. If your operator consists of regular PyTorch operations, consider not "
            f"using an operator at all or registering your operator as CompositeImplicitAutograd. If you have an "
            f"autograd.Function registered to a backend (CPU/CUDA/XPU) key, the correct location for it is the "
            f"Autograd key.")


def check_fake(op, args, kwargs, rtol=None, atol=None):
    """The fake kernel's outputs have the real outputs' structure, shapes, dtypes and devices."""
    fake = op.kernels.get("Meta")
    if fake is None and "CompositeImplicitAutograd" not in op.kernels:
        raise RuntimeError(f"{op.name()} has no fake kernel: register one with torch.library.register_fake")
    with no_grad():
        real = op(*_copy(args), **_copy(kwargs))
        bound_args, bound_kwargs = bind(op, args, kwargs)
        predicted = fake(*bound_args, **bound_kwargs) if fake is not None else real
    real_flat, fake_flat = _structure(real), _structure(predicted)
    if len(real_flat) != len(fake_flat) or any(type(r) is not type(f) for r, f in zip(real_flat, fake_flat)):
        raise RuntimeError(f"{op.name()}: the fake kernel returned {_describe(predicted)} but the operator returned "
                           f"{_describe(real)}")
    for i, (r, f) in enumerate(zip(real_flat, fake_flat)):
        if isinstance(r, Tensor):
            for what in ("shape", "dtype", "device"):
                if getattr(r, what) != getattr(f, what):
                    raise RuntimeError(f"{op.name()}: output {i} of the fake kernel has {what} {getattr(f, what)} "
                                       f"but the operator's output has {what} {getattr(r, what)}")


def _structure(value):
    return list(value) if isinstance(value, (tuple, list)) else [value]


def _describe(value):
    return "(" + ", ".join(type(v).__name__ for v in _structure(value)) + ")"


def check_gradients(op, args, kwargs, rtol=None, atol=None):
    """The op's gradients against central differences, in float64, with respect to every floating tensor
    argument that requires grad (ember's stand-in for PyTorch's AOT-dispatch checks)."""
    from ..autograd.gradcheck import gradcheck
    if op._schema.is_mutable:
        return
    flat, rebuild = _differentiable(args, kwargs)
    if not flat:
        return
    function = _Call(op, rebuild)
    tolerances = {} if rtol is None else {"rtol": rtol, "atol": atol}
    gradcheck(function, tuple(flat), **tolerances)


class _Call:
    """``op`` called with the differentiable tensors put back into their places in the arguments."""

    def __init__(self, op, rebuild):
        self.op, self.rebuild = op, rebuild

    def __call__(self, *tensors):
        args, kwargs = self.rebuild(tensors)
        return self.op(*args, **kwargs)


def _differentiable(args, kwargs):
    """The float64 copies of the floating tensors that require grad, and a function putting replacements back."""
    flat = []

    def strip(value):
        if isinstance(value, Tensor) and value.requires_grad and value.dtype.is_floating_point:
            flat.append(value.detach().double().requires_grad_())
            return _Slot(len(flat) - 1)
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items()}
        if isinstance(value, (tuple, list)):
            return type(value)(strip(v) for v in value)
        if isinstance(value, Tensor) and value.dtype.is_floating_point:
            return value.double()
        return value

    template = strip((tuple(args), dict(kwargs)))

    def fill(value, tensors):
        if isinstance(value, _Slot):
            return tensors[value.index]
        if isinstance(value, dict):
            return {k: fill(v, tensors) for k, v in value.items()}
        if isinstance(value, (tuple, list)):
            return type(value)(fill(v, tensors) for v in value)
        return value

    return flat, lambda tensors: fill(template, tensors)


class _Slot:
    """Where a differentiable tensor goes back into the arguments."""

    def __init__(self, index):
        self.index = index


CHECKS = {"test_schema": check_schema, "test_autograd_registration": check_autograd_registration,
          "test_faketensor": check_fake, "test_aot_dispatch_static": check_gradients,
          "test_aot_dispatch_dynamic": check_gradients}
