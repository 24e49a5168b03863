"""Quantized tensors (``torch.qint8``, ``quint8``, ``qint32``, ``quint4x2``): integer values plus the scale and zero
point that map them to reals, per tensor or per channel, made by ``quantize_per_tensor``/``quantize_per_channel``.

Rounding follows PyTorch's CPU kernels: 8-bit types take fbgemm's fused ``x * (1/scale) + zero_point`` (one
rounding) before round-half-even; qint32 and quint4x2 round the product and the sum separately, in float32;
dequantizing is ``float32(q - zero_point) * float32(scale)``. A quantized tensor's ``_data`` raises PyTorch's
NotImplementedError for the QuantizedCPU backend, so ops without quantized support fail as they do in PyTorch.
"""
import collections
import warnings

import numpy

from .. import _alias, _backend, _dtype
from .._tensor import Size, Tensor, _make, _wrap_dim

__all__ = ["quantize_per_tensor", "quantize_per_channel", "dequantize", "QTensor"]

RANGES = {"qint8": (-128, 127), "quint8": (0, 255), "qint32": (-2 ** 31, 2 ** 31 - 1), "quint4x2": (0, 15)}
_DEPRECATED = ("torch.quantize_per_tensor, torch.quantize_per_channel and other quantized tensor creation functions "
               "that produce tensors with dtype torch.quint8, torch.qint8, and torch.qint32 are deprecated and will be "
               "removed in a future PyTorch release. Please see https://github.com/pytorch/pytorch/issues/184982 for "
               "more information.")
_warned = []


def _backend_error(op=None):
    name = "this operator" if op is None else f"'{op}'"   # ops reading ``_data`` do not say which they are
    return NotImplementedError(
        f"Could not run {name} with arguments from the 'QuantizedCPU' backend. This could be because the operator "
        "doesn't exist for this backend, or was omitted during the selective/custom build process (if using custom "
        "build).")


def _warn_deprecated():
    if not _warned:   # PyTorch warns once per process (TORCH_WARN_ONCE)
        _warned.append(True)
        warnings.warn(_DEPRECATED, UserWarning, stacklevel=3)


class QTensor(Tensor):
    """A quantized tensor: the integer values ``_int`` (an array of the storage type), their dtype and qparams."""

    @property
    def _data(self):
        raise _backend_error()

    # --- what the tensor is ---------------------------------------------------------------------------------------
    @property
    def shape(self):
        """The size of each dimension."""
        return Size(self._int.shape)

    def size(self, dim=None):
        """The shape, or the size of dimension ``dim``."""
        return Size(self._int.shape) if dim is None else self._int.shape[_wrap_dim(dim, self._int.ndim)]

    @property
    def dtype(self):
        """The quantized dtype (qint8, quint8, qint32, quint4x2)."""
        return self._qdtype

    @property
    def device(self):
        """The device holding the integers."""
        return _backend.device_of(self._int)

    @property
    def ndim(self):
        """The number of dimensions."""
        return self._int.ndim

    def dim(self):
        """The number of dimensions."""
        return self._int.ndim

    def numel(self):
        """The number of elements."""
        return self._int.size

    def element_size(self):
        """Bytes per element of the quantized dtype."""
        return self._qdtype.itemsize

    def stride(self, dim=None):
        """Strides in elements."""
        strides = tuple(s // self._int.itemsize for s in self._int.strides)
        return strides if dim is None else strides[_wrap_dim(dim, self._int.ndim)]

    def is_contiguous(self, memory_format=None):
        """True when the integers are laid out row-major without gaps."""
        return bool(self._int.flags.c_contiguous)

    def __len__(self):
        if self._int.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._int.shape[0]

    @property
    def is_quantized(self):
        """True."""
        return True

    # --- quantization parameters ----------------------------------------------------------------------------------
    def qscheme(self):
        """How the values are quantized (``per_tensor_affine`` or ``per_channel_affine``)."""
        return self._qscheme

    def q_scale(self):
        """The scale of a per-tensor quantized tensor, as a Python float (PyTorch keeps it in double)."""
        self._check_per_tensor()
        return self._scale

    def q_zero_point(self):
        """The zero point of a per-tensor quantized tensor, as a Python int."""
        self._check_per_tensor()
        return self._zero_point

    def q_per_channel_scales(self):
        """The scales of a per-channel quantized tensor (float64)."""
        self._check_per_channel()
        return _make(self._scales.copy())

    def q_per_channel_zero_points(self):
        """The zero points of a per-channel quantized tensor (int64)."""
        self._check_per_channel()
        return _make(self._zero_points.copy())

    def q_per_channel_axis(self):
        """The dimension a per-channel quantized tensor's parameters run along."""
        self._check_per_channel()
        return self._axis

    def _check_per_tensor(self):
        if self._qscheme is not _dtype.per_tensor_affine:
            raise RuntimeError("Expected quantizer->qscheme() == kPerTensorAffine to be true, but got false.  (Could "
                               "this error message be improved?  If so, please report an enhancement request to "
                               "PyTorch.)")

    def _check_per_channel(self):
        if self._qscheme is _dtype.per_tensor_affine:
            raise RuntimeError("Expected quantizer->qscheme() == kPerChannelAffine || quantizer->qscheme() == "
                               "kPerChannelAffineFloatQParams to be true, but got false.  (Could this error message "
                               "be improved?  If so, please report an enhancement request to PyTorch.)")

    # --- values ---------------------------------------------------------------------------------------------------
    def int_repr(self):
        """The stored integers as a plain tensor (uint8 for quint8/quint4x2, int8, int32); quint4x2 packs two values
        a byte, the first in the low nibble."""
        values = self._int
        if self._qdtype is _dtype.quint4x2:
            flat = values.reshape(-1)
            xp = _backend.xp_of(flat)
            padded = xp.concatenate([flat, xp.zeros(flat.size % 2, flat.dtype)])
            return _make(padded[0::2] | (padded[1::2] << 4))
        return _make(values.copy())

    def dequantize(self):
        """The real values: ``(q - zero_point) * scale`` in float32."""
        if self._qscheme is _dtype.per_tensor_affine:
            return _make(dequantize_array(self._int, self._scale, self._zero_point))
        shape = [1] * self._int.ndim
        shape[self._axis] = -1
        xp = _backend.xp_of(self._int)
        scales = xp.asarray(self._scales).reshape(shape)
        zero_points = xp.asarray(self._zero_points).reshape(shape)
        if self._qscheme is _dtype.per_channel_affine_float_qparams:   # (float32(q) - zero_point) * scale
            return _make(xp.asarray((self._int.astype(numpy.float32) - zero_points) * scales))
        return _make(dequantize_array(self._int, scales, zero_points, numpy.float64))

    # --- copies and views that keep the quantization ----------------------------------------------------------------
    def _like(self, values):
        out = object.__new__(QTensor)
        out._version_counter = [0]
        out._int, out._qdtype, out._qscheme = _as_array(values), self._qdtype, self._qscheme
        for name in ("_scale", "_zero_point", "_scales", "_zero_points", "_axis"):
            if name in self.__dict__:
                setattr(out, name, self.__dict__[name])
        return out

    def clone(self, *, memory_format=None):
        """A copy with the same quantization parameters."""
        return self._like(self._int.copy())

    def detach(self):
        """This tensor outside the graph (quantized tensors never require grad)."""
        return self._like(self._int)

    def contiguous(self, memory_format=None):
        """This tensor, or a row-major copy of it."""
        return self if self._int.flags.c_contiguous else self._like(self._int.copy())

    def reshape(self, *shape):
        """The values in a new shape (per-tensor quantization only)."""
        self._check_per_tensor_view("reshape")
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return self._like(self._int.reshape(shape))

    view = reshape

    def __getitem__(self, index):
        self._check_per_tensor_view("index")
        return self._like(self._int[index])

    def _check_per_tensor_view(self, op):
        if self._qscheme is not _dtype.per_tensor_affine:
            raise _backend_error(f"aten::{op}")

    def flatten(self, start_dim=0, end_dim=-1):
        """The values with dims ``start_dim..end_dim`` merged (per-tensor quantization only)."""
        from ..ops.shape import flatten
        return flatten(self, start_dim, end_dim)

    def transpose(self, dim0, dim1):
        """A view with dims ``dim0`` and ``dim1`` swapped, same qparams."""
        return self._like(self._int.swapaxes(_wrap_dim(dim0, self._int.ndim), _wrap_dim(dim1, self._int.ndim)))

    def permute(self, *dims):
        """A view with the dims reordered, same qparams."""
        dims = dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
        return self._like(self._int.transpose([_wrap_dim(d, self._int.ndim) for d in dims]))

    def squeeze(self, dim=None):
        """A view without size-1 dims (or without dim ``dim`` if it has size 1)."""
        if dim is None:
            return self._like(self._int.squeeze())
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        dims = tuple(d for d in (_wrap_dim(d, self._int.ndim) for d in dims) if self._int.shape[d] == 1)
        return self._like(self._int.squeeze(dims))

    def unsqueeze(self, dim):
        """A view with a size-1 dim inserted at ``dim``."""
        return self._like(numpy.expand_dims(self._int, _wrap_dim(dim, self._int.ndim + 1)))

    def chunk(self, chunks, dim=0):
        """Views of ``chunks`` (nearly) equal parts along ``dim``, same qparams."""
        dim = _wrap_dim(dim, self._int.ndim)
        size = self._int.shape[dim]
        step = -(-size // chunks) if size else 1
        index = [slice(None)] * self._int.ndim
        parts = []
        for start in range(0, size, step):
            index[dim] = slice(start, start + step)
            parts.append(self._like(self._int[tuple(index)]))
        return tuple(parts)

    def relu(self):
        """``max(x, 0)``: the integers clamped at the zero point, same qparams."""
        from ._qops import relu
        return relu(self)

    def relu_(self):
        """In-place ``relu``."""
        numpy.maximum(self._int, self._zero_point, out=self._int)
        return self

    def sigmoid(self):
        """The sigmoid, quantized with scale 1/256 and zero point 0 (quint8)."""
        from ._qops import sigmoid
        return sigmoid(self)

    def tanh(self):
        """The tanh, quantized with scale 2/256 and zero point 128 (quint8)."""
        from ._qops import tanh
        return tanh(self)

    def mean(self, dim=None, keepdim=False, *, dtype=None):
        """The rounded mean of the integers over ``dim``, same qparams."""
        from ._qops import mean
        return mean(self, dim, keepdim)

    def to(self, *args, **kwargs):
        """This tensor on the CPU (the only device quantized tensors live on in ember); other conversions raise."""
        target = args[0] if args else kwargs.get("dtype", kwargs.get("device"))
        if isinstance(target, _dtype.dtype) and target is not self._qdtype:
            raise RuntimeError("Creation of quantized tensor requires quantized dtype like torch.quint8")
        return self

    def cpu(self):
        """This tensor (already in host memory)."""
        return self

    def numpy(self, *, force=False):
        """Refused, as in PyTorch: use ``int_repr()`` or ``dequantize()`` first."""
        raise TypeError(f"Got unsupported ScalarType {_dtype.scalar_type_name(self._qdtype)}")

    def tolist(self):
        """Refused, as in PyTorch: use ``int_repr()`` or ``dequantize()`` first."""
        raise RuntimeError("load_scalar: invalid type")

    def __repr__(self, *, tensor_contents=None):
        from .._tensor_str import _add_suffixes, tensor_str
        suffixes = [f"size={tuple(self.shape)}", f"dtype={self._qdtype!r}", f"quantization_scheme={self._qscheme!r}"]
        if self._qscheme is _dtype.per_tensor_affine:
            suffixes += [f"scale={self._scale!r}", f"zero_point={self._zero_point}"]
        else:
            suffixes += [f"scale={self.q_per_channel_scales()!r}", f"zero_point={self.q_per_channel_zero_points()!r}",
                         f"axis={self._axis}"]
        return _add_suffixes("tensor(" + tensor_str(self.dequantize(), 7), suffixes, 7)

    # --- pickling -------------------------------------------------------------------------------------------------
    def _qparams(self):
        """The quantizer parameters as torch pickles them."""
        if self._qscheme is _dtype.per_tensor_affine:
            return (self._qscheme, self._scale, self._zero_point)
        # torch names float qparams per_channel_affine too; the zero points' dtype tells them apart on load
        return (_dtype.per_channel_affine, self.q_per_channel_scales(), self.q_per_channel_zero_points(), self._axis)

    def _torch_reduce_with_storages(self, locate):
        """What torch.save writes: torch._utils._rebuild_qtensor over a QInt8Storage (or kin) of the integers."""
        if self._qdtype is _dtype.quint4x2:
            raise RuntimeError("ember saves qint8, quint8 and qint32 tensors; a quint4x2 tensor's packed storage "
                               "cannot be saved yet (save its int_repr() and qparams instead)")
        ref, offset, stride = locate(_StorageView(self._int, self._qdtype))
        return ("torch._utils", "_rebuild_qtensor"), (ref, offset, tuple(self.shape), stride, self._qparams(),
                                                      False, collections.OrderedDict())

    def __reduce_ex__(self, protocol):
        if _alias.installed:   # torch._utils._rebuild_qtensor over a QInt8Storage (or kin), as PyTorch pickles it
            return _alias.torch_reduce(self)
        return _rebuild_pickled, (_backend.move(self._int, _backend.CPU), self._qdtype.name, self._qparams())

    def __deepcopy__(self, memo):
        return self.clone()


class _StorageView:
    """The integers of a quantized tensor as the serializer's storage bookkeeping sees a tensor."""

    def __init__(self, array, dtype):
        self._data, self.dtype, self.device = array, dtype, _backend.device_of(array)


def _as_array(values):
    """``values`` as an array (indexing to 0-d and NumPy reductions give scalars)."""
    return numpy.asarray(values) if isinstance(values, numpy.generic) else values


def make_qtensor(values, qdtype, qscheme, scale=None, zero_point=None, scales=None, zero_points=None, axis=None):
    """A quantized tensor over the integer array ``values`` with the given parameters (no checks)."""
    out = object.__new__(QTensor)
    out._version_counter = [0]
    out._int, out._qdtype, out._qscheme = _as_array(values), qdtype, qscheme
    if qscheme is _dtype.per_tensor_affine:
        out._scale, out._zero_point = float(scale), int(zero_point)
    else:
        out._scales, out._zero_points, out._axis = scales, zero_points, axis
    return out


def _rebuild_pickled(values, dtype_name, qparams):
    """Rebuilds a quantized tensor pickled by ``QTensor.__reduce_ex__``."""
    return _from_qparams(values, _dtype._BY_NAME[dtype_name], qparams)


def _from_qparams(values, qdtype, qparams):
    qscheme = qparams[0]
    if qscheme is _dtype.per_tensor_affine:
        return make_qtensor(values, qdtype, qscheme, scale=qparams[1], zero_point=qparams[2])
    zero_points = qparams[2].numpy() if isinstance(qparams[2], Tensor) else numpy.asarray(qparams[2])
    float_qparams = qscheme is _dtype.per_channel_affine_float_qparams or zero_points.dtype.kind == "f"
    qscheme = _dtype.per_channel_affine_float_qparams if float_qparams else _dtype.per_channel_affine
    scales = numpy.asarray(qparams[1].numpy() if isinstance(qparams[1], Tensor) else qparams[1],
                           numpy.float32 if float_qparams else numpy.float64)
    zero_points = numpy.asarray(zero_points, numpy.float32 if float_qparams else numpy.int64)
    return make_qtensor(values, qdtype, qscheme, scales=scales, zero_points=zero_points, axis=int(qparams[3]))


# --- the arithmetic --------------------------------------------------------------------------------------------------
def quantize_array(x, scale, zero_point, qdtype, fused=None):
    """Integers of ``qdtype``'s storage for the float32 array ``x``; ``scale`` and ``zero_point`` are numbers or
    arrays broadcasting against ``x``. ``fused`` (fbgemm's per-tensor 8-bit kernel) defaults by dtype."""
    xp = _backend.xp_of(x)
    qmin, qmax = RANGES[qdtype.name]
    with numpy.errstate(all="ignore"):
        inverse = numpy.float32(1.0) / xp.asarray(scale, dtype=numpy.float32)
        if fused is None:
            fused = qdtype in (_dtype.qint8, _dtype.quint8)
        if fused:   # fbgemm: one fused multiply-add, rounded once
            scaled = (x.astype(numpy.float64) * inverse.astype(numpy.float64) + zero_point).astype(numpy.float32)
        else:
            scaled = x * inverse + xp.asarray(zero_point).astype(numpy.float32)
        scaled = xp.rint(scaled)
        nan = xp.isnan(scaled)
        if nan.any():   # fbgemm turns NaN into the top of the range, the plain kernel into the bottom
            scaled[nan] = qmax if qmax < 2 ** 31 - 1 else qmin
        values = xp.clip(scaled.astype(numpy.float64), qmin, qmax)
    return values.astype(qdtype._numpy)


def dequantize_array(values, scale, zero_point, precision=numpy.float32):
    """Reals of the integers ``values``: ``(q - zero_point) * scale`` in ``precision`` (float32 per tensor, float64
    per channel, as PyTorch's kernels), rounded to float32."""
    xp = _backend.xp_of(values)
    shifted = values.astype(numpy.int64) - xp.asarray(zero_point, dtype=numpy.int64)
    return xp.asarray((shifted.astype(precision) * xp.asarray(scale, dtype=precision)).astype(numpy.float32))


# --- the public functions ------------------------------------------------------------------------------------------
def _check_dtype(dtype):
    if dtype not in _dtype.QUANTIZED:
        raise RuntimeError(f"ScalarType {_dtype.scalar_type_name(dtype)} is not supported in new_qtensor.")


def _check_float(input, name="Quantize"):
    if input.dtype is not _dtype.float32:
        raise RuntimeError(f"{name} only works on Float Tensor, got {_dtype.scalar_type_name(input.dtype)}")


def _number(value, kind):
    if isinstance(value, Tensor):
        return kind(value.item())
    return kind(value)


def quantize_per_tensor(input, scale, zero_point, dtype):
    """Quantizes float32 ``input`` to ``dtype`` with one scale and zero point (a list of tensors gives a tuple)."""
    if isinstance(input, (list, tuple)):
        return tuple(quantize_per_tensor(t, s, z, dtype) for t, s, z in zip(input, scale, zero_point))
    if isinstance(input, QTensor):   # ATen has no QuantizedCPU kernel for it
        raise _backend_error("aten::quantize_per_tensor.tensor_qparams" if isinstance(scale, Tensor)
                             else "aten::quantize_per_tensor")
    _check_float(input)
    _check_dtype(dtype)
    scale, zero_point = _number(scale, float), _number(zero_point, int)
    qmin, qmax = RANGES[dtype.name]
    if zero_point > qmax:
        raise RuntimeError(f"quantize_tensor_per_tensor_affine zero_point {zero_point} is above upper bound.")
    if zero_point < qmin:
        raise RuntimeError(f"quantize_tensor_per_tensor_affine zero_point {zero_point} is below lower bound.")
    _warn_deprecated()
    values = quantize_array(input.detach()._data, scale, zero_point, dtype)
    return make_qtensor(values, dtype, _dtype.per_tensor_affine, scale=scale, zero_point=zero_point)


def quantize_per_channel(input, scales, zero_points, axis, dtype):
    """Quantizes float32 ``input`` to ``dtype`` with one scale and zero point per index of dimension ``axis``."""
    _check_float(input)
    _check_dtype(dtype)
    if not 0 <= axis < input.dim():
        raise RuntimeError(f"Channel axis out of range in per channel affine quantization. Got: {axis}Expected: "
                           f"[0, {input.dim()})")
    if scales.numel() != zero_points.numel():
        raise RuntimeError("number of elements in scales and zero_points must match")
    if scales.numel() != input.shape[axis]:
        raise RuntimeError(f"length of scales must equal to channel, expected {input.shape[axis]} got, "
                           f"{scales.numel()}")
    float_qparams = zero_points.dtype.is_floating_point   # PyTorch's per_channel_affine_float_qparams, in float32
    scales_array = numpy.asarray(scales.detach().numpy(), numpy.float32 if float_qparams else numpy.float64).reshape(-1)
    zero_points_array = numpy.asarray(zero_points.detach().numpy(),
                                      numpy.float32 if float_qparams else numpy.int64).reshape(-1)
    qmin, qmax = RANGES[dtype.name]
    if not float_qparams and ((zero_points_array > qmax).any() or (zero_points_array < qmin).any()):
        bound = "above upper" if (zero_points_array > qmax).any() else "below lower"
        raise RuntimeError(f"quantize_tensor_per_channel_affine zero_point {bound} bound.")
    _warn_deprecated()
    shape = [1] * input.dim()
    shape[axis] = -1
    xp = _backend.xp_of(input.detach()._data)
    values = quantize_array(input.detach()._data, xp.asarray(scales_array).reshape(shape),
                            xp.asarray(zero_points_array).reshape(shape), dtype, fused=False)
    qscheme = _dtype.per_channel_affine_float_qparams if float_qparams else _dtype.per_channel_affine
    return make_qtensor(values, dtype, qscheme, scales=scales_array, zero_points=zero_points_array, axis=axis)


def dequantize(tensor):
    """The float values of a quantized tensor (a float tensor comes back as float32; a list gives a tuple)."""
    if isinstance(tensor, (list, tuple)):
        return tuple(dequantize(t) for t in tensor)
    return tensor.dequantize()


_STORED_AS = {"int8": _dtype.qint8, "uint8": _dtype.quint8, "int32": _dtype.qint32}


def _make_per_tensor_quantized_tensor(input, scale, zero_point):
    """A quantized tensor over the integers of ``input`` (int8 -> qint8, uint8 -> quint8, int32 -> qint32)."""
    qdtype = _STORED_AS.get(input.dtype.name)
    if qdtype is None:
        raise RuntimeError(f"Expected input tensor to be int8, uint8 or int32, got "
                           f"{_dtype.scalar_type_name(input.dtype)}")
    return make_qtensor(input.detach()._data.copy(), qdtype, _dtype.per_tensor_affine, scale=float(scale),
                        zero_point=int(zero_point))


def rebuild_qtensor(storage, storage_offset, size, stride, quantizer_params, requires_grad, backward_hooks):
    """torch._utils._rebuild_qtensor: a quantized tensor over a loaded QInt8Storage (or kin) and its parameters."""
    import pickle
    from ..serialization import _rebuild_tensor
    if not isinstance(quantizer_params, tuple) or not quantizer_params \
            or quantizer_params[0] not in (_dtype.per_tensor_affine, _dtype.per_channel_affine,
                                           _dtype.per_channel_affine_float_qparams):
        raise pickle.UnpicklingError(f"unsupported quantizer parameters in checkpoint: {quantizer_params!r}")
    values = _rebuild_tensor(storage, storage_offset, size, stride)
    qdtype = _STORED_AS.get(values.dtype.name)   # QInt8Storage and kin load as storages of their integer type
    if qdtype is None:
        raise pickle.UnpicklingError(f"_rebuild_qtensor expects a quantized storage, got {values.dtype}")
    return _from_qparams(values.detach()._data.copy(), qdtype, quantizer_params)


from . import _qops  # noqa: E402,F401  (registers the kernels ops run on quantized tensors)


# torch.fx prints calls of these as torch's top-level functions
for _fn in (quantize_per_tensor, quantize_per_channel, dequantize):
    _fn._fx_qualified_name = f"torch.{_fn.__name__}"
