"""Nested ints: the symbolic size of a jagged tensor's ragged dim (``j1``, ``j2``, ...), one per offsets tensor.

Two jagged tensors have the same ragged size exactly when they share the offsets (or lengths) tensor, as in
PyTorch, where the nested int is cached on that tensor (here in its ``__dict__``); ops that keep the structure keep
the tensor, hence the size."""
import itertools

__all__ = ["NestedInt", "nested_int_for"]

_counter = itertools.count(1)


class NestedInt:
    """The size of a ragged dim: equal only to itself; ``coeff * j`` for strides (``4*j1``)."""

    __slots__ = ("id", "coeff")

    def __init__(self, id, coeff=1):
        self.id, self.coeff = id, coeff

    def __repr__(self):
        return f"j{self.id}" if self.coeff == 1 else f"{self.coeff}*j{self.id}"

    def __eq__(self, other):
        return isinstance(other, NestedInt) and (self.id, self.coeff) == (other.id, other.coeff)

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash(("nested_int", self.id, self.coeff))

    def __mul__(self, other):
        if isinstance(other, int) and not isinstance(other, bool):
            return NestedInt(self.id, self.coeff * other)
        return NotImplemented

    __rmul__ = __mul__

    def __bool__(self):
        return True


def nested_int_for(tensor):
    """The nested int of the ragged dim whose offsets (or lengths) are ``tensor``: a new one on first sight."""
    found = tensor.__dict__.get("_nested_int")
    if found is None:
        found = tensor.__dict__["_nested_int"] = NestedInt(next(_counter))
    return found
