"""``torch.fx.traceback``: the node metadata a pass carries over. Under ``preserve_node_meta()``, a node made while
another node is current (``set_current_meta``, as Interpreter/Transformer set it for each node they run) takes
that node's stack trace and the fields of ``COPY_META_FIELDS``, and records where it came from
(``meta["from_node"]``, a list of ``NodeSource``)."""
import copy
import traceback
from contextlib import contextmanager
from enum import Enum

__all__ = ["NodeSource", "NodeSourceAction", "annotate", "format_stack", "get_current_meta",
           "has_preserved_node_meta", "preserve_node_meta", "set_current_meta", "set_stack_trace"]

current_meta = {}
should_preserve_node_meta = False

COPY_META_FIELDS = ("nn_module_stack", "torch_fn", "source_fn_stack", "original_aten", "recompute", "ac_graph_id",
                    "has_backward_hook", "from_node", "quantization_tag", "_numeric_debug_handle", "custom",
                    "partitioner_tag")
"""The meta fields a node made under preserve_node_meta copies from the current node (torch's list)."""


class NodeSourceAction(Enum):
    """How a node was produced from its source node."""

    CREATE = "create"
    REPLACE = "replace"


class NodeSource:
    """Where a node came from: the source node's name, target and graph, the pass that made it, how, and the
    source's own provenance (``from_node``)."""

    def __init__(self, node, pass_name="", action=None):
        action = [] if action is None else action if isinstance(action, list) else [action]
        for a in action:
            if not isinstance(a, NodeSourceAction):
                raise AssertionError(f"Expected NodeSourceAction, got {type(a)}")  # noqa: TRY004  (torch's type)
        self.pass_name = pass_name
        self.action = action
        if node:
            self.name, self.target, self.graph_id = node.name, str(node.target), id(node.graph)
            self.from_node = copy.deepcopy(node.meta["from_node"]) if "from_node" in node.meta else []
        else:
            self.name, self.target, self.graph_id = "", "", -1
            self.from_node = []

    def _action_string(self):
        return "+".join(a.name.lower() for a in self.action)

    def print_readable(self, indent=0):
        """This source and its sources, one indented line each (ten levels at most)."""
        if indent > 9:
            return ""
        line = (" " * indent * 4 + f"(name={self.name}, pass_name={self.pass_name}, action={self._action_string()}, "
                f"graph_id={self.graph_id})\n")
        return line + "".join(item.print_readable(indent + 1) for item in self.from_node)

    def __repr__(self):
        return self.print_readable()

    def to_dict(self):
        """This source as nested dicts (name, target, graph_id, pass_name, action, from_node)."""
        return {"name": self.name, "target": self.target, "graph_id": self.graph_id, "pass_name": self.pass_name,
                "action": self._action_string(), "from_node": [item.to_dict() for item in self.from_node]}

    def __eq__(self, other):
        return isinstance(other, NodeSource) and self.to_dict() == other.to_dict()

    def __hash__(self):
        def hashable(obj):
            if isinstance(obj, dict):
                return tuple(sorted((k, hashable(v)) for k, v in obj.items()))
            if isinstance(obj, list):
                return tuple(hashable(item) for item in obj)
            return obj
        return hash(hashable(self.to_dict()))


@contextmanager
def preserve_node_meta(enable=True):
    """Within it, nodes made while another node is current copy that node's metadata."""
    global should_preserve_node_meta, current_meta
    saved_flag, saved_meta = should_preserve_node_meta, current_meta.copy()
    try:
        should_preserve_node_meta = enable
        yield
    finally:
        should_preserve_node_meta, current_meta = saved_flag, saved_meta


def has_preserved_node_meta():
    """True inside ``preserve_node_meta()``."""
    return should_preserve_node_meta


@contextmanager
def set_current_meta(node, pass_name=""):
    """Makes ``node``'s metadata the current one (when preserving and ``node`` has any), its provenance a
    ``NodeSource`` of ``node`` made by ``pass_name``."""
    global current_meta
    if not (should_preserve_node_meta and node.meta):
        yield
        return
    saved = current_meta
    try:
        current_meta = node.meta.copy()
        current_meta["from_node"] = [NodeSource(node, pass_name, NodeSourceAction.CREATE)]
        yield
    finally:
        current_meta = saved


def get_current_meta():
    """The current node metadata (a dict)."""
    return current_meta


def set_stack_trace(stack):
    """Sets (or, for an empty ``stack``, clears) the stack trace new nodes take, when preserving."""
    if should_preserve_node_meta:
        if stack:
            current_meta["stack_trace"] = "".join(stack)
        else:
            current_meta.pop("stack_trace", None)


def format_stack():
    """The current stack trace: the preserved one, else Python's stack (this call's caller and up)."""
    if should_preserve_node_meta:
        return [current_meta.get("stack_trace", "")]
    return traceback.format_list(traceback.extract_stack()[:-1])


@contextmanager
def annotate(annotation_dict):
    """Adds ``annotation_dict`` to ``meta["custom"]`` of the nodes made within it (when preserving)."""
    had_custom = "custom" in current_meta
    old_custom = copy.copy(current_meta.get("custom", {}))
    try:
        current_meta.setdefault("custom", {}).update(annotation_dict)
        yield
    finally:
        if had_custom:
            current_meta["custom"] = old_custom
        else:
            del current_meta["custom"]


def copy_current_meta(node):
    """Gives a node being made the current stack trace and copied fields, when preserving (TracerBase's step)."""
    if not should_preserve_node_meta:
        return False
    stack_trace = current_meta.get("stack_trace")
    if stack_trace:
        node.stack_trace = stack_trace
    for field in COPY_META_FIELDS:
        if field in current_meta:
            node.meta[field] = copy.copy(current_meta[field])
    return True
