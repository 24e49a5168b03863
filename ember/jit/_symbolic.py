"""Symbolic sizes while tracing: the shape of a tensor computed from the trace's inputs reads as ``SymInt``s, ints
that also know how to record themselves (``aten::size`` of the tensor, then ``aten::add``/``sub``/``mul``/``floordiv``
of other sizes and constants), as PyTorch's tracer records sizes. A target shape built from them (``reshape(length,
batch * heads, -1)``) is recorded as those nodes, so the trace follows the inputs' sizes; anywhere else a SymInt is
the plain int it equals. Dividing a constant by a size gives a plain int (a ``-1`` inferred from the element count
stays as traced, but the reshape that inferred it records ``-1`` there: see ``inferring``)."""
import operator

__all__ = ["SymInt", "Inferred", "inferring", "plain"]


class SymInt(int):
    """An int read from a traced tensor's shape, or computed from such ints, with the recipe of its graph Value."""

    def __new__(cls, number, tracer, build):
        obj = super().__new__(cls, number)
        obj._tracer, obj._build, obj._value = tracer, build, None
        return obj

    def value(self):
        """The graph Value computing this size; its nodes are recorded on first use."""
        if self._value is None:
            self._value = self._build()
        return self._value


def _operator(kind, op, reflected=False):
    def method(self, other):
        if not isinstance(other, int) or isinstance(other, bool):
            return NotImplemented
        left, right = (other, self) if reflected else (self, other)
        tracer = self._tracer

        def build():
            inputs = [x.value() if isinstance(x, SymInt) else tracer.constant(int(x)) for x in (left, right)]
            return tracer.size_node(kind, inputs)
        return SymInt(op(int(left), int(right)), tracer, build)
    return method


for _name, _kind, _op in (("add", "aten::add", operator.add), ("sub", "aten::sub", operator.sub),
                          ("mul", "aten::mul", operator.mul)):
    setattr(SymInt, f"__{_name}__", _operator(_kind, _op))
    setattr(SymInt, f"__r{_name}__", _operator(_kind, _op, reflected=True))
SymInt.__floordiv__ = _operator("aten::floordiv", operator.floordiv)


class Inferred(int):
    """A size that a reshape inferred from its ``-1``: recorded as ``-1`` again, so it is inferred at run time."""


def inferring(infer_shape):
    """``infer_shape`` (shape, numel) -> shape, marking the size it infers for a ``-1`` as ``Inferred``."""
    def infer(shape, numel):
        result = infer_shape(shape, numel)
        shape = list(shape)
        if -1 not in shape:
            return result
        index = shape.index(-1)
        return result[:index] + (Inferred(result[index]),) + result[index + 1:]
    return infer


def plain(obj):
    """``obj`` with every SymInt (in tuples, lists and slices too) turned into its int."""
    if isinstance(obj, (SymInt, Inferred)):
        return int(obj)
    if isinstance(obj, slice):
        return slice(plain(obj.start), plain(obj.stop), plain(obj.step))
    if isinstance(obj, (tuple, list)) and any(isinstance(o, (SymInt, Inferred, slice, tuple, list)) for o in obj):
        return (list if isinstance(obj, list) else tuple)(plain(o) for o in obj)
    return obj
