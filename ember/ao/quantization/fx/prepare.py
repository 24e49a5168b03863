"""The prepare pass of FX graph mode quantization (``prepare_fx``/``prepare_qat_fx`` after tracing and fusion):
each node gets its qconfig from the ``QConfigMapping``, nodes are matched to the backend's patterns, and observers
(fake quantizers for QAT) are inserted as ``activation_post_process_<i>`` modules where PyTorch puts them: before a
pattern's inputs whose producer is not already observed at the wanted dtype, after its last node; ops that keep
their input's qparams (pooling, reshapes) reuse their input's observer."""
import copy
import re
import types
import warnings

import ember
from ember.fx import GraphModule, Node

from ...nn.intrinsic import _FusedModule
from ..fake_quantize import FixedQParamsFakeQuantize
from ..observer import FixedQParamsObserver, NoopObserver, PlaceholderObserver, ReuseInputObserver
from ..qconfig import (_default_fp32_placeholder_qconfig, _default_quint8_placeholder_qconfig,
                       float16_dynamic_qconfig, float16_static_qconfig)
from ..qconfig_mapping import QConfigMapping
from ..quant_type import QuantType
from ..quantize import convert, propagate_qconfig_
from ..backend_config import BackendConfig, ObservationType, get_native_backend_config
from .match_utils import find_matches, sorted_patterns
from .utils import (_is_activation_post_process, _is_obs_dtype, _parent_name, all_node_args_have_no_tensors,
                    get_new_attr_name_with_prefix, node_arg_is_bias, node_arg_is_weight)

__all__ = ["prepare"]

_FP32_INFO = {"input_act_obs_or_fq_ctr": _default_fp32_placeholder_qconfig.activation,
              "output_act_obs_or_fq_ctr": _default_fp32_placeholder_qconfig.activation}
_QUINT8_INFO = {"input_act_obs_or_fq_ctr": _default_quint8_placeholder_qconfig.activation,
                "output_act_obs_or_fq_ctr": _default_quint8_placeholder_qconfig.activation}


# --- qconfig per node ---------------------------------------------------------------------------------------------
def _module_name_qconfig(mapping, module_name, fallback):
    if module_name == "":
        return fallback
    if module_name in mapping.module_name_qconfigs:
        return mapping.module_name_qconfigs[module_name]
    return _module_name_qconfig(mapping, _parent_name(module_name)[0], fallback)


def _module_name_regex_qconfig(mapping, module_name, fallback):
    for regex, qconfig in mapping.module_name_regex_qconfigs.items():
        if re.match(regex, module_name):
            return qconfig
    return fallback


def _qconfig_for_type_or_name(mapping, object_type, module_name, fallback):
    """The qconfig by module name, else name regex, else object type, else ``fallback``."""
    qconfig = mapping.object_type_qconfigs.get(object_type, fallback)
    qconfig = _module_name_regex_qconfig(mapping, module_name, qconfig)
    return _module_name_qconfig(mapping, module_name, qconfig)


def _qconfig_for_order(mapping, module_path, object_type, index, fallback):
    for (name, otype, idx), qconfig in mapping.module_name_object_type_order_qconfigs.items():
        if name == module_path and otype == object_type and idx == index:
            return qconfig
    return fallback


def generate_node_name_to_qconfig(root, modules, graph, mapping, node_name_to_scope):
    """``{node name: qconfig}``: what the mapping gives each node, by its scope (the module it was traced in);
    call_module nodes' modules get it as their ``qconfig``."""
    global_qconfig = mapping.global_qconfig
    result = {}
    counters = {}
    for node in graph.nodes:
        qconfig = None
        if node.op == "get_attr":
            module_name = _parent_name(node.target)[0]
            qconfig = _qconfig_for_type_or_name(mapping, type(modules[module_name]), module_name, global_qconfig)
        elif node.op == "call_function":
            qconfig = mapping.object_type_qconfigs.get(node.target, global_qconfig)
            module_path, module_type = node_name_to_scope[node.name]
            qconfig = _qconfig_for_type_or_name(mapping, module_type, module_path, qconfig)
            per_type = counters.setdefault(module_path, {})
            index = per_type.get(node.target, 0)
            per_type[node.target] = index + 1
            qconfig = _qconfig_for_order(mapping, module_path, node.target, index, qconfig)
        elif node.op == "call_method":
            module_path, module_type = node_name_to_scope[node.name]
            qconfig = _qconfig_for_type_or_name(mapping, node.target, module_path, global_qconfig)
            qconfig = _qconfig_for_type_or_name(mapping, module_type, module_path, qconfig)
        elif node.op == "call_module":
            module = modules[node.target]
            if _is_activation_post_process(module):
                continue
            qconfig = _qconfig_for_type_or_name(mapping, type(module), node.target, global_qconfig)
            module_path, module_type = node_name_to_scope.get(node.name, (node.target, type(module)))
            parent_name = _parent_name(module_path)[0]
            per_type = counters.setdefault(parent_name, {})
            index = per_type.get(module_type, 0)
            per_type[module_type] = index + 1
            qconfig = _qconfig_for_order(mapping, parent_name, module_type, index, qconfig)
            module.qconfig = qconfig
        result[node.name] = qconfig
    return result


def _qconfig_equals(a, b):
    if a is None or b is None:
        return a is b
    try:
        return a == b
    except Exception:
        return a is b


def _update_qconfig_for_fusion(model, mapping):
    """Gives fused module types the qconfig set for their first module's type (all their types must agree)."""
    object_types = mapping.object_type_qconfigs
    if not object_types:
        return
    modules = dict(model.named_modules())
    for node in model.graph.nodes:
        if node.op == "call_module" and isinstance(modules.get(node.target), _FusedModule):
            fused = modules[node.target]
            ops = list(fused._modules.values())
            fused_qconfig = object_types.get(type(ops[0]))
            for op in ops[1:]:
                if not _qconfig_equals(object_types.get(type(op)), fused_qconfig):
                    raise LookupError("During fusion, we need to specify the same qconfigs for all module types in "
                                      f"{type(fused)} offending type: {type(op)}")
            if fused_qconfig is not None:
                object_types[type(fused)] = fused_qconfig


def _module_to_qat_module(backend_config):
    return {c.pattern: c.qat_module for c in backend_config.configs
            if c.qat_module is not None and not isinstance(c.pattern, tuple)}


# --- dtypes -------------------------------------------------------------------------------------------------------
def _dtype_and_is_dynamic(obs_or_fq):
    if obs_or_fq is None:
        return None, False
    return obs_or_fq.dtype, bool(getattr(obs_or_fq, "is_dynamic", False))


def _make(ctr):
    return ctr() if ctr is not None else None


def _is_reuse_input_qconfig(qconfig):
    return (qconfig is not None and isinstance(_make(qconfig.activation), ReuseInputObserver)
            and isinstance(_make(qconfig.weight), NoopObserver))


def _observation_type(config, nodes, modules, cache):
    """The pattern's observation type; binary ops choose by how many tensors their first node takes."""
    mapping = config._num_tensor_args_to_observation_type
    if mapping:
        root = config._root_node_getter(nodes) if config._root_node_getter is not None else nodes[0]
        count = 0
        for arg in root.args:
            if isinstance(arg, Node) and not all_node_args_have_no_tensors(arg, modules, cache):
                count += 1
        return mapping.get(count, config.observation_type)
    return config.observation_type


def _target_dtype_info(node, nodes, qconfig, config, modules, backend_config, cache):
    """What a node of a matched pattern expects: its input and output observer constructors, the weight's, and
    whether its output shares its input's observer."""
    if all_node_args_have_no_tensors(node, modules, cache):
        return {"input_act_obs_or_fq_ctr": None, "output_act_obs_or_fq_ctr": None}
    if qconfig is None:
        return copy.copy(_FP32_INFO)
    act = _make(qconfig.activation)
    weight = _make(qconfig.weight)
    act_dtype = getattr(act, "dtype", None)
    weight_dtype = getattr(weight, "dtype", None)
    bias_dtype = (ember.float16 if act_dtype == ember.float16 and weight_dtype == ember.float16
                  and not getattr(act, "is_dynamic", False) else ember.float)
    general_tensor_value = (config is not None and _observation_type(config, nodes, modules, cache)
                            == ObservationType.OUTPUT_SHARE_OBSERVER_WITH_INPUT)
    return {"input_act_obs_or_fq_ctr": qconfig.activation, "weight_obs_or_fq_ctr": qconfig.weight,
            "bias_obs_or_fq_ctr": PlaceholderObserver.with_args(dtype=bias_dtype),
            "output_act_obs_or_fq_ctr": qconfig.activation, "reuse_input_obs_or_fq": _is_reuse_input_qconfig(qconfig),
            "input_output_share_observers": general_tensor_value}


def _constraints_warning(qconfig, constraints, is_activation=True):
    """Whether the qconfig's observer satisfies a dtype's constraints (warning as PyTorch when it does not)."""
    if qconfig is None or constraints.dtype is None:
        return True
    ctr = qconfig.activation if is_activation else qconfig.weight
    if ctr is None:
        return True
    app = ctr()
    if app.dtype != constraints.dtype:
        return True
    observer = getattr(app, "activation_post_process", app)
    debug = "activation" if is_activation else "weight"
    quant_min, quant_max = getattr(observer, "quant_min", None), getattr(observer, "quant_max", None)
    if constraints.quant_min_lower_bound is not None and constraints.quant_max_upper_bound is not None:
        if quant_min is None or quant_max is None:
            warnings.warn(f"QConfig {debug} must specify 'quant_min' and 'quant_max', ignoring {qconfig}",
                          stacklevel=2)
            return False
        if quant_min < constraints.quant_min_lower_bound or quant_max > constraints.quant_max_upper_bound:
            warnings.warn(f"QConfig {debug} quantization range must fall within the backend's:\nQConfig range = "
                          f"({quant_min}, {quant_max}), BackendConfig range = ({constraints.quant_min_lower_bound}, "
                          f"{constraints.quant_max_upper_bound}), ignoring {qconfig}", stacklevel=2)
            return False
    if constraints.scale_exact_match is not None and constraints.zero_point_exact_match is not None:
        for accepted in (float16_static_qconfig, float16_dynamic_qconfig):
            if _qconfig_equals(qconfig, accepted):
                return True
        suggestion = ("Please use torch.ao.quantization.get_default_qconfig_mapping or "
                      "torch.ao.quantization.get_default_qat_qconfig_mapping. Example:\n"
                      '    qconfig_mapping = get_default_qconfig_mapping("fbgemm")\n'
                      "    model = prepare_fx(model, qconfig_mapping, example_inputs)")
        if not isinstance(app, (FixedQParamsObserver, FixedQParamsFakeQuantize)):
            warnings.warn("QConfig must specify a FixedQParamsObserver or a FixedQParamsFakeQuantize for fixed "
                          f"qparams ops, ignoring {qconfig}.\n{suggestion}", stacklevel=2)
            return False
        if observer.scale != constraints.scale_exact_match or \
                observer.zero_point != constraints.zero_point_exact_match:
            warnings.warn(f"QConfig fixed scale ({observer.scale}) and zero point ({observer.zero_point}) do not match "
                          f"the backend's ({constraints.scale_exact_match} and {constraints.zero_point_exact_match}), "
                          f"ignoring {qconfig}.\n{suggestion}", stacklevel=2)
            return False
    return True


def _is_supported(nodes, last_node, config, qconfig, backend_config):
    """Whether one of the pattern's dtype configs accepts the qconfig (inputs of its first node, output of its
    last)."""
    if config is None:
        return True
    root = config._root_node_getter(nodes) if config._root_node_getter is not None else nodes[0]
    for dtype_config in config.dtype_configs:
        supported = True
        args = list(root.args) + list(root.kwargs.values())
        flat = []
        for arg in args:
            flat.extend(arg if isinstance(arg, (list, tuple)) else [arg])
        for arg in flat:
            if not isinstance(arg, Node):
                continue
            info = root.meta["target_dtype_info"]
            if node_arg_is_weight(root, arg, backend_config):
                dtype, _ = _dtype_and_is_dynamic(_make(info.get("weight_obs_or_fq_ctr")))
                ok = dtype_config.weight_dtype is None or (
                    dtype == dtype_config.weight_dtype
                    and _constraints_warning(qconfig, dtype_config.weight_dtype_with_constraints, False))
            elif node_arg_is_bias(root, arg, backend_config):
                dtype, _ = _dtype_and_is_dynamic(_make(info.get("bias_obs_or_fq_ctr")))
                ok = dtype_config.bias_dtype is None or dtype == dtype_config.bias_dtype
            else:
                dtype, dynamic = _dtype_and_is_dynamic(_make(info.get("input_act_obs_or_fq_ctr")))
                ok = dtype_config.input_dtype is None or (
                    dtype_config.input_dtype == dtype and bool(dtype_config.is_dynamic) == dynamic
                    and _constraints_warning(qconfig, dtype_config.input_dtype_with_constraints))
            supported = supported and ok
        info = last_node.meta["target_dtype_info"]
        dtype, dynamic = _dtype_and_is_dynamic(_make(info.get("output_act_obs_or_fq_ctr",
                                                              _FP32_INFO["output_act_obs_or_fq_ctr"])))
        if dynamic:
            dtype = ember.float32
        if dtype_config.output_dtype is not None:
            supported = supported and dtype == dtype_config.output_dtype and _constraints_warning(
                qconfig, dtype_config.output_dtype_with_constraints)
        if supported:
            return True
    return False


def _needs_obs_or_fq(prev_dtype, prev_dynamic, cur_dtype, cur_dynamic, reuse_input, is_zeroth_arg=False):
    if cur_dynamic:
        return is_zeroth_arg
    if reuse_input:
        return False
    if _is_obs_dtype(cur_dtype):
        return (_is_obs_dtype(prev_dtype) or prev_dtype == ember.float) and cur_dtype != prev_dtype
    return False


# --- observer insertion -------------------------------------------------------------------------------------------
def _is_obs_node(node, modules):
    return isinstance(node, Node) and node.op == "call_module" and _is_activation_post_process(
        modules.get(str(node.target)))


def _insert_obs_or_fq(node, obs_or_fq, model, modules, graph):
    """Registers ``obs_or_fq`` as the model's next ``activation_post_process_<i>`` and calls it on ``node`` right
    after it."""
    device = next((p.device for p in model.parameters()), None)
    if device is not None:
        obs_or_fq.to(device)
    name = get_new_attr_name_with_prefix("activation_post_process_")(model)
    setattr(model, name, obs_or_fq)
    modules[name] = obs_or_fq
    with graph.inserting_after(node):
        return graph.create_node("call_module", name, (node,), {})


def _output_obs_or_fq(arg, modules):
    """A fresh instance of what ``arg``'s value is observed as (looking through an observer node)."""
    if _is_obs_node(arg, modules):
        return _make(arg.args[0].meta["target_dtype_info"]["output_act_obs_or_fq_ctr"])
    info = arg.meta.get("target_dtype_info")
    ctr = info.get("output_act_obs_or_fq_ctr", _FP32_INFO["output_act_obs_or_fq_ctr"]) if info is not None \
        else _FP32_INFO["output_act_obs_or_fq_ctr"]
    return _make(ctr)


def _maybe_insert_input_observer(node, arg, model, modules, graph, backend_config, standalone_inputs=None):
    if isinstance(arg, (list, tuple)):
        return type(arg)(_maybe_insert_input_observer(node, a, model, modules, graph, backend_config,
                                                      standalone_inputs) for a in arg)
    if not isinstance(arg, Node):
        return arg
    info = node.meta["target_dtype_info"]
    if standalone_inputs is not None:   # a standalone module: observe the inputs it takes quantized
        index = next((i for i, a in enumerate(node.args) if a is arg), None)
        if index is None:
            return arg
        prev_dtype, _ = _dtype_and_is_dynamic(_output_obs_or_fq(arg, modules))
        target = ember.quint8 if index in standalone_inputs else ember.float
        if prev_dtype == target or target == ember.float:
            return arg
        return _insert_obs_or_fq(arg, _make(node.meta["_standalone_qconfig"].activation), model, modules, graph)
    if node_arg_is_weight(node, arg, backend_config):
        ctr = info.get("weight_obs_or_fq_ctr", _FP32_INFO["input_act_obs_or_fq_ctr"])
    elif node_arg_is_bias(node, arg, backend_config):
        ctr = info.get("bias_obs_or_fq_ctr", _FP32_INFO["input_act_obs_or_fq_ctr"])
    else:
        ctr = info.get("input_act_obs_or_fq_ctr", _FP32_INFO["input_act_obs_or_fq_ctr"])
    new_obs = _make(ctr)
    cur_dtype, cur_dynamic = _dtype_and_is_dynamic(new_obs)
    prev_dtype, prev_dynamic = _dtype_and_is_dynamic(_output_obs_or_fq(arg, modules))
    if not _needs_obs_or_fq(prev_dtype, prev_dynamic, cur_dtype, cur_dynamic, info.get("reuse_input_obs_or_fq", False),
                            is_zeroth_arg=len(node.args) > 0 and arg is node.args[0]):
        return arg
    for user in arg.users:   # an observer of the same kind already watching arg serves this use too
        if user.op == "call_module":
            existing = modules[user.target]
            if type(existing) is type(new_obs) and existing.dtype == cur_dtype:
                return user
    return _insert_obs_or_fq(arg, new_obs, model, modules, graph)


def _maybe_make_input_output_share_observers(node, model, modules):
    """Points the observers of ``node``'s first tensor input (each of a list's) and of its output at one
    observer module; False when the input has none."""
    first_arg = next((a for a in node.args if isinstance(a, (Node, list, tuple))), None)
    if first_arg is None:
        return False
    first = first_arg[0] if isinstance(first_arg, (list, tuple)) else first_arg
    guard = 0
    while not _is_obs_node(first, modules):
        if not isinstance(first, Node) or first.op == "placeholder":
            return False
        back = None
        for a in first.args:
            back = a
            if isinstance(a, Node):
                break
        if back is None:
            return False
        first = back
        guard += 1
        if guard > 10000:
            raise AssertionError("Unable to find observer of previous node")
    shared = modules[first.target]
    if isinstance(first_arg, (list, tuple)):
        for arg in first_arg[1:]:
            while not _is_obs_node(arg, modules):
                if len(arg.args) < 1:
                    return False
                arg = arg.args[0]
            parent, name = _parent_name(arg.target)
            setattr(modules[parent], name, shared)
    for user in node.users:
        parent, name = _parent_name(user.target)
        setattr(modules[parent], name, shared)
    return True


def _remove_output_observer(node, model):
    for user in list(node.users):
        user.replace_all_uses_with(node)
        model.graph.erase_node(user)


def _swap_custom_module_to_observed(node, qconfig, modules, prepare_custom_config):
    custom_module = modules[node.target]
    mapping = prepare_custom_config.float_to_observed_mapping.get(QuantType.STATIC, {})
    observed_class = mapping[type(custom_module)]
    observed = observed_class.from_float(custom_module)
    parent, name = _parent_name(node.target)
    setattr(modules[parent], name, observed)


def insert_observers_for_model(model, matches, node_name_to_qconfig, prepare_custom_config, backend_config,
                               observed_node_names):
    """Inserts the observers (see the module docstring) and returns the output node."""
    cache = {}
    modules = dict(model.named_modules(remove_duplicate=False))
    graph = model.graph
    for node in graph.nodes:
        node.meta["target_dtype_info"] = copy.copy(_FP32_INFO)
    for name, (last_node, nodes, pattern, config, qconfig, kind) in matches.items():
        node = next(n for n in nodes if n.name == name)
        node.meta["target_dtype_info"] = _target_dtype_info(node, nodes, qconfig, config, modules, backend_config,
                                                            cache)
    placeholders = [n for n in graph.nodes if n.op == "placeholder"]
    for node in graph.nodes:
        if node.op == "placeholder" and placeholders.index(node) in prepare_custom_config.input_quantized_indexes:
            node.meta["target_dtype_info"] = copy.copy(_QUINT8_INFO)
        elif node.op in ("call_module", "call_method", "call_function") and \
                all_node_args_have_no_tensors(node, modules, cache):
            node.meta["target_dtype_info"] = {"input_act_obs_or_fq_ctr": None, "output_act_obs_or_fq_ctr": None}
        elif node.op == "output" and 0 in prepare_custom_config.output_quantized_indexes:
            node.meta["target_dtype_info"] = copy.copy(_QUINT8_INFO)
    for name, (last_node, nodes, pattern, config, qconfig, kind) in matches.items():
        dtype, _ = _dtype_and_is_dynamic(_make(last_node.meta["target_dtype_info"]["output_act_obs_or_fq_ctr"]))
        if not _is_supported(nodes, last_node, config, qconfig, backend_config) and \
                dtype not in (None, int, float, ember.bool):
            for n in nodes:
                n.meta["target_dtype_info"] = _target_dtype_info(n, nodes, _default_fp32_placeholder_qconfig, None,
                                                                 modules, backend_config, cache)

    for node in list(graph.nodes):
        if node.op == "placeholder":
            continue
        if node.op == "output":
            if prepare_custom_config.output_quantized_indexes:
                _maybe_insert_output_quantized(node, model, modules, graph, backend_config)
            continue
        if node.op not in ("call_module", "call_method", "call_function"):
            continue
        last_node, nodes, pattern, config, qconfig, kind = matches.get(node.name, (None,) * 6)
        info = node.meta["target_dtype_info"]
        if qconfig is None:
            continue
        if not _is_supported(nodes, last_node, config, qconfig, backend_config):
            continue
        modules = dict(model.named_modules(remove_duplicate=False))
        observed_node_names.update(n.name for n in nodes)
        root = config._root_node_getter(nodes) if config is not None and config._root_node_getter else nodes[0]
        standalone_inputs = None
        if kind == "standalone":
            attrs = modules[node.target].meta["_observed_graph_module_attrs"]
            standalone_inputs = attrs.standalone_module_input_quantized_idxs
            node.meta["_standalone_qconfig"] = qconfig
        if node is root:
            node.args = tuple(_maybe_insert_input_observer(node, a, model, modules, graph, backend_config,
                                                           standalone_inputs) for a in node.args)
            node.kwargs = {k: _maybe_insert_input_observer(node, v, model, modules, graph, backend_config,
                                                           standalone_inputs) for k, v in node.kwargs.items()}
        if node is not last_node or kind == "standalone":   # a standalone module observes its own output
            continue
        out_obs = _make(info.get("output_act_obs_or_fq_ctr"))
        dtype, dynamic = _dtype_and_is_dynamic(out_obs)
        if not _needs_obs_or_fq(ember.float, False, dtype, dynamic, False) or dynamic:
            if kind == "custom":
                _swap_custom_module_to_observed(node, qconfig, modules, prepare_custom_config)
            continue
        obs_node = _insert_obs_or_fq(node, out_obs, model, modules, graph)
        for user in list(node.users):
            if user is not obs_node:
                user.replace_input_with(node, obs_node)
        in_same_graph = not (dtype in (ember.quint8, ember.uint8) and node.args and isinstance(node.args[0], Node)
                             and node.args[0].op == "placeholder")
        if (info.get("input_output_share_observers", False) and in_same_graph) or \
                info.get("reuse_input_obs_or_fq", False):
            if not _maybe_make_input_output_share_observers(node, model, modules):
                _remove_output_observer(node, model)
        if kind == "custom":
            _swap_custom_module_to_observed(node, qconfig, modules, prepare_custom_config)
    return next(n for n in graph.nodes if n.op == "output")


def _maybe_insert_output_quantized(output_node, model, modules, graph, backend_config):
    """Observes graph outputs listed in ``output_quantized_indexes`` that are not observed yet."""
    def observe(value):
        if isinstance(value, (list, tuple)):
            return type(value)(observe(v) for v in value)
        if not isinstance(value, Node):
            return value
        dtype, _ = _dtype_and_is_dynamic(_output_obs_or_fq(value, modules))
        if dtype == ember.quint8:
            return value
        obs = _make(_QUINT8_INFO["output_act_obs_or_fq_ctr"])
        return _insert_obs_or_fq(value, obs, model, modules, graph)
    output_node.args = tuple(observe(a) for a in output_node.args)


def _find_all_matches(model, modules, backend_config, node_name_to_qconfig, prepare_custom_config):
    patterns = sorted_patterns(backend_config.configs)
    raw = find_matches(model.graph, modules, patterns)
    matches = {name: (last, nodes, pattern, config, node_name_to_qconfig.get(name), "op")
               for name, (last, nodes, pattern, config) in raw.items()}
    custom_classes = set(prepare_custom_config.float_to_observed_mapping.get(QuantType.STATIC, {}))
    for node in model.graph.nodes:
        if node.op == "call_module" and type(modules[node.target]) in custom_classes:
            matches[node.name] = (node, [node], None, None, node_name_to_qconfig.get(node.name), "custom")
    names, classes = prepare_custom_config.standalone_module_names, prepare_custom_config.standalone_module_classes
    for node in model.graph.nodes:
        if node.op == "call_module" and (node.target in names or type(modules[node.target]) in classes):
            matches[node.name] = (node, [node], None, None, node_name_to_qconfig.get(node.name), "standalone")
    return matches


def _run_prepare_fx_on_standalone_modules(model, is_qat, modules, matches, prepare_custom_config, backend_config):
    """Prepares each standalone module on its own (its configs, else the parent's qconfig for everything) and puts
    the observed GraphModule in its place."""
    from ..quantize_fx import _prepare_standalone_module_fx
    from .custom_config import PrepareCustomConfig
    for name, (node, _, _, _, qconfig, kind) in matches.items():
        if kind != "standalone":
            continue
        module = modules[node.target]
        entry = prepare_custom_config.standalone_module_names.get(node.target) or \
            prepare_custom_config.standalone_module_classes.get(type(module))
        sm_mapping = entry.qconfig_mapping if entry is not None and entry.qconfig_mapping is not None else \
            QConfigMapping().set_global(qconfig)
        sm_example_inputs = entry.example_inputs if entry is not None else None
        sm_custom = entry.prepare_custom_config if entry is not None and entry.prepare_custom_config is not None \
            else PrepareCustomConfig()
        sm_backend = entry.backend_config if entry is not None and entry.backend_config is not None else backend_config
        observed = _prepare_standalone_module_fx(module, sm_mapping, is_qat, sm_example_inputs, sm_custom, sm_backend)
        parent, attr = _parent_name(node.target)
        setattr(modules[parent], attr, observed)
        modules[node.target] = observed


def prepare(model, qconfig_mapping, is_qat, node_name_to_scope, example_inputs, prepare_custom_config=None,
            _equalization_config=None, backend_config=None, is_standalone_module=False):
    """Inserts observers into the traced and fused ``model`` (a GraphModule) and returns the observed
    GraphModule."""
    from .custom_config import PrepareCustomConfig
    if prepare_custom_config is None:
        prepare_custom_config = PrepareCustomConfig()
    if isinstance(qconfig_mapping, dict):
        warnings.warn("Passing a QConfig dictionary to prepare is deprecated and will not be supported in a future "
                      "version. Please pass in a QConfigMapping instead.", FutureWarning, stacklevel=2)
        qconfig_mapping = QConfigMapping.from_dict(qconfig_mapping)
    if isinstance(backend_config, dict):
        warnings.warn("Passing a backend_config_dict to prepare is deprecated and will not be supported in a future "
                      "version. Please pass in a BackendConfig instead.", FutureWarning, stacklevel=2)
        backend_config = BackendConfig.from_dict(backend_config)
    if qconfig_mapping is None:
        qconfig_mapping = QConfigMapping()
    if backend_config is None:
        backend_config = get_native_backend_config()
    qconfig_mapping = copy.deepcopy(qconfig_mapping)
    _update_qconfig_for_fusion(model, qconfig_mapping)
    flattened = {"": qconfig_mapping.global_qconfig, **qconfig_mapping.object_type_qconfigs,
                 **qconfig_mapping.module_name_qconfigs}
    propagate_qconfig_(model, flattened)
    if is_qat:
        module_to_qat = _module_to_qat_module(backend_config)
        convert(model, mapping=module_to_qat, inplace=True, remove_qconfig=False)   # warns as PyTorch's does
        for key, value in list(qconfig_mapping.object_type_qconfigs.items()):
            if key in module_to_qat:
                qconfig_mapping.object_type_qconfigs[module_to_qat[key]] = value
    modules = dict(model.named_modules(remove_duplicate=False))
    node_name_to_qconfig = generate_node_name_to_qconfig(model, modules, model.graph, qconfig_mapping,
                                                         node_name_to_scope)
    matches = _find_all_matches(model, modules, backend_config, node_name_to_qconfig, prepare_custom_config)
    _run_prepare_fx_on_standalone_modules(model, is_qat, modules, matches, prepare_custom_config, backend_config)
    observed_node_names = set()
    insert_observers_for_model(model, matches, node_name_to_qconfig, prepare_custom_config, backend_config,
                               observed_node_names)
    model = GraphModule(model, model.graph)
    model.meta["_observed_graph_module_attrs"] = types.SimpleNamespace(
        node_name_to_qconfig=node_name_to_qconfig, node_name_to_scope=node_name_to_scope,
        prepare_custom_config=prepare_custom_config, equalization_node_name_to_qconfig={},
        qconfig_mapping=qconfig_mapping, is_qat=is_qat, observed_node_names=observed_node_names,
        is_observed_standalone_module=is_standalone_module,
        standalone_module_input_quantized_idxs=prepare_custom_config.input_quantized_indexes if is_standalone_module
        else None,
        standalone_module_output_quantized_idxs=prepare_custom_config.output_quantized_indexes
        if is_standalone_module else None)
    return model

