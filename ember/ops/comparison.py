"""Elementwise comparisons; results are bool tensors outside the graph."""
import operator

from .._tensor import _make
from ._util import inplace_method, promote_pair, tensor_method, write_out

__all__ = ["eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal"]


def _comparison(name, function, symbol):
    def compare(input, other, *, out=None):
        a, b = promote_pair(input, other)
        a = a._data if hasattr(a, "_data") else a
        b = b._data if hasattr(b, "_data") else b
        return write_out(out, _make(function(a, b)), name)
    compare.__name__ = name
    compare.__doc__ = f"Elementwise ``input {symbol} other`` as a bool tensor, broadcasting."
    tensor_method(f"__{name}__")(compare)
    inplace_method(lambda self, other: compare(self, other).to(self.dtype), name + "_")
    return compare


eq = _comparison("eq", operator.eq, "==")
ne = _comparison("ne", operator.ne, "!=")
lt = _comparison("lt", operator.lt, "<")
le = _comparison("le", operator.le, "<=")
gt = _comparison("gt", operator.gt, ">")
ge = _comparison("ge", operator.ge, ">=")
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
