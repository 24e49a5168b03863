"""FX graph mode quantization (``torch.ao.quantization.quantize_fx``): ``prepare_fx``/``prepare_qat_fx`` trace the
model, fuse its patterns and insert observers; ``convert_fx`` gives the quantized GraphModule (quantized modules
and ``torch.ops.quantized`` ops between ``quantize_per_tensor`` and ``dequantize``), ``convert_to_reference_fx``
the reference one (float ops between quantize/dequantize pairs); ``fuse_fx`` fuses only."""
import warnings

from ember.fx import GraphModule
from ember.fx.proxy import Scope, ScopeContextManager  # noqa: F401  (torch's quantize_fx has them)

from ..nn.quantized.modules.functional_modules import FloatFunctional, FXFloatFunctional
from .fx.custom_config import ConvertCustomConfig, FuseCustomConfig, PrepareCustomConfig
from .fx.tracer import QuantizationTracer
from .quantize import DEPRECATION_WARNING

__all__ = ["fuse_fx", "prepare_fx", "prepare_qat_fx", "convert_fx", "convert_to_reference_fx"]


def attach_preserved_attrs_to_model(model, preserved_attrs):
    """Sets the preserved attributes on ``model`` (keeping their own class where they are modules)."""
    for attr_name, attr in preserved_attrs.items():
        setattr(model, attr_name, attr)


def _check_is_graph_module(model):
    if not isinstance(model, GraphModule):
        raise ValueError("input model must be a GraphModule, Got type:" + str(type(model)) + " Please make sure "
                         "to follow the tutorials.")


def _swap_ff_with_fxff(model):
    """Swaps each ``FloatFunctional`` submodule for an ``FXFloatFunctional``."""
    modules_to_swap = [name for name, mod in model.named_children() if isinstance(mod, FloatFunctional)]
    for name, mod in model.named_children():
        if name not in modules_to_swap:
            _swap_ff_with_fxff(mod)
    for name in modules_to_swap:
        del model._modules[name]
        model._modules[name] = FXFloatFunctional()


def _fuse_fx(model, is_qat, fuse_custom_config=None, backend_config=None):
    from .fx.fuse import fuse
    _check_is_graph_module(model)
    return fuse(model, is_qat, fuse_custom_config, backend_config)


def _prepare_fx(model, qconfig_mapping, is_qat, example_inputs, prepare_custom_config=None,
                _equalization_config=None, backend_config=None, is_standalone_module=False):
    from .fx.prepare import prepare
    if prepare_custom_config is None:
        prepare_custom_config = PrepareCustomConfig()
    if isinstance(prepare_custom_config, dict):
        warnings.warn("Passing a prepare_custom_config_dict to prepare is deprecated and will not be supported in a "
                      "future version. Please pass in a PrepareCustomConfig instead.", FutureWarning, stacklevel=3)
        prepare_custom_config = PrepareCustomConfig.from_dict(prepare_custom_config)
    _swap_ff_with_fxff(model)
    skipped_names = list(prepare_custom_config.non_traceable_module_names)
    skipped_classes = list(prepare_custom_config.non_traceable_module_classes)
    if not is_standalone_module:   # standalone modules stay one call, prepared on their own
        skipped_names += list(prepare_custom_config.standalone_module_names)
        skipped_classes += list(prepare_custom_config.standalone_module_classes)
    for mapping in prepare_custom_config.float_to_observed_mapping.values():
        skipped_classes += list(mapping)
    preserved = {attr: getattr(model, attr) for attr in prepare_custom_config.preserved_attributes
                 if hasattr(model, attr)}
    tracer = QuantizationTracer(skipped_names, skipped_classes)
    graph_module = GraphModule(model, tracer.trace(model))
    for node in graph_module.graph.nodes:
        node.meta = getattr(node, "meta", None) or {}
    fuse_custom_config = FuseCustomConfig().set_preserved_attributes(prepare_custom_config.preserved_attributes)
    graph_module = _fuse_fx(graph_module, is_qat, fuse_custom_config, backend_config)
    prepared = prepare(graph_module, qconfig_mapping, is_qat, tracer.node_name_to_scope, example_inputs=example_inputs,
                       prepare_custom_config=prepare_custom_config, _equalization_config=_equalization_config,
                       backend_config=backend_config, is_standalone_module=is_standalone_module)
    attach_preserved_attrs_to_model(prepared, preserved)
    return prepared


def _prepare_standalone_module_fx(model, qconfig_mapping, is_qat, example_inputs, prepare_custom_config=None,
                                  backend_config=None):
    """Prepares a standalone module: its inputs and outputs listed in the custom config's quantized indexes are
    expected (and given) quantized, the others stay float; observers inside watch the rest."""
    return _prepare_fx(model, qconfig_mapping, is_qat, example_inputs, prepare_custom_config,
                       backend_config=backend_config, is_standalone_module=True)


def _convert_standalone_module_fx(graph_module, convert_custom_config=None):
    """Converts an observed standalone module (its quantized inputs and outputs kept quantized)."""
    return _convert_fx(graph_module, is_reference=False, convert_custom_config=convert_custom_config,
                       is_standalone_module=True)


def fuse_fx(model, fuse_custom_config=None, backend_config=None):
    """``model`` traced and its fusable patterns (conv-bn, conv-bn-relu, linear-relu, ...) fused, as a GraphModule
    (eval mode folds batch norms)."""
    if fuse_custom_config is None:
        fuse_custom_config = FuseCustomConfig()
    if isinstance(fuse_custom_config, dict):
        warnings.warn("Passing a fuse_custom_config_dict to fuse is deprecated and will not be supported in a future "
                      "version. Please pass in a FuseCustomConfig instead.", FutureWarning, stacklevel=2)
        fuse_custom_config = FuseCustomConfig.from_dict(fuse_custom_config)
    preserved = {attr: getattr(model, attr) for attr in fuse_custom_config.preserved_attributes
                 if hasattr(model, attr)}
    from ember.fx import symbolic_trace
    graph_module = symbolic_trace(model)
    graph_module = _fuse_fx(graph_module, False, fuse_custom_config, backend_config)
    attach_preserved_attrs_to_model(graph_module, preserved)
    return graph_module


def prepare_fx(model, qconfig_mapping, example_inputs, prepare_custom_config=None, _equalization_config=None,
               backend_config=None):
    """Prepares ``model`` (in eval mode) for post-training quantization: traced, fused, with observers where
    ``qconfig_mapping`` and the backend say; calibrate it by running data through, then ``convert_fx``."""
    warnings.warn(DEPRECATION_WARNING, DeprecationWarning, stacklevel=2)
    return _prepare_fx(model, qconfig_mapping, False, example_inputs, prepare_custom_config, _equalization_config,
                       backend_config)


def prepare_qat_fx(model, qconfig_mapping, example_inputs, prepare_custom_config=None, backend_config=None):
    """Prepares ``model`` (in train mode) for quantization-aware training: traced, fused, QAT modules swapped in,
    fake quantizers inserted; train it, then ``convert_fx``."""
    warnings.warn(DEPRECATION_WARNING, DeprecationWarning, stacklevel=2)
    return _prepare_fx(model, qconfig_mapping, True, example_inputs, prepare_custom_config,
                       backend_config=backend_config)


def _convert_fx(graph_module, is_reference, convert_custom_config=None, is_standalone_module=False,
                _remove_qconfig=True, qconfig_mapping=None, backend_config=None, is_decomposed=False,
                keep_original_weights=False):
    from .fx.convert import convert
    if convert_custom_config is None:
        convert_custom_config = ConvertCustomConfig()
    if isinstance(convert_custom_config, dict):
        warnings.warn("Passing a convert_custom_config_dict to convert is deprecated and will not be supported in a "
                      "future version. Please pass in a ConvertCustomConfig instead.", FutureWarning, stacklevel=3)
        convert_custom_config = ConvertCustomConfig.from_dict(convert_custom_config)
    _check_is_graph_module(graph_module)
    preserved = {attr: getattr(graph_module, attr) for attr in convert_custom_config.preserved_attributes
                 if hasattr(graph_module, attr)}
    quantized = convert(graph_module, is_reference, convert_custom_config, is_standalone_module,
                        _remove_qconfig_flag=_remove_qconfig, qconfig_mapping=qconfig_mapping,
                        backend_config=backend_config, is_decomposed=is_decomposed,
                        keep_original_weights=keep_original_weights)
    attach_preserved_attrs_to_model(quantized, preserved)
    return quantized


def convert_fx(graph_module, convert_custom_config=None, _remove_qconfig=True, qconfig_mapping=None,
               backend_config=None, keep_original_weights=False):
    """The quantized model of a prepared (and calibrated or trained) GraphModule: quantized modules and ops on
    quantized tensors, ``quantize_per_tensor`` where float values enter and ``dequantize`` where they leave."""
    warnings.warn(DEPRECATION_WARNING, DeprecationWarning, stacklevel=2)
    return _convert_fx(graph_module, is_reference=False, convert_custom_config=convert_custom_config,
                       _remove_qconfig=_remove_qconfig, qconfig_mapping=qconfig_mapping, backend_config=backend_config,
                       keep_original_weights=keep_original_weights)


def convert_to_reference_fx(graph_module, convert_custom_config=None, _remove_qconfig=True, qconfig_mapping=None,
                            backend_config=None):
    """The reference quantized model of a prepared GraphModule: float ops (reference modules with quantized and
    dequantized weights) between ``quantize_per_tensor``/``dequantize`` pairs."""
    return _convert_fx(graph_module, is_reference=True, convert_custom_config=convert_custom_config,
                       _remove_qconfig=_remove_qconfig, qconfig_mapping=qconfig_mapping, backend_config=backend_config)
