"""Which quantized module replaces which float module (``torch.ao.quantization.quantization_mappings``): for static
quantization, dynamic quantization and quantization-aware training (float -> QAT module)."""
import copy

from ember import nn

from ..nn import intrinsic as nni
from ..nn import qat as nnqat
from ..nn import quantized as nnq
from ..nn.intrinsic import qat as nniqat
from ..nn.intrinsic import quantized as nniq
from ..nn.quantized import dynamic as nnqd
from .fake_quantize import (default_fixed_qparams_range_0to1_fake_quant,
                            default_fixed_qparams_range_neg1to1_fake_quant)
from .stubs import DeQuantStub, QuantStub

__all__ = ["DEFAULT_DYNAMIC_QUANT_MODULE_MAPPINGS", "DEFAULT_STATIC_QUANT_MODULE_MAPPINGS",
           "DEFAULT_QAT_MODULE_MAPPINGS", "get_default_dynamic_quant_module_mappings",
           "get_default_static_quant_module_mappings", "get_default_qat_module_mappings",
           "get_default_qconfig_propagation_list", "get_dynamic_quant_module_class", "get_static_quant_module_class",
           "get_quantized_operator", "no_observer_set", "get_embedding_qat_module_mappings",
           "get_embedding_static_quant_module_mappings"]

DEFAULT_STATIC_QUANT_MODULE_MAPPINGS = {
    QuantStub: nnq.Quantize, DeQuantStub: nnq.DeQuantize, nn.BatchNorm2d: nnq.BatchNorm2d,
    nn.BatchNorm3d: nnq.BatchNorm3d, nn.Dropout: nnq.Dropout, nn.Conv1d: nnq.Conv1d, nn.Conv2d: nnq.Conv2d,
    nn.Conv3d: nnq.Conv3d, nn.ELU: nnq.ELU, nn.Embedding: nnq.Embedding, nn.EmbeddingBag: nnq.EmbeddingBag,
    nn.Hardswish: nnq.Hardswish, nn.LeakyReLU: nnq.LeakyReLU, nn.LayerNorm: nnq.LayerNorm, nn.GroupNorm: nnq.GroupNorm,
    nn.InstanceNorm1d: nnq.InstanceNorm1d, nn.InstanceNorm2d: nnq.InstanceNorm2d, nn.InstanceNorm3d: nnq.InstanceNorm3d,
    nn.modules.linear.NonDynamicallyQuantizableLinear: nnq.Linear, nn.Linear: nnq.Linear, nn.ReLU6: nnq.ReLU6,
    nnq.FloatFunctional: nnq.QFunctional,
    nni.BNReLU2d: nniq.BNReLU2d, nni.BNReLU3d: nniq.BNReLU3d, nni.ConvReLU1d: nniq.ConvReLU1d,
    nni.ConvReLU2d: nniq.ConvReLU2d, nni.ConvReLU3d: nniq.ConvReLU3d, nni.LinearReLU: nniq.LinearReLU,
    nniqat.ConvBn1d: nnq.Conv1d, nniqat.ConvBn2d: nnq.Conv2d, nniqat.ConvBn3d: nnq.Conv3d,
    nniqat.ConvBnReLU1d: nniq.ConvReLU1d, nniqat.ConvBnReLU2d: nniq.ConvReLU2d,
    nniqat.ConvBnReLU3d: nniq.ConvReLU3d, nniqat.ConvReLU2d: nniq.ConvReLU2d, nniqat.ConvReLU3d: nniq.ConvReLU3d,
    nniqat.LinearReLU: nniq.LinearReLU, nniqat.LinearBn1d: nnq.Linear,
    nnqat.Linear: nnq.Linear, nnqat.Conv2d: nnq.Conv2d, nnqat.Conv3d: nnq.Conv3d,
}

DEFAULT_QAT_MODULE_MAPPINGS = {
    nn.Conv2d: nnqat.Conv2d, nn.Conv3d: nnqat.Conv3d, nn.Linear: nnqat.Linear,
    nn.modules.linear.NonDynamicallyQuantizableLinear: nnqat.Linear,
    nni.ConvBn1d: nniqat.ConvBn1d, nni.ConvBn2d: nniqat.ConvBn2d, nni.ConvBn3d: nniqat.ConvBn3d,
    nni.ConvBnReLU1d: nniqat.ConvBnReLU1d, nni.ConvBnReLU2d: nniqat.ConvBnReLU2d,
    nni.ConvBnReLU3d: nniqat.ConvBnReLU3d, nni.ConvReLU2d: nniqat.ConvReLU2d, nni.ConvReLU3d: nniqat.ConvReLU3d,
    nni.LinearReLU: nniqat.LinearReLU, nni.LinearBn1d: nniqat.LinearBn1d,
}

DEFAULT_DYNAMIC_QUANT_MODULE_MAPPINGS = {nn.Linear: nnqd.Linear,
                                         nn.modules.linear.NonDynamicallyQuantizableLinear: nnqd.Linear,
                                         nn.LSTM: nnqd.LSTM, nn.GRU: nnqd.GRU, nn.LSTMCell: nnqd.LSTMCell,
                                         nn.GRUCell: nnqd.GRUCell, nn.RNNCell: nnqd.RNNCell,
                                         nn.Embedding: nnq.Embedding, nn.EmbeddingBag: nnq.EmbeddingBag}

_INCLUDE_QCONFIG_PROPAGATE_LIST = {nn.Sequential}

# the fake quantizers with fixed qparams prepare_qat gives these activations (their output range is known)
DEFAULT_MODULE_TO_ACT_POST_PROCESS = {nn.Hardsigmoid: default_fixed_qparams_range_0to1_fake_quant,
                                      nn.Sigmoid: default_fixed_qparams_range_0to1_fake_quant,
                                      nn.Softmax: default_fixed_qparams_range_0to1_fake_quant,
                                      nn.Tanh: default_fixed_qparams_range_neg1to1_fake_quant}

DEFAULT_FLOAT_TO_QUANTIZED_OPERATOR_MAPPINGS = {nn.functional.elu: nnq.functional.elu,
                                                nn.functional.hardswish: nnq.functional.hardswish,
                                                nn.functional.leaky_relu: nnq.functional.leaky_relu}


def _has_special_act_post_process(module):
    return module.training and type(module) in DEFAULT_MODULE_TO_ACT_POST_PROCESS


def _get_special_act_post_process(module):
    return DEFAULT_MODULE_TO_ACT_POST_PROCESS.get(type(module))


def no_observer_set():
    """The module types that get no observers by default (none in ember: it has no quantizable LSTM/MHA)."""
    return set()


def get_default_static_quant_module_mappings():
    """Float (or observed, or QAT) module type -> statically quantized module type."""
    return copy.deepcopy(DEFAULT_STATIC_QUANT_MODULE_MAPPINGS)


def get_static_quant_module_class(float_module_class, additional_static_quant_mapping=None, is_reference=False):
    """The statically quantized class for ``float_module_class`` (AssertionError when there is none)."""
    mapping = {**DEFAULT_STATIC_QUANT_MODULE_MAPPINGS, **(additional_static_quant_mapping or {})}
    if float_module_class not in mapping:
        raise AssertionError(f"Floating point module class {float_module_class} does not have a corresponding "
                             "quantized module class")
    return copy.deepcopy(mapping[float_module_class])


def get_default_qat_module_mappings():
    """Float (or fused) module type -> its quantization-aware-training counterpart."""
    return copy.deepcopy(DEFAULT_QAT_MODULE_MAPPINGS)


def get_embedding_qat_module_mappings():
    """The default QAT mappings plus the embeddings' (``nn.Embedding`` -> ``nn.qat.Embedding``, and the bag)."""
    mapping = copy.deepcopy(DEFAULT_QAT_MODULE_MAPPINGS)
    mapping[nn.EmbeddingBag] = nnqat.EmbeddingBag
    mapping[nn.Embedding] = nnqat.Embedding
    return mapping


def get_embedding_static_quant_module_mappings():
    """The default static mappings plus the QAT embeddings' (``nn.qat.Embedding`` -> ``nn.quantized.Embedding``)."""
    mapping = copy.deepcopy(DEFAULT_STATIC_QUANT_MODULE_MAPPINGS)
    mapping[nnqat.EmbeddingBag] = nnq.EmbeddingBag
    mapping[nnqat.Embedding] = nnq.Embedding
    return mapping


def get_default_dynamic_quant_module_mappings():
    """Float module type -> dynamically quantized module type."""
    return DEFAULT_DYNAMIC_QUANT_MODULE_MAPPINGS


def get_dynamic_quant_module_class(float_module_class, additional_dynamic_quant_mapping=None):
    """The dynamically quantized class for ``float_module_class`` (AssertionError when there is none)."""
    mapping = {**DEFAULT_DYNAMIC_QUANT_MODULE_MAPPINGS, **(additional_dynamic_quant_mapping or {})}
    if float_module_class not in mapping:
        raise AssertionError(f"Floating point module class {float_module_class} does not have a corresponding "
                             "quantized module class")
    return mapping[float_module_class]


def get_default_qconfig_propagation_list():
    """The module types ``prepare`` attaches qconfigs (and, at leaves, observers) to."""
    return (set(DEFAULT_STATIC_QUANT_MODULE_MAPPINGS) | set(DEFAULT_QAT_MODULE_MAPPINGS)
            | set(DEFAULT_DYNAMIC_QUANT_MODULE_MAPPINGS) | _INCLUDE_QCONFIG_PROPAGATE_LIST)


def get_quantized_operator(float_op):
    """The quantized functional op for a float one (AssertionError when there is none)."""
    quantized_op = DEFAULT_FLOAT_TO_QUANTIZED_OPERATOR_MAPPINGS.get(float_op)
    if quantized_op is None:
        raise AssertionError(f"Operator {float_op} does not have corresponding quantized op")
    return quantized_op
