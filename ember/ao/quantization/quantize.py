"""Eager-mode quantization workflows (``torch.ao.quantization.quantize``): ``quantize_dynamic``, and the qconfig
propagation and module swapping (``propagate_qconfig_``, ``convert``, ``swap_module``) it is made of."""
import copy
import itertools
import warnings

import ember
from ember import nn

from .qconfig import default_dynamic_qconfig, float16_dynamic_qconfig, float_qparams_weight_only_qconfig
from .quantization_mappings import get_default_dynamic_quant_module_mappings, get_default_static_quant_module_mappings

__all__ = ["quantize_dynamic", "propagate_qconfig_", "convert", "swap_module"]

DEPRECATION_WARNING = (
    "torch.ao.quantization is deprecated and will be removed in 2.10. \nFor migrations of users: \n1. Eager mode "
    "quantization (torch.ao.quantization.quantize, torch.ao.quantization.quantize_dynamic), please migrate to use "
    "torchao eager mode quantize_ API instead \n2. FX graph mode quantization (torch.ao.quantization.quantize_fx."
    "prepare_fx,torch.ao.quantization.quantize_fx.convert_fx, please migrate to use torchao pt2e quantization API "
    "instead (prepare_pt2e, convert_pt2e) \n3. pt2e quantization has been migrated to torchao "
    "(https://github.com/pytorch/ao/tree/main/torchao/quantization/pt2e) \nsee "
    "https://github.com/pytorch/ao/issues/2259 for more details")


def _propagate_qconfig_helper(module, qconfig_dict, qconfig_parent=None, prefix=""):
    qconfig = qconfig_dict.get(type(module), qconfig_parent)
    qconfig = qconfig_dict.get(prefix, qconfig)
    module.qconfig = getattr(module, "qconfig", qconfig)
    for name, child in module.named_children():
        _propagate_qconfig_helper(child, qconfig_dict, module.qconfig, f"{prefix}.{name}" if prefix else name)


def propagate_qconfig_(module, qconfig_dict=None, prepare_custom_config_dict=None):
    """Sets ``qconfig`` on every submodule: its own, else the one ``qconfig_dict`` gives its name or type, else
    its parent's."""
    _propagate_qconfig_helper(module, qconfig_dict or {})


def _remove_qconfig(module):
    for child in module.children():
        _remove_qconfig(child)
    if hasattr(module, "qconfig"):
        del module.qconfig


def swap_module(mod, mapping, custom_module_class_mapping=None, use_precomputed_fake_quant=False):
    """``mod``'s quantized counterpart from ``mapping`` when it has a qconfig (its forward hooks carried over),
    else ``mod``."""
    custom = custom_module_class_mapping or {}
    if getattr(mod, "qconfig", None) is None:
        return mod
    if type(mod) in custom:
        new_mod = custom[type(mod)].from_observed(mod)
    elif type(mod) in mapping:
        new_mod = mapping[type(mod)].from_float(mod)
    else:
        return mod
    for hook in mod._forward_pre_hooks.values():
        new_mod.register_forward_pre_hook(hook)
    for hook in mod._forward_hooks.values():
        new_mod.register_forward_hook(hook)
    return new_mod


def _convert(module, mapping, custom_module_class_mapping):
    swapped = {}
    for name, child in module.named_children():
        if type(child) not in custom_module_class_mapping:
            _convert(child, mapping, custom_module_class_mapping)
        swapped[name] = swap_module(child, mapping, custom_module_class_mapping)
    for name, child in swapped.items():
        module._modules[name] = child
    return module


def convert(module, mapping=None, inplace=False, remove_qconfig=True, is_reference=False,
            convert_custom_config_dict=None, use_precomputed_fake_quant=False):
    """Swaps each submodule that has a qconfig for its counterpart in ``mapping`` (``from_float``)."""
    warnings.warn(DEPRECATION_WARNING, DeprecationWarning, stacklevel=2)
    if not inplace:
        module = copy.deepcopy(module)
    mapping = get_default_static_quant_module_mappings() if mapping is None else mapping
    custom = (convert_custom_config_dict or {}).get("observed_to_quantized_custom_module_class", {})
    _convert(module, mapping, custom)
    if remove_qconfig:
        _remove_qconfig(module)
    return module


def _default_qconfig_spec(dtype):
    if dtype is ember.qint8:
        return {nn.Linear: default_dynamic_qconfig, nn.LSTM: default_dynamic_qconfig, nn.GRU: default_dynamic_qconfig,
                nn.LSTMCell: default_dynamic_qconfig, nn.RNNCell: default_dynamic_qconfig,
                nn.GRUCell: default_dynamic_qconfig}
    if dtype is ember.float16:
        return {nn.Linear: float16_dynamic_qconfig, nn.LSTM: float16_dynamic_qconfig, nn.GRU: float16_dynamic_qconfig,
                nn.LSTMCell: float16_dynamic_qconfig, nn.RNNCell: float16_dynamic_qconfig,
                nn.GRUCell: float16_dynamic_qconfig}
    if dtype in (ember.quint8, ember.quint4x2):
        return {nn.EmbeddingBag: float_qparams_weight_only_qconfig, nn.Embedding: float_qparams_weight_only_qconfig}
    raise ValueError(f"Don't know how to quantize with default settings for {dtype}. Provide full qconfig please")


def quantize_dynamic(model, qconfig_spec=None, dtype=ember.qint8, mapping=None, inplace=False):
    """A copy of ``model`` (``model`` itself with ``inplace``) in eval mode with the layers ``qconfig_spec`` names
    (a set of types, or a dict of type or submodule name -> qconfig; by default Linear, LSTM and GRU) swapped for
    their dynamically quantized versions (``nn.quantized.dynamic.Linear``, ``LSTM``, ``GRU``, the cells; with
    ``dtype=quint8``, ``nn.quantized.Embedding``/``EmbeddingBag``)."""
    warnings.warn(DEPRECATION_WARNING, DeprecationWarning, stacklevel=2)
    if qconfig_spec is None:
        qconfig_spec = _default_qconfig_spec(dtype)
    elif isinstance(qconfig_spec, set):
        qconfigs = {ember.qint8: default_dynamic_qconfig, ember.float16: float16_dynamic_qconfig,
                    ember.quint8: float_qparams_weight_only_qconfig}
        if dtype not in qconfigs:
            raise RuntimeError("Unknown dtype specified for quantize_dynamic: ", str(dtype))
        qconfig_spec = dict(zip(qconfig_spec, itertools.repeat(qconfigs[dtype])))
    mapping = get_default_dynamic_quant_module_mappings() if mapping is None else mapping
    if not inplace:
        model = copy.deepcopy(model)
    model.eval()
    propagate_qconfig_(model, qconfig_spec)
    _convert(model, mapping, {})
    _remove_qconfig(model)
    return model
