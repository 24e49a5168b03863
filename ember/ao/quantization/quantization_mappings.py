"""Which quantized module replaces which float module (``torch.ao.quantization.quantization_mappings``)."""
from ember import nn

from ..nn.quantized import DeQuantize, Embedding, EmbeddingBag, Quantize
from ..nn.quantized import dynamic as nnqd
from .stubs import DeQuantStub, QuantStub

__all__ = ["DEFAULT_DYNAMIC_QUANT_MODULE_MAPPINGS", "DEFAULT_STATIC_QUANT_MODULE_MAPPINGS",
           "get_default_dynamic_quant_module_mappings", "get_default_static_quant_module_mappings",
           "get_dynamic_quant_module_class", "get_default_qconfig_propagation_list"]

DEFAULT_DYNAMIC_QUANT_MODULE_MAPPINGS = {nn.Linear: nnqd.Linear,
                                         nn.modules.linear.NonDynamicallyQuantizableLinear: nnqd.Linear,
                                         nn.LSTM: nnqd.LSTM, nn.GRU: nnqd.GRU, nn.LSTMCell: nnqd.LSTMCell,
                                         nn.GRUCell: nnqd.GRUCell, nn.RNNCell: nnqd.RNNCell,
                                         nn.Embedding: Embedding, nn.EmbeddingBag: EmbeddingBag}
DEFAULT_STATIC_QUANT_MODULE_MAPPINGS = {QuantStub: Quantize, DeQuantStub: DeQuantize}


def get_default_dynamic_quant_module_mappings():
    """Float module type -> dynamically quantized module type."""
    return DEFAULT_DYNAMIC_QUANT_MODULE_MAPPINGS


def get_default_static_quant_module_mappings():
    """Float module type -> statically quantized module type (the stubs, in ember)."""
    return dict(DEFAULT_STATIC_QUANT_MODULE_MAPPINGS)


def get_dynamic_quant_module_class(float_module_class, additional_dynamic_quant_mapping=None):
    """The dynamically quantized class for ``float_module_class`` (AssertionError when there is none)."""
    mapping = {**DEFAULT_DYNAMIC_QUANT_MODULE_MAPPINGS, **(additional_dynamic_quant_mapping or {})}
    if float_module_class not in mapping:
        raise AssertionError(f"Floating point module class {float_module_class} does not have a corresponding "
                             "quantized module class")
    return mapping[float_module_class]


def get_default_qconfig_propagation_list():
    """The module types ``prepare`` attaches qconfigs to."""
    return set(DEFAULT_STATIC_QUANT_MODULE_MAPPINGS) | set(DEFAULT_DYNAMIC_QUANT_MODULE_MAPPINGS)
