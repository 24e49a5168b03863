"""``Proxy``: the stand-in value that flows through a program during symbolic tracing and records what is done to
it (operators, method calls, attribute reads) as nodes of the tracer's graph."""
import collections
import copy
import dis
import enum
import inspect
import operator
import os
import traceback

from .. import Size, Tensor, device, dtype, layout, memory_format
from .. import overrides as _overrides
from . import traceback as fx_traceback
from ._codegen import magic_methods, reflectable_magic_methods
from .graph import Graph
from .node import is_namedtuple, map_arg

__all__ = ["TracerBase", "GraphAppendingTracer", "TraceError", "Proxy", "Attribute", "ParameterProxy", "Scope",
           "ScopeContextManager"]


class TraceError(ValueError):
    """Raised when traced code needs a concrete value from a Proxy (control flow, iteration)."""


class Scope:
    """The module a node is recorded in: its path from the root and its type."""

    def __init__(self, module_path, module_type):
        self.module_path, self.module_type = module_path, module_type


class ScopeContextManager:
    """Sets the tracer's current scope for the duration of a module call."""

    def __init__(self, scope, current_scope):
        self._prev_scope = copy.copy(scope)
        scope.module_path, scope.module_type = current_scope.module_path, current_scope.module_type
        self._scope = scope

    def __enter__(self):
        return self._scope

    def __exit__(self, *args):
        self._scope.module_path = self._prev_scope.module_path
        self._scope.module_type = self._prev_scope.module_type


# Argument values recorded as they are.
_base_types = (str, int, float, bool, complex, type(None), type(...), dtype, device, memory_format, layout, Size,
               enum.Enum, Tensor)


class TracerBase:
    """What every tracer has: a graph to append to and the rules for turning Python values into node
    arguments."""

    graph: Graph
    record_stack_traces = False
    check_mutable_operations = False
    trace_asserts = False
    proxy_buffer_attributes = False
    traced_func_name = "forward"

    def create_node(self, kind, target, args, kwargs, name=None, type_expr=None):
        """Appends a node to the graph (override to check or annotate nodes as they are made)."""
        node = self.graph.create_node(kind, target, args, kwargs, name, type_expr)
        module_stack = getattr(self, "module_stack", None)
        if not fx_traceback.copy_current_meta(node) and module_stack:
            node.meta["nn_module_stack"] = copy.copy(module_stack)
        if self.record_stack_traces and not node.stack_trace:
            frames = self._filter_traceback_frames(traceback.extract_stack())
            if frames:
                node.stack_trace = "".join(frames.format()).strip()
        return node

    def _filter_traceback_frames(self, user_stack_summary):
        """The user's frames of a stack: from the first ``forward`` on, without fx's and Module's own."""
        first = next((i for i, frame in enumerate(user_stack_summary) if frame.name == "forward"), None)
        if first is None:
            return traceback.StackSummary.from_list([])
        return traceback.StackSummary.from_list([frame for frame in user_stack_summary[first:]
                                                 if not _is_uninteresting(frame.filename)])

    def proxy(self, node):
        """The Proxy standing for ``node``."""
        return Proxy(node, self)

    def create_proxy(self, kind, target, args, kwargs, name=None, type_expr=None, proxy_factory_fn=None):
        """Records a node for ``target`` called on ``args``/``kwargs`` (Proxies become node references) and
        returns a Proxy for its result."""
        args_ = self.create_arg(args)
        kwargs_ = self.create_arg(kwargs)
        node = self.create_node(kind, target, args_, kwargs_, name, type_expr)
        return self.proxy(node) if proxy_factory_fn is None else proxy_factory_fn(node)

    def create_arg(self, a):
        """Turns a value into a node argument: Proxies into their nodes, containers element by element,
        constants as they are."""
        if isinstance(a, Proxy):
            return a.node
        if hasattr(a, "__fx_create_arg__"):
            return a.__fx_create_arg__(self)
        if isinstance(a, tuple):
            values = [self.create_arg(elem) for elem in a]
            return type(a)(*values) if is_namedtuple(a) else tuple(values)
        if isinstance(a, list):
            return [self.create_arg(elem) for elem in a]
        if isinstance(a, dict):
            result = {}
            for k, v in a.items():
                if not isinstance(k, str):
                    k = self.create_arg(k)
                    map_arg(k, _no_nodes_error)
                result[k] = self.create_arg(v)
            return result
        if isinstance(a, slice):
            return slice(self.create_arg(a.start), self.create_arg(a.stop), self.create_arg(a.step))
        if isinstance(a, range):
            return range(self.create_arg(a.start), self.create_arg(a.stop), self.create_arg(a.step))
        if isinstance(a, _base_types):
            return a
        raise NotImplementedError(f"argument of type: {type(a)}")

    def to_bool(self, obj):
        """Called when a Proxy is converted to bool (control flow): raises ``TraceError`` by default."""
        raise TraceError("symbolically traced variables cannot be used as inputs to control flow")

    def iter(self, obj):
        """Called when a Proxy is iterated: raises ``TraceError`` by default."""
        raise TraceError("Proxy object cannot be iterated. This can be attempted when the Proxy is used in a loop "
                         "or as a *args or **kwargs function argument. See the torch.fx docs on pytorch.org for a "
                         "more detailed explanation of what types of control flow can be traced, and check out "
                         "the Proxy docstring for help troubleshooting Proxy iteration errors")

    def keys(self, obj):
        """Called for ``**proxy``: records a ``keys()`` method call."""
        return Attribute(obj, "keys")()


_FX_DIR = os.path.dirname(os.path.abspath(__file__))
_MODULE_FILE = os.path.join(os.path.dirname(_FX_DIR), "nn", "modules", "module.py")


def _is_uninteresting(filename):
    filename = os.path.abspath(filename)
    return filename.startswith(_FX_DIR + os.sep) or filename == _MODULE_FILE


def _no_nodes_error(arg):
    raise RuntimeError(f"Keys for dictionaries used as an argument cannot contain a Node. Got key: {arg}")


class GraphAppendingTracer(TracerBase):
    """The tracer of a Proxy made around a raw node: appends to that node's graph."""

    def __init__(self, graph):
        super().__init__()
        self.graph = graph
        self.scope = Scope("", None)
        self.module_stack = collections.OrderedDict()
        self.node_name_to_scope = {}


def _proxies(value):
    """The Proxies in ``value`` (nested tuples, lists and dict values)."""
    if isinstance(value, Proxy):
        yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _proxies(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _proxies(item)


class Proxy:
    """A node of the graph being traced, standing in for a value: operators, method calls and attribute reads
    on it are recorded as new nodes. A Proxy has no concrete value, so it cannot decide control flow or be
    iterated (factor such code into a ``wrap``ped function)."""

    def __init__(self, node, tracer=None):
        if tracer is None:
            tracer = GraphAppendingTracer(node.graph)
        self.tracer = tracer
        self.node = node
        if isinstance(tracer, GraphAppendingTracer) and not _overrides._installed:
            # a graph built by hand (symbolic_trace's stand-ins record its calls): torch functions on the Proxy
            # must reach __torch_function__
            _overrides.enable_torch_function_dispatch()

    @classmethod
    def __torch_function__(cls, orig_method, types, args=(), kwargs=None):
        """A torch function called on Proxies outside a trace's stand-ins (a graph built by hand, as e3nn's code
        generation builds one): recorded as a ``call_function`` node, as PyTorch's Proxy records it."""
        kwargs = kwargs or {}
        tracers = {value.tracer for value in _proxies((args, kwargs))}
        if len(tracers) > 1:
            raise RuntimeError(f"Found multiple different tracers {list(tracers)} while trying to trace operations "
                               f"{orig_method}")
        return tracers.pop().create_proxy("call_function", orig_method, args, kwargs)

    def __repr__(self):
        return f"Proxy({self.node.name})"

    def __getattr__(self, k):
        return Attribute(self, k)

    def __getstate__(self):
        return self.__dict__

    def __setstate__(self, d):
        self.__dict__ = d

    def __deepcopy__(self, memo):
        new = Proxy.__new__(type(self))
        for k, v in self.__dict__.items():
            try:
                new.__dict__[k] = copy.deepcopy(v, memo)
            except Exception:
                new.__dict__[k] = copy.copy(v)
        return new

    def __call__(self, *args, **kwargs):
        return self.tracer.create_proxy("call_method", "__call__", (self,) + args, kwargs)

    def __iter__(self):
        # ``a, b = proxy`` unpacks a known number of elements: index them instead of iterating.
        frame = inspect.currentframe().f_back
        for inst in dis.get_instructions(frame.f_code):
            if inst.offset == frame.f_lasti:
                if inst.opname == "UNPACK_SEQUENCE":
                    return (self[i] for i in range(inst.argval))
                break
        return self.tracer.iter(self)

    def __abs__(self):
        return self.tracer.create_proxy("call_function", operator.abs, (self,), {})

    def __bool__(self):
        return self.tracer.to_bool(self)

    def keys(self):
        """Called for ``**proxy``; the tracer decides (records ``keys()`` by default)."""
        return self.tracer.keys(self)

    def __len__(self):
        raise RuntimeError("'len' is not supported in symbolic tracing by default. If you want this call to be "
                           "recorded, please call torch.fx.wrap('len') at module scope")


class Attribute(Proxy):
    """An attribute read from a Proxy: recorded as a method call when called, else as ``getattr`` on first use."""

    def __init__(self, root, attr):
        self.root, self.attr = root, attr
        self.tracer = root.tracer
        self._node = None

    @property
    def node(self):
        """The ``getattr`` node, created on first use."""
        if self._node is None:
            self._node = self.tracer.create_proxy("call_function", getattr, (self.root, self.attr), {}).node
        return self._node

    def __call__(self, *args, **kwargs):
        return self.tracer.create_proxy("call_method", self.attr, (self.root,) + args, kwargs)


class ParameterProxy(Proxy):
    """A Proxy for a parameter whose shape queries (``shape``, ``size()``, ``dim()``, ...) answer with the
    parameter's concrete values (``Tracer(param_shapes_constant=True)``)."""

    def __init__(self, tracer, node, name, param):
        super().__init__(node, tracer)
        self.param, self.name = param, name

    def __repr__(self):
        return f"ParameterProxy({self.name})"

    @property
    def shape(self):
        """The parameter's shape."""
        return self.param.shape

    def size(self):
        """The parameter's size."""
        return self.param.size()

    def dim(self):
        """The parameter's number of dimensions."""
        return self.param.dim()

    @property
    def ndim(self):
        """The parameter's number of dimensions."""
        return self.param.ndim

    def numel(self):
        """The parameter's number of elements."""
        return self.param.numel()

    def nelement(self):
        """The parameter's number of elements."""
        return self.param.nelement()


def _define_magic(method):
    def impl(*args, **kwargs):
        return args[0].tracer.create_proxy("call_function", getattr(operator, method), args, kwargs)
    impl.__name__ = method
    setattr(Proxy, f"__{method.strip('_')}__", impl)


def _define_reflectable(method):
    name = f"__r{method.strip('_')}__"

    def impl(self, rhs):
        return self.tracer.create_proxy("call_function", getattr(operator, method), (rhs, self), {})
    impl.__name__ = impl.__qualname__ = name
    setattr(Proxy, name, impl)


for _method in magic_methods:
    _define_magic(_method)
for _method in reflectable_magic_methods:
    _define_reflectable(_method)
del _method
