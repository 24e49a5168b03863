"""The dtypes PyTorch's CPU kernels dispatch on, and its errors for the others: ``require_dtype(kernel, input)``
at the top of an op raises the NotImplementedError PyTorch's AT_DISPATCH gives (``"kernel" not implemented for
'Long'``), before any conversion."""
import math

import numpy

from .. import _dtype
from .._dtype_info import finfo
from .._tensor import Tensor
from ..autograd.grad_mode import is_grad_enabled


def _not_implemented(kernel, input):
    """PyTorch's error for a dtype an op's kernel does not handle; ``input`` is a tensor or a dtype."""
    dtype = input if isinstance(input, _dtype.dtype) else input.dtype
    return NotImplementedError(f'"{kernel}" not implemented for \'{_dtype.scalar_type_name(dtype)}\'')


# The dtypes a kernel dispatches on, as letters: f float32/float64, h float16, B bfloat16, c complex, l int64,
# i the other signed integers, u unsigned integers, b bool, 8 the float8 types
_DTYPE_LETTER = {d: "b" if d is _dtype.bool_ else "l" if d is _dtype.int64 else "h" if d is _dtype.float16 else
                 "B" if d is _dtype.bfloat16 else "c" if d.is_complex else "f" if d.is_floating_point else
                 "i" if d.is_signed else "u" for d in _dtype.ALL}
_DTYPE_LETTER.update(dict.fromkeys(_dtype.FLOAT8, "8"))
FLOATING = "fhB"   # AT_DISPATCH_FLOATING_TYPES_AND2(Half, BFloat16): most of PyTorch's CPU nn kernels


def require_dtype(kernel, input, dtypes=FLOATING):
    """Raises PyTorch's NotImplementedError for ``kernel`` when ``input``'s dtype is not among the letters
    ``dtypes`` (see ``_DTYPE_LETTER``) it dispatches on; a non-tensor ``input`` is left to the op's own checks."""
    if isinstance(input, Tensor) and _DTYPE_LETTER[input.dtype] not in dtypes:
        raise _not_implemented(kernel, input)


def refuse_complex(kernel, input):
    """Raises PyTorch's NotImplementedError for ``kernel`` when ``input`` is a complex tensor (real-only functions,
    which would otherwise drop the imaginary part)."""
    if isinstance(input, Tensor) and input._data.dtype.kind == "c":   # the array's dtype: cheaper than Tensor.dtype
        raise _not_implemented(kernel, input)


_CPP_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
                   "complex64": "c10::complex<float>", "complex128": "c10::complex<double>", "int64": "long int",
                   "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
                   "uint16": "short unsigned int", "uint32": "unsigned int", "uint64": "long unsigned int",
                   "bool": "bool"}


def same_dtype_out(out, dtype):
    """PyTorch's check of ``out=`` for its unary kernels that write their input's dtype (neg, floor, round, sign,
    clamp, ...): an out of another dtype is refused, not cast into."""
    if isinstance(out, Tensor) and out.dtype is not dtype:
        raise RuntimeError(f"Found dtype {_dtype.scalar_type_name(out.dtype)} but expected "
                           f"{_dtype.scalar_type_name(dtype)}")


def exact_out_dtype(out, dtype):
    """PyTorch's check of ``out=`` for kernels that write one dtype (mm, matmul, tril, gather, cross, argmax, ...):
    an out of another dtype is refused, naming both as C++ types."""
    if isinstance(out, Tensor) and out.dtype is not dtype:
        raise RuntimeError(f"Expected out tensor to have dtype {cpp_type_name(dtype)}, but got "
                           f"{cpp_type_name(out.dtype)} instead")


def legacy_type_name(dtype):
    """The type name PyTorch's type-check errors print for a CPU tensor of ``dtype``: its legacy tensor type
    (torch.FloatTensor), or CPU<Name>Type for the dtypes without one (complex, bfloat16, bool)."""
    name = _dtype.scalar_type_name(dtype)
    return f"CPU{name}Type" if dtype.is_complex or name in ("BFloat16", "Bool") else f"torch.{name}Tensor"


def cpp_type_name(dtype):
    """The C++ name of ``dtype`` that PyTorch's dtype-mismatch errors print (float, c10::Half, long int...)."""
    return _CPP_TYPE_NAMES.get(dtype.name, dtype.name)


_SCALAR_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
                      "int64": "int64_t", "int32": "int", "int16": "int16_t", "int8": "int8_t", "uint8": "uint8_t",
                      "uint16": "uint16_t", "uint32": "uint32_t", "uint64": "uint64_t"}


def real_scalar(value, dtype):
    """``value`` as a number for a tensor of ``dtype`` (fill_, masked_fill, full, index_put, scatter), checked as
    c10's ``checked_convert``: a value outside the dtype's range (an imaginary part for a real dtype, NaN or inf for
    an integer one) raises PyTorch's RuntimeError, negative ints down to ``-max`` wrap into unsigned dtypes, bool
    tensors take any number (nonzero or not); other values (tensors) pass through."""
    if isinstance(value, numpy.generic):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float, complex)):
        return value
    if isinstance(value, int) and not -2 ** 63 <= value < 2 ** 64:   # what PyTorch's Scalar holds
        raise OverflowError("can't convert negative int to unsigned" if value < 0 else "int too big to convert")
    if dtype is _dtype.bool_:
        return value != 0
    if isinstance(value, complex) and not dtype.is_complex:
        if value.imag != 0:
            raise _overflow(dtype)
        value = value.real
    if dtype.is_floating_point or dtype.is_complex:
        limit = _FLOAT_MAX.get(dtype) or _FLOAT_MAX.setdefault(dtype, float(finfo(dtype).max))
        parts = (value.real, value.imag) if isinstance(value, complex) else (value,)
        fits = all(math.isinf(p) or math.isnan(p) or -limit <= p <= limit for p in parts)
    else:
        info = numpy.iinfo(dtype.numpy)
        low = -int(info.max) if info.min == 0 and isinstance(value, int) else int(info.min)
        fits = not math.isnan(value) and low <= value <= int(info.max)
        if fits and value < 0 and info.min == 0:
            value += int(info.max) + 1   # two's complement, as c10's overflows allows for unsigned types
    if not fits:
        raise _overflow(dtype)
    return _dtype.float32_rounded(value) if _is_16_bit_float(dtype) and isinstance(value, float) else value


_FLOAT_MAX = {}


def _is_16_bit_float(dtype):
    return dtype is _dtype.float16 or dtype is _dtype.bfloat16


def wrapped_scalar(value, dtype):
    """``value`` as PyTorch writes a number it wraps into a tensor (``x[i] = value``, ``where``): ``real_scalar``'s
    checks, float16 and bfloat16 checked as a double's (overflowing to inf when stored)."""
    if not _is_16_bit_float(dtype):
        return real_scalar(value, dtype)
    value = real_scalar(value, _dtype.float64)
    return _dtype.float32_rounded(value) if isinstance(value, float) else value


def _overflow(dtype):
    """PyTorch's error for a number outside what ``dtype`` holds."""
    name = _SCALAR_TYPE_NAMES.get(dtype.name) or _COMPLEX_TYPE_NAMES.get(dtype.name, dtype.name)
    return RuntimeError(f"value cannot be converted to type {name} without overflow")


_COMPLEX_TYPE_NAMES = {"complex64": "c10::complex<float>", "complex128": "c10::complex<double>",
                       "complex32": "c10::complex<c10::Half>"}


def refuse_complex_autograd(name, input, *others):
    """PyTorch's error for recording an op it has no complex derivative for (silu, nan_to_num, embedding...): a
    complex ``input``, whose dtype the output takes, while it or one of the ``others`` requires grad."""
    if isinstance(input, Tensor) and input._data.dtype.kind == "c" and is_grad_enabled() and \
            any(isinstance(t, Tensor) and t.requires_grad for t in (input, *others)):
        raise RuntimeError(f"{name} does not support automatic differentiation for outputs with complex dtype.")


def refuse_complex_selection(kernel, name, input):
    """PyTorch's errors for picking elements of a complex tensor by their order (kthvalue, mode, cummax, cummin):
    its kernel's; a 0-d input it returns itself, refusing only to differentiate it."""
    if input._data.dtype.kind != "c":
        return
    if input.ndim:
        raise _not_implemented(kernel, input)
    refuse_complex_autograd(name, input)


def require_common_dtype(kernel, input, other, dtypes=FLOATING):
    """``require_dtype`` for a kernel that runs in the promoted dtype of two tensors."""
    if isinstance(input, Tensor) and isinstance(other, Tensor):
        common = input.dtype if input.dtype is other.dtype else _dtype.promote_types(input.dtype, other.dtype)
        if _DTYPE_LETTER[common] not in dtypes:
            raise _not_implemented(kernel, common)


def require_parameter_dtypes(input, *parameters):
    """PyTorch's mixed-dtype check of the normalization kernels, on the parameters in its order (weight, bias,
    running statistics; None for absent ones): where the first is of another dtype than the input, all must be
    float32 and the input float16 or bfloat16 (mixed precision); where it is the input's, the kernel reads every
    parameter as the input's type, refusing another."""
    first = next((p for p in parameters if p is not None), None)
    if first is None:
        return
    if first.dtype is not input.dtype:
        if any(p is not None and p.dtype is not _dtype.float32 for p in parameters):
            raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float")
        if input.dtype not in (_dtype.float16, _dtype.bfloat16):
            raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")
        return
    for p in parameters:
        if p is not None and p.dtype is not input.dtype:
            raise RuntimeError(f"expected scalar type {_dtype.scalar_type_name(input.dtype)} but found "
                               f"{_dtype.scalar_type_name(p.dtype)}")


def require_prelu_dtypes(input, weight):
    """PyTorch's errors for prelu: a weight of another dtype (no promotion), then the kernel's dtypes."""
    if isinstance(weight, Tensor) and weight.dtype is not input.dtype:
        raise RuntimeError(f"prelu: Type promoting not supported. Got {_dtype.scalar_type_name(input.dtype)} and "
                           f"{_dtype.scalar_type_name(weight.dtype)}")
    require_dtype("prelu_cpu", input)


def require_real_clamp(input):
    """PyTorch's error for clamping (clamp, relu, hardtanh) a complex tensor."""
    if isinstance(input, Tensor) and input.dtype.is_complex:
        raise NotImplementedError("clamp is not supported for complex types")


def hardtanh_limits(input, min_val, max_val):
    """hardtanh's limits for ``input``: whole numbers (truncated) for an integer input, which keeps its dtype as in
    PyTorch; bool and complex inputs and negative limits on unsigned ones raise PyTorch's errors."""
    letter = _DTYPE_LETTER[input.dtype]
    if letter in "hB":   # c10 makes 16-bit limits from a float
        return tuple(_dtype.float32_rounded(float(v)) for v in (min_val, max_val))
    if letter == "f":
        return min_val, max_val
    if letter == "b":
        raise RuntimeError("Bool inputs not supported for hardtanh")
    require_real_clamp(input)
    min_val, max_val = int(min_val), int(max_val)
    if letter == "u" and (min_val < 0 or max_val < 0):
        raise RuntimeError("cannot do hardtanh on an unsigned type with negative limits")
    return min_val, max_val
