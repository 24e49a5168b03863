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
        limits = _numpy_finfo(d.numpy)
        self.bits, self.dtype = d.itemsize * 8, d.name
        self.eps, self.max, self.min = float(limits.eps), float(limits.max), float(limits.min)
        if d.name == "float8_e5m2fnuz":
            self.eps = 0.125   # PyTorch's numeric_limits (ml_dtypes: 0.25, the spacing above 1)
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


def _numpy_finfo(numpy_dtype):
    """NumPy's finfo, or ml_dtypes' for bfloat16 and the float8 types (which NumPy does not know)."""
    if numpy_dtype.name == "bfloat16" or numpy_dtype.name.startswith("float8"):
        import ml_dtypes
        return ml_dtypes.finfo(numpy_dtype)
    return numpy.finfo(numpy_dtype)
