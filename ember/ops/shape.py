"""Shape ops that are views (view, reshape, expand, permute, slicing, diagonal, as_strided, ...): they share memory
and the version counter with their input as in PyTorch; the shape ops that copy (cat, repeat, flip, ...) are in
rearrange.py."""
import math
import operator

from .. import _backend, _compat, _dtype, _meta
from .._tensor import Size, Tensor, _make
from .._warnings import transparent
from ..autograd.function import Primitive, registry
from . import _quantized
from ._inplace import _PutFlat, _TakeFlat, check_inplace_allowed
from ._util import (_as_view, argument_error, int_arg, multi_output_views, name_node, shape_arg, shown_edge,
                    tensor_method, warn_once, wrap_dim, wrap_dims)

__all__ = ["reshape", "flatten", "unflatten", "squeeze", "unsqueeze", "permute", "transpose", "swapaxes", "swapdims",
           "t", "adjoint", "narrow", "narrow_copy", "select", "ravel", "split_with_sizes", "hsplit", "vsplit",
           "dsplit", "chunk", "split", "unsafe_chunk", "unsafe_split", "unsafe_split_with_sizes", "tensor_split",
           "unbind", "movedim", "moveaxis", "diagonal", "as_strided", "broadcast_to"]


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
        if known == 0 and numel == 0:
            raise RuntimeError(f"cannot reshape tensor of 0 elements into shape {shape} because the unspecified "
                               f"dimension size -1 can be any value and is ambiguous")
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{shape}' is invalid for input of size {numel}")
        shape[shape.index(-1)] = numel // known
    elif known != numel:
        raise RuntimeError(f"shape '{shape}' is invalid for input of size {numel}")
    return tuple(shape)


class Reshape(Primitive):
    # PyTorch's view nodes save the input's sizes (an unsqueeze saves its dim instead)
    saved_values = staticmethod(lambda node: {} if node.name() == "UnsqueezeBackward0" else
                                {"self_sym_sizes": tuple(node.shape)})

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


def keyword_sizes(sizes, keywords, name, op):
    """The sizes of a ``*sizes`` op called with PyTorch's keyword for them (``x.reshape(shape=(2, 3))``,
    ``x.permute(dims=...)``): ``keywords[name]`` as the one positional argument, with Python's TypeError for other
    keywords, for the sizes given both ways, and PyTorch's for a keyword value that is not a sequence."""
    if name not in keywords:
        raise TypeError(f"{op}() got an unexpected keyword argument '{next(iter(keywords))}'")
    if sizes:
        raise TypeError(f"{op}() got multiple values for argument '{name}'")
    value = keywords.pop(name)
    if keywords:
        raise TypeError(f"{op}() got an unexpected keyword argument '{next(iter(keywords))}'")
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{op}(): argument '{name}' must be tuple of ints, not {type(value).__name__}")
    return (value,)


@tensor_method
def reshape(input, *shape, **keywords):
    """The same elements in a new shape: a view when the memory layout allows, otherwise a copy."""
    if keywords:
        shape = keyword_sizes(shape, keywords, "shape", "reshape")
    return _reshape(input, _infer_shape(shape_arg(shape), input._data.size))


def _reshape(input, shape):
    """``reshape`` to ``shape``, a tuple of ints already checked against the input's size."""
    result = Reshape.apply(input, shape)
    if result._data.base is not None and _shares_memory(result._data, input._data):
        # PyTorch's reshape of a non-contiguous input that can be viewed is its _reshape_alias
        return name_node(_as_view(result, input), "ViewBackward0" if input._data.flags.c_contiguous else
                         "ReshapeAliasBackward0")
    if result.grad_fn is None:
        return result
    return name_node(result, "UnsafeViewBackward0", (shown_edge("CloneBackward0", (input,)),))   # PyTorch copies


def _shares_memory(a, b):
    return a.base is b or a.base is b.base and b.base is not None


def _view_of_shape(input, shape):
    """A view of ``input`` with ``shape`` when only size-1 dims differ (always possible without copying)."""
    return _as_view(Reshape.apply(input, tuple(shape)), input)


@tensor_method
def view(input, *shape, dtype=None, **keywords):
    """The same memory seen with a new shape; raises when the layout does not allow a view. ``view(dtype)`` sees
    the same bytes as elements of another dtype (see ``_view_dtype``)."""
    if keywords:
        shape = keyword_sizes(shape, keywords, "size", "view")
    if len(shape) == 1 and isinstance(shape[0], _dtype.dtype):
        shape, dtype = (), shape[0]
    if dtype is not None:
        if shape:
            raise TypeError("view() received an invalid combination of arguments - got (tuple, dtype=torch.dtype), "
                            "but expected one of:\n * (torch.dtype dtype)\n * (tuple of ints size)")
        return _view_dtype(input, dtype)
    shape = _infer_shape(shape_arg(shape), input._data.size)
    if not _viewable(input._data, shape):
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one dimension "
                           "spans across two contiguous subspaces). Use .reshape(...) instead.")
    return name_node(_as_view(Reshape.apply(input, shape), input), "ViewBackward0")


def _view_dtype(input, dtype):
    """``input``'s bytes read as elements of ``dtype``, as PyTorch's ``view(dtype)``: with a wider or narrower dtype
    the last dim (which must have stride 1) grows or shrinks by the size ratio. The result shares memory and the
    version counter with ``input`` but is outside the graph and no view in autograd's sense (no ``_base``), as in
    PyTorch, whose view_dtype has no derivative."""
    dtype = _dtype.as_dtype(dtype)
    array, old = input._data, input.dtype
    shape = list(array.shape)
    if dtype.itemsize != old.itemsize:
        where = (f"to view {_dtype.scalar_type_name(old)} as {_dtype.scalar_type_name(dtype)} (different element "
                 "sizes)")
        if array.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 {where}")
        strides = input.stride() if array.size else _empty_strides(array.shape)
        if dtype.itemsize < old.itemsize:
            if strides[-1] != 1:
                raise RuntimeError(f"self.stride(-1) must be 1 {where}, but got {strides[-1]}")
            shape[-1] *= old.itemsize // dtype.itemsize
        else:
            ratio = dtype.itemsize // old.itemsize
            if shape[-1] % ratio:
                raise RuntimeError(f"self.size(-1) must be divisible by {ratio} {where}, but got {shape[-1]}")
            if strides[-1] != 1:
                raise RuntimeError(f"self.stride(-1) must be 1 {where}, but got {strides[-1]}")
            if input.storage_offset() % ratio:
                raise RuntimeError(f"self.storage_offset() must be divisible by {ratio} {where}, but got "
                                   f"{input.storage_offset()}")
            for d, stride in enumerate(strides[:-1]):
                if stride % ratio:
                    raise RuntimeError(f"self.stride({d}) must be divisible by {ratio} {where}, but got {stride}")
            shape[-1] //= ratio
    if _meta.is_meta(array):
        result = _make(_meta.empty(tuple(shape), dtype.numpy))
    elif array.size == 0 and dtype.itemsize != old.itemsize:   # no bytes to share
        result = _make(_backend.xp_of(array).empty(tuple(shape), dtype.numpy))
    else:
        result = _make(array.view(dtype.numpy))
    result._version_counter = input._version_counter
    return result


def _empty_strides(shape):
    """PyTorch's row-major strides for an empty tensor (NumPy gives an empty array zero strides): each dim's stride
    is the product of the later sizes, a zero size counting as one."""
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= max(size, 1)
    return strides[::-1]


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
    try:
        ndim = input.ndim
    except AttributeError:   # not a tensor
        argument_error()
        raise
    start, end = wrap_dim(start_dim, ndim), wrap_dim(end_dim, ndim)
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if getattr(input, "is_quantized", False):
        return _quantized.kernels["flatten"](input, start, end)
    if input.ndim == 0:
        return reshape(input, 1)
    if start == end:
        return input
    shape = input._data.shape   # the array's: a tuple of ints, so the new shape needs no parsing or inference
    return _reshape(input, shape[:start] + (math.prod(shape[start:end + 1]),) + shape[end + 1:])


@tensor_method
def ravel(input):
    """The elements as a 1-d tensor (a view when the layout allows)."""
    return reshape(input, -1)


@tensor_method
def unflatten(input, dim, sizes):
    """Splits dim ``dim`` into ``sizes`` (one of them may be -1)."""
    dim = wrap_dim(dim, input.ndim)
    sizes = tuple(_int_arg(s) for s in sizes)
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


def _method_with_separate_dims(function, one_int_as_tuple=False):
    """Decorator: installs ``function`` as a Tensor method that also takes its dims as separate ints
    (``x.flip(0, 1)``, ``x.tile(2, 2)``), as PyTorch's methods do; the function itself takes one sequence
    (``one_int_as_tuple``: a single int too, for functions that refuse a bare int, as ``torch.flip`` does)."""
    @transparent   # (argument errors read the call from the function's frame and this method's caller)
    def method(self, *dims, **kwargs):
        if not dims:
            return function(self, **kwargs)
        if len(dims) > 1 or one_int_as_tuple and type(dims[0]) is int:
            return function(self, dims, **kwargs)
        return function(self, dims[0], **kwargs)
    method.__name__ = method.__qualname__ = function.__name__
    method.__doc__ = function.__doc__
    setattr(Tensor, function.__name__, method)
    return function


@_method_with_separate_dims
def squeeze(input, dim=None):
    """Removes dims of size 1 (only among ``dim`` when given: an int or a tuple)."""
    if getattr(input, "is_quantized", False):
        return _quantized.kernels["squeeze"](input, dim)
    if dim is None:
        dims = range(input.ndim)
    else:   # a 0-d input takes dims -1 and 0, as PyTorch's, and squeezes nothing
        dims = wrap_dims(dim, input.ndim) if input.ndim else wrap_dims(dim, 0)[:0]
    shape = input.shape
    drop = {d for d in dims if shape[d] == 1}
    variant = 0 if dim is None else 1 if isinstance(dim, int) else 2
    result = name_node(_view_of_shape(input, [s for i, s in enumerate(shape) if i not in drop]),
                       f"SqueezeBackward{variant}")
    if variant and result.grad_fn is not None:   # PyTorch's node saves the dims given
        result.grad_fn._saved_dim = (dims[0] if dims else 0) if variant == 1 else tuple(dims)
    return result


@tensor_method
def unsqueeze(input, dim):
    """Inserts a dim of size 1 at position ``dim``."""
    if getattr(input, "is_quantized", False):
        return _quantized.kernels["unsqueeze"](input, dim)
    dim = wrap_dim(dim, input.ndim + 1)
    shape = input.shape
    result = name_node(_view_of_shape(input, shape[:dim] + (1,) + shape[dim:]), "UnsqueezeBackward0")
    if result.grad_fn is not None:
        result.grad_fn._saved_dim = dim   # what PyTorch's node saves
    return result


@tensor_method
def expand(input, *sizes, implicit=False, **keywords):
    """Broadcasts size-1 dims to ``sizes`` (-1 keeps a dim) without copying."""
    if keywords:
        sizes = keyword_sizes(sizes, keywords, "size", "expand")
    sizes = shape_arg(sizes)
    if len(sizes) < input.ndim:
        raise RuntimeError(f"expand(torch.{_dtype.scalar_type_name(input.dtype)}Tensor{{{list(input.shape)}}}, "
                           f"size={list(sizes)}): the number of sizes provided ({len(sizes)}) must be greater or "
                           f"equal to the number of dimensions in the tensor ({input.ndim})")
    lead = len(sizes) - input.ndim
    for i, s in enumerate(sizes):
        if s == -1 and i < lead:
            raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a leading, non-existing "
                               f"dimension {i}")
        if s < -1:
            raise RuntimeError(f"expand: the size at dimension {i} is negative ({s}); only -1 (keep the size) is "
                               f"allowed")
    shape = tuple(input.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes))
    for i in reversed(range(input.ndim)):   # from the last dim, as PyTorch's inferExpandGeometry reports
        if input.shape[i] != 1 and input.shape[i] != shape[i + lead]:
            raise RuntimeError(f"The expanded size of the tensor ({shape[i + lead]}) must match the existing size "
                               f"({input.shape[i]}) at non-singleton dimension {i + lead}.  Target sizes: "
                               f"{list(sizes)}.  Tensor sizes: {list(input.shape)}")
    if shape == input._data.shape:
        return _view_of_shape(input, shape)
    return _as_view(Expand.apply(input, shape), input)


@tensor_method
def expand_as(input, other):
    """``input.expand(other.shape)``."""
    return expand(input, other.shape)


def broadcast_to(input, size):
    """``input.expand(size)``."""
    return expand(input, size)


@tensor_method("broadcast_to")
def _broadcast_to_method(self, *size):
    """``self.expand(size)``; the method takes the sizes as separate arguments too, as PyTorch's."""
    return expand(self, shape_arg(size))


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
def permute(input, *dims, **keywords):
    """The dims reordered as ``dims`` (a view)."""
    if keywords:
        dims = keyword_sizes(dims, keywords, "dims", "permute")
    if getattr(input, "is_quantized", False):
        return _quantized.kernels["permute"](input, *dims)
    order = _dims_arg(dims)   # (``dims`` kept as called: argument errors read it)
    if len(order) != input.ndim:
        argument_error()
        raise RuntimeError("permute(sparse_coo): number of dimensions in the tensor input does not match the length "
                           f"of the desired ordering of dimensions i.e. input.dim() = {input.ndim} is not equal to "
                           f"len(dims) = {len(order)}")
    wrapped = [wrap_dim(d, input.ndim) for d in order]
    if len(set(wrapped)) != len(wrapped):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return _permuted(input, wrapped)


@tensor_method("swapaxes", "swapdims")
def transpose(input, dim0, dim1):
    """Swaps dims ``dim0`` and ``dim1`` (a view)."""
    if getattr(input, "is_quantized", False):
        return _quantized.kernels["transpose"](input, dim0, dim1)
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
        warn_once("x.T", "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated "
                  "and it will throw an error in a future release. Consider `x.mT` to transpose batches of matrices "
                  "or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a tensor.")
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
    try:   # new names: the arguments stay as given for PyTorch's error on a wrong type
        sources = (source,) if isinstance(source, int) else tuple(source)
        destinations = (destination,) if isinstance(destination, int) else tuple(destination)
    except TypeError:
        argument_error()
        raise
    source, destination = sources, destinations
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
        if None not in key:
            return a[key]
        if a.size and a.flags.c_contiguous and 1 not in a.shape and all(
                item is None or item is Ellipsis or item == _WHOLE for item in key):
            return a.reshape(a[key].shape)   # only new unit dims of a row-major a: NumPy's reshape strides them so
        return _unsqueeze_strides(ctx.xp, a[key], a, key)

    @staticmethod
    def backward(ctx, grad):
        return SliceBackward.apply(grad, ctx.shape, ctx.key)


_WHOLE = slice(None)


def _unsqueeze_strides(xp, view, a, key):
    """``view`` (``a[key]``) with the dims ``key``'s Nones add strided as PyTorch's unsqueeze strides them when its
    indexing applies the key's items left to right: as the dim after them at that point (its size times its stride;
    one element at the end), where NumPy gives 0."""
    shape, strides, new, dim = list(a.shape), list(a.strides), [], 0
    consumed = sum(1 for item in key if item is not None and item is not Ellipsis)
    for item in key:
        if item is None:
            stride = shape[dim] * strides[dim] if dim < len(shape) else a.itemsize
            shape.insert(dim, 1)
            strides.insert(dim, stride)
            new.append(dim)
            dim += 1
        elif item is Ellipsis:
            dim += a.ndim - consumed
        elif isinstance(item, int):
            del shape[dim], strides[dim]
        else:
            start, stop, step = item.indices(shape[dim])
            shape[dim], strides[dim] = len(range(start, stop, step)), strides[dim] * step
            dim += 1
    result = list(view.strides)
    for dim in new:
        result[dim] = strides[dim]
    if result == list(view.strides):
        return view
    return _compat.as_strided(xp, view, view.shape, result, writeable=getattr(view.flags, "writeable", True))


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
    start, length = int_arg(start), int_arg(length)
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
    index = int_arg(index)
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input.shape)} at dimension "
                         f"{dim}")
    return name_node(sliced(input, (slice(None),) * dim + (index, Ellipsis)), "SelectBackward0")


class Split(Primitive):
    """Consecutive pieces of ``sizes`` along ``dim``, each a view."""

    @staticmethod
    def forward(ctx, a, dim, bounds):
        ctx.dim = dim
        head = (slice(None),) * dim
        return tuple(a[head + (slice(start, stop), Ellipsis)] for start, stop in bounds)

    @staticmethod
    def backward(ctx, *grads):
        return registry["cat"].apply(grads, ctx.dim)   # rearrange's cat, by name: rearrange imports this module


def _split_at(input, dim, bounds):
    return tuple(_as_view(piece, input) for piece in Split.apply(input, dim, tuple(bounds)))


def _bounds(sizes):
    start = 0
    for size in sizes:
        yield start, start + size
        start += size


def _int_arg(value):
    """An int argument as PyTorch's parser takes it (integers, not floats or bools: ``int()`` would take them), with
    the op's TypeError (``argument_error``) otherwise."""
    try:
        if isinstance(value, bool):
            raise TypeError(f"expected an int, got {value!r}")
        return operator.index(value)
    except TypeError:
        argument_error()
        raise


def split(tensor, split_size_or_sections, dim=0):
    """Views of pieces of ``split_size_or_sections`` elements (an int, or a list of sizes) along ``dim``."""
    if dim.__class__ is not int and isinstance(split_size_or_sections, int):
        from .. import _arg_parser   # PyTorch's Tensor.split hands an int size to _VF.split: its argument errors
        _arg_parser.raise_for("_VF.split", (tensor, split_size_or_sections, dim), {})
    dim = wrap_dim(dim, tensor.ndim)
    if tensor.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    size = tensor.shape[dim]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = [_int_arg(s) for s in split_size_or_sections]
        if sum(sizes) != size or any(s < 0 for s in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size "
                               f"at dimension {dim}), but got split_sizes={sizes}")
    else:
        step = _int_arg(split_size_or_sections)
        if step < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={step}")
        if step == 0 and size:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}")
        sizes = [min(step, size - start) for start in range(0, size, step)] if step and size else [0]
        return multi_output_views(_split_at(tensor, dim, _bounds(sizes)), "Split")
    pieces = _split_at(tensor, dim, _bounds(sizes))
    pieces = pieces if not pieces else (name_node(pieces[0], "SplitWithSizesBackward0"),) + pieces[1:]
    return multi_output_views(pieces, "SplitWithSizes")


def _split_method(self, split_size, dim=0):
    """``Tensor.split``: ``split`` under the method's own parameter name (``x.split(split_size=2)``), as PyTorch's."""
    return split(self, split_size, dim)


_split_method.__name__, _split_method.__qualname__ = "split", "Tensor.split"
tensor_method(_split_method)


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
    if type(chunks) is not int:
        _int_arg(chunks)
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


_TENSOR_SPLIT_SIGNATURES = (" * (Tensor input, tuple of ints indices, int dim = 0)\n"
                            " * (Tensor input, Tensor tensor_indices_or_sections, int dim = 0)\n"
                            " * (Tensor input, int sections, int dim = 0)\n")


def _tensor_split_arg(indices_or_sections, dim, keywords):
    """The one split argument, given positionally or as PyTorch's ``indices``/``sections``/
    ``tensor_indices_or_sections`` keyword of the matching type; PyTorch's TypeError otherwise."""
    given = {k: v for k, v in keywords.items() if v is not None}
    kinds = {"indices": (list, tuple), "sections": (int,), "tensor_indices_or_sections": (Tensor,)}
    if (indices_or_sections is None) == (len(given) == 1) and len(given) <= 1 and \
            all(isinstance(v, kinds[k]) and not isinstance(v, bool) for k, v in given.items()):
        return indices_or_sections if indices_or_sections is not None else next(iter(given.values()))
    def kind(v):
        return "Tensor" if isinstance(v, Tensor) else type(v).__name__
    got = ["Tensor"] + ([kind(indices_or_sections)] if indices_or_sections is not None else [])
    got += [f"dim={kind(dim)}"] if dim != 0 else []
    got += [f"{k}={kind(v)}" for k, v in given.items()]
    raise TypeError(f"tensor_split() received an invalid combination of arguments - got ({', '.join(got)}), but "
                    f"expected one of:\n{_TENSOR_SPLIT_SIGNATURES}")


@tensor_method
def tensor_split(input, indices_or_sections=None, dim=0, *, indices=None, sections=None,
                 tensor_indices_or_sections=None):
    """Views split into ``n`` near-equal sections, or at the given indices, along ``dim`` (as numpy.array_split).
    The split may also be given by PyTorch's keywords: ``indices`` (a sequence), ``sections`` (an int) or
    ``tensor_indices_or_sections``."""
    if indices_or_sections is None or indices is not None or sections is not None or \
            tensor_indices_or_sections is not None:
        indices_or_sections = _tensor_split_arg(indices_or_sections, dim, {
            "indices": indices, "sections": sections, "tensor_indices_or_sections": tensor_indices_or_sections})
    if input.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    dim = wrap_dim(dim, input.ndim)
    size = input.shape[dim]
    if isinstance(indices_or_sections, Tensor):
        if indices_or_sections.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a zero-dimensional or "
                               f"one-dimensional tensor, but got a tensor with {indices_or_sections.ndim} dims")
        if indices_or_sections.dtype is not _dtype.int64:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to have dtype of long, but got "
                               f"{_dtype.scalar_type_name(indices_or_sections.dtype)}")
        if indices_or_sections.ndim == 0:
            indices_or_sections = int(indices_or_sections)
        else:
            indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, (list, tuple)):
        cuts = [min(max(int_arg(i) + (size if i < 0 else 0), 0), size) for i in indices_or_sections]
        edges = [0] + cuts + [size]
        bounds = [(start, max(start, stop)) for start, stop in zip(edges[:-1], edges[1:])]
    else:
        sections = int_arg(indices_or_sections)
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
        return registry["stack"].apply(grads, ctx.dim)   # rearrange's stack, by name (as Split's cat)


@tensor_method
def unbind(input, dim=0):
    """The slices along ``dim`` as a tuple of views."""
    if input.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    dim = wrap_dim(dim, input.ndim)
    if input.shape[dim] == 0:
        return ()
    return multi_output_views(tuple(_as_view(piece, input) for piece in Unbind.apply(input, dim)), "Unbind")


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
    return _compat.as_strided(xp, a, shape, strides, writeable=True)


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
    if type(offset) is not int:
        _int_arg(offset)
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
    size, step = int_arg(size), int_arg(step)
    length = input.shape[dim] if input.ndim else 1
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {dim} is {length} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    return _as_view(UnfoldWindows.apply(input, dim, size, step), input)


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
                         ("swapaxes_", transpose), ("swapdims_", transpose), ("as_strided_", as_strided)):
    _restriding(_function, _name)
