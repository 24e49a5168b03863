"""Observers (``torch.ao.quantization.observer``): modules that watch the tensors passing through them and turn
what they saw (running minimum and maximum) into a scale and zero point with ``calculate_qparams``."""
import functools
import warnings

import ember
from ember import nn

from .utils import calculate_qmin_qmax, check_min_max_valid, is_per_channel, is_per_tensor, validate_qmin_qmax

__all__ = ["ObserverBase", "UniformQuantizationObserverBase", "MinMaxObserver", "MovingAverageMinMaxObserver",
           "PerChannelMinMaxObserver", "MovingAveragePerChannelMinMaxObserver", "PlaceholderObserver",
           "NoopObserver", "HistogramObserver", "default_observer", "default_weight_observer",
           "default_per_channel_weight_observer", "default_dynamic_quant_observer", "default_float_qparams_observer",
           "default_placeholder_observer", "FixedQParamsObserver", "default_fixed_qparams_range_0to1_observer",
           "default_fixed_qparams_range_neg1to1_observer", "ReuseInputObserver", "default_reuse_input_observer"]

_EPS = 1.1920928955078125e-07   # ember.finfo(ember.float32).eps


class _PartialWrapper:
    """A constructor with some arguments bound (``with_args``), some computed at each call (``with_callable_args``)."""

    def __init__(self, p):
        self.p = p
        self.callable_args = {}

    def __call__(self, *args, **keywords):
        for name, make in self.callable_args.items():
            keywords.setdefault(name, make())
        return self.p(*args, **keywords)

    def __repr__(self):
        return repr(self.p) + repr(self.callable_args)

    def with_args(self, **kwargs):
        """This constructor with more arguments bound."""
        return _with_args(self, **kwargs)

    def with_callable_args(self, **kwargs):
        """This constructor with arguments computed by calling ``kwargs``' values at construction."""
        result = _PartialWrapper(self.p)
        result.callable_args = {**self.callable_args, **kwargs}
        return result


def _with_args(cls_or_self, **kwargs):
    return _PartialWrapper(functools.partial(cls_or_self, **kwargs))


def _with_callable_args(cls_or_self, **kwargs):
    return _PartialWrapper(functools.partial(cls_or_self)).with_callable_args(**kwargs)


class ObserverBase(nn.Module):
    """The base of observers: a ``dtype`` to quantize to, ``forward`` records, ``calculate_qparams`` answers."""

    def __init__(self, dtype, is_dynamic=False):
        super().__init__()
        self.dtype = dtype
        self.is_dynamic = is_dynamic

    with_args = classmethod(_with_args)
    with_callable_args = classmethod(_with_callable_args)


class UniformQuantizationObserverBase(ObserverBase):
    """Observers whose scale and zero point map a [min, max] range onto [quant_min, quant_max] uniformly."""

    _version = 3

    def __init__(self, dtype=ember.quint8, qscheme=ember.per_tensor_affine, reduce_range=False, quant_min=None,
                 quant_max=None, factory_kwargs=None, eps=_EPS, is_dynamic=False, **kwargs):
        super().__init__(dtype=dtype, is_dynamic=is_dynamic, **kwargs)
        self.qscheme = qscheme
        if reduce_range:
            warnings.warn("Please use quant_min and quant_max to specify the range for observers.                     "
                          "reduce_range will be deprecated in a future release of PyTorch.", stacklevel=2)
        self.reduce_range = reduce_range
        self.register_buffer("eps", ember.tensor([eps], **(factory_kwargs or {})))
        if qscheme not in (ember.per_tensor_affine, ember.per_tensor_symmetric, ember.per_channel_affine,
                           ember.per_channel_symmetric, ember.per_channel_affine_float_qparams):
            raise AssertionError("Default Observer only works for per_tensor_affine, per_tensor_symmetric, "
                                 "per_channel_affine, per_channel_symmetric and per_channel_float_qparams "
                                 "quantization scheme")
        allowed = (ember.qint8, ember.quint8, ember.quint4x2, ember.qint32, ember.int8, ember.uint8, ember.int16,
                   ember.int32, ember.uint16)
        if dtype not in allowed:
            raise AssertionError(f"Default Observer only works for {allowed} data type")
        self.has_customized_qrange = quant_min is not None and quant_max is not None
        if self.has_customized_qrange:
            validate_qmin_qmax(quant_min, quant_max)
        self.quant_min, self.quant_max = calculate_qmin_qmax(quant_min, quant_max, self.has_customized_qrange,
                                                             dtype, reduce_range)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        if local_metadata.get("version") in (None, 1):   # checkpoints from before eps was a buffer
            state_dict[prefix + "eps"] = ember.tensor([_EPS])
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)

    def _calculate_qparams(self, min_val, max_val):
        """Scales (float32) and zero points (int64; float for float qparams) for per-tensor or per-channel ranges."""
        if not check_min_max_valid(min_val, max_val):
            return ember.tensor([1.0]), ember.tensor([0])
        quant_min, quant_max = self.quant_min, self.quant_max
        min_val_neg = ember.min(min_val, ember.zeros_like(min_val))
        max_val_pos = ember.max(max_val, ember.zeros_like(max_val))
        zero_point = ember.zeros(min_val_neg.size(), dtype=ember.int64)
        if self.qscheme in (ember.per_tensor_symmetric, ember.per_channel_symmetric):
            max_val_pos = ember.max(-min_val_neg, max_val_pos)
            scale = ember.max(max_val_pos / (float(quant_max - quant_min) / 2), self.eps)
            if self.dtype in (ember.quint8, ember.uint8):
                middle = (quant_min + quant_max) // 2 if self.has_customized_qrange else 128
                zero_point = ember.full(zero_point.size(), middle, dtype=ember.int64)
            elif self.dtype is ember.uint16:
                zero_point = ember.full(zero_point.size(), 2 ** 15, dtype=ember.int64)
        elif self.qscheme is ember.per_channel_affine_float_qparams:
            scale = (max_val - min_val) / float(quant_max - quant_min)
            scale = ember.where(scale > self.eps, scale, ember.ones_like(scale))
            zero_point = -1 * min_val / scale
        else:
            scale = ember.max((max_val_pos - min_val_neg) / float(quant_max - quant_min), self.eps)
            zero_point = quant_min - ember.round(min_val_neg / scale).to(ember.int32)
            zero_point = ember.clamp(zero_point, quant_min, quant_max)
        if scale.dim() == 0:
            scale = ember.tensor([float(scale)], dtype=scale.dtype)
        if zero_point.dim() == 0:
            value = float(zero_point) if self.qscheme is ember.per_channel_affine_float_qparams else int(zero_point)
            zero_point = ember.tensor([value], dtype=zero_point.dtype)
        return scale, zero_point

    def reset_min_max_vals(self):
        """Forgets the recorded range."""
        raise NotImplementedError("Cannot reset min/max values in the given observer.")


class MinMaxObserver(UniformQuantizationObserverBase):
    """Records the running minimum and maximum of every tensor seen; qparams from that range."""

    def __init__(self, dtype=ember.quint8, qscheme=ember.per_tensor_affine, reduce_range=False, quant_min=None,
                 quant_max=None, factory_kwargs=None, eps=_EPS, is_dynamic=False, **kwargs):
        if not is_per_tensor(qscheme):
            raise NotImplementedError("MinMaxObserver's qscheme only support torch.per_tensor_symmetric "
                                      "                    and torch.per_tensor_affine.")
        super().__init__(dtype=dtype, qscheme=qscheme, reduce_range=reduce_range, quant_min=quant_min,
                         quant_max=quant_max, factory_kwargs=factory_kwargs, eps=eps, is_dynamic=is_dynamic,
                         **kwargs)
        self.register_buffer("min_val", ember.tensor(float("inf"), **(factory_kwargs or {})))
        self.register_buffer("max_val", ember.tensor(float("-inf"), **(factory_kwargs or {})))
        if qscheme is ember.per_tensor_symmetric and reduce_range and dtype is ember.quint8:
            raise NotImplementedError("Cannot reduce range for symmetric                                        "
                                      "quantization for quint8")

    def forward(self, x_orig):
        """Widens the recorded range to ``x_orig``'s; returns ``x_orig``."""
        if x_orig.numel() == 0:
            return x_orig
        x = x_orig.detach().to(self.min_val.dtype)
        low, high = ember.aminmax(x)
        self.min_val.copy_(ember.min(low, self.min_val))
        self.max_val.copy_(ember.max(high, self.max_val))
        return x_orig

    def calculate_qparams(self):
        """(scale, zero_point), one-element tensors."""
        return self._calculate_qparams(self.min_val, self.max_val)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}"

    def reset_min_max_vals(self):
        """Forgets the recorded range."""
        self.min_val.copy_(ember.tensor(float("inf")))
        self.max_val.copy_(ember.tensor(float("-inf")))


class MovingAverageMinMaxObserver(MinMaxObserver):
    """Records exponential moving averages of each tensor's minimum and maximum (``averaging_constant``)."""

    def __init__(self, averaging_constant=0.01, dtype=ember.quint8, qscheme=ember.per_tensor_affine,
                 reduce_range=False, quant_min=None, quant_max=None, eps=_EPS, is_dynamic=False, **kwargs):
        if not is_per_tensor(qscheme):
            raise NotImplementedError(f"MovingAverageMinMaxObserver's qscheme only support                 "
                                      f"torch.per_tensor_symmetric and torch.per_tensor_affine.                 "
                                      f"but got: {qscheme}")
        self.averaging_constant = averaging_constant
        if is_dynamic and averaging_constant != 1:
            raise NotImplementedError("MovingAverageMinMaxObserver doesn't support dynamic quantization for "
                                      f"averaging constant of {averaging_constant}")
        super().__init__(dtype=dtype, qscheme=qscheme, reduce_range=reduce_range, quant_min=quant_min,
                         quant_max=quant_max, eps=eps, is_dynamic=is_dynamic, **kwargs)

    def forward(self, x_orig):
        """Moves the averaged range toward ``x_orig``'s (takes it as is the first time); returns ``x_orig``."""
        if x_orig.numel() == 0:
            return x_orig
        x = x_orig.detach().to(self.min_val.dtype)
        low, high = ember.aminmax(x)
        if not (self.min_val == float("inf") and self.max_val == float("-inf")):
            low = self.min_val + self.averaging_constant * (low - self.min_val)
            high = self.max_val + self.averaging_constant * (high - self.max_val)
        self.min_val.copy_(low)
        self.max_val.copy_(high)
        return x_orig


class PerChannelMinMaxObserver(UniformQuantizationObserverBase):
    """Records the running minimum and maximum of each slice along ``ch_axis``; per-channel qparams."""

    def __init__(self, ch_axis=0, dtype=ember.quint8, qscheme=ember.per_channel_affine, reduce_range=False,
                 quant_min=None, quant_max=None, factory_kwargs=None, eps=_EPS, is_dynamic=False, **kwargs):
        if not is_per_channel(qscheme):
            raise NotImplementedError("PerChannelMinMaxObserver's qscheme only support                     "
                                      "torch.per_channel_symmetric, torch.per_channel_affine and "
                                      "torch.per_channel_affine_float_qparams.")
        if is_dynamic:
            raise NotImplementedError("PerChannelMinMaxObserver doesn't support dynamic quantization")
        super().__init__(dtype=dtype, qscheme=qscheme, reduce_range=reduce_range, quant_min=quant_min,
                         quant_max=quant_max, factory_kwargs=factory_kwargs, eps=eps, is_dynamic=is_dynamic,
                         **kwargs)
        self.ch_axis = ch_axis
        self.register_buffer("min_val", ember.tensor([], **(factory_kwargs or {})))
        self.register_buffer("max_val", ember.tensor([], **(factory_kwargs or {})))
        if qscheme is ember.per_channel_symmetric and reduce_range and dtype is ember.quint8:
            raise NotImplementedError("Cannot reduce range for symmetric quantization for quint8")

    def _channel_ranges(self, x_orig):
        order = list(range(x_orig.dim()))
        order[self.ch_axis], order[0] = 0, self.ch_axis
        rows = ember.flatten(x_orig.detach().permute(order).to(self.min_val.dtype), start_dim=1)
        return ember.aminmax(rows, dim=1)

    def _store(self, low, high):
        self.min_val.resize_(low.shape)
        self.max_val.resize_(high.shape)
        self.min_val.copy_(low)
        self.max_val.copy_(high)

    def forward(self, x_orig):
        """Widens each channel's recorded range; returns ``x_orig``."""
        if x_orig.numel() == 0:
            return x_orig
        low, high = self._channel_ranges(x_orig)
        if self.min_val.numel() and self.max_val.numel():
            low, high = ember.min(low, self.min_val), ember.max(high, self.max_val)
        self._store(low, high)
        return x_orig

    def calculate_qparams(self):
        """(scales, zero_points), one entry per channel."""
        return self._calculate_qparams(self.min_val, self.max_val)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}"

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        for name in ("min_val", "max_val"):   # the buffers take the saved number of channels
            key = prefix + name
            if key in state_dict:
                getattr(self, name).resize_(state_dict[key].shape)
            elif strict:
                missing_keys.append(key)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, False, missing_keys, unexpected_keys,
                                      error_msgs)

    def reset_min_max_vals(self):
        """Forgets the recorded ranges."""
        self.min_val = ember.rand(0)
        self.max_val = ember.rand(0)


class MovingAveragePerChannelMinMaxObserver(PerChannelMinMaxObserver):
    """Per-channel moving averages of the minimum and maximum (``averaging_constant``)."""

    def __init__(self, averaging_constant=0.01, ch_axis=0, dtype=ember.quint8, qscheme=ember.per_channel_affine,
                 reduce_range=False, quant_min=None, quant_max=None, eps=_EPS, is_dynamic=False, **kwargs):
        if not is_per_channel(qscheme):
            raise NotImplementedError("MovingAveragePerChannelMinMaxObserver's qscheme only support                 "
                                      "    torch.per_channel_symmetric, torch.per_channel_affine and "
                                      "torch.per_channel_affine_float_qparams.")
        if is_dynamic:
            raise NotImplementedError("MovingAveragePerChannelMinMaxObserver doesn't support dynamic quantization")
        super().__init__(ch_axis=ch_axis, dtype=dtype, qscheme=qscheme, reduce_range=reduce_range,
                         quant_min=quant_min, quant_max=quant_max, eps=eps, is_dynamic=is_dynamic, **kwargs)
        self.averaging_constant = averaging_constant

    def forward(self, x_orig):
        """Moves each channel's averaged range toward ``x_orig``'s; returns ``x_orig``."""
        if x_orig.numel() == 0:
            return x_orig
        low, high = self._channel_ranges(x_orig)
        if self.min_val.numel() and self.max_val.numel():
            low = self.min_val + self.averaging_constant * (low - self.min_val)
            high = self.max_val + self.averaging_constant * (high - self.max_val)
        self._store(low, high)
        return x_orig


class PlaceholderObserver(ObserverBase):
    """Observes nothing: carries ``dtype`` (and whether quantization is dynamic) to the quantized module."""

    def __init__(self, dtype=ember.float32, custom_op_name="", compute_dtype=None, quant_min=None, quant_max=None,
                 qscheme=None, eps=None, is_dynamic=False):
        super().__init__(dtype=dtype, is_dynamic=is_dynamic)
        self.qscheme = ember.per_tensor_affine if qscheme is None else qscheme
        self.quant_min, self.quant_max = quant_min, quant_max
        self.eps = _EPS if eps is None else eps
        self.custom_op = custom_op_name
        if compute_dtype:
            warnings.warn("Please use `is_dynamic` instead of `compute_dtype`.                     `compute_dtype` "
                          "will be deprecated in a future release                     of PyTorch.", stacklevel=2)

    def forward(self, x):
        """Returns ``x``."""
        return x

    def extra_repr(self):
        return f"dtype={self.dtype}, is_dynamic={self.is_dynamic}"

    def calculate_qparams(self):
        """Refused, as in PyTorch: a placeholder has no statistics."""
        raise Exception("calculate_qparams should not be called for PlaceholderObserver")  # noqa: TRY002


class NoopObserver(ObserverBase):
    """Observes nothing and refuses ``calculate_qparams`` (used for float16 quantization)."""

    def __init__(self, dtype=ember.float16, custom_op_name=""):
        super().__init__(dtype=dtype)
        self.dtype = dtype
        self.custom_op = custom_op_name

    def forward(self, x):
        """Returns ``x``."""
        return x

    def calculate_qparams(self):
        """Refused: a no-op observer has no statistics."""
        raise Exception("calculate_qparams should not be called for NoopObserver")  # noqa: TRY002


class ReuseInputObserver(ObserverBase):
    """Observes nothing: FX graph mode quantization gives the op's output the observer of its input (``reshape``
    in the default mappings), or none when the input has none."""

    def __init__(self):
        super().__init__(ember.quint8, is_dynamic=False)

    def forward(self, x):
        """Returns ``x``."""
        return x

    def calculate_qparams(self):
        """Refused, as in PyTorch: it has no statistics of its own."""
        raise Exception("calculate_qparams should not be called for ReuseInputObserver")  # noqa: TRY002


default_reuse_input_observer = ReuseInputObserver
default_observer = MinMaxObserver.with_args(quant_min=0, quant_max=127)
default_placeholder_observer = PlaceholderObserver
default_weight_observer = MinMaxObserver.with_args(dtype=ember.qint8, qscheme=ember.per_tensor_symmetric)
default_per_channel_weight_observer = PerChannelMinMaxObserver.with_args(dtype=ember.qint8,
                                                                          qscheme=ember.per_channel_symmetric)
default_dynamic_quant_observer = PlaceholderObserver.with_args(dtype=ember.quint8, quant_min=0, quant_max=255,
                                                               is_dynamic=True)
default_float_qparams_observer = PerChannelMinMaxObserver.with_args(
    dtype=ember.quint8, qscheme=ember.per_channel_affine_float_qparams, ch_axis=0)


# HistogramObserver lives in its own module (size) but belongs here, where PyTorch defines it.
from .histogram_observer import HistogramObserver  # noqa: E402

HistogramObserver.__module__ = __name__


class FixedQParamsObserver(ObserverBase):
    """An observer with fixed qparams (``scale``, ``zero_point`` buffers) that records nothing: for ops whose output
    range is known (sigmoid, hardsigmoid on [0, 1], tanh on [-1, 1])."""

    def __init__(self, scale, zero_point, dtype=ember.quint8, qscheme=ember.per_tensor_affine, quant_min=0,
                 quant_max=255, is_dynamic=False, **kwargs):
        if is_dynamic:
            raise NotImplementedError("FixedQParamsObserver doesn't support dynamic quantization")
        super().__init__(dtype=dtype, is_dynamic=is_dynamic, **kwargs)
        self.quant_min = quant_min
        self.quant_max = quant_max
        self.register_buffer("scale", ember.tensor([scale], dtype=ember.float))
        self.register_buffer("zero_point", ember.tensor([zero_point], dtype=ember.int))
        self.dtype = dtype
        self.qscheme = qscheme

    def forward(self, X):
        """Returns ``X``."""
        return X

    def calculate_qparams(self):
        """The fixed (scale, zero_point)."""
        return self.scale, self.zero_point


default_fixed_qparams_range_0to1_observer = FixedQParamsObserver.with_args(
    scale=1.0 / 256.0, zero_point=0, dtype=ember.quint8, quant_min=0, quant_max=255)
default_fixed_qparams_range_neg1to1_observer = FixedQParamsObserver.with_args(
    scale=2.0 / 256.0, zero_point=128, dtype=ember.quint8, quant_min=0, quant_max=255)
