"""Distances and similarities between vectors: pairwise_distance, cosine_similarity, pdist."""
from .. import _dtype
from ..autograd.function import composite
from ._kernel_dtypes import require_dtype
from .._tensor import Tensor
from ._util import argument_error, name_node, wrap_dim
from .rearrange import broadcast_tensors

__all__ = ["pairwise_distance", "cosine_similarity", "pdist"]


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """The p-norm of x1 - x2 + eps along the last dim."""
    if not isinstance(x2, Tensor) or not isinstance(x1, Tensor):
        argument_error()   # PyTorch's parser refuses a number (pairwise_distance(x, 1.5))
    difference = x1 - x2
    shifted = name_node(difference + eps, "AddBackward1", (difference,))   # PyTorch's add of a number
    return name_node(shifted.norm(p, dim=-1, keepdim=keepdim), "NormBackward1", (shifted,))


@composite("cosine_similarity", trace_inside=True)
def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Cosine of the angle between x1 and x2 along ``dim``; norms are clamped at ``eps``."""
    common = x1.dtype if x1.dtype is x2.dtype else _dtype.promote_types(x1.dtype, x2.dtype)
    if not common.is_floating_point:
        raise RuntimeError(f"expected common dtype to be floating point, yet common dtype is "
                           f"{_dtype.scalar_type_name(common)}")
    x1, x2 = x1.to(common), x2.to(common)
    if x1.shape != x2.shape:
        x1, x2 = broadcast_tensors(x1, x2)
    dim = wrap_dim(dim, x1.ndim)
    # each side divided by its own clamped norm, as PyTorch: a zero vector gets the finite gradient x2 / (eps |x2|)
    # (sqrt of a zero sum of squares would give 0 * inf = NaN)
    unit1 = x1 / x1.norm(2, dim, keepdim=True).clamp(min=eps)
    unit2 = x2 / x2.norm(2, dim, keepdim=True).clamp(min=eps)
    return (unit1 * unit2).sum(dim)


@composite("pdist", trace_inside=True)
def pdist(input, p=2):
    """Distances between every pair of rows of a 2-D input (upper triangle, row by row)."""
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if not input.dtype.is_floating_point:
        raise RuntimeError("pdist only supports floating-point dtypes")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    require_dtype("pdist", input, "f")
    n = input.shape[0]
    import numpy
    rows, cols = numpy.triu_indices(n, 1)
    from .creation import tensor
    rows, cols = tensor(rows, device=input.device), tensor(cols, device=input.device)
    return (input[rows] - input[cols]).norm(p, dim=-1)
