"""The device-specific AMP names PyTorch keeps for old code (``torch.cpu.amp``, ``torch.cuda.amp``), with its
FutureWarnings."""
import functools
import warnings

from . import autocast_mode
from .grad_scaler import GradScaler


def _warn(old, new):
    warnings.warn(f"`torch.{old}(args...)` is deprecated. Please use `torch.{new}` instead.", FutureWarning,
                  stacklevel=3)


def device_autocast(device_type, default_dtype):
    """The deprecated ``torch.<device>.amp.autocast`` class for ``device_type``."""
    class autocast(autocast_mode.autocast):
        __doc__ = f"Deprecated: ``torch.amp.autocast({device_type!r}, ...)``."

        def __init__(self, enabled=True, dtype=default_dtype, cache_enabled=True):
            _warn(f"{device_type}.amp.autocast", f"amp.autocast('{device_type}', args...)")
            super().__init__(device_type, enabled=enabled, dtype=dtype, cache_enabled=cache_enabled)
    return autocast


def device_grad_scaler(device_type):
    """The deprecated ``torch.<device>.amp.GradScaler`` class for ``device_type``."""
    class DeviceGradScaler(GradScaler):
        __doc__ = f"Deprecated: ``torch.amp.GradScaler({device_type!r}, ...)``."

        def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000,
                     enabled=True):
            _warn(f"{device_type}.amp.GradScaler", f"amp.GradScaler('{device_type}', args...)")
            super().__init__(device_type, init_scale=init_scale, growth_factor=growth_factor,
                             backoff_factor=backoff_factor, growth_interval=growth_interval, enabled=enabled)
    DeviceGradScaler.__name__ = DeviceGradScaler.__qualname__ = "GradScaler"
    return DeviceGradScaler


def cuda_custom_fwd(fwd=None, *, cast_inputs=None):
    """Deprecated: ``torch.amp.custom_fwd(args..., device_type='cuda')``."""
    _warn("cuda.amp.custom_fwd", "amp.custom_fwd(args..., device_type='cuda')")
    return functools.partial(autocast_mode.custom_fwd, device_type="cuda")(fwd=fwd, cast_inputs=cast_inputs)


def cuda_custom_bwd(bwd):
    """Deprecated: ``torch.amp.custom_bwd(args..., device_type='cuda')``."""
    _warn("cuda.amp.custom_bwd", "amp.custom_bwd(args..., device_type='cuda')")
    return autocast_mode.custom_bwd(bwd, device_type="cuda")
