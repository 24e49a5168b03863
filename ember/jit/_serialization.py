"""``jit.save``/``jit.load``: a module's graphs, structure and tensors in one zip archive.

The archive is an ``ember.save`` checkpoint (PyTorch's zip layout and storage format) of a dict holding the program
as JSON text (module tree, one graph per method; constants tagged by type) and the parameters, buffers and tensor
constants. Loading uses the weights-only unpickler and JSON, so no archive can run Python code: the program can
only name ops of ember's registry, and every name, shape and reference is checked before the module is returned.
"""
import io
import json
import math
import os

import numpy

from .. import _dtype
from .._backend import device as _device
from .._tensor import Tensor
from ..nn.parameter import Parameter
from ..serialization import load as _load
from ..serialization import save as _save
from ._ir import Block, Graph, Node, Region, TensorType, Value, leaves, regions_of
from ._module import RecursiveScriptModule, ScriptFunction, ScriptModule

_FORMAT = "ember.jit/1"


def save(m, f, _extra_files=None):
    """Saves a traced, scripted or loaded ScriptModule (graphs, structure, parameters, buffers) to a path or binary
    file; a ScriptFunction is saved as a module whose forward it is, as PyTorch does."""
    if isinstance(m, ScriptFunction):
        m = m.as_module()
    if not isinstance(m, ScriptModule):   # PyTorch's save calls m.save(f), which only script modules have
        raise AttributeError(f"'{type(m).__name__}' object has no attribute 'save'")
    constants = []
    program = {"format": _FORMAT, "module": _module_tree(m),
               "methods": {name: _graph_to_json(graph, constants) for name, graph in m._graphs.items()}}
    tensors = {f"{prefix}.{name}" if prefix else name: tensor.detach()
               for prefix, module in m.named_modules(remove_duplicate=False)
               for kind in (module._parameters, module._buffers) for name, tensor in kind.items()
               if tensor is not None}
    archive = {"program": json.dumps(program), "tensors": tensors, "constants": constants,
               "extra_files": {name: content if isinstance(content, str) else bytes(content).decode("latin-1")
                               for name, content in (_extra_files or {}).items()}}
    if isinstance(f, (str, os.PathLike)):
        _save(archive, f)
    else:
        buffer = io.BytesIO()
        _save(archive, buffer)
        f.write(buffer.getvalue())


def load(f, map_location=None, _extra_files=None, _restore_shapes=False):
    """Loads a module saved by ``ember.jit.save`` or by PyTorch's ``torch.jit.save``; it runs, trains and saves
    again without its original class."""
    from . import _torchscript
    if isinstance(f, (str, os.PathLike)):
        if not os.path.exists(f):
            raise ValueError(f"The provided filename {f} does not exist")
        if os.path.isdir(f):
            raise ValueError(f"The provided filename {f} is a directory")
    if _torchscript.is_torchscript(f):
        return _torchscript.load(f, map_location)
    try:
        archive = _load(f, map_location=map_location, weights_only=True)
    except Exception as error:
        raise RuntimeError(f"ember.jit.load: not a loadable archive: {error}") from error
    if not isinstance(archive, dict) or not isinstance(archive.get("program"), str):
        raise RuntimeError("ember.jit.load: the archive holds no ember.jit program")
    program = json.loads(archive["program"])
    if program.get("format") != _FORMAT:
        raise RuntimeError(f"ember.jit.load: unknown program format {program.get('format')!r}")
    constants = archive.get("constants", [])
    if not all(isinstance(c, Tensor) for c in constants):
        raise RuntimeError("ember.jit.load: constants must be tensors")
    module = _build_module(program["module"], archive.get("tensors", {}), "")
    for name, graph in program["methods"].items():
        graph = _graph_from_json(graph, constants)
        _check_attributes(module, graph)
        module._define(name, graph)
    if _extra_files is not None:
        for name in _extra_files:
            _extra_files[name] = archive.get("extra_files", {}).get(name, "").encode("latin-1")
    return module


# --- module tree --------------------------------------------------------------------------------------------
def _module_tree(module):
    return {"name": module.original_name, "training": module.training,
            "parameters": [n for n, p in module._parameters.items() if p is not None],
            "buffers": [n for n, b in module._buffers.items() if b is not None],
            "non_persistent": sorted(module._non_persistent_buffers_set),
            "children": {n: None if c is None else _module_tree(c) for n, c in module._modules.items()}}


def _build_module(tree, tensors, prefix):
    module = RecursiveScriptModule(str(tree["name"]))
    module.training = bool(tree["training"])
    for kind, names in (("parameters", tree["parameters"]), ("buffers", tree["buffers"])):
        for name in names:
            path = f"{prefix}{name}"
            if path not in tensors:
                raise RuntimeError(f"ember.jit.load: the archive lacks the tensor {path!r}")
            tensor = tensors[path]
            if kind == "parameters":
                module._parameters[name] = Parameter(tensor, requires_grad=tensor.dtype.is_floating_point)
            else:
                module._buffers[name] = tensor
    module._non_persistent_buffers_set = set(tree.get("non_persistent", ()))
    for name, child in tree["children"].items():
        module._modules[name] = None if child is None else _build_module(child, tensors, f"{prefix}{name}.")
    return module


def _check_attributes(module, graph):
    """Every attribute a graph reads (in its blocks too) must exist: a tensor with the shape and dtype the graph was
    recorded with, or a submodule's ``training`` flag."""
    tensors = dict(module.named_parameters(remove_duplicate=False))
    tensors.update(module.named_buffers(remove_duplicate=False))
    flags = {f"{name}.training" if name else "training" for name, _ in module.named_modules(remove_duplicate=False)}

    def check(nodes):
        for node in nodes:
            for block in node.blocks:
                check(block.nodes)
            if node.kind != "prim::GetAttr" or node.value in flags:
                continue
            if node.value not in tensors:
                raise RuntimeError(f"ember.jit.load: the program reads {node.value!r}, which the module does not "
                                   "have")
            expected, tensor = node.outputs[0].type, tensors[node.value]
            if isinstance(expected, TensorType) and (tuple(tensor.shape), tensor.dtype) != (expected.shape,
                                                                                            expected.dtype):
                raise RuntimeError(f"ember.jit.load: {node.value!r} has shape {list(tensor.shape)} and dtype "
                                   f"{tensor.dtype} but the program expects {list(expected.shape)} and "
                                   f"{expected.dtype}")
    check(graph.nodes)


def copy_graph(graph):
    """An independent copy of ``graph`` (tensor constants shared) that passes may rewrite."""
    constants = []
    return _graph_from_json(_graph_to_json(graph, constants), constants)


# --- graphs -------------------------------------------------------------------------------------------------
def _type_to_json(type):
    return {"dtype": type.dtype.name, "shape": list(type.shape)} if isinstance(type, TensorType) else str(type)


def _type_from_json(data):
    if isinstance(data, dict):
        return TensorType(_dtype_named(data["dtype"]), [int(s) for s in data["shape"]])
    return str(data)


def _graph_to_json(graph, constants):
    regions = _regions_to_json(graph.nodes, constants)
    return {"inputs": [[v.name, _type_to_json(v.type)] for v in graph.inputs],
            "nodes": _nodes_to_json(graph.nodes, constants, regions[0]), "output": graph.output.name,
            "regions": regions[1]}


def _nodes_to_json(nodes, constants, regions):
    entries = []
    for n in nodes:
        if n.kind == "prim::PythonOp":
            raise RuntimeError(f"\nCould not export Python function call '{n.value.__name__}'. Remove calls to "
                               "Python functions before export. Did you forget to add @script or @script_method "
                               "annotation? If this is a nn.ModuleList, add it to __constants__:\n")
        entry = {"kind": n.kind, "inputs": [v.name for v in n.inputs], "keywords": list(n.keywords),
                 "outputs": [[v.name, _type_to_json(v.type)] for v in n.outputs],
                 "value": _encode(n.value, constants), "scope": n.scope, "unpack": n.unpack,
                 "blocks": [{"inputs": [[v.name, _type_to_json(v.type)] for v in b.inputs],
                             "nodes": _nodes_to_json(b.nodes, constants, regions),
                             "outputs": [v.name for v in b.outputs]} for b in n.blocks]}
        if id(n.region) in regions:
            entry["region"] = regions[id(n.region)]
        entries.append(entry)
    return entries


def _regions_to_json(nodes, constants):
    """(id(region) -> index, the regions as JSON, parents first) for the regions the nodes name; a region holding
    an argument that cannot be written is left out (its nodes then name the region around it)."""
    def writable(region):
        try:
            _encode_argument((region.args, region.kwargs), [])
        except RuntimeError:
            return False
        return True

    def kept(region):
        while region is not None:
            if id(region) not in written:
                written[id(region)] = writable(region)
            if written[id(region)]:
                break
            region = region.parent
        return region
    written, index, entries = {}, {}, []
    for node in nodes:
        for region in regions_of(node):
            if kept(region) is region and id(region) not in index:
                parent = kept(region.parent)
                index[id(region)] = len(entries)
                entries.append({"op": region.op, "args": _encode_argument(region.args, constants),
                                "kwargs": _encode_argument(region.kwargs, constants),
                                "outputs": _encode_argument(region.outputs, constants),
                                "parent": None if parent is None else index[id(parent)]})
    return {id(node.region): index[id(kept(node.region))] for node in nodes if kept(node.region) is not None}, entries


def _encode_argument(obj, constants):
    """A region's argument or result as JSON: Values by name, in the lists, tuples and dicts they were passed in."""
    if isinstance(obj, Value):
        return {"value": obj.name}
    if isinstance(obj, list):
        return [_encode_argument(item, constants) for item in obj]
    if isinstance(obj, tuple):
        return {"tuple": [_encode_argument(item, constants) for item in obj]}
    if isinstance(obj, dict):
        return {"dict": {str(key): _encode_argument(item, constants) for key, item in obj.items()}}
    return _encode(obj, constants)


def _decode_argument(data, values, constants):
    if isinstance(data, list):
        return [_decode_argument(item, values, constants) for item in data]
    if isinstance(data, dict) and len(data) == 1:
        (tag, content), = data.items()
        if tag == "value":
            if content not in values:
                raise RuntimeError(f"ember.jit.load: a region uses the undefined value %{content}")
            return values[content]
        if tag == "tuple":
            return tuple(_decode_argument(item, values, constants) for item in content)
        if tag == "dict":
            return {str(key): _decode_argument(item, values, constants) for key, item in content.items()}
    return _decode(data, constants)


def _regions_from_json(entries, values, constants):
    from ..autograd.function import Composite, registry
    regions = []
    for entry in entries:
        op = registry.get(str(entry["op"]))
        if not (isinstance(op, type) and issubclass(op, Composite) and op.trace_inside):
            raise RuntimeError(f"ember.jit.load: a region names {entry['op']!r}, which is no composite op of ember")
        parent = entry.get("parent")
        if parent is not None and not (isinstance(parent, int) and 0 <= parent < len(regions)):
            raise RuntimeError(f"ember.jit.load: a region's parent {parent!r} is not a region before it")
        args, kwargs, outputs = (_decode_argument(entry[key], values, constants) for key in ("args", "kwargs",
                                                                                            "outputs"))
        if not (isinstance(args, (tuple, list)) and isinstance(kwargs, dict) and outputs is not None
                and all(isinstance(v, Value) for v in leaves(outputs))):
            raise RuntimeError(f"ember.jit.load: a region of {entry['op']!r} has malformed arguments or results")
        regions.append(Region(op.__name__, args, kwargs, outputs, None if parent is None else regions[parent]))
    return regions


def _graph_from_json(data, constants):
    graph = Graph()
    values = {}
    for name, type in data["inputs"]:
        values[name] = graph.add_input(_type_from_json(type), name)
    marked = []
    graph.nodes = _nodes_from_json(data["nodes"], graph, values, constants, marked)
    if data["output"] not in values:
        raise RuntimeError(f"ember.jit.load: the graph returns the undefined value %{data['output']}")
    graph.output = values[data["output"]]
    regions = _regions_from_json(data.get("regions", ()), values, constants)
    for node, index in marked:
        if not (isinstance(index, int) and 0 <= index < len(regions)):
            raise RuntimeError(f"ember.jit.load: node {node.kind} names the missing region {index!r}")
        node.region = regions[index]
    return graph


def _named(graph, values, name, type, node=None):
    value = Value(str(name), _type_from_json(type), node)
    graph._names.add(value.name)
    values[value.name] = value
    return value


def _nodes_from_json(entries, graph, values, constants, marked):
    nodes = []
    for entry in entries:
        kind = str(entry["kind"])
        try:
            inputs = [values[name] for name in entry["inputs"]]
        except KeyError as missing:
            raise RuntimeError(f"ember.jit.load: node {kind} uses the undefined value %{missing.args[0]}") from None
        node = Node(kind, inputs, tuple(entry["keywords"]), _decode(entry["value"], constants),
                    str(entry.get("scope", "")), bool(entry.get("unpack", False)))
        for data in entry.get("blocks", ()):
            block = Block()
            block.inputs = [_named(graph, values, name, type) for name, type in data["inputs"]]
            block.nodes = _nodes_from_json(data["nodes"], graph, values, constants, marked)
            try:
                block.outputs = [values[name] for name in data["outputs"]]
            except KeyError as missing:
                raise RuntimeError(f"ember.jit.load: a block of {kind} yields the undefined value "
                                   f"%{missing.args[0]}") from None
            node.blocks.append(block)
        node.outputs = [_named(graph, values, name, type, node) for name, type in entry["outputs"]]
        if entry.get("region") is not None:
            marked.append((node, entry["region"]))
        nodes.append(node)
    return nodes


def _encode(value, constants):
    """A constant as JSON, with tuples, dtypes, devices, tensors, slices and non-finite floats tagged."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(value, tuple):
        return {"tuple": [_encode(v, constants) for v in value]}
    if isinstance(value, list):
        return [_encode(v, constants) for v in value]
    if isinstance(value, _dtype.dtype):
        return {"dtype": value.name}
    if isinstance(value, _device):   # a sampling call's device= (jit trace records randn & co. as calls)
        return {"device": str(value)}
    if isinstance(value, Tensor):
        constants.append(value.detach())
        return {"tensor": len(constants) - 1}
    if isinstance(value, numpy.ndarray):
        constants.append(Tensor(value))
        return {"array": len(constants) - 1}
    if isinstance(value, numpy.generic):
        return {"scalar": [value.dtype.name, value.item()]}
    if isinstance(value, numpy.dtype):   # the array dtype a recorded Cast converts to
        return {"array_dtype": _dtype.as_dtype(value).name}
    if isinstance(value, slice):
        return {"slice": [_encode(v, constants) for v in (value.start, value.stop, value.step)]}
    if value is Ellipsis:
        return {"ellipsis": True}
    raise RuntimeError(f"ember.jit.save: cannot serialise a constant of type {type(value).__name__}")


def _decode(data, constants):
    if isinstance(data, list):
        return [_decode(v, constants) for v in data]
    if not isinstance(data, dict):
        return data
    (tag, content), = data.items()
    if tag == "tuple":
        return tuple(_decode(v, constants) for v in content)
    if tag == "float":
        return float(content)
    if tag == "dtype":
        return _dtype_named(content)
    if tag == "device":
        if not isinstance(content, str):
            raise RuntimeError(f"ember.jit.load: a device must be named by a string, not {content!r}")
        return _device(content)
    if tag == "tensor":
        if not isinstance(content, int) or not 0 <= content < len(constants):
            raise RuntimeError(f"ember.jit.load: reference to a missing constant tensor {content!r}")
        return constants[content]
    if tag == "array":
        return numpy.asarray(_decode({"tensor": content}, constants).numpy())
    if tag == "scalar":
        name, number = content
        if name not in ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16",
                        "float32", "float64"):
            raise RuntimeError(f"ember.jit.load: unknown scalar type {name!r}")
        return numpy.dtype(name).type(number)
    if tag == "array_dtype":
        return _dtype_named(content).numpy
    if tag == "slice":
        return slice(*(_decode(v, constants) for v in content))
    if tag == "ellipsis":
        return Ellipsis
    raise RuntimeError(f"ember.jit.load: unknown constant tag {tag!r}")


def _dtype_named(name):
    dtype = getattr(_dtype, name if name != "bool" else "bool_", None)
    if not isinstance(dtype, _dtype.dtype):
        raise RuntimeError(f"ember.jit.load: unknown dtype {name!r}")
    return dtype
