"""Lowering a reference quantized model to the native backend (``torch.ao.quantization.fx._lower_to_native_backend``):
``dequantize -> reference module -> quantize_per_tensor`` becomes the quantized module (``nnq.Conv2d``,
``nniq.ConvReLU2d``, ...), ``dequantize -> add (-> relu) -> quantize_per_tensor`` becomes
``torch.ops.quantized.add(_relu)``, and the ops that run on quantized tensors as they are (pooling, ``cat``,
reshapes, activations) lose the ``dequantize`` before them and the ``quantize_per_tensor`` after them."""
import operator

import ember
from ember import nn
from ember.fx import GraphModule, Node

from ...nn import intrinsic as nni
from ...nn import quantized as nnq
from ...nn.intrinsic import quantized as nniq
from ...nn.intrinsic.quantized import dynamic as nniqd
from ...nn.quantized import dynamic as nnqd
from ...nn.quantized import reference as nnqr
from .utils import _parent_name, get_new_attr_name_with_prefix

__all__ = ["lower_to_fbgemm", "lower_to_qnnpack"]

STATIC_LOWER_MODULE_MAP = {nnqr.Linear: nnq.Linear, nnqr.Conv1d: nnq.Conv1d, nnqr.Conv2d: nnq.Conv2d,
                           nnqr.Conv3d: nnq.Conv3d}
STATIC_LOWER_FUSED_MODULE_MAP = {nni.LinearReLU: (nnqr.Linear, nniq.LinearReLU),
                                 nni.ConvReLU1d: (nnqr.Conv1d, nniq.ConvReLU1d),
                                 nni.ConvReLU2d: (nnqr.Conv2d, nniq.ConvReLU2d),
                                 nni.ConvReLU3d: (nnqr.Conv3d, nniq.ConvReLU3d)}

DYNAMIC_LOWER_MODULE_MAP = {nnqr.Linear: nnqd.Linear, nnqr.GRUCell: nnqd.GRUCell, nnqr.LSTMCell: nnqd.LSTMCell,
                            nnqr.RNNCell: nnqd.RNNCell, nnqr.LSTM: nnqd.LSTM, nnqr.GRU: nnqd.GRU}
DYNAMIC_LOWER_FUSED_MODULE_MAP = {nni.LinearReLU: (nnqr.Linear, nniqd.LinearReLU)}
WEIGHT_ONLY_LOWER_MODULE_MAP = {nnqr.Embedding: nnq.Embedding, nnqr.EmbeddingBag: nnq.EmbeddingBag}


def _special_pattern_lower_module_map():
    return {nn.BatchNorm2d: nnq.BatchNorm2d, nn.BatchNorm3d: nnq.BatchNorm3d, nn.Dropout: nnq.Dropout,
            nn.Hardswish: nnq.Hardswish, nn.LeakyReLU: nnq.LeakyReLU, nn.ELU: nnq.ELU, nn.LayerNorm: nnq.LayerNorm,
            nn.GroupNorm: nnq.GroupNorm, nn.InstanceNorm1d: nnq.InstanceNorm1d, nn.InstanceNorm2d: nnq.InstanceNorm2d,
            nn.InstanceNorm3d: nnq.InstanceNorm3d, nni.BNReLU2d: nniq.BNReLU2d, nni.BNReLU3d: nniq.BNReLU3d}


def _qbin_op_mappings():
    q = ember.ops.quantized
    plain = {operator.add: q.add, ember.add: q.add, operator.mul: q.mul, ember.mul: q.mul}
    relu = {operator.add: q.add_relu, ember.add: q.add_relu, operator.mul: q.mul_relu, ember.mul: q.mul_relu}
    return plain, relu


def _node_in_list(node, modules, functions, methods, module_types):
    is_function = node.op == "call_function" and any(node.target is f for f in functions)
    is_method = node.op == "call_method" and node.target in methods
    is_module = node.op == "call_module" and type(modules.get(str(node.target))) in module_types
    return is_function, is_method, is_module


def is_fixed_qparams_node(node, modules):
    F = nn.functional
    return _node_in_list(node, modules, [F.hardsigmoid, F.sigmoid, ember.sigmoid, ember.tanh],
                         ["hardsigmoid", "hardsigmoid_", "sigmoid", "sigmoid_", "tanh", "tanh_"],
                         [nn.Hardsigmoid, nn.Sigmoid, nn.Tanh, nn.Softmax])


def is_default_node(node, modules):
    F = nn.functional
    return _node_in_list(node, modules, [F.elu, F.hardswish, F.instance_norm, F.layer_norm, F.leaky_relu, F.dropout],
                         [], [nn.ELU, nn.LeakyReLU, nn.Hardswish, nn.InstanceNorm1d, nn.InstanceNorm2d,
                              nn.InstanceNorm3d, nn.LayerNorm, nn.Dropout, nn.PReLU, nn.BatchNorm2d, nn.BatchNorm3d,
                              nni.BNReLU2d, nni.BNReLU3d])


def is_copy_node(node, modules):
    F = nn.functional
    return _node_in_list(node, modules,
                         [ember.adaptive_avg_pool1d, F.adaptive_avg_pool2d, F.adaptive_avg_pool3d, F.hardtanh,
                          F.hardtanh_, F.interpolate, F.max_pool1d, F.max_pool2d, F.max_pool3d, F.relu, F.relu6,
                          ember.avg_pool1d, F.avg_pool2d, F.avg_pool3d, ember.clamp, ember.flatten, ember.mean,
                          operator.floordiv, ember.channel_shuffle],
                         ["clamp", "mean", "relu", "relu_"],
                         [nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d, nn.AvgPool1d,
                          nn.AvgPool2d, nn.AvgPool3d, nn.Hardtanh, nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d,
                          nn.ReLU, nn.ReLU6, nn.ChannelShuffle])


def is_general_tensor_shape_node(node, modules):
    F = nn.functional
    return _node_in_list(node, modules,
                         [ember.narrow, ember.transpose, ember.repeat_interleave, ember.squeeze, ember.stack,
                          ember.unsqueeze, F.pixel_shuffle, F.pixel_unshuffle],
                         ["contiguous", "detach", "detach_", "permute", "repeat", "repeat_interleave", "reshape",
                          "resize_", "shape", "size", "squeeze", "squeeze_", "transpose", "unsqueeze",
                          "unsqueeze_", "view"],
                         [nn.Identity, nn.PixelShuffle, nn.PixelUnshuffle])


def is_other_node(node, modules):
    return _node_in_list(node, modules, [ember.cat], [], [])


def is_special_pattern_node(node, modules):
    result = [False, False, False]
    for checker in (is_fixed_qparams_node, is_default_node, is_copy_node, is_general_tensor_shape_node,
                    is_other_node):
        result = [a or b for a, b in zip(result, checker(node, modules))]
    return tuple(result)


def is_dequantize_node(node):
    return isinstance(node, Node) and node.op == "call_method" and node.target == "dequantize"


def _should_skip_lowering(op, qconfig_map):
    return op.name in qconfig_map and qconfig_map[op.name] is None


def _match_static_pattern(node, modules, qconfig_map, matching, dequantize_node_arg_indices):
    """``(quantize node, relu node or None, op node)`` for ``dequantize -> op (-> relu) -> quantize_per_tensor``
    ending at ``node`` with ``op`` in ``matching`` (module classes or functions), else three Nones."""
    skip = (None, None, None)
    if node.op != "call_function" or node.target is not ember.quantize_per_tensor:
        return skip
    q_node = node
    ref_node = q_node.args[0]
    if not isinstance(ref_node, Node):
        return skip
    if (ref_node.op == "call_function" and ref_node.target in (nn.functional.relu, ember.relu)) or (
            ref_node.op == "call_module" and type(modules.get(str(ref_node.target))) is nn.ReLU):
        relu_node = ref_node
        ref_node = relu_node.args[0]
        if not isinstance(ref_node, Node):
            return skip
    else:
        relu_node = None
    if _should_skip_lowering(ref_node, qconfig_map):
        return skip
    if isinstance(matching[0], type) and issubclass(matching[0], nn.Module):
        if ref_node.op != "call_module" or type(modules.get(str(ref_node.target))) not in matching:
            return skip
    elif ref_node.op != "call_function" or not any(ref_node.target is op for op in matching):
        return skip
    matched_dequantize = False
    for i in dequantize_node_arg_indices:
        if i >= len(ref_node.args):
            return skip
        arg = ref_node.args[i]
        if is_dequantize_node(arg):
            matched_dequantize = True
        elif isinstance(arg, Node):
            return skip
    if not matched_dequantize:
        return skip
    return q_node, relu_node, ref_node


def _lower_static_weighted_ref_module(model, qconfig_map):
    modules = dict(model.named_modules(remove_duplicate=False))
    matching = list(STATIC_LOWER_MODULE_MAP) + list(STATIC_LOWER_FUSED_MODULE_MAP)
    for n in list(model.graph.nodes):
        q_node, relu_node, ref_node = _match_static_pattern(n, modules, qconfig_map, matching, [0])
        if q_node is None or relu_node is not None:
            continue
        ref_module = modules[str(ref_node.target)]
        ref_class = type(ref_module)
        if ref_class in STATIC_LOWER_FUSED_MODULE_MAP:
            inner_ref_class, q_class = STATIC_LOWER_FUSED_MODULE_MAP[ref_class]
            if type(ref_module[0]) is not inner_ref_class:
                continue
        else:
            q_class = STATIC_LOWER_MODULE_MAP[ref_class]
        _, scale_node, zero_point_node, _ = q_node.args
        q_module = q_class.from_reference(ref_module, getattr(model, scale_node.target),
                                          getattr(model, zero_point_node.target))
        parent, name = _parent_name(ref_node.target)
        setattr(modules[parent], name, q_module)
        modules[str(ref_node.target)] = q_module
        dq_node = ref_node.args[0]
        ref_node.replace_input_with(dq_node, dq_node.args[0])
        q_node.replace_all_uses_with(ref_node)
        model.graph.erase_node(q_node)
        model.graph.erase_node(scale_node)
        model.graph.erase_node(zero_point_node)


def _static_lower_functional_map():
    F, q = nn.functional, ember.ops.quantized
    return {F.linear: (q.linear, q.linear_relu, q.linear_prepack),
            F.conv1d: (q.conv1d, q.conv1d_relu, q.conv1d_prepack),
            F.conv2d: (q.conv2d, q.conv2d_relu, q.conv2d_prepack),
            F.conv3d: (q.conv3d, q.conv3d_relu, q.conv3d_prepack)}


def _lower_static_weighted_ref_functional(model, qconfig_map):
    """``dequantize -> F.linear/F.conv (-> relu) -> quantize_per_tensor`` with a quantized weight becomes
    ``torch.ops.quantized.linear(_relu)``/``conv2d(_relu)`` on prepacked weights (folded later)."""
    modules = dict(model.named_modules(remove_duplicate=False))
    table = _static_lower_functional_map()
    for n in list(model.graph.nodes):
        q_node, relu_node, func_node = _match_static_pattern(n, modules, qconfig_map, list(table), [0, 1])
        if q_node is None:
            continue
        _, output_scale_node, output_zp_node, _ = q_node.args
        input_dq_node, weight_dq_node, *remaining = func_node.args
        quantized_weight = weight_dq_node.args[0]
        if not isinstance(quantized_weight, Node) or quantized_weight.op != "call_function" or \
                quantized_weight.target not in (ember.quantize_per_tensor, ember.quantize_per_channel):
            continue
        q_func, q_relu_func, prepack_op = table[next(f for f in table if f is func_node.target)]
        kwargs = dict(func_node.kwargs)
        if func_node.target is nn.functional.linear and "bias" in kwargs:   # linear_prepack names it B
            kwargs["B"] = kwargs.pop("bias")
        with model.graph.inserting_before(output_scale_node):
            packed_weight = model.graph.create_node("call_function", prepack_op,
                                                    tuple([quantized_weight] + remaining), kwargs)
        func_node.target = q_relu_func if relu_node is not None else q_func
        func_node.args = (input_dq_node.args[0], packed_weight, output_scale_node, output_zp_node)
        func_node.kwargs = {}
        q_node.replace_all_uses_with(func_node)
        output_zp_node.append(func_node)
        model.graph.erase_node(q_node)
        if relu_node is not None:
            model.graph.erase_node(relu_node)


def _prepack_ops():
    q = ember.ops.quantized
    return (q.linear_prepack, q.conv1d_prepack, q.conv2d_prepack, q.conv3d_prepack)


def _save_packed_weight(module, destination, prefix, keep_vars):
    for name, value in vars(module).items():
        if "_packed_weight" in name and not isinstance(value, (ember.Tensor, nn.Module)):
            destination[prefix + name] = value


def _load_packed_weight(module, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                        error_msgs):
    for key in [k for k in state_dict if k.startswith("_packed_weight")
                and not isinstance(state_dict[k], ember.Tensor)]:
        setattr(module, key, state_dict.pop(key))


def fold_weight(model, node_name_to_scope, keep_original_weights=False):
    """Evaluates each prepack op whose inputs are all constants and keeps its result as the attribute
    ``<scope>_packed_weight_<i>``, read by a ``get_attr`` in its place."""
    graph = model.graph
    prepacks = _prepack_ops()

    def evaluate(node, env):
        if not isinstance(node, Node):
            return node
        if node.name in env:
            return env[node.name]
        if node.op == "get_attr":
            value = model
            for atom in node.target.split("."):
                value = getattr(value, atom)
        elif node.op == "call_function":
            args = tuple(evaluate_arg(a, env) for a in node.args)
            kwargs = {k: evaluate_arg(v, env) for k, v in node.kwargs.items()}
            if any(a is _NOT_CONSTANT for a in args + tuple(kwargs.values())):
                return _NOT_CONSTANT
            value = node.target(*args, **kwargs)
        else:
            return _NOT_CONSTANT
        env[node.name] = value
        return value

    def evaluate_arg(a, env):
        if isinstance(a, (list, tuple)):
            values = [evaluate_arg(x, env) for x in a]
            return _NOT_CONSTANT if any(v is _NOT_CONSTANT for v in values) else type(a)(values)
        return evaluate(a, env)

    for node in list(graph.nodes):
        if node.op != "call_function" or not any(node.target is p for p in prepacks):
            continue
        packed = evaluate(node, {})
        if packed is _NOT_CONSTANT:
            continue
        user = next(iter(node.users))
        module_path = node_name_to_scope.get(user.name, ("", None))[0]
        name = get_new_attr_name_with_prefix(module_path + "_packed_weight_")(model)
        setattr(model, name, packed)
        with graph.inserting_before(node):
            attr = graph.create_node("get_attr", name)
        node.replace_all_uses_with(attr)
        graph.erase_node(node)
    graph.eliminate_dead_code()
    folded = GraphModule(model, graph)
    for name, value in vars(model).items():
        if "_packed_weight" in name and not isinstance(value, (ember.Tensor, nn.Module)) and \
                any(n.op == "get_attr" and n.target == name for n in graph.nodes):
            setattr(folded, name, value)
    if any("_packed_weight" in name for name in vars(folded)):
        folded._register_state_dict_hook(_save_packed_weight)
        folded._register_load_state_dict_pre_hook(_load_packed_weight, with_module=True)
    return folded


_NOT_CONSTANT = object()


def _lower_dynamic_weighted_ref_module(model):
    """``quantize_per_tensor_dynamic -> dequantize -> reference module`` becomes the dynamically quantized module
    on the float input."""
    modules = dict(model.named_modules(remove_duplicate=False))
    for ref_node in list(model.graph.nodes):
        if ref_node.op != "call_module" or type(modules[str(ref_node.target)]) not in (
                set(DYNAMIC_LOWER_MODULE_MAP) | set(DYNAMIC_LOWER_FUSED_MODULE_MAP)):
            continue
        dq_node = ref_node.args[0]
        if not is_dequantize_node(dq_node):
            continue
        q_node = dq_node.args[0]
        if not isinstance(q_node, Node) or q_node.op != "call_function" or \
                q_node.target is not ember.quantize_per_tensor_dynamic:
            continue
        if q_node.args[1] not in (ember.quint8, ember.qint8, ember.float16):
            continue
        ref_module = modules[str(ref_node.target)]
        if type(ref_module) in DYNAMIC_LOWER_FUSED_MODULE_MAP:
            inner_ref_class, q_class = DYNAMIC_LOWER_FUSED_MODULE_MAP[type(ref_module)]
            if type(ref_module[0]) is not inner_ref_class:
                continue
        else:
            q_class = DYNAMIC_LOWER_MODULE_MAP[type(ref_module)]
        parent, name = _parent_name(ref_node.target)
        setattr(modules[parent], name, q_class.from_reference(ref_module))
        ref_node.replace_input_with(dq_node, q_node.args[0])


def _lower_weight_only_weighted_ref_module(model):
    """Reference embeddings become quantized ones."""
    modules = dict(model.named_modules(remove_duplicate=False))
    for ref_node in model.graph.nodes:
        if ref_node.op != "call_module" or type(modules[str(ref_node.target)]) not in WEIGHT_ONLY_LOWER_MODULE_MAP:
            continue
        ref_module = modules[str(ref_node.target)]
        parent, name = _parent_name(ref_node.target)
        setattr(modules[parent], name, WEIGHT_ONLY_LOWER_MODULE_MAP[type(ref_module)].from_reference(ref_module))


def _lower_quantized_binary_op(model, qconfig_map):
    modules = dict(model.named_modules(remove_duplicate=False))
    plain, with_relu = _qbin_op_mappings()
    for n in list(model.graph.nodes):
        q_node, relu_node, bop_node = _match_static_pattern(n, modules, qconfig_map, list(plain), [0, 1])
        if q_node is None:
            continue
        num_dq = 0
        for arg in bop_node.args[:2]:
            if is_dequantize_node(arg):
                bop_node.replace_input_with(arg, arg.args[0])
                num_dq += 1
        qbin_op = (plain if relu_node is None else with_relu)[bop_node.target]
        args = list(bop_node.args)
        if num_dq == 2:
            args += [q_node.args[1], q_node.args[2]]
        with model.graph.inserting_after(q_node):
            qop_node = model.graph.create_node("call_function", qbin_op, tuple(args), {})
            qop_node.meta = dict(bop_node.meta)
            q_node.replace_all_uses_with(qop_node)
        model.graph.erase_node(q_node)
        if relu_node is not None:
            model.graph.erase_node(relu_node)
        model.graph.erase_node(bop_node)


def _lower_getattr_tensor_metadata_op(model):
    for n in model.graph.nodes:
        if n.op == "call_function" and n.target is getattr and len(n.args) > 1 and \
                n.args[1] in ("shape", "dtype", "device") and is_dequantize_node(n.args[0]):
            n.replace_input_with(n.args[0], n.args[0].args[0])


def _lower_get_tensor_info_op(model):
    for n in model.graph.nodes:
        if n.op == "call_method" and n.target in ("shape", "size") and n.args and is_dequantize_node(n.args[0]):
            n.replace_input_with(n.args[0], n.args[0].args[0])


def special_pattern_replacement(model):
    """``dequantize -> op -> quantize_per_tensor`` for ops that take quantized tensors as they are: the op runs on
    the quantized input (a module with qparams of its own becomes its quantized form; a functional one,
    ``torch.ops.quantized.<op>`` with the output qparams)."""
    modules = dict(model.named_modules(remove_duplicate=False))
    lower_map = _special_pattern_lower_module_map()
    for q_node in list(model.graph.nodes):
        if q_node.op != "call_function" or q_node.target is not ember.quantize_per_tensor:
            continue
        ref_node = q_node.args[0]
        if not isinstance(ref_node, Node):
            continue
        is_function, is_method, is_module = is_special_pattern_node(ref_node, modules)
        if not (is_module or is_function or is_method):
            continue
        if not ref_node.args and not ref_node.kwargs:
            continue
        dq = ref_node.args[0] if ref_node.args else next(iter(ref_node.kwargs.values()))
        if isinstance(dq, Node):
            is_dequantize = is_dequantize_node(dq)
            dq_nodes = [dq]
        elif isinstance(dq, (list, tuple)):
            is_dequantize = all(is_dequantize_node(x) for x in dq)
            dq_nodes = list(dq)
        else:
            continue
        if not is_dequantize:
            continue
        default_function, _, default_module = is_default_node(ref_node, modules)
        if (default_module and type(modules[str(ref_node.target)]) not in lower_map) or \
                (default_function and _default_function_qop(ref_node.target) is None):
            continue   # no quantized kernel in ember (LayerNorm, InstanceNorm, PReLU): the op stays float
        if is_module:
            ref_module = modules[str(ref_node.target)]
            if type(ref_module) in lower_map:
                scale_node, zero_point_node = q_node.args[1], q_node.args[2]
                q_module = lower_map[type(ref_module)].from_reference(
                    ref_module, getattr(model, scale_node.target), getattr(model, zero_point_node.target))
                parent, name = _parent_name(ref_node.target)
                setattr(modules[parent], name, q_module)
                modules[str(ref_node.target)] = q_module
        for dq_node in dq_nodes:
            ref_node.replace_input_with(dq_node, dq_node.args[0])
        qparams = list(q_node.args)[1:]
        q_node.replace_all_uses_with(ref_node)
        model.graph.erase_node(q_node)
        default_function, _, _ = is_default_node(ref_node, modules)
        if default_function:
            qop = _default_function_qop(ref_node.target)
            args, kwargs = list(ref_node.args), dict(ref_node.kwargs)
            for name in _QOP_ARGS_TO_SKIP.get(qop.__name__, ()):   # as PyTorch's QOP_TO_ARG_NAMES_TO_SKIP
                kwargs.pop(name, None)
            kwargs["output_scale"], kwargs["output_zero_point"] = qparams[0], qparams[1]
            with model.graph.inserting_after(qparams[1]):
                qop_node = model.graph.create_node("call_function", qop, tuple(args), kwargs)
                ref_node.replace_all_uses_with(qop_node)
                model.graph.erase_node(ref_node)
        else:
            for n in qparams:
                if isinstance(n, Node):
                    model.graph.erase_node(n)
    return model


_QOP_ARGS_TO_SKIP = {"hardswish": ("inplace",), "elu": ("inplace",), "dropout": ("inplace",),
                     "instance_norm": ("running_mean", "running_var", "use_input_stats", "momentum")}


def _default_function_qop(target):
    F = nn.functional
    q = ember.ops.quantized
    table = {F.elu: q.elu, F.hardswish: q.hardswish, F.leaky_relu: q.leaky_relu, F.dropout: q.dropout,
             F.layer_norm: q.layer_norm, F.instance_norm: q.instance_norm}
    for fn, op in table.items():
        if target is fn:
            return op
    return None


def _lower_to_native_backend(model, qconfig_map, node_name_to_scope, keep_original_weights=False):
    _lower_static_weighted_ref_module(model, qconfig_map)
    _lower_dynamic_weighted_ref_module(model)
    _lower_weight_only_weighted_ref_module(model)
    _lower_static_weighted_ref_functional(model, qconfig_map)
    _lower_quantized_binary_op(model, qconfig_map)
    _lower_getattr_tensor_metadata_op(model)
    _lower_get_tensor_info_op(model)
    special_pattern_replacement(model)
    model.graph.eliminate_dead_code()
    model = fold_weight(model, node_name_to_scope, keep_original_weights)
    model.graph.lint()
    return model


def lower_to_fbgemm(model, qconfig_map, node_name_to_scope, keep_original_weights=False):
    """The reference model ``model`` lowered to fbgemm's (and x86's) quantized modules and ops."""
    return _lower_to_native_backend(model, qconfig_map, node_name_to_scope, keep_original_weights)


def lower_to_qnnpack(model, qconfig_map, node_name_to_scope):
    """The reference model ``model`` lowered to qnnpack's quantized modules and ops."""
    return _lower_to_native_backend(model, qconfig_map, node_name_to_scope)
