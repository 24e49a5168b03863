"""The convert pass of FX graph mode quantization (``convert_fx``, ``convert_to_reference_fx``): each observer
becomes ``quantize_per_tensor`` (or ``quantize_per_channel``) with its qparams as buffers, then ``dequantize``;
weighted modules become reference quantized modules (their weight's qparams from the qconfig's weight observer,
or the QAT module's fake quantizer). That is the reference model; ``convert_fx`` then lowers its
``dequantize -> op -> quantize`` patterns to quantized modules and ops (``lower_to_native_backend``)."""
import warnings

import ember
from ember.fx import GraphModule, Node

from ...nn.intrinsic import _FusedModule
from ..backend_config import BackendConfig, get_native_backend_config
from ..quant_type import QuantType
from ..utils import is_per_channel
from .prepare import generate_node_name_to_qconfig
from .utils import _is_activation_post_process, _parent_name, create_getattr_from_value, get_qparam_dict

__all__ = ["convert"]

_QUANTIZED_DTYPES = ("quint8", "qint8", "qint32")


def _has_none_qconfig(node, node_name_to_qconfig):
    return isinstance(node, Node) and node.name in node_name_to_qconfig and node_name_to_qconfig[node.name] is None


def _module_path_and_prefix(obs_node, node_name_to_scope, node_name_to_qconfig):
    """Where the qparams of an observer's quantize are named from: the observed node's module scope, or, for an
    observer only there for the next op's input (its producer has no qconfig), the first user's scope with
    ``_input``."""
    observed = obs_node.args[0]
    input_only = node_name_to_qconfig[observed.name] is None if observed.name in node_name_to_qconfig else None
    if input_only:
        users = list(obs_node.users)
        first = users[0] if users else None
        for user in users:
            if user.op == "call_function" and user.target is ember.nn.functional.linear:
                first = user
                break
        prefix = "_input"
    else:
        first, prefix = observed, ""
    module_path = node_name_to_scope[first.name][0] if first is not None and first.name in node_name_to_scope else ""
    return module_path, prefix


def _replace_observer_with_quantize_dequantize_node(model, node, modules, node_name_to_scope,
                                                    node_name_to_qconfig):
    graph = model.graph
    module_path, prefix = _module_path_and_prefix(node, node_name_to_scope, node_name_to_qconfig)
    observer = modules[node.target]
    skip = all(_has_none_qconfig(n, node_name_to_qconfig) for n in list(node.args) + list(node.users))
    dtype = getattr(observer, "dtype", None)
    is_dynamic = bool(getattr(observer, "is_dynamic", False))
    if skip or getattr(dtype, "name", None) not in _QUANTIZED_DTYPES + ("float16",):
        node.replace_all_uses_with(node.args[0])
        graph.erase_node(node)
        return
    if is_dynamic:   # quantize_per_tensor_dynamic(x, dtype, reduce_range) then dequantize
        reduce_range = ember.backends.quantized.engine in ("fbgemm", "x86")
        with graph.inserting_before(node):
            quantized = graph.create_node("call_function", ember.quantize_per_tensor_dynamic,
                                          (node.args[0], dtype, reduce_range), {})
            dequantized = graph.call_method("dequantize", args=(quantized,))
            node.replace_all_uses_with(dequantized)
            graph.erase_node(node)
        return
    if dtype == ember.float16:
        with graph.inserting_before(node):
            to_fp16 = graph.create_node("call_method", "to", (node.args[0], ember.float16), {})
            back = graph.call_method("dequantize", args=(to_fp16,))
            node.replace_all_uses_with(back)
            graph.erase_node(node)
        return
    scale, zero_point = observer.calculate_qparams()
    if is_per_channel(observer.qscheme):
        qparams = [("_scale_", scale), ("_zero_point_", zero_point), ("_axis_", int(observer.ch_axis)),
                   ("_dtype_", dtype)]
        quantize_op = ember.quantize_per_channel
    else:
        qparams = [("_scale_", float(scale)), ("_zero_point_", int(zero_point)), ("_dtype_", dtype)]
        quantize_op = ember.quantize_per_tensor
    with graph.inserting_before(node):
        inputs = [node.args[0]]
        for key, value in qparams:
            if key in ("_scale_", "_zero_point_"):
                inputs.append(create_getattr_from_value(model, graph, module_path + prefix + key, value))
            else:
                inputs.append(value)
        quantized = graph.create_node("call_function", quantize_op, tuple(inputs), {})
        dequantized = graph.call_method("dequantize", args=(quantized,))
        node.replace_all_uses_with(dequantized)
        graph.erase_node(node)


def _replace_observer_with_dequantize_node(node, graph):
    with graph.inserting_before(node):
        dequantized = graph.call_method("dequantize", args=(node.args[0],))
        node.replace_all_uses_with(dequantized)
        graph.erase_node(node)


def _weight_is_quantized(qconfig):
    weight = qconfig.weight() if qconfig.weight is not None else None
    return getattr(getattr(weight, "dtype", None), "name", None) in ("quint8", "qint8", "float16", "quint4x2",
                                                                      "qint32", "uint8", "int8")


def _is_qconfig_supported_by_dtype_configs(qconfig, dtype_configs):
    """Whether a weighted module's qconfig (activation, weight, dynamic or not) is one its dtype configs take."""
    activation, weight = qconfig.activation(), qconfig.weight()
    act_dtype, weight_dtype = activation.dtype, weight.dtype
    act_dynamic = bool(getattr(activation, "is_dynamic", False))
    for config in dtype_configs:
        is_dynamic = bool(config.is_dynamic)
        input_dtype = config.input_dtype or ember.float
        config_weight = config.weight_dtype or ember.float
        bias_dtype = config.bias_dtype or ember.float
        output_dtype = config.output_dtype or ember.float
        qconfig_bias = ember.float16 if (act_dtype == ember.float16 and weight_dtype == ember.float16
                                         and not is_dynamic) else ember.float
        if is_dynamic:
            match = (act_dynamic and input_dtype == act_dtype and output_dtype == ember.float
                     and config_weight == weight_dtype)
        else:
            match = (input_dtype == act_dtype and output_dtype == act_dtype and config_weight == weight_dtype
                     and bias_dtype == qconfig_bias)
        if match:
            return True
    return False


def convert_weighted_module(node, modules, observed_node_names, node_name_to_qconfig, backend_config):
    """Swaps an observed conv/linear (fused, QAT) for its reference quantized module."""
    original = modules[str(node.target)]
    qconfig = getattr(original, "qconfig", None)
    weight_post_process = None
    qat_classes = tuple(c.qat_module for c in backend_config.configs if c.qat_module is not None)
    if qat_classes and isinstance(original, qat_classes):
        weight_post_process = original.weight_fake_quant
        original = original.to_float()
        parent, name = _parent_name(node.target)
        setattr(modules[parent], name, original)
    if qconfig is None or _has_none_qconfig(node, node_name_to_qconfig) or node.name not in observed_node_names:
        return
    configs = [c for c in backend_config.configs if c.pattern is type(original)]
    if not _is_qconfig_supported_by_dtype_configs(qconfig, configs[-1].dtype_configs if configs else []):
        return   # e.g. an Embedding under a static qconfig: left float
    if not _weight_is_quantized(qconfig):
        return
    fused, float_module = None, original
    if isinstance(original, _FusedModule):
        fused, float_module = original, original[0]
    weight_qparams = {"is_decomposed": False}
    if isinstance(float_module, ember.nn.modules.rnn.RNNCellBase):   # one observer per weight
        for name in ("weight_ih", "weight_hh"):
            observer = qconfig.weight()
            observer(getattr(float_module, name))
            weight_qparams[name] = get_qparam_dict(observer)
    elif isinstance(float_module, (ember.nn.LSTM, ember.nn.GRU)):   # qparams per weight, by parameter name
        for name in float_module._flat_weights_names:
            if name.startswith("weight"):
                observer = qconfig.weight()
                if observer.dtype == ember.qint8:
                    observer(getattr(float_module, name))
                weight_qparams[name] = get_qparam_dict(observer)
    else:
        if weight_post_process is None:
            weight_post_process = qconfig.weight()
        weight_post_process(float_module.weight)
        weight_qparams.update(get_qparam_dict(weight_post_process))
    to_reference = {c.root_module: c.reference_quantized_module for c in backend_config.configs
                    if c.root_module is not None and c.reference_quantized_module is not None}
    ref_class = to_reference.get(type(float_module))
    if ref_class is None:
        raise AssertionError(f"No reference quantized module class configured for {type(float_module)}")
    ref = ref_class.from_float(float_module, weight_qparams)
    if fused is not None:
        fused[0] = ref
    else:
        parent, name = _parent_name(node.target)
        setattr(modules[parent], name, ref)


def _convert_standalone_module(node, modules, model, backend_config):
    """Converts an observed standalone module in place: its quantized inputs skip the dequantize before it, a
    quantized output gets one after it."""
    from ..quantize_fx import _convert_standalone_module_fx
    observed = modules[str(node.target)]
    attrs = observed.meta["_observed_graph_module_attrs"]
    for index, arg in enumerate(list(node.args)):
        if index in attrs.standalone_module_input_quantized_idxs and isinstance(arg, Node) and \
                arg.op == "call_method" and arg.target == "dequantize":
            node.replace_input_with(arg, arg.args[0])
            if len(arg.users) == 0:
                model.graph.erase_node(arg)
    if attrs.standalone_module_output_quantized_idxs:
        if attrs.standalone_module_output_quantized_idxs[0] != 0:
            raise AssertionError("Currently only quantized output idxs = [0] is supported")
        with model.graph.inserting_after(node):
            dequantized = model.graph.call_method("dequantize", args=(node,))
        node.replace_all_uses_with(dequantized, delete_user_cb=lambda user: user is not dequantized)
    quantized = _convert_standalone_module_fx(observed)
    parent, name = _parent_name(node.target)
    setattr(modules[parent], name, quantized)
    modules[str(node.target)] = quantized


def _convert_custom_module(node, graph, modules, mapping, static_custom_nodes):
    observed = modules[str(node.target)]
    qconfig = observed.qconfig
    activation = qconfig.activation() if qconfig is not None else None
    if getattr(getattr(activation, "dtype", None), "name", None) in ("quint8", "qint8") and \
            not getattr(activation, "is_dynamic", False):
        static_custom_nodes.add(node)
        prev = node.args[0]
        if isinstance(prev, Node) and prev.op == "call_method" and prev.target == "dequantize":
            node.replace_input_with(prev, prev.args[0])
            if len(prev.users) == 0:
                graph.erase_node(prev)
        user = next(iter(node.users), None)
        if user is not None and user.op == "call_module" and _is_activation_post_process(modules.get(user.target)):
            observed.activation_post_process = modules[user.target]
    quantized_class = mapping.get(QuantType.STATIC, {})[type(observed)]
    parent, name = _parent_name(node.target)
    setattr(modules[parent], name, quantized_class.from_observed(observed))


def convert(model, is_reference=False, convert_custom_config=None, is_standalone_module=False,
            _remove_qconfig_flag=True, qconfig_mapping=None, backend_config=None, is_decomposed=False,
            keep_original_weights=False):
    """The reference (``is_reference``) or lowered quantized model of an observed GraphModule."""
    from .custom_config import ConvertCustomConfig
    from .lower_to_native_backend import lower_to_fbgemm
    if convert_custom_config is None:
        convert_custom_config = ConvertCustomConfig()
    if isinstance(convert_custom_config, dict):
        warnings.warn("Passing a convert_custom_config_dict to convert is deprecated and will not be supported in a "
                      "future version. Please pass in a ConvertCustomConfig instead.", FutureWarning, stacklevel=3)
        convert_custom_config = ConvertCustomConfig.from_dict(convert_custom_config)
    if isinstance(backend_config, dict):
        backend_config = BackendConfig.from_dict(backend_config)
    if backend_config is None:
        backend_config = get_native_backend_config()
    attrs = model.meta.get("_observed_graph_module_attrs")
    if attrs is None:
        raise AssertionError("incoming model must be produced by prepare_fx")
    node_name_to_scope = attrs.node_name_to_scope
    prepare_custom_config = attrs.prepare_custom_config
    observed_node_names = attrs.observed_node_names
    if qconfig_mapping is None:
        qconfig_mapping = attrs.qconfig_mapping
    modules = dict(model.named_modules(remove_duplicate=False))
    node_name_to_qconfig = generate_node_name_to_qconfig(model, modules, model.graph, qconfig_mapping,
                                                         node_name_to_scope)
    graph = model.graph
    root_classes = {c.root_module for c in backend_config.configs if c.root_module is not None}
    qat_classes = {c.qat_module for c in backend_config.configs if c.qat_module is not None}
    fused_classes = {c.fused_module for c in backend_config.configs if c.fused_module is not None}
    custom_mapping = convert_custom_config.observed_to_quantized_mapping
    custom_classes = set(custom_mapping.get(QuantType.STATIC, {}))
    static_custom_nodes = set()
    placeholders = [n for n in graph.nodes if n.op == "placeholder"]
    input_quantized = prepare_custom_config.input_quantized_indexes
    output_quantized = prepare_custom_config.output_quantized_indexes
    for node in list(graph.nodes):
        if node.op == "placeholder":
            if placeholders.index(node) in input_quantized:
                with graph.inserting_after(node):
                    dequantized = graph.call_method("dequantize", args=(node,))
                node.replace_all_uses_with(dequantized, delete_user_cb=lambda user: user is not dequantized)
        elif node.op == "output":
            if output_quantized:
                _remove_output_dequantize(node, graph)
        elif node.op == "call_module":
            module = modules[node.target]
            if _is_activation_post_process(module):
                if node.args[0] in static_custom_nodes:
                    _replace_observer_with_dequantize_node(node, graph)
                else:
                    _replace_observer_with_quantize_dequantize_node(model, node, modules, node_name_to_scope,
                                                                    node_name_to_qconfig)
            elif type(module) in root_classes | qat_classes | fused_classes:
                if type(module) in fused_classes and type(module[0]) not in root_classes:
                    continue
                convert_weighted_module(node, modules, observed_node_names, node_name_to_qconfig, backend_config)
            elif getattr(getattr(module, "meta", {}).get("_observed_graph_module_attrs"),
                         "is_observed_standalone_module", False):
                _convert_standalone_module(node, modules, model, backend_config)
            elif type(module) in custom_classes:
                _convert_custom_module(node, graph, modules, custom_mapping, static_custom_nodes)
    graph.eliminate_dead_code()
    model = GraphModule(model, graph)
    model.meta = {k: v for k, v in model.meta.items() if k != "_observed_graph_module_attrs"}
    if not is_reference:
        model = lower_to_fbgemm(model, node_name_to_qconfig, node_name_to_scope, keep_original_weights)
    if _remove_qconfig_flag:
        for module in model.modules():
            if hasattr(module, "qconfig"):
                del module.qconfig
    model.delete_all_unused_submodules()
    return model


def _remove_output_dequantize(output_node, graph):
    def strip(value):
        if isinstance(value, (list, tuple)):
            return type(value)(strip(v) for v in value)
        if isinstance(value, Node) and value.op == "call_method" and value.target == "dequantize":
            return value.args[0]
        return value
    output_node.args = tuple(strip(a) for a in output_node.args)

