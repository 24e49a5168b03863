"""``Graph``: torch.fx's intermediate representation, a doubly linked list of ``Node``s with unique names."""
import copy
import inspect
import warnings

from ..nn import Module, Parameter
from ._codegen import CodeGen, PythonCode, _Namespace  # noqa: F401  (PythonCode: torch.fx.graph's name)
from .node import Node, map_aggregate, map_arg

__all__ = ["Graph", "PythonCode", "CodeGen"]


_legal_ops = ("call_function", "call_method", "get_attr", "call_module", "placeholder", "output")


class _InsertPoint:
    """The context ``inserting_before``/``inserting_after`` return: new nodes go there until it exits."""

    def __init__(self, graph, new_insert):
        self.graph = graph
        self.orig_insert, graph._insert = graph._insert, new_insert

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        self.graph._insert = self.orig_insert


class _node_list:
    """A live view of a graph's nodes, in order (or reversed); iterating tolerates erasing the current node."""

    def __init__(self, graph, direction="_next"):
        self.graph, self.direction = graph, direction

    def __len__(self):
        return self.graph._len

    def __iter__(self):
        root = self.graph._root
        cur = getattr(root, self.direction)
        while cur is not root:
            if not cur._erased:
                yield cur
            cur = getattr(cur, self.direction)

    def __reversed__(self):
        return iter(_node_list(self.graph, "_prev" if self.direction == "_next" else "_next"))


def _snake_case(s):
    out = []
    for i, ch in enumerate(s):
        if ch.isupper() and i > 0 and s[i - 1].islower():
            out.append("_")
        out.append(ch)
    return "".join(out).lower()


class Graph:
    """A program as a list of nodes: placeholders (inputs), operations, and one output. Build it with
    ``placeholder``/``call_*``/``get_attr``/``output``, edit it, and generate Python from it (``python_code``)."""

    def __init__(self, owning_module=None, tracer_cls=None, tracer_extras=None):
        self._root = Node(self, "", "root", "", (), {})
        self._insert = self._root.prepend
        self._len = 0
        self._graph_namespace = _Namespace()
        self._owning_module = owning_module
        self._tracer_cls = tracer_cls
        self._tracer_extras = tracer_extras
        self._codegen = CodeGen()
        self._co_fields = {}

    @property
    def owning_module(self):
        """The GraphModule this graph belongs to (None for a free graph)."""
        return self._owning_module

    @owning_module.setter
    def owning_module(self, mod):
        self._owning_module = mod

    @property
    def nodes(self):
        """The nodes in program order (a live view: ``len``, iteration, ``reversed``)."""
        return _node_list(self)

    def find_nodes(self, *, op, target=None, sort=True):
        """The nodes with this ``op`` (and ``target``, required for call_function), in program order."""
        if op == "call_function" and target is None:
            raise AssertionError("target must not be None for call_function op")
        return [n for n in self.nodes if n.op == op and (target is None or n.target == target)]

    # --- building ------------------------------------------------------------------------------------------
    def create_node(self, op, target, args=None, kwargs=None, name=None, type_expr=None):
        """Inserts a new node at the insertion point, named ``name`` or after its target, made unique."""
        if op not in _legal_ops:
            raise AssertionError(f"op '{op}' is not in _legal_ops")
        args = () if args is None else args
        kwargs = {} if kwargs is None else kwargs
        if not isinstance(args, tuple):
            raise AssertionError(f"args must be a tuple, got {type(args)}")
        if not isinstance(kwargs, dict):
            raise AssertionError(f"kwargs must be a dict, got {type(kwargs)}")
        target = getattr(target, "_fx_original", target)   # a tracing stand-in records the function itself
        candidate = name if name is not None else self._target_to_str(target)
        node = Node(self, self._graph_namespace.create_name(candidate, None), op, target, args, kwargs, type_expr)
        self._insert(node)
        self._len += 1
        return node

    @staticmethod
    def _target_to_str(target):
        if callable(target):
            op = target.__name__
        else:
            if not isinstance(target, str):
                raise AssertionError(f"Expected target to be str, got {type(target)}")
            op = target
            if op.startswith("__") and op.endswith("__"):
                op = op[2:-2]
        return _snake_case(op)

    def placeholder(self, name, type_expr=None, default_value=inspect.Signature.empty):
        """An input of the function, called ``name``, with an optional default."""
        args = () if default_value is inspect.Signature.empty else (default_value,)
        return self.create_node("placeholder", name, args=args, type_expr=type_expr)

    def get_attr(self, qualified_name, type_expr=None):
        """Fetches a parameter, buffer, module or attribute of the owning module by dotted name."""
        module = self.owning_module
        if module is not None and not _attr_reference_exists(module, qualified_name):
            warnings.warn("Attempted to insert a get_attr Node with no underlying reference in the owning "
                          "GraphModule! Call GraphModule.add_submodule to add the necessary submodule, "
                          "GraphModule.add_parameter to add the necessary Parameter, or nn.Module.register_buffer "
                          "to add the necessary buffer", stacklevel=2)
        return self.create_node("get_attr", qualified_name, type_expr=type_expr)

    def call_module(self, module_name, args=None, kwargs=None, type_expr=None):
        """Calls the submodule at ``module_name`` (a dotted path of the owning module)."""
        if self.owning_module is not None:
            self.owning_module.get_submodule(module_name)   # AttributeError if there is none, as in torch.fx
        return self.create_node("call_module", module_name, args, kwargs, type_expr=type_expr)

    def call_method(self, method_name, args=None, kwargs=None, type_expr=None):
        """Calls method ``method_name`` of ``args[0]``."""
        return self.create_node("call_method", method_name, args, kwargs, type_expr=type_expr)

    def call_function(self, the_function, args=None, kwargs=None, type_expr=None, name=None):
        """Calls a free function (an ember function, an operator, any callable)."""
        return self.create_node("call_function", the_function, args, kwargs, name=name, type_expr=type_expr)

    def output(self, result, type_expr=None):
        """The function's return value (``result`` may hold nodes inside containers)."""
        return self.create_node("output", "output", (result,), type_expr=type_expr)

    def output_node(self):
        """The graph's output node (its last node)."""
        node = next(iter(reversed(self.nodes)))
        if node.op != "output":
            raise AssertionError(f"Expected output node, got op={node.op}")
        return node

    def node_copy(self, node, arg_transform=lambda x: x):
        """Copies ``node`` (from any graph) into this one, its node arguments mapped by ``arg_transform``."""
        args = map_arg(node.args, arg_transform)
        kwargs = map_arg(node.kwargs, arg_transform)
        result = self.create_node(node.op, node.target, args, kwargs, node.name, node.type)
        result.meta = copy.copy(node.meta)
        return result

    def graph_copy(self, g, val_map, return_output_node=False):
        """Copies every node of ``g`` but its output into this graph (``val_map``: old node -> new, filled in);
        returns what ``g`` outputs, mapped."""
        for node in g.nodes:
            if node in val_map:
                continue
            if node.op == "output":
                result = map_arg(node.args[0], lambda n: val_map[n])
                return (result, node) if return_output_node else result
            val_map[node] = self.node_copy(node, lambda n: val_map[n])
        return None

    def __deepcopy__(self, memo=None):
        g = Graph(tracer_cls=self._tracer_cls)
        output_vals = g.graph_copy(self, val_map={}, return_output_node=True)
        g._codegen = copy.deepcopy(self._codegen)
        if output_vals is not None:
            output_val, old_output = output_vals
            g.output(output_val, type_expr=getattr(old_output, "type", None))
        return g

    def __getstate__(self):
        # Nodes as flat records (node arguments by name), so pickling a long graph does not recurse node by node.
        records = []
        for node in self.nodes:
            ref = lambda n: _NodeRef(n.name)  # noqa: E731
            records.append((node.name, node.op, node.target, map_arg(node.args, ref), map_arg(node.kwargs, ref),
                            node.type, node.meta))
        return {"records": records, "codegen": self._codegen, "tracer_cls": self._tracer_cls}

    def __setstate__(self, state):
        self.__init__(tracer_cls=state["tracer_cls"])
        self._codegen = state["codegen"]
        by_name = {}
        for name, op, target, args, kwargs, type_expr, meta in state["records"]:
            lookup = lambda a: by_name[a.name] if isinstance(a, _NodeRef) else a  # noqa: E731
            node = self.create_node(op, target, map_aggregate(args, lookup), map_aggregate(kwargs, lookup), name,
                                    type_expr)
            node.meta = meta
            by_name[name] = node

    # --- editing --------------------------------------------------------------------------------------------
    def inserting_before(self, n=None):
        """Context manager: nodes created inside go just before ``n`` (the start of the graph if None)."""
        if n is None:
            return self.inserting_after(self._root)
        if n.graph is not self:
            raise AssertionError("Node to insert before is not in graph.")
        return _InsertPoint(self, n.prepend)

    def inserting_after(self, n=None):
        """Context manager: nodes created inside go just after ``n`` (the end of the graph if None)."""
        if n is None:
            return self.inserting_before(self._root)
        if n.graph is not self:
            raise AssertionError("Node to insert after is not in graph.")
        return _InsertPoint(self, n.append)

    def erase_node(self, to_erase):
        """Removes a node nothing uses any more."""
        if len(to_erase.users) > 0:
            raise RuntimeError(f"Tried to erase Node {to_erase} but it still had {len(to_erase.users)} "
                               f"users in the graph: {to_erase.users}!")
        if to_erase.graph is not self:
            raise RuntimeError(f"Attempting to remove {to_erase} from wrong graph!")
        if to_erase._erased:
            warnings.warn(f"erase_node({to_erase}) on an already erased node", stacklevel=2)
            return
        to_erase._remove_from_list()
        to_erase._erased = True
        self._len -= 1
        to_erase._update_args_kwargs(map_arg(to_erase._args, lambda n: None),
                                     map_arg(to_erase._kwargs, lambda n: None))

    def eliminate_dead_code(self, is_impure_node=None):
        """Erases nodes whose values nothing uses and that have no side effects; returns whether any went."""
        self.lint()
        changed = False
        for node in reversed(self.nodes):
            impure = is_impure_node(node) if is_impure_node is not None else node.is_impure()
            if not impure and len(node.users) == 0:
                self.erase_node(node)
                changed = True
        return changed

    def lint(self):
        """Checks the graph is well formed: nodes belong to it, inputs come before their users, names are unique,
        module and attribute targets exist in the owning module."""
        seen_names, seen_values = set(), set()
        for node in self.nodes:
            if node.graph is not self:
                raise RuntimeError(f"Node '{node}' does not belong to this Graph!")
            for arg in node._input_nodes:
                if arg.graph is not self:
                    raise RuntimeError(f"Argument '{arg}' of Node '{node}' does not belong to this Graph, but was "
                                       "used as an argument! If you are copying nodes from another graph, make "
                                       "sure to use ``arg_transform`` on node_copy() to remap values\n"
                                       f"{self}")
                if arg not in seen_values:
                    raise RuntimeError(f"Argument '{arg}' of Node '{node}' was used before it has been defined! "
                                       "Please check that Nodes in the graph are topologically ordered\n"
                                       f"{self}")
            if node.name in seen_names:
                raise RuntimeError(f"Node redefined name {node.name}!")
            seen_names.add(node.name)
            seen_values.add(node)
            if self.owning_module is not None and node.op in ("get_attr", "call_module"):
                self._lint_target(node)

    def _lint_target(self, node):
        atoms = node.target.split(".")
        owner = self.owning_module
        for i, atom in enumerate(atoms):
            found = getattr(owner, atom, None)
            seen_qualname = ".".join(atoms[:i])
            if found is None:
                raise RuntimeError(f"Node {node} target {node.target} references nonexistent attribute {atom} of "
                                   f"{seen_qualname}")
            if node.op == "call_module" and not isinstance(found, Module):
                raise RuntimeError(f"Node {node} target {node.target} {atom} of {seen_qualname} does not reference "
                                   "an nn.Module")
            owner = found

    # --- output ---------------------------------------------------------------------------------------------
    def set_codegen(self, codegen):
        """Sets the ``CodeGen`` that writes this graph's Python."""
        self._codegen = codegen

    def process_inputs(self, *args):
        """The graph's inputs from a call's arguments, as the code generator defines them."""
        return self._codegen.process_inputs(*args)

    def process_outputs(self, out):
        """A call's result from the graph's output, as the code generator defines it."""
        return self._codegen.process_outputs(out)

    def python_code(self, root_module, *, verbose=False, include_stride=False, include_device=False, colored=False):
        """The Python source of this graph as a ``forward`` method (``root_module``: the name of ``self``) and the
        globals it needs, as a ``PythonCode``; ``verbose`` adds stack-trace comments and shape annotations (with
        strides and devices where asked, for nodes whose ``meta["val"]`` holds a tensor), ``colored`` ANSI colors."""
        namespace = _Namespace()
        for node in self.nodes:
            namespace.associate_name_with_obj(node.name, node)
            namespace._used_names.add(node.name)
        return self._codegen._gen_python_code(list(self.nodes), root_module, namespace, verbose=verbose,
                                              include_stride=include_stride, include_device=include_device,
                                              colored=colored)

    def __str__(self):
        lines = ["graph():"]
        for node in self.nodes:
            line = node.format_node()
            if line:
                lines.append("    " + line)
        return "\n".join(lines)

    def print_tabular(self):
        """Prints the nodes as a table (opcode, name, target, args, kwargs), through ``tabulate``."""
        try:
            from tabulate import tabulate
        except ImportError:
            print("`print_tabular` relies on the library `tabulate`, which could not be found on this machine. "
                  "Run `pip install tabulate` to install the library.")
            raise
        rows = [[n.op, n.name, n.target, n.args, n.kwargs] for n in self.nodes]
        print(tabulate(rows, headers=["opcode", "name", "target", "args", "kwargs"]))


class _NodeRef:
    """A node argument in a pickled graph: the node's name."""

    def __init__(self, name):
        self.name = name


def _attr_reference_exists(module, qualified_name):
    """Whether ``qualified_name`` names a submodule, parameter or buffer of ``module`` (what get_attr may read)."""
    module_path, _, name = qualified_name.rpartition(".")
    try:
        submod = module.get_submodule(module_path)
    except AttributeError:
        warnings.warn(f"Failed to fetch module {module_path}!", stacklevel=3)
        return False
    if not hasattr(submod, name):
        return False
    found = getattr(submod, name)
    return isinstance(found, (Module, Parameter)) or name in submod._buffers
