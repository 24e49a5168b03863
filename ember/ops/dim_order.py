"""``Tensor.dim_order`` (the order in which a tensor's dims lie in memory, as PyTorch finds it from the strides) and
the ``const_data_ptr`` / ``mutable_data_ptr`` spellings of ``data_ptr``."""
import math

from .._memory_format import channels_last, channels_last_3d, memory_format
from ._util import tensor_method

__all__ = []   # Tensor methods only

# innermost first: the dims whose strides nest for each channels-last format (N, C, H, W) / (N, C, D, H, W)
_CHANNELS_LAST_ORDER = {channels_last: (1, 3, 2, 0), channels_last_3d: (1, 4, 3, 2, 0)}
_TYPE_ERROR = "The ambiguity_check argument must be a bool or a list of memory formats."


def _nested(shape, strides, order):
    """Whether the dims of ``order`` (innermost first) have strides 1, size, size * size, ... (size-1 dims skipped)."""
    expected = 1
    for d in order:
        if shape[d] == 1:
            continue
        if strides[d] != expected:
            return False
        expected *= shape[d]
    return True


def _laid_out(shape, strides, fmt):
    """PyTorch's ``is_contiguous(memory_format=fmt)`` from sizes and strides (False for a channels-last format of
    another rank; ``preserve_format`` asks for row-major, as ``contiguous_format``)."""
    order = _CHANNELS_LAST_ORDER.get(fmt)
    if order is not None:
        return len(shape) == len(order) and _nested(shape, strides, order)
    return math.prod(shape) < 2 or _nested(shape, strides, range(len(shape) - 1, -1, -1))


def _at_least(a, b):
    # "a >= b" as PyTorch's stride sort asks it: anything is at least 0, 0 is at least nothing else
    if b == 0:
        return True
    if a == 0:
        return False
    return a >= b or a % b == 0


def _compare(shape, strides, a, b):
    """1 when dim ``a`` lies inside dim ``b`` in memory, -1 when outside, 0 when the strides do not tell: a zero
    stride, or equal strides with ``a`` no longer than ``b`` (equal strides order the longer dim outside)."""
    stride_a, stride_b = strides[a], strides[b]
    if stride_a == 0 or stride_b == 0:
        return 0
    if stride_a == stride_b:
        return 0 if _at_least(shape[b], shape[a]) else 1
    if _at_least(stride_b, stride_a):
        return -1
    if _at_least(stride_a, stride_b):
        return 1
    return 0


def reordered(ndim, compare):
    """TensorIterator's reorder_dimensions: the dims innermost first, by an insertion sort from the last dim that
    leaves undecided pairs as they stand; ``compare(a, b)`` is 1 where dim ``a`` goes after ``b``, -1 where before,
    0 where undecided."""
    perm = list(range(ndim - 1, -1, -1))
    for i in range(1, ndim):
        inner = i
        for outer in range(i - 1, -1, -1):
            order = compare(perm[outer], perm[inner])
            if order > 0:
                perm[outer], perm[inner] = perm[inner], perm[outer]
                inner = outer
            elif order < 0:
                break
    return perm


def iteration_order(shape, operands, reduction=False):
    """The dims of ``shape`` fastest-varying first as PyTorch's TensorIterator orders them (``reorder_dimensions``):
    for each pair, the first operand (strides, one list per operand, 0 where broadcast) whose strides are both
    non-zero and differ decides, equal strides putting the smaller dim first; in a ``reduction`` the first operand
    (the output) puts its reduced dims (stride 0) first."""
    def should_swap(dim0, dim1):
        for operand, strides in enumerate(operands):
            stride0, stride1 = strides[dim0], strides[dim1]
            if reduction and operand == 0 and (stride0 == 0) != (stride1 == 0):
                return 1 if stride1 == 0 else -1
            if stride0 == 0 or stride1 == 0:
                continue
            if stride0 != stride1:
                return -1 if stride0 < stride1 else 1
            if shape[dim0] > shape[dim1]:
                return 1
        return 0
    return reordered(len(shape), should_swap)


def _physical_order(shape, strides, check):
    """(dims outermost first, whether a neighbouring pair's order was left undecided when ``check``): PyTorch's
    logical-to-physical permutation of an elementwise output, for one tensor."""
    ndim = len(shape)
    if ndim < 2:
        return list(range(ndim)), False
    contiguous = _laid_out(shape, strides, None)
    nhwc = _laid_out(shape, strides, channels_last)
    if contiguous and not nhwc:
        return list(range(ndim)), False
    if nhwc and not contiguous:
        return [0, *range(2, ndim), 1], False
    perm = reordered(ndim, lambda a, b: _compare(shape, strides, a, b))
    undecided = bool(check) and any(_compare(shape, strides, perm[i], perm[i + 1]) != -1 for i in range(ndim - 1))
    return perm[::-1], undecided


@tensor_method
def dim_order(self, *, ambiguity_check=False):
    """The dims in the order they lie in memory, outermost first, found from the strides (a sort that skips zero
    strides and orders equal strides by size, with PyTorch's row-major and channels-last short cuts).
    ``ambiguity_check=True`` raises a RuntimeError when several orders fit (a size-1 dim, or equal neighbouring
    strides); a list of memory formats accepts such a tensor when exactly one of them lays it out."""
    if self.is_sparse:
        raise AttributeError(f"Can't get dim order on sparse type: {self.type()} Use Tensor.to_dense() to convert to "
                             "a dense tensor first.")
    if not isinstance(ambiguity_check, bool):
        if not isinstance(ambiguity_check, list) or not all(isinstance(f, memory_format) for f in ambiguity_check):
            raise TypeError(_TYPE_ERROR)
    shape, strides = tuple(self.shape), self.stride()
    formats = ambiguity_check if isinstance(ambiguity_check, list) else []
    check_several = ambiguity_check if isinstance(ambiguity_check, bool) else True
    several = any(a == b for a, b in zip(strides, strides[1:])) or any(size == 1 for size in shape)
    if check_several and several and sum(_laid_out(shape, strides, f) for f in formats) != 1:
        raise RuntimeError("The tensor does not have unique dim order, or cannot map to exact one of the given memory "
                           "formats.")
    order, undecided = _physical_order(shape, strides, ambiguity_check)
    if undecided:
        raise RuntimeError("The tensor does not have unique dim order.")
    return tuple(order)


@tensor_method
def const_data_ptr(self):
    """The address of the first element, for reading (``data_ptr``: ember's tensors are always writable)."""
    return self.data_ptr()


@tensor_method
def mutable_data_ptr(self):
    """The address of the first element, for writing (``data_ptr``)."""
    return self.data_ptr()
