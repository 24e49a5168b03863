"""Linear algebra: matrix products (matmul and friends, einsum, tensordot) and the ``torch.linalg`` functions
(norms, inverses, determinants, solvers, decompositions). ``ember.linalg`` re-exports the latter under their
PyTorch names.

Backwards are written with the public functions of this module, so second derivatives come for free.
"""
import collections
import math
import string

import numpy

from .. import _dtype
from .._tensor import Tensor, _make
from ..autograd.function import Primitive
from ..autograd.grad_mode import state
from ._inplace import inplace_method
from ._util import quiet, tensor_method, wrap_dim, wrap_dims, write_out

__all__ = ["matmul", "mm", "bmm", "mv", "dot", "vdot", "inner", "outer", "ger", "addmm", "addmv", "addbmm",
           "baddbmm", "addr", "einsum", "tensordot", "chain_matmul", "cdist", "inverse", "det", "logdet", "slogdet",
           "cholesky", "cholesky_solve", "cholesky_inverse", "qr", "svd", "pinverse", "matrix_power", "matrix_exp"]


class LinAlgError(RuntimeError):
    """Raised when a matrix is singular or not positive-definite (``torch.linalg.LinAlgError``)."""


# --- small helpers the backwards are built from (public Tensor ops, so higher derivatives work) --------------
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
        return _make(xp.where(size == 0, 0, data / xp.where(size == 0, 1, size)).astype(data.dtype))
    return _make(xp.sign(data))


def _xp(x):
    from .._backend import xp_of
    return xp_of(x._data)


def _const(x, array):
    """An array as a tensor outside the graph (a mask or a selector)."""
    return _make(array)


def _diag_embed(v):
    """Square matrices with ``v`` on the diagonal of the last two dims."""
    from .shape import diag_embed
    return diag_embed(v)


def _eye_like(x, n=None):
    n = x.shape[-1] if n is None else n
    return _make(_xp(x).eye(n, dtype=x._data.dtype))


# --- names and checks shared by the public functions -----------------------------------------------------
_CPP_NAMES = {"bool": "bool", "uint8": "unsigned char", "int8": "signed char", "int16": "short int", "int32": "int",
              "int64": "long int", "float16": "c10::Half", "bfloat16": "c10::BFloat16", "float32": "float",
              "float64": "double", "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


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


# --- the matrix product ------------------------------------------------------------------------------------
class Matmul(Primitive):
    @staticmethod
    @quiet
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.xp.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        if a.ndim == 1 and b.ndim == 1:   # dot
            return (grad * _conj(b) if ctx.needs_input_grad[0] else None,
                    grad * _conj(a) if ctx.needs_input_grad[1] else None)
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = Matmul.apply(grad, _mH(b))
        if ctx.needs_input_grad[1]:
            if b.ndim == 2 and a.ndim > 2:
                # Fold the batch into the rows: one (k x rows) @ (rows x n) product instead of a batch to sum.
                grad_b = Matmul.apply(_mH(a.reshape(-1, a.shape[-1])), grad.reshape(-1, grad.shape[-1]))
            else:
                grad_b = Matmul.apply(_mH(a), grad)
        return grad_a, grad_b


@tensor_method("__matmul__")
def matmul(input, other, *, out=None):
    """Matrix product with PyTorch's rules for 1-D operands (vectors) and broadcast batch dims."""
    a, b = input, other
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {a.ndim}D and {b.ndim}D")
    if a.ndim == 2 and b.ndim == 2:
        if a._data.dtype != b._data.dtype:
            _check_mm_dtypes(a, b)
        if a.shape[1] != b.shape[0]:
            _check_mm_shapes(a, b)
        _check_not_bool(a, "addmm_impl_cpu_")
        return write_out(out, Matmul.apply(a, b), "matmul")
    if a.ndim == 1 and b.ndim == 1:
        return write_out(out, dot(a, b), "matmul")
    if b.ndim <= 2 and (a.ndim >= 3 or b.ndim == 1):
        return write_out(out, _fold_matmul(a, b), "matmul")
    return write_out(out, _batched_matmul(a, b), "matmul")


def _fold_matmul(a, b):
    """``a`` (..., n, k) or (n, k) times a matrix or vector ``b``: checked as one 2-D product, as PyTorch folds it."""
    rows = math.prod(a.shape[:-1])
    if b.ndim == 1:
        folded = _Folded((rows, a.shape[-1]), a.dtype)
        _check_mv(folded, b)
        _check_not_bool(a, "addmv_impl_cpu")
        return (Matmul.apply(a, b.unsqueeze(-1))).squeeze(-1)
    if a.ndim == 1:
        _check_mm_dtypes(a, b)
        _check_mm_shapes(_Folded((1, a.shape[0])), b)
        return (Matmul.apply(a.unsqueeze(0), b)).squeeze(-2)
    _check_mm_dtypes(a, b)
    _check_mm_shapes(_Folded((rows, a.shape[-1])), b)
    _check_not_bool(a, "addmm_impl_cpu_")
    return Matmul.apply(a, b)


class _Folded:
    """The shape and dtype PyTorch's error messages report for a folded operand."""

    def __init__(self, shape, dtype=None):
        self.shape, self.dtype = shape, dtype


def _batched_matmul(a, b):
    a_vector, b_vector = a.ndim == 1, b.ndim == 1
    a3 = a.unsqueeze(0) if a_vector else a
    b3 = b.unsqueeze(-1) if b_vector else b
    batch = _batch_shape(a3.shape[:-2], b3.shape[:-2])
    _check_bmm(a3, b3, batch)
    _check_scalar_type(a3, b3)
    _check_not_bool(a, "bmm")
    result = Matmul.apply(a3, b3)
    if a_vector:
        result = result.squeeze(-2)
    if b_vector:
        result = result.squeeze(-1)
    return result


tensor_method("__rmatmul__")(lambda self, other: matmul(other, self))


@tensor_method
def mm(input, mat2, *, out=None):
    """Product of two 2-D matrices (no broadcasting)."""
    if input.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    _check_mm_dtypes(input, mat2)
    _check_mm_shapes(input, mat2)
    _check_not_bool(input, "addmm_impl_cpu_")
    return write_out(out, Matmul.apply(input, mat2), "mm")


@tensor_method
def bmm(input, mat2, *, out=None):
    """Batched product of (b, n, m) and (b, m, p) tensors (no broadcasting)."""
    if input.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if mat2.shape[0] != input.shape[0] or mat2.shape[1] != input.shape[2]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{input.shape[0]}, "
                           f"{input.shape[2]}] but got: [{mat2.shape[0]}, {mat2.shape[1]}].")
    _check_scalar_type(input, mat2)
    _check_not_bool(input, "bmm")
    return write_out(out, Matmul.apply(input, mat2), "bmm")


@tensor_method
def mv(input, vec, *, out=None):
    """Product of a matrix and a vector."""
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input.ndim}, {vec.ndim}")
    _check_mv(input, vec)
    _check_not_bool(input, "addmv_impl_cpu")
    return write_out(out, (Matmul.apply(input, vec.unsqueeze(-1))).squeeze(-1), "mv")


@tensor_method
def dot(input, tensor, *, out=None):
    """Inner product of two 1-D tensors of the same dtype (no conjugation)."""
    _check_dot(input, tensor)
    return write_out(out, Matmul.apply(input, tensor), "dot")


@tensor_method
def vdot(input, other, *, out=None):
    """Inner product of two 1-D tensors, conjugating the first."""
    _check_dot(input, other)
    return write_out(out, Matmul.apply(_conj(input), other), "vdot")


@tensor_method
def inner(input, other, *, out=None):
    """Sum of products over the last dims of both tensors (a 0-d operand multiplies)."""
    if input.ndim == 0 or other.ndim == 0:
        return write_out(out, input * other, "inner")
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                           f"{list(input.shape)} and {list(other.shape)}")
    if input.dtype is not other.dtype:
        raise RuntimeError("both inputs should have same dtype")
    return write_out(out, tensordot(input, other, ([-1], [-1])), "inner")


@tensor_method
def outer(input, vec2, *, out=None):
    """Outer product of two vectors; the dtypes promote."""
    if input.ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument self, but got {input.ndim}-D")
    if vec2.ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument vec2, but got {vec2.ndim}-D")
    return write_out(out, input.unsqueeze(1) * vec2.unsqueeze(0), "outer")


ger = outer
Tensor.ger = outer


def _scaled_sum(name, input, product, beta, alpha):
    """beta * input + alpha * product, with beta == 0 ignoring input (even NaNs) as PyTorch does."""
    if alpha != 1:
        product = product * alpha
    if beta == 0:
        return product + input * 0 if input.requires_grad else product.expand(_broadcast(input, product))
    return product + (input if beta == 1 else input * beta)


def _broadcast(input, product):
    return tuple(numpy.broadcast_shapes(tuple(input.shape), tuple(product.shape)))


def _expand_input(input, shape):
    """PyTorch's expand error when ``input`` does not broadcast to the product's ``shape``."""
    if tuple(input.shape) != tuple(shape):
        input.expand(shape)


@tensor_method
def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * (mat1 @ mat2)."""
    for name, m in (("mat1", mat1), ("mat2", mat2)):
        if m.ndim != 2:
            raise RuntimeError(f"{name} must be a matrix, got {m.ndim}-D tensor")
    _check_mm_dtypes(mat1, mat2)
    if input.dtype is not mat2.dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {_name(input)} and {_name(mat2)}")
    _check_mm_shapes(mat1, mat2)
    _expand_input(input, (mat1.shape[0], mat2.shape[1]))
    return write_out(out, _scaled_sum("addmm", input, Matmul.apply(mat1, mat2), beta, alpha), "addmm")


@tensor_method
def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * (mat @ vec)."""
    if mat.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.ndim}, {mat.ndim}, {vec.ndim}")
    if not (input.dtype is mat.dtype is vec.dtype):
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got {_name(input)}, {_name(mat)}, "
                           f"and {_name(vec)}")
    _check_mv(mat, vec)
    _expand_input(input, (mat.shape[0],))
    product = (Matmul.apply(mat, vec.unsqueeze(-1))).squeeze(-1)
    return write_out(out, _scaled_sum("addmv", input, product, beta, alpha), "addmv")


@tensor_method
def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * sum_i (batch1[i] @ batch2[i])."""
    for name, b in (("batch1", batch1), ("batch2", batch2)):
        if b.ndim != 3:
            wrap_dim(2, b.ndim)
            raise RuntimeError(f"{name} must be a 3D tensor")
    if batch1.shape[0] != batch2.shape[0]:
        raise RuntimeError(f"batch1 and batch2 must have same number of batches, got {batch1.shape[0]} and "
                           f"{batch2.shape[0]}")
    if batch1.shape[2] != batch2.shape[1]:
        raise RuntimeError(f"Incompatible matrix sizes for bmm ({batch1.shape[1]}x{batch1.shape[2]} and "
                           f"{batch2.shape[1]}x{batch2.shape[2]})")
    _check_mm_dtypes(batch1, batch2)
    if input.dtype is not batch2.dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {_name(input)} and {_name(batch2)}")
    _expand_input(input, (batch1.shape[1], batch2.shape[2]))
    # The batch sum is a single (n x b*m) @ (b*m x p) product.
    left = batch1.permute((1, 0, 2)).reshape(batch1.shape[1], -1)
    right = batch2.reshape(-1, batch2.shape[2])
    return write_out(out, _scaled_sum("addbmm", input, Matmul.apply(left, right), beta, alpha), "addbmm")


@tensor_method
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * bmm(batch1, batch2)."""
    for name, b in (("batch1", batch1), ("batch2", batch2)):
        if b.ndim != 3:
            wrap_dim(2, b.ndim)
            raise RuntimeError(f"{name} must be a 3D tensor")
    if not (input.dtype is batch1.dtype is batch2.dtype):
        raise RuntimeError(f"Input dtypes must be the same, got: input {_CPP_NAMES[input.dtype.name]}, batch1: "
                           f"{_CPP_NAMES[batch1.dtype.name]}, batch2: {_CPP_NAMES[batch2.dtype.name]}")
    product = bmm(batch1, batch2)
    _expand_input(input, product.shape)
    return write_out(out, _scaled_sum("baddbmm", input, product, beta, alpha), "baddbmm")


@tensor_method
def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * outer(vec1, vec2); dtypes promote."""
    for name, v in (("vec1", vec1), ("vec2", vec2)):
        if v.ndim != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {name}, but got {v.ndim}-D")
    product = outer(vec1, vec2)
    _expand_input(input, product.shape)
    if product.dtype is _dtype.bool_ and input.dtype is _dtype.bool_:
        product = product if alpha else product & False
        return write_out(out, product | input if beta else product, "addr")
    return write_out(out, _scaled_sum("addr", input, product, beta, alpha), "addr")


for _function in (addmm, addmv, addbmm, baddbmm, addr):
    inplace_method(_function)


# --- einsum and tensordot ----------------------------------------------------------------------------------
class Einsum(Primitive):
    """einsum on an equation with explicit output, one letter per dim and equal sizes for each letter."""

    @staticmethod
    def forward(ctx, *args):
        equation, operands = args[-1], args[:-1]
        ctx.equation = equation
        ctx.save_for_backward(*operands)
        return ctx.xp.einsum(equation, *operands, optimize=len(operands) > 1)

    @staticmethod
    def backward(ctx, grad):
        operands = ctx.saved_tensors
        inputs, output = ctx.equation.split("->")
        inputs = inputs.split(",")
        sizes = {}
        for subs, op in zip(inputs, operands):
            sizes.update(zip(subs, op.shape))
        grads = []
        for k, subs in enumerate(inputs):
            if not ctx.needs_input_grad[k]:
                grads.append(None)
                continue
            others = [(s, _conj(op)) for i, (s, op) in enumerate(zip(inputs, operands)) if i != k]
            grads.append(_einsum_adjoint(grad, output, others, subs, sizes))
        return tuple(grads) + (None,)


def _einsum_adjoint(grad, output, others, target, sizes):
    """The gradient for an operand with subscripts ``target``, as one einsum of grad and the other operands.

    A letter repeated in ``target`` (a diagonal) gets a fresh letter tied to the first by an identity matrix; a
    letter that was summed away in the operand alone is brought back by a vector of ones.
    """
    seen_letters = set(output).union(*(s for s, _ in others))
    pool = iter(sorted(set(string.ascii_letters) - set(output).union(target, *(s for s, _ in others))))
    terms = [(output, grad)] + others
    renamed = []
    xp = _xp(grad)
    dtype = grad._data.dtype
    for letter in target:
        if letter in renamed:
            fresh = next(pool)
            terms.append((letter + fresh, _make(xp.eye(sizes[letter], dtype=dtype))))
            renamed.append(fresh)
            continue
        if letter not in seen_letters:
            terms.append((letter, _make(xp.ones(sizes[letter], dtype=dtype))))
            seen_letters.add(letter)
        renamed.append(letter)
    equation = ",".join(s for s, _ in terms) + "->" + "".join(renamed)
    return Einsum.apply(*(t for _, t in terms), equation)


def einsum(*args):
    """Sums products of operands over the subscripts an equation names ('ij,jk->ik', implicit output, '...')."""
    if not args:
        raise TypeError("einsum(): must specify the equation string and at least one operand, or at least one "
                        "operand and its subscripts list")
    if isinstance(args[0], str):
        equation = args[0]
        operands = args[1:]
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = tuple(operands[0])
    else:
        equation, operands = _sublist_equation(args)
    equation = equation.replace(" ", "")
    inputs, output = _parse_equation(equation, operands)
    operands = _broadcast_operands(inputs, operands)
    for op in operands[1:]:
        _check_scalar_type(operands[0], op)
    if len(operands) == 1 and inputs[0] == output:
        return operands[0]
    return Einsum.apply(*operands, ",".join(inputs) + "->" + output)


def _sublist_equation(args):
    """Turns einsum(op1, [0, 1], op2, [1, 2], [0, 2]) into 'ab,bc->ac' and the operands."""
    def letters(sublist):
        return "".join("..." if s is Ellipsis else string.ascii_letters[s] for s in sublist)
    operands, parts = args[0::2], args[1::2]
    output = None
    if len(args) % 2:
        operands, output = args[0:-1:2], args[-1]
    equation = ",".join(letters(p) for p in parts)
    if output is not None:
        equation += "->" + letters(output)
    return equation, operands


def _parse_equation(equation, operands):
    """Explicit subscripts for each operand and the output, with '...' expanded to fresh letters."""
    lhs, arrow, rhs = equation.partition("->")
    inputs = lhs.split(",")
    if len(inputs) > len(operands):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(inputs) < len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    for subs in inputs + ([rhs] if arrow else []):
        bad = set(subs.replace("...", "")) - set(string.ascii_letters)
        if bad:
            raise RuntimeError(f"einsum(): invalid subscript given at index {equation.index(bad.pop())} in the "
                               "equation string, subscripts must be in [a-zA-Z]")
    pool = sorted(set(string.ascii_letters) - set(equation))
    ellipsis = 0
    for subs, op in zip(inputs, operands):
        named = len(subs.replace("...", ""))
        if "..." in subs:
            ellipsis = max(ellipsis, op.ndim - named)
        elif named != op.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({named}) does not match the "
                               f"number of dimensions ({op.ndim}) for operand {inputs.index(subs)} and no ellipsis "
                               "was given")
    ellipsis_letters = "".join(pool[:ellipsis])
    expanded = []
    for subs, op in zip(inputs, operands):
        count = op.ndim - len(subs.replace("...", ""))
        expanded.append(subs.replace("...", ellipsis_letters[ellipsis - count:]))
    if arrow:
        output = rhs.replace("...", ellipsis_letters)
        for letter in output:
            if output.count(letter) > 1:
                raise RuntimeError(f"einsum(): output subscript {letter} appears more than once in the output")
            if letter not in lhs and letter not in ellipsis_letters:
                raise RuntimeError(f"einsum(): output subscript {letter} does not appear in the equation for any "
                                   "input operand")
    else:
        counts = collections.Counter(lhs.replace("...", "").replace(",", ""))
        output = ellipsis_letters + "".join(sorted(letter for letter, n in counts.items() if n == 1))
    return expanded, output


def _broadcast_operands(inputs, operands):
    """Checks each letter's sizes and expands size-1 dims so every operand agrees (PyTorch broadcasts them)."""
    sizes = {}
    for k, (subs, op) in enumerate(zip(inputs, operands)):
        for letter, size in zip(subs, op.shape):
            if subs.count(letter) > 1 and op.shape[subs.index(letter)] != size:
                raise RuntimeError(f"einsum(): subscript {letter} is repeated for operand {k} but the sizes don't "
                                   f"match, {op.shape[subs.index(letter)]} != {size}")
            previous = sizes.get(letter, 1)
            if size != previous and 1 not in (size, previous):
                raise RuntimeError(f"einsum(): subscript {letter} has size {size} for operand {k} which does not "
                                   f"broadcast with previously seen size {previous}")
            sizes[letter] = max(previous, size) if size and previous else min(previous, size) if letter in sizes \
                else size
    result = []
    for subs, op in zip(inputs, operands):
        target = tuple(sizes[letter] for letter in subs)
        result.append(op if tuple(op.shape) == target else op.expand(target))
    return result


def tensordot(a, b, dims=2, out=None):
    """Contracts ``dims`` trailing dims of ``a`` with leading dims of ``b`` (or the listed dim pairs)."""
    if isinstance(dims, Tensor):
        dims = dims.item() if dims.ndim == 0 else dims.tolist()
    if isinstance(dims, (int, numpy.integer)):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > a.ndim or dims > b.ndim:
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        dims_a, dims_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        dims_a, dims_b = ([d] if isinstance(d, int) else list(d) for d in dims)
    if len(dims_a) != len(dims_b):
        raise RuntimeError("both dimension lists should have same length")
    if a.dtype is not b.dtype:
        raise RuntimeError("both inputs should have same dtype")
    dims_a = [wrap_dim(d, a.ndim) for d in dims_a]
    dims_b = [wrap_dim(d, b.ndim) for d in dims_b]
    for da, db in zip(dims_a, dims_b):
        if a.shape[da] != b.shape[db] and 1 not in (a.shape[da], b.shape[db]):
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a.shape[da]} in dim {da} "
                               f"and second has size {b.shape[db]} in dim {db}")
    free_a = [d for d in range(a.ndim) if d not in dims_a]
    free_b = [d for d in range(b.ndim) if d not in dims_b]
    size = math.prod(a.shape[d] for d in dims_a)
    left = a.permute(free_a + dims_a).reshape(math.prod(a.shape[d] for d in free_a), size)
    right = b.permute(dims_b + free_b).reshape(size, math.prod(b.shape[d] for d in free_b))
    result = Matmul.apply(left, right).reshape(tuple(a.shape[d] for d in free_a) + tuple(b.shape[d] for d in free_b))
    return write_out(out, result, "tensordot")


def multi_dot(tensors, *, out=None):
    """The product of a chain of matrices (the first may be a row vector, the last a column vector)."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    first, last = tensors[0], tensors[-1]
    if first.ndim not in (1, 2):
        raise RuntimeError(f"multi_dot(): the first tensor must be 1D or 2D but got {first.ndim}D")
    if last.ndim not in (1, 2):
        raise RuntimeError(f"multi_dot(): the last tensor must be 1D or 2D but got {last.ndim}D")
    for i, t in enumerate(tensors[1:-1], 1):
        if t.ndim != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {t.ndim}D")
    for i, t in enumerate(tensors[1:], 1):
        if t.dtype is not first.dtype:
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but tensor 0 is "
                               f"{_CPP_NAMES[first.dtype.name]} and tensor {i} {_CPP_NAMES[t.dtype.name]}")
    matrices = [first.unsqueeze(0) if first.ndim == 1 else first] + tensors[1:-1] + \
        [last.unsqueeze(1) if last.ndim == 1 else last]
    for i in range(len(matrices) - 1):
        if matrices[i].shape[1] != matrices[i + 1].shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes {list(matrices[i].shape)} and "
                               f"{list(matrices[i + 1].shape)} cannot be multiplied")
    result = _chain_product(matrices, 0, len(matrices) - 1, _chain_order(matrices))
    if last.ndim == 1:
        result = result.squeeze(1)
    if first.ndim == 1:
        result = result.squeeze(0)
    return write_out(out, result, "multi_dot")


def _chain_order(matrices):
    """The cheapest parenthesization (classic dynamic programme over the chain's dimensions)."""
    n = len(matrices)
    sizes = [m.shape[0] for m in matrices] + [matrices[-1].shape[1]]
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = math.inf
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + sizes[i] * sizes[k + 1] * sizes[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def _chain_product(matrices, i, j, split):
    if i == j:
        return matrices[i]
    k = split[i][j]
    return Matmul.apply(_chain_product(matrices, i, k, split), _chain_product(matrices, k + 1, j, split))


def chain_matmul(*matrices, out=None):
    """Deprecated alias of ``linalg.multi_dot`` taking the matrices as arguments."""
    import warnings
    warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use "
                  "torch.linalg.multi_dot instead, which accepts a list of two or more tensors rather than multiple "
                  "parameters.", UserWarning, stacklevel=2)
    if len(matrices) == 1:
        return matrices[0]
    return multi_dot(matrices, out=out)


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """p-norm distances between each row of ``x1`` and each row of ``x2`` (batched, broadcasting)."""
    for name, x in (("X1", x1), ("X2", x2)):
        if x.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {x.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    for name, x in (("X1", x1), ("X2", x2)):
        if not x.dtype.is_floating_point:
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: {_name(x)}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    _check_scalar_type(x1, x2)
    _batch_shape(x1.shape[:-2], x2.shape[:-2])
    difference = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    return vector_norm(difference, p, -1)


# --- norms -------------------------------------------------------------------------------------------------
class VectorNorm(Primitive):
    @staticmethod
    def forward(ctx, a, ord, dims, keepdim):
        xp = ctx.xp
        ctx.ord, ctx.dims, ctx.keepdim, ctx.shape = ord, dims, keepdim, a.shape
        size = xp.abs(a)
        if ord == math.inf:
            result = size.max(axis=dims, keepdims=keepdim, initial=0)
        elif ord == -math.inf:
            result = size.min(axis=dims, keepdims=keepdim)
        elif ord == 0:
            result = (size != 0).sum(axis=dims, keepdims=keepdim).astype(size.dtype)
        elif ord == 1:
            result = size.sum(axis=dims, keepdims=keepdim)
        elif ord == 2:
            result = xp.sqrt((size * size).sum(axis=dims, keepdims=keepdim))
        else:
            result = ((size ** ord).sum(axis=dims, keepdims=keepdim)) ** (1.0 / ord)
        result = xp.asarray(result, dtype=size.dtype)
        ctx.save_for_backward(a, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        a, norm = ctx.saved_tensors
        ord = ctx.ord
        if not ctx.keepdim:
            shape = tuple(1 if i in ctx.dims else s for i, s in enumerate(ctx.shape))
            grad, norm = grad.reshape(shape), norm.reshape(shape)
        xp = _xp(a)
        if ord == 0:
            return grad * 0 * a
        if ord == 2:
            zero = _make((norm._data == 0).astype(norm._data.dtype))
            return a * (grad / (norm + zero))
        if ord == 1:
            return _sgn(a) * grad
        if ord in (math.inf, -math.inf):
            hit = xp.abs(a._data) == norm._data
            mask = hit / hit.sum(axis=ctx.dims, keepdims=True)
            return _sgn(a) * grad * _make(mask.astype(norm._data.dtype))
        size = a.abs()
        scaled = _sgn(a) * size ** (ord - 1)
        if ord < 1:
            scaled = scaled * _make((a._data != 0).astype(norm._data.dtype))
            return scaled * grad * norm ** (1 - ord)
        zero = (norm._data == 0).astype(norm._data.dtype)
        return scaled * (grad / (norm + _make(zero)) ** (ord - 1)) * _make(1 - zero)


def _check_floating(input, name):
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got {_name(input)}")


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """The ``ord``-norm of ``x`` over ``dim`` (all elements when None), treating it as a vector."""
    if isinstance(ord, str) or not isinstance(ord, (int, float, numpy.number)):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' must be Number, not {type(ord).__name__}")
    if dtype is not None:
        dtype = _dtype.as_dtype(dtype)
        if not (dtype.is_floating_point or dtype.is_complex):
            raise RuntimeError(f"linalg.vector_norm: dtype should be floating point or complex, but got "
                               f"{_dtype.scalar_type_name(dtype)}")
        if _dtype.promote_types(x.dtype, dtype) is not dtype:
            raise RuntimeError(f"linalg.vector_norm: the dtype of the input ({_name(x)}) should be convertible "
                               f"without narrowing to the specified dtype ({_dtype.scalar_type_name(dtype)})")
        x = x.to(dtype)
    _check_floating(x, "linalg.vector_norm")
    dims = wrap_dims(dim, x.ndim) if dim is not None else tuple(range(x.ndim))
    if isinstance(dim, (list, tuple)) and len(dim) == 0:
        dims = tuple(range(x.ndim))
    if ord in (math.inf, -math.inf) and any(x.shape[d] == 0 for d in dims) if x.ndim else False:
        raise RuntimeError(f"linalg.vector_norm cannot compute the {'inf' if ord > 0 else '-inf'} norm on an empty "
                           "tensor because the operation does not have an identity")
    return write_out(out, VectorNorm.apply(x, float(ord), dims, keepdim), "linalg.vector_norm")


def _check_matrix(A, name, square=True):
    if A.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are {A.shape[-2]} by "
                           f"{A.shape[-1]} matrices")
    _check_floating(A, name)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    """A matrix norm over the two ``dim`` dims: 'fro', 'nuc', inf, -inf, 1, -1, 2 or -2."""
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    if dtype is not None:
        A = A.to(dtype)
    _check_floating(A, "linalg.matrix_norm")
    d0, d1 = (wrap_dim(d, A.ndim) for d in dim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, {dim[1]})")
    if ord == "fro":
        return write_out(out, vector_norm(A, 2, (d0, d1), keepdim), "linalg.matrix_norm")
    if ord not in ("nuc", math.inf, -math.inf, 1, -1, 2, -2):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if ord in ("nuc", 2, -2):
        moved = A.permute([d for d in range(A.ndim) if d not in (d0, d1)] + [d0, d1])
        values = svdvals(moved)
        result = values.sum(-1) if ord == "nuc" else (values.narrow(-1, 0 if ord == 2 else
                                                                       values.shape[-1] - 1, 1)).squeeze(-1)
        if keepdim:
            for d in sorted((d0, d1)):
                result = result.unsqueeze(d)
        return write_out(out, result, "linalg.matrix_norm")
    sum_dim, max_dim = (d0, d1) if abs(ord) == 1 else (d1, d0)
    sums = vector_norm(A, 1, sum_dim, keepdim=True)
    result = vector_norm(sums, math.inf if ord > 0 else -math.inf, max_dim, keepdim=True)
    if not keepdim:
        result = result.reshape(tuple(s for i, s in enumerate(result.shape) if i not in (d0, d1)))
    return write_out(out, result, "linalg.matrix_norm")


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None, out=None):
    """A vector or matrix norm, chosen from ``ord`` and ``dim`` as ``torch.linalg.norm`` does."""
    if dim is not None:
        dims = [dim] if isinstance(dim, int) else list(dim)
        if len(dims) not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {dims}")
    elif ord is not None:
        if A.ndim not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got "
                               f"{A.ndim}D.")
        dims = list(range(A.ndim))
    if isinstance(ord, str) or (dim is not None and len(dims) == 2) or (ord is not None and dim is None and
                                                                        A.ndim == 2):
        return matrix_norm(A, "fro" if ord is None else ord, dims if dim is not None else (-2, -1), keepdim,
                           dtype=dtype, out=out)
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype, out=out)


def vecdot(x, y, *, dim=-1, out=None):
    """Dot products of vectors along ``dim`` (conjugating ``x``), broadcasting the rest."""
    if x.dtype is not y.dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found x of type {_name(x)} "
                           f"and y of type {_name(y)} instead")
    _check_floating(x, "linalg.vecdot")
    if x.ndim == 1 and y.ndim == 1 and x.shape != y.shape:
        _check_dot(x, y)
    return write_out(out, (_conj(x) * y).sum(dim), "linalg.vecdot")


def cross(input, other, *, dim=-1, out=None):
    """Cross products of 3-vectors along ``dim``, broadcasting the other dims."""
    _check_scalar_type(input, other)
    shape = _batch_shape(tuple(input.shape), tuple(other.shape))
    if input.shape[dim] != 3 or other.shape[dim] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {input.shape[dim]} and "
                           f"{other.shape[dim]}")
    dim = wrap_dim(dim, len(shape))
    levi_civita = numpy.zeros((3, 3, 3), dtype=input._data.dtype)
    for i, j, k in ((0, 1, 2), (1, 2, 0), (2, 0, 1)):
        levi_civita[i, j, k], levi_civita[j, i, k] = 1, -1
    letters = string.ascii_letters[:len(shape)]
    subs = [letters[:dim] + v + letters[dim + 1:] for v in "XYZ"]
    epsilon = _make(_xp(input).asarray(levi_civita))
    return write_out(out, einsum(f"{subs[0]},{subs[1]},XYZ->{subs[2]}", input.expand(shape), other.expand(shape),
                                 epsilon), "linalg.cross")


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The diagonal (shifted by ``offset``) of the matrices in dims ``dim1`` and ``dim2``, as the last dim."""
    d1, d2 = wrap_dim(dim1, A.ndim), wrap_dim(dim2, A.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return A.diagonal(offset, d1, d2)


# --- inverses and determinants -----------------------------------------------------------------------------
InvEx = collections.namedtuple("linalg_inv_ex", ["inverse", "info"])
SlogdetResult = collections.namedtuple("linalg_slogdet", ["sign", "logabsdet"])


class Inv(Primitive):
    @staticmethod
    def forward(ctx, a):
        result = ctx.xp.linalg.inv(a)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad):
        inverse, = ctx.saved_tensors
        inverse_h = _mH(inverse)
        return -matmul(matmul(inverse_h, grad), inverse_h)


def _lu_info(a):
    """LAPACK getrf's ``info`` per matrix: 1 + the first pivot that is exactly zero, else 0 (a batched LU)."""
    xp = numpy
    a = numpy.array(numpy.asarray(a), dtype=numpy.result_type(a.dtype, numpy.float64)).reshape((-1,) + a.shape[-2:])
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


def inv(A, *, out=None):
    """The inverse of each square matrix; LinAlgError for singular ones."""
    _check_matrix(A, "linalg.inv")
    try:
        return write_out(out, Inv.apply(A), "linalg.inv")
    except numpy.linalg.LinAlgError:
        _raise_singular(A, "linalg.inv", "The diagonal element {} is zero, the inversion could not be completed "
                                         "because the input matrix is singular.")


def inv_ex(A, *, check_errors=False, out=None):
    """The inverse and a LAPACK-style ``info`` per matrix (nonzero where singular) instead of raising."""
    _check_matrix(A, "linalg.inv_ex")
    info = _lu_info(A._data).reshape(A.shape[:-2])
    if check_errors and info.any():
        inv(A)
    if not info.any():
        inverse = Inv.apply(A)
    else:
        safe = _xp(A).where(_xp(A).asarray(info != 0)[..., None, None], _xp(A).eye(A.shape[-1], dtype=A._data.dtype),
                            A._data)
        inverse = _make(_xp(A).linalg.inv(safe))
    return InvEx(inverse, _make(_xp(A).asarray(info)))


@tensor_method
def inverse(input, *, out=None):
    """The inverse of each square matrix (alias of ``linalg.inv``)."""
    return inv(input, out=out)


class Det(Primitive):
    @staticmethod
    def forward(ctx, a):
        result = ctx.xp.asarray(ctx.xp.linalg.det(a))
        ctx.save_for_backward(a, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        a, result = ctx.saved_tensors
        scale = (grad * _conj(result)).unsqueeze(-1).unsqueeze(-1)
        return scale * _mH(_cofactor_ratio(a, result))


def _cofactor_ratio(a, det_a):
    """inv(a), or for singular matrices the adjugate divided by nothing: adj(a) = det(a) inv(a) through the SVD."""
    if a.shape[-1] == 0 or bool(_xp(a).all(det_a._data != 0)):
        return inv(a)
    u, s, vh = SVD.apply(a, False)
    # adj(A) = det(U) det(V^H) V diag(prod_{j != i} s_j) U^H; it equals det(A) inv(A) where A is invertible.
    n = s.shape[-1]
    xp = _xp(a)
    others = _make(1 - xp.eye(n, dtype=s._data.dtype))
    products = _product_except(s, others)
    sign = _make(xp.asarray(numpy.linalg.det(numpy.asarray(u._data)) * numpy.linalg.det(numpy.asarray(vh._data))))
    adjugate = sign.unsqueeze(-1).unsqueeze(-1) * matmul(_mH(vh) * products.unsqueeze(-2), _mH(u))
    zero = xp.asarray(det_a._data == 0)
    safe = det_a + _make(zero.astype(det_a._data.dtype))
    return adjugate / safe.unsqueeze(-1).unsqueeze(-1) * _make(xp.asarray(~zero[..., None, None] * 1.0)) + \
        adjugate * _make(xp.asarray(zero[..., None, None] * 1.0))


def _product_except(s, others):
    """prod_{j != i} s_j for each i, without dividing (s may hold zeros)."""
    n = s.shape[-1]
    result = None
    for j in range(n):
        column = (s.narrow(-1, j, 1)).squeeze(-1)
        factor = column.unsqueeze(-1) * others.narrow(0, j, 1).reshape(n) + \
            _make(numpy.eye(n, dtype=s._data.dtype)[j])
        result = factor if result is None else result * factor
    return result


@tensor_method
def det(input):
    """The determinant of each square matrix."""
    _check_matrix(input, "linalg.det")
    return Det.apply(input)


class Slogdet(Primitive):
    @staticmethod
    def forward(ctx, a):
        sign, logabsdet = ctx.xp.linalg.slogdet(a)
        sign, logabsdet = ctx.xp.asarray(sign), ctx.xp.asarray(logabsdet)
        ctx.save_for_backward(a, sign)
        ctx.set_materialize_grads(False)
        return sign, logabsdet

    @staticmethod
    def backward(ctx, grad_sign, grad_logabsdet):
        # (d slogdet)^*(g_sign, g_abs) = (g_abs - i Im(conj(g_sign) sign)) A^-H; a real sign is constant.
        a, sign = ctx.saved_tensors
        grad = grad_logabsdet
        if a.dtype.is_complex and grad_sign is not None:
            rotation = _conj(grad_sign) * sign
            grad = (rotation - _conj(rotation)) * -0.5 if grad is None else grad - (rotation - _conj(rotation)) * 0.5
        if grad is None:
            return None
        return grad.unsqueeze(-1).unsqueeze(-1) * _mH(inv(a))


@tensor_method
def slogdet(input):
    """(sign, log|det|) of each square matrix, stable where det over- or underflows."""
    _check_matrix(input, "linalg.slogdet")
    return SlogdetResult(*Slogdet.apply(input))


@tensor_method
def logdet(input):
    """log(det(input)): NaN for a negative determinant, -inf for a singular matrix."""
    _check_matrix(input, "logdet")
    sign, logabsdet = Slogdet.apply(input)
    xp = _xp(input)
    if input.dtype.is_complex:
        return logabsdet + _make(xp.log(sign._data))
    return logabsdet + _make(xp.where(sign._data < 0, xp.nan, 0).astype(logabsdet._data.dtype))


# --- solvers ----------------------------------------------------------------------------------------------
class Solve(Primitive):
    @staticmethod
    def forward(ctx, a, b):
        try:
            result = ctx.xp.linalg.solve(a, b)
        except numpy.linalg.LinAlgError:
            raise _FactorizationFailed() from None
        ctx.save_for_backward(a, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        a, result = ctx.saved_tensors
        grad_b = _solve_matrix(_mH(a), grad)
        grad_a = -matmul(grad_b, _mH(result)) if ctx.needs_input_grad[0] else None
        return grad_a, grad_b


def _solve_matrix(A, B):
    return Solve.apply(A, B)


def solve(A, B, *, left=True, out=None):
    """X with A X = B (or X A = B when ``left=False``); B may be a (batch of) vector(s)."""
    _check_matrix(A, "linalg.solve")
    if A.dtype is not B.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type {_name(A)} "
                           f"and B of type {_name(B)} instead")
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    matrix_b = B.unsqueeze(-1) if vector else B
    if not left:
        A, matrix_b = A.mT, matrix_b.mT
    if matrix_b.shape[-2] != A.shape[-1]:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({A.shape[-2]}x{A.shape[-1]} and "
                           f"{matrix_b.shape[-2]}x{matrix_b.shape[-1]})")
    _batch_shape(A.shape[:-2], matrix_b.shape[:-2])
    try:
        result = Solve.apply(A, matrix_b)
    except _FactorizationFailed:
        raise LinAlgError("torch.linalg.solve: The solver failed because the input matrix is singular.") from None
    if not left:
        result = result.mT
    return write_out(out, result.squeeze(-1) if vector else result, "linalg.solve")


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


def _grad_needed(*tensors):
    return state.enabled and any(t.requires_grad for t in tensors)


def _write_outs(out, results, name):
    """``out=`` for ops returning several tensors: writes each result into the matching tensor of ``out``."""
    if out is None:
        return results
    for target, value in zip(out, results):
        write_out(target, value, name)
    return type(results)(*out)


# --- triangular solves ---------------------------------------------------------------------------------
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
        return xp.linalg.solve(a, b)
    except numpy.linalg.LinAlgError:
        return _substitute(xp, a, b, upper)


class SolveTriangular(Primitive):
    @staticmethod
    def forward(ctx, a, b, upper, left, unitriangular):
        xp = ctx.xp
        ctx.args = (upper, left, unitriangular)
        triangle = xp.triu(a) if upper else xp.tril(a)
        if unitriangular:
            triangle = triangle - xp.eye(a.shape[-1], dtype=a.dtype) * (xp.diagonal(a, 0, -2, -1)[..., None] - 1)
        if left:
            result = _solve_array(xp, triangle, b, upper)
        else:
            result = _solve_array(xp, triangle.swapaxes(-1, -2), b.swapaxes(-1, -2), not upper).swapaxes(-1, -2)
        ctx.save_for_backward(a if ctx.needs_input_grad[0] or ctx.needs_input_grad[1] else None, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        a, result = ctx.saved_tensors
        upper, left, unitriangular = ctx.args
        grad_b = solve_triangular(_mH(a), grad, upper=not upper, left=left, unitriangular=unitriangular)
        grad_a = None
        if ctx.needs_input_grad[0]:
            grad_a = -(matmul(grad_b, _mH(result)) if left else matmul(_mH(result), grad_b))
            grad_a = grad_a.triu(int(unitriangular)) if upper else grad_a.tril(-int(unitriangular))
        return grad_a, grad_b if ctx.needs_input_grad[1] else None


def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    """X with A X = B (or X A = B when ``left=False``) for triangular A, reading only its ``upper`` or lower
    triangle (and taking ones on the diagonal when ``unitriangular``)."""
    for label, t in (("A", A), ("B", B)):
        if t.ndim < 2:
            raise RuntimeError(f"linalg.solve_triangular: The input tensor {label} must have at least 2 dimensions.")
    if not (A.dtype.is_floating_point or A.dtype.is_complex):
        raise NotImplementedError(f"\"triangular_solve_cpu\" not implemented for '{_name(A)}'")
    if B.dtype is not A.dtype:   # PyTorch solves in A's dtype
        B = B.to(A.dtype)
    _check_matrix(A, "linalg.solve_triangular")
    if (B.shape[-2] if left else B.shape[-1]) != A.shape[-1]:
        shapes = (f"{A.shape[-2]}x{A.shape[-1]} and {B.shape[-2]}x{B.shape[-1]}")
        raise RuntimeError(f"linalg.solve_triangular: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({shapes})")
    _batch_shape(A.shape[:-2], B.shape[:-2])
    return write_out(out, SolveTriangular.apply(A, B, upper, left, unitriangular), "linalg.solve_triangular")


# --- Cholesky --------------------------------------------------------------------------------------------
CholeskyExResult = collections.namedtuple("linalg_cholesky_ex", ["L", "info"])
_NOT_PD = ("The factorization could not be completed because the input is not positive-definite (the leading "
           "minor of order {} is not positive-definite).")


def _cholesky_unblocked(a):
    """The lower Cholesky factor computed column by column on the host, and LAPACK potrf's ``info`` per matrix
    (the order of the first leading minor that is not positive-definite, 0 when none): for the error path."""
    host = numpy.asarray(a.get() if hasattr(a, "get") else a)
    work = host.astype(numpy.result_type(host.dtype, numpy.float64)).reshape((-1,) + host.shape[-2:])
    n = work.shape[-1]
    factor = numpy.zeros_like(work)
    info = numpy.zeros(work.shape[0], dtype=numpy.int32)
    with numpy.errstate(all="ignore"):
        for j in range(n):
            pivot = work[:, j, j].real - (numpy.abs(factor[:, j, :j]) ** 2).sum(-1)
            bad = ~(pivot > 0)
            info = numpy.where((info == 0) & bad, j + 1, info)
            root = numpy.sqrt(numpy.where(bad, 1, pivot))
            factor[:, j, j] = numpy.where(info == 0, root, pivot)
            column = work[:, j + 1:, j] - (factor[:, j + 1:, :j] @ factor[:, j, :j].conj()[:, :, None])[..., 0]
            factor[:, j + 1:, j] = column / root[:, None]
    return factor.astype(host.dtype).reshape(host.shape), info.reshape(host.shape[:-2])


class Cholesky(Primitive):
    @staticmethod
    def forward(ctx, a, upper):
        xp = ctx.xp
        ctx.upper = upper
        source = _adjoint(a) if upper else a   # potrf reads the triangle it is told to; NumPy reads the lower one
        try:
            lower = xp.linalg.cholesky(source)
            failed = bool(xp.isnan(lower).any())
        except numpy.linalg.LinAlgError:
            failed = True
        if failed:
            lower, info = _cholesky_unblocked(source)
            if info.any():
                raise _FactorizationFailed(info)
            lower = xp.asarray(lower)
        factor = _adjoint(lower) if upper else lower
        ctx.save_for_backward(factor)
        return factor

    @staticmethod
    def backward(ctx, grad):
        factor, = ctx.saved_tensors
        lower = _mH(factor) if ctx.upper else factor
        grad_lower = _mH(grad) if ctx.upper else grad
        phi = (matmul(_mH(lower), grad_lower)).tril()
        phi = (phi + _mH(phi.tril(-1))) * 0.5
        grad_a = solve_triangular(_mH(lower), phi, upper=True)
        return solve_triangular(lower, grad_a, upper=False, left=False)


def _cholesky(A, upper, name):
    _check_matrix(A, name)
    try:
        return Cholesky.apply(A, upper)
    except _FactorizationFailed as failure:
        _raise_with_info(name, failure.info, _NOT_PD)


def linalg_cholesky(A, *, upper=False, out=None):
    """The Cholesky factor L (A = L L^H) of each Hermitian positive-definite matrix, or U = L^H when ``upper``."""
    return write_out(out, _cholesky(A, upper, "linalg.cholesky"), "linalg.cholesky")


def cholesky_ex(A, *, upper=False, check_errors=False, out=None):
    """The Cholesky factor and LAPACK's ``info`` per matrix (the order of the first leading minor that is not
    positive-definite, 0 on success) instead of raising."""
    _check_matrix(A, "linalg.cholesky_ex")
    xp = _xp(A)
    try:
        factor = Cholesky.apply(A, upper)
        info = _make(xp.zeros(A.shape[:-2], dtype=numpy.int32))
    except _FactorizationFailed as failure:
        if check_errors:
            _raise_with_info("linalg.cholesky_ex", failure.info, _NOT_PD)
        lower, info = _cholesky_unblocked(_adjoint(A._data) if upper else A._data)
        factor, info = _make(xp.asarray(_adjoint(lower) if upper else lower)), _make(xp.asarray(info))
    return _write_outs(out, CholeskyExResult(factor, info), "linalg.cholesky_ex")


@tensor_method
def cholesky(input, upper=False, *, out=None):
    """The Cholesky factor of each positive-definite matrix (deprecated: use ``linalg.cholesky``)."""
    import warnings
    warnings.warn("torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be removed in a future "
                  "PyTorch release.", UserWarning, stacklevel=2)
    return write_out(out, _cholesky(input, upper, "cholesky"), "cholesky")


class CholeskySolve(Primitive):
    @staticmethod
    def forward(ctx, b, factor, upper):
        xp = ctx.xp
        ctx.upper = upper
        lower = _adjoint(xp.triu(factor)) if upper else xp.tril(factor)
        result = _solve_array(xp, _adjoint(lower), _solve_array(xp, lower, b, False), True)
        ctx.save_for_backward(factor, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        factor, result = ctx.saved_tensors
        grad_b = cholesky_solve(grad, factor, ctx.upper)
        grad_factor = None
        if ctx.needs_input_grad[1]:
            common = matmul(grad_b, _mH(result))
            common = common + _mH(common)
            grad_factor = -matmul(factor, common) if ctx.upper else -matmul(common, factor)
        return grad_b if ctx.needs_input_grad[0] else None, grad_factor


@tensor_method
def cholesky_solve(input, input2, upper=False, *, out=None):
    """X with A X = B given B (``input``) and A's Cholesky factor (``input2``, lower unless ``upper``)."""
    b, factor = input, input2
    if b.ndim < 2:
        raise RuntimeError(f"b should have at least 2 dimensions, but has {b.ndim} dimensions instead")
    if factor.ndim < 2:
        raise RuntimeError(f"u should have at least 2 dimensions, but has {factor.ndim} dimensions instead")
    if b.dtype is not factor.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type {_name(b)} and A of type "
                           f"{_name(factor)} instead.")
    _check_matrix(factor, "cholesky_solve")
    if b.shape[-2] != factor.shape[-1]:
        raise RuntimeError(f"Incompatible matrix sizes for cholesky_solve: each A matrix is {factor.shape[-1]} by "
                           f"{factor.shape[-1]} but each b matrix is {b.shape[-2]} by {b.shape[-1]}")
    return write_out(out, CholeskySolve.apply(b, factor, upper), "cholesky_solve")


@tensor_method
def cholesky_inverse(input, upper=False, *, out=None):
    """The inverse of A = L L^H (or U^H U when ``upper``) from its Cholesky factor."""
    _check_matrix(input, "cholesky_inverse")
    identity = _eye_like(input).expand(tuple(input.shape))
    return write_out(out, CholeskySolve.apply(identity, input, upper), "cholesky_inverse")


# --- QR ----------------------------------------------------------------------------------------------------
QRResult = collections.namedtuple("linalg_qr", ["Q", "R"])


class QR(Primitive):
    @staticmethod
    def forward(ctx, a, mode):
        xp = ctx.xp
        ctx.mode = mode
        if mode == "r":
            q, r = xp.zeros((0,), dtype=a.dtype), xp.linalg.qr(a, mode="r")
        else:
            q, r = xp.linalg.qr(a, mode=mode)
        ctx.save_for_backward(q, r)
        ctx.set_materialize_grads(False)
        return q, r

    @staticmethod
    def backward(ctx, grad_q, grad_r):
        q, r = ctx.saved_tensors
        if ctx.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                               "Please use linalg.qr(A, mode='reduced') if you are going to differentiate through "
                               "linalg.qr.")
        m, n = q.shape[-2], r.shape[-1]
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        if grad_q is None and grad_r is None:
            return None
        if grad_q is None:
            grad_a = matmul(grad_r, _mH(r))
        else:
            grad_a = -matmul(_mH(q), grad_q)
            if grad_r is not None:
                grad_a = grad_a + matmul(grad_r, _mH(r))
        if m >= n:
            upper = grad_a.triu()
            grad_a = matmul(q, upper + _mH(upper) - _diag_embed(_real(upper.diagonal(0, -2, -1))))
            if grad_q is not None:
                grad_a = grad_a + grad_q
            return solve_triangular(_mH(r), grad_a, upper=False, left=False)
        skew = -grad_a + _mH(grad_a)
        grad_a = matmul(q, skew.tril() - _diag_embed(skew.diagonal(0, -2, -1)) * 0.5)
        grad_a = solve_triangular(_mH(r.narrow(-1, 0, m)), grad_a, upper=False, left=False)
        from .padding import pad
        grad_a = pad(grad_a, (0, n - m))
        return grad_a + matmul(q, grad_r) if grad_r is not None else grad_a


def linalg_qr(A, mode="reduced", *, out=None):
    """Q with orthonormal columns and upper-triangular R with A = Q R; ``mode`` is 'reduced', 'complete' or 'r'
    (R only; Q comes back empty)."""
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', or "
                           "'complete'")
    _check_matrix(A, "linalg.qr", square=False)
    return _write_outs(out, QRResult(*QR.apply(A, mode)), "linalg.qr")


@tensor_method
def qr(input, some=True, *, out=None):
    """Q R factorization of each matrix, reduced unless ``some=False`` (deprecated: use ``linalg.qr``)."""
    import warnings
    warnings.warn("torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a future PyTorch "
                  "release.", UserWarning, stacklevel=2)
    _check_matrix(input, "linalg.qr", square=False)
    return _write_outs(out, QRResult(*QR.apply(input, "reduced" if some else "complete")), "qr")


# --- SVD ---------------------------------------------------------------------------------------------------
SVDResult = collections.namedtuple("linalg_svd", ["U", "S", "Vh"])
LegacySVDResult = collections.namedtuple("svd", ["U", "S", "V"])


class SVD(Primitive):
    @staticmethod
    def forward(ctx, a, full_matrices):
        try:
            u, s, vh = ctx.xp.linalg.svd(a, full_matrices=full_matrices)
        except numpy.linalg.LinAlgError:
            raise _FactorizationFailed() from None
        ctx.save_for_backward(u, s, vh)
        ctx.set_materialize_grads(False)
        return u, s, vh

    @staticmethod
    def backward(ctx, grad_u, grad_s, grad_vh):
        u, s, vh = ctx.saved_tensors
        if grad_u is None and grad_s is None and grad_vh is None:
            return None
        k = s.shape[-1]
        if u.shape[-1] != k:   # full_matrices: only the first k singular vectors depend smoothly on A
            u, grad_u = u.narrow(-1, 0, k), None if grad_u is None else grad_u.narrow(-1, 0, k)
        if vh.shape[-2] != k:
            vh, grad_vh = vh.narrow(-2, 0, k), None if grad_vh is None else grad_vh.narrow(-2, 0, k)
        return _svd_backward(grad_u, grad_s, grad_vh, u, s, vh)


def _svd_backward(grad_u, grad_s, grad_vh, u, s, vh):
    """PyTorch's svd_backward (distinct singular values; full rank when rectangular or complex)."""
    m, n = u.shape[-2], vh.shape[-1]
    if grad_u is None and grad_vh is None:
        return matmul(u * grad_s.unsqueeze(-2), vh)
    uh_gu = _skew(matmul(_mH(u), grad_u)) if grad_u is not None else None
    vh_gv = _skew(matmul(vh, _mH(grad_vh))) if grad_vh is not None else None
    if u.dtype.is_complex:
        xp = _xp(u)
        zeros = xp.zeros(s.shape)
        phase_u = xp.imag(uh_gu.diagonal(0, -2, -1)._data) if uh_gu is not None else zeros
        phase_v = xp.imag(vh_gv.diagonal(0, -2, -1)._data) if vh_gv is not None else zeros
        if not xp.allclose(phase_u, -phase_v, rtol=1e-2, atol=1e-2):
            raise RuntimeError("svd_backward: The singular vectors in the complex case are specified up to "
                               "multiplication by e^{i phi}. The specified loss function depends on this phase term, "
                               "making it ill-defined.")
    squares = s * s
    gaps = squares.unsqueeze(-2) - squares.unsqueeze(-1) + _eye_like(s, s.shape[-1])
    if uh_gu is not None and vh_gv is not None:
        inner = (uh_gu * s.unsqueeze(-2) + s.unsqueeze(-1) * vh_gv) / gaps
    elif uh_gu is not None:
        inner = uh_gu / gaps * s.unsqueeze(-2)
    else:
        inner = s.unsqueeze(-1) * (vh_gv / gaps)
    if grad_s is not None:
        inner = inner + _diag_embed(grad_s)
    if u.dtype.is_complex and uh_gu is not None and vh_gv is not None:
        inner = inner + _diag_embed(uh_gu.diagonal(0, -2, -1) / (2 * s))
    if m > n and grad_u is not None:
        grad_u_scaled = grad_u / s.unsqueeze(-2)
        outer = matmul(u, inner) + grad_u_scaled - matmul(u, matmul(_mH(u), grad_u_scaled))
        return matmul(outer, vh)
    if m < n and grad_vh is not None:
        grad_vh_scaled = grad_vh / s.unsqueeze(-1)
        outer = matmul(inner, vh) + grad_vh_scaled - matmul(matmul(grad_vh_scaled, _mH(vh)), vh)
        return matmul(u, outer)
    return matmul(u, matmul(inner, vh))


def _skew(x):
    return x - _mH(x)


def _check_finite(A, message):
    if not bool(_xp(A).isfinite(A._data).all()):
        raise LinAlgError(message)


def _svd(A, full_matrices, name):
    _check_matrix(A, name, square=False)
    _check_finite(A, f"{name}: The algorithm failed to converge because the input matrix contained non-finite "
                     "values.")
    return SVD.apply(A, full_matrices)


def linalg_svd(A, full_matrices=True, *, driver=None, out=None):
    """A = U diag(S) Vh with orthonormal U, Vh and descending S (U, Vh square when ``full_matrices``)."""
    _check_driver(driver)
    return _write_outs(out, SVDResult(*_svd(A, full_matrices, "linalg.svd")), "linalg.svd")


def _check_driver(driver):
    if driver is not None:
        raise RuntimeError("torch.linalg.svd: keyword argument `driver=` is only supported on CUDA inputs with "
                           "cuSOLVER backend.")


def svdvals(A, *, driver=None, out=None):
    """The singular values of each matrix, in descending order."""
    _check_driver(driver)
    if _grad_needed(A):
        return write_out(out, _svd(A, False, "linalg.svd")[1], "linalg.svdvals")
    _check_matrix(A, "linalg.svd", square=False)
    _check_finite(A, "linalg.svd: The algorithm failed to converge because the input matrix contained non-finite "
                     "values.")
    return write_out(out, _make(_xp(A).linalg.svd(A._data, compute_uv=False)), "linalg.svdvals")


@tensor_method
def svd(input, some=True, compute_uv=True, *, out=None):
    """U, S, V (not Vh) with input = U diag(S) V^H; reduced unless ``some=False``; zero U and V when not
    ``compute_uv``. Prefer ``linalg.svd``."""
    if not compute_uv:
        values = svdvals(input)
        xp = _xp(input)
        batch, (m, n) = tuple(input.shape[:-2]), tuple(input.shape[-2:])
        return _write_outs(out, LegacySVDResult(_make(xp.zeros(batch + (m, m), dtype=input._data.dtype)), values,
                                                _make(xp.zeros(batch + (n, n), dtype=input._data.dtype))), "svd")
    u, s, vh = _svd(input, not some, "linalg.svd")
    return _write_outs(out, LegacySVDResult(u, s, _mH(vh)), "svd")


# --- eigendecompositions ------------------------------------------------------------------------------------
EighResult = collections.namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])
EigResult = collections.namedtuple("linalg_eig", ["eigenvalues", "eigenvectors"])


class Eigh(Primitive):
    @staticmethod
    def forward(ctx, a, uplo):
        try:
            values, vectors = ctx.xp.linalg.eigh(a, UPLO=uplo)
        except numpy.linalg.LinAlgError:
            raise _FactorizationFailed() from None
        ctx.save_for_backward(values, vectors)
        ctx.set_materialize_grads(False)
        return values, vectors

    @staticmethod
    def backward(ctx, grad_values, grad_vectors):
        values, vectors = ctx.saved_tensors
        return _eig_backward(grad_values, grad_vectors, values, vectors, True)


class Eig(Primitive):
    @staticmethod
    def forward(ctx, a):
        xp = ctx.xp
        complex_type = numpy.complex64 if a.dtype in (numpy.float32, numpy.complex64) else numpy.complex128
        try:
            values, vectors = xp.linalg.eig(a)
        except numpy.linalg.LinAlgError:
            raise _FactorizationFailed() from None
        values, vectors = values.astype(complex_type, copy=False), vectors.astype(complex_type, copy=False)
        ctx.real_input = a.dtype.kind != "c"
        ctx.save_for_backward(values, vectors)
        ctx.set_materialize_grads(False)
        return values, vectors

    @staticmethod
    def backward(ctx, grad_values, grad_vectors):
        values, vectors = ctx.saved_tensors
        grad = _eig_backward(grad_values, grad_vectors, values, vectors, False)
        return _real(grad) if grad is not None and ctx.real_input else grad


def _eig_backward(grad_values, grad_vectors, values, vectors, hermitian):
    """PyTorch's linalg_eig_backward: gA = V^-H (diag(gL) + (V^H gV - V^H V Re(diag(V^H gV))) / conj(E)) V^H,
    E_ij = L_j - L_i, with unit-norm eigenvectors (V^-1 = V^H when Hermitian)."""
    if grad_values is None and grad_vectors is None:
        return None
    v_h = _mH(vectors)
    if grad_vectors is None:
        if hermitian:
            return matmul(vectors * grad_values.unsqueeze(-2), v_h)
        return solve(v_h, grad_values.unsqueeze(-1) * v_h)
    vh_gv = matmul(v_h, grad_vectors)
    diagonal = vh_gv.diagonal(0, -2, -1)
    if vectors.dtype.is_complex and not bool(_xp(diagonal).allclose(_xp(diagonal).imag(diagonal._data), 0,
                                                                    rtol=1e-2, atol=1e-2)):
        raise RuntimeError(f"{'linalg_eigh_backward' if hermitian else 'linalg_eig_backward'}: The eigenvectors in "
                           "the complex case are specified up to multiplication by e^{i phi}. The specified loss "
                           "function depends on this quantity, so it is ill-defined.")
    if hermitian:
        vh_gv = (vh_gv - _mH(vh_gv)) * 0.5
    else:
        vh_gv = vh_gv - matmul(v_h, vectors * (_real(diagonal)).unsqueeze(-2))
    conj_values = _conj(values)
    gaps = conj_values.unsqueeze(-2) - conj_values.unsqueeze(-1) + _eye_like(values, values.shape[-1])
    inner = vh_gv / gaps
    if grad_values is not None:
        inner = inner - _diag_embed(inner.diagonal(0, -2, -1)) + _diag_embed(grad_values)
    if hermitian:
        return matmul(vectors, matmul(inner, v_h))
    return solve(v_h, matmul(inner, v_h))


def _check_uplo(UPLO):
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")


def _eigh(A, UPLO, name):
    _check_uplo(UPLO)
    _check_matrix(A, name)
    try:
        return Eigh.apply(A, UPLO)
    except _FactorizationFailed:
        raise LinAlgError(f"{name}: The algorithm failed to converge because the input matrix is ill-conditioned "
                          "or has too many repeated eigenvalues (error code: 1).") from None


def eigh(A, UPLO="L", *, out=None):
    """Ascending eigenvalues and orthonormal eigenvectors of each Hermitian matrix (reading the ``UPLO``
    triangle)."""
    return _write_outs(out, EighResult(*_eigh(A, UPLO, "linalg.eigh")), "linalg.eigh")


def eigvalsh(A, UPLO="L", *, out=None):
    """Ascending eigenvalues of each Hermitian matrix (reading the ``UPLO`` triangle)."""
    if _grad_needed(A):
        return write_out(out, _eigh(A, UPLO, "linalg.eigh")[0], "linalg.eigvalsh")
    _check_uplo(UPLO)
    _check_matrix(A, "linalg.eigh")
    return write_out(out, _make(_xp(A).linalg.eigvalsh(A._data, UPLO=UPLO)), "linalg.eigvalsh")


def _eig(A, name):
    _check_matrix(A, name)
    _check_finite(A, f"torch.{name}: input tensor should not contain infs or NaNs.")
    try:
        return Eig.apply(A)
    except _FactorizationFailed:
        raise LinAlgError(f"{name}: The algorithm failed to converge because the input matrix is ill-conditioned "
                          "or has too many repeated eigenvalues (error code: 1).") from None


def eig(A, *, out=None):
    """Complex eigenvalues and unit-norm eigenvectors of each square matrix."""
    return _write_outs(out, EigResult(*_eig(A, "linalg.eig")), "linalg.eig")


def eigvals(A, *, out=None):
    """Complex eigenvalues of each square matrix."""
    return write_out(out, _eig(A, "linalg.eig")[0], "linalg.eigvals")


# --- pseudo-inverse, rank and condition number ---------------------------------------------------------------
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
    largest = magnitudes.max(axis=-1, keepdims=True, initial=0)
    return magnitudes > xp.maximum(atol[..., None], rtol[..., None] * largest)


class Pinv(Primitive):
    @staticmethod
    def forward(ctx, a, atol, rtol, hermitian):
        xp = ctx.xp
        if hermitian:
            values, vectors = xp.linalg.eigh(a)
            keep = _kept(xp.abs(values), atol, rtol, xp)
            inverse = xp.where(keep, 1 / xp.where(keep, values, 1), 0).astype(values.dtype)
            result = (vectors * inverse[..., None, :]) @ _adjoint(vectors)
        else:
            u, s, vh = xp.linalg.svd(a, full_matrices=False)
            keep = _kept(s, atol, rtol, xp)
            inverse = xp.where(keep, 1 / xp.where(keep, s, 1), 0).astype(s.dtype)
            result = (_adjoint(vh) * inverse[..., None, :]) @ _adjoint(u)
        result = result.astype(a.dtype, copy=False)
        ctx.save_for_backward(a, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        a, pinv_a = ctx.saved_tensors
        m, n = a.shape[-2], a.shape[-1]
        pinv_h, grad_h = _mH(pinv_a), _mH(grad)
        if m <= n:
            k = matmul(grad_h, pinv_a)
            k_pinv_h = matmul(k, pinv_h)
            return (-_mH(matmul(pinv_a, k)) + k_pinv_h - matmul(matmul(a, pinv_a), k_pinv_h)
                    + matmul(matmul(pinv_h, pinv_a), grad_h - matmul(k, a)))
        k = matmul(pinv_a, grad_h)
        pinv_h_k = matmul(pinv_h, k)
        return (-_mH(matmul(k, pinv_a)) + matmul(matmul(grad_h - matmul(a, k), pinv_a), pinv_h) + pinv_h_k
                - matmul(matmul(pinv_h_k, pinv_a), a))


def pinv(A, *, atol=None, rtol=None, hermitian=False, out=None):
    """The Moore-Penrose pseudo-inverse, dropping singular values at or below max(atol, rtol * largest)."""
    if A.ndim < 2 or not (A.dtype.is_floating_point or A.dtype.is_complex):
        raise RuntimeError(f"linalg.pinv({_name(A)}{{{list(A.shape)}}}): expected a tensor with 2 or more dimensions "
                           "of float, double, cfloat or cdouble types")
    if hermitian:
        _check_matrix(A, "linalg.pinv")
    atol_array, rtol_array = _tolerances(A, atol, rtol)
    return write_out(out, Pinv.apply(A, atol_array, rtol_array, hermitian), "linalg.pinv")


@tensor_method
def pinverse(input, rcond=1e-15):
    """The pseudo-inverse, dropping singular values at or below ``rcond`` times the largest."""
    return pinv(input, rtol=rcond)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False, out=None):
    """The number of singular values (|eigenvalues| when ``hermitian``) above max(atol, rtol * largest)."""
    if A.ndim < 2:
        raise RuntimeError("torch.linalg.matrix_rank: The input tensor input must have at least 2 dimensions.")
    _check_floating(A, "torch.linalg.matrix_rank")
    xp = _xp(A)
    atol_array, rtol_array = _tolerances(A, atol, rtol)
    magnitudes = xp.abs(eigvalsh(A.detach())._data) if hermitian else svdvals(A.detach())._data
    rank = _kept(magnitudes, atol_array, rtol_array, xp).sum(-1).astype(numpy.int64)
    return write_out(out, _make(xp.asarray(rank)), "linalg.matrix_rank")


def cond(A, p=None, *, out=None):
    """The condition number ||A|| ||A^-1|| in the ``p`` norm (the 2-norm ratio of singular values by default)."""
    if A.ndim < 2:
        raise RuntimeError("linalg.cond: The input tensor must have at least 2 dimensions.")
    if p not in (None, 2, -2, 1, -1, math.inf, -math.inf, "fro", "nuc"):
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
    if p in (None, 2, -2):
        values = svdvals(A)
        largest, smallest = values.narrow(-1, 0, 1), values.narrow(-1, values.shape[-1] - 1, 1)
        ratio = largest / smallest if p != -2 else smallest / largest
        return write_out(out, ratio.squeeze(-1), "linalg.cond")
    _check_matrix(A, f"linalg.cond(ord={p})")
    inverse, info = inv_ex(A)
    result = matrix_norm(A, p) * matrix_norm(inverse, p)
    singular = _make(_xp(A).asarray(info._data != 0))
    return write_out(out, result.masked_fill(singular, math.inf) if bool(singular._data.any()) else result,
                     "linalg.cond")


# --- matrix functions --------------------------------------------------------------------------------------
@tensor_method
def matrix_power(input, n, *, out=None):
    """The integer power ``n`` of each square matrix (through the inverse for negative ``n``)."""
    if input.ndim < 2 or input.shape[-1] != input.shape[-2]:
        _check_matrix(input, "linalg.matrix_power")
    if n == 0:
        identity = _eye_like(input).expand(tuple(input.shape))
        return write_out(out, identity + input * 0 if input.requires_grad else identity.clone(), "linalg.matrix_power")
    if n < 0:
        input, n = inv(input), -n
    result, square = None, input
    while n:
        if n & 1:
            result = square if result is None else matmul(result, square)
        n >>= 1
        if n:
            square = matmul(square, square)
    return write_out(out, result.clone() if result is input else result, "linalg.matrix_power")


# Padé (13, 13) coefficients and the 1-norm bound under which it is accurate to double precision (Higham 2005).
_PADE13 = (64764752532480000., 32382376266240000., 7771770303897600., 1187353796428800., 129060195264000.,
           10559470521600., 670442572800., 33522128640., 1323241920., 40840800., 960960., 16380., 182., 1.)
_THETA13 = 5.371920351148152


class MatrixExp(Primitive):
    @staticmethod
    def forward(ctx, a):
        xp = ctx.xp
        ctx.save_for_backward(a)
        if a.size == 0:
            return a.copy()
        b = _PADE13
        norm = xp.abs(a).sum(-2).max(-1)
        tiny = numpy.finfo(norm.dtype).tiny   # 1e-300 would round to 0 in float32 and log2 would warn
        squarings = xp.maximum(0, xp.ceil(xp.log2(xp.maximum(norm, tiny) / _THETA13))).astype(numpy.int64)
        scaled = a / (2.0 ** squarings)[..., None, None].astype(a.real.dtype)
        identity = xp.eye(a.shape[-1], dtype=a.dtype)
        a2 = scaled @ scaled
        a4 = a2 @ a2
        a6 = a4 @ a2
        u = scaled @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * identity)
        v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * identity
        result = xp.linalg.solve(v - u, v + u)
        for step in range(int(squarings.max(initial=0))):
            result = xp.where((step < squarings)[..., None, None], result @ result, result)
        return result.astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        # The adjoint of the derivative at A is the top-right block of exp([[A^H, G], [0, A^H]]) (Mathias 1996).
        a, = ctx.saved_tensors
        from .shape import cat
        a_h = _mH(a).expand(tuple(grad.shape))
        block = cat([cat([a_h, grad], -1), cat([a_h * 0, a_h], -1)], -2)
        n = a.shape[-1]
        return MatrixExp.apply(block).narrow(-2, 0, n).narrow(-1, n, n)


@tensor_method
def matrix_exp(input):
    """The matrix exponential of each square matrix (scaling and squaring with a Padé approximant)."""
    _check_matrix(input, "linalg.matrix_exp")
    return MatrixExp.apply(input)


# --- least squares -----------------------------------------------------------------------------------------
LstsqResult = collections.namedtuple("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])


def lstsq(A, B, rcond=None, *, driver=None):
    """Least-squares solutions of A X = B (minimum-norm when underdetermined), with residuals, ranks and
    singular values where LAPACK's ``driver`` would return them."""
    if driver is not None and driver not in ("gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    driver = driver or "gelsy"
    _check_floating(A, "torch.linalg.lstsq")
    if A.dtype is not B.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same dtype, but got input's "
                           f"dtype {_name(A)} and other's dtype {_name(B)}")
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    matrix_b = B.unsqueeze(-1) if vector else B
    if matrix_b.shape[-2] != A.shape[-2]:
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    m, n = A.shape[-2], A.shape[-1]
    if rcond is None:
        rcond = float(numpy.finfo(A._data.dtype).eps) * max(m, n)
    solution = matmul(pinv(A, rtol=rcond), matrix_b)
    xp = _xp(A)
    values = svdvals(A.detach())
    ranks = _kept(values._data, xp.asarray(0.0), xp.asarray(rcond), xp).sum(-1).astype(numpy.int64)
    empty_real = _make(xp.zeros((0,), dtype=values._data.dtype))
    residuals = _real((solution.reshape(-1)).narrow(0, 0, 0))   # empty, but an output of the graph as in PyTorch
    if driver != "gelsy" and m > n and bool((ranks == n).all()):
        residuals = vector_norm(matmul(A, solution) - matrix_b, 2, -2) ** 2
    rank = _make(xp.zeros((0,), dtype=numpy.int64)) if driver == "gels" else _make(xp.asarray(ranks))
    singular_values = values if driver in ("gelsd", "gelss") else empty_real
    return LstsqResult(solution.squeeze(-1) if vector else solution, residuals, rank, singular_values)
