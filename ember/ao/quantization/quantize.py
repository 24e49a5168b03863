"""Eager-mode quantization workflows (``torch.ao.quantization.quantize``): post-training static quantization
(``prepare`` inserts observers, calibration runs, ``convert`` swaps in quantized modules; ``quantize`` does all
three), quantization-aware training (``prepare_qat``, ``quantize_qat``) and ``quantize_dynamic``."""
import copy
import inspect
import itertools
import warnings

import ember
from ember import nn

from ..nn import quantized as nnq
from ..nn.intrinsic import _FusedModule
from .qconfig import default_dynamic_qconfig, float16_dynamic_qconfig, float_qparams_weight_only_qconfig
from .quantization_mappings import (_get_special_act_post_process, _has_special_act_post_process,
                                    get_default_dynamic_quant_module_mappings, get_default_qat_module_mappings,
                                    get_default_qconfig_propagation_list, get_default_static_quant_module_mappings,
                                    no_observer_set)
from .stubs import DeQuantStub, QuantWrapper

__all__ = ["quantize_dynamic", "propagate_qconfig_", "convert", "swap_module", "prepare", "prepare_qat", "quantize",
           "quantize_qat", "add_quant_dequant", "get_default_custom_config_dict"]

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


def _observer_forward_hook(self, input, output):
    """Forward hook that calls the observer on the output."""
    return self.activation_post_process(output)


def _observer_forward_pre_hook(self, input):
    """Forward pre-hook that calls the observer on the input."""
    return self.activation_post_process(input[0])


def _activation_is_memoryless(qconfig):
    act = qconfig.activation()
    act = getattr(act, "activation_post_process", act)
    return getattr(act, "averaging_constant", None) == 1


def _register_activation_post_process_hook(module, pre_hook=False):
    if not hasattr(module, "activation_post_process"):
        raise AssertionError("Expect activation_post_process attribute already attached to the module")
    if pre_hook:
        module.register_forward_pre_hook(_observer_forward_pre_hook, prepend=True)
    else:
        module.register_forward_hook(_observer_forward_hook, prepend=True)


def _add_observer_(module, qconfig_propagation_list=None, non_leaf_module_list=None, device=None,
                   custom_module_class_mapping=None):
    """Gives each leaf submodule with a qconfig (and each fused or listed non-leaf one) an
    ``activation_post_process`` observer called by a forward hook on its output; FloatFunctionals get theirs in
    place of their Identity."""
    if qconfig_propagation_list is None:
        qconfig_propagation_list = get_default_qconfig_propagation_list()
    custom_module_class_mapping = custom_module_class_mapping or {}

    def needs_observation(m):
        return getattr(m, "qconfig", None) is not None

    def insert_activation_post_process(m, special_act_post_process=None):
        if needs_observation(m) and not isinstance(m, DeQuantStub):
            m.add_module("activation_post_process", m.qconfig.activation() if special_act_post_process is None
                         else special_act_post_process())
            _register_activation_post_process_hook(m, pre_hook=_activation_is_memoryless(m.qconfig))

    for name, child in module.named_children():
        if type(child) is nn.Dropout:
            continue
        if issubclass(type(child), (nnq.FloatFunctional, nnq.QFunctional)):
            if needs_observation(child):
                if not hasattr(child, "activation_post_process"):
                    raise AssertionError(f"functional class {type(child)} has no pre-defined "
                                         "`activation_post_process`")
                child.activation_post_process = child.qconfig.activation()
        elif isinstance(child, _FusedModule):
            if needs_observation(child):
                insert_activation_post_process(child)
        elif non_leaf_module_list is not None and type(child) in non_leaf_module_list:
            if needs_observation(child):
                insert_activation_post_process(child)
        elif _has_special_act_post_process(child):
            insert_activation_post_process(child, _get_special_act_post_process(child))
        elif needs_observation(child) and type(child) in custom_module_class_mapping:
            observed_class = custom_module_class_mapping[type(child)]
            observed_child = observed_class.from_float(child)
            setattr(module, name, observed_child)
            if not issubclass(observed_class, tuple(no_observer_set())):
                insert_activation_post_process(observed_child)
        else:
            _add_observer_(child, qconfig_propagation_list, non_leaf_module_list, device,
                           custom_module_class_mapping)
    if not module._modules and not isinstance(module, nn.Sequential) \
            and type(module) in qconfig_propagation_list:
        insert_activation_post_process(module)
    if hasattr(module, "weight_fake_quant") and not isinstance(module, nn.Sequential) \
            and type(module) in qconfig_propagation_list:
        insert_activation_post_process(module)


def get_default_custom_config_dict():
    """The default custom-module configuration (an LSTM observed and quantized through ``nn.quantizable``, which
    ember does not have: empty mappings)."""
    return {"float_to_observed_custom_module_class": {}, "observed_to_quantized_custom_module_class": {}}


def add_quant_dequant(module):
    """Wraps each leaf submodule with a qconfig in a ``QuantWrapper`` (the module itself, if it is such a leaf)."""
    if not module._modules and getattr(module, "qconfig", None):
        return QuantWrapper(module)
    for name, child in module.named_children():
        module._modules[name] = add_quant_dequant(child)
    return module


def prepare(model, inplace=False, allow_list=None, observer_non_leaf_module_list=None,
            prepare_custom_config_dict=None):
    """A copy of ``model`` (``model`` itself with ``inplace``) with qconfigs propagated and observers attached
    (``activation_post_process`` submodules run by forward hooks), ready for calibration."""
    warnings.warn(DEPRECATION_WARNING, DeprecationWarning, stacklevel=2)
    return _prepare(model, inplace, allow_list, observer_non_leaf_module_list, prepare_custom_config_dict)


def _prepare(model, inplace=False, allow_list=None, observer_non_leaf_module_list=None,
             prepare_custom_config_dict=None):
    if prepare_custom_config_dict is None:
        prepare_custom_config_dict = get_default_custom_config_dict()
    custom_module_class_mapping = prepare_custom_config_dict.get("float_to_observed_custom_module_class", {})
    if not inplace:
        model = copy.deepcopy(model)
    qconfig_propagation_list = get_default_qconfig_propagation_list() if allow_list is None else allow_list
    propagate_qconfig_(model, qconfig_dict=None)
    if not any(getattr(m, "qconfig", None) for m in model.modules()):
        warnings.warn("None of the submodule got qconfig applied. Make sure you passed correct configuration through "
                      "`qconfig_dict` or by assigning the `.qconfig` attribute directly on submodules", stacklevel=3)
    _add_observer_(model, qconfig_propagation_list, observer_non_leaf_module_list,
                   custom_module_class_mapping=custom_module_class_mapping)
    return model


def _remove_activation_post_process(module):
    from .fake_quantize import FakeQuantizeBase
    from .observer import ObserverBase
    if isinstance(getattr(module, "activation_post_process", None), (ObserverBase, FakeQuantizeBase)):
        delattr(module, "activation_post_process")
    for hooks, observer_hook in ((module._forward_pre_hooks, _observer_forward_pre_hook),
                                 (module._forward_hooks, _observer_forward_hook)):
        for handle_id in [i for i, fn in hooks.items() if fn is observer_hook]:
            hooks.pop(handle_id)


def _remove_qconfig(module):
    for child in module.children():
        _remove_qconfig(child)
    if hasattr(module, "qconfig"):
        del module.qconfig
    _remove_activation_post_process(module)


def quantize(model, run_fn, run_args, mapping=None, inplace=False):
    """Post-training static quantization: ``prepare`` (in eval mode), ``run_fn(model, *run_args)`` to calibrate,
    ``convert``."""
    warnings.warn(DEPRECATION_WARNING, DeprecationWarning, stacklevel=2)
    mapping = get_default_static_quant_module_mappings() if mapping is None else mapping
    if not inplace:
        model = copy.deepcopy(model)
    model.eval()
    _prepare(model, inplace=True)
    run_fn(model, *run_args)
    _convert_model(model, mapping, inplace=True)
    return model


def prepare_qat(model, mapping=None, inplace=False):
    """A copy of training-mode ``model`` with its convs/linears (and fused sequences) swapped for their QAT
    versions (fake-quantized weights) and fake quantizers on activations."""
    warnings.warn(DEPRECATION_WARNING, DeprecationWarning, stacklevel=2)
    if not model.training:
        raise AssertionError("prepare_qat only works on models in training mode")
    mapping = get_default_qat_module_mappings() if mapping is None else mapping
    if not inplace:
        model = copy.deepcopy(model)
    propagate_qconfig_(model, qconfig_dict=None)
    _convert_model(model, mapping=mapping, inplace=True, remove_qconfig=False)
    _prepare(model, observer_non_leaf_module_list=set(mapping.values()), inplace=True)
    return model


def quantize_qat(model, run_fn, run_args, inplace=False):
    """Quantization-aware training: ``prepare_qat`` (in train mode), ``run_fn(model, *run_args)`` to train,
    ``convert``."""
    warnings.warn(DEPRECATION_WARNING, DeprecationWarning, stacklevel=2)
    if not inplace:
        model = copy.deepcopy(model)
    model.train()
    prepare_qat(model, inplace=True)
    run_fn(model, *run_args)
    _convert_model(model, inplace=True)
    return model


def swap_module(mod, mapping, custom_module_class_mapping=None, use_precomputed_fake_quant=False):
    """``mod``'s quantized counterpart from ``mapping`` when it has a qconfig (its forward hooks carried over, the
    observer's left behind), else ``mod``."""
    custom = custom_module_class_mapping or {}
    if getattr(mod, "qconfig", None) is None:
        return mod
    if type(mod) in custom:
        new_mod = custom[type(mod)].from_observed(mod)
    elif type(mod) in mapping:
        qmod = mapping[type(mod)]
        if "use_precomputed_fake_quant" in inspect.signature(qmod.from_float).parameters:
            new_mod = qmod.from_float(mod, use_precomputed_fake_quant=use_precomputed_fake_quant)
        else:
            new_mod = qmod.from_float(mod)
    else:
        return mod
    for hook in mod._forward_pre_hooks.values():
        new_mod.register_forward_pre_hook(hook)
    for hook in mod._forward_hooks.values():
        if hook is not _observer_forward_hook:
            new_mod.register_forward_hook(hook)
    return new_mod


def _convert(module, mapping, custom_module_class_mapping, use_precomputed_fake_quant=False):
    swapped = {}
    for name, child in module.named_children():
        if not isinstance(child, _FusedModule) and type(child) not in custom_module_class_mapping:
            _convert(child, mapping, custom_module_class_mapping, use_precomputed_fake_quant)
        swapped[name] = swap_module(child, mapping, custom_module_class_mapping, use_precomputed_fake_quant)
    for name, child in swapped.items():
        module._modules[name] = child
    return module


def convert(module, mapping=None, inplace=False, remove_qconfig=True, is_reference=False,
            convert_custom_config_dict=None, use_precomputed_fake_quant=False):
    """Swaps each submodule that has a qconfig for its counterpart in ``mapping`` (``from_float``: observed float
    modules become quantized ones), then drops the qconfigs and observers."""
    warnings.warn(DEPRECATION_WARNING, DeprecationWarning, stacklevel=2)
    return _convert_model(module, mapping, inplace, remove_qconfig, convert_custom_config_dict,
                          use_precomputed_fake_quant)


def _convert_model(module, mapping=None, inplace=False, remove_qconfig=True, convert_custom_config_dict=None,
                   use_precomputed_fake_quant=False):
    if not inplace:
        module = copy.deepcopy(module)
    mapping = get_default_static_quant_module_mappings() if mapping is None else mapping
    custom = (convert_custom_config_dict or {}).get("observed_to_quantized_custom_module_class", {})
    _convert(module, mapping, custom, use_precomputed_fake_quant)
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
