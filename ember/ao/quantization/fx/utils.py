"""Helpers of FX graph mode quantization (``torch.ao.quantization.fx.utils``)."""
import ember

from ..fake_quantize import FakeQuantizeBase
from ..observer import ObserverBase, PlaceholderObserver
from ..utils import is_per_channel, is_per_tensor

__all__ = ["get_new_attr_name_with_prefix", "create_getattr_from_value", "all_node_args_have_no_tensors",
           "get_qparam_dict", "node_arg_is_weight", "node_arg_is_bias"]

# the dtypes an observer or fake quantizer quantizes to (float ones pass through)
OBS_DTYPES = ("quint8", "qint8", "qint32", "float16", "uint8", "int8", "int16", "int32", "float8_e5m2",
              "float8_e4m3fn")


def _parent_name(target):
    """``("a.b", "c")`` for ``"a.b.c"``; ``("", "c")`` for ``"c"``."""
    parent, _, name = target.rpartition(".")
    return parent, name


def _is_activation_post_process(module):
    return isinstance(module, (ObserverBase, FakeQuantizeBase))


def get_new_attr_name_with_prefix(prefix):
    """A function giving a module's first free attribute name ``prefix<i>`` (dots in the prefix become ``_``)."""
    prefix = prefix.replace(".", "_")

    def get_new_attr_name(module):
        i = 0
        while hasattr(module, f"{prefix}{i}"):
            i += 1
        return f"{prefix}{i}"
    return get_new_attr_name


def create_getattr_from_value(module, graph, prefix, value, device=None):
    """Registers ``value`` as a buffer of ``module`` under a fresh name from ``prefix`` and returns a ``get_attr``
    node reading it."""
    attr_name = get_new_attr_name_with_prefix(prefix)(module)
    tensor = value.detach().clone() if isinstance(value, ember.Tensor) else ember.tensor(value, device=device)
    module.register_buffer(attr_name, tensor)
    return graph.create_node("get_attr", attr_name)


def _dtype_name(dtype):
    return getattr(dtype, "name", None) if dtype is not None and not isinstance(dtype, type) else None


def _is_obs_dtype(dtype):
    return _dtype_name(dtype) in OBS_DTYPES


def all_node_args_have_no_tensors(node, modules, cache):
    """True when ``node``'s value cannot be a tensor: sizes, shapes, dims and arithmetic on them, constants."""
    from ember.fx import Node
    if not isinstance(node, Node):
        return True
    if node in cache:
        return cache[node]
    result = False
    if node.op == "placeholder":
        result = False
    elif node.op == "call_module":
        result = False
    elif node.op == "call_method" and node.target in ("size", "dim", "numel"):
        result = True
    elif node.op == "call_function" and getattr(node.target, "__name__", None) == "getattr" \
            and len(node.args) > 1 and node.args[1] in ("shape", "ndim", "dtype", "device"):
        result = True
    elif node.op in ("call_function", "call_method"):
        found_one = False
        for arg in node.args:
            items = arg if isinstance(arg, (list, tuple)) else [arg]
            for item in items:
                if isinstance(item, Node):
                    found_one = True
                    if not all_node_args_have_no_tensors(item, modules, cache):
                        cache[node] = False
                        return False
        result = found_one or not node.args
    cache[node] = result
    return result


def get_qparam_dict(observer_or_fake_quant):
    """The qparams (scheme, dtype, scale, zero point, axis, range) an observer or fake quantizer chose."""
    qscheme = getattr(observer_or_fake_quant, "qscheme", None)
    dtype = observer_or_fake_quant.dtype
    if not qscheme or isinstance(observer_or_fake_quant, PlaceholderObserver):
        return {"qscheme": None, "dtype": dtype}
    qparams = {"qscheme": qscheme, "dtype": dtype}
    if is_per_tensor(qscheme):
        qscheme = ember.per_tensor_affine
    elif is_per_channel(qscheme):
        if qscheme == ember.per_channel_symmetric:
            qscheme = ember.per_channel_affine
        qparams["axis"] = observer_or_fake_quant.ch_axis
    else:
        raise RuntimeError(f"Unrecognized qscheme: {qscheme}")
    qparams["qscheme"] = qscheme
    scale, zero_point = observer_or_fake_quant.calculate_qparams()
    qparams["scale"] = scale
    qparams["zero_point"] = zero_point
    if hasattr(observer_or_fake_quant, "quant_min"):
        qparams["quant_min"] = observer_or_fake_quant.quant_min
    if hasattr(observer_or_fake_quant, "quant_max"):
        qparams["quant_max"] = observer_or_fake_quant.quant_max
    return qparams


def _arg_index(node, arg, key, backend_config):
    if node.op != "call_function" or backend_config is None:
        return False
    config = backend_config._pattern_complex_format_to_config.get(node.target)
    index = config._input_type_to_index.get(key) if config is not None else None
    if index is None:
        return False
    return (index < len(node.args) and node.args[index] is arg) or node.kwargs.get(key) is arg


def node_arg_is_weight(node, arg, backend_config=None):
    """True when ``arg`` is the weight argument of a functional op (``F.linear``, ``F.conv2d``)."""
    return _arg_index(node, arg, "weight", backend_config)


def node_arg_is_bias(node, arg, backend_config=None):
    """True when ``arg`` is the bias argument of a functional op."""
    return _arg_index(node, arg, "bias", backend_config)
