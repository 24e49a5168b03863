"""What the linear-algebra modules share: LinAlgError, the small Tensor-op helpers backwards are built from,
and the names and checks of the public functions."""
import math

import numpy

from ... import _backend, _dtype, _compat, return_types
from ..._tensor import Tensor, _make
from .._kernel_dtypes import _CPP_TYPE_NAMES
from .._util import write_out


class LinAlgError(RuntimeError):
    """Raised when a matrix is singular or not positive-definite (``torch.linalg.LinAlgError``)."""


def _conj(x):
    return x.conj() if x.dtype.is_complex else x


def _mH(x):
    return _conj(x.mT)


def _real(x):
    return x.real if x.dtype.is_complex else x


def _sgn(x):
    """x / |x| (0 at 0) as a constant: the derivative of |x| is piecewise constant."""
    data = x._data
    xp = _xp(x)
    if data.dtype.kind == "c":
        size = xp.abs(data)
        return _make(xp.asarray(xp.where(size == 0, 0, data / xp.where(size == 0, 1, size)).astype(data.dtype)))
    return _make(xp.asarray(xp.sign(data)))   # asarray: a 0-d input gives a NumPy scalar


def _xp(x):
    from ..._backend import xp_of
    return xp_of(x._data)


def _const(x, array):
    """An array as a tensor outside the graph (a mask or a selector)."""
    return _make(array)


def _diag_embed(v):
    """Square matrices with ``v`` on the diagonal of the last two dims."""
    from ..rearrange import diag_embed
    return diag_embed(v)


def _eye_like(x, n=None):
    n = x.shape[-1] if n is None else n
    return _make(_xp(x).eye(n, dtype=x._data.dtype))


_CPP_NAMES = _CPP_TYPE_NAMES   # the C++ type names PyTorch's dtype messages print


def _name(t):
    return _dtype.scalar_type_name(t.dtype)


def _check_tensor(value, name, argument):
    if not isinstance(value, Tensor):
        raise TypeError(f"{name}(): argument '{argument}' (position 1) must be Tensor, not {type(value).__name__}")


def _check_mm_dtypes(a, b):
    if a.dtype is not b.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_CPP_NAMES[a.dtype.name]} != "
                           f"{_CPP_NAMES[b.dtype.name]}")


def _check_scalar_type(first, *others):
    for other in others:
        if other.dtype is not first.dtype:
            raise RuntimeError(f"expected scalar type {_name(first)} but found {_name(other)}")


def _check_not_bool(t, kernel):
    if t.dtype is _dtype.bool_:
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")


def _check_mm_shapes(a, b):
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and "
                           f"{b.shape[0]}x{b.shape[1]})")


def _check_dot(a, b):
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.dtype is not b.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found {_name(a)} and {_name(b)}")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] to have "
                           f"the same number of elements, but got {a.shape[0]} and {b.shape[0]} elements "
                           "respectively")
    _check_not_bool(a, "dot")


def _check_mv(mat, vec, result_dtype=None):
    if mat.dtype is not vec.dtype:
        first = result_dtype or vec.dtype
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got "
                           f"{_dtype.scalar_type_name(first)}, {_name(mat)}, and {_name(vec)}")
    if mat.shape[1] != vec.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({mat.shape[0]}), mat ({mat.shape[0]}x{mat.shape[1]}), "
                           f"vec ({vec.shape[0]})")


def _batch_shape(a_batch, b_batch):
    try:
        return numpy.broadcast_shapes(a_batch, b_batch)
    except ValueError:
        for i in range(1, max(len(a_batch), len(b_batch)) + 1):
            size_a = a_batch[-i] if i <= len(a_batch) else 1
            size_b = b_batch[-i] if i <= len(b_batch) else 1
            if size_a != size_b and 1 not in (size_a, size_b):
                raise RuntimeError(f"The size of tensor a ({size_a}) must match the size of tensor b ({size_b}) at "
                                   f"non-singleton dimension {max(len(a_batch), len(b_batch)) - i}") from None
        raise


def _check_bmm(a, b, batch):
    count = math.prod(batch)
    if b.shape[-2] != a.shape[-1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{count}, {a.shape[-1]}] "
                           f"but got: [{count}, {b.shape[-2]}].")


def _check_floating(input, name):
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got {_name(input)}")


def _low_precision(A):
    return A.dtype is _dtype.float16 or A.dtype is _dtype.bfloat16


def _check_matrix(A, name, square=True, *, kernel=None, low_precision=None):
    """PyTorch's checks of a LAPACK op's matrices: at least 2 dims, square ones where ``square``, a floating or
    complex dtype; float16/bfloat16 ones (which LAPACK has no routine for) refused by PyTorch's dispatch of
    ``kernel``, or with its 'Low precision dtypes' error naming ``low_precision`` (PyTorch returns empty 16-bit
    matrices of some kernels unrefused; ember refuses them too)."""
    if A.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are {A.shape[-2]} by "
                           f"{A.shape[-1]} matrices")
    _check_floating(A, name)
    if _low_precision(A):
        if low_precision is not None:
            raise RuntimeError(f"{low_precision}: Low precision dtypes not supported. Got {_name(A)}")
        if kernel is not None:
            raise NotImplementedError(f"\"{kernel}\" not implemented for '{_name(A)}'")


def _lu_info(a):
    """LAPACK getrf's ``info`` per matrix: 1 + the first pivot that is exactly zero, else 0 (a batched LU)."""
    xp = numpy
    a = numpy.array(_backend.move(a, _backend.CPU), dtype=numpy.result_type(a.dtype, numpy.float64)).reshape(
        (math.prod(a.shape[:-2]),) + a.shape[-2:])   # (not -1: NumPy cannot infer it for empty matrices)
    n = a.shape[-1]
    info = numpy.zeros(a.shape[0], dtype=numpy.int32)
    rows = xp.arange(a.shape[0])
    for j in range(n):
        pivot = j + xp.abs(a[:, j:, j]).argmax(axis=1)
        a[rows, [j] * len(rows)], a[rows, pivot] = a[rows, pivot], a[rows, [j] * len(rows)].copy()
        head = a[:, j, j]
        singular = head == 0
        info = numpy.where((info == 0) & singular, j + 1, info)
        factor = a[:, j + 1:, j] / xp.where(singular, 1, head)[:, None]
        a[:, j + 1:, j + 1:] -= factor[:, :, None] * a[:, None, j, j + 1:]
    return info


def _raise_singular(A, name, message):
    info = _lu_info(A._data).reshape(A.shape[:-2])
    for index in numpy.ndindex(info.shape):
        if info[index]:
            prefix = f"(Batch element {numpy.ravel_multi_index(index, info.shape)}): " if info.ndim else ""
            raise LinAlgError(f"{name}: {prefix}" + message.format(info[index]))
    raise LinAlgError(f"{name}: " + message.format(1))


class _FactorizationFailed(RuntimeError):
    """Raised by a forward with LAPACK's ``info`` per matrix (None when unknown); the public function words
    PyTorch's message for it."""

    def __init__(self, info=None):
        super().__init__("factorization failed")
        self.info = info


def _raise_with_info(name, info, message):
    """LinAlgError for the first failing matrix of a batch, prefixed with its batch index as PyTorch does."""
    info = numpy.asarray(info)
    for index in numpy.ndindex(info.shape):
        if info[index]:
            prefix = f"(Batch element {numpy.ravel_multi_index(index, info.shape)}): " if info.ndim else ""
            raise LinAlgError(f"{name}: {prefix}" + message.format(info[index])) from None
    raise LinAlgError(f"{name}: " + message.format(1)) from None


def _adjoint(a):
    """The conjugate transpose of the last two dims of an array."""
    return a.swapaxes(-1, -2).conj()


def _write_outs(out, results, name):
    """``out=`` for ops returning several tensors: writes each result into the matching tensor of ``out``."""
    if out is None:
        return results
    for target, value in zip(out, results):
        write_out(target, value, name)
    return return_types.structseq(f"{type(results).__name__}_out", type(results)._fields)(*out)   # PyTorch's type


def _substitute(xp, a, b, upper):
    """Solves triangular a X = b row by row: what BLAS trsm gives (inf and nan) where a has zeros on the
    diagonal, which LU-based solvers refuse."""
    n = a.shape[-1]
    x = xp.zeros(numpy.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + b.shape[-2:], dtype=b.dtype)
    with numpy.errstate(all="ignore"):
        for i in (range(n - 1, -1, -1) if upper else range(n)):
            x[..., i, :] = (b[..., i, :] - (a[..., i:i + 1, :] @ x)[..., 0, :]) / a[..., i, i:i + 1]
    return x


def _solve_array(xp, a, b, upper):
    try:
        return _compat.solve(xp, a, b)
    except numpy.linalg.LinAlgError:
        return _substitute(xp, a, b, upper)


def _tolerances(A, atol, rtol):
    """PyTorch's (atol, rtol) arrays: rtol defaults to eps * max(m, n) where atol is not positive, else to 0."""
    xp = _xp(A)
    real = numpy.finfo(A._data.dtype).dtype
    atol_array = xp.asarray(0.0 if atol is None else (atol._data if isinstance(atol, Tensor) else atol), dtype=real)
    if rtol is None:
        default = numpy.finfo(real).eps * max(A.shape[-2], A.shape[-1])
        rtol_array = xp.where(atol_array > 0, 0, default).astype(real) if atol is not None else \
            xp.asarray(default, dtype=real)
    else:
        rtol_array = xp.asarray(rtol._data if isinstance(rtol, Tensor) else rtol, dtype=real)
    return atol_array, rtol_array


def _kept(magnitudes, atol, rtol, xp):
    """Mask of the singular values (or |eigenvalues|) above max(atol, rtol * largest)."""
    largest = _compat.amax(xp, magnitudes, axis=-1, keepdims=True, initial=0)
    return magnitudes > xp.maximum(atol[..., None], rtol[..., None] * largest)
