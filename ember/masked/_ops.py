"""``torch.masked``'s reductions and normalizations on strided tensors: masked-out elements are replaced by the
operation's identity (0 for sum, 1 for prod, -inf for amax and softmax, ...) before the plain operation runs, so
the result is dense and masked-out positions count as if absent. ``mask`` broadcasts to the input."""
import builtins

from .. import _dtype
from .._dtype_info import iinfo

__all__ = ["sum", "prod", "cumsum", "cumprod", "amax", "amin", "argmax", "argmin", "mean", "median", "logsumexp",
           "logaddexp", "norm", "var", "std", "softmax", "log_softmax", "softmin", "normalize"]

_SMALL_INTEGERS = ("uint8", "bool", "int8", "int16", "int32")   # summed and multiplied as int64, as torch.sum's


def _torch():
    import ember
    return ember


def _canonical_dim(dim, ndim):
    """``dim`` (None, an int or a sequence; ``()`` means all dims) as a sorted tuple of non-negative dims."""
    if dim is None or dim == ():
        return tuple(range(ndim))
    ndim = max(ndim, 1)
    dims = []
    for d in (dim,) if isinstance(dim, int) else dim:
        if d in dims:
            raise RuntimeError(f"dim={d} appears multiple times in the list of dims")
        if not -ndim <= d < ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got {d})")
        dims.append(d % ndim)
    return tuple(sorted(dims))


def _strided(input, name):
    if input.layout is not _torch().strided:
        raise ValueError(f"masked {name} expects strided tensor (got {input.layout} tensor)")


def _input_mask(input, mask):
    """``mask`` as a bool tensor of ``input``'s shape (broadcast; a mask of more dims is refused)."""
    if mask.shape != input.shape:
        if mask.ndim > input.ndim:
            raise IndexError("_input_mask expected broadcastable mask (got mask dimensionality higher than of the "
                             "input)")
        mask = mask.clone().broadcast_to(input.shape)
    if mask.layout is not _torch().strided:
        mask = mask.to_dense()
    return mask.to(dtype=_dtype.bool_)


def _identity(op, input, ord=2):
    """The value that leaves ``op``'s result unchanged where it stands for an element, as a 0-d tensor."""
    torch, dtype = _torch(), input.dtype
    if op in ("sum", "cumsum"):
        value = 0
    elif op in ("prod", "cumprod"):
        value = 1
    elif op == "norm":
        value = torch.inf if ord == -torch.inf else 0
    elif op == "median":   # nanmedian skips NaN
        return torch.tensor(torch.nan, dtype=dtype if dtype.is_floating_point else torch.float32,
                            device=input.device)
    elif dtype.is_floating_point or dtype.is_complex and op == "logsumexp":
        value = torch.inf if op in ("amin", "argmin") else -torch.inf
    elif dtype.is_complex or dtype is _dtype.bool_ or not (dtype.is_signed or dtype is _dtype.uint8):
        raise NotImplementedError(f"identity of {op} on {dtype} input")
    else:
        value = iinfo(dtype).max if op in ("amin", "argmin") else iinfo(dtype).min
    return torch.tensor(value, dtype=dtype, device=input.device)


def _combine(op, input, mask, ord=2):
    """``input`` with its masked-out elements replaced by ``op``'s identity (``input`` itself without a mask). A
    MaskedTensor's own masked-out elements are replaced first (its data as a plain tensor), as PyTorch's
    ``_combine_input_and_mask`` does; ``mask`` then applies as to any input."""
    if type(input).__name__ == "MaskedTensor":
        data = input.get_data()
        input = _torch().where(input.get_mask(), data, _identity(op, data, ord))
    if mask is None:
        return input
    return _torch().where(_input_mask(input, mask), input, _identity(op, input, ord))


def _widened(input, dtype):
    if dtype is not None:
        return dtype
    return _dtype.int64 if str(input.dtype).rpartition(".")[2] in _SMALL_INTEGERS else input.dtype


def sum(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """The sum over ``dim`` (all dims when None) of the masked-in elements."""
    dtype = _widened(input, dtype)
    dims = _canonical_dim(dim, input.ndim)
    combined = _combine("sum", input, mask)
    _strided(combined, "sum")
    return _torch().sum(combined, dims, builtins.bool(keepdim), dtype=dtype)


def prod(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """The product over ``dim`` (all dims when None) of the masked-in elements."""
    dtype = _widened(input, dtype)
    dims = _canonical_dim(dim, input.ndim)
    combined = _combine("prod", input, mask)
    _strided(combined, "prod")
    result = combined.to(dtype=dtype)
    for d in reversed(dims):
        result = result.prod(dim=d, keepdim=builtins.bool(keepdim))
    return result


def cumsum(input, dim, *, dtype=None, mask=None):
    """The running sum along ``dim``, masked-out elements adding nothing."""
    dtype = input.dtype if dtype is None else dtype
    d = _canonical_dim(dim, input.ndim)[0]
    combined = _combine("sum", input, mask)
    _strided(combined, "cumsum")
    return _torch().cumsum(combined, d, dtype=dtype).to(dtype=dtype)


def cumprod(input, dim, *, dtype=None, mask=None):
    """The running product along ``dim``, masked-out elements multiplying by one."""
    dtype = input.dtype if dtype is None else dtype
    d = _canonical_dim(dim, input.ndim)[0]
    combined = _combine("prod", input, mask)
    _strided(combined, "cumprod")
    return _torch().cumprod(combined, d, dtype=dtype).to(dtype=dtype)


def _extreme(op, input, dim, keepdim, dtype, mask):
    dtype = input.dtype if dtype is None else dtype
    combined = _combine(op, input, mask)
    dims = _canonical_dim(dim, combined.ndim)
    _strided(combined, op)
    return getattr(_torch(), op)(combined, dims, builtins.bool(keepdim)).to(dtype=dtype)


def amax(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """The largest masked-in element over ``dim`` (-inf, or the type's least value, where none is masked in)."""
    return _extreme("amax", input, dim, keepdim, dtype, mask)


def amin(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """The smallest masked-in element over ``dim`` (inf, or the type's greatest value, where none is masked in)."""
    return _extreme("amin", input, dim, keepdim, dtype, mask)


def _arg_extreme(op, input, dim, keepdim, dtype, mask):
    dtype = input.dtype if dtype is None else dtype   # torch.masked casts the indices to the input's dtype
    combined = _combine(op, input, mask)
    _strided(combined, op)
    return getattr(_torch(), op)(combined, dim, builtins.bool(keepdim)).to(dtype=dtype)


def argmax(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """The index of the largest masked-in element along ``dim``, in ``dtype`` (the input's by default)."""
    return _arg_extreme("argmax", input, dim, keepdim, dtype, mask)


def argmin(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """The index of the smallest masked-in element along ``dim``, in ``dtype`` (the input's by default)."""
    return _arg_extreme("argmin", input, dim, keepdim, dtype, mask)


def _count(input, dim, keepdim, mask):
    """How many elements are masked in over ``dim``, and the bool mask itself (None without a mask)."""
    if mask is None:
        ones = _torch().ones(input.shape, dtype=_dtype.int64, device=input.device)
        return sum(ones, dim, keepdim=keepdim), None
    inmask = _input_mask(input, mask)
    return inmask.sum(dim=dim, keepdim=builtins.bool(keepdim)), inmask


def mean(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """The mean over ``dim`` of the masked-in elements (NaN where none is); a floating or complex dtype only."""
    source = "Input" if dtype is None else "Optional"
    dtype = input.dtype if dtype is None else dtype
    if not (dtype.is_floating_point or dtype.is_complex):
        raise ValueError(f"mean(): Could not infer output dtype. {source} dtype must be either a floating point or "
                         f"complex dtype. Got: {dtype}")
    _strided(input, "mean")
    count, inmask = _count(input, dim, keepdim, mask)
    return sum(input, dim, keepdim=keepdim, dtype=dtype, mask=inmask) / count


def median(input, dim=-1, *, keepdim=False, dtype=None, mask=None):
    """The median along ``dim`` of the masked-in elements (NaN where none is; refused then for integer input)."""
    dtype = input.dtype if dtype is None else dtype
    d = _canonical_dim(dim, input.ndim)[0]
    is_float = input.dtype.is_floating_point
    if not is_float:
        input = input.to(dtype=_dtype.float32)
    combined = _combine("median", input, mask)
    _strided(combined, "median")
    output = _torch().nanmedian(combined, d, keepdim).values
    if is_float:
        return output
    if output.isnan().any():
        raise ValueError("masked median expects no fully masked out rows if dtype is not floating point")
    return output.to(dtype=dtype)


def logsumexp(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """log(sum(exp(x))) over ``dim`` of the masked-in elements (-inf where none is)."""
    dtype = input.dtype if dtype is None else dtype
    dims = _canonical_dim(dim, input.ndim)
    combined = _combine("logsumexp", input, mask)
    _strided(combined, "logsumexp")
    return _torch().logsumexp(combined, dims, keepdim=keepdim).to(dtype=dtype)


def logaddexp(input, other, *, dtype=None, input_mask=None, other_mask=None):
    """log(exp(input) + exp(other)), each side's masked-out elements counting as -inf."""
    dtype = input.dtype if dtype is None else dtype
    strided = _torch().strided
    if input.layout is not strided or other.layout is not strided:
        raise ValueError(f"masked logaddexp expects strided tensors (got {input.layout} tensor for input, "
                         f"{other.layout} for other)")
    return _torch().logaddexp(_combine("logaddexp", input, input_mask),
                              _combine("logaddexp", other, other_mask)).to(dtype=dtype)


def norm(input, ord=2.0, dim=None, *, keepdim=False, dtype=None, mask=None):
    """The vector ``ord``-norm over ``dim`` of the masked-in elements."""
    dtype = input.dtype if dtype is None else dtype
    combined = _combine("norm", input, mask, ord)
    _strided(combined, "norm")
    from ..linalg import vector_norm
    return vector_norm(combined, ord, _canonical_dim(dim, input.ndim), builtins.bool(keepdim), dtype=dtype)


def _std_var(input, dim, unbiased, correction, keepdim, dtype, mask, take_sqrt):
    torch = _torch()
    if unbiased is not None and correction is not None:
        raise AssertionError("Only one of unbiased and correction may be given")
    correction = builtins.float(correction) if correction is not None else 1.0 if unbiased in (None, True) else 0.0
    if dtype is None:
        dtype = input.dtype if input.dtype.is_floating_point or input.dtype.is_complex else _dtype.float32
    compute = dtype if dtype.is_floating_point or dtype.is_complex else _dtype.float32
    if input.layout is not torch.strided:
        raise ValueError(f"masked std/var expects strided tensor (got {input.layout} tensor)")
    count, inmask = _count(input, dim, True, mask)
    deviation = input - sum(input, dim, keepdim=True, dtype=dtype, mask=inmask) / count
    squared = deviation * deviation.conj() if deviation.is_complex() else deviation * deviation
    total = sum(squared, dim, keepdim=keepdim, dtype=compute, mask=inmask)
    if not keepdim:
        count = count.reshape(total.shape)
    if correction != 0:
        count = (count.to(compute.to_real() if compute.is_complex else compute) - correction).clamp_min(0)
    output = (total / count).to(dtype=dtype)
    return output.sqrt() if take_sqrt else output


def var(input, dim=None, unbiased=None, *, correction=None, keepdim=False, dtype=None, mask=None):
    """The variance over ``dim`` of the masked-in elements, with Bessel's ``correction`` (1 by default)."""
    return _std_var(input, dim, unbiased, correction, keepdim, dtype, mask, False)


def std(input, dim=None, unbiased=None, *, correction=None, keepdim=False, dtype=None, mask=None):
    """The standard deviation over ``dim`` of the masked-in elements, with Bessel's ``correction``."""
    return _std_var(input, dim, unbiased, correction, keepdim, dtype, mask, True)


def _normalization(name, identity, input, dim, dtype, mask):
    dtype = input.dtype if dtype is None else dtype
    d = _canonical_dim(dim, input.ndim)[0]
    combined = _combine(identity, input, mask)
    _strided(combined, name)
    from ..nn import functional
    return getattr(functional, name)(combined, d, dtype=dtype)


def softmax(input, dim, *, dtype=None, mask=None):
    """Softmax along ``dim`` over the masked-in elements (masked-out ones get 0; NaN where none is masked in)."""
    return _normalization("softmax", "amax", input, dim, dtype, mask)


def log_softmax(input, dim, *, dtype=None, mask=None):
    """Log-softmax along ``dim`` over the masked-in elements (masked-out ones get -inf)."""
    return _normalization("log_softmax", "amax", input, dim, dtype, mask)


def softmin(input, dim, *, dtype=None, mask=None):
    """Softmin along ``dim`` over the masked-in elements (masked-out ones get 0)."""
    return _normalization("softmin", "amin", input, dim, dtype, mask)


def normalize(input, ord, dim, *, eps=1e-12, dtype=None, mask=None):
    """The masked-in elements divided by their ``ord``-norm along ``dim`` (at least ``eps``); masked-out ones 0."""
    dtype = input.dtype if dtype is None else dtype
    combined = _combine("sum", input, mask)
    _strided(combined, "normalize")
    norms = norm(input, ord, dim, keepdim=True, dtype=dtype, mask=mask)
    return combined / _torch().maximum(norms, norms.new_full([], eps))

