"""torch.fx on ember: symbolic tracing of Python programs into a ``Graph`` of nodes, graph editing, generated
``GraphModule``s, and interpreting graphs node by node.

A Python-level API for inspecting and rewriting models; ``ember.jit`` keeps its own tracing IR for deployment."""
from .graph import CodeGen, Graph
from .graph_module import GraphModule
from .interpreter import Interpreter, Transformer
from .node import Node, has_side_effect, map_arg
from .proxy import Proxy, TraceError
from ._symbolic_trace import PH, Tracer, symbolic_trace, wrap
from .subgraph_rewriter import replace_pattern

__all__ = ["CodeGen", "symbolic_trace", "Tracer", "wrap", "Graph", "GraphModule", "Interpreter", "Transformer", "Node",
           "Proxy", "replace_pattern", "has_side_effect", "map_arg", "PH", "TraceError"]
