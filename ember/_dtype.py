"""Dtype objects and PyTorch's type-promotion rules.

bfloat16 and the float8 types are backed by ml_dtypes, an optional dependency loaded the first time one is used.
"""
import numpy

from . import _alias

_BOOL, _INT, _FLOAT, _COMPLEX = range(4)


class dtype:
    """A tensor element type, such as ``ember.float32``."""

    __slots__ = ("name", "_numpy", "_category", "itemsize")

    def __init__(self, name, numpy_dtype, category, itemsize):
        self.name = name
        self._numpy = numpy_dtype
        self._category = category
        self.itemsize = itemsize

    @property
    def numpy(self):
        """The NumPy dtype that stores this type."""
        if self._numpy is None:
            try:
                import ml_dtypes
            except ImportError as error:
                raise TypeError(f"{self.name} needs the optional dependency ml_dtypes (pip install ml_dtypes)") \
                    from error
            self._numpy = numpy.dtype(getattr(ml_dtypes, self.name))
            _BY_NUMPY[self._numpy] = self
            if self.name.startswith("float8"):
                FLOAT8_CHARS.add(self._numpy.char)
        return self._numpy

    @property
    def is_floating_point(self):
        return self._category == _FLOAT

    @property
    def is_complex(self):
        return self._category == _COMPLEX

    @property
    def is_signed(self):
        return not self.name.startswith("uint") and self.name not in ("bool", "float8_e8m0fnu")

    def to_real(self):
        """The real counterpart of a complex dtype (float32 for complex64)."""
        return {complex32: float16, complex64: float32, complex128: float64}.get(self, self)

    def to_complex(self):
        """The complex counterpart of a floating dtype (complex64 for float32)."""
        return {float64: complex128, complex128: complex128}.get(self, complex64)

    def __repr__(self):
        return f"{_alias.package()}.{self.name}"

    def __reduce__(self):   # under the alias as PyTorch's: the global torch.<name>, so torch loads plain pickles
        return self.name if _alias.installed else (_by_name, (self.name,))


bool_ = dtype("bool", numpy.dtype(numpy.bool_), _BOOL, 1)
uint8 = dtype("uint8", numpy.dtype(numpy.uint8), _INT, 1)
uint16 = dtype("uint16", numpy.dtype(numpy.uint16), _INT, 2)
uint32 = dtype("uint32", numpy.dtype(numpy.uint32), _INT, 4)
uint64 = dtype("uint64", numpy.dtype(numpy.uint64), _INT, 8)
int8 = dtype("int8", numpy.dtype(numpy.int8), _INT, 1)
int16 = dtype("int16", numpy.dtype(numpy.int16), _INT, 2)
int32 = dtype("int32", numpy.dtype(numpy.int32), _INT, 4)
int64 = dtype("int64", numpy.dtype(numpy.int64), _INT, 8)
float16 = dtype("float16", numpy.dtype(numpy.float16), _FLOAT, 2)
bfloat16 = dtype("bfloat16", None, _FLOAT, 2)
float32 = dtype("float32", numpy.dtype(numpy.float32), _FLOAT, 4)
float64 = dtype("float64", numpy.dtype(numpy.float64), _FLOAT, 8)
complex64 = dtype("complex64", numpy.dtype(numpy.complex64), _COMPLEX, 8)
complex128 = dtype("complex128", numpy.dtype(numpy.complex128), _COMPLEX, 16)

# The 8-bit floats: stored and converted (ml_dtypes' types, PyTorch's rounding), refused by arithmetic kernels and
# by type promotion with any other dtype, as PyTorch's CPU kernels do
float8_e4m3fn = dtype("float8_e4m3fn", None, _FLOAT, 1)
float8_e4m3fnuz = dtype("float8_e4m3fnuz", None, _FLOAT, 1)
float8_e5m2 = dtype("float8_e5m2", None, _FLOAT, 1)
float8_e5m2fnuz = dtype("float8_e5m2fnuz", None, _FLOAT, 1)
float8_e8m0fnu = dtype("float8_e8m0fnu", None, _FLOAT, 1)
FLOAT8 = (float8_e4m3fn, float8_e4m3fnuz, float8_e5m2, float8_e5m2fnuz, float8_e8m0fnu)
FLOAT8_CHARS = set()
"""NumPy's type characters of the float8 types whose ml_dtypes type is in use (filled as each is first used, so
importing ember does not import ml_dtypes; no float8 array exists before)."""

ALL = (bool_, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64, complex64, complex128, uint16,
       uint32, uint64)


class _quantized_dtype(dtype):
    """A quantized type (``ember.ao``'s quantized tensors hold its integer storage, ``_numpy``): never a plain
    tensor's dtype, so asking for its NumPy type (what making a plain tensor of it does) raises as PyTorch."""

    __slots__ = ()

    @property
    def numpy(self):
        raise RuntimeError("empty_strided not supported on quantized tensors yet see "
                           "https://github.com/pytorch/pytorch/issues/74540")

    @property
    def is_signed(self):
        raise RuntimeError("isSignedType not supported for quantized types")


qint8 = _quantized_dtype("qint8", numpy.dtype(numpy.int8), _INT, 1)
quint8 = _quantized_dtype("quint8", numpy.dtype(numpy.uint8), _INT, 1)
qint32 = _quantized_dtype("qint32", numpy.dtype(numpy.int32), _INT, 4)
quint4x2 = _quantized_dtype("quint4x2", numpy.dtype(numpy.uint8), _INT, 1)
QUANTIZED = (qint8, quint8, qint32, quint4x2)


class _packed_dtype(dtype):
    """A type ember makes no tensors of, a name libraries map formats to and test for: ``float4_e2m1fn_x2`` (two
    values packed in a byte) and ``complex32`` (NumPy has no half-precision complex)."""

    __slots__ = ()

    @property
    def numpy(self):
        raise TypeError(f"ember does not implement tensors of dtype {self!r}")


float4_e2m1fn_x2 = _packed_dtype("float4_e2m1fn_x2", None, _FLOAT, 1)
complex32 = _packed_dtype("complex32", None, _COMPLEX, 4)
_BAREBONES_UNSIGNED = (uint16, uint32, uint64)   # PyTorch promotes these only with themselves and floating types
ALIASES = {"bool": bool_, "half": float16, "float": float32, "double": float64, "short": int16,
           "int": int32, "long": int64, "cfloat": complex64, "cdouble": complex128,
           "chalf": complex32}

_BY_NAME = {d.name: d for d in ALL + QUANTIZED + FLOAT8 + (float4_e2m1fn_x2, complex32)}
_BY_NUMPY = {d._numpy: d for d in ALL if d._numpy is not None}


def _by_name(name):
    return _BY_NAME[name]


def from_numpy(numpy_dtype):
    """The ember dtype of a NumPy dtype; TypeError for types ember does not support."""
    try:
        return _BY_NUMPY[numpy_dtype]
    except KeyError:
        numpy_dtype = numpy.dtype(numpy_dtype)
        if numpy_dtype in _BY_NUMPY:
            return _BY_NUMPY[numpy_dtype]
        lazy = _BY_NAME.get(numpy_dtype.name)
        if lazy in (bfloat16,) + FLOAT8:   # an ml_dtypes type not used yet
            return lazy if lazy.numpy == numpy_dtype else None
        raise TypeError(f"can't convert np.ndarray of type numpy.{numpy_dtype.type.__name__}. The only supported "
                        "types are: float64, float32, float16, complex64, complex128, int64, int32, int16, int8, "
                        "uint64, uint32, uint16, uint8, and bool.")


class qscheme:
    """A quantization scheme, such as ``ember.per_tensor_affine`` (``torch.qscheme``)."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"{_alias.package()}.{self.name}"

    def __reduce__(self):   # as PyTorch's, the global torch.<name>, once the class shows torch's module
        return self.name if type(self).__module__ == "torch" else (_qscheme_by_name, (self.name,))


per_tensor_affine, per_channel_affine, per_tensor_symmetric, per_channel_symmetric, \
    per_channel_affine_float_qparams = QSCHEMES = tuple(
        qscheme(name) for name in ("per_tensor_affine", "per_channel_affine", "per_tensor_symmetric",
                                   "per_channel_symmetric", "per_channel_affine_float_qparams"))


def _qscheme_by_name(name):
    return next(q for q in QSCHEMES if q.name == name)


_default_float = [float32]


def get_default_dtype():
    """The dtype of floating tensors made from Python floats (float32 unless changed)."""
    return _default_float[0]


def set_default_dtype(d):
    """Sets the dtype that Python floats and factory functions produce; float32 or float64 (also float16, bfloat16)."""
    if not isinstance(d, dtype):
        raise TypeError("invalid dtype object: only floating-point types are supported as the default type")
    if not d.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    _default_float[0] = d


def default_complex():
    return complex128 if _default_float[0] is float64 else complex64


def promote_types(a, b):
    """PyTorch's promotion of two dtypes (``torch.promote_types``)."""
    if a is b:
        return a
    ca, cb = a._category, b._category
    if a in FLOAT8 or b in FLOAT8:
        raise RuntimeError(f"Promotion for Float8 Types is not supported, attempted to promote "
                           f"{scalar_type_name(a)} and {scalar_type_name(b)}")
    if a in _BAREBONES_UNSIGNED or b in _BAREBONES_UNSIGNED:
        if _FLOAT in (ca, cb):
            return a if ca == _FLOAT else b
        raise RuntimeError(f"Promotion for uint16, uint32, uint64 types is not supported, attempted to promote "
                           f"{scalar_type_name(a)} and {scalar_type_name(b)}")
    if ca != cb:
        high, low = (a, b) if ca > cb else (b, a)
        if high._category == _COMPLEX and low._category == _FLOAT and low.itemsize == 8:
            return complex128
        return high
    if ca == _FLOAT and {a, b} == {float16, bfloat16}:
        return float32
    if ca == _INT and uint8 in (a, b):
        other = b if a is uint8 else a
        return int16 if other is int8 else other
    return a if a.itemsize >= b.itemsize else b


def scalar_dtype(value):
    """The dtype a Python scalar takes when it becomes a tensor on its own."""
    if isinstance(value, bool):
        return bool_
    if isinstance(value, int):
        return int64
    if isinstance(value, float):
        return _default_float[0]
    if isinstance(value, complex):
        return default_complex()
    if isinstance(value, numpy.generic):
        return from_numpy(value.dtype)
    raise TypeError(f"expected a number, got {type(value).__name__}")


def _combine(higher, lower):
    """Merges the dtype of a higher-priority operand group with a lower one (PyTorch's combine_categories)."""
    if higher is None:
        return lower
    if lower is None or higher._category == _COMPLEX:
        return higher
    if lower._category == _COMPLEX:
        return higher.to_complex() if higher._category == _FLOAT else lower
    if higher._category == _FLOAT:
        return higher
    if higher is bool_ or lower._category == _FLOAT:
        return promote_types(higher, lower)
    return higher


def result_type(*operands):
    """The dtype PyTorch gives an op on ``operands`` (tensors and Python scalars).

    Dimensioned tensors decide first, then 0-d tensors, then Python scalars, each lower group only lifting the
    category (bool < int < float < complex), as ``torch.result_type`` does.
    """
    dimensioned = zero_dim = scalars = None
    for operand in operands:
        d = getattr(operand, "dtype", None)
        if isinstance(d, dtype):
            if operand.ndim:
                dimensioned = d if dimensioned is None else promote_types(dimensioned, d)
            else:
                zero_dim = d if zero_dim is None else promote_types(zero_dim, d)
        elif operand is not None:
            d = scalar_dtype(operand)
            if d._category == _FLOAT:
                d = _default_float[0]
            scalars = d if scalars is None else promote_types(scalars, d)
    return _combine(dimensioned, _combine(zero_dim, scalars))


def cast_array(array, target, copy=True):
    """``array.astype(target)`` as PyTorch converts: to float16 or bfloat16 from float64 or a 32/64-bit integer by
    way of float32 (c10's Half and BFloat16 are made from a float), rounding twice where NumPy rounds once."""
    target = numpy.dtype(target)
    if target.itemsize <= 2 and target.kind in "fV":   # (every other target: NumPy's cast is c10's)
        source = array.dtype
        if target.name == "float8_e8m0fnu" and source.kind in "fVbiu":
            return _to_e8m0(array.astype(numpy.float32))
        if target.itemsize == 2 and (source.kind == "f" and source.itemsize > 4 or
                                     source.kind in "iu" and source.itemsize >= 4):
            array = array.astype(numpy.float32)
    return array.astype(target, copy=copy)


_FLOAT32_MAX = 3.4028234663852886e38


def float32_rounded(value):
    """A Python float rounded to float32 (kept beyond float32's range, and NaN): what c10 does to a double on its way
    to a 16-bit float, which it makes from a float, so that NumPy's one rounding of the result to 16 bits gives
    PyTorch's two."""
    return float(numpy.float32(value)) if -_FLOAT32_MAX <= value <= _FLOAT32_MAX else value


def _to_e8m0(array):
    """float32 values as float8_e8m0fnu, as c10 converts: the exponent bits alone (the sign is dropped, zero and
    subnormals give 2**-127), rounded to nearest with ties to even on the mantissa, and NaN for NaN and infinities
    (ml_dtypes makes every value <= 0 NaN)."""
    bits = array.view(numpy.uint32)
    exponent = (bits >> 23) & 0xFF
    guard = (bits >> 22) & 1
    round_up = (guard == 1) & (((bits & 0x3FFFFF) != 0) | (exponent > 0)) & (exponent < 0xFF)
    return (exponent + round_up).astype(numpy.uint8).view(_by_name("float8_e8m0fnu").numpy)


def can_cast(source, target):
    """PyTorch's rule for writing a result of type ``source`` into a tensor of type ``target`` (no category drop)."""
    return source._category <= target._category


def as_dtype(value):
    """Accepts an ember dtype, a NumPy dtype, a Python type (float, int, bool) or a name."""
    if isinstance(value, dtype):
        return value
    if value is float:
        return float64
    if value is int:
        return int64
    if value is bool:
        return bool_
    if value is complex:
        return complex128
    if isinstance(value, str) and (value in _BY_NAME or value in ALIASES):
        return _BY_NAME.get(value) or ALIASES[value]
    return from_numpy(numpy.dtype(value))


def dtype_arg(value, op=None):
    """A ``dtype=`` argument as PyTorch's parser takes it: a dtype, or Python's float, int, bool or complex.
    TypeError for the names and NumPy dtypes ``as_dtype`` accepts (PyTorch refuses them), naming ``op`` when given;
    an op PyTorch's signature table describes then raises PyTorch's message (``_util.argument_error``)."""
    if isinstance(value, dtype):
        return value
    if value is float or value is int or value is bool or value is complex:
        return as_dtype(value)
    raise TypeError(f"{op + '(): ' if op else ''}argument 'dtype' must be torch.dtype, not {type(value).__name__}")


_SCALAR_TYPE_NAMES = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int",
                      "int64": "Long", "float16": "Half", "bfloat16": "BFloat16", "float32": "Float",
                      "float64": "Double", "complex64": "ComplexFloat", "complex128": "ComplexDouble",
                      "uint16": "UInt16", "uint32": "UInt32", "uint64": "UInt64", "qint8": "QInt8",
                      "quint8": "QUInt8", "qint32": "QInt32", "quint4x2": "QUInt4x2",
                      "float8_e4m3fn": "Float8_e4m3fn", "float8_e4m3fnuz": "Float8_e4m3fnuz",
                      "float8_e5m2": "Float8_e5m2", "float8_e5m2fnuz": "Float8_e5m2fnuz",
                      "float8_e8m0fnu": "Float8_e8m0fnu", "float4_e2m1fn_x2": "Float4_e2m1fn_x2"}


def scalar_type_name(d):
    """PyTorch's C++ name of a dtype, as its error messages print it (Float, Long, ...)."""
    return _SCALAR_TYPE_NAMES[d.name]
