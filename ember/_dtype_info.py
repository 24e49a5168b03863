"""``finfo`` and ``iinfo``: the numerical limits of a floating or integer dtype, as PyTorch reports them."""
import math

import numpy

from . import _dtype

__all__ = ["finfo", "iinfo"]


class finfo:
    """Limits of a floating dtype (the default dtype when none is given; a complex dtype's real part): ``bits``,
    ``eps``, ``max``, ``min``, ``tiny`` (= ``smallest_normal``), ``resolution`` and ``dtype`` (its name)."""

    def __init__(self, type=None):
        d = _dtype.get_default_dtype() if type is None else _dtype.as_dtype(type)
        if d.is_complex:
            d = d.to_real()
        if not d.is_floating_point:
            raise TypeError("torch.finfo() requires a floating point input type. Use torch.iinfo to handle "
                            "'torch.finfo'")
        self.bits, self.dtype = d.itemsize * 8, d.name
        if d.name in _ML_DTYPES_LIMITS:
            self.eps, self.max, self.min, self.tiny, self.resolution = _ML_DTYPES_LIMITS[d.name]
            self.smallest_normal = self.tiny
            return
        limits = numpy.finfo(d.numpy)
        self.eps, self.max, self.min = float(limits.eps), float(limits.max), float(limits.min)
        self.tiny = self.smallest_normal = float(limits.smallest_normal)
        self.resolution = 10.0 ** -int(limits.nmant * math.log10(2))   # 10 ** -digits10

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype: ``bits``, ``max``, ``min`` and ``dtype`` (its name)."""

    def __init__(self, type):
        d = _dtype.as_dtype(type)
        if d.is_floating_point or d.is_complex or d.name == "bool":
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to handle 'torch.iinfo'")
        limits = numpy.iinfo(d.numpy)
        self.bits, self.dtype = d.itemsize * 8, d.name
        self.max, self.min = int(limits.max), int(limits.min)

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


# PyTorch's numeric_limits of the types NumPy lacks (eps, max, min, smallest_normal, resolution), so their finfo
# needs no ml_dtypes (libraries read it at import: transformers' Fp8QuantizedLayer). float8_e5m2fnuz's eps is
# PyTorch's 2 ** -3 (ml_dtypes says 2 ** -2, the spacing above 1).
_ML_DTYPES_LIMITS = {
    "bfloat16": (2.0 ** -7, (2 - 2.0 ** -7) * 2.0 ** 127, -(2 - 2.0 ** -7) * 2.0 ** 127, 2.0 ** -126, 0.01),
    "float8_e4m3fn": (2.0 ** -3, 448.0, -448.0, 2.0 ** -6, 1.0),
    "float8_e4m3fnuz": (2.0 ** -3, 240.0, -240.0, 2.0 ** -7, 1.0),
    "float8_e5m2": (2.0 ** -2, 57344.0, -57344.0, 2.0 ** -14, 1.0),
    "float8_e5m2fnuz": (2.0 ** -3, 57344.0, -57344.0, 2.0 ** -15, 1.0),
    "float8_e8m0fnu": (1.0, 2.0 ** 127, 2.0 ** -127, 2.0 ** -127, 1.0),
}
