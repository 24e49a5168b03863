"""Tracing: runs a function or module once with a hook at the single dispatch point and records each op into a Graph.

Ops that compute part of their result outside the graph (max pooling's argmax, dropout's mask, indexing,
comparisons) are composites seen whole at dispatch, so they are recorded as one node; so are the calls of recurrent
layers and cells (as TorchScript's ``aten::lstm``... nodes, see ``_recurrent``). A composite named only for autocast
(``trace_inside``: ``linear``, ``conv2d``, the losses) is recorded as the ops it is built from, each naming the call's
``Region`` (its op, arguments and results), so the interpreter can run them as that one call. A user's
``autograd.Function`` is recorded as PyTorch's ``prim::PythonOp`` node holding the class (run through its ``apply``;
``jit.save`` refuses it as PyTorch does). What the hook cannot see
becomes a constant: a Python number taken out of a traced tensor (``TracerWarning``), tensors made without ops of
the trace (``ember.tensor([1.])``). Sampling functions (``randn``, ``rand_like``, ``normal_``, ``bernoulli``...) are
recorded as calls of their public function or in-place method, so the traced code draws new samples on each run, as
PyTorch's ``aten::randn`` nodes do. Target shapes (of reshape, expand, transposed convolution) whose leading (for
expand, trailing) sizes equal the input's are recorded as ``aten::size`` of the input, so a trace generalizes over
batch size.
"""
import functools
import inspect
import sys
import warnings

import numpy

from .._tensor import Size, Tensor, _make
from .._warnings import _wrapper_codes, warn as _warn
from ..autograd import function as _function
from ..ops import creation as _creation
from ..ops import random as _random
from ..ops import shape as _shape_ops
from . import _recurrent
from ._ir import Node, Region, TensorType, drop_regions, regions_of, value_type
from ._symbolic import Inferred, SymInt, inferring, plain

__all__ = ["TracerWarning", "TracingCheckError"]


class TracerWarning(Warning):
    """Warned when tracing records something that may not generalize to other inputs."""


class TracingCheckError(Exception):
    """Raised by ``check_trace`` when re-tracing gives a different graph."""

    def __init__(self, graph_diff_error, tensor_compare_error, extra_msg=None):
        self.message = "Tracing failed sanity checks!\n"
        if extra_msg is not None:
            self.message += extra_msg + "\n"
        if graph_diff_error is not None:
            self.message += "ERROR: Graphs differed across invocations!\n" + graph_diff_error
        if tensor_compare_error is not None:
            self.message += "ERROR: Tensor-valued Constant nodes differed in value across invocations. This often "
            self.message += "indicates that the tracer has encountered untraceable code.\n" + tensor_compare_error
        super().__init__(self.message)


_CONVERSIONS = {"__bool__": "a Python boolean", "__float__": "a Python float", "__int__": "a Python integer",
                "__index__": "a Python index", "item": "a Python number", "tolist": "a Python list",
                "numpy": "a NumPy array"}
_SHAPED = {"Reshape": (1, "leading"), "Expand": (1, "trailing"), "ConvolutionInput": (2, "leading")}


@functools.lru_cache(maxsize=None)
def _parameters(function):
    """(name, default) of each parameter ``function`` takes by position or keyword, in order."""
    return tuple((p.name, p.default) for p in inspect.signature(function).parameters.values()
                 if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD)


def _in_parameter_order(function, args, kwargs):
    """A composite's arguments with those passed by keyword moved to their positions (a gap takes the parameter's
    default), so that every node of one op lists its parameters in one order for the converters and the IR."""
    parameters = _parameters(function)
    names = [name for name, _ in parameters]
    moved = [names.index(k) for k in kwargs if k in names]
    if not moved:
        return args, kwargs
    filled = list(args)
    for i in range(len(args), max(moved) + 1):
        name, default = parameters[i]
        filled.append(kwargs[name] if name in kwargs else default)
    return tuple(filled), {k: v for k, v in kwargs.items() if k not in names}


class _Unrecordable(Exception):
    """A composite's argument has no place in the graph (a tensor requiring grad made outside the trace)."""


class _Tracer:
    """The dispatch hook of one trace: maps live tensors to graph values and appends a node per op."""

    def __init__(self, graph, attributes):
        self.graph = graph
        self.values = {}              # id(tensor) -> (tensor, Value); the tensor is kept so its id stays unique
        self.attributes = attributes  # id(parameter or buffer) -> (tensor, dotted path)
        self.constants = {}
        self.depth = 0                # > 0 while inside a composite op, whose inner ops are not recorded
        self.converting = False
        self.scopes = []
        self.dynamic = set()          # names of the values computed from the graph's inputs
        self.sizes = {}               # (kind, input names) -> int Value, for sizes recorded once
        self.regions = []             # the trace_inside composite calls running now, innermost last

    def bind(self, tensor, value):
        self.values[id(tensor)] = (tensor, value)

    def known(self, tensor):
        return id(tensor) in self.values and self.values[id(tensor)][0] is tensor

    # --- the hook -----------------------------------------------------------------------------------
    def hook(self, cls, args, kwargs, proceed):
        if self.depth:
            return proceed(args, kwargs)
        if cls.__dict__.get("trace_inside"):
            return self.region(cls, args, kwargs, proceed)
        if cls.__name__ == "AssignInplace":   # an in-place write: the target now holds the result's value
            target, result = args
            base = target._base
            through = base is not None and base._data.dtype == target._data.dtype
            view = self.values[id(target)][1] if through and self.known(target) else None
            self.depth += through   # a write into a view is recorded below, as a write into its base
            try:
                out = proceed(args, kwargs)
            finally:
                self.depth -= through
            if isinstance(result, Tensor) and self.known(result):
                self.bind(target, self.values[id(result)][1])
            if through:
                self.write_through(base, target, view, result)
            return out
        composite = issubclass(cls, _function.Composite)
        self.depth += composite
        try:
            out = proceed(args, kwargs)
        finally:
            self.depth -= composite
        self.record(cls, args, kwargs, out)
        return out

    def region(self, cls, args, kwargs, proceed):
        """Runs a ``trace_inside`` composite: the ops it is built from are recorded, each naming this call."""
        try:
            region = Region(cls.__name__, self.argument(args), {k: self.argument(v) for k, v in kwargs.items()},
                            parent=self.regions[-1] if self.regions else None)
        except _Unrecordable:
            return proceed(args, kwargs)
        start = len(self.graph.nodes)
        self.regions.append(region)
        try:
            out = proceed(args, kwargs)
        finally:
            self.regions.pop()
        region.outputs = self.result(out)
        if region.outputs is None:   # it returned what the graph does not hold: its nodes stand only for themselves
            drop_regions(self.graph.nodes[start:], {region})
        return out

    def argument(self, obj):
        """A composite's argument as a region holds it: Values for tensors and traced sizes, else the object."""
        if isinstance(obj, Tensor):
            if not self.known(obj) and id(obj) not in self.attributes and obj.requires_grad:
                raise _Unrecordable
            return self.input(obj)
        if isinstance(obj, SymInt):
            return obj.value()
        if isinstance(obj, (list, tuple)):
            return (list if isinstance(obj, list) else tuple)(self.argument(o) for o in obj)
        return plain(obj)

    def result(self, out):
        """The Value (or nested tuple of Values) a composite returned, or None when an item is no traced tensor."""
        if isinstance(out, Tensor):
            return self.values[id(out)][1] if self.known(out) else None
        if isinstance(out, (tuple, list)) and out:
            items = tuple(self.result(o) for o in out)
            return None if any(item is None for item in items) else items
        return None

    def write_through(self, base, view, view_value, result):
        """Records ``base`` with ``view``'s elements replaced by ``result`` and makes that the base's value, so later
        reads of the base see the write: as ``base[key] = result`` when the view is ``base[key]`` (sizes follow the
        inputs), else at the view's flat positions in the base, fixed when traced."""
        from ..ops._inplace import _WriteThroughView, _flat_index
        made_by = view_value.node if view_value is not None else None
        if made_by is not None and made_by.kind == "ember::getitem" and self.known(base) \
                and made_by.inputs[0] is self.values[id(base)][1]:
            written = _make(base._data.copy())   # the base already holds the write: its value after it
            self.append("ember::setitem", [made_by.inputs[0], made_by.inputs[1], self.input(result)], (), written)
            self.bind(base, self.values[id(written)][1])
            return
        try:
            positions = _flat_index(view, base)
        except RuntimeError:   # a view of a non-contiguous base: its writes stay local to the view
            return
        value = result.to(view.dtype) if result.dtype is not view.dtype else result
        if tuple(value.shape) != tuple(view.shape):
            value = value.expand(view.shape)
        written = _WriteThroughView.apply(base, value, _make(positions))
        self.bind(base, self.values[id(written)][1])

    def record(self, cls, args, kwargs, out):
        if kwargs and issubclass(cls, _function.Composite):
            args, kwargs = _in_parameter_order(cls.function, args, kwargs)
        position, side = _SHAPED.get(cls.__name__, (None, None))
        inputs = [self.symbolic_shape(args[0], tuple(a), side) if i == position else self.input(a)
                  for i, a in enumerate(args)]
        inputs += [self.input(v) for v in kwargs.values()]
        if _function.registry.get(cls.__name__) is not cls:   # a user's autograd.Function: PyTorch's PythonOp
            self.append("prim::PythonOp", inputs, tuple(kwargs), out, value=cls)
            return
        self.append("ember::" + cls.__name__, inputs, tuple(kwargs), out)

    def call(self, kind, args, function):
        """Runs ``function(*args)`` unrecorded inside and records it as one node ``kind`` (a whole module)."""
        self.depth += 1
        try:
            out = function(*args)
        finally:
            self.depth -= 1
        self.append(kind, [self.input(a) for a in args], (), out)
        return out

    def append(self, kind, inputs, keywords, out, value=None):
        node = Node(kind, inputs, keywords, value=value, scope=self.scopes[-1] if self.scopes else "",
                    unpack=isinstance(out, tuple))
        node.region = self.regions[-1] if self.regions else None
        outputs = out if node.unpack else (out,)
        values = self.graph.add_node(node, [value_type(o) for o in outputs])
        if any(v.name in self.dynamic for v in inputs):
            self.dynamic.update(v.name for v in values)
        for o, v in zip(outputs, values):
            if isinstance(o, Tensor):
                self.bind(o, v)

    # --- inputs of a node -----------------------------------------------------------------------------
    def input(self, obj):
        """The Value standing for ``obj``: a traced tensor, a parameter, a container of them, or a constant."""
        if isinstance(obj, Tensor):
            if self.known(obj):
                return self.values[id(obj)][1]
            if id(obj) in self.attributes:
                node = Node("prim::GetAttr", value=self.attributes[id(obj)][1])
                value, = self.graph.add_node(node, [TensorType.of(obj)], [self.attributes[id(obj)][1]])
                self.bind(obj, value)
                return value
            if obj.requires_grad:
                raise RuntimeError("Cannot insert a Tensor that requires grad as a constant. Consider making it a "
                                   "parameter or input, or detaching the gradient")
            return self.constant(obj)
        if isinstance(obj, (tuple, list)) and any(isinstance(o, Tensor) for o in obj):
            items = [self.input(o) for o in obj]
            node = Node("prim::TupleConstruct" if isinstance(obj, tuple) else "prim::ListConstruct", items)
            value, = self.graph.add_node(node, [value_type(obj)])
            if any(v.name in self.dynamic for v in items):
                self.dynamic.add(value.name)
            return value
        if isinstance(obj, numpy.ndarray):
            return self.constant(_make(obj) if obj.dtype != object else obj)   # its dtype kept; copied there
        return self.constant(obj)

    def constant(self, obj):
        obj = plain(obj)
        key = id(obj) if isinstance(obj, Tensor) else (type(obj), repr(obj))
        if key not in self.constants:
            # a tensor made inside the traced code may be written in place later: keep its value as of now
            node = Node("prim::Constant", value=_make(obj._data.copy()) if type(obj) is Tensor else obj)
            self.constants[key] = (obj, self.graph.add_node(node, [value_type(obj)])[0])
        return self.constants[key][1]

    def size_node(self, kind, inputs):
        """The int Value of ``kind`` (``aten::size`` or int arithmetic) on ``inputs``, recorded once."""
        key = (kind, tuple(v.name for v in inputs))
        if key not in self.sizes:
            self.sizes[key] = self.graph.add_node(Node(kind, inputs), ["int"])[0]
            self.dynamic.add(self.sizes[key].name)
        return self.sizes[key]

    def shape_of(self, tensor):
        """``tensor``'s shape: SymInts for a tensor computed from the inputs (outside composite ops), else ints."""
        dims = tensor._data.shape
        if self.depth or not self.known(tensor) or self.values[id(tensor)][1].name not in self.dynamic:
            return dims
        source = self.values[id(tensor)][1]
        return tuple(SymInt(size, self, lambda i=i: self.size_node("aten::size", [source, self.constant(i)]))
                     for i, size in enumerate(dims))

    def creation(self, factory):
        """ember's tensor factory, recording a tensor whose shape holds sizes of the trace as ``aten::full`` (or
        ``aten::empty``), so it follows the inputs' sizes."""
        def create(shape, fill, dtype, device, requires_grad, *layout):
            out = factory(tuple(int(s) for s in shape), fill, dtype, device, requires_grad, *layout)
            if not self.depth and any(isinstance(s, SymInt) for s in shape):
                sizes = self.graph.add_node(Node("prim::ListConstruct", [
                    s.value() if isinstance(s, SymInt) else self.constant(int(s)) for s in shape]), ["int[]"])[0]
                self.dynamic.add(sizes.name)
                args = [sizes] + ([] if fill is None else [self.constant(fill)]) + [self.constant(out.dtype)]
                self.append("aten::empty" if fill is None else "aten::full", args, (), out)
            return out
        return create

    def draw(self, function, args, kwargs):
        """A sampling function called by the traced code (a ``random.factory_hooks`` hook): run, and recorded as a
        ``fn::ops.random.<name>`` node (``method::<name>_`` for an in-place fill) that draws again on every run."""
        name = function.__name__
        kind = f"method::{name}" if name.endswith("_") else f"fn::ops.random.{name}"
        self.depth += 1
        try:
            out = function(*args, **kwargs)
        finally:
            self.depth -= 1
        if self.depth or not isinstance(out, Tensor) or kwargs.get("out") is not None or kwargs.get("generator"):
            return out   # inside a composite, or into a given tensor or from a given generator: kept as it is now
        if name.endswith("_") and not self.known(args[0]) and id(args[0]) not in self.attributes:
            # a fill of a tensor made outside the trace's ops (ember.empty(3).normal_()): of a copy of it, so runs do
            # not share the graph's constant
            self.append("method::clone", [self.input(args[0])], (), args[0])
        self.append(kind, [self.sampling_argument(a) for a in args] +
                    [self.sampling_argument(v) for v in kwargs.values()], tuple(kwargs), out)
        return out

    def sampling_argument(self, obj):
        """A sampling call's argument: traced sizes as a list read at run time, tensors and constants as ``input``."""
        if isinstance(obj, (tuple, list)) and any(isinstance(o, SymInt) for o in obj):
            sizes = self.graph.add_node(Node("prim::ListConstruct", [
                o.value() if isinstance(o, SymInt) else self.constant(int(o)) for o in obj]), ["int[]"])[0]
            self.dynamic.add(sizes.name)
            return sizes
        return obj.value() if isinstance(obj, SymInt) else self.input(obj)

    def symbolic_shape(self, tensor, shape, side):
        """The target shape of a reshape/expand, as a list whose sizes computed from the inputs' sizes or shared
        with the input are read at run time."""
        dims = tensor._data.shape
        if side == "leading":   # reshape: the leading sizes kept from the input (the batch, often)
            shared = []
            for i in range(min(len(shape), len(dims))):
                if shape[i] != dims[i]:
                    break
                shared.append(i)
        else:                   # expand: the trailing sizes the input already has (not the size-1 ones expanded)
            shared = [len(shape) - k for k in range(1, len(dims) + 1)
                      if shape[-k] == dims[-k] != 1 and len(shape) >= k]
        dynamic = self.known(tensor) and self.values[id(tensor)][1].name in self.dynamic
        if not dynamic:
            shared = []
        if not shared and not any(isinstance(size, SymInt) or dynamic and isinstance(size, Inferred)
                                  for size in shape):
            return self.constant(shape)
        source, offset = self.values[id(tensor)][1] if shared else None, len(dims) - len(shape) \
            if side == "trailing" else 0
        sizes = [size.value() if isinstance(size, SymInt) else self.constant(-1) if isinstance(size, Inferred) else
                 self.size_node("aten::size", [source, self.constant(i + offset)]) if i in shared else
                 self.constant(int(size)) for i, size in enumerate(shape)]
        return self.graph.add_node(Node("prim::ListConstruct", sizes), ["int[]"])[0]

    # --- warnings where a tensor leaves the trace as a Python value ------------------------------------
    def constant_made(self, name):
        """``ember.tensor`` & co. were called (a ``creation.constant_hooks`` hook): PyTorch's warning, naming the
        line that called them, that their data is kept as a constant."""
        if not self.depth and not self.converting and _called_from_outside(3):
            _warn(f"torch.{name} results are registered as constants in the trace. You can safely ignore this "
                  "warning if you use this function to create tensors out of constant variables that would be the "
                  "same every time you call this function. In any other case, this might cause the trace to be "
                  "incorrect.", TracerWarning, stacklevel=4)

    def patch_conversions(self):
        originals = {name: Tensor.__dict__[name] for name in _CONVERSIONS}
        tracer = self

        def wrap(name, method):
            @functools.wraps(method)
            def converting(tensor, *args, **kwargs):
                if not tracer.converting and not tracer.depth and tracer.known(tensor) and \
                        tracer.values[id(tensor)][1].name in tracer.dynamic:   # constants stay constant
                    warnings.warn(f"Converting a tensor to {_CONVERSIONS[name]} might cause the trace to be "
                                  "incorrect. We can't record the data flow of Python values, so this value will be "
                                  "treated as a constant in the future. This means that the trace might not "
                                  "generalize to other inputs!", TracerWarning, stacklevel=2)
                tracer.converting, before = True, tracer.converting
                try:
                    return method(tensor, *args, **kwargs)
                finally:
                    tracer.converting = before
            return converting

        for name, method in originals.items():
            setattr(Tensor, name, wrap(name, method))
        originals["__len__"] = length = Tensor.__dict__["__len__"]

        @functools.wraps(length)
        def measured(tensor):
            if tensor._data.ndim and not tracer.depth and _called_from_outside(1):
                _warn("Using len to get tensor shape might cause the trace to be incorrect. Recommended usage "
                      "would be tensor.shape[0]. Passing a tensor of different shape might lead to errors or "
                      "silently give incorrect results.", TracerWarning, stacklevel=2)
            return length(tensor)
        Tensor.__len__ = measured
        originals.update(shape=Tensor.__dict__["shape"], size=Tensor.__dict__["size"])
        size = originals["size"]

        @functools.wraps(size)
        def sized(tensor, dim=None):
            if dim is None:
                return Size(tracer.shape_of(tensor))
            size(tensor, dim)   # PyTorch's errors for a bad dim
            return tracer.shape_of(tensor)[dim % tensor.ndim]
        Tensor.shape = property(lambda tensor: Size(tracer.shape_of(tensor)), doc=originals["shape"].__doc__)
        Tensor.size = sized
        originals["detach"] = detach = Tensor.__dict__["detach"]

        @functools.wraps(detach)
        def detached(tensor):   # aten::detach, as PyTorch records it: a traced model trained later stops there
            out = detach(tensor)
            if tracer.known(tensor):
                value = tracer.values[id(tensor)][1]
                if tracer.depth:
                    tracer.bind(out, value)
                else:
                    tracer.append("aten::detach", [value], (), out)
            return out
        Tensor.detach = detached
        return originals


_FILLS = {"normal_", "uniform_", "random_", "bernoulli_", "exponential_", "geometric_", "cauchy_", "log_normal_"}


def is_draw(kind):
    """Whether a node of ``kind`` is a sampling call a trace recorded (``fn::ops.random.randn``,
    ``method::normal_``): nondeterministic, as PyTorch's check_trace names them."""
    return kind.startswith("fn::ops.random.") or kind.startswith("method::") and kind[8:] in _FILLS


def _called_from_outside(level):
    """Whether the frame ``level`` calls up (1: the caller of this function; ember's transparent wrappers not
    counted) runs code outside ember: PyTorch's C++ ops make tensors and read sizes without its Python-level
    warnings, so ember's own ops must not raise them."""
    frame = sys._getframe(1)
    for _ in range(level):
        frame = frame.f_back
        while frame is not None and frame.f_code in _wrapper_codes:
            frame = frame.f_back
        if frame is None:
            return True
    name = frame.f_globals.get("__name__", "")
    return name != "ember" and not name.startswith("ember.")


def run_traced(function, inputs, graph, attributes, modules=(), names=()):
    """Calls ``function(*inputs)`` with the tracer hooked in; returns (output, tracer). The graph's inputs take
    ``names`` (the function's parameter names, so calls may pass them by keyword), then ``input``, ``input.2``..."""
    tracer = _Tracer(graph, attributes)
    _check_inputs(tuple(inputs))
    for i, obj in enumerate(inputs):
        name = names[i] if i < len(names) else f"input.{i + 1}" if i else "input"
        _bind_input(tracer, obj, graph.add_input(value_type(obj), name))
    handles = []
    for name, module in modules:
        if name:
            handles.append(module.register_forward_pre_hook(lambda m, a, n=name: tracer.scopes.append(n)))
            handles.append(module.register_forward_hook(lambda m, a, o: tracer.scopes.pop() and None))
    leaves = []   # recurrent layers and cells, recorded whole: their forward is replaced while tracing
    for _, module in modules:
        forward = _recurrent.leaf_forward(module, tracer.call)
        if forward is not None:
            leaves.append((module, module.__dict__.get("forward")))
            module.__dict__["forward"] = forward
    originals = tracer.patch_conversions()
    factory, infer_shape = _creation._factory, _shape_ops._infer_shape
    _creation._factory, _shape_ops._infer_shape = tracer.creation(factory), inferring(infer_shape)
    _function.dispatch_hooks.append(tracer.hook)
    _creation.constant_hooks.append(tracer.constant_made)
    _random.factory_hooks.append(tracer.draw)
    try:
        output = function(*inputs)
    finally:
        _function.dispatch_hooks.remove(tracer.hook)
        _creation.constant_hooks.remove(tracer.constant_made)
        _random.factory_hooks.remove(tracer.draw)
        _creation._factory, _shape_ops._infer_shape = factory, infer_shape
        for module, forward in leaves:
            if forward is None:
                del module.__dict__["forward"]
            else:
                module.__dict__["forward"] = forward
        for name, method in originals.items():
            setattr(Tensor, name, method)
        for handle in handles:
            handle.remove()
    return output, tracer


def _check_inputs(inputs):
    """Refuses example inputs other than tensors and (nested) tuples and lists of them, naming the inputs' whole
    type as PyTorch does (``Tuple[Tensor, int]``); a list's items must be of one type."""
    def traceable(obj):
        if isinstance(obj, dict):   # PyTorch traces these; ember's graphs take tensors and tuples/lists of them
            raise RuntimeError(  # noqa: TRY004  (a limit of ember's, as its other unsupported constructs)
                "ember.jit.trace: dict example inputs are not supported; pass the tensors in a tuple")
        if isinstance(obj, list) and obj:
            _consistent(inputs, obj, "List")
        if isinstance(obj, (tuple, list)) and obj:
            return all(traceable(item) for item in obj)
        return isinstance(obj, Tensor)
    if not traceable(inputs):
        raise RuntimeError(f"Type '{_type_name(inputs)}' cannot be traced. Only Tensors and (possibly nested) Lists, "
                           "Dicts, and Tuples of Tensors can be traced")


def _bind_input(tracer, obj, value):
    """Binds a graph input to the tensor ``obj``, or unpacks it (``prim::TupleUnpack``/``ListUnpack``) and binds
    the items of a (nested) tuple or list of tensors."""
    tracer.dynamic.add(value.name)
    if isinstance(obj, Tensor):
        tracer.bind(obj, value)
        return
    node = Node("prim::TupleUnpack" if isinstance(obj, tuple) else "prim::ListUnpack", [value], unpack=True)
    for item, inner in zip(obj, tracer.graph.add_node(node, [value_type(o) for o in obj])):
        _bind_input(tracer, item, inner)


def set_output(graph, tracer, output, strict):
    """Makes the graph return ``output`` (a tensor or nested tuples/lists of tensors; with ``strict=False`` also
    dicts of str keys)."""
    if strict and _holds_dict(output):
        raise RuntimeError(_CONTAINER_ADVICE.format("dict"))
    if isinstance(output, list) and strict:
        warnings.warn(_CONTAINER_ADVICE.format("list"), TracerWarning, stacklevel=4)
    if output is None:
        raise RuntimeError("The traced function didn't return any values! Side-effects are not captured in traces, "
                           "so it would be a no-op.")
    if not isinstance(output, (Tensor, tuple, list, dict)):
        raise RuntimeError("Only tensors, lists, tuples of tensors, or dictionary of tensors can be output from "
                           "traced functions")
    graph.output = _output_value(graph, tracer, output)
    eliminate_dead_code(graph)


_CONTAINER_ADVICE = ("Encountering a {} at the output of the tracer might cause the trace to be incorrect, this is "
                     "only valid if the container structure does not change based on the module's inputs. Consider "
                     "using a constant container instead (e.g. for `list`, use a `tuple` instead. for `dict`, use a "
                     "`NamedTuple` instead). If you absolutely need this and know the side effects, pass strict=False "
                     "to trace() to allow this behavior.")


def _holds_dict(output):
    if isinstance(output, dict):
        return True
    return isinstance(output, (tuple, list)) and any(_holds_dict(o) for o in output)


def _type_name(value):
    """TorchScript's name of a traced output's type (``Tensor``, ``Tuple[Tensor, Tensor]``, ``Dict[str, Tensor]``)."""
    if isinstance(value, dict):
        return f"Dict[str, {_type_name(next(iter(value.values())))}]" if value else "Dict[str, Tensor]"
    if isinstance(value, list):
        return f"List[{_type_name(value[0])}]" if value else "List[Tensor]"
    if isinstance(value, tuple):
        return f"Tuple[{', '.join(_type_name(v) for v in value)}]"
    return "Tensor" if isinstance(value, Tensor) else type(value).__name__


def _consistent(output, items, what):
    """Refuses a dict's values or a list's items of more than one type, in PyTorch's words."""
    kinds = list(dict.fromkeys(_type_name(v) for v in items))
    if len(kinds) > 1:
        raise RuntimeError(f"Tracer cannot infer type of {output}\n:{what} inputs to traced functions must have "
                           f"consistent {'element ' if what == 'List' else ''}type. Found {kinds[0]} and {kinds[1]}")


def _output_value(graph, tracer, output):
    """The graph value of one (nested) output: a tensor's value, or a container built from its items' values."""
    if isinstance(output, dict):
        if not all(isinstance(k, str) for k in output) or not all(
                isinstance(v, Tensor) or isinstance(v, tuple) and all(isinstance(i, Tensor) for i in v)
                for v in output.values()):
            raise RuntimeError("only outputs matching dict[Union[str, Tensor], Union[Tensor, Tuple[Tensor, ...]]] "
                               "can be a dictionary output of a traced function")
        _consistent(output, output.values(), "Dictionary")
        pairs = [v for key, item in output.items() for v in (tracer.constant(key), _output_value(graph, tracer, item))]
        return graph.add_node(Node("prim::DictConstruct", pairs), ["Dict"])[0]
    if not isinstance(output, (tuple, list)):
        return tracer.input(output)
    if isinstance(output, list):
        _consistent(output, output, "List")
    items = [_output_value(graph, tracer, o) for o in output]
    node = Node("prim::TupleConstruct" if isinstance(output, tuple) else "prim::ListConstruct", items)
    return graph.add_node(node, [value_type(output)])[0]


def eliminate_dead_code(graph):
    """Drops nodes (at the top level) whose outputs the graph's output does not depend on."""
    live = {graph.output.name}
    kept = []
    for node in reversed(graph.nodes):
        if any(v.name in live for v in node.outputs):
            kept.append(node)
            live.update(_used(node))
    graph.nodes = kept[::-1]


def _used(node):
    """The names a node reads, its blocks' and its regions' arguments included."""
    names = {v.name for v in node.inputs}
    for region in regions_of(node):
        names.update(v.name for v in region.values())
    for block in node.blocks:
        names.update(v.name for v in block.outputs)
        for inner in block.nodes:
            names.update(_used(inner))
    return names
