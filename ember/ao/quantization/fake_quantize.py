"""Fake quantization modules (``torch.ao.quantization.fake_quantize``): an observer updates the scale and zero
point, then the input is quantized and dequantized with a straight-through gradient, for quantization-aware
training."""
import ember
from ember import nn

from .observer import (FixedQParamsObserver, MovingAverageMinMaxObserver, MovingAveragePerChannelMinMaxObserver,
                       _with_args, default_fixed_qparams_range_0to1_observer,
                       default_fixed_qparams_range_neg1to1_observer)
from .utils import is_per_channel, is_per_tensor

__all__ = ["FakeQuantizeBase", "FakeQuantize", "FusedMovingAvgObsFakeQuantize", "default_fake_quant",
           "default_weight_fake_quant", "default_dynamic_fake_quant", "default_per_channel_weight_fake_quant",
           "default_fused_act_fake_quant", "default_fused_wt_fake_quant", "default_fused_per_channel_wt_fake_quant",
           "fused_wt_fake_quant_range_neg_127_to_127", "fused_per_channel_wt_fake_quant_range_neg_127_to_127",
           "FixedQParamsFakeQuantize", "default_fixed_qparams_range_0to1_fake_quant",
           "default_fixed_qparams_range_neg1to1_fake_quant", "disable_fake_quant", "enable_fake_quant",
           "disable_observer", "enable_observer", "default_embedding_fake_quant", "default_embedding_fake_quant_4bit"]


class FakeQuantizeBase(nn.Module):
    """What fake quantizers share: the ``fake_quant_enabled`` and ``observer_enabled`` switches (uint8 buffers)."""

    def __init__(self):
        super().__init__()
        self.register_buffer("fake_quant_enabled", ember.tensor([1], dtype=ember.uint8))
        self.register_buffer("observer_enabled", ember.tensor([1], dtype=ember.uint8))

    def enable_fake_quant(self, enabled=True):
        """Turns fake quantization on (or off)."""
        self.fake_quant_enabled[0] = 1 if enabled else 0

    def disable_fake_quant(self):
        """Turns fake quantization off: the module passes its input through."""
        self.enable_fake_quant(False)

    def enable_observer(self, enabled=True):
        """Turns the observer on (or off)."""
        self.observer_enabled[0] = 1 if enabled else 0

    def disable_observer(self):
        """Freezes the scale and zero point."""
        self.enable_observer(False)

    @classmethod
    def with_args(cls, **kwargs):
        """This class's constructor with arguments bound (a factory for qconfigs)."""
        return _with_args(cls, **kwargs)


class FakeQuantize(FakeQuantizeBase):
    """``(clamp(round(x / scale + zero_point), quant_min, quant_max) - zero_point) * scale``, with scale and
    zero point from ``observer`` (kept in the ``scale``/``zero_point`` buffers)."""

    def __init__(self, observer=MovingAverageMinMaxObserver, quant_min=None, quant_max=None, is_dynamic=False,
                 **observer_kwargs):
        super().__init__()
        if quant_min is not None and quant_max is not None:
            if quant_min > quant_max:
                raise AssertionError("quant_min must be less than or equal to quant_max")
            dtype = observer_kwargs.get("dtype", ember.quint8)
            dtype = getattr(getattr(observer, "p", None), "keywords", {}).get("dtype", dtype)
            low, high = _integer_range(dtype)
            if low > quant_min:
                raise AssertionError("quant_min out of bound")
            if quant_max > high:
                raise AssertionError("quant_max out of bound")
            observer_kwargs.update(quant_min=quant_min, quant_max=quant_max)
        observer_kwargs["is_dynamic"] = is_dynamic
        self.activation_post_process = observer(**observer_kwargs)
        self.quant_min = self.activation_post_process.quant_min
        self.quant_max = self.activation_post_process.quant_max
        self.is_dynamic = self.activation_post_process.is_dynamic
        float_qparams = self.activation_post_process.qscheme is ember.per_channel_affine_float_qparams
        self.register_buffer("scale", ember.tensor([1.0], dtype=ember.float32))
        self.register_buffer("zero_point", ember.tensor([0], dtype=ember.float32 if float_qparams else ember.int32))
        self.dtype = self.activation_post_process.dtype
        self.qscheme = self.activation_post_process.qscheme
        self.ch_axis = getattr(self.activation_post_process, "ch_axis", -1)
        if not (is_per_channel(self.qscheme) or is_per_tensor(self.qscheme)):
            raise AssertionError("Only per channel and per tensor quantization are supported in fake quantize got "
                                 f"qscheme: {self.qscheme}")
        self.is_per_channel = is_per_channel(self.qscheme)

    def calculate_qparams(self):
        """The observer's (scale, zero_point)."""
        return self.activation_post_process.calculate_qparams()

    def forward(self, X):
        """Observes ``X`` (when enabled), then fake-quantizes it (when enabled)."""
        if self.observer_enabled[0] == 1:
            self.activation_post_process(X.detach())
            scale, zero_point = self.calculate_qparams()
            if self.scale.shape != scale.shape:
                self.scale.resize_(scale.shape)
                self.zero_point.resize_(zero_point.shape)
            self.scale.copy_(scale)
            self.zero_point.copy_(zero_point)
        if self.fake_quant_enabled[0] == 1:
            observer = self.activation_post_process
            if self.is_per_channel:
                X = ember.fake_quantize_per_channel_affine(X, self.scale, self.zero_point, self.ch_axis,
                                                           observer.quant_min, observer.quant_max)
            else:
                X = ember.fake_quantize_per_tensor_affine(X, self.scale, self.zero_point, observer.quant_min,
                                                          observer.quant_max)
        return X

    def extra_repr(self):
        return (f"fake_quant_enabled={self.fake_quant_enabled}, observer_enabled={self.observer_enabled}, "
                f"quant_min={self.activation_post_process.quant_min}, "
                f"quant_max={self.activation_post_process.quant_max}, dtype={self.dtype}, qscheme={self.qscheme}, "
                f"ch_axis={self.ch_axis}, scale={self.scale}, zero_point={self.zero_point}")

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        for name in ("scale", "zero_point"):   # the buffers take the saved number of channels
            if prefix + name in state_dict:
                getattr(self, name).resize_(state_dict[prefix + name].shape)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)


class FusedMovingAvgObsFakeQuantize(FakeQuantize):
    """FakeQuantize as PyTorch's fused ``fused_moving_avg_obs_fake_quant`` op computes it (the default of
    ``get_default_qat_qconfig``): the observer's moving-average min/max are updated in place (the first batch sets
    them), the scale and zero point come from them by ``ChooseQuantizationParams`` (symmetric schemes keep the
    range symmetric and the zero point in the middle), then the input is fake-quantized."""

    def __init__(self, observer=MovingAverageMinMaxObserver, quant_min=0, quant_max=255, **observer_kwargs):
        super().__init__(observer, quant_min, quant_max, **observer_kwargs)
        if not isinstance(self.activation_post_process,
                          (MovingAverageMinMaxObserver, MovingAveragePerChannelMinMaxObserver)):
            raise AssertionError("Fused observer+fake_quant module only works with MovingAverageMinMaxObserver")
        self.register_buffer("fake_quant_enabled", ember.tensor([1], dtype=ember.long))
        self.register_buffer("observer_enabled", ember.tensor([1], dtype=ember.long))
        self.is_symmetric_quant = self.activation_post_process.qscheme in (ember.per_tensor_symmetric,
                                                                           ember.per_channel_symmetric)

    def calculate_qparams(self):
        """The observer's (scale, zero_point) (``convert`` quantizes with these)."""
        return self.activation_post_process.calculate_qparams()

    def extra_repr(self):
        observer = self.activation_post_process
        return (f"fake_quant_enabled={self.fake_quant_enabled}, observer_enabled={self.observer_enabled}, "
                f"scale={self.scale}, zero_point={self.zero_point}, dtype={self.dtype}, "
                f"quant_min={observer.quant_min}, quant_max={observer.quant_max}, qscheme={self.qscheme}, "
                f"reduce_range={observer.reduce_range}")

    def forward(self, X):
        """Updates the running range (when observing), then fake-quantizes with the qparams it gives (when
        enabled; otherwise returns a copy and leaves ``scale``/``zero_point`` as they were)."""
        from .._choose_qparams import choose_qparams
        observer = self.activation_post_process
        data = X.detach()
        if self.is_per_channel:
            rows = data.movedim(self.ch_axis, 0).flatten(1) if data.dim() != 2 else data
            if observer.min_val.numel() == 0:
                channels = data.shape[self.ch_axis]
                observer.min_val.resize_(channels).fill_(float("inf"))
                observer.max_val.resize_(channels).fill_(float("-inf"))
                self.scale.resize_(channels)
                self.zero_point.resize_(channels)
            if self.observer_enabled[0] == 1:
                low, high = rows.amin(1), rows.amax(1)
                self._moving_average(observer, low, high)
        elif self.observer_enabled[0] == 1:
            self._moving_average(observer, data.min(), data.max())
        if self.fake_quant_enabled[0] != 1:
            return X.clone()
        lows = observer.min_val.reshape(-1).tolist()
        highs = observer.max_val.reshape(-1).tolist()
        qparams = [choose_qparams(lo, hi, observer.quant_min, observer.quant_max, False, self.is_symmetric_quant)
                   for lo, hi in zip(lows, highs)]
        self.scale.copy_(ember.tensor([s for s, _ in qparams], dtype=ember.float32).reshape(self.scale.shape))
        self.zero_point.copy_(ember.tensor([z for _, z in qparams], dtype=ember.int32).reshape(self.zero_point.shape))
        if self.is_per_channel:
            return ember.fake_quantize_per_channel_affine(X, self.scale, self.zero_point, self.ch_axis,
                                                          observer.quant_min, observer.quant_max)
        return ember.fake_quantize_per_tensor_affine(X, self.scale, self.zero_point, observer.quant_min,
                                                     observer.quant_max)

    @staticmethod
    def _moving_average(observer, low, high):
        """``running + c * (new - running)``, where the running value is not yet set (infinite) the new one."""
        c = observer.averaging_constant
        running_min, running_max = observer.min_val, observer.max_val
        observer.min_val.copy_(ember.where(running_min.isinf(), low, running_min + c * (low - running_min)))
        observer.max_val.copy_(ember.where(running_max.isinf(), high, running_max + c * (high - running_max)))


class FixedQParamsFakeQuantize(FakeQuantize):
    """FakeQuantize with the fixed qparams of a ``FixedQParamsObserver`` (its ``scale``/``zero_point`` buffers are
    the observer's): what ``prepare_qat`` gives Sigmoid, Hardsigmoid, Softmax and Tanh."""

    def __init__(self, observer):
        super().__init__(observer=observer)
        if type(self.activation_post_process) is not FixedQParamsObserver:
            raise AssertionError(f"{self.__class__.__name__}'s observer must be a {FixedQParamsObserver.__name__}")
        self._observer_ctr = observer
        self.scale = self.activation_post_process.scale
        self.zero_point = self.activation_post_process.zero_point
        if not is_per_tensor(self.qscheme):
            raise AssertionError("Only per tensor quantization is supported FixedQParamsFakeQuantize module, got "
                                 f"qscheme:{self.qscheme}")

    def calculate_qparams(self):
        """The fixed (scale, zero_point)."""
        return self.scale, self.zero_point

    def extra_repr(self):
        return (f"fake_quant_enabled={self.fake_quant_enabled}, observer_enabled={self.observer_enabled}, "
                f"scale={self.scale}, zero_point={self.zero_point}, dtype={self.dtype}, "
                f"quant_min={self.activation_post_process.quant_min}, "
                f"quant_max={self.activation_post_process.quant_max}, qscheme={self.qscheme}")


def _integer_range(dtype):
    return {"qint8": (-128, 127), "quint8": (0, 255), "qint32": (-2 ** 31, 2 ** 31 - 1), "quint4x2": (0, 15),
            "int8": (-128, 127), "uint8": (0, 255), "int16": (-2 ** 15, 2 ** 15 - 1), "uint16": (0, 2 ** 16 - 1),
            "int32": (-2 ** 31, 2 ** 31 - 1)}[dtype.name]


def disable_fake_quant(mod):
    """``mod.disable_fake_quant()`` for fake quantizers (use with ``model.apply``)."""
    if isinstance(mod, FakeQuantizeBase):
        mod.disable_fake_quant()


def enable_fake_quant(mod):
    """``mod.enable_fake_quant()`` for fake quantizers (use with ``model.apply``)."""
    if isinstance(mod, FakeQuantizeBase):
        mod.enable_fake_quant()


def disable_observer(mod):
    """``mod.disable_observer()`` for fake quantizers (use with ``model.apply``)."""
    if isinstance(mod, FakeQuantizeBase):
        mod.disable_observer()


def enable_observer(mod):
    """``mod.enable_observer()`` for fake quantizers (use with ``model.apply``)."""
    if isinstance(mod, FakeQuantizeBase):
        mod.enable_observer()


default_fake_quant = FakeQuantize.with_args(observer=MovingAverageMinMaxObserver, quant_min=0, quant_max=255,
                                            dtype=ember.quint8, qscheme=ember.per_tensor_affine, reduce_range=True)
default_weight_fake_quant = FakeQuantize.with_args(observer=MovingAverageMinMaxObserver, quant_min=-128,
                                                   quant_max=127, dtype=ember.qint8,
                                                   qscheme=ember.per_tensor_symmetric, reduce_range=False)
default_dynamic_fake_quant = FakeQuantize.with_args(observer=MovingAverageMinMaxObserver, quant_min=0, quant_max=255,
                                                    is_dynamic=True, dtype=ember.quint8, averaging_constant=1)
default_per_channel_weight_fake_quant = FakeQuantize.with_args(
    observer=MovingAveragePerChannelMinMaxObserver, quant_min=-128, quant_max=127, dtype=ember.qint8,
    qscheme=ember.per_channel_symmetric, reduce_range=False, ch_axis=0)
default_embedding_fake_quant = FakeQuantize.with_args(
    observer=MovingAveragePerChannelMinMaxObserver, qscheme=ember.per_channel_affine_float_qparams, dtype=ember.quint8,
    quant_min=0, quant_max=255, ch_axis=0, averaging_constant=1)
default_embedding_fake_quant_4bit = FakeQuantize.with_args(
    observer=MovingAveragePerChannelMinMaxObserver, qscheme=ember.per_channel_affine_float_qparams, ch_axis=0,
    dtype=ember.quint4x2, averaging_constant=1)
default_fused_act_fake_quant = FusedMovingAvgObsFakeQuantize.with_args(
    observer=MovingAverageMinMaxObserver, quant_min=0, quant_max=255, dtype=ember.quint8)
default_fused_wt_fake_quant = FusedMovingAvgObsFakeQuantize.with_args(
    observer=MovingAverageMinMaxObserver, quant_min=-128, quant_max=127, dtype=ember.qint8,
    qscheme=ember.per_tensor_symmetric)
default_fused_per_channel_wt_fake_quant = FusedMovingAvgObsFakeQuantize.with_args(
    observer=MovingAveragePerChannelMinMaxObserver, quant_min=-128, quant_max=127, dtype=ember.qint8,
    qscheme=ember.per_channel_symmetric)
fused_wt_fake_quant_range_neg_127_to_127 = FusedMovingAvgObsFakeQuantize.with_args(
    observer=MovingAverageMinMaxObserver, quant_min=-127, quant_max=127, dtype=ember.qint8,
    qscheme=ember.per_tensor_symmetric, eps=2 ** -12)
fused_per_channel_wt_fake_quant_range_neg_127_to_127 = FusedMovingAvgObsFakeQuantize.with_args(
    observer=MovingAveragePerChannelMinMaxObserver, quant_min=-127, quant_max=127, dtype=ember.qint8,
    qscheme=ember.per_channel_symmetric, eps=2 ** -12)
default_fixed_qparams_range_0to1_fake_quant = FixedQParamsFakeQuantize.with_args(
    observer=default_fixed_qparams_range_0to1_observer)
default_fixed_qparams_range_neg1to1_fake_quant = FixedQParamsFakeQuantize.with_args(
    observer=default_fixed_qparams_range_neg1to1_observer)
