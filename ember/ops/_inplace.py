"""In-place writes: ``Tensor.<op>_`` methods, PyTorch's checks on them, and recording a write into a view of a
tensor in the graph (PyTorch's CopySlices) so that gradients flow to the whole base."""
import numpy

from .. import _dtype, _compat
from .._backend import MetaArray, xp_of
from .._tensor import NO_GRAD_VIEW, Tensor, _make
from ..autograd import function as _function
from ..autograd.function import Primitive, composite
from ..autograd.grad_mode import check_inference_write, state
from . import _buffers
from ._util import name_node, warn_once
from .complex import ViewAsComplex, ViewAsReal


methods = []
"""The ``(name, method)`` of each ``Tensor.<op>_`` installed here (``_dispatch_inplace`` hands them to
``__torch_dispatch__`` handlers whole)."""


def inplace_method(function, name=None, promotes=True):
    """Installs ``Tensor.<name>_``: computes ``function(self, ...)`` and writes the result into self. ``promotes``:
    the op's result takes its operands' promoted dtype (comparisons' does not), which self must be able to hold."""
    op = getattr(function, "op", None)
    if op is not None and op.trace_inside:   # autocast casts out-of-place calls only, as PyTorch's lists do
        function = op.function
    def method(self, *args, **kwargs):
        try:
            if _function._pushed:   # saved-tensor hooks: ops saving self pack its value before the write
                return assign_inplace(self, _function.overwriting(self, function, args, kwargs))
            return assign_inplace(self, function(self, *args, **kwargs))
        except NotImplementedError:
            if promotes:
                _check_castable(self, args)
            raise
        except TypeError:   # arguments no signature of the in-place method takes: PyTorch's error, by the name called
            from .. import _arg_parser   # (loaded on errors only)
            _arg_parser.check_call(method, (self,) + args, kwargs, function)
            raise
    method.__name__ = name or function.__name__ + "_"
    method.__qualname__ = f"Tensor.{method.__name__}"   # this module's Tensor.<name>: pickled by reference, as torch's
    method.__doc__ = f"In-place version of :func:`{function.__name__}`."
    setattr(Tensor, method.__name__, method)
    methods.append((method.__name__, method))
    return method


def _check_castable(self, args):
    """PyTorch's error for an in-place op whose result type (complex, from a complex operand) self cannot hold: it
    comes before the kernel's refusal of that type, which is all the op itself raised."""
    if self._data.dtype.kind != "c" and any(isinstance(a, (complex, numpy.complexfloating)) or
                                            isinstance(a, Tensor) and a._data.dtype.kind == "c" for a in args):
        result = _dtype.result_type(self, *args)
        raise RuntimeError(f"result type {_dtype.scalar_type_name(result)} can't be cast to the desired output type "
                           f"{_dtype.scalar_type_name(self.dtype)}")


_MULTI_OUTPUT = ("This view is the output of a function that returns multiple views. Such functions do not allow "
                 "the output views to be modified inplace. You should replace the inplace operation by an out-of-place "
                 "one.")
_NO_GRAD = "A view was created in no_grad mode and is being modified inplace with grad mode enabled."


def check_inplace_allowed(self, requires_grad=False):
    """PyTorch's errors for in-place changes to leaves (or views of leaves) that require grad, and to views it does
    not let an in-place change rewrite the graph of (made in no_grad mode, or one of several outputs) where the change
    would be recorded (``requires_grad``: another operand requires grad)."""
    check_inference_write(self)
    if state.enabled:
        creation = self._view_creation
        if creation is not None:
            base = self._base
            tracked = base is not None and base.requires_grad
            if requires_grad or self.requires_grad or tracked:
                if creation == NO_GRAD_VIEW:
                    raise RuntimeError(f"{_NO_GRAD} Given that this use case is ambiguous and error-prone, it is "
                                       "forbidden. You can clarify your code by moving both the view and the inplace "
                                       "either both inside the no_grad block (if you don't want the inplace to be "
                                       "tracked) or both outside (if you want the inplace to be tracked).")
                name, index = creation
                head = f"Output {index} of {name} is a view and is being modified inplace." if tracked else _NO_GRAD
                raise RuntimeError(f"{head} {_MULTI_OUTPUT}")
        if self.requires_grad and self.grad_fn is None and self._base is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        base = self._base
        if base is not None and base.requires_grad and base.grad_fn is None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")


@composite("AssignInplace")
def assign_inplace(self, result, overlap_ok=False):
    """Writes ``result`` into self's memory, bumps the version and moves self to result's place in the graph.
    ``overlap_ok``: self may be expanded so that elements share memory (``fill_``, which PyTorch lets write one
    value everywhere); other writes into such a tensor raise PyTorch's error."""
    check_inplace_allowed(self, result.requires_grad)
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
        node._snapshot_input(self, _buffers.copy)
    root = self._base
    if root is not None and state.enabled and (root.requires_grad or result.requires_grad):
        if not overlap_ok and overlaps(self._data):   # (the write below checks this where no graph is recorded)
            raise RuntimeError(OVERLAP_MESSAGE)
        return _assign_through_view(self, root, result)
    if result._data is not self._data and type(self._data) is not MetaArray:   # a meta tensor has nothing to write
        values = result._data
        if values.dtype != self._data.dtype:
            if values.dtype.kind == "c" and self._data.dtype.kind != "c":
                values = discard_imaginary(values)
            if self._data.dtype.itemsize <= 2 and self._data.dtype.kind in "fV":   # 16-, 8-bit floats as c10 casts
                values = _dtype.cast_array(values, self._data.dtype, copy=False)
        try:
            self._data[...] = values
        except ValueError:   # a read-only NumPy view: an expanded tensor or a part of one
            writeable(self._data, check_overlap=not overlap_ok)[...] = values
    self._version_counter[0] += 1
    if node is not None:
        _move_retained(self, node, result._output_nr)
        self.grad_fn, self._output_nr, self.requires_grad = node, result._output_nr, True
        _retarget_outputs(node, result, self)
    return self


def discard_imaginary(array):
    """The real part of complex ``array`` cast to a real dtype, with PyTorch's warning (once per process)."""
    warn_once("complex to real", "Casting complex values to real discards the imaginary part")
    return array.real


OVERLAP_MESSAGE = ("unsupported operation: more than one element of the written-to tensor refers to a single memory "
                   "location. Please clone() the tensor before performing the operation.")


def overlaps(array):
    """Whether two elements of ``array`` share memory (a dim of stride 0 and size > 1: PyTorch's internal overlap)."""
    return any(stride == 0 and size > 1 for stride, size in zip(array.strides, array.shape))


def writeable(array, check_overlap=True):
    """A writeable NumPy view of read-only ``array``'s memory, for a write PyTorch allows: ``broadcast_to`` (expand)
    makes read-only views, but PyTorch refuses only a write where two elements share memory, with its error
    (``check_overlap=False``: the caller checks the part it writes); other read-only arrays raise NumPy's."""
    if check_overlap and overlaps(array):
        raise RuntimeError(OVERLAP_MESSAGE)
    owner = array
    while isinstance(owner.base, numpy.ndarray):
        owner = owner.base
    if type(array) is not numpy.ndarray or owner is array or not owner.flags.writeable:
        raise ValueError("assignment destination is read-only")
    offset = array.__array_interface__["data"][0] - owner.__array_interface__["data"][0]
    return numpy.ndarray(array.shape, array.dtype, buffer=owner, offset=offset, strides=array.strides)


def _assign_through_view(view, root, result):
    """In-place write into a view of a tensor in the graph (PyTorch's CopySlices): the root becomes "old root with
    the view's elements replaced by ``result``", and the view becomes those elements of the new root."""
    space = root
    if view._data.dtype != root._data.dtype:   # a real view (real, imag, view_as_real) of a complex root
        space = ViewAsReal.apply(root)
    index = _make(_flat_index(view, space))
    new_space = _WriteThroughView.apply(space, result.to(view.dtype), index)
    if space is root:
        new_root = name_node(new_space, "torch::autograd::CopySlices")
    else:
        new_root = ViewAsComplex.apply(new_space)
    if type(root._data) is not MetaArray:
        root._data[...] = new_root._data
    root._version_counter[0] += 1
    _move_retained(root, new_root.grad_fn, 0)
    root.grad_fn, root._output_nr, root.requires_grad = new_root.grad_fn, 0, True
    elements = _elements(new_space, index).grad_fn
    _move_retained(view, elements, 0)
    view.grad_fn, view._output_nr, view.requires_grad = elements, 0, True
    view._view_version = root._version_counter[0]
    return view


def _move_retained(tensor, node, output_nr):
    """A tensor retaining its grad, about to become output ``output_nr`` of ``node`` after an in-place change, keeps
    the gradient of what it holds now (PyTorch's moves its retains_grad hook to the new grad_fn)."""
    if tensor._retains_grad:
        if tensor.grad_fn is not None and tensor.grad_fn._retained:
            tensor.grad_fn._retained.pop(tensor._output_nr, None)
        node._retain(tensor, output_nr)


def _elements(space, index):
    """The elements of ``space`` at flat positions ``index``, shown as PyTorch's regenerated view node."""
    return name_node(_TakeFlat.apply(space, index), "AsStridedBackward0")


def _relink_view(view):
    """A view whose base changed in place after the view's grad_fn was set becomes the view's elements of the base
    as it is now, so gradients through it follow the in-place change (PyTorch regenerates the view's grad_fn)."""
    root = view._base
    view._view_version = view._version_counter[0]
    if not (root.requires_grad and state.enabled):
        return
    space = root if view._data.dtype == root._data.dtype else ViewAsReal.apply(root)
    view.grad_fn, view._output_nr = _elements(space, _make(_flat_index(view, space))).grad_fn, 0


_function._relink_view[0] = _relink_view


def _flat_index(view, root):
    """Flat positions in ``root`` of each element of ``view`` (a view into root's row-major memory)."""
    if not root._data.flags.c_contiguous:
        raise RuntimeError("an in-place operation on a view of a non-contiguous tensor cannot be recorded for "
                           "autograd; call .contiguous() on the base tensor first")
    xp = xp_of(root._data)
    itemsize = root._data.itemsize
    index = xp.full(view._data.shape, (view.data_ptr() - root.data_ptr()) // itemsize, dtype=xp.int64)
    for axis, (size, stride) in enumerate(zip(view._data.shape, view._data.strides)):
        index += (xp.arange(size) * (stride // itemsize)).reshape((-1,) + (1,) * (view._data.ndim - axis - 1))
    return index


def _copy_slices_inputs(node, edges):
    """What PyTorch's CopySlices lists: the root, then the in-place op's other inputs (those after the view it
    wrote into), as the node that made the written ``value`` lists them."""
    value = edges[1]
    if value is None:
        return edges[:1]
    if isinstance(value[0], Tensor):   # a leaf written as it is
        return edges[0], value
    return (edges[0],) + tuple(value[0].next_functions[1:])


class _WriteThroughView(Primitive):
    """``root`` with the elements at flat positions ``index`` replaced by ``value``."""

    graph_inputs = staticmethod(_copy_slices_inputs)

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
        _compat.ufunc_at(ctx.xp, "add", out.reshape(-1), index.reshape(-1), g.reshape(-1))
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
