"""Complex numbers as PyTorch exposes them: the ``real`` / ``imag`` views, ``view_as_real`` / ``view_as_complex``,
``angle``, and the conj / neg bit queries (ember conjugates and negates eagerly, so those bits are never set).

Gradients follow PyTorch's convention for complex inputs: the gradient of a real loss L with respect to
z = x + iy is dL/dx + i dL/dy."""
import math

from .. import _dtype
from .._tensor import Tensor
from ..autograd.function import Primitive, composite
from ._util import _as_view, name_node, tensor_method, write_out

__all__ = ["real", "imag", "view_as_real", "view_as_complex", "angle", "resolve_conj", "resolve_neg", "is_neg"]

_COMPLEX_OF = {"float32": "complex64", "float64": "complex128"}


class Real(Primitive):
    @staticmethod
    def forward(ctx, a):
        return a.real

    @staticmethod
    def backward(ctx, grad):
        return grad   # the engine casts it to the complex input dtype: grad + 0i


class Imag(Primitive):
    @staticmethod
    def forward(ctx, a):
        return a.imag

    @staticmethod
    def backward(ctx, grad):
        return grad * 1j


class ViewAsReal(Primitive):
    @staticmethod
    def forward(ctx, a):
        parts = a.real
        return ctx.xp.lib.stride_tricks.as_strided(parts, a.shape + (2,), a.strides + (parts.itemsize,))

    @staticmethod
    def backward(ctx, grad):
        return ViewAsComplex.apply(grad.contiguous())


class ViewAsComplex(Primitive):
    @staticmethod
    def forward(ctx, a):
        return a.view(_COMPLEX_OF[a.dtype.name])[..., 0]

    @staticmethod
    def backward(ctx, grad):
        return ViewAsReal.apply(grad)


class Angle(Primitive):
    @staticmethod
    def forward(ctx, a):
        xp = ctx.xp
        if a.dtype.kind == "c":
            ctx.save_for_backward(a)
            return xp.angle(a)
        # PyTorch: pi for negative values, 0 otherwise (-0.0 included), NaN kept
        return xp.where(a < 0, math.pi, xp.where(xp.isnan(a), a, 0)).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        if not ctx.saved_tensors:   # a real input: zeros, as PyTorch's (+0 for a negative gradient)
            return grad.new_zeros(grad.shape)
        z, = ctx.saved_tensors
        # d angle = (x dy - y dx) / |z|^2, i.e. i z / |z|^2 in PyTorch's convention; 0 at z = 0
        squared_abs = real(z).square() + imag(z).square()
        return grad * 1j * z / squared_abs.where(squared_abs != 0, 1.0)


def real(input):
    """The real part of a complex tensor, as a writable view; a real tensor itself."""
    if not input.dtype.is_complex:
        return input
    return _as_view(name_node(Real.apply(input), "SelectBackward0"), input)


def imag(input):
    """The imaginary part of a complex tensor, as a writable view."""
    if not input.dtype.is_complex:
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return _as_view(name_node(Imag.apply(input), "SelectBackward0"), input)


def _setter(part):
    def set_part(self, value):
        view = part(self)
        if isinstance(value, Tensor):
            view.copy_(value)
        else:
            view.fill_(value)
    return set_part


Tensor.real = property(real, _setter(real), doc=real.__doc__)
Tensor.imag = property(imag, _setter(imag), doc=imag.__doc__)


def view_as_real(input):
    """A complex tensor's memory seen as real numbers, with a last dimension of size 2 (real, imaginary)."""
    if not input.dtype.is_complex:
        raise RuntimeError("view_as_real is only supported for complex tensors")
    return _as_view(ViewAsReal.apply(input), input)


@composite("view_as_complex", trace_inside=True)
def view_as_complex(input):
    """A real tensor whose last dimension is (real, imaginary) pairs, seen as complex numbers."""
    if input._data.dtype.name not in _COMPLEX_OF:
        raise RuntimeError("view_as_complex is only supported for float and double tensors, but got a tensor of "
                           f"scalar type: {_dtype.scalar_type_name(input.dtype)}")
    if input.ndim == 0 or input.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    if input.numel() == 0:   # NumPy gives empty arrays arbitrary strides; any layout can be viewed
        return _as_view(ViewAsComplex.apply(input), input)
    if input.stride(-1) != 1:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if any(stride % 2 for stride in input.stride()[:-1]):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
    if input.storage_offset() % 2:
        raise RuntimeError("Tensor must have a storage_offset divisible by 2")
    return _as_view(ViewAsComplex.apply(input), input)


@tensor_method
def angle(input, *, out=None):
    """The argument of each complex element; for real ones pi where negative, else 0 (NaN stays NaN)."""
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        input = input.to(_dtype.get_default_dtype())
    return write_out(out, Angle.apply(input), "angle")


@tensor_method
def resolve_conj(input):
    """The input itself: ember conjugates eagerly, so no tensor carries a pending conjugation."""
    return input


@tensor_method
def resolve_neg(input):
    """The input itself: ember negates eagerly, so no tensor carries a pending negation."""
    return input


@tensor_method
def is_neg(input):
    """Always False: ember negates eagerly."""
    return False
