"""The exporter: traces the model into ember's IR, folds constants, and converts node by node (one converter per op
name, in ``_converters``) into an ONNX graph built with the ``onnx`` package's helpers."""
import contextlib
import os

import numpy

from .._tensor import Tensor
from ..jit._ir import TensorType
from .errors import OnnxExporterError, UnsupportedOperatorError

_ELEMENT_TYPES = {"float32": 1, "uint8": 2, "int8": 3, "uint16": 4, "int16": 5, "int32": 6, "int64": 7, "bool": 9,
                  "float16": 10, "float64": 11, "uint32": 12, "uint64": 13, "complex64": 14, "complex128": 15,
                  "bfloat16": 16}


def element_type(dtype):
    """ONNX's TensorProto element type for an ember dtype."""
    if dtype.name not in _ELEMENT_TYPES:
        raise OnnxExporterError(f"ONNX has no element type for {dtype}")
    return _ELEMENT_TYPES[dtype.name]


class Context:
    """The ONNX graph under construction: value names, initializers, constants known at export time."""

    def __init__(self, onnx, opset):
        self.onnx, self.helper, self.opset = onnx, onnx.helper, opset
        self.nodes, self.initializers = [], []
        self.names = {}       # IR value name -> ONNX tensor name
        self.numbers = {}     # (IR value name, NumPy dtype) -> ONNX initializer of a constant number
        self.known = {}       # IR value name -> Python value, for constants
        self._count = 0

    def fresh(self, hint):
        self._count += 1
        return f"{hint}_{self._count}"

    def emit(self, op_type, inputs, outputs=1, **attributes):
        """Appends an ONNX node; returns its output name (or names when ``outputs`` > 1)."""
        names = [self.fresh(op_type) for _ in range(outputs)]
        self.nodes.append(self.helper.make_node(op_type, list(inputs), names, name=self.fresh(f"/{op_type}"),
                                                **attributes))
        return names[0] if outputs == 1 else names

    def array(self, array, hint="const"):
        """An initializer holding ``array``; returns its name."""
        from onnx import numpy_helper
        name = self.fresh(hint)
        array = numpy.asarray(array)
        if array.dtype == object:
            raise OnnxExporterError("cannot export a non-numeric constant as a tensor")
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def ints(self, values):
        return self.array(numpy.asarray(values, dtype=numpy.int64))

    def constant(self, value):
        """The export-time Python value of an IR input (a ``prim::Constant``); OnnxExporterError otherwise."""
        if value.name not in self.known:
            raise OnnxExporterError(f"%{value.name} must be a constant at export time")
        return self.known[value.name]

    def is_constant(self, value):
        return value.name in self.known

    def tensor(self, value, dtype=None):
        """The ONNX name of an IR input used as a tensor; a constant number becomes an initializer of ``dtype``."""
        if value.name in self.names:
            return self.names[value.name]
        obj = self.constant(value)
        if isinstance(obj, Tensor):
            array = numpy.asarray(obj.detach())
        else:   # one number may be used at several dtypes (``x > 0`` and ``mask != 0``): an initializer for each
            array = numpy.asarray(obj, dtype=_numpy_dtype(dtype) if dtype is not None else None)
            key = (value.name, array.dtype.str)
            if key not in self.numbers:
                self.numbers[key] = self.array(array, f"onnx::{value.name}")
            return self.numbers[key]
        self.names[value.name] = name = self.array(array, f"onnx::{value.name}")
        return name


def _numpy_dtype(dtype):
    return numpy.dtype(dtype.name if dtype.name != "bool" else numpy.bool_)


def export_graph(module, graph, f, input_names, output_names, dynamic_axes, opset, export_params, verbose):
    """Converts a traced and folded graph to an ONNX model, checks it, and writes it to ``f``."""
    import onnx

    from . import _positional, _random, _recurrent  # noqa: F401  (register their converters)
    from ._converters import CONVERTERS
    context = Context(onnx, opset)
    helper = onnx.helper
    inputs = []
    names = list(input_names or [])
    unpacking = _unpacking(graph)
    for value in _flat_inputs(graph.inputs, unpacking):
        i = len(inputs)
        name = names[i] if i < len(names) else f"input.{i + 1}" if i else "input"
        context.names[value.name] = name
        inputs.append(_value_info(helper, name, value.type, (dynamic_axes or {}).get(name)))
    parameters = []
    for node in graph.nodes:
        if any(node is unpacker for unpacker in unpacking.values()):
            continue
        if node.kind == "prim::Constant":
            context.known[node.outputs[0].name] = node.value
        elif node.kind == "prim::GetAttr":
            tensor = _read(module, node.value)
            context.names[node.outputs[0].name] = node.value
            if export_params:
                context.initializers.append(onnx.numpy_helper.from_array(numpy.asarray(tensor.detach()), node.value))
            else:
                parameters.append(_value_info(helper, node.value, node.outputs[0].type, None))
        else:
            key = node.kind[7:] if node.kind.startswith("ember::") else node.kind
            if key not in CONVERTERS:
                where = f" (used by module '{node.scope}')" if node.scope else ""
                raise UnsupportedOperatorError(f"Exporting the operator '{key}' to ONNX opset version {opset} is not "
                                               f"supported{where}")
            results = CONVERTERS[key](context, node)
            results = results if isinstance(results, (list, tuple)) else [results]
            for value, name in zip(node.outputs, results):
                if name is not None:
                    context.names[value.name] = name
    outputs = _outputs(graph)
    names = list(output_names or [])
    graph_outputs = []
    for i, value in enumerate(outputs):
        name = names[i] if i < len(names) else f"output.{i + 1}" if i else "output"
        source = context.tensor(value, getattr(value.type, "dtype", None))
        context.nodes.append(helper.make_node("Identity", [source], [name], name=context.fresh("/Identity")))
        graph_outputs.append(_value_info(helper, name, value.type, (dynamic_axes or {}).get(name)))
    used = {name for node in context.nodes for name in node.input}   # a folded-away parameter is left out
    onnx_graph = helper.make_graph(context.nodes, "main_graph", inputs + [p for p in parameters if p.name in used],
                                   graph_outputs, [i for i in context.initializers if i.name in used])
    model = helper.make_model(onnx_graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="ember",
                              ir_version=8 if opset <= 18 else 9)
    if dynamic_axes:
        _infer_output_shapes(onnx, model, set(dynamic_axes))
    onnx.checker.check_model(model)
    if verbose:
        print(helper.printable_graph(model.graph))
    if f is not None:
        if isinstance(f, (str, os.PathLike)):
            onnx.save_model(model, os.fspath(f))
        else:
            f.write(model.SerializeToString())
    return model


def _unpacking(graph):
    """The nodes unpacking tuple/list inputs (traced from nested example inputs), by the name of what they unpack."""
    unpacking, sources = {}, {v.name for v in graph.inputs}
    for node in graph.nodes:
        if node.kind in ("prim::TupleUnpack", "prim::ListUnpack") and node.inputs[0].name in sources:
            unpacking[node.inputs[0].name] = node
            sources.update(v.name for v in node.outputs)
    return unpacking


def _flat_inputs(values, unpacking):
    """The graph's inputs with each tuple or list input replaced by its items, in order (as torch.onnx flattens
    nested inputs)."""
    flat = []
    for value in values:
        node = unpacking.get(value.name)
        flat.extend(_flat_inputs(node.outputs, unpacking) if node is not None else [value])
    return flat


def _infer_output_shapes(onnx, model, named):
    """Outputs that ``dynamic_axes`` does not name take the shapes ONNX infers from the dynamic inputs (as
    torch.onnx's do) where inference gives one of the traced rank; else they keep the traced shape."""
    traced = {}
    for output in model.graph.output:
        if output.name not in named:
            traced[output.name] = onnx.TensorShapeProto()
            traced[output.name].CopyFrom(output.type.tensor_type.shape)
            output.type.tensor_type.ClearField("shape")
    inferred = {o.name: o.type.tensor_type for o in onnx.shape_inference.infer_shapes(model).graph.output}
    for output in model.graph.output:
        if output.name in traced:
            guess, shape = inferred.get(output.name), traced[output.name]
            if guess is not None and guess.HasField("shape") and len(guess.shape.dim) == len(shape.dim):
                shape = guess.shape
            output.type.tensor_type.shape.CopyFrom(shape)


def _read(module, path):
    from ..jit._interpreter import _attribute_reader
    return _attribute_reader(path)(module)


def _outputs(graph):
    output = graph.output
    if output.node is not None and output.node.kind == "prim::TupleConstruct":
        return [v for item in output.node.inputs for v in _nested(item)]
    return [output]


def _nested(value):
    if value.node is not None and value.node.kind == "prim::TupleConstruct":
        return [v for item in value.node.inputs for v in _nested(item)]
    return [value]


def _value_info(helper, name, type, dynamic):
    if not isinstance(type, TensorType):
        raise OnnxExporterError(f"ONNX graph inputs and outputs must be tensors; '{name}' is {type}")
    if dynamic is not None and not isinstance(dynamic, dict):
        dynamic = {axis: f"{name}_dynamic_axes_{i + 1}" for i, axis in enumerate(dynamic)}
    shape = [dynamic[axis] if dynamic and axis in dynamic else size for axis, size in enumerate(type.shape)]
    return helper.make_tensor_value_info(name, element_type(type.dtype), shape)


@contextlib.contextmanager
def training_mode(model, training):
    """Sets the model's mode for export (``TrainingMode``), restoring it afterwards."""
    from . import TrainingMode
    before = model.training
    if training == TrainingMode.EVAL or training is False:
        model.train(False)
    elif training == TrainingMode.TRAINING or training is True:
        model.train(True)
    try:
        yield
    finally:
        model.train(before)

