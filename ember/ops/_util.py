"""What every op module shares: installing Tensor methods, type promotion, in-place writes, dim handling."""
import functools

import numpy

from .. import _dtype
from .._tensor import Tensor, _make, _wrap_dim
from ..autograd.function import Primitive, composite
from ..autograd.grad_mode import state

_ndarray = numpy.ndarray
_FLOAT = _dtype._FLOAT


def quiet(forward):
    """Decorator: runs ``forward`` with NumPy's floating-point warnings off, as PyTorch returns inf/nan silently where
    NumPy would warn (log(0), 0/0, exp overflow)."""
    try:   # numpy.errstate rebuilds its state on every call (~0.8 us); set the prebuilt one when NumPy exposes it
        from numpy._core._ufunc_config import _extobj_contextvar as errors
    except ImportError:
        return numpy.errstate(all="ignore")(forward)
    with numpy.errstate(all="ignore"):
        ignore_all = errors.get()

    @functools.wraps(forward)
    def quiet_forward(*args):
        token = errors.set(ignore_all)
        try:
            return forward(*args)
        finally:
            errors.reset(token)
    return quiet_forward


def tensor_method(*names):
    """Decorator: installs the function as a Tensor method under its own name and any extra ``names``."""
    def install(function):
        for name in (function.__name__,) + names:
            setattr(Tensor, name, function)
        return function
    if len(names) == 1 and callable(names[0]):
        function, names = names[0], ()
        return install(function)
    return install


def inplace_method(function, name=None):
    """Installs ``Tensor.<name>_``: computes ``function(self, ...)`` and writes the result into self."""
    def method(self, *args, **kwargs):
        return assign_inplace(self, function(self, *args, **kwargs))
    method.__name__ = name or function.__name__ + "_"
    method.__doc__ = f"In-place version of :func:`{function.__name__}`."
    setattr(Tensor, method.__name__, method)
    return method


_renamed_nodes = {}


def name_node(result, name):
    """Shows the node that just made ``result`` under PyTorch's name for the op (``MeanBackward0`` for a mean built
    from a sum and a division); its backward stays that of the primitive. Returns ``result``."""
    node = result.grad_fn
    if node is not None:
        base = type(node)
        renamed = _renamed_nodes.get((base, name))
        if renamed is None:
            renamed = _renamed_nodes[(base, name)] = type(name, (base,), {"__module__": base.__module__})
        node.__class__ = renamed
    return result


def check_inplace_allowed(self):
    """PyTorch's errors for in-place changes to leaves (or views of leaves) that require grad."""
    if state.enabled:
        if self.requires_grad and self.grad_fn is None and self._base is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        base = self._base
        if base is not None and base.requires_grad and base.grad_fn is None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")


@composite("AssignInplace")
def assign_inplace(self, result):
    """Writes ``result`` into self's memory, bumps the version and moves self to result's place in the graph."""
    check_inplace_allowed(self)
    if result._data.shape != self._data.shape:
        try:
            numpy.broadcast_shapes(result._data.shape, self._data.shape)
        except ValueError:
            pass
        else:
            if numpy.broadcast_shapes(result._data.shape, self._data.shape) == self._data.shape:
                result = result.expand(self.shape)
        if result._data.shape != self._data.shape:
            raise RuntimeError(f"output with shape {list(self._data.shape)} doesn't match the broadcast shape "
                               f"{list(result._data.shape)}")
    if result._data.dtype != self._data.dtype:
        source, target = result.dtype, self.dtype
        if not _dtype.can_cast(source, target):
            raise RuntimeError(f"result type {_dtype.scalar_type_name(source)} can't be cast to the desired output "
                               f"type {_dtype.scalar_type_name(target)}")
        if result.requires_grad:
            result = result.to(target)
    node = result.grad_fn
    if node is not None:
        node._snapshot_input(self)
    root = self._base
    if root is not None and state.enabled and (root.requires_grad or result.requires_grad):
        return _assign_through_view(self, root, result)
    if result._data is not self._data:
        self._data[...] = result._data
    self._version_counter[0] += 1
    if node is not None:
        self.grad_fn, self._output_nr, self.requires_grad = node, result._output_nr, True
        _retarget_outputs(node, result, self)
    return self


def _assign_through_view(view, root, result):
    """In-place write into a view of a tensor in the graph (PyTorch's CopySlices): the root becomes "old root with
    the view's elements replaced by ``result``", and the view becomes those elements of the new root."""
    space = root
    if view._data.dtype != root._data.dtype:   # a real view (real, imag, view_as_real) of a complex root
        from .complex import ViewAsComplex, ViewAsReal
        space = ViewAsReal.apply(root)
    index = _make(_flat_index(view, space))
    new_space = _WriteThroughView.apply(space, result.to(view.dtype), index)
    new_root = new_space if space is root else ViewAsComplex.apply(new_space)
    root._data[...] = new_root._data
    root._version_counter[0] += 1
    root.grad_fn, root._output_nr, root.requires_grad = new_root.grad_fn, 0, True
    view.grad_fn, view._output_nr, view.requires_grad = _TakeFlat.apply(new_space, index).grad_fn, 0, True
    return view


def _flat_index(view, root):
    """Flat positions in ``root`` of each element of ``view`` (a view into root's row-major memory)."""
    from .._backend import xp_of
    if not root._data.flags.c_contiguous:
        raise RuntimeError("an in-place operation on a view of a non-contiguous tensor cannot be recorded for "
                           "autograd; call .contiguous() on the base tensor first")
    xp = xp_of(root._data)
    itemsize = root._data.itemsize
    index = xp.full(view._data.shape, (view.data_ptr() - root.data_ptr()) // itemsize, dtype=xp.int64)
    for axis, (size, stride) in enumerate(zip(view._data.shape, view._data.strides)):
        index += (xp.arange(size) * (stride // itemsize)).reshape((-1,) + (1,) * (view._data.ndim - axis - 1))
    return index


class _WriteThroughView(Primitive):
    """``root`` with the elements at flat positions ``index`` replaced by ``value``."""

    @staticmethod
    def forward(ctx, root, value, index):
        ctx.save_for_backward(index)
        out = root.copy()
        out.reshape(-1)[index.reshape(-1)] = value.reshape(-1)
        return out

    @staticmethod
    def backward(ctx, grad):
        index, = ctx.saved_tensors
        keep = ctx.xp.ones(grad.shape, dtype=grad._data.dtype)
        keep.reshape(-1)[index._data.reshape(-1)] = 0
        return grad * _make(keep), _TakeFlat.apply(grad, index), None


class _TakeFlat(Primitive):
    """The elements of ``a`` at flat positions ``index`` (shaped like ``index``)."""

    @staticmethod
    def forward(ctx, a, index):
        ctx.save_for_backward(index)
        ctx.shape = a.shape
        return a.reshape(-1)[index]

    @staticmethod
    def backward(ctx, grad):
        index, = ctx.saved_tensors
        return _PutFlat.apply(grad, index, ctx.shape), None


class _PutFlat(Primitive):
    """Adjoint of _TakeFlat: zeros of ``shape`` with ``g`` summed in at flat positions ``index``."""

    @staticmethod
    def forward(ctx, g, index, shape):
        ctx.save_for_backward(index)
        out = ctx.xp.zeros(shape, dtype=g.dtype)
        ctx.xp.add.at(out.reshape(-1), index.reshape(-1), g.reshape(-1))
        return out

    @staticmethod
    def backward(ctx, grad):
        index, = ctx.saved_tensors
        return _TakeFlat.apply(grad, index), None


def _retarget_outputs(node, result, self):
    """Makes saved references to the op's output point at ``self``, which now holds that output."""
    if node._saved:
        node._saved = tuple(("output", (self._version_counter, self._data, e[1][2]), self._version_counter[0])
                            if e is not None and e[0] == "output" and e[1][1] is result._data else e
                            for e in node._saved)


def promote(*operands):
    """Casts tensor operands to the dtype PyTorch's promotion gives them; Python scalars stay scalars.

    Returns the operands (tensors cast where needed) followed by nothing else; raises on mixed devices.
    """
    first = operands[0]
    if isinstance(first, Tensor):
        dtype, array_type = first._data.dtype, type(first._data)
        if all(isinstance(o, Tensor) and o._data.dtype == dtype and type(o._data) is array_type for o in operands):
            return list(operands)
    target = _dtype.result_type(*operands)
    return [_cast(o, target) for o in operands]


def promote_pair(input, other):
    """Fast ``promote`` for the common binary case."""
    if isinstance(other, Tensor):
        if isinstance(input, Tensor):
            if type(input._data) is not type(other._data):
                check_same_device(input, other)
            if input._data.dtype is other._data.dtype or input._data.dtype == other._data.dtype:
                return input, other
    elif type(other) is float and isinstance(input, Tensor) and input._data.dtype.kind in "fc":
        return input, other
    target = _dtype.result_type(input, other)
    return _cast(input, target), _cast(other, target)


def _cast(operand, target):
    if isinstance(operand, Tensor):
        if operand.dtype is target:
            return operand
        if operand.requires_grad and state.enabled:
            return operand.to(target)
        return _make(operand._data.astype(target.numpy))
    if operand is None:
        return None
    if isinstance(operand, numpy.generic):
        operand = operand.item()
    category = target._category
    if category == _FLOAT:
        if target is _dtype.bfloat16:  # ml_dtypes widens bfloat16 + Python float to float32; a typed scalar does not
            return target.numpy.type(operand)
        return float(operand) if not isinstance(operand, complex) else operand
    if category == _dtype._COMPLEX:
        return complex(operand)
    if category == _dtype._INT:
        return int(operand)
    return operand


def check_same_device(*tensors):
    """RuntimeError naming both devices when tensors live on different devices (0-d CPU tensors excepted)."""
    devices = {t.device for t in tensors if isinstance(t, Tensor) and not (t.ndim == 0 and t.device.type == "cpu")}
    if len(devices) > 1:
        a, b = sorted(str(d) for d in devices)[::-1][:2]
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, {a} and "
                           f"{b}!")


def as_tensor_arg(value, like=None, dtype=None):
    """Turns a scalar, list or array argument into a tensor on ``like``'s device."""
    if isinstance(value, Tensor):
        return value
    from .creation import tensor
    if dtype is None and like is not None and not isinstance(value, (list, tuple, numpy.ndarray)):
        dtype = _dtype.result_type(like, value)
    return tensor(value, dtype=dtype, device=like.device if like is not None else None)


def wrap_dim(dim, ndim):
    """A dim in 0..ndim-1 from a possibly negative one, with PyTorch's IndexError when out of range."""
    return _wrap_dim(dim, ndim)


def wrap_dims(dim, ndim):
    """Normalizes ``dim`` (None, int or sequence) to a sorted tuple of non-negative dims; None means all."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (int, numpy.integer)):
        return (_wrap_dim(int(dim), ndim),)
    dims = tuple(_wrap_dim(int(d), ndim) for d in dim)
    if len(set(dims)) != len(dims):
        repeated = next(d for d in dims if dims.count(d) > 1)
        raise RuntimeError(f"dim {repeated} appears multiple times in the list of dims")
    return dims


def write_out(out, result, name="op"):
    """Implements ``out=``: stores ``result`` in ``out`` (resizing it if needed) and returns ``out``."""
    if out is None:
        return result
    if state.enabled and (result.requires_grad or out.requires_grad):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic differentiation, "
                           "but one of the arguments requires grad.")
    if result._data.dtype != out._data.dtype and not _dtype.can_cast(result.dtype, out.dtype):
        raise RuntimeError(f"result type {_dtype.scalar_type_name(result.dtype)} can't be cast to the desired output "
                           f"type {_dtype.scalar_type_name(out.dtype)}")
    if out._data.shape == result._data.shape:
        out._data[...] = result._data
    else:
        out._data = result._data.astype(out._data.dtype, copy=True)
    out._version_counter[0] += 1
    return out


def shape_arg(size):
    """Accepts ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` and ``f(Size)`` and returns a tuple of ints."""
    if len(size) == 1 and not isinstance(size[0], (int, numpy.integer)) and not (
            isinstance(size[0], Tensor) and size[0].ndim == 0):
        size = size[0]
    try:
        return tuple(int(s) for s in size)
    except TypeError as error:
        raise TypeError(f"expected a sequence of integers as size, got {size!r}") from error


def result(array):
    """Wraps a non-differentiable array result (an index, a mask) in a tensor."""
    return _make(array)
