"""Shape ops: views (view, reshape, expand, permute, slicing, diagonal, ...) share memory and the version counter
with their input as in PyTorch; copies (cat, repeat, flip, ...) copy."""
import warnings

from .. import _dtype
from . import _buffers
from .._tensor import Size, Tensor, _make
from ..autograd.function import Primitive, composite
from ._inplace import _PutFlat, _TakeFlat, check_inplace_allowed, inplace_method
from ._util import _as_view, name_node, promote, shape_arg, tensor_method, wrap_dim, wrap_dims, write_out

__all__ = ["reshape", "flatten", "unflatten", "squeeze", "unsqueeze", "permute", "transpose", "swapaxes", "swapdims",
           "t", "adjoint", "narrow", "narrow_copy", "select", "ravel", "split_with_sizes", "hsplit", "vsplit", "dsplit", "chunk", "split",
           "unsafe_chunk", "unsafe_split", "unsafe_split_with_sizes", "tensor_split", "unbind", "movedim", "moveaxis",
           "diagonal", "as_strided", "repeat_interleave", "tile", "cat", "concat", "concatenate", "stack", "hstack",
           "vstack", "row_stack", "dstack", "column_stack", "flip", "fliplr", "flipud", "roll", "rot90", "broadcast_to",
           "broadcast_tensors", "broadcast_shapes", "atleast_1d", "atleast_2d", "atleast_3d", "meshgrid",
           "cartesian_prod", "tril", "triu", "diag", "diag_embed", "diagflat", "trace", "kron", "block_diag", "cross"]


def _dims_arg(dims):
    """Accepts ``f(0, 1)``, ``f((0, 1))`` and ``f([0, 1])``."""
    if len(dims) == 1 and isinstance(dims[0], (tuple, list, Size)):
        return tuple(dims[0])
    return dims


# --- reshaping views ------------------------------------------------------------------------------------------------
def _infer_shape(shape, numel):
    shape = list(shape)
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"invalid shape dimension {s}")
            known *= s
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{shape}' is invalid for input of size {numel}")
        shape[shape.index(-1)] = numel // known
    elif known != numel:
        raise RuntimeError(f"shape '{shape}' is invalid for input of size {numel}")
    return tuple(shape)


class Reshape(Primitive):
    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        return a.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape)


class Expand(Primitive):
    @staticmethod
    def forward(ctx, a, shape):
        return ctx.xp.broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad   # the engine sums the gradient back to the input's shape


@tensor_method
def reshape(input, *shape):
    """The same elements in a new shape: a view when the memory layout allows, otherwise a copy."""
    shape = _infer_shape(shape_arg(shape), input._data.size)
    result = Reshape.apply(input, shape)
    if result._data.base is not None and _shares_memory(result._data, input._data):
        return name_node(_as_view(result, input), "ViewBackward0")
    return name_node(result, "UnsafeViewBackward0")


def _shares_memory(a, b):
    return a.base is b or a.base is b.base and b.base is not None


def _view_of_shape(input, shape):
    """A view of ``input`` with ``shape`` when only size-1 dims differ (always possible without copying)."""
    return _as_view(Reshape.apply(input, tuple(shape)), input)


@tensor_method
def view(input, *shape):
    """The same memory seen with a new shape; raises when the layout does not allow a view."""
    if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list)) and hasattr(shape[0], "numpy"):
        return input.to(shape[0])
    if len(shape) == 1 and isinstance(shape[0], _dtype.dtype):
        raise RuntimeError("view(dtype) is not supported by ember; use .to(dtype)")
    shape = _infer_shape(shape_arg(shape), input._data.size)
    if not _viewable(input._data, shape):
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one dimension "
                           "spans across two contiguous subspaces). Use .reshape(...) instead.")
    return name_node(_as_view(Reshape.apply(input, shape), input), "ViewBackward0")


def _viewable(array, shape):
    """Whether ``array`` can be seen with ``shape`` without a copy (PyTorch's computeStride walk over the chunks of
    dims that are contiguous with each other)."""
    if array.flags.c_contiguous or not array.size:
        return True
    sizes, strides = array.shape, array.strides
    view_d, view_numel, chunk_numel = len(shape) - 1, 1, 1
    chunk_stride = strides[-1]
    for d in range(len(sizes) - 1, -1, -1):
        chunk_numel *= sizes[d]
        if d == 0 or (sizes[d - 1] != 1 and strides[d - 1] != chunk_numel * chunk_stride):
            while view_d >= 0 and (view_numel < chunk_numel or shape[view_d] == 1):
                view_numel *= shape[view_d]
                view_d -= 1
            if view_numel != chunk_numel:
                return False
            if d > 0:
                chunk_stride, chunk_numel, view_numel = strides[d - 1], 1, 1
    return view_d == -1


@tensor_method
def view_as(input, other):
    """``input.view(other.shape)``."""
    return view(input, other.shape)


@tensor_method
def reshape_as(input, other):
    """``input.reshape(other.shape)``."""
    return reshape(input, other.shape)


@tensor_method
def flatten(input, start_dim=0, end_dim=-1):
    """Merges dims ``start_dim..end_dim`` into one (a view when the layout allows)."""
    start, end = wrap_dim(start_dim, input.ndim), wrap_dim(end_dim, input.ndim)
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if input.ndim == 0:
        return reshape(input, 1)
    if start == end:
        return input
    shape = input.shape
    return reshape(input, shape[:start] + (-1,) + shape[end + 1:])


@tensor_method
def ravel(input):
    """The elements as a 1-d tensor (a view when the layout allows)."""
    return reshape(input, -1)


@tensor_method
def unflatten(input, dim, sizes):
    """Splits dim ``dim`` into ``sizes`` (one of them may be -1)."""
    dim = wrap_dim(dim, input.ndim)
    sizes = tuple(int(s) for s in sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    known = 1
    for s in sizes:
        known *= s if s != -1 else 1
    size = input.shape[dim]
    if (-1 not in sizes and known != size) or (-1 in sizes and (known == 0 or size % known)):
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
                           f"({size}) in the input tensor")
    sizes = tuple(size // known if s == -1 else s for s in sizes)
    return view(input, input.shape[:dim] + sizes + input.shape[dim + 1:])


def _method_with_separate_dims(function):
    """Decorator: installs ``function`` as a Tensor method that also takes its dims as separate ints
    (``x.flip(0, 1)``, ``x.tile(2, 2)``), as PyTorch's methods do; the function itself takes one sequence."""
    def method(self, *dims, **kwargs):
        return function(self, dims if len(dims) > 1 else dims[0], **kwargs) if dims else function(self, **kwargs)
    method.__name__ = method.__qualname__ = function.__name__
    method.__doc__ = function.__doc__
    setattr(Tensor, function.__name__, method)
    return function


@_method_with_separate_dims
def squeeze(input, dim=None):
    """Removes dims of size 1 (only among ``dim`` when given: an int or a tuple)."""
    if dim is None:
        dims = range(input.ndim)
    else:
        dims = wrap_dims(dim, input.ndim) if input.ndim else ()
    shape = input.shape
    drop = {d for d in dims if shape[d] == 1}
    variant = 0 if dim is None else 1 if isinstance(dim, int) else 2
    result = _view_of_shape(input, [s for i, s in enumerate(shape) if i not in drop])
    return name_node(result, f"SqueezeBackward{variant}")


@tensor_method
def unsqueeze(input, dim):
    """Inserts a dim of size 1 at position ``dim``."""
    dim = wrap_dim(dim, input.ndim + 1)
    shape = input.shape
    return name_node(_view_of_shape(input, shape[:dim] + (1,) + shape[dim:]), "UnsqueezeBackward0")


@tensor_method
def expand(input, *sizes):
    """Broadcasts size-1 dims to ``sizes`` (-1 keeps a dim) without copying."""
    sizes = shape_arg(sizes)
    if len(sizes) < input.ndim:
        raise RuntimeError(f"expand(torch.{_dtype.scalar_type_name(input.dtype)}Tensor{{{list(input.shape)}}}, "
                           f"size={list(sizes)}): the number of sizes provided ({len(sizes)}) must be greater or "
                           f"equal to the number of dimensions in the tensor ({input.ndim})")
    lead = len(sizes) - input.ndim
    shape = tuple(input.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes))
    for i in range(input.ndim):
        if input.shape[i] != 1 and input.shape[i] != shape[i + lead]:
            raise RuntimeError(f"The expanded size of the tensor ({shape[i + lead]}) must match the existing size "
                               f"({input.shape[i]}) at non-singleton dimension {i + lead}.  Target sizes: {list(sizes)}."
                               f"  Tensor sizes: {list(input.shape)}")
    if shape == input._data.shape:
        return _view_of_shape(input, shape)
    return _as_view(Expand.apply(input, shape), input)


@tensor_method
def expand_as(input, other):
    """``input.expand(other.shape)``."""
    return expand(input, other.shape)


@tensor_method
def broadcast_to(input, size):
    """``input.expand(size)``."""
    return expand(input, size)


# --- permuting views ------------------------------------------------------------------------------------------------
class Permute(Primitive):
    @staticmethod
    def forward(ctx, a, dims):
        ctx.dims = dims
        return a.transpose(dims)

    @staticmethod
    def backward(ctx, grad):
        inverse = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inverse[d] = i
        return Permute.apply(grad, tuple(inverse))


def _permuted(input, dims):
    return _as_view(Permute.apply(input, tuple(dims)), input)


@tensor_method
def permute(input, *dims):
    """The dims reordered as ``dims`` (a view)."""
    dims = _dims_arg(dims)
    if len(dims) != input.ndim:
        raise RuntimeError("permute(sparse_coo): number of dimensions in the tensor input does not match the length "
                           f"of the desired ordering of dimensions i.e. input.dim() = {input.ndim} is not equal to "
                           f"len(dims) = {len(dims)}")
    wrapped = [wrap_dim(d, input.ndim) for d in dims]
    if len(set(wrapped)) != len(wrapped):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return _permuted(input, wrapped)


@tensor_method("swapaxes", "swapdims")
def transpose(input, dim0, dim1):
    """Swaps dims ``dim0`` and ``dim1`` (a view)."""
    dims = list(range(input.ndim))
    dim0, dim1 = wrap_dim(dim0, input.ndim), wrap_dim(dim1, input.ndim)
    if dims:
        dims[dim0], dims[dim1] = dim1, dim0
    return name_node(_permuted(input, dims), "TransposeBackward0")


swapaxes = swapdims = transpose


@tensor_method
def t(input):
    """Transposes a 2-D tensor; 0-D and 1-D tensors come back as they are (as views)."""
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return name_node(transpose(input, 0, -1), "TBackward0")


def _reversed_dims(self):
    """The tensor with its dims reversed."""
    if self.ndim not in (0, 2):
        warnings.warn("The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated and "
                      "it will throw an error in a future release. Consider `x.mT` to transpose batches of matrices "
                      "or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a tensor.",
                      UserWarning, stacklevel=2)
    return _permuted(self, range(self.ndim - 1, -1, -1))


def _matrix_transpose(self, name="tensor.mT"):
    """The last two dims swapped."""
    if self.ndim < 2:
        raise RuntimeError(f"{name} is only supported on matrices or batches of matrices. Got {self.ndim}-D tensor.")
    return transpose(self, -2, -1)


def _conj_transpose(self):
    """The conjugate transpose of a matrix."""
    if self.ndim not in (0, 2):
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {self.ndim}-D tensor.")
    return _reversed_dims(self).conj()


@tensor_method
def adjoint(input):
    """The conjugate transpose of the last two dims."""
    return _matrix_transpose(input, "tensor.adjoint()").conj()


Tensor.T = property(_reversed_dims)
Tensor.mT = property(_matrix_transpose)
Tensor.H = property(_conj_transpose)
Tensor.mH = property(lambda self: _matrix_transpose(self, "tensor.mH").conj(), doc="Conjugate of ``mT``.")


@tensor_method("moveaxis")
def movedim(input, source, destination):
    """Moves the dims in ``source`` to positions ``destination``; the others keep their order."""
    source = (source,) if isinstance(source, int) else tuple(source)
    destination = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(source) != len(destination):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(source)} dims) should "
                           f"contain the same number of dims as destination ({list(destination)} dims)")
    src = [wrap_dim(d, input.ndim) for d in source]
    dst = [wrap_dim(d, input.ndim) for d in destination]
    for name, dims, given in (("source", src, source), ("destination", dst, destination)):
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({list(given)})")
    order = [None] * input.ndim
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(d for d in range(input.ndim) if d not in src)
    return _permuted(input, [d if d is not None else next(rest) for d in order])


moveaxis = movedim


# --- slicing views --------------------------------------------------------------------------------------------------
class Slice(Primitive):
    """Basic (view) indexing: ``a[key]`` with ints, slices, None and a trailing Ellipsis."""

    @staticmethod
    def forward(ctx, a, key):
        ctx.shape, ctx.key = a.shape, key
        return a[key]

    @staticmethod
    def backward(ctx, grad):
        return SliceBackward.apply(grad, ctx.shape, ctx.key)


class SliceBackward(Primitive):
    """Zeros of ``shape`` with ``grad`` written at ``key``: the adjoint of Slice."""

    @staticmethod
    def forward(ctx, grad, shape, key):
        ctx.key = key
        out = ctx.xp.zeros(shape, grad.dtype)
        out[key] = grad
        return out

    @staticmethod
    def backward(ctx, grad):
        return Slice.apply(grad, ctx.key)


def sliced(input, key):
    """The view ``input[key]`` for a basic-index tuple ``key`` that ends with Ellipsis."""
    return _as_view(Slice.apply(input, key), input)


@tensor_method
def narrow(input, dim, start, length):
    """The view of ``length`` elements of dim ``dim`` starting at ``start``."""
    if input.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    dim = wrap_dim(dim, input.ndim)
    size = input.shape[dim]
    start = int(start)
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    start = start + size if start < 0 else start
    if length < 0 or start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return sliced(input, (slice(None),) * dim + (slice(start, start + length), Ellipsis))


@tensor_method
def narrow_copy(input, dim, start, length):
    """A copy of ``narrow(input, dim, start, length)``."""
    return narrow(input, dim, start, length).clone()


@tensor_method
def select(input, dim, index):
    """The view of index ``index`` along dim ``dim`` (that dim removed)."""
    if input.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    dim = wrap_dim(dim, input.ndim)
    size = input.shape[dim]
    index = int(index)
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input.shape)} at dimension "
                         f"{dim}")
    return sliced(input, (slice(None),) * dim + (index, Ellipsis))


class Split(Primitive):
    """Consecutive pieces of ``sizes`` along ``dim``, each a view."""

    @staticmethod
    def forward(ctx, a, dim, bounds):
        ctx.dim = dim
        head = (slice(None),) * dim
        return tuple(a[head + (slice(start, stop), Ellipsis)] for start, stop in bounds)

    @staticmethod
    def backward(ctx, *grads):
        return cat(grads, ctx.dim)


def _split_at(input, dim, bounds):
    return tuple(_as_view(piece, input) for piece in Split.apply(input, dim, tuple(bounds)))


def _bounds(sizes):
    start = 0
    for size in sizes:
        yield start, start + size
        start += size


@tensor_method
def split(tensor, split_size_or_sections, dim=0):
    """Views of pieces of ``split_size_or_sections`` elements (an int, or a list of sizes) along ``dim``."""
    dim = wrap_dim(dim, tensor.ndim)
    if tensor.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    size = tensor.shape[dim]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != size or any(s < 0 for s in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size "
                               f"at dimension {dim}), but got split_sizes={sizes}")
    else:
        step = int(split_size_or_sections)
        if step < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={step}")
        if step == 0 and size:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}")
        sizes = [min(step, size - start) for start in range(0, size, step)] if step else [0]
    return _split_at(tensor, dim, _bounds(sizes))


@tensor_method
def split_with_sizes(input, split_sizes, dim=0):
    """Views of pieces of the given sizes along ``dim``."""
    return split(input, list(split_sizes), dim)


def _split_along(name, input, indices_or_sections, dim, min_ndim):
    if input.ndim < min_ndim:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {min_ndim} dimension"
                           f"{'s' if min_ndim > 1 else ''}, but got a tensor with {input.ndim} dimensions!")
    if isinstance(indices_or_sections, int) and input.shape[dim] % indices_or_sections:
        raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the size of the dimension "
                           f"{input.shape[dim]} is not divisible by the split_size {indices_or_sections}!")
    return tensor_split(input, indices_or_sections, dim)


@tensor_method
def hsplit(input, indices_or_sections):
    """Splits along dim 1 (dim 0 for 1-d tensors) into equal sections or at indices."""
    return _split_along("hsplit", input, indices_or_sections, 1 if input.ndim > 1 else 0, 1)


@tensor_method
def vsplit(input, indices_or_sections):
    """Splits along dim 0 into equal sections or at indices."""
    return _split_along("vsplit", input, indices_or_sections, 0, 2)


@tensor_method
def dsplit(input, indices_or_sections):
    """Splits along dim 2 into equal sections or at indices."""
    return _split_along("dsplit", input, indices_or_sections, 2, 3)


@tensor_method
def chunk(input, chunks, dim=0):
    """At most ``chunks`` views of equal size (the last may be smaller) along ``dim``."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    if input.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    size = input.shape[wrap_dim(dim, input.ndim)]
    if size == 0:
        return split(input, [0] * chunks, dim)
    return split(input, -(-size // chunks), dim)


@tensor_method
def unsafe_chunk(input, chunks, dim=0):
    """``chunk`` (PyTorch's form without the views' in-place checks; ember's views have none to skip)."""
    return chunk(input, chunks, dim)


@tensor_method
def unsafe_split(input, split_size, dim=0):
    """``split`` (PyTorch's form without the views' in-place checks)."""
    return split(input, split_size, dim)


@tensor_method
def unsafe_split_with_sizes(input, split_sizes, dim=0):
    """``split_with_sizes`` (PyTorch's form without the views' in-place checks)."""
    return split_with_sizes(input, split_sizes, dim)


@tensor_method
def tensor_split(input, indices_or_sections, dim=0):
    """Views split into ``n`` near-equal sections, or at the given indices, along ``dim`` (as numpy.array_split)."""
    if input.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    dim = wrap_dim(dim, input.ndim)
    size = input.shape[dim]
    if isinstance(indices_or_sections, Tensor):
        if indices_or_sections.ndim == 0:
            indices_or_sections = int(indices_or_sections)
        else:
            indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, (list, tuple)):
        cuts = [min(max(int(i) + (size if i < 0 else 0), 0), size) for i in indices_or_sections]
        edges = [0] + cuts + [size]
        bounds = [(start, max(start, stop)) for start, stop in zip(edges[:-1], edges[1:])]
    else:
        sections = int(indices_or_sections)
        if sections <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
        small, extra = divmod(size, sections)
        bounds = list(_bounds([small + 1] * extra + [small] * (sections - extra)))
    return _split_at(input, dim, bounds)


class Unbind(Primitive):
    @staticmethod
    def forward(ctx, a, dim):
        ctx.dim = dim
        head = (slice(None),) * dim
        return tuple(a[head + (i, Ellipsis)] for i in range(a.shape[dim]))

    @staticmethod
    def backward(ctx, *grads):
        return stack(grads, ctx.dim)


@tensor_method
def unbind(input, dim=0):
    """The slices along ``dim`` as a tuple of views."""
    if input.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    dim = wrap_dim(dim, input.ndim)
    if input.shape[dim] == 0:
        return ()
    return tuple(_as_view(piece, input) for piece in Unbind.apply(input, dim))


# --- strided views --------------------------------------------------------------------------------------------------
class StridedView(Primitive):
    """Base of the views that may repeat or skip elements (``Diagonal``, ``UnfoldWindows``): ``view(xp, a, *params)``
    of the subclass, with plain-number params (so traces save and export them); the gradient sums back through the
    positions."""

    @staticmethod
    def forward(ctx, a, *params):
        ctx.shape, ctx.params = a.shape, params
        return ctx._function.view(ctx.xp, a, *params)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        size = 1
        for s in ctx.shape:
            size *= s
        positions = ctx._function.view(xp, xp.arange(size, dtype=xp.int64).reshape(ctx.shape), *ctx.params)
        return _PutFlat.apply(grad, _make(xp.ascontiguousarray(positions)), ctx.shape)


def _strided(xp, a, shape, strides):
    return xp.lib.stride_tricks.as_strided(a, shape, strides)


def _diagonal_view(xp, a, offset, dim1, dim2):
    start = [slice(None)] * a.ndim
    start[dim1 if offset < 0 else dim2] = slice(abs(offset), None)
    a = a[tuple(start)]
    keep = [d for d in range(a.ndim) if d not in (dim1, dim2)]
    length = max(min(a.shape[dim1], a.shape[dim2]), 0)
    return _strided(xp, a, tuple(a.shape[d] for d in keep) + (length,),
                    tuple(a.strides[d] for d in keep) + (a.strides[dim1] + a.strides[dim2],))


class Diagonal(StridedView):
    """The (offset, dim1, dim2) diagonal of ``a`` as its last dim."""
    view = staticmethod(_diagonal_view)


@tensor_method
def diagonal(input, offset=0, dim1=0, dim2=1):
    """The view of the diagonal ``offset`` of the (dim1, dim2) planes, as the last dim."""
    d1, d2 = wrap_dim(dim1, input.ndim), wrap_dim(dim2, input.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    size1, size2 = input.shape[d1], input.shape[d2]
    if offset >= size2 or -offset >= size1:
        offset = size2 if offset > 0 else -size1   # an empty diagonal
    return _as_view(Diagonal.apply(input, int(offset), d1, d2), input)


def _unfold_view(xp, a, dim, size, step):
    if a.ndim == 0:
        return a.reshape(size)
    shape, strides = list(a.shape), list(a.strides)
    shape[dim] = (shape[dim] - size) // step + 1
    strides[dim] *= step
    return _strided(xp, a, tuple(shape) + (size,), tuple(strides) + (a.strides[dim],))


class UnfoldWindows(StridedView):
    """The windows of ``size`` elements along ``dim``, ``step`` apart, in a new last dim (``Tensor.unfold``)."""
    view = staticmethod(_unfold_view)


def _unfold(input, dimension, size, step):
    """A view of all windows of ``size`` elements along ``dimension``, ``step`` apart, in a new last dim."""
    dim = wrap_dim(dimension, input.ndim)
    length = input.shape[dim] if input.ndim else 1
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {dim} is {length} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    return _as_view(UnfoldWindows.apply(input, dim, int(size), int(step)), input)


Tensor.unfold = _unfold
Tensor.unfold.__name__ = "unfold"


def _storage(array):
    """The array owning ``array``'s memory, followed through views and as_strided wrappers."""
    root = array
    while getattr(root, "base", None) is not None and hasattr(root.base, "__array_interface__"):
        root = root.base
    return root


def _address(array):
    return array.__array_interface__["data"][0] if hasattr(array, "__array_interface__") else array.data.ptr


def _positions(xp, offset, shape, strides):
    """Storage positions (in elements) of every element of a strided layout."""
    index = xp.full(shape, offset, dtype=xp.int64)
    for axis, (size, stride) in enumerate(zip(shape, strides)):
        index += (xp.arange(size, dtype=xp.int64) * stride).reshape((-1,) + (1,) * (len(shape) - axis - 1))
    return index


class AsStrided(Primitive):
    @staticmethod
    def forward(ctx, a, size, stride, offset):
        root = _storage(a)
        itemsize = a.itemsize
        storage = _strided(ctx.xp, root, (root.nbytes // itemsize,), (itemsize,))
        ctx.size, ctx.stride, ctx.offset, ctx.storage_size = size, stride, offset, storage.shape[0]
        ctx.input_offset = (_address(a) - _address(root)) // itemsize
        ctx.input_shape, ctx.input_strides = a.shape, tuple(s // itemsize for s in a.strides)
        return _strided(ctx.xp, storage[offset:], size, tuple(s * itemsize for s in stride))

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        buffer = _PutFlat.apply(grad, _make(_positions(xp, ctx.offset, ctx.size, ctx.stride)), (ctx.storage_size,))
        return _TakeFlat.apply(buffer, _make(_positions(xp, ctx.input_offset, ctx.input_shape, ctx.input_strides)))


@tensor_method
def as_strided(input, size, stride, storage_offset=None):
    """A view of ``input``'s storage with the given sizes, strides and offset, all counted in elements."""
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in stride):
        raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, got strides: {list(stride)}")
    root = _storage(input._data)
    offset = (_address(input._data) - _address(root)) // input._data.itemsize if storage_offset is None \
        else int(storage_offset)
    needed = 0 if 0 in size else offset + 1 + sum((n - 1) * s for n, s in zip(size, stride))
    available = root.nbytes // input._data.itemsize
    if needed > available:
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, and "
                           f"itemsize {input._data.itemsize} requiring a storage size of "
                           f"{needed * input._data.itemsize} are out of bounds for storage of size "
                           f"{available * input._data.itemsize}")
    return _as_view(AsStrided.apply(input, size, stride, offset), input)


# --- in-place view changes ------------------------------------------------------------------------------------------
def _restride_inplace(self, result):
    """Makes self the view ``result`` (its shape and strides), as PyTorch's squeeze_, t_, ... do."""
    check_inplace_allowed(self)
    self._data = result._data
    self._version_counter[0] += 1
    if result.grad_fn is not None:
        self.grad_fn, self._output_nr = result.grad_fn, result._output_nr
    return self


def _restriding(function, name):
    def method(self, *args, **kwargs):
        return _restride_inplace(self, function(self, *args, **kwargs))
    method.__name__ = name
    method.__doc__ = f"In-place version of :func:`{function.__name__}` (changes this tensor's shape and strides)."
    setattr(Tensor, method.__name__, method)


for _name, _function in (("squeeze_", squeeze), ("unsqueeze_", unsqueeze), ("t_", t), ("transpose_", transpose),
                         ("swapaxes_", transpose), ("swapdims_", transpose)):
    _restriding(_function, _name)


# --- joining --------------------------------------------------------------------------------------------------------
class Cat(Primitive):
    @staticmethod
    def forward(ctx, *arrays_and_dim):
        *arrays, dim = arrays_and_dim
        # PyTorch still skips 1-d empty tensors whatever the other shapes are.
        ndim = next((a.ndim for a in arrays if a.shape != (0,)), 1)
        ctx.legacy = [a.shape == (0,) and ndim != 1 for a in arrays]
        kept = [a for a, legacy in zip(arrays, ctx.legacy) if not legacy]
        ctx.dim, ctx.sizes = dim, [a.shape[dim] for a in kept]
        if kept and kept[0].ndim and sum(a.size for a in kept) * kept[0].itemsize >= _buffers.MIN_BYTES and \
                len({a.dtype for a in kept}) == 1:   # a large result from the pool, as elementwise kernels' are
            joined = kept[0].shape[:dim] + (sum(ctx.sizes),) + kept[0].shape[dim + 1:]
            return ctx.xp.concatenate(kept, axis=dim, out=_buffers.empty(ctx.xp, joined, kept[0].dtype))
        return ctx.xp.concatenate(kept, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        pieces = iter(split(grad, ctx.sizes, ctx.dim))
        return tuple(grad.new_zeros(0) if legacy else next(pieces) for legacy in ctx.legacy)


def _tensor_list(tensors, name):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
                        f"{type(tensors).__name__}")
    return list(tensors)


@composite("cat", trace_inside=True)
def cat(tensors, dim=0, *, out=None):
    """Joins tensors along an existing dim ``dim``; dtypes are promoted and other sizes must match."""
    tensors = _tensor_list(tensors, "cat")
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, tensor in enumerate(tensors):
        if tensor.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    kept = [t for t in tensors if t._data.shape != (0,)] or tensors[:1]
    reference = kept[0]
    dim = wrap_dim(dim, reference.ndim)
    for i, tensor in enumerate(tensors):
        if tensor._data.shape == (0,) and tensor is not reference:
            continue
        if tensor.ndim != reference.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {reference.ndim} and {tensor.ndim}")
        for d in range(reference.ndim):
            if d != dim and tensor.shape[d] != reference.shape[d]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {dim}. Expected size "
                                   f"{reference.shape[d]} but got size {tensor.shape[d]} for tensor number {i} in "
                                   "the list.")
    return write_out(out, Cat.apply(*promote(*tensors), dim), "cat")


concat = concatenate = cat


@composite("stack", trace_inside=True)
def stack(tensors, dim=0, *, out=None):
    """Joins same-shaped tensors along a new dim ``dim``."""
    tensors = _tensor_list(tensors, "stack")
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape = tensors[0].shape
    if not all(isinstance(t, Tensor) and t._data.shape == shape for t in tensors):
        for i, tensor in enumerate(tensors):
            if not isinstance(tensor, Tensor):
                raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(tensor).__name__}")
            if tensor.shape != shape:
                raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 "
                                   f"and {list(tensor.shape)} at entry {i}")
    dim = wrap_dim(dim, len(shape) + 1)
    return write_out(out, Stack.apply(*promote(*tensors), dim), "stack")


class Stack(Primitive):
    @staticmethod
    def forward(ctx, *arrays_and_dim):
        *arrays, dim = arrays_and_dim
        ctx.dim = dim
        first = arrays[0]
        if len(arrays) * first.size * first.itemsize >= _buffers.MIN_BYTES and len({a.dtype for a in arrays}) == 1 \
                and len({a.shape for a in arrays}) == 1:   # a large result from the pool, as Cat's
            joined = first.shape[:dim] + (len(arrays),) + first.shape[dim:]
            return ctx.xp.stack(arrays, axis=dim, out=_buffers.empty(ctx.xp, joined, first.dtype))
        if dim == 0:   # array() of a list is the quickest stack (DataLoader collates this way for every batch)
            return ctx.xp.array(arrays, dtype=first.dtype)
        return ctx.xp.stack(arrays, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        return unbind(grad, ctx.dim)


def hstack(tensors, *, out=None):
    """Joins tensors column-wise: along dim 0 for 1-d tensors, dim 1 otherwise."""
    tensors = atleast_1d(*_tensor_list(tensors, "hstack"))
    tensors = [tensors] if isinstance(tensors, Tensor) else tensors
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1, out=out)


def vstack(tensors, *, out=None):
    """Joins tensors row-wise (1-d tensors become rows)."""
    tensors = atleast_2d(*_tensor_list(tensors, "vstack"))
    return cat([tensors] if isinstance(tensors, Tensor) else tensors, 0, out=out)


row_stack = vstack


def dstack(tensors, *, out=None):
    """Joins tensors depth-wise, along dim 2 (after making them at least 3-d)."""
    tensors = atleast_3d(*_tensor_list(tensors, "dstack"))
    return cat([tensors] if isinstance(tensors, Tensor) else tensors, 2, out=out)


def column_stack(tensors, *, out=None):
    """Joins 0-d and 1-d tensors as columns, and other tensors along dim 1."""
    tensors = [reshape(t, t.numel(), 1) if t.ndim <= 1 else t for t in _tensor_list(tensors, "column_stack")]
    return cat(tensors, 1, out=out)


def _atleast(tensors, shape_of):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(_atleast(tuple(tensors[0]), shape_of))
    results = tuple(t if t.ndim >= len(shape_of(t.shape)) else _view_of_shape(t, shape_of(t.shape))
                    for t in tensors)
    return results[0] if len(results) == 1 else results


def atleast_1d(*tensors):
    """The tensors with 0-d ones made 1-d (views); a single tensor comes back alone."""
    return _atleast(tensors, lambda s: s if len(s) >= 1 else (1,))


def atleast_2d(*tensors):
    """The tensors made at least 2-d by leading size-1 dims (views)."""
    return _atleast(tensors, lambda s: s if len(s) >= 2 else (1,) * (2 - len(s)) + tuple(s))


def atleast_3d(*tensors):
    """The tensors made at least 3-d as NumPy does: (n,) -> (1, n, 1), (m, n) -> (m, n, 1)."""
    def shape_of(s):
        return {0: (1, 1, 1), 1: (1,) + tuple(s) + (1,), 2: tuple(s) + (1,)}.get(len(s), s)
    return _atleast(tensors, shape_of)


# --- copies that rearrange ------------------------------------------------------------------------------------------
class Repeat(Primitive):
    @staticmethod
    def forward(ctx, a, repeats):
        padded = (1,) * (len(repeats) - a.ndim) + a.shape
        ctx.shape, ctx.padded, ctx.repeats = a.shape, padded, repeats
        return ctx.xp.tile(a.reshape(padded), repeats)

    @staticmethod
    def backward(ctx, grad):
        interleaved = tuple(n for pair in zip(ctx.repeats, ctx.padded) for n in pair)
        summed = grad.reshape(interleaved).sum(tuple(range(0, len(interleaved), 2)))
        return summed.reshape(ctx.shape)


def _repeat(input, *repeats):
    """The tensor tiled ``repeats[i]`` times along each dim (leading repeats add dims)."""
    if not repeats:
        raise TypeError('repeat() missing 1 required positional arguments: "repeats"')
    repeats = shape_arg(repeats)
    if len(repeats) < input.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of "
                           "tensor")
    if any(r < 0 for r in repeats):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(repeats)}: {list(repeats)}")
    return Repeat.apply(input, repeats)


Tensor.repeat = _repeat
Tensor.repeat.__name__ = "repeat"


@_method_with_separate_dims
def tile(input, dims):
    """The tensor repeated ``dims[i]`` times along each dim; too few dims are padded with leading ones."""
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    return _repeat(input, (1,) * (input.ndim - len(dims)) + dims)


@tensor_method
@composite("repeat_interleave", batch_inside=True)   # seen whole: tensor repeats are an input of the trace
def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element repeated ``repeats`` times (an int or one count per element) along ``dim`` (flattened if None).

    With a single tensor of counts, the indices ``0..n-1`` repeated by those counts.
    """
    from .creation import arange
    if repeats is None:
        counts = input
        return repeat_interleave(arange(counts.numel(), device=counts.device), counts, 0, output_size=output_size)
    if dim is None:
        input, dim = flatten(input), 0
    dim = wrap_dim(dim, input.ndim)
    size = input.shape[dim] if input.ndim else 1
    xp = _xp(input)
    if isinstance(repeats, Tensor):
        if repeats.ndim > 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        if repeats.numel() != 1 and repeats.numel() != size:
            raise RuntimeError(f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                               f"{repeats.numel()} and input.size({dim}) = {size}")
        counts = repeats._data.reshape(-1)
    else:
        counts = xp.asarray([int(repeats)])
    if (counts < 0).any():
        raise RuntimeError("Repeats must be non-negative")
    index = xp.repeat(xp.arange(size, dtype=xp.int64), counts if counts.shape[0] == size else int(counts[0]))
    if output_size is not None and index.shape[0] != output_size:
        raise RuntimeError("allocated size does not match required size")
    return (input if input.ndim else reshape(input, 1)).index_select(dim, _make(index))


def _xp(tensor):
    from .._backend import xp_of
    return xp_of(tensor._data)


class Flip(Primitive):
    @staticmethod
    def forward(ctx, a, dims):
        ctx.dims = dims
        return ctx.xp.flip(a, dims).copy()

    @staticmethod
    def backward(ctx, grad):
        return Flip.apply(grad, ctx.dims)


@_method_with_separate_dims
def flip(input, dims):
    """A copy with the order of elements reversed along ``dims``."""
    dims = wrap_dims((dims,) if isinstance(dims, int) else dims, input.ndim) if input.ndim else ()
    return Flip.apply(input, dims)


@tensor_method
def fliplr(input):
    """A copy with the columns (dim 1) reversed."""
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


@tensor_method
def flipud(input):
    """A copy with the rows (dim 0) reversed."""
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


class Roll(Primitive):
    @staticmethod
    def forward(ctx, a, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return ctx.xp.roll(a, shifts, dims)

    @staticmethod
    def backward(ctx, grad):
        shifts = -ctx.shifts if isinstance(ctx.shifts, int) else tuple(-s for s in ctx.shifts)
        return Roll.apply(grad, shifts, ctx.dims)


@tensor_method
def roll(input, shifts, dims=None):
    """Elements shifted cyclically by ``shifts`` along ``dims`` (over the flattened tensor when None)."""
    shifts = (shifts,) if isinstance(shifts, int) else tuple(int(s) for s in shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"`shifts` required to be of length 1 when `dims` is None, got {len(shifts)}")
        return Roll.apply(input, shifts[0], None)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    return Roll.apply(input, shifts, tuple(wrap_dim(d, input.ndim) for d in dims))


@tensor_method
def rot90(input, k=1, dims=(0, 1)):
    """A copy rotated by 90 degrees ``k`` times in the plane ``dims``, from the first towards the second dim."""
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    d0, d1 = wrap_dim(dims[0], input.ndim), wrap_dim(dims[1], input.ndim)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    k %= 4
    if k == 1:
        return transpose(flip(input, (d1,)), d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    if k == 3:
        return flip(transpose(input, d0, d1), (d1,))
    return input.clone()


# --- broadcasting ---------------------------------------------------------------------------------------------------
def broadcast_shapes(*shapes):
    """The shape that tensors of ``shapes`` broadcast to together."""
    shapes = [(s,) if isinstance(s, int) else tuple(s) for s in shapes]
    ndim = max((len(s) for s in shapes), default=0)
    result = [1] * ndim
    for index, shape in enumerate(shapes):
        for i, size in enumerate(shape):
            position = ndim - len(shape) + i
            if size < 0:
                raise RuntimeError(f"Trying to create tensor with negative dimension {size}: {list(shape)}")
            if result[position] == 1:
                result[position] = size
            elif size != 1 and size != result[position]:
                raise RuntimeError(f"Attempting to broadcast a dimension of length {size} at {i - len(shape)}! "
                                   f"Mismatching argument at index {index} had {tuple(shape)}; but expected shape "
                                   f"should be broadcastable to {result}")
    return Size(result)


def broadcast_tensors(*tensors):
    """Views of the tensors all expanded to their common broadcast shape."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shape = []
    for t in tensors:
        shape = _broadcast_pair(shape, list(t.shape))
    return tuple(expand(t, shape) for t in tensors)


def _broadcast_pair(a, b):
    ndim = max(len(a), len(b))
    a, b = [1] * (ndim - len(a)) + a, [1] * (ndim - len(b)) + b
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y and 1 not in (x, y):
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) at non-singleton "
                               f"dimension {i}")
    return [y if x == 1 else x for x, y in zip(a, b)]


def meshgrid(*tensors, indexing=None):
    """Coordinate grids (expanded views) from 1-d tensors; ``indexing`` 'ij' (matrix) or 'xy' (Cartesian)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
                      UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    if not tensors:
        raise RuntimeError("torch.meshgrid expects a non-empty TensorList")
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t}")
    swap = indexing == "xy" and len(tensors) >= 2
    ordered = (tensors[1], tensors[0]) + tuple(tensors[2:]) if swap else tensors
    shape = [t.numel() for t in ordered]
    grids = [expand(reshape(t, [-1 if j == i else 1 for j in range(len(ordered))]), shape)
             for i, t in enumerate(ordered)]
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def cartesian_prod(*tensors):
    """All combinations of elements of the 1-d tensors, one per row (the tensor itself for one input)."""
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([flatten(g) for g in grids], 1)


# --- triangles and diagonals ----------------------------------------------------------------------------------------
class Triangle(Primitive):
    @staticmethod
    def forward(ctx, a, diagonal, upper):
        ctx.diagonal, ctx.upper = diagonal, upper
        return (ctx.xp.triu if upper else ctx.xp.tril)(a, diagonal)

    @staticmethod
    def backward(ctx, grad):
        return Triangle.apply(grad, ctx.diagonal, ctx.upper)


def _triangle(input, diagonal, upper, out):
    name = "triu" if upper else "tril"
    if input.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    return write_out(out, Triangle.apply(input, int(diagonal), upper), name)


@tensor_method
def tril(input, diagonal=0, *, out=None):
    """A copy with elements above diagonal ``diagonal`` of the last two dims set to zero."""
    return _triangle(input, diagonal, False, out)


@tensor_method
def triu(input, diagonal=0, *, out=None):
    """A copy with elements below diagonal ``diagonal`` of the last two dims set to zero."""
    return _triangle(input, diagonal, True, out)


inplace_method(tril)
inplace_method(triu)


class DiagEmbed(Primitive):
    @staticmethod
    def forward(ctx, a, shape, offset, dim1, dim2):
        ctx.offset, ctx.dim1, ctx.dim2 = offset, dim1, dim2
        out = ctx.xp.zeros(shape, a.dtype)
        _diagonal_view(ctx.xp, out, offset, dim1, dim2)[...] = a
        return out

    @staticmethod
    def backward(ctx, grad):
        return diagonal(grad, ctx.offset, ctx.dim1, ctx.dim2)


@tensor_method
def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Tensors whose (dim1, dim2) planes hold the last dim of ``input`` on diagonal ``offset``, zeros elsewhere."""
    ndim = input.ndim + 1
    d1, d2 = wrap_dim(dim1, ndim), wrap_dim(dim2, ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    n = (input.shape[-1] if input.ndim else 1) + abs(offset)
    rest = iter(input.shape[:-1])
    shape = tuple(n if d in (d1, d2) else next(rest) for d in range(ndim))
    return DiagEmbed.apply(input if input.ndim else reshape(input, 1), shape, int(offset), d1, d2)


@tensor_method
def diag(input, diagonal=0, *, out=None):
    """A square matrix with the 1-d ``input`` on diagonal ``diagonal``, or a copy of a 2-d input's diagonal."""
    if input.ndim == 1:
        return write_out(out, diag_embed(input, diagonal, 0, 1), "diag")
    if input.ndim == 2:
        return write_out(out, globals()["diagonal"](input, diagonal).clone(), "diag")
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


@tensor_method
def diagflat(input, offset=0):
    """A square matrix with the flattened ``input`` on diagonal ``offset``."""
    return diag_embed(flatten(input), offset, 0, 1)


@tensor_method
@composite("trace", trace_inside=True)
def trace(input):
    """The sum of the main diagonal of a matrix."""
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return diagonal(input).sum()


# --- products that build structure ----------------------------------------------------------------------------------
@tensor_method
def kron(input, other, *, out=None):
    """The Kronecker product: every element of ``input`` times the whole of ``other``, laid out in blocks."""
    ndim = max(input.ndim, other.ndim)
    a = reshape(input, (1,) * (ndim - input.ndim) + tuple(input.shape))
    b = reshape(other, (1,) * (ndim - other.ndim) + tuple(other.shape))
    spread_a = reshape(a, [n for s in a.shape for n in (s, 1)])
    spread_b = reshape(b, [n for s in b.shape for n in (1, s)])
    product = spread_a * spread_b
    return write_out(out, reshape(product, [x * y for x, y in zip(a.shape, b.shape)]), "kron")


def block_diag(*tensors):
    """A block-diagonal matrix of the given 0-, 1- or 2-d tensors (1-d ones as rows)."""
    from .creation import zeros
    blocks = []
    for i, t in enumerate(tensors):
        if t.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has "
                               f"{t.ndim} dimensions")
        blocks.append(reshape(t, 1, -1) if t.ndim < 2 else t)
    if not blocks:
        return zeros(1, 0)
    dtype = _dtype.result_type(*blocks)
    width = sum(b.shape[1] for b in blocks)
    rows, left = [], 0
    for b in blocks:
        rows_, cols = b.shape
        row = [zeros(rows_, left, dtype=dtype, device=b.device), b.to(dtype),
               zeros(rows_, width - left - cols, dtype=dtype, device=b.device)]
        rows.append(cat(row, 1))
        left += cols
    return cat(rows, 0)


@tensor_method
@composite("cross", trace_inside=True)
def cross(input, other, dim=None, *, out=None):
    """The 3-vector cross product along ``dim`` (the first dim of size 3 when None), broadcasting."""
    if input.ndim != other.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    input, other = broadcast_tensors(*promote(input, other))
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim "
                      "explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to agree "
                      "with that of linalg.cross in a future release.", UserWarning, stacklevel=2)
        dim = next((d for d, s in enumerate(input.shape) if s == 3), -1)
    dim = wrap_dim(dim, input.ndim)
    if input.shape[dim] != 3 or other.shape[dim] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {input.shape[dim]} and "
                           f"{other.shape[dim]}")
    result = roll(input, -1, dim) * roll(other, -2, dim) - roll(input, -2, dim) * roll(other, -1, dim)
    return write_out(out, result, "cross")
