"""Shape ops: views (view, reshape, expand, ...) share memory with their input as in PyTorch; copies copy."""
from .._tensor import Tensor
from ..autograd.function import Primitive
from ._util import shape_arg, tensor_method

__all__ = ["reshape"]


def _as_view(result, input):
    """Marks ``result`` as a view of ``input``: same version counter, same base."""
    result._version = input._version
    result._base = input._base if input._base is not None else input
    return result


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
        _as_view(result, input)
    return result


def _shares_memory(a, b):
    return a.base is b or a.base is b.base and b.base is not None


@tensor_method
def view(input, *shape):
    """The same memory seen with a new shape; raises when the layout does not allow a view."""
    if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list)) and hasattr(shape[0], "numpy"):
        return input.to(shape[0])
    from .. import _dtype
    if len(shape) == 1 and isinstance(shape[0], _dtype.dtype):
        raise RuntimeError("view(dtype) is not supported by ember; use .to(dtype)")
    shape = _infer_shape(shape_arg(shape), input._data.size)
    if not _viewable(input._data, shape):
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one dimension "
                           "spans across two contiguous subspaces). Use .reshape(...) instead.")
    return _as_view(Reshape.apply(input, shape), input)


def _viewable(array, shape):
    if array.flags.c_contiguous:
        return True
    try:
        probe = array.view()
        probe.shape = shape
        return True
    except AttributeError:
        return False


@tensor_method
def expand(input, *sizes):
    """Broadcasts size-1 dims to ``sizes`` (-1 keeps a dim) without copying."""
    sizes = shape_arg(sizes)
    if len(sizes) < input.ndim:
        raise RuntimeError(f"expand(torch.FloatTensor{{{list(input.shape)}}}, size={list(sizes)}): the number of "
                           f"sizes provided ({len(sizes)}) must be greater or equal to the number of dimensions in "
                           f"the tensor ({input.ndim})")
    lead = len(sizes) - input.ndim
    shape = tuple(input.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes))
    for i in range(input.ndim):
        if input.shape[i] != 1 and input.shape[i] != shape[i + lead]:
            raise RuntimeError(f"The expanded size of the tensor ({shape[i + lead]}) must match the existing size "
                               f"({input.shape[i]}) at non-singleton dimension {i + lead}.  Target sizes: {list(sizes)}."
                               f"  Tensor sizes: {list(input.shape)}")
    return _as_view(Expand.apply(input, shape), input)


Tensor.expand_as = lambda self, other: expand(self, other.shape)
