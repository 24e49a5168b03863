"""The IR: a typed graph of values and nodes, each node naming an op of ember's registry or a ``prim``/``aten``
helper; printed as TorchScript-style ``.graph`` and Python-like ``.code``.

Kinds: ``ember::<Op>`` (an op of ``ember.autograd.function.registry``, called with its inputs), ``aten::<op>``
(TorchScript's ops, from loaded PyTorch archives), ``fn::<module>.<name>``/``method::<name>`` (ember's public tensor
functions and Tensor methods, from ``script``), ``prim::If``/``prim::Loop`` (with blocks), ``prim::Constant``
(``value``), ``prim::GetAttr`` (a parameter or buffer of the module by dotted path, read at every run so
``load_state_dict`` and fine-tuning act on it), ``prim::TupleConstruct``/``prim::ListConstruct``/
``prim::TupleUnpack``. A node that tracing recorded inside a ``trace_inside`` composite (``linear`` runs as
``ember::Linear``) names that call's ``Region``.
"""
import numpy

from .. import _dtype
from .._tensor import Tensor

_SCALAR_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
                 "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
                 "complex64": "ComplexFloat", "complex128": "ComplexDouble", "uint16": "UInt16", "uint32": "UInt32",
                 "uint64": "UInt64"}


class TensorType:
    """A tensor value's type: dtype and shape (as recorded when traced)."""

    __slots__ = ("dtype", "shape")

    def __init__(self, dtype, shape):
        self.dtype, self.shape = dtype, tuple(shape)

    @classmethod
    def of(cls, tensor):
        return cls(tensor.dtype, tensor.shape)

    def __str__(self):
        strides, step = [], 1
        for size in reversed(self.shape):
            strides.append(step)
            step *= max(size, 1)
        dims = "".join(f"{size}, " for size in self.shape)
        return (f"{_SCALAR_NAMES.get(self.dtype.name, self.dtype.name)}({dims}strides={list(reversed(strides))}, "
                f"requires_grad=0, device=cpu)")

    def __eq__(self, other):
        return isinstance(other, TensorType) and (self.dtype, self.shape) == (other.dtype, other.shape)

    __hash__ = None


class Value:
    """One value of the graph: its unique name, its type (a TensorType or a type name) and the node making it."""

    __slots__ = ("name", "type", "node")

    def __init__(self, name, type, node=None):
        self.name, self.type, self.node = name, type, node

    def __repr__(self):
        return f"%{self.name} : {self.type}"


class Node:
    """One step: ``kind`` names the op; ``inputs`` are Values, ``keywords`` the keyword names of the last ones;
    ``value`` carries a constant or an attribute path; ``scope`` is the dotted path of the module that ran it;
    ``unpack`` says the op returns a tuple whose items are the outputs (even a tuple of one); ``region`` is the
    innermost composite call that recorded it, or None."""

    __slots__ = ("kind", "inputs", "keywords", "outputs", "value", "scope", "unpack", "blocks", "region")

    def __init__(self, kind, inputs=(), keywords=(), value=None, scope="", unpack=False):
        self.kind, self.inputs, self.keywords = kind, list(inputs), tuple(keywords)
        self.value, self.scope = value, scope
        self.outputs, self.unpack, self.blocks = [], unpack, []
        self.region = None

    @property
    def op_name(self):
        """The registry name of an ``ember::`` node (``Linear``, ``max_pool2d``)."""
        return self.kind.split("::", 1)[1]

    def positional(self):
        """The inputs passed positionally."""
        return self.inputs[:len(self.inputs) - len(self.keywords)]

    def named(self):
        """The inputs passed by keyword, as a dict of Values."""
        return dict(zip(self.keywords, self.inputs[len(self.inputs) - len(self.keywords):]))

    def __str__(self):
        outputs = ", ".join(f"%{v.name} : {v.type}" for v in self.outputs)
        attribute = ""
        if self.kind == "prim::Constant" and self.value is not None:
            attribute = f"[value={_constant_text(self.value)}]"
        elif self.kind == "prim::GetAttr":
            attribute = f'[name="{self.value}"]'
        args = [f"%{v.name}" for v in self.positional()] + [f"{k}=%{v.name}" for k, v in self.named().items()]
        scope = f"  # {self.scope}" if self.scope else ""
        if self.kind == "prim::PythonOp":   # as PyTorch prints a traced autograd.Function: ^Name[module=...]()(...)
            return f'{outputs} = ^{self.value.__name__}[module="{self.value.__module__}"]()({", ".join(args)}){scope}'
        text = f"{outputs} = {self.kind}{attribute}({', '.join(args)}){scope}"
        for i, block in enumerate(self.blocks):
            text += f"\n  block{i}({', '.join(f'%{v.name} : {v.type}' for v in block.inputs)}):"
            text += "".join(f"\n    {line}" for node in block.nodes for line in str(node).split("\n"))
            text += f"\n    -> ({', '.join(f'%{v.name}' for v in block.outputs)})"
        return text


class Region:
    """A call of a composite op that tracing records as the ops it is built from (``trace_inside``, named only for
    hooks that key on op names): ``op`` is its registry name, ``args``/``kwargs`` its arguments (Values for tensors
    and traced sizes, in the lists and tuples they were passed in; other arguments as they were), ``outputs`` the
    Value or nested tuple of Values it returned, ``parent`` the region it ran inside. The interpreter runs a region's
    nodes as this one call while autocast is on, as PyTorch's tracer keeps ``aten::linear`` and its kin whole."""

    __slots__ = ("op", "args", "kwargs", "outputs", "parent")

    def __init__(self, op, args, kwargs, outputs=None, parent=None):
        self.op, self.args, self.kwargs, self.outputs, self.parent = op, args, kwargs, outputs, parent

    def values(self):
        """The Values among the arguments."""
        return [v for v in leaves((self.args, self.kwargs)) if isinstance(v, Value)]

    def substitute(self, replaced):
        """Points the arguments at the replacements (value name -> Value) a pass made."""
        self.args, self.kwargs = map_values((self.args, self.kwargs), lambda v: replaced.get(v.name, v))


def leaves(obj):
    """The items of ``obj`` outside its (nested) lists, tuples and dicts."""
    if isinstance(obj, (list, tuple)):
        return [leaf for item in obj for leaf in leaves(item)]
    if isinstance(obj, dict):
        return leaves(list(obj.values()))
    return [obj]


def map_values(obj, function):
    """``obj`` with each Value in its (nested) lists, tuples and dicts replaced by ``function(value)``."""
    if isinstance(obj, Value):
        return function(obj)
    if isinstance(obj, (list, tuple)):
        return type(obj)(map_values(item, function) for item in obj)
    if isinstance(obj, dict):
        return {key: map_values(item, function) for key, item in obj.items()}
    return obj


def regions_of(node):
    """The regions ``node`` was recorded in, outermost first."""
    chain, region = [], node.region
    while region is not None:
        chain.append(region)
        region = region.parent
    return chain[::-1]


def drop_regions(nodes, dropped):
    """Forgets the regions in ``dropped`` (a pass rewrote one of their nodes, so the call no longer stands for
    them): each node and region then names the innermost enclosing region that is kept."""
    def kept(region):
        while region is not None and region in dropped:
            region = region.parent
        return region
    regions = {id(r): r for node in nodes for r in regions_of(node)}
    parents = {key: kept(r.parent) for key, r in regions.items()}
    for key, region in regions.items():
        region.parent = parents[key]
    for node in nodes:
        node.region = kept(node.region)


class Block:
    """A nested body of ``prim::If`` (one per branch) or ``prim::Loop``: inputs, nodes and the values it yields."""

    def __init__(self):
        self.inputs, self.nodes, self.outputs = [], [], []


class Graph:
    """A straight-line program: ``inputs``, ``nodes`` in execution order and one ``output`` Value."""

    def __init__(self):
        self.inputs, self.nodes, self.output = [], [], None
        self._names = set()

    def fresh(self, type, hint=None):
        """A new Value with a unique name (``hint`` when free, else a number)."""
        name = hint if hint and hint not in self._names and not hint.isdigit() else None
        if name is None:
            number = len(self._names)
            while str(number) in self._names:
                number += 1
            name = str(number)
        self._names.add(name)
        return Value(name, type)

    def add_input(self, type, hint=None):
        value = self.fresh(type, hint)
        self.inputs.append(value)
        return value

    def add_node(self, node, output_types, hints=()):
        """Appends ``node`` with fresh outputs of ``output_types``; returns the outputs."""
        for i, type in enumerate(output_types):
            value = self.fresh(type, hints[i] if i < len(hints) else None)
            value.node = node
            node.outputs.append(value)
        self.nodes.append(node)
        return node.outputs

    def __str__(self):
        inputs = ", ".join(f"%{v.name} : {v.type}" for v in self.inputs)
        lines = [f"graph({inputs}):"] + [f"  {line}" for node in self.nodes for line in str(node).split("\n")]
        lines.append(f"  return (%{self.output.name})")
        return "\n".join(lines) + "\n"

    def code(self):
        """The graph as Python-like source of a ``forward`` method."""
        names = {}

        def ref(value):
            return names.get(value.name, value.name)

        def ident(value):
            text = value.name.replace(".", "_")
            return text if text.isidentifier() else f"_{text}"

        args = ", ".join(f"{ident(v)}: Tensor" for v in self.inputs)
        for v in self.inputs:
            names[v.name] = ident(v)
        lines = [f"def forward(self, {args}):" if args else "def forward(self):"]
        self._code_lines(self.nodes, lines, names, ref, ident, "  ")
        lines.append(f"  return {ref(self.output)}")
        return "\n".join(lines) + "\n"

    def _code_lines(self, nodes, lines, names, ref, ident, indent):
        for node in nodes:
            if node.kind == "prim::Constant":
                names[node.outputs[0].name] = _constant_text(node.value)
                continue
            positional = [ref(v) for v in node.positional()]
            named = [f"{k}={ref(v)}" for k, v in node.named().items()]
            if node.kind == "prim::GetAttr":
                expression = f"self.{node.value}"
            elif node.kind == "prim::TupleConstruct":
                expression = f"({', '.join(positional)}{',' if len(positional) == 1 else ''})"
            elif node.kind == "prim::ListConstruct":
                expression = f"[{', '.join(positional)}]"
            elif node.kind == "prim::DictConstruct":
                expression = f"{{{', '.join(f'{k}: {v}' for k, v in zip(positional[::2], positional[1::2]))}}}"
            elif node.kind == "prim::TupleUnpack":
                expression = positional[0]
            elif node.kind in ("prim::If", "prim::Loop"):
                self._control_code(node, lines, names, ref, ident, indent)
                continue
            else:
                namespace = "ops" if node.kind.startswith("ember::") else node.kind.split("::")[0]
                expression = f"{namespace}.{node.kind.split('::')[1]}({', '.join(positional + named)})"
            targets = [ident(v) for v in node.outputs]
            for v, target in zip(node.outputs, targets):
                names[v.name] = target
            lines.append(f"{indent}{', '.join(targets) or '_'} = {expression}")

    def _control_code(self, node, lines, names, ref, ident, indent):
        targets = [ident(v) for v in node.outputs]
        if node.kind == "prim::If":
            lines.append(f"{indent}if {ref(node.inputs[0])}:")
            for i, block in enumerate(node.blocks):
                if i and (block.nodes or targets):
                    lines.append(f"{indent}else:")
                before = len(lines)
                self._code_lines(block.nodes, lines, names, ref, ident, indent + "  ")
                for target, value in zip(targets, block.outputs):
                    lines.append(f"{indent}  {target} = {ref(value)}")
                if len(lines) == before and not i:
                    lines.append(f"{indent}  pass")
        else:
            block = node.blocks[0]
            for target, value in zip(targets, node.inputs[2:]):
                lines.append(f"{indent}{target} = {ref(value)}")
            counter = ident(block.inputs[0])
            for value, target in zip(block.inputs[1:], targets):
                names[value.name] = target
            names[block.inputs[0].name] = counter
            lines.append(f"{indent}for {counter} in range({ref(node.inputs[0])}):")
            self._code_lines(block.nodes, lines, names, ref, ident, indent + "  ")
            for target, value in zip(targets, block.outputs[1:]):
                lines.append(f"{indent}  {target} = {ref(value)}")
        for v, target in zip(node.outputs, targets):
            names[v.name] = target


def _constant_text(value):
    if isinstance(value, (Tensor, numpy.ndarray)):
        return f"<Tensor {list(value.shape)}>"
    if isinstance(value, _dtype.dtype):
        return str(value)
    if isinstance(value, tuple):
        return f"({', '.join(map(_constant_text, value))}{',' if len(value) == 1 else ''})"
    if isinstance(value, list):
        return f"[{', '.join(map(_constant_text, value))}]"
    return repr(value)


def value_type(obj):
    """The IR type of a Python object produced by an op."""
    if isinstance(obj, Tensor):
        return TensorType.of(obj)
    if isinstance(obj, bool):
        return "bool"
    if isinstance(obj, int):
        return "int"
    if isinstance(obj, float):
        return "float"
    if obj is None:
        return "NoneType"
    if isinstance(obj, (tuple, list)):
        inner = ", ".join(str(value_type(o)) for o in obj)
        if isinstance(obj, tuple):
            return f"({inner})"
        return "Tensor[]" if not obj or isinstance(obj[0], Tensor) else f"{value_type(obj[0])}[]"
    return type(obj).__name__
