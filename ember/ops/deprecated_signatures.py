"""PyTorch's deprecated signatures that give a scalar factor positionally, before the tensors (its
``deprecated.yaml``): ``add(input, alpha, other)``, ``x.add_(alpha, other)``, ``addcmul(input, value, tensor1,
tensor2)``, ``addmm(beta, input, alpha, mat1, mat2)``, ... Old programs still use them (``p.data.add_(-lr, grad)``).
They compute as the current signatures do; the first such call of a process warns, naming the signature it matched
and the current ones (one TORCH_WARN_ONCE site in PyTorch's argument parser, so one warning in all)."""
import functools
import numbers

from .._tensor import Tensor
from .._warnings import transparent
from ._util import warn_once

__all__ = []

_SCALARS = {"alpha", "beta", "value"}
_PRODUCTS = (("beta", "input", "alpha"), ("beta", "input"))
# op: (its deprecated positional forms, its current positional parameters, its scalar keywords)
_OPS = {
    "add": ((("input", "alpha", "other"),), ("input", "other"), ("alpha",)),
    "sub": ((("input", "alpha", "other"),), ("input", "other"), ("alpha",)),
    "addcmul": ((("input", "value", "tensor1", "tensor2"),), ("input", "tensor1", "tensor2"), ("value",)),
    "addcdiv": ((("input", "value", "tensor1", "tensor2"),), ("input", "tensor1", "tensor2"), ("value",)),
    "addmm": (tuple(f + ("mat1", "mat2") for f in _PRODUCTS), ("input", "mat1", "mat2"), ("beta", "alpha")),
    "addmv": (tuple(f + ("mat", "vec") for f in _PRODUCTS), ("input", "mat", "vec"), ("beta", "alpha")),
    "addr": (tuple(f + ("vec1", "vec2") for f in _PRODUCTS), ("input", "vec1", "vec2"), ("beta", "alpha")),
    "addbmm": (tuple(f + ("batch1", "batch2") for f in _PRODUCTS), ("input", "batch1", "batch2"), ("beta", "alpha")),
    "baddbmm": (tuple(f + ("batch1", "batch2") for f in _PRODUCTS), ("input", "batch1", "batch2"),
                ("beta", "alpha")),
}
_OUT_DTYPE = {"addmm", "baddbmm"}   # the functions with a second current signature, taking out_dtype


def _signature(name, parameters, keywords=(), method=False):
    """PyTorch's printed signature: ``add(Tensor input, Number alpha, Tensor other, *, Tensor out = None)``."""
    listed = [f"{'Number' if p in _SCALARS else 'Tensor'} {p}" for p in parameters if not (method and p == "input")]
    after = [f"Number {k} = 1" for k in keywords] + ([] if method else ["Tensor out = None"])
    return f"{name}({', '.join(listed + (['*'] + after if after else []))})"


def _message(name, form, op, method):
    forms, current, keywords = _OPS[op]
    instead = [_signature(name, current, keywords, method)]
    if not method and op in _OUT_DTYPE:
        instead.append(instead[0].replace(", *,", ", torch.dtype out_dtype, *,"))
    return (f"This overload of {name} is deprecated:\n\t{_signature(name, form, method=method)}\n"
            "Consider using one of the following signatures instead:\n\t" + "\n\t".join(instead))


def _bind(form, args, kwargs, method):
    """The current call's keyword arguments if ``args`` and ``kwargs`` fill ``form`` (scalars as numbers or 0-d
    tensors), else None."""
    if method:
        form = tuple(p for p in form if p != "input")
    if len(args) > len(form) or any(p in kwargs for p in form[:len(args)]):
        return None
    bound = dict(zip(form, args))
    for parameter in form[len(args):]:
        if parameter not in kwargs:
            return None
        bound[parameter] = kwargs[parameter]
    if set(kwargs) - set(form) - ({"out"} if not method else set()):
        return None
    for parameter, value in bound.items():
        if parameter in _SCALARS:
            if isinstance(value, Tensor) and value.ndim == 0:
                bound[parameter] = value.item()
            elif not isinstance(value, numbers.Number):
                return None
        elif not isinstance(value, Tensor) and not (parameter == "other" and isinstance(value, numbers.Number)):
            return None   # PyTorch takes a number for a tensor only as add's and sub's ``other``
    if "out" in kwargs:
        bound["out"] = kwargs["out"]
    return bound


def _accepting(function, op, name, method):
    """``function`` (the torch-level function, or the Tensor method ``name``) also taking ``op``'s deprecated forms."""
    forms, current, _ = _OPS[op]
    positional = current[1:] if method else current

    @transparent
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        given = args[1:] if method else args
        if len(given) > len(positional) or kwargs and any(p in kwargs for p in positional[:len(given)]):
            for form in forms:
                bound = _bind(form, given, kwargs, method)
                if bound is not None:
                    warn_once("deprecated signature", _message(name, form, op, method))
                    tensors = [bound.pop(p) for p in positional]
                    return function(*args[:1], *tensors, **bound) if method else function(*tensors, **bound)
        return function(*args, **kwargs)
    return wrapper


def install(namespace, cls):
    """Replaces the ops' functions in a module's namespace dict, and their methods and in-place methods on ``cls``,
    by forms that also take the deprecated signatures."""
    for op in _OPS:
        # each wrapper is named as this module's <op> or Tensor.<name>: pickled by reference (as torch's functions),
        # and still an op of ember.ops to the script compiler
        namespace[op] = globals()[op] = _named(_accepting(namespace[op], op, op, method=False), op)
        for name in (op, op + "_"):
            setattr(cls, name, _named(_accepting(getattr(cls, name), op, name, method=True), f"Tensor.{name}"))


def _named(wrapper, qualname):
    wrapper.__module__, wrapper.__qualname__ = __name__, qualname
    return wrapper
