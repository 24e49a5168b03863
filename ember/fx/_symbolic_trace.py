"""Symbolic tracing: ``Tracer`` runs a module's ``forward`` on Proxies and records a ``Graph``; ``symbolic_trace``
wraps the result in a ``GraphModule``; ``wrap`` keeps a function as one node.

PyTorch's Proxy meets torch functions through ``__torch_function__``. ember's functions have no such hook, so while
a trace runs the tracer puts recording stand-ins in their place: in ember's public namespaces (``ember.relu``,
``ember.nn.functional.relu``, ...), in the traced modules' attributes, in the globals of every function the traced
code enters (``from ember import flatten``), as torch.fx does for ``math``'s functions, and on ``Tensor``'s methods.
A stand-in records a node when an argument is a Proxy and otherwise calls the function."""
import builtins
import collections
import contextlib
import functools
import inspect
import itertools
import math
import sys
import types
import warnings

from .. import Tensor, _alias
from ..ao._script_object import ScriptObject  # noqa: F401  (torch.fx._symbolic_trace.ScriptObject, read by PyG)
from ..nn import Module, Parameter, Sequential
from ..utils import _pytree as pytree
from ._codegen import _PyTreeCodeGen, _PyTreeInfo
from ._names import _NAMESPACES, _namespace, dispatched_function, public_entry, recorded_call
from .graph import Graph
from .graph_module import GraphModule
from .node import has_side_effect, is_namedtuple
from .proxy import ParameterProxy, Proxy, Scope, ScopeContextManager, TracerBase

__all__ = ["Tracer", "symbolic_trace", "wrap", "PH", "PHBase", "ProxyableClassMeta", "is_fx_tracing"]

_is_fx_tracing_flag = False


def is_fx_tracing():
    """True while a symbolic trace is running."""
    return _is_fx_tracing_flag


_proxyable_classes = {}


class ProxyableClassMeta(type):
    """A metaclass whose classes are recorded as one ``call_function`` node when constructed from Proxies during a
    trace; instances built outside become ``get_attr`` constants."""

    def __init__(cls, name, bases, attrs):
        _proxyable_classes.setdefault(cls)
        super().__init__(name, bases, attrs)

    def __call__(cls, *args, **kwargs):
        instance = cls.__new__(cls)
        if is_fx_tracing():
            proxy = _find_proxy(args, kwargs)
            if proxy is not None:
                return proxy.tracer.create_proxy("call_function", cls, args, kwargs)
        cls.__init__(instance, *args, **kwargs)
        return instance


class PHBase:
    """A placeholder marker for ``concrete_args``: the argument stays an input of the graph."""

    def __repr__(self):
        return "PH"


PH = PHBase()


def _assert(condition, message):
    """torch._assert: raises ``AssertionError(message)`` when ``condition`` is false (recorded by concrete_args)."""
    if not condition:
        raise AssertionError(message)


_assert._fx_qualified_name = "torch._assert"
has_side_effect(_assert)


def _find_proxy(*objects):
    """A Proxy inside the argument structures ``objects``, or None (nothing is rebuilt on the way)."""
    stack = list(objects)
    while stack:
        a = stack.pop()
        if isinstance(a, Proxy):
            return a
        if isinstance(a, (tuple, list)):
            stack.extend(a)
        elif isinstance(a, dict):
            stack.extend(a.values())
        elif isinstance(a, slice):
            stack.extend((a.start, a.stop, a.step))
    return None


class _StandIn:
    """A recording stand-in for a function while tracing: calls it, or records a call_function node when an
    argument is a Proxy (ember's functions, ``mark_wrapped`` False, in the form torch records them). It compares
    and hashes as the function, so ``node.target == ember.relu`` holds while it is in place."""

    def __init__(self, fn, mark_wrapped=True):
        functools.update_wrapper(self, fn)
        self._fx_original = fn
        self._mark_wrapped = mark_wrapped

    def __call__(self, *args, **kwargs):
        fn = self._fx_original
        proxy = _find_proxy(args, kwargs)
        if proxy is None:
            return fn(*args, **kwargs)
        if not self._mark_wrapped:
            fn = dispatched_function(fn, args, kwargs)
            args, kwargs = recorded_call(fn, args, kwargs)
        result = proxy.tracer.create_proxy("call_function", fn, args, kwargs)
        if self._mark_wrapped:
            result.node.meta["is_wrapped"] = True
        return result

    def __eq__(self, other):
        return getattr(other, "_fx_original", other) is self._fx_original

    def __hash__(self):
        return hash(self._fx_original)

    def __repr__(self):
        return repr(self._fx_original)


# Tensor operators torch.fx records as a call of another method name when a Proxy is their other operand
# (``__rtruediv__`` keeps its name: torch's ``__rdiv__`` is no ember method).
_TENSOR_OPERATOR_METHODS = {
    "__add__": "add", "__radd__": "add", "__sub__": "sub", "__mul__": "mul", "__rmul__": "mul", "__truediv__": "div",
    "__rtruediv__": "__rtruediv__", "__matmul__": "matmul", "__pow__": "pow", "__mod__": "remainder", "__lt__": "lt",
    "__le__": "le", "__gt__": "gt", "__ge__": "ge", "__eq__": "eq", "__ne__": "ne", "__floordiv__": "__floordiv__",
    "__and__": "__and__", "__or__": "__or__", "__xor__": "__xor__", "__lshift__": "__lshift__",
    "__rshift__": "__rshift__", "__getitem__": "__getitem__", "__rsub__": "__rsub__", "__rpow__": "__rpow__",
    "__rmatmul__": "__rmatmul__", "__rfloordiv__": "__rfloordiv__", "__rmod__": "__rmod__",
}


def _tensor_method_stand_in(original, recorded_name):
    """A Tensor method that records a call_method node when an argument is a Proxy (``c.add(proxy)``,
    ``c * proxy``), as torch.fx records such calls of a concrete tensor."""
    @functools.wraps(original)
    def method(self, *args, **kwargs):
        proxy = _find_proxy(self, args, kwargs)
        if proxy is not None:
            return proxy.tracer.create_proxy("call_method", recorded_name, (self,) + args, kwargs)
        return original(self, *args, **kwargs)
    return method


class _Patcher:
    """Replaces dict entries and class attributes for the duration of a trace and puts the originals back (at
    ``revert``, or leaving a ``with`` block, as torch.fx's, whose internals libraries drive: PyG's tracer)."""

    def __init__(self):
        self.patches = []
        self.visited = set()
        self.on_revert = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.revert()

    def patch(self, frame_dict, name, new_fn):
        """Sets ``frame_dict[name] = new_fn`` (a builtin name when absent) until the trace ends."""
        if name not in frame_dict and hasattr(builtins, name):
            self.patches.append((frame_dict, name, None, True))
        elif getattr(frame_dict[name], "_fx_already_patched", False):
            return
        else:
            self.patches.append((frame_dict, name, frame_dict[name], False))
        new_fn._fx_already_patched = True
        frame_dict[name] = new_fn

    def patch_method(self, cls, name, new_fn, deduplicate=True):
        """Sets ``cls.name = new_fn`` until the trace ends (not again over a deduplicating patch)."""
        if getattr(getattr(cls, name, None), "_fx_already_patched", False):
            return
        new_fn._fx_already_patched = deduplicate
        self.patches.append((cls, name, cls.__dict__.get(name, _INHERITED), None))
        setattr(cls, name, new_fn)

    def visit_once(self, thing, kind=""):
        """True the first time ``thing`` is seen (for ``kind`` of visit)."""
        if (kind, id(thing)) in self.visited:
            return False
        self.visited.add((kind, id(thing)))
        return True

    def revert(self):
        """Puts every original back, last patch first."""
        while self.on_revert:
            self.on_revert.pop()()
        for target, name, original, delete in reversed(self.patches):
            if delete is None:
                if original is _INHERITED:
                    delattr(target, name)
                else:
                    setattr(target, name, original)
            elif delete:
                target.pop(name, None)
            else:
                target[name] = original
        self.patches.clear()


_INHERITED = object()   # patch_method's note that the class took the attribute from a base class


def _autowrap_check(patcher, frame_dict, function_ids):
    """Puts recording stand-ins in ``frame_dict`` for the functions in ``function_ids`` (``math``'s) and for
    ember's public functions, each dict once."""
    if patcher.visit_once(frame_dict):
        for name, value in list(frame_dict.items()):
            if not name.startswith("_") and callable(value) and id(value) in function_ids:
                patcher.patch(frame_dict, name, _StandIn(value))
    _record_ember_entries(patcher, frame_dict)


def _record_ember_entries(patcher, frame_dict):
    # ember's public functions in a namespace or globals, as torch's __torch_function__ would see their calls.
    if patcher.visit_once(frame_dict, "ember"):
        for name, value in list(frame_dict.items()):
            if not name.startswith("_") and callable(value) and not isinstance(value, _StandIn) and \
                    public_entry(value) is not None:
                patcher.patch(frame_dict, name, _StandIn(value, mark_wrapped=False))


def _record_ember_functions(patcher):
    """Until ``patcher`` reverts, ember's functions and Tensor methods record nodes when given a Proxy: stand-ins
    replace them in ember's namespaces, on ``Tensor``, and in the globals of every function entered and the
    attributes of the module whose method it is (a profile hook sees each call before its body runs, so helpers
    that imported them by name record too), as torch's ``__torch_function__`` sees every call."""
    for name, method in list(vars(Tensor).items()):
        if isinstance(method, types.FunctionType) and (not name.startswith("_") or name in _TENSOR_OPERATOR_METHODS):
            patcher.patch_method(Tensor, name, _tensor_method_stand_in(
                method, _TENSOR_OPERATOR_METHODS.get(name, name)))
    for namespace in _NAMESPACES:
        _record_ember_entries(patcher, _namespace(namespace).__dict__)

    def profile(frame, event, arg):
        if event == "call":
            _record_ember_entries(patcher, frame.f_globals)
            owner = frame.f_locals.get("self") if frame.f_code.co_argcount else None
            if isinstance(owner, Module):   # functions a module keeps as attributes (self.act = F.silu)
                _record_ember_entries(patcher, owner.__dict__)
    previous = sys.getprofile()
    sys.setprofile(profile)
    patcher.on_revert.append(lambda: sys.setprofile(previous))


def _patch_wrapped_functions(patcher):
    """Puts recording stand-ins in place of the functions ``wrap`` registered, and of ember's functions
    (``_record_ember_functions``), until ``patcher`` reverts."""
    for (_, name), frame_dict in list(_wrapped_fns_to_patch.items()):
        original = getattr(builtins, name) if name not in frame_dict and hasattr(builtins, name) else frame_dict[name]
        patcher.patch(frame_dict, name, _StandIn(original))
    _record_ember_functions(patcher)


# (id(globals), name) -> globals: the functions ``wrap`` registered, patched during every trace.
_wrapped_fns_to_patch = {}


def wrap(fn_or_name):
    """Called at module scope with a function (or its name), makes traces record calls to that global function
    as one ``call_function`` node instead of tracing through it. Returns its argument."""
    if not callable(fn_or_name) and not isinstance(fn_or_name, str):
        raise RuntimeError("Unsupported type for global function! Must be either a callable or string name")
    fn_name = fn_or_name if isinstance(fn_or_name, str) else fn_or_name.__name__
    f = inspect.currentframe().f_back
    if f.f_code.co_name != "<module>":
        raise NotImplementedError("wrap must be called at the top level of a module")
    _wrapped_fns_to_patch[(id(f.f_globals), fn_name)] = f.f_globals
    return fn_or_name


@wrap
def _assert_is_none(value, msg):
    if value is not None:
        raise AssertionError(msg)


def _patch_function(fn, nargs):
    # The function with *args/**kwargs turned into plain positional parameters, so each receives one Proxy.
    co = fn.__code__
    flags = co.co_flags & ~(inspect.CO_VARARGS | inspect.CO_VARKEYWORDS)
    code = co.replace(co_argcount=nargs, co_posonlyargcount=0, co_kwonlyargcount=0, co_flags=flags)
    return types.FunctionType(code, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)


def compatibility(is_backward_compatible):
    """torch.fx's marker of a public API's compatibility promise (``torch.fx._compatibility``): returns the
    decorated function unchanged."""
    def mark(fn):
        return fn
    return mark


_orig_module_call = Module.__call__
_orig_module_getattr = Module.__getattr__
FunctionType = types.FunctionType


class Tracer(TracerBase):
    """Records a module's ``forward`` (or a function) as a ``Graph``. Override ``is_leaf_module`` to choose which
    submodules stay single ``call_module`` nodes, ``create_proxy``/``create_node`` to annotate nodes."""

    def __init__(self, autowrap_modules=(math,), autowrap_functions=(), param_shapes_constant=False):
        super().__init__()
        self._autowrap_function_ids = {id(value) for module in autowrap_modules
                                       for name, value in module.__dict__.items()
                                       if not name.startswith("_") and callable(value)}
        self._autowrap_function_ids.update(id(f) for f in autowrap_functions)
        self._autowrap_search = list(autowrap_modules)
        self.param_shapes_constant = param_shapes_constant
        self.submodule_paths = None
        self.root_module_name = ""
        self.scope = Scope("", None)
        self.module_stack = collections.OrderedDict()
        self.num_calls = {}
        self.node_name_to_scope = {}

    def create_node(self, kind, target, args, kwargs, name=None, type_expr=None):
        """Appends a node and notes the module scope it was recorded in."""
        node = super().create_node(kind, target, args, kwargs, name, type_expr)
        self.node_name_to_scope[node.name] = (self.scope.module_path, self.scope.module_type)
        return node

    def get_fresh_qualname(self, prefix):
        """An attribute name of the root not yet taken: ``prefix`` followed by a number."""
        i = 0
        while hasattr(self.root, f"{prefix}{i}"):
            i += 1
        return f"{prefix}{i}"

    def create_arg(self, a):
        """As ``TracerBase.create_arg``, plus: parameters, buffers and tensor attributes of the root become
        ``get_attr`` nodes; other tensors are stored on the root as ``_tensor_constant<N>``."""
        if isinstance(a, Parameter):
            for n, p in self.root.named_parameters():
                if a is p:
                    return self.create_node("get_attr", n, (), {})
            raise NameError("parameter is not a member of this module")
        if isinstance(a, Tensor):
            for n, p in self.root.named_buffers():
                if a is p:
                    return self.create_node("get_attr", n, (), {})
        elif isinstance(a, Module):
            for n, p in self.root.named_modules():
                if a is p:
                    return self.create_node("get_attr", n, (), {})
        if isinstance(a, tuple) and is_namedtuple(a):
            return self.create_node("call_function", type(a), tuple(self.create_arg(e) for e in a), {})
        if isinstance(a, Tensor):
            qualname = self.tensor_attrs.get(a)
            if not qualname:
                qualname = self.get_fresh_qualname("_tensor_constant")
                self.tensor_attrs[a] = qualname
                setattr(self.root, qualname, a)
            return self.create_node("get_attr", qualname, (), {})
        if type(a) in _proxyable_classes:
            qualname = self.get_fresh_qualname(f"_{type(a).__name__}_constant_")
            setattr(self.root, qualname, a)
            return self.create_node("get_attr", qualname, (), {})
        return super().create_arg(a)

    def is_leaf_module(self, m, module_qualified_name):
        """True for ember's own layers (``ember.nn`` and ``ember.ao.nn``, except ``Sequential``): they stay
        ``call_module`` nodes."""
        module = _alias.ember_module_name(type(m).__module__) or ""
        return module.startswith(("ember.nn", "ember.ao.nn")) and not isinstance(m, Sequential)

    def path_of_module(self, mod):
        """The dotted path of submodule ``mod`` in the root (``"layer1.0.conv1"``)."""
        if self.submodule_paths:
            path = self.submodule_paths.get(mod)
            if path is None:
                raise NameError("module is not installed as a submodule")
            return path
        for n, p in self.root.named_modules():
            if mod is p:
                return n
        raise NameError("module is not installed as a submodule")

    def call_module(self, m, forward, args, kwargs):
        """Records a ``call_module`` node for a leaf module, else traces through ``forward``."""
        module_qualified_name = self.path_of_module(m)
        with ScopeContextManager(self.scope, Scope(module_qualified_name, type(m))) as scope:
            num_calls = self.num_calls.get(module_qualified_name, 0)
            module_key = f"{scope.module_path}@{num_calls}" if num_calls > 0 else scope.module_path
            self.module_stack[module_key] = (module_qualified_name, scope.module_type)
            self.num_calls[module_qualified_name] = num_calls + 1
            if not self.is_leaf_module(m, module_qualified_name):
                result = forward(*args, **kwargs)
            else:
                result = self.create_proxy("call_module", module_qualified_name, args, kwargs)
            self.module_stack.popitem(last=True)
        return result

    def getattr(self, attr, attr_val, parameter_proxy_cache):
        """What reading a module attribute gives during a trace: a ``get_attr`` Proxy for parameters (and
        buffers when ``proxy_buffer_attributes``), the value itself otherwise."""
        def proxy_for(collection):
            for n, p in collection:
                if attr_val is p:
                    if n not in parameter_proxy_cache:
                        extra = {}   # an override of create_proxy may not take the factory (as PyTorch checks)
                        if "proxy_factory_fn" in inspect.signature(self.create_proxy).parameters:
                            extra["proxy_factory_fn"] = None
                            if self.param_shapes_constant and isinstance(attr_val, Parameter):
                                extra["proxy_factory_fn"] = lambda node: ParameterProxy(self, node, n, attr_val)
                        parameter_proxy_cache[n] = self.create_proxy("get_attr", n, (), {}, **extra)
                    return parameter_proxy_cache[n]
            return None
        if isinstance(attr_val, Parameter):
            proxy = proxy_for(self.root.named_parameters())
            if proxy is not None:
                return proxy
        if self.proxy_buffer_attributes and isinstance(attr_val, Tensor):
            proxy = proxy_for(self.root.named_buffers())
            if proxy is not None:
                return proxy
        return attr_val

    def create_args_for_root(self, root_fn, is_module, concrete_args=None):
        """Placeholder Proxies for the parameters of ``root_fn`` (after ``self``), concrete values for those in
        ``concrete_args``; returns the function to call and its arguments."""
        fn = inspect.unwrap(root_fn)
        co = fn.__code__
        total_args = co.co_argcount + co.co_kwonlyargcount
        orig_args = list(co.co_varnames)
        names = iter(co.co_varnames)
        args = []
        skip = 0
        if is_module:
            if total_args == 0:
                raise RuntimeError("``self`` argument cannot be part of *args expansion!")
            skip = 1
            next(names)
            args.append(self.root)
        sig = inspect.signature(fn)
        arg_names = [next(names) for _ in range(skip, total_args)]
        if isinstance(concrete_args, tuple):
            if len(arg_names) != len(concrete_args):
                raise RuntimeError(f"Tracing expected {len(arg_names)} arguments but got {len(concrete_args)} "
                                   "concrete arguments")
            concrete_args = dict(zip(arg_names, concrete_args))
        args.extend(self._proxy_placeholder(name, concrete_args, sig, fn) for name in arg_names)
        if co.co_kwonlyargcount > 0 or co.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS):
            if co.co_flags & inspect.CO_VARARGS:
                args.append(self._proxy_placeholder("*" + next(names), concrete_args, sig, fn))
            if co.co_flags & inspect.CO_VARKEYWORDS:
                args.append(self._proxy_placeholder("**" + next(names), concrete_args, sig, fn))
            root_fn = _patch_function(root_fn, len(args))
        flat_args, in_spec = pytree.tree_flatten(tuple(args))
        if all(child.is_leaf() for child in in_spec.children_specs):
            return root_fn, args
        # Structured concrete arguments: the graph takes their leaves and returns the output's leaves; its code
        # flattens the arguments and rebuilds the output.
        codegen = self.graph._codegen = _PyTreeCodeGen(_PyTreeInfo(orig_args[:total_args], in_spec, None))

        def flatten_fn(*leaves):
            out_leaves, out_spec = pytree.tree_flatten(root_fn(*pytree.tree_unflatten(list(leaves), in_spec)))
            codegen.pytree_info = codegen.pytree_info._replace(out_spec=out_spec)
            return out_leaves
        return flatten_fn, flat_args

    def _proxy_placeholder(self, name, concrete_args, sig, fn):
        if concrete_args is not None and name in concrete_args:
            count = itertools.count(1)
            return pytree.tree_map(lambda x: self._concrete_placeholder(name, x, next(count), sig),
                                   concrete_args[name])
        if name[0] == "*":
            default = ()
        else:
            param = sig.parameters[name]
            default = () if param.default is inspect.Parameter.empty else (param.default,)
        return self.create_proxy("placeholder", name, default, {},
                                 type_expr=fn.__annotations__.get(name, None))

    def _concrete_placeholder(self, name, x, index, sig):
        """The placeholder ``<name>_<index>`` for one leaf ``x`` of a concrete argument: a Proxy for ``PH``, else
        ``x`` itself, with a check that the input has that value where one can be written."""
        param = sig.parameters[name]
        default = () if param.default is inspect.Parameter.empty else (param.default,)
        out = self.create_proxy("placeholder", f"{name}_{index}", default, {})
        if isinstance(x, PHBase):
            return out
        if type(x) in (bool, int, float, complex, str):
            message = f"{name} has been specialized to have value {x} but got another value"
            self.create_proxy("call_function", _assert, (out == x, message), {})
        elif x is None:
            self.create_proxy("call_function", _assert_is_none,
                              (out, f"{name} has been specialized to have value None but got another value"), {})
        else:
            warnings.warn(f"Was not able to add assertion to guarantee correct input {name} to specialized "
                          "function. It is up to the user to make sure that your inputs match the inputs you "
                          "specialized the function with.", stacklevel=3)
        return x

    def _autowrap(self, patcher, frame_dict):
        _autowrap_check(patcher, frame_dict, self._autowrap_function_ids)

    @contextlib.contextmanager
    def recording_ember_functions(self, patcher):
        """While open, ember's functions and Tensor methods record nodes when given a Proxy (and ``math``'s in the
        autowrapped modules); ``patcher.revert()`` puts the originals back."""
        _record_ember_functions(patcher)
        for module in self._autowrap_search:
            self._autowrap(patcher, module.__dict__)
        hook = patcher.on_revert.pop()   # the profile hook ends with the block
        try:
            yield
        finally:
            hook()

    def trace(self, root, concrete_args=None):
        """Traces ``root`` (a Module's ``forward``, or a function) and returns the ``Graph``."""
        global _is_fx_tracing_flag
        old_flag, _is_fx_tracing_flag = _is_fx_tracing_flag, True
        try:
            if isinstance(root, Module):
                self.root = root
                fn = getattr(type(root), self.traced_func_name)
                self.root_module_name = root._get_name()
                self.submodule_paths = {mod: name for name, mod in root.named_modules()}
            else:
                self.root = Module()
                fn = root
            self.graph = Graph(tracer_cls=type(self))
            self.tensor_attrs = {}

            def collect_tensor_attrs(m, prefix):
                for k, v in m.__dict__.items():
                    if isinstance(v, Tensor):
                        self.tensor_attrs[v] = ".".join(prefix + [k])
                for k, v in m.named_children():
                    collect_tensor_attrs(v, prefix + [k])
            collect_tensor_attrs(self.root, [])
            fn_globals = fn.__globals__
            fn, args = self.create_args_for_root(fn, isinstance(root, Module), concrete_args)
            parameter_proxy_cache = {}
            original_getattr, original_call = _orig_module_getattr, _orig_module_call

            def module_getattr_wrapper(mod, attr):
                return self.getattr(attr, original_getattr(mod, attr), parameter_proxy_cache)

            def module_call_wrapper(mod, *args, **kwargs):
                def forward(*args, **kwargs):
                    return original_call(mod, *args, **kwargs)
                self._autowrap(patcher, getattr(getattr(mod, "forward", mod), "__globals__", {}))
                return self.call_module(mod, forward, args, kwargs)

            patcher = _Patcher()
            try:
                patcher.patch_method(Module, "__getattr__", module_getattr_wrapper, deduplicate=False)
                patcher.patch_method(Module, "__call__", module_call_wrapper, deduplicate=False)
                self._autowrap(patcher, fn_globals)
                for module in self.root.modules():   # functions kept as attributes (self.act = ember.relu)
                    self._autowrap(patcher, module.__dict__)
                _patch_wrapped_functions(patcher)
                for module in self._autowrap_search:
                    self._autowrap(patcher, module.__dict__)
                result = fn(*args)
                self.create_node("output", "output", (self.create_arg(result),), {},
                                 type_expr=fn.__annotations__.get("return", None))
            finally:
                patcher.revert()
            self.submodule_paths = None
        finally:
            _is_fx_tracing_flag = old_flag
        return self.graph


def symbolic_trace(root, concrete_args=None):
    """Traces a Module (or function) into a ``GraphModule``: the recorded graph, its generated ``forward``, and
    the parameters and submodules it uses. ``concrete_args`` fixes some inputs to values (e.g. flags that decide
    control flow), ``PH`` keeps one an input."""
    tracer = Tracer()
    graph = tracer.trace(root, concrete_args)
    name = type(root).__name__ if isinstance(root, Module) else root.__name__
    return GraphModule(tracer.root, graph, name)
