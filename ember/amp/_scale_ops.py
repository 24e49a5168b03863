"""PyTorch's two loss-scaling kernels (``torch._amp_foreach_non_finite_check_and_unscale_``,
``torch._amp_update_scale_``), which ``GradScaler`` runs and which custom scalers call directly."""
import numpy

from .. import _dtype
from .._backend import xp_of
from .._tensor import Tensor

_UNSCALABLE = ("float16", "bfloat16", "float32", "float64")


def _check_scalar_tensor(value, name, kind):
    if value.numel() != 1:
        raise RuntimeError(f"{name} must be a 1-element tensor.")
    if value.dtype is not (_dtype.float32 if kind == "float" else _dtype.int32):
        raise RuntimeError(f"{name} must be a{'n' if kind == 'int' else ''} {kind} tensor.")


def _amp_foreach_non_finite_check_and_unscale_(self, found_inf, inv_scale):
    """Multiplies every tensor of ``self`` by ``inv_scale`` in place (leaves them as they are when it is 1.0) and
    sets the one-element ``found_inf`` to 1.0 if any element was inf or NaN."""
    if not isinstance(self, (list, tuple)) or not all(isinstance(t, Tensor) for t in self):
        raise TypeError("_amp_foreach_non_finite_check_and_unscale_(): argument 'self' (position 1) must be tuple "
                        f"of Tensors, not {type(self).__name__}")
    for value, name in ((found_inf, "found_inf"), (inv_scale, "inv_scale")):
        if value.numel() != 1:
            raise RuntimeError(f"{name} must be a 1-element tensor.")
    for value, name in ((found_inf, "found_inf"), (inv_scale, "inv_scale")):
        if value.dtype is not _dtype.float32:
            raise RuntimeError(f"{name} must be a float tensor.")
    for t in self:
        if t.dtype.name not in _UNSCALABLE:
            raise NotImplementedError('"_amp_foreach_non_finite_check_and_unscale_cpu" not implemented for '
                                      f"'{_dtype.scalar_type_name(t.dtype)}'")
    scale = inv_scale._data.reshape(())
    unit = bool(scale == 1)
    non_finite = False
    for t in self:
        data = t._data
        xp = xp_of(data)
        if not non_finite and data.size:
            non_finite = not bool(xp.isfinite(data).all())
        if not unit:
            # the product is taken in float32 (float64 for float64 tensors) and rounded once, as PyTorch's kernel
            wide = data.astype(numpy.float64 if data.dtype == numpy.float64 else numpy.float32)
            with numpy.errstate(all="ignore"):   # inf * 0 and overflow give NaN and inf silently, as in PyTorch
                data[...] = (wide * scale.astype(wide.dtype)).astype(data.dtype)
            t._version_counter[0] += 1
    if non_finite:
        found_inf._data[...] = 1.0
        found_inf._version_counter[0] += 1


def _amp_update_scale_(self, growth_tracker, found_inf, scale_growth_factor, scale_backoff_factor,
                       growth_interval):
    """Updates the scale ``self`` in place: times the backoff factor after inf/NaN (``found_inf`` non-zero), else
    times the growth factor once ``growth_interval`` clean steps in a row are counted in ``growth_tracker``."""
    if isinstance(growth_interval, bool) or not isinstance(growth_interval, (int, numpy.integer)):
        raise TypeError("_amp_update_scale_(): argument 'growth_interval' (position 6) must be int, not "
                        f"{type(growth_interval).__name__}")
    _check_scalar_tensor(growth_tracker, "growth_tracker", "int")
    _check_scalar_tensor(self, "current_scale", "float")
    _check_scalar_tensor(found_inf, "found_inf", "float")
    current = numpy.float32(float(self._data.reshape(())))
    tracker = growth_tracker._data.reshape(())
    if float(found_inf._data.reshape(())) != 0:   # any non-zero value, NaN included
        with numpy.errstate(over="ignore", under="ignore"):
            self._data[...] = numpy.float32(numpy.float64(current) * scale_backoff_factor)
        tracker[...] = 0
    else:
        successful = int(tracker) + 1
        if successful == growth_interval:
            with numpy.errstate(over="ignore"):   # an overflowing scale is kept, as PyTorch's kernel does
                grown = numpy.float32(numpy.float64(current) * scale_growth_factor)
            if numpy.isfinite(grown):
                self._data[...] = grown
            tracker[...] = 0
        else:
            tracker[...] = successful
    self._version_counter[0] += 1
    growth_tracker._version_counter[0] += 1
    return self
