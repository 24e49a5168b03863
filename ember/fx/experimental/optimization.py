"""``torch.fx.experimental.optimization``: inference rewrites of traced models: folding BatchNorm into the
convolution or linear layer before it (``fuse``), dropping dropout layers (``remove_dropout``), and cutting a
subgraph out into a module of its own (``extract_subgraph``)."""
import copy

from ... import nn
from ..graph import Graph
from ..graph_module import GraphModule
from ..interpreter import Transformer
from ..node import Node

__all__ = ["extract_subgraph", "fuse", "matches_module_pattern", "remove_dropout", "replace_node_module"]


def _parent_name(target):
    """``('foo.bar', 'baz')`` for ``'foo.bar.baz'``."""
    *parent, name = target.rsplit(".", 1)
    return parent[0] if parent else "", name


def matches_module_pattern(pattern, node, modules):
    """Whether ``node`` and its first argument call modules of exactly the types of ``pattern`` (first argument's
    type first)."""
    if len(node.args) == 0:
        return False
    for expected_type, current in zip(pattern, (node.args[0], node)):
        if (not isinstance(current, Node) or current.op != "call_module" or not isinstance(current.target, str)
                or current.target not in modules or type(modules[current.target]) is not expected_type):
            return False
    return True


def replace_node_module(node, modules, new_module):
    """Puts ``new_module`` where the module ``node`` calls was (in its parent and in ``modules``)."""
    if not isinstance(node.target, str):
        raise AssertionError(f"Expected str target, got {type(node.target)}")  # noqa: TRY004  (torch's type)
    parent_name, name = _parent_name(node.target)
    modules[node.target] = new_module
    setattr(modules[parent_name], name, new_module)


def fuse(model, inplace=False, no_trace=False):
    """A GraphModule of ``model`` (deep-copied unless ``inplace``) in which each Conv1d/2d/3d or Linear followed
    only by a BatchNorm with running statistics has the normalization folded into its weights, for inference."""
    from ...nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval
    from .._symbolic_trace import symbolic_trace
    patterns = [(nn.Conv1d, nn.BatchNorm1d), (nn.Conv2d, nn.BatchNorm2d), (nn.Conv3d, nn.BatchNorm3d),
                (nn.Linear, nn.BatchNorm1d)]
    if not inplace:
        model = copy.deepcopy(model)
    fx_model = model if no_trace and isinstance(model, GraphModule) else symbolic_trace(model)
    modules = dict(fx_model.named_modules())
    new_graph = copy.deepcopy(fx_model.graph)
    for pattern in patterns:
        for node in new_graph.nodes:
            if not matches_module_pattern(pattern, node, modules) or len(node.args[0].users) > 1:
                continue   # the layer's output is used elsewhere too: it must stay unnormalized
            first_layer, bn = modules[node.args[0].target], modules[node.target]
            if not bn.track_running_stats:
                continue
            fused = fuse_linear_bn_eval(first_layer, bn) if pattern[0] is nn.Linear else fuse_conv_bn_eval(
                first_layer, bn)
            replace_node_module(node.args[0], modules, fused)
            node.replace_all_uses_with(node.args[0])
            new_graph.erase_node(node)
    return GraphModule(fx_model, new_graph)


class _DropoutRemover(Transformer):
    def call_module(self, target, args, kwargs):
        if isinstance(self.submodules[target], nn.Dropout):
            if len(args) != 1:
                raise AssertionError(f"Expected 1 arg for Dropout, got {len(args)}")
            return args[0]
        return super().call_module(target, args, kwargs)


def remove_dropout(model):
    """A GraphModule of ``model`` with its ``nn.Dropout`` layers left out."""
    from .._symbolic_trace import symbolic_trace
    return _DropoutRemover(symbolic_trace(model)).transform()


def extract_subgraph(orig_module, nodes, inputs, outputs):
    """A GraphModule (on ``orig_module``'s attributes) computing ``outputs`` from ``inputs`` by ``nodes``."""
    new_graph = Graph()
    env = {}
    for node in inputs:
        env[node] = new_graph.placeholder(node.name)
    for node in nodes:
        env[node] = new_graph.node_copy(node, lambda x: env[x])
    new_graph.output([env[node] for node in outputs])
    new_graph.lint()
    return GraphModule(orig_module, new_graph)
