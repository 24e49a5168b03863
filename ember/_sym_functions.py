"""PyTorch's ``sym_*`` helpers (``torch.sym_max``, ``torch.sym_int``, ...), which model code calls on sizes so that
tracing need not branch on them. ember's sizes are Python ints (the jit's traced sizes are ``int`` subclasses), so
each is the plain arithmetic PyTorch defines for ints and floats."""
import builtins
import math
import numbers

__all__ = ["SymFloat", "SymBool", "sym_float", "sym_int", "sym_max", "sym_min", "sym_not", "sym_ite", "sym_sqrt",
           "sym_sum", "sym_constrain_range", "sym_constrain_range_for_size", "sym_fresh_size"]

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


_LONG_MIN, _LONG_MAX = -2 ** 63, 2 ** 63 - 1


def _constrain(name, size, low, high):
    if not isinstance(size, _NUMBERS) and not hasattr(size, "__index__"):
        raise TypeError(f"{name}(): argument 'size' (position 1) must be Number, not {type(size).__name__}")
    if not low <= int(size) <= high:
        raise RuntimeError(f"Invalid value range for {int(size)} between [{low}, {high}].")


def sym_constrain_range(size, *, min=None, max=None):
    """Checks that ``size`` lies in [min, max] (a RuntimeError otherwise); export records the range of a symbolic
    size, an eager size is only checked."""
    _constrain("sym_constrain_range", size, _LONG_MIN if min is None else min, _LONG_MAX if max is None else max)


def sym_constrain_range_for_size(size, *, min=None, max=None):
    """``sym_constrain_range`` for a value used as a size: ``min`` is 0 by default and ``max`` must exceed 2."""
    if max is not None and max <= 2:
        raise RuntimeError(f"Max value to constrain_range_for_size must be greater than 2. got: {max}")
    _constrain("sym_constrain_range_for_size", size, 0 if min is None else min, _LONG_MAX if max is None else max)


def sym_fresh_size(expr):
    """A size that tracing would make a new symbol: eagerly, ``expr``'s value read back from a tensor, as PyTorch."""
    from .ops.creation import tensor
    return tensor(expr).item()
