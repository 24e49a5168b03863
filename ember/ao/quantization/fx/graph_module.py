"""The GraphModule classes of FX graph mode quantization's older releases (``torch.ao.quantization.fx.graph_module``):
GraphModules that keep named attributes of their root. ``prepare_fx`` and ``convert_fx`` return plain GraphModules
with their state in ``meta["_observed_graph_module_attrs"]``, as PyTorch's now do."""
import copy

from ember import nn
from ember.fx import GraphModule

__all__ = ["FusedGraphModule", "ObservedGraphModule", "ObservedStandaloneGraphModule", "QuantizedGraphModule"]

_OBSERVED_ATTRS = {"_activation_post_process_map", "_activation_post_process_indexes", "_patterns",
                   "_node_name_to_qconfig", "_prepare_custom_config", "_equalization_node_name_to_qconfig",
                   "_node_name_to_scope", "_qconfig_mapping", "_is_qat", "_observed_node_names"}


class _PreservingGraphModule(GraphModule):
    """A GraphModule that copies ``preserved_attr_names`` from its root."""

    _EXTRA = set()

    def __init__(self, root, graph, preserved_attr_names):
        self.preserved_attr_names = set(self._EXTRA) | set(preserved_attr_names)
        preserved = {attr: getattr(root, attr) for attr in self.preserved_attr_names if hasattr(root, attr)}
        super().__init__(root, graph)
        for attr, value in preserved.items():
            setattr(self, attr, value)

    def __deepcopy__(self, memo):
        fake = nn.Module()
        fake.__dict__ = copy.deepcopy(self.__dict__)
        return type(self)(fake, copy.deepcopy(self.graph), copy.deepcopy(self.preserved_attr_names))


class FusedGraphModule(_PreservingGraphModule):
    """A fused GraphModule keeping its root's preserved attributes."""


class ObservedGraphModule(_PreservingGraphModule):
    """An observed GraphModule keeping its root's preserved attributes and prepare state."""

    _EXTRA = _OBSERVED_ATTRS


class ObservedStandaloneGraphModule(ObservedGraphModule):
    """An observed standalone module, also keeping its quantized input and output indexes."""

    _EXTRA = _OBSERVED_ATTRS | {"_standalone_module_input_quantized_idxs", "_standalone_module_output_quantized_idxs"}


class QuantizedGraphModule(_PreservingGraphModule):
    """A quantized GraphModule keeping its root's preserved attributes."""


def _is_observed_module(module):
    return hasattr(module, "meta") and "_observed_graph_module_attrs" in module.meta


def _get_observed_graph_module_attr(model, attr_name):
    if _is_observed_module(model):
        return getattr(model.meta["_observed_graph_module_attrs"], attr_name)
    return None


def _is_observed_standalone_module(module):
    return _is_observed_module(module) and module.meta["_observed_graph_module_attrs"].is_observed_standalone_module
