"""torch.fx on ember: symbolic tracing of Python programs into a ``Graph`` of nodes, graph editing, generated
``GraphModule``s, and interpreting graphs node by node.

A Python-level API for inspecting and rewriting models; ``ember.jit`` keeps its own tracing IR for deployment."""
from .graph import CodeGen, Graph  # noqa: F401  (torch.fx.CodeGen)
from .graph_module import GraphModule
from .interpreter import Interpreter, Transformer
from .node import Node, has_side_effect, map_arg
from .proxy import Proxy
from ._symbolic_trace import PH, ProxyableClassMeta, Tracer, symbolic_trace, wrap  # noqa: F401  (torch.fx's too)
from .subgraph_rewriter import replace_pattern

__all__ = ["symbolic_trace", "Tracer", "wrap", "Graph", "GraphModule", "Interpreter", "Transformer", "Node", "Proxy",
           "replace_pattern", "has_side_effect", "map_arg"]
