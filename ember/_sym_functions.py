"""PyTorch's ``sym_*`` helpers (``torch.sym_max``, ``torch.sym_int``, ...), which model code calls on sizes so that
tracing need not branch on them. ember's sizes are Python ints (the jit's traced sizes are ``int`` subclasses), so
each is the plain arithmetic PyTorch defines for ints and floats."""
import builtins
import math
import numbers

__all__ = ["SymFloat", "SymBool", "sym_float", "sym_int", "sym_max", "sym_min", "sym_not", "sym_ite", "sym_sqrt",
           "sym_sum"]

_NUMBERS = (numbers.Integral, numbers.Real)


class SymFloat:
    """PyTorch's symbolic float of dynamic-shape tracing. ember's traces record sizes as ints (``SymInt``) and make no
    symbolic floats, so no value is one: ``isinstance(x, torch.SymFloat)`` is False, as on an eager PyTorch run."""


class SymBool:
    """PyTorch's symbolic bool of dynamic-shape tracing; as with ``SymFloat``, ember makes none."""


def _number(value):
    if not isinstance(value, _NUMBERS):
        raise AssertionError(f"expected {_NUMBERS}, got {type(value)}")
    return value


def sym_float(a):
    """``a`` as a float."""
    return float(a)


def sym_int(a):
    """``a`` as an int, truncated toward zero."""
    return int(a) if isinstance(a, numbers.Integral) else math.trunc(a)


def sym_max(a, b):
    """The larger of two numbers, a float when either is one."""
    result = builtins.max(_number(a), _number(b))
    return float(result) if isinstance(a, float) or isinstance(b, float) else result


def sym_min(a, b):
    """The smaller of two numbers, a float when either is one."""
    result = builtins.min(_number(a), _number(b))
    return float(result) if isinstance(a, float) or isinstance(b, float) else result


def sym_not(a):
    """``not a``."""
    return not a


def sym_ite(b, t, f):
    """``t if b else f``."""
    return t if b else f


def sym_sqrt(a):
    """The square root of a number, as a float."""
    return math.sqrt(a)


def sym_sum(args):
    """The sum of an iterable of numbers (0 when empty)."""
    return builtins.sum(args)
