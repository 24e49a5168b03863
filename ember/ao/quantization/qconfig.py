"""Quantization configurations (``torch.ao.quantization.qconfig``): which observer or fake quantizer watches a
module's activations and which its weight, given as constructors (classes or ``with_args`` partials)."""
from collections import namedtuple

import ember
from ember import nn

from .fake_quantize import (FakeQuantize, FusedMovingAvgObsFakeQuantize, default_dynamic_fake_quant,
                            default_embedding_fake_quant, default_embedding_fake_quant_4bit, default_fake_quant,
                            default_fused_per_channel_wt_fake_quant, default_fused_wt_fake_quant,
                            default_per_channel_weight_fake_quant, default_weight_fake_quant)
from .histogram_observer import HistogramObserver
from .observer import (MinMaxObserver, MovingAverageMinMaxObserver, NoopObserver, PlaceholderObserver,
                       default_dynamic_quant_observer, default_float_qparams_observer, default_observer,
                       default_per_channel_weight_observer, default_placeholder_observer, default_reuse_input_observer,
                       default_weight_observer)

__all__ = ["QConfig", "QConfigDynamic", "default_qconfig", "default_per_channel_qconfig", "default_dynamic_qconfig",
           "float16_dynamic_qconfig", "float16_static_qconfig", "per_channel_dynamic_qconfig",
           "float_qparams_weight_only_qconfig", "default_qat_qconfig", "default_dynamic_qat_qconfig",
           "default_weight_only_qconfig", "default_activation_only_qconfig", "get_default_qconfig",
           "get_default_qat_qconfig", "default_embedding_qat_qconfig", "default_embedding_qat_qconfig_4bit"]

_BACKENDS = ["fbgemm", "x86", "qnnpack", "onednn"]


class QConfig(namedtuple("QConfig", ["activation", "weight"])):
    """The observer constructors for a module's activations and weight (not instances: use ``with_args``)."""

    __slots__ = ()

    def __new__(cls, activation, weight):
        if isinstance(activation, nn.Module) or isinstance(weight, nn.Module):
            raise ValueError("QConfig received observer instance, please pass observer class instead. Use "
                             "MyObserver.with_args(x=1) to override arguments to constructor if needed")
        return super().__new__(cls, activation, weight)


QConfigDynamic = QConfig

default_qconfig = QConfig(activation=default_observer, weight=default_weight_observer)
default_per_channel_qconfig = QConfig(activation=default_observer, weight=default_per_channel_weight_observer)
default_dynamic_qconfig = QConfig(activation=default_dynamic_quant_observer, weight=default_weight_observer)
float16_dynamic_qconfig = QConfig(activation=PlaceholderObserver.with_args(dtype=ember.float16, is_dynamic=True),
                                  weight=PlaceholderObserver.with_args(dtype=ember.float16))
float16_static_qconfig = QConfig(activation=PlaceholderObserver.with_args(dtype=ember.float16),
                                 weight=PlaceholderObserver.with_args(dtype=ember.float16))
per_channel_dynamic_qconfig = QConfig(activation=default_dynamic_quant_observer,
                                      weight=default_per_channel_weight_observer)
float_qparams_weight_only_qconfig = QConfig(activation=default_placeholder_observer,
                                            weight=default_float_qparams_observer)
default_qat_qconfig = QConfig(activation=default_fake_quant, weight=default_weight_fake_quant)
default_dynamic_qat_qconfig = QConfig(activation=default_dynamic_fake_quant, weight=default_weight_fake_quant)
default_weight_only_qconfig = QConfig(activation=nn.Identity, weight=default_weight_fake_quant)
default_activation_only_qconfig = QConfig(activation=default_fake_quant, weight=nn.Identity)
default_reuse_input_qconfig = QConfig(activation=default_reuse_input_observer, weight=NoopObserver)
default_quint8_weight_qconfig = QConfig(activation=HistogramObserver, weight=MinMaxObserver)
default_embedding_qat_qconfig = QConfig(activation=NoopObserver.with_args(dtype=ember.float32),
                                        weight=default_embedding_fake_quant)
default_embedding_qat_qconfig_4bit = QConfig(activation=NoopObserver.with_args(dtype=ember.float32),
                                             weight=default_embedding_fake_quant_4bit)
_default_fp32_placeholder_qconfig = QConfig(activation=PlaceholderObserver.with_args(dtype=ember.float32),
                                            weight=PlaceholderObserver.with_args(dtype=ember.float32))
_default_quint8_placeholder_qconfig = QConfig(activation=PlaceholderObserver.with_args(dtype=ember.quint8),
                                              weight=None)


def _check_backend(backend, version, name):
    if backend not in _BACKENDS:
        raise AssertionError(f"backend: {backend} not supported. backend must be one of {_BACKENDS}")
    if version != 0:
        raise AssertionError(f"Version number: {version} in {name} is not supported. Version number must be 0")


def get_default_qconfig(backend="x86", version=0):
    """The default post-training qconfig of ``backend`` ("x86", "fbgemm", "qnnpack", "onednn"): histogram
    activations (range reduced for x86/fbgemm) and per-channel symmetric weights (per-tensor for qnnpack)."""
    _check_backend(backend, version, "get_default_qconfig")
    if backend == "qnnpack":
        return QConfig(activation=HistogramObserver.with_args(reduce_range=False), weight=default_weight_observer)
    return QConfig(activation=HistogramObserver.with_args(reduce_range=backend in ("x86", "fbgemm")),
                   weight=default_per_channel_weight_observer)


def get_default_qat_qconfig(backend="x86", version=1):
    """The default quantization-aware-training qconfig of ``backend``: moving-average fake quantizers, fused ones
    (``FusedMovingAvgObsFakeQuantize``) for version 1, the default; per-channel weights except for qnnpack."""
    _check_backend(backend, 0, "get_default_qat_qconfig")
    if version not in (0, 1):
        raise AssertionError(f"Version number: {version} in get_default_qat_qconfig is not supported. Version number "
                             "must be 0 or 1")
    fake_quant = FakeQuantize if version == 0 else FusedMovingAvgObsFakeQuantize
    if backend == "onednn":
        activation = fake_quant.with_args(observer=MovingAverageMinMaxObserver, quant_min=0, quant_max=255)
    else:
        activation = fake_quant.with_args(observer=MovingAverageMinMaxObserver, quant_min=0, quant_max=255,
                                          reduce_range=backend != "qnnpack")
    if version == 0:
        weight = default_weight_fake_quant if backend == "qnnpack" else default_per_channel_weight_fake_quant
    else:
        weight = default_fused_wt_fake_quant if backend == "qnnpack" else default_fused_per_channel_wt_fake_quant
    return QConfig(activation=activation, weight=weight)
