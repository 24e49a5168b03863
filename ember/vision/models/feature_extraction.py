"""torchvision's feature extraction on ``ember.fx``: ``get_graph_node_names`` lists a model's nodes by module path
(``layer1.0.relu_1``), ``create_feature_extractor`` rewrites the model to return chosen nodes' values."""
import copy
import inspect
import math
import re
import warnings
from collections import OrderedDict
from itertools import chain

from ... import Tensor, fx, nn

__all__ = ["create_feature_extractor", "get_graph_node_names"]


class LeafModuleAwareTracer(fx.Tracer):
    """A Tracer that also keeps the module classes in ``leaf_modules`` as single ``call_module`` nodes."""

    def __init__(self, *args, **kwargs):
        self.leaf_modules = kwargs.pop("leaf_modules", {})
        super().__init__(*args, **kwargs)

    def is_leaf_module(self, m, module_qualname):
        """True for the given leaf classes and the default leaves."""
        if isinstance(m, tuple(self.leaf_modules)):
            return True
        return super().is_leaf_module(m, module_qualname)


class NodePathTracer(LeafModuleAwareTracer):
    """Records, for each node, its name as a path from the top module to the operation or leaf module
    (``layer1.0.conv1``, ``layer1.0.add``), repeats within one parent numbered ``_1``, ``_2``, ... in
    ``node_to_qualname``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.current_module_qualname = ""
        self.node_to_qualname = OrderedDict()

    def call_module(self, m, forward, args, kwargs):
        """Tracks the path of the module being traced through."""
        old_qualname = self.current_module_qualname
        try:
            module_qualname = self.path_of_module(m)
            self.current_module_qualname = module_qualname
            if not self.is_leaf_module(m, module_qualname):
                return forward(*args, **kwargs)
            return self.create_proxy("call_module", module_qualname, args, kwargs)
        finally:
            self.current_module_qualname = old_qualname

    def create_proxy(self, kind, target, args, kwargs, name=None, type_expr=None, *_):
        """Records the node and its path name."""
        proxy = super().create_proxy(kind, target, args, kwargs, name, type_expr)
        self.node_to_qualname[proxy.node] = self._get_node_qualname(self.current_module_qualname, proxy.node)
        return proxy

    def _get_node_qualname(self, module_qualname, node):
        node_qualname = module_qualname
        if node.op != "call_module":
            if node_qualname:
                node_qualname += "."
            node_qualname += str(node)
        # fx numbers repeats across the whole graph; number them within their parent instead.
        if re.match(r".+_[0-9]+$", node_qualname) is not None:
            node_qualname = node_qualname.rsplit("_", 1)[0]
        for existing in reversed(self.node_to_qualname.values()):
            if re.match(rf"{node_qualname}(_[0-9]+)?$", existing) is not None:
                postfix = existing.replace(node_qualname, "")
                node_qualname += f"_{int(postfix[1:]) + 1 if postfix else 1}"
                break
        return node_qualname


def _is_subseq(x, y):
    iter_x = iter(x)
    return all(any(x_item == y_item for x_item in iter_x) for y_item in y)


def _warn_graph_differences(train_tracer, eval_tracer):
    train_nodes = list(train_tracer.node_to_qualname.values())
    eval_nodes = list(eval_tracer.node_to_qualname.values())
    if train_nodes == eval_nodes:
        return
    suggestion = ("When choosing nodes for feature extraction, you may need to specify output nodes for train and "
                  "eval mode separately.")
    if _is_subseq(train_nodes, eval_nodes):
        msg = "NOTE: The nodes obtained by tracing the model in eval mode are a subsequence of those obtained in " \
              "train mode. "
    elif _is_subseq(eval_nodes, train_nodes):
        msg = "NOTE: The nodes obtained by tracing the model in train mode are a subsequence of those obtained in " \
              "eval mode. "
    else:
        msg = "The nodes obtained by tracing the model in train mode are different to those obtained in eval mode. "
    warnings.warn(msg + suggestion, stacklevel=3)


def _get_leaf_modules_for_ops():
    from .. import ops
    return [obj for _, obj in inspect.getmembers(ops)
            if inspect.isclass(obj) and issubclass(obj, nn.Module) and obj is not nn.Module]


def _set_default_tracer_kwargs(original):
    from .. import ops
    result = {} if original is None else original
    default_autowrap = (math, ops)
    default_leaves = _get_leaf_modules_for_ops()
    result["autowrap_modules"] = (tuple(set(result["autowrap_modules"] + default_autowrap))
                                  if "autowrap_modules" in result else default_autowrap)
    result["leaf_modules"] = (list(set(result["leaf_modules"] + default_leaves))
                              if "leaf_modules" in result else default_leaves)
    return result


def get_graph_node_names(model, tracer_kwargs=None, suppress_diff_warning=False, concrete_args=None):
    """The model's node names in execution order, traced in train mode and in eval mode: ``(train, eval)``."""
    tracer_kwargs = _set_default_tracer_kwargs(tracer_kwargs)
    is_training = model.training
    train_tracer = NodePathTracer(**tracer_kwargs)
    train_tracer.trace(model.train(), concrete_args=concrete_args)
    eval_tracer = NodePathTracer(**tracer_kwargs)
    eval_tracer.trace(model.eval(), concrete_args=concrete_args)
    if not suppress_diff_warning:
        _warn_graph_differences(train_tracer, eval_tracer)
    model.train(is_training)
    return list(train_tracer.node_to_qualname.values()), list(eval_tracer.node_to_qualname.values())


def _copy_attr(from_module, to_module, target):
    """Copies the attribute at dotted path ``target`` (a module, parameter or tensor) into ``to_module``,
    creating empty parent modules as needed; plain tensors become buffers, as fx.GraphModule does."""
    *prefix, field = target.split(".")
    for item in prefix:
        f, t = getattr(from_module, item), getattr(to_module, item, None)
        if f is t:
            return
        if t is None:
            t = nn.Module()
            setattr(to_module, item, t)
        from_module, to_module = f, t
    original = getattr(from_module, field)
    if isinstance(original, Tensor) and not isinstance(original, nn.Parameter):
        to_module.register_buffer(field, original)
    else:
        setattr(to_module, field, original)


class DualGraphModule(fx.GraphModule):
    """A GraphModule with a train graph and an eval graph; ``train(mode)`` switches between them."""

    def __init__(self, root, train_graph, eval_graph, class_name="GraphModule"):
        nn.Module.__init__(self)
        type(self).__name__ = class_name
        self.train_graph, self.eval_graph = train_graph, eval_graph
        for node in chain(train_graph.nodes, eval_graph.nodes):
            if node.op in ("get_attr", "call_module"):
                if not isinstance(node.target, str):
                    raise TypeError(f"node.target should be of type str instead of {type(node.target)}")
                _copy_attr(root, self, node.target)
        self.train()
        self.graph = train_graph
        if eval_graph._tracer_cls != train_graph._tracer_cls:
            raise TypeError(f"Train mode and eval mode should use the same tracer class. Instead got "
                            f"{eval_graph._tracer_cls} for eval vs {train_graph._tracer_cls} for train")
        tracer_cls = self.graph._tracer_cls
        self._tracer_cls = tracer_cls if tracer_cls and "<locals>" not in tracer_cls.__qualname__ else None
        self.meta = {}

    def train(self, mode=True):
        """Switches to the train graph (``mode``) or the eval graph, then sets the mode as Module.train does."""
        if "train_graph" in self.__dict__:
            if mode and not self.training:
                self.graph = self.train_graph
            elif not mode and self.training:
                self.graph = self.eval_graph
        return super().train(mode=mode)

    def __deepcopy__(self, memo):
        holder = nn.Module()
        for name, value in chain(self._modules.items(), self._parameters.items(), self._buffers.items()):
            setattr(holder, name, value)
        result = DualGraphModule(copy.deepcopy(holder, memo), copy.deepcopy(self.train_graph),
                                 copy.deepcopy(self.eval_graph), type(self).__name__)
        memo[id(self)] = result
        result.train(self.training)
        result.meta = copy.deepcopy(self.meta, memo)
        return result


def _to_strdict(n):
    if isinstance(n, list):
        return {str(i): str(i) for i in n}
    return {str(k): str(v) for k, v in n.items()}


def create_feature_extractor(model, return_nodes=None, train_return_nodes=None, eval_return_nodes=None,
                             tracer_kwargs=None, suppress_diff_warning=False, concrete_args=None):
    """A GraphModule computing the model up to the requested nodes and returning their values as a dict
    (``{"layer1": "feat1"}`` returns ``{"feat1": ...}``); names as ``get_graph_node_names`` gives them, a prefix
    naming the last node under it. Unused layers and parameters are dropped."""
    tracer_kwargs = _set_default_tracer_kwargs(tracer_kwargs)
    is_training = model.training
    if all(arg is None for arg in (return_nodes, train_return_nodes, eval_return_nodes)):
        raise ValueError("Either `return_nodes` or `train_return_nodes` and `eval_return_nodes` together, should "
                         "be specified")
    if (train_return_nodes is None) ^ (eval_return_nodes is None):
        raise ValueError("If any of `train_return_nodes` and `eval_return_nodes` are specified, then both should "
                         "be specified")
    if not ((return_nodes is None) ^ (train_return_nodes is None)):
        raise ValueError("If `train_return_nodes` and `eval_return_nodes` are specified, then both should be "
                         "specified")
    if train_return_nodes is None:
        return_nodes = _to_strdict(return_nodes)
        train_return_nodes, eval_return_nodes = copy.deepcopy(return_nodes), copy.deepcopy(return_nodes)
    else:
        train_return_nodes, eval_return_nodes = _to_strdict(train_return_nodes), _to_strdict(eval_return_nodes)
    tracers, graphs = {}, {}
    mode_return_nodes = {"train": train_return_nodes, "eval": eval_return_nodes}
    for mode in ("train", "eval"):
        model.train(mode == "train")
        tracer = NodePathTracer(**tracer_kwargs)
        graph = tracer.trace(model, concrete_args=concrete_args)
        name = type(model).__name__
        graph_module = fx.GraphModule(tracer.root, graph, name)
        available_nodes = list(tracer.node_to_qualname.values())
        if len(set(available_nodes)) != len(available_nodes):
            raise ValueError("There are duplicate nodes! Please raise an issue https://github.com/pytorch/vision/issues")
        for query in mode_return_nodes[mode]:
            if not any(re.match(rf"^{query}(\.|$)", n) is not None for n in available_nodes):
                raise ValueError(f"node: '{query}' is not present in model. Hint: use `get_graph_node_names` to make "
                                 "sure the `return_nodes` you specified are present. It may even be that you need "
                                 "to specify `train_return_nodes` and `eval_return_nodes` separately.")
        for n in [n for n in reversed(graph_module.graph.nodes) if n.op == "output"]:
            graph_module.graph.erase_node(n)
        nodes = list(graph_module.graph.nodes)
        output_nodes = OrderedDict()
        for n in reversed(nodes):
            module_qualname = tracer.node_to_qualname.get(n)
            if module_qualname is None:
                continue
            for query in mode_return_nodes[mode]:
                if ".".join(module_qualname.split(".")[:query.count(".") + 1]) == query:
                    output_nodes[mode_return_nodes[mode][query]] = n
                    mode_return_nodes[mode].pop(query)
                    break
        output_nodes = OrderedDict(reversed(list(output_nodes.items())))
        with graph_module.graph.inserting_after(nodes[-1]):
            graph_module.graph.output(output_nodes)
        graph_module.graph.eliminate_dead_code()
        graph_module.recompile()
        tracers[mode], graphs[mode] = tracer, graph
    if not suppress_diff_warning:
        _warn_graph_differences(tracers["train"], tracers["eval"])
    graph_module = DualGraphModule(model, graphs["train"], graphs["eval"], class_name=name)
    model.train(is_training)
    graph_module.train(is_training)
    return graph_module
