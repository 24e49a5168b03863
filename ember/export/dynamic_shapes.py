"""``torch.export.dynamic_shapes``: ``Dim``, its hints (``Dim.AUTO``, ``Dim.STATIC``, ``Dim.DYNAMIC``), ``dims``, and
the reading of a ``dynamic_shapes`` spec against the inputs, with PyTorch's checks, error types and messages.

A spec mirrors the inputs: a dict keyed by the forward's argument names, or a tuple/list in their order; for each
tensor a dict ``{dim: spec}`` or a tuple/list with one spec per dim, each ``None``/an int/``Dim.STATIC`` (static),
a named ``Dim`` (dynamic within its range; dims sharing a name are equal) or ``Dim.AUTO``/``Dim.DYNAMIC``.
"""
import enum
import inspect
import math

from .._tensor import Tensor
from ..utils import _pytree

__all__ = ["AdditionalInputs", "ConstraintViolationError", "Dim", "GuardOnDataDependentSymNode", "ShapesCollection",
           "dims"]

int_oo = math.inf   # PyTorch's unbounded maximum of a Dim
_LINEAR_ONLY = "(Only increasing linear operations with integer coefficients are supported.)"


class ConstraintViolationError(RuntimeError):
    """An example input breaks its own spec (a static size or a Dim's range); PyTorch's
    ``torch.fx.experimental.symbolic_shapes.ConstraintViolationError``."""


class GuardOnDataDependentSymNode(RuntimeError):
    """The program branches in Python on a value computed from the inputs; PyTorch's
    ``torch.fx.experimental.symbolic_shapes.GuardOnDataDependentSymNode``."""


class _DimHintType(enum.Enum):
    AUTO = 1
    STATIC = 2
    DYNAMIC = 3


class _DimHint:
    """``Dim.AUTO`` (dynamic where the program allows), ``Dim.STATIC`` or ``Dim.DYNAMIC`` (an error where the program
    fixes the size); calling one gives it bounds: ``Dim.DYNAMIC(max=64)``."""

    def __init__(self, type, min=None, max=None, _factory=True):
        self.type, self.min, self.max, self._factory = type, min, max, _factory

    def __call__(self, min=None, max=None):
        if not self._factory:
            raise TypeError(f"'{type(self)}' object is not callable")
        if min is not None and min < 0:
            raise AssertionError(f"min must be non-negative, got {min}")
        if max is not None and max < 0:
            raise AssertionError(f"max must be non-negative, got {max}")
        if min is not None and max is not None and min > max:
            raise AssertionError(f"min must be <= max, got min={min}, max={max}")
        return _DimHint(self.type, min, max, _factory=False)

    def __eq__(self, other):
        return isinstance(other, _DimHint) and (self.type, self.min, self.max) == (other.type, other.min, other.max)

    __hash__ = None

    def __repr__(self):
        parts = [self.type.name] + [f"{k}={v}" for k, v in (("min", self.min), ("max", self.max)) if v is not None]
        return f"DimHint({', '.join(parts)})"


class Dim:
    """A named dynamic dimension with an inclusive range ``[min, max]``; every dim marked with the same name has the
    same size."""

    AUTO = _DimHint(_DimHintType.AUTO)
    DYNAMIC = _DimHint(_DimHintType.DYNAMIC)
    STATIC = _DimHint(_DimHintType.STATIC)

    def __init__(self, name, *, min=None, max=None):
        low, high = 0 if min is None else min, int_oo if max is None else max
        if not high > low:
            raise AssertionError(f"Cannot create Dim with inconsistent min={min}, max={max}")
        if not name.isidentifier():
            raise AssertionError(f"Dim name must be a valid identifier, got {name}")
        self.__name__, self.min, self.max = name, low, high

    def __add__(self, other):
        if type(other) is not int:
            raise NotImplementedError(f"Attempted to add {other} to {self.__name__}, where an integer was expected. "
                                      f"{_LINEAR_ONLY}")
        return self._derive(1, other)

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        if type(other) is not int:
            raise NotImplementedError(f"Attempted to subtract {other} from {self.__name__}, where an integer was "
                                      f"expected. {_LINEAR_ONLY}")
        return self._derive(1, -other)

    def __rsub__(self, other):
        raise NotImplementedError(f"Attempted to negate {self.__name__}. {_LINEAR_ONLY}")

    def __mul__(self, other):
        if type(other) is not int or other <= 0:
            raise NotImplementedError(f"Attempted to multiply {other} with {self.__name__}, where a positive integer "
                                      f"was expected. {_LINEAR_ONLY}")
        return self._derive(other, 0)

    def __rmul__(self, other):
        return self * other

    def _derive(self, scale, offset):
        return _DerivedDim(self, scale, offset)

    @staticmethod
    def _readable(name, low, high):
        low = None if low == 2 else low
        high = None if high == int_oo else high
        bounds = "".join(f", {k}={v}" for k, v in (("min", low), ("max", high)) if v is not None)
        return f"Dim('{name}'{bounds})"

    def __repr__(self):
        return Dim._readable(self.__name__, self.min, self.max)


class _DerivedDim(Dim):
    """``scale * root + offset`` of a named Dim (``2 * n``, ``n + 1``): its range follows the root's."""

    def __init__(self, root, scale, offset):
        self.root, self.scale, self.offset = root, scale, offset
        self.__name__ = linear_name(root.__name__, scale, offset)

    @property
    def min(self):
        low = self.scale * self.root.min + self.offset
        if low < 0:
            raise AssertionError(f"Expected derived min value of {self.__name__} to be >= 0. Please specify an "
                                 f"appropriate min value for {self.root.__name__} (currently {self.root.min}).")
        return low

    @property
    def max(self):
        return int_oo if self.root.max == int_oo else self.scale * self.root.max + self.offset

    def _derive(self, scale, offset):
        return _DerivedDim(self.root, self.scale * scale, self.offset * scale + offset)

    def __repr__(self):
        return self.__name__


def linear_name(root, scale, offset):
    """``scale * root + offset`` as sympy prints it: ``2*n + 1``, ``n - 1``, ``n``."""
    term = root if scale == 1 else f"{scale}*{root}"
    return term if not offset else f"{term} {'+' if offset > 0 else '-'} {abs(offset)}"


def dims(*names, min=None, max=None):
    """One ``Dim`` per name, all with the same range."""
    return tuple(Dim(name, min=min, max=max) for name in names)


def _user_error(message, case_name="dynamic_shapes_validation"):
    from .._dynamo.exc import UserError, UserErrorType
    return UserError(UserErrorType.INVALID_INPUT, message, case_name=case_name)


def combine_args(mod, args, kwargs):
    """The forward's arguments by name, as ``mod.forward(*args, **kwargs)`` binds them."""
    return inspect.signature(mod.forward).bind(*args, **kwargs).arguments


def keystr(path):
    """A key path as PyTorch prints it: ``[0]['a']``."""
    return "".join(f"[{key!r}]" for key in path)


def _children(node):
    """The (key, child) pairs of a container input, or None for a leaf."""
    if _pytree.tree_is_leaf(node):
        return None
    children, context = _pytree._children(node)
    keys = context if isinstance(node, dict) else range(len(children))
    return list(zip(keys, children))


def _match_structure(inputs, spec, path):
    """Raises PyTorch's error where ``spec`` does not have the structure of ``inputs`` (None covers a subtree)."""
    items = _children(inputs)
    if items is None or spec is None:
        return
    where = keystr(path)
    if _children(spec) is None:
        raise _user_error(f"Detected mismatch between the structure of `inputs` and `dynamic_shapes`: `inputs{where}` "
                          f"is a {type(inputs)}, but `dynamic_shapes{where}` is not")
    if type(spec) is not type(inputs):
        raise _user_error(f"Detected mismatch between the structure of `inputs` and `dynamic_shapes`: `inputs{where}` "
                          f"is a {type(inputs)}, but `dynamic_shapes{where}` is a {type(spec)}")
    if len(spec) != len(items):
        raise _user_error(f"Detected mismatch between the structure of `inputs` and `dynamic_shapes`: `inputs{where}` "
                          f"has {len(items)} elements, but `dynamic_shapes{where}` has {len(spec)} elements")
    if isinstance(inputs, dict):
        if set(spec) != set(inputs):
            raise _user_error(f"Detected mismatch between the structure of `inputs` and `dynamic_shapes`: "
                              f"`inputs{where}` has keys {list(inputs)}, but `dynamic_shapes{where}` has keys "
                              f"{list(spec)}")
        for key, child in items:
            _match_structure(child, spec[key], path + (key,))
    else:
        for (key, child), child_spec in zip(items, spec):
            _match_structure(child, child_spec, path + (key,))


def _leaves_with_specs(inputs, spec, path):
    """(path, leaf, its spec) for every leaf of ``inputs``."""
    items = _children(inputs)
    if items is None:
        return [(path, inputs, spec)]
    return [entry for key, child in items
            for entry in _leaves_with_specs(child, None if spec is None else spec[key], path + (key,))]


def _dim_entries(shape):
    return shape.items() if isinstance(shape, dict) else enumerate(shape)


def _check_leaf(path, leaf, shape, bounds):
    """PyTorch's checks of one leaf's spec (``check_shape``): its form, and one range per Dim name."""
    where = keystr(path)
    if not isinstance(leaf, Tensor):
        if isinstance(leaf, int) and not isinstance(leaf, bool):
            if isinstance(shape, Dim):
                raise ValueError("Unable to specify input integers as dynamic through named Dims. Please use "
                                 "Dim.AUTO/DYNAMIC instead.")
            if shape is not None and not isinstance(shape, (int, _DimHint)):
                raise AssertionError(f"expected dynamic_shape to be None, int, or _DimHint for _IntWrapper, got "
                                     f"{type(shape)}")
        elif shape is not None:
            raise _user_error(f"Cannot associate shape {shape} specified at `dynamic_shapes{where}` to non-tensor type "
                              f"{type(leaf)} at `inputs{where}` (expected None)")
        return
    if shape is None:
        return
    if not isinstance(shape, (dict, tuple, list)):
        raise _user_error(f"Unexpected input tensor shape {shape} specified at `dynamic_shapes{where}` "
                          "(expected either a list/tuple of dimensions, or a dict mapping indices to dimensions, "
                          "where each dimension is an int, a Dim, Dim.AUTO, Dim.STATIC, or Dim.DYNAMIC)")
    if not isinstance(shape, dict) and len(shape) != leaf.ndim:
        raise _user_error(f"Expected dynamic shape spec {shape} specified at `dynamic_shapes{where}` to have the same "
                          f"length as the actual tensor shape {leaf.shape} (expected {leaf.ndim}, but got "
                          f"{len(shape)} instead)")
    for i, dim in _dim_entries(shape):
        if isinstance(dim, Dim):
            low, high = bounds.setdefault(dim.__name__, (dim.min, dim.max))
            if (dim.min, dim.max) != (low, high):
                raise _user_error(f"Found different definitions {Dim._readable(dim.__name__, low, high)} and "
                                  f"{Dim._readable(dim.__name__, dim.min, dim.max)} for the same symbolic dimension "
                                  f"{dim}!", None)
        elif dim is not None and not isinstance(dim, (int, _DimHint)):
            index = f"to index {i}" if isinstance(shape, dict) else f"#{i}"
            mapped = "mapped " if isinstance(shape, dict) else ""
            space = " " if isinstance(shape, dict) else ""   # PyTorch's dict message has two spaces there
            raise _user_error(f"Unexpected dimension {mapped}{index} in input tensor shape {shape} specified at "
                              f"`dynamic_shapes{where}` (expected None, an int, a Dim, Dim.AUTO, Dim.STATIC, or "
                              f"Dim.DYNAMIC, {space}but got {dim!r} instead)")


def read_dynamic_shapes(combined, dynamic_shapes):
    """Checks ``dynamic_shapes`` against the bound arguments ``combined`` as PyTorch does; returns ``{id(tensor):
    (source path, {dim: spec})}`` for the tensors it marks (every other dim is static)."""
    if dynamic_shapes is None or len(dynamic_shapes) == 0:
        return {}
    if not isinstance(dynamic_shapes, (dict, tuple, list)):
        raise AssertionError(f"expected dynamic_shapes to be dict, tuple, or list, got {type(dynamic_shapes)}")
    if isinstance(dynamic_shapes, dict):
        got, expected = list(dynamic_shapes), list(combined)
        if sorted(got) != sorted(expected):
            hint = ("Since here `inputs` is a list/tuple enclosing a single dict, maybe you just forgot to enclose "
                    "`dynamic_shapes` in a list/tuple?") if len(expected) == 1 and expected[0] not in got and \
                isinstance(combined[expected[0]], dict) else ("Alternatively, you could also ignore arg names "
                                                              "entirely and specify `dynamic_shapes` as a list/tuple "
                                                              "matching `inputs`.")
            raise _user_error(f"When `dynamic_shapes` is specified as a dict, its top-level keys must be the arg names "
                              f"{expected} of `inputs`, but here they are {got}. {hint}")
        inputs = dict(combined)
    else:
        inputs = type(dynamic_shapes)(combined.values())
    _match_structure(inputs, dynamic_shapes, ())
    leaves = _leaves_with_specs(inputs, dynamic_shapes, ())
    bounds = {}
    for path, leaf, shape in leaves:
        _check_leaf(path, leaf, shape, bounds)
    marked = {}
    for path, leaf, shape in leaves:
        if isinstance(leaf, Tensor) and shape is not None:
            marked[id(leaf)] = (path, _normalized(shape, leaf.ndim))
        elif shape is not None and shape == Dim.DYNAMIC:
            name = f"L{keystr(path)}"
            raise _user_error(f"Constraints violated ({name})! For more information, run with TORCH_LOGS=\"+dynamic\"."
                              f"\n  - You marked {name} as dynamic but ember's export specializes input integers "
                              f"to their example value ({leaf}). Use Dim.STATIC or Dim.AUTO.", None)
    return marked


def _normalized(shape, ndim):
    """``{dim: spec}`` with negative dims counted from the end and static entries (None, STATIC) left out."""
    dims = {}
    for i, dim in _dim_entries(shape):
        if not -ndim <= i < ndim:
            raise IndexError("list assignment index out of range")
        if dim is not None and dim != Dim.STATIC:
            dims[i % ndim] = dim
    return dims


class ShapesCollection:
    """Builds a ``dynamic_shapes`` spec from shapes assigned to the input tensors themselves
    (``shapes[x] = {0: batch}``), for inputs nested too deep to mirror by hand."""

    def __init__(self):
        self._shapes = {}

    def __setitem__(self, t, shape):
        if not isinstance(t, Tensor):
            raise AssertionError(f"Cannot assign shape to non-tensor or non-_IntWrapper type {type(t)}")
        if id(t) in self._shapes and self._shapes[id(t)] != shape:
            raise AssertionError(f"Shapes assigned to input do not match: expected {self._shapes[id(t)]}, got {shape}")
        self._shapes.setdefault(id(t), shape)

    def __getitem__(self, t):
        return self._shapes.setdefault(id(t), {})

    def __len__(self):
        return len(self._shapes)

    def dynamic_shapes(self, m, args, kwargs=None):
        """The spec mirroring ``m.forward``'s bound arguments, each tensor's assigned shape in its place."""
        found = set()

        def shape_of(t):
            if id(t) in self._shapes:
                found.add(id(t))
                return self._shapes[id(t)]
            return None
        spec = _pytree.tree_map(shape_of, dict(combine_args(m, args, kwargs or {})))
        if set(self._shapes) - found:
            raise ValueError("Some tensors that were assigned shapes were not found in args. Maybe such tensors were "
                             "copied when passing them as args? Maybe such tensors are contained in classes that were "
                             "not registered with pytree?")
        return spec


class AdditionalInputs:
    """Infers ``dynamic_shapes`` from more example inputs: a size that differs between them is ``Dim.DYNAMIC``, one
    that never does is static; ``verify`` checks an exported program accepts each of them."""

    def __init__(self):
        self._examples = []

    def add(self, args, kwargs=None):
        """Adds one more set of example inputs."""
        if type(args) is not tuple:
            raise AssertionError(f"Representative args {args} must be a tuple")
        if kwargs is not None and type(kwargs) is not dict:
            raise AssertionError(f"Representative kwargs {kwargs} must be None or a dict")
        self._examples.append((args, kwargs))

    def dynamic_shapes(self, m, args, kwargs=None):
        """The spec that marks dynamic every size differing between ``(args, kwargs)`` and the added inputs."""
        first, *others = [_pytree.tree_map(lambda t: tuple(t.shape) if isinstance(t, Tensor) else t,
                                           dict(combine_args(m, a, k or {})))
                          for a, k in [(args, kwargs), *self._examples]]

        def dynamism(value, *other_values):
            if not all(type(value) is type(other) for other in other_values):
                raise ValueError("The following inputs were found to have differing types, so they cannot be marked "
                                 f"as dynamic: {(value,) + other_values}.")
            if isinstance(value, int) and not isinstance(value, bool):
                return None if all(other == value for other in other_values) else Dim.DYNAMIC
            if not all(other == value for other in other_values):
                raise ValueError("The following inputs were found to have differing values, but they cannot be "
                                 f"marked as dynamic: {(value,) + other_values}.")
            return None
        return _pytree.tree_map(dynamism, first, *others, is_leaf=lambda i: type(i) is int)

    def verify(self, ep):
        """Checks that ``ep``'s module accepts every added input (its structure and guards), without running it;
        RuntimeError, as PyTorch's, naming the first guard an input fails."""
        from ._constraints import check
        from ._inputs import matched
        for args, kwargs in self._examples:
            try:
                check(ep._call.checks, ep._call.sources, matched(ep._call.in_spec, args, kwargs or {}))
            except AssertionError as error:
                raise RuntimeError(f"{error}. If you meant for this dimension to be dynamic, please re-export and "
                                   "specify dynamic_shapes (e.g. with Dim.DYNAMIC)") from None
