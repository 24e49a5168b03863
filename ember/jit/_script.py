"""``jit.script``: compiles Python source (a function, or a module's ``forward`` with the methods and submodules it
calls) into the IR, with the TorchScript frontend's statement compiler (``_torchscript._Compiler``).

What is known when compiling is folded: module attributes (but ``self.training``, read at run time, so the program
follows ``train()``/``eval()`` as TorchScript's does), literals, globals, and any expression of them; a condition
known then compiles only its branch, a loop over submodules or a constant list is unrolled. What depends on inputs
becomes nodes: calls of ember's public tensor functions (``fn::``), Tensor methods (``method::``), operators
(``aten::``), ``prim::If`` and ``prim::Loop``; a call of a Python function or of another scripted function compiles
its source in place. Anything else is an error naming the file, line and
construct.
"""
import ast
import enum
import functools
import inspect
import operator
import textwrap
import types
import typing

from .. import _dtype
from .._tensor import Tensor
from ..nn.modules.module import Module
from ..overrides import unwrapped
from . import _language, _loop_exits, _recurrent
from ._call_checks import CallChecks
from ._ir import Block, Graph, Value
from ._module import ScriptFunction, ScriptModule, mirror
from ._torchscript import _BINARY, _COMPARE, _Compiler, _ModuleRef

_FOLD = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
         ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow, ast.Gt: operator.gt,
         ast.Lt: operator.lt, ast.GtE: operator.ge, ast.LtE: operator.le, ast.Eq: operator.eq,
         ast.NotEq: operator.ne, ast.Is: operator.is_, ast.IsNot: operator.is_not,
         ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b, ast.BitAnd: operator.and_,
         ast.BitOr: operator.or_}


_UNROLL = 16   # a range loop of at most this many known trips is unrolled, so its counter is known in the body


class _Returned(Exception):
    """Carries a ``return``'s value out of the statements being compiled."""

    def __init__(self, value):
        super().__init__()
        self.value = value


class _Static:
    """A Python object known at compile time that is not a literal (a module of functions, a function, a dict)."""

    def __init__(self, obj):
        self.obj = obj


class _Container:
    """A tuple or list whose length is known when compiling and whose items may be graph values."""

    def __init__(self, items, kind):
        self.items, self.kind = list(items), kind


class _Mapping:
    """A dict whose keys are known when compiling and whose values may be graph values (``Dict[str, Tensor]``)."""

    def __init__(self, items):
        self.items = items


class _Method:
    """``tensor.name`` waiting for its call."""

    def __init__(self, value, name):
        self.value, self.name = value, name


def ignore(drop=False, **kwargs):
    """Decorator: leaves a function out of scripting; scripted code that calls it fails to compile."""
    def mark(function):
        function._ember_jit = "ignore"
        return function
    return mark(drop) if callable(drop) else mark


def unused(function):
    """Decorator: a method that scripted code never runs; compiling a call of it fails."""
    function._ember_jit = "unused"
    return function


def export(function):
    """Decorator: a module method that ``jit.script`` compiles as well, beside ``forward``."""
    function._ember_jit = "export"
    return function


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """Compiles a function or a Module (its ``forward`` and ``@jit.export`` methods) from source into the IR."""
    if isinstance(obj, ScriptModule) or isinstance(obj, ScriptFunction):
        return obj
    with _language.scripting():   # calls folded while compiling see is_scripting() True
        return _compiled(obj)


def _compiled(obj):
    if isinstance(obj, Module):
        compiled = mirror(obj)
        compiler = _ScriptCompiler(obj)
        names = ["forward"] + [n for n, f in inspect.getmembers(type(obj), inspect.isfunction)
                               if getattr(f, "_ember_jit", None) == "export" and n != "forward"]
        for name in names:
            graph = compiler.compile_method(name)
            parameters = list(inspect.signature(getattr(type(obj), name)).parameters.values())[1:]
            compiled._define(name, graph, Variants(
                name, parameters, graph, lambda values, name=name: _ScriptCompiler(obj).compile_method(name, values),
                method=True))
        return compiled
    if isinstance(obj, types.FunctionType):
        graph = _ScriptCompiler(None).compile_function(obj)
        compiled = ScriptFunction(obj.__name__, graph)
        compiled._function = obj   # scripted code calling it compiles the source in place
        compiled._variants = Variants(obj.__name__, list(inspect.signature(obj).parameters.values()), graph,
                                      lambda values: _ScriptCompiler(None).compile_function(obj, values))
        return compiled
    if inspect.isclass(obj):
        return _script_class(obj)
    if type(obj).__module__ == "builtins" and not isinstance(obj, (list, dict)):   # PyTorch reads its source
        raise TypeError(f"{type(obj)!r} is a built-in class")
    raise RuntimeError(f"ember.jit.script: cannot script an object of type {type(obj).__name__}")


class Variants:
    """Which graph runs a call of a scripted function or method. The main graph holds parameters with defaults as
    constants (their defaults); a call giving such a parameter another value runs a graph compiled for that value
    (once per distinct set of values), so ``f(x, scale=3.0)`` computes with 3.0 where TorchScript passes the
    value to its graph's input."""

    def __init__(self, name, parameters, graph, compile, method=False):
        self.signature, self.method = inspect.Signature(parameters), int(method)   # method: ``self`` counts
        self.inputs = [value.name for value in graph.inputs]
        self.folded = [p.name for p in parameters if p.name not in self.inputs]
        self.compile, self.graphs = compile, {}
        self.check = CallChecks(name, parameters, self.method)

    def __call__(self, main, args, kwargs):
        """(interpreter, args, kwargs) for the call ``(*args, **kwargs)``, its arguments checked against their
        types: ``main``'s own when it passes only the main graph's inputs."""
        self.check(args, kwargs)
        if len(args) <= len(self.inputs) and (not kwargs or all(name in self.inputs for name in kwargs)):
            return main, args, kwargs   # (which also gives the errors of missing or repeated arguments)
        bound = self.bind(args, kwargs)
        values = {name: bound[name] for name in self.folded if name in bound}
        key = tuple((name, "Tensor" if isinstance(v, Tensor) else (type(v), _hashable(v))) for name, v in
                    values.items())
        interpreter = self.graphs.get(key)
        if interpreter is None:
            from ._interpreter import Interpreter
            with _language.scripting():
                interpreter = self.graphs[key] = Interpreter(self.compile(values))
        return interpreter, (), {name: bound[name] for name in interpreter.names if name in bound}

    def bind(self, args, kwargs):
        """The call's arguments by parameter name; TorchScript's errors for too many or unknown ones."""
        parameters, name = self.signature.parameters, self.check.name
        if len(args) + len(kwargs) > len(parameters):
            raise RuntimeError(f"{name}() expected at most {len(parameters) + self.method} argument(s) but "
                               f"received {len(args) + len(kwargs) + self.method} argument(s)")
        positional = list(parameters)[:len(args)]
        given = set(positional) | set(kwargs)
        for parameter in parameters.values():
            if parameter.default is inspect.Parameter.empty and parameter.name not in given and \
                    not _optional(parameter.annotation):
                raise RuntimeError(f"{name}() is missing value for argument '{parameter.name}'")
        for keyword in kwargs:
            if keyword not in parameters:
                raise RuntimeError(f"Unknown keyword argument '{keyword}' for operator '{name}'")
            if keyword in positional:
                raise RuntimeError(f"{name}() got multiple values for argument '{keyword}'")
        return self.signature.bind(*args, **kwargs).arguments


def _hashable(value):
    try:
        hash(value)
        return value
    except TypeError:
        return repr(value)


def _script_class(cls):
    """``jit.script`` on a class: PyTorch checks it can be a TorchScript class and returns the class itself, whose
    instances stay Python objects in eager code; ember checks the same and returns it (scripted code that builds
    one does not compile)."""
    if issubclass(cls, Module):
        raise RuntimeError(f"Type '{cls}' cannot be compiled since it inherits from nn.Module, pass an instance "
                           f"instead")
    if issubclass(cls, enum.Enum):
        return cls
    if len(cls.mro()) > 2:
        raise RuntimeError("TorchScript classes does not support inheritance yet. "
                           "Please directly inherit from 'object'.")
    return cls


@functools.lru_cache(maxsize=1)
def _functions():
    """Public tensor functions scripted code may call: ``name -> function`` and ``id(function) -> name``."""
    import ember
    import ember.nn.functional as F

    from .. import ops
    table = {}
    for module in [ember, F, ember.linalg] + [getattr(ops, n) for n in dir(ops) if not n.startswith("_")]:
        if not isinstance(module, types.ModuleType):
            continue
        for name in dir(module):
            function = unwrapped(getattr(module, name))
            home = getattr(inspect.unwrap(function), "__module__", "") or ""   # (NumPy-keyword forms live in ember)
            if not name.startswith("_") and callable(function) and not isinstance(function, type) and \
                    (home.startswith("ember.ops") or home == "ember.nn.functional"):
                table.setdefault(f"{home[6:]}.{getattr(function, '__name__', name)}", function)
    return table, {id(f): n for n, f in table.items()}


def function_named(name):
    """The public tensor function ``fn::name`` runs, or None."""
    return _functions()[0].get(name)


def tensor_method(name):
    """A caller of the Tensor method ``name`` when it is an op (installed by ``ember.ops``), else None."""
    method = unwrapped(getattr(Tensor, name, None))
    home = getattr(inspect.unwrap(method), "__module__", "") if callable(method) else ""
    if name.startswith("_") or not callable(method) or not (home.startswith("ember.ops") or name in _SAFE_METHODS):
        return None
    return lambda tensor, *args, **kwargs: getattr(tensor, name)(*args, **kwargs)


_SAFE_METHODS = {"size", "dim", "numel", "float", "double", "long", "int", "bool", "half", "contiguous", "detach",
                 "clone", "item", "cpu", "type_as", "element_size"}


_BUILTINS = ((abs, "prim::abs"), (max, "prim::max"), (min, "prim::min"))
"""Python builtins scripted code calls on values known only at run time (numbers or tensors): their graph kinds."""


class _ScriptCompiler(_Compiler):
    def __init__(self, root):
        super().__init__(None, ())
        self.root, self.record, self.globals = root, "", {}
        self.depth = 0   # how many input-dependent branches or loops enclose the statement being compiled
        self.exits = 0   # loops lowered for break/continue so far (numbers their flags)
        self.paths = {id(m): name for name, m in root.named_modules()} if root is not None else {}

    def compile_method(self, name, values=None):
        """The graph of the root module's method ``name``; ``values`` gives parameters with defaults other values
        (folded as the defaults are)."""
        self.graph = Graph()
        self.nodes = self.graph.nodes
        function = getattr(type(self.root), name)
        inputs = self.inputs(list(inspect.signature(function).parameters.values())[1:], values)
        if name == "forward" and _recurrent.kind_of(self.root) is not None:   # its node takes hx=None at run time
            inputs[1] = self.graph.add_input("Optional[Tensor]", "hx")
        self.graph.output = self.value(self.inline(_ModuleRef(self.root, ""), name, inputs), None)
        return self.graph

    def inputs(self, parameters, values=None):
        """Graph inputs for the parameters without defaults and those annotated ``Optional`` (left out of a call,
        they are None, tested at run time); the others keep their defaults, or their ``values``, as constants (a
        tensor value is an input)."""
        values = values or {}
        return [self.graph.add_input("Optional[Tensor]", p.name) if _optional(p.annotation) else
                self.graph.add_input("Tensor", p.name) if p.default is inspect.Parameter.empty
                or isinstance(values.get(p.name), Tensor) else self.literal(values.get(p.name, p.default))
                for p in parameters]

    def compile_function(self, function, values=None):
        """The graph of ``function``; ``values`` gives parameters with defaults other values."""
        self.graph = Graph()
        self.nodes = self.graph.nodes
        inputs = self.inputs(list(inspect.signature(function).parameters.values()), values)
        self.graph.output = self.value(self.inline_function(function, inputs, None), None)
        return self.graph

    # --- source -------------------------------------------------------------------------------------------
    def inline(self, ref, method, args, keywords=None):
        kind = _recurrent.kind_of(ref.obj) if method == "forward" else None
        if kind is not None:
            return self.recurrent(ref, kind, args, keywords)
        function = getattr(type(ref.obj), method, None)
        if not isinstance(function, types.FunctionType):
            raise RuntimeError(f"ember.jit.script: {type(ref.obj).__name__}.{method} is not a Python method")
        return self.inline_function(function, args, ref, keywords)

    def inline_function(self, function, args, ref, keywords=None):
        mark = getattr(function, "_ember_jit", None)
        if mark in ("ignore", "unused"):
            raise RuntimeError(f"ember.jit.script: {function.__qualname__} is marked @jit.{mark} and cannot be "
                               "called from scripted code")
        try:
            lines, start = inspect.getsourcelines(function)
        except (OSError, TypeError) as error:
            raise OSError(f"Can't get source for {function}. TorchScript requires source access in order to carry "
                          "out compilation, make sure original .py files are available.") from error
        tree = ast.parse(textwrap.dedent("".join(lines)))
        ast.increment_lineno(tree, start - 1)
        definition = tree.body[0]
        if not isinstance(definition, ast.FunctionDef):
            raise RuntimeError(f"ember.jit.script: {function.__qualname__} is not a plain def")
        outer = (self.record, self.globals)
        self.record, self.globals = inspect.getsourcefile(function) or "<unknown>", dict(function.__globals__)
        closure = inspect.getclosurevars(function).nonlocals
        self.globals.update(closure)
        signature = inspect.signature(function)
        bound_args = ([ref] if ref is not None else []) + list(args)
        try:
            bound = signature.bind(*bound_args, **(keywords or {}))
        except TypeError as error:
            raise self.error(definition, f"the call {function.__qualname__}(): {error}") from None
        env = {name: self.literal(p.default) for name, p in signature.parameters.items()
               if p.default is not inspect.Parameter.empty}
        env.update(bound.arguments)
        result = self.constant(None)
        try:
            self.statements(definition.body, env)
        except _Returned as returned:
            result = returned.value
        self.record, self.globals = outer
        return result

    def recurrent(self, ref, kind, args, keywords):
        """A recurrent layer or cell as one node (as tracing records it), its training flag read at run time."""
        try:
            bound = inspect.signature(ref.obj.forward).bind(*args, **(keywords or {}))
        except TypeError as error:
            raise self.error(None, f"the call {type(ref.obj).__name__}(): {error}") from None
        input, hx = bound.arguments.get("input"), bound.arguments.get("hx", self.constant(None))
        items = _recurrent.arguments(ref.obj, input, hx, lambda module, name: self.member(ref, name, None))
        inputs = [self.value(_Container(item, list) if isinstance(item, list) else
                             item if isinstance(item, (Value, _Container)) else self.literal(item), None)
                  for item in items]
        count = _recurrent.output_count(kind)
        node = self.emit(kind, inputs, outputs=count, unpack=count > 1)
        return _containers(_recurrent.restructure(kind, node.outputs if count > 1 else node.outputs[0]))

    # --- known values -------------------------------------------------------------------------------------
    def literal(self, obj):
        """``obj`` as what the compiler carries: a constant Value, a module reference or a static object."""
        if isinstance(obj, Module):
            if id(obj) not in self.paths:
                raise RuntimeError(f"ember.jit.script: a module outside the scripted one ({type(obj).__name__})")
            path = self.paths[id(obj)]
            return _ModuleRef(obj, path + "." if path else "")
        if _is_constant(obj):
            return self.constant(obj)
        return _Static(obj)

    def known(self, item):
        """(True, Python object) when ``item`` is known at compile time."""
        if isinstance(item, _Static):
            return True, item.obj
        if isinstance(item, _ModuleRef):
            return True, item.obj
        if isinstance(item, Value) and item.node is not None and item.node.kind == "prim::Constant":
            return True, item.node.value
        if isinstance(item, _Container):
            parts = [self.known(i) for i in item.items]
            if all(k for k, _ in parts):
                return True, item.kind(o for _, o in parts)
        if isinstance(item, _Mapping):
            parts = [self.known(i) for i in item.items.values()]
            if all(k for k, _ in parts):
                return True, dict(zip(item.items, (o for _, o in parts)))
        return False, None

    def value(self, item, node):
        """``item`` as a graph Value (a static object that is no literal cannot be one)."""
        if isinstance(item, Value):
            return item
        if isinstance(item, _Container):
            kind = "prim::ListConstruct" if item.kind is list else "prim::TupleConstruct"
            return self.emit(kind, [self.value(i, node) for i in item.items], type=item.kind.__name__).outputs[0]
        if isinstance(item, _Mapping):
            inputs = [v for key, item_ in item.items.items() for v in (self.constant(key), self.value(item_, node))]
            return self.emit("prim::DictConstruct", inputs, type="Dict").outputs[0]
        if isinstance(item, _Static) and isinstance(item.obj, (tuple, list)):
            return self.emit("prim::TupleConstruct" if isinstance(item.obj, tuple) else "prim::ListConstruct",
                             [self.value(self.literal(o), node) for o in item.obj]).outputs[0]
        raise self.error(node, f"a {type(getattr(item, 'obj', item)).__name__} used as a value")

    # --- statements ---------------------------------------------------------------------------------------
    def items(self, item):
        """The items of a container known when compiling (a _Container, or a known iterable), else None."""
        if isinstance(item, _Container):
            return list(item.items)
        if isinstance(item, _Mapping):
            return [self.literal(key) for key in item.items]
        known, obj = self.known(item)
        if known and not isinstance(obj, (Tensor, str)) and hasattr(obj, "__iter__"):
            return [self.literal(o) for o in obj]
        return None

    def bind(self, target, value, env):
        """Assigns ``value`` to a name or unpacks it into a tuple/list of targets."""
        if isinstance(target, ast.Name):
            env[target.id] = value
            return
        if isinstance(target, ast.Subscript):   # d[key] = value on a dict whose keys are known
            mapping = self.expression(target.value, env)
            known, key = self.known(self.key(target.slice, env))
            if not isinstance(mapping, _Mapping) or not known or not isinstance(target.value, ast.Name):
                raise self.error(target, "assignment to an item of anything but a named dict with known keys")
            env[target.value.id] = _Mapping({**mapping.items, key: value})   # a new dict: branches stay apart
            return
        if not isinstance(target, (ast.Tuple, ast.List)):
            raise self.error(target, f"assignment to {type(target).__name__}")
        items = self.items(value)
        if items is None:
            node = self.emit("prim::TupleUnpack", [self.value(value, target)], outputs=len(target.elts),
                             unpack=True)
            items = node.outputs
        if len(items) != len(target.elts):
            raise self.error(target, f"unpacking {len(items)} values into {len(target.elts)} names")
        for element, item in zip(target.elts, items):
            self.bind(element, item, env)

    def statements(self, body, env):
        """Compiles a statement list; an ``if`` that returns takes the statements after it into its other branch,
        so both branches return and the ``prim::If`` yields the function's result."""
        for i, statement in enumerate(body):
            lowered = self.lowered_loop(statement)
            if lowered:   # lowered here, so that a return after the loop takes the statements after it
                self.statements(lowered + body[i + 1:], env)
                return
            if isinstance(statement, ast.If) and any(isinstance(n, ast.Return) for n in ast.walk(statement)):
                test = self.expression(statement.test, env)
                known, condition = self.known(test)
                rest = body[i + 1:]
                if known:
                    self.statements((statement.body if condition else statement.orelse) + rest, env)
                    return
                blocks = [self.returning_block(part + rest, env) for part in (statement.body, statement.orelse)]
                result = self.emit("prim::If", [test])
                result.blocks = blocks
                raise _Returned(result.outputs[0])
            self.statement(statement, env)

    def returning_block(self, body, env):
        """A Block of ``body`` (which returns, or falls off its end returning None) yielding the returned value."""
        block, outer = Block(), self.nodes
        self.nodes = block.nodes
        try:
            self.statements(body, dict(env))
            value = self.constant(None)
        except _Returned as returned:
            value = returned.value
        block.outputs = [self.value(value, body[0] if body else None)]
        self.nodes = outer
        return block

    def lowered_loop(self, node):
        """``node``'s statements without break, continue or return (``_loop_exits``) where it is a loop that has
        them, else None."""
        if isinstance(node, (ast.For, ast.While)) and _loop_exits.exits(node):
            self.exits += 1
            return _loop_exits.lower(node, self.exits)
        return None

    def statement(self, node, env):
        lowered = self.lowered_loop(node)
        if lowered:
            for statement in lowered:
                self.statement(statement, env)
            return
        if isinstance(node, ast.If):
            test = self.expression(node.test, env)
            known, condition = self.known(test)
            if known:
                for statement in node.body if condition else node.orelse:
                    self.statement(statement, env)
            else:
                self.branch(node, env, test)
            return
        if isinstance(node, ast.For):   # over what is known when compiling (a short range too): unrolled
            over_range = isinstance(node.iter, ast.Call) and isinstance(node.iter.func, ast.Name) and \
                node.iter.func.id == "range"
            iterable = self.expression(node.iter, env) if not over_range else None
            if over_range:
                bounds = [self.known(self.expression(a, env)) for a in node.iter.args]
                if all(k for k, _ in bounds) and len(range(*(b for _, b in bounds))) <= _UNROLL:
                    iterable = self.literal(range(*(b for _, b in bounds)))
            items = self.items(iterable) if iterable is not None else None
            if items is not None:
                for item in items:
                    self.bind(node.target, item, env)
                    for statement in node.body:
                        self.statement(statement, env)
                return
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            value = self.binary(node.op, env[node.target.id], self.expression(node.value, env), node)
            env[node.target.id] = value
            return
        if isinstance(node, ast.Return):
            raise _Returned(self.expression(node.value, env) if node.value is not None else self.constant(None))
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            scope = {}   # the user's own import, run now: its names become known objects
            exec(compile(ast.Module([node], []), self.record, "exec"), dict(self.globals), scope)
            env.update({name: self.literal(obj) for name, obj in scope.items()})
            return
        if isinstance(node, ast.Assert):   # as ``if not test: raise AssertionError(msg)``, TorchScript's reading
            error = ast.Call(ast.Name("AssertionError", ast.Load()), [node.msg] if node.msg else [], [])
            check = ast.If(ast.UnaryOp(ast.Not(), node.test), [ast.Raise(error, None)], [])
            self.statement(ast.fix_missing_locations(ast.copy_location(check, node)), env)
            return
        if isinstance(node, ast.Raise):
            message = f"{ast.unparse(node.exc) if node.exc else 'exception'} ({self.record}:{node.lineno})"
            self.emit("prim::RaiseException", [self.constant(message)], outputs=0)
            return
        if isinstance(node, ast.Assign):
            value = self.expression(node.value, env)
            for target in node.targets:
                self.bind(target, value, env)
            return
        super().statement(node, env)

    # --- expressions --------------------------------------------------------------------------------------
    def expression(self, node, env):
        if isinstance(node, ast.Name):
            if node.id in env:
                return env[node.id]
            if node.id in self.globals:
                return self.literal(self.globals[node.id])
            import builtins
            if hasattr(builtins, node.id):
                return _Static(getattr(builtins, node.id))
            raise self.error(node, f"the undefined name {node.id!r}")
        if isinstance(node, ast.JoinedStr):   # folded when every part is known, else aten::format at run time
            template, items = [], []
            for part in node.values:
                if not isinstance(part, ast.FormattedValue):
                    template.append(part.value.replace("{", "{{").replace("}", "}}"))
                    continue
                if part.format_spec is not None or part.conversion != -1:
                    raise self.error(node, "a conversion or format spec in an f-string")
                template.append("{}")
                items.append(self.expression(part.value, env))
            values = [self.known(item) for item in items]
            if all(known for known, _ in values):
                return self.constant("".join(template).format(*[obj for _, obj in values]))
            inputs = [self.constant("".join(template))] + [self.value(item, node) for item in items]
            return self.emit("aten::format", inputs, type="str").outputs[0]
        if isinstance(node, (ast.List, ast.Tuple)):
            items = [self.expression(e, env) for e in node.elts]
            known = [self.known(i) for i in items]
            if isinstance(node, ast.List):   # growable by append/extend; still known when its items are
                return _Container(items, list)
            if all(k for k, _ in known):
                kind = list if isinstance(node, ast.List) else tuple
                return self.literal(kind(obj for _, obj in known))
            return _Container(items, list if isinstance(node, ast.List) else tuple)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return self.binary(node.op, self.expression(node.left, env), self.expression(node.right, env), node)
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            left, right = self.expression(node.left, env), self.expression(node.comparators[0], env)
            (known_left, a), (known_right, b) = self.known(left), self.known(right)
            if known_left and known_right and type(node.ops[0]) in _FOLD:
                return self.literal(_FOLD[type(node.ops[0])](a, b))
            if isinstance(node.ops[0], (ast.Is, ast.IsNot)) and known_right and b is None:
                if isinstance(left, Value) and str(left.type).startswith("Optional["):   # decided at run time
                    kind = "aten::__is__" if isinstance(node.ops[0], ast.Is) else "aten::__isnot__"
                    return self.emit(kind, [left, right], type="bool").outputs[0]
                return self.literal(isinstance(node.ops[0], ast.IsNot))   # any other graph value is never None
            kind = _COMPARE.get(type(node.ops[0]))
            if kind is None and isinstance(node.ops[0], (ast.Is, ast.IsNot)):   # identity, as TorchScript's
                kind = "aten::__is__" if isinstance(node.ops[0], ast.Is) else "aten::__isnot__"
                return self.emit(kind, [self.value(left, node), self.value(right, node)], type="bool").outputs[0]
            if kind is None and isinstance(node.ops[0], (ast.In, ast.NotIn)):
                contained = self.emit("aten::__contains__", [self.value(right, node), self.value(left, node)])
                return contained.outputs[0] if isinstance(node.ops[0], ast.In) else \
                    self.emit("aten::__not__", contained.outputs).outputs[0]
            if kind is None:
                raise self.error(node, f"the comparison {type(node.ops[0]).__name__}")
            return self.emit(kind, [self.value(left, node), self.value(right, node)]).outputs[0]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
            operand = self.expression(node.operand, env)
            known, obj = self.known(operand)
            if known:
                return self.literal(not obj if isinstance(node.op, ast.Not) else -obj)
            kind = "aten::__not__" if isinstance(node.op, ast.Not) else "aten::neg"
            return self.emit(kind, [operand]).outputs[0]
        if isinstance(node, ast.BoolOp):   # short-circuits on what is known, combines the rest
            return self.combine([lambda v=v: self.expression(v, env) for v in node.values],
                                isinstance(node.op, ast.And))
        if isinstance(node, ast.Subscript):
            return self.subscript(node, env)
        if isinstance(node, ast.IfExp):
            test = self.expression(node.test, env)
            known, condition = self.known(test)
            if known:
                return self.expression(node.body if condition else node.orelse, env)
            branches = []
            for part in (node.body, node.orelse):
                block, outer = Block(), self.nodes
                self.nodes = block.nodes
                block.outputs = [self.value(self.expression(part, env), part)]
                self.nodes = outer
                branches.append(block)
            result = self.emit("prim::If", [test])
            result.blocks = branches
            return result.outputs[0]
        if isinstance(node, (ast.GeneratorExp, ast.ListComp)) and len(node.generators) == 1:
            generator = node.generators[0]
            items = self.items(self.expression(generator.iter, env))
            if items is not None and not generator.is_async:
                results, inner = [], dict(env)
                for item in items:
                    self.bind(generator.target, item, inner)
                    conditions = [self.known(self.expression(c, inner)) for c in generator.ifs]
                    if not all(k for k, _ in conditions):
                        raise self.error(node, "a comprehension filter that depends on the inputs")
                    if all(c for _, c in conditions):
                        results.append(self.expression(node.elt, inner))
                return _Container(results, list if isinstance(node, ast.ListComp) else tuple)
        if isinstance(node, ast.Dict) and None not in node.keys:
            keys = [self.known(self.expression(k, env)) for k in node.keys]
            values = [self.expression(v, env) for v in node.values]
            if all(k for k, _ in keys) and not all(self.known(v)[0] for v in values):
                return _Mapping(dict(zip((key for _, key in keys), values)))
        if isinstance(node, (ast.GeneratorExp, ast.ListComp, ast.DictComp, ast.SetComp, ast.Lambda, ast.Dict)):
            return self.evaluate(node, env)
        return super().expression(node, env)

    def evaluate(self, node, env):
        """Folds an expression over known names by running it now (the user's own code, at scripting time)."""
        names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        scope = {}
        for name in names & set(env):
            known, obj = self.known(env[name])
            if not known:
                raise self.error(node, f"the expression {type(node).__name__} over the input-dependent {name!r}")
            scope[name] = obj
        return self.literal(eval(compile(ast.Expression(node), self.record, "eval"), dict(self.globals), scope))

    def block(self, statements, env, inputs=()):
        self.depth += 1
        try:
            return super().block(statements, env, inputs)
        except _Returned:
            raise self.error(statements[0], "a return inside a branch or loop that depends on the inputs") from None
        finally:
            self.depth -= 1

    def branch(self, node, env, condition=None):
        """An ``if`` on a run-time condition: a ``prim::If`` yielding each name either branch changes (a dict with
        known keys yields each of its values)."""
        condition = self.expression(node.test, env) if condition is None else condition
        (then, then_env), (other, other_env) = self.block(node.body, env), self.block(node.orelse, env)
        names = [n for n in then_env if n in other_env and (then_env[n] is not env.get(n) or
                                                            other_env[n] is not env.get(n))]
        leaves, shapes = [], []
        for name in names:
            a, b = then_env[name], other_env[name]
            if isinstance(a, _Mapping) and isinstance(b, _Mapping) and a.items.keys() == b.items.keys():
                leaves += [(a.items[k], b.items[k]) for k in a.items]
                shapes.append(list(a.items))
            else:
                leaves.append((a, b))
                shapes.append(None)
        for block, side in ((then, 0), (other, 1)):
            outer, self.nodes = self.nodes, block.nodes
            block.outputs = [self.value(pair[side], node) for pair in leaves]
            self.nodes = outer
        result = self.emit("prim::If", [condition], outputs=len(leaves))
        result.blocks = [then, other]
        outputs = iter(result.outputs)
        for name, keys in zip(names, shapes):
            env[name] = next(outputs) if keys is None else _Mapping({k: next(outputs) for k in keys})

    def combine(self, thunks, conjunction):
        """``and`` (``conjunction``) or ``or`` of lazily compiled operands, stopping at a known deciding one."""
        dynamic = []
        for thunk in thunks:
            item = thunk()
            known, obj = self.known(item)
            if not known:
                dynamic.append(item)
            elif bool(obj) != conjunction:
                return self.literal(obj)
        if not dynamic:
            return self.literal(conjunction)
        result = dynamic[0]
        for item in dynamic[1:]:
            result = self.emit("aten::__and__" if conjunction else "aten::__or__", [result, item]).outputs[0]
        return result

    def binary(self, op, left, right, node):
        (known_left, a), (known_right, b) = self.known(left), self.known(right)
        if known_left and known_right:
            return self.literal(_FOLD[type(op)](a, b))
        return self.emit(_BINARY[type(op)], [self.value(left, node), self.value(right, node)]).outputs[0]

    def subscript(self, node, env):
        base = self.expression(node.value, env)
        key = self.key(node.slice, env)
        if isinstance(base, _Mapping):
            known, index = self.known(key)
            if not known or index not in base.items:
                raise self.error(node, "a dict item whose key is unknown when compiling or missing")
            return base.items[index]
        if isinstance(base, _Container):
            known, index = self.known(key)
            if known:
                picked = base.items[index]
                return _Container(picked, base.kind) if isinstance(index, slice) else picked
        (known_base, obj), (known_key, index) = self.known(base), self.known(key)
        if known_base and known_key and not isinstance(obj, Tensor):
            return self.literal(obj[index])
        return self.emit("aten::__getitem__", [self.value(base, node), self.value(key, node)]).outputs[0]

    def key(self, node, env):
        if isinstance(node, ast.Slice):
            parts = [self.expression(p, env) if p is not None else self.constant(None)
                     for p in (node.lower, node.upper, node.step)]
            known = [self.known(p) for p in parts]
            if all(k for k, _ in known):
                return self.literal(slice(*(o for _, o in known)))
            return self.emit("prim::slice", [self.value(p, node) for p in parts]).outputs[0]
        if isinstance(node, ast.Tuple):
            items = [self.key(e, env) for e in node.elts]
            known = [self.known(i) for i in items]
            if all(k for k, _ in known):
                return self.literal(tuple(o for _, o in known))
            return self.emit("prim::TupleConstruct", [i if isinstance(i, Value) else self.constant(i.obj)
                                                      for i in items], type="tuple").outputs[0]
        if isinstance(node, ast.Constant) and node.value is Ellipsis:
            return self.literal(Ellipsis)
        return self.expression(node, env)

    def attribute(self, node, env):
        base = self.expression_or_module(node.value, env)
        if isinstance(base, _ModuleRef):
            return self.member(base, node.attr, node)
        if isinstance(base, _Container) and base.kind is list and node.attr in ("append", "extend"):
            return _Static(functools.partial(_ListMethod, base, node.attr))
        if isinstance(base, _Mapping):
            if node.attr not in ("items", "keys", "values"):
                raise self.error(node, f"the dict method {node.attr!r}")
            return _Static(functools.partial(_MappingView, base, node.attr))
        if isinstance(base, Value) and not self.known(base)[0]:
            if node.attr in ("shape", "ndim"):
                return self.emit("aten::size" if node.attr == "shape" else "aten::dim", [base]).outputs[0]
            if node.attr in ("dtype", "device", "requires_grad", "is_cuda", "is_nested"):
                return self.emit(f"prim::{node.attr}", [base]).outputs[0]
            if node.attr in ("T", "mT"):
                return self.emit("method::t", [base]).outputs[0]
            return _Method(base, node.attr)
        known, obj = self.known(base)
        return self.literal(getattr(obj, node.attr))

    def member(self, owner, attr, node):
        module = owner.obj
        path = f"{owner.path}{attr}"
        if attr == "training":   # read at run time: the compiled program follows train()/eval()
            return self.emit("prim::GetAttr", [], value=path, type="bool").outputs[0]
        if attr in module._parameters or attr in module._buffers:
            tensor = module._parameters.get(attr, module._buffers.get(attr))
            if tensor is None:
                return self.constant(None)
            return self.emit("prim::GetAttr", [], value=path).outputs[0]
        if attr in module._modules:
            child = module._modules[attr]
            return self.constant(None) if child is None else _ModuleRef(child, path + ".")
        method = getattr(type(module), attr, None)
        if isinstance(method, types.FunctionType):
            return _Static(functools.partial(_BoundMethod, owner, attr))
        return self.literal(getattr(module, attr))

    def expression_or_module(self, node, env):
        if isinstance(node, ast.Name) and isinstance(env.get(node.id), _ModuleRef):
            return env[node.id]
        return self.expression(node, env)

    def call(self, node, env):
        target = self.expression_or_module(node.func, env)
        args = []
        for argument in node.args:
            if isinstance(argument, ast.Starred):
                items = self.items(self.expression(argument.value, env))
                if items is None:
                    raise self.error(node, "unpacking arguments of unknown length")
                args.extend(items)
            else:
                args.append(self.expression(argument, env))
        keywords = {k.arg: self.expression(k.value, env) for k in node.keywords}
        if isinstance(target, _ModuleRef):
            return self.inline(target, "forward", args, keywords)
        if isinstance(target, _Static) and isinstance(target.obj, functools.partial) and \
                target.obj.func is _BoundMethod:
            ref, name = target.obj.args
            return self.inline(ref, name, args, keywords)
        if isinstance(target, _Static) and isinstance(target.obj, functools.partial) and \
                target.obj.func is _ListMethod:
            return self.grow(node, *target.obj.args, args)
        if isinstance(target, _Static) and isinstance(target.obj, functools.partial) and \
                target.obj.func is _MappingView:
            mapping, view = target.obj.args
            keys = [self.literal(key) for key in mapping.items]
            if view == "items":
                return _Container([_Container([k, v], tuple) for k, v in zip(keys, mapping.items.values())], list)
            return _Container(keys if view == "keys" else list(mapping.items.values()), list)
        if isinstance(target, _Method):
            if target.name in ("size", "dim") or tensor_method(target.name) is not None:
                inputs = [target.value] + [self.value(a, node) for a in args]
                inputs += [self.value(v, node) for v in keywords.values()]
                return self.emit(f"method::{target.name}", inputs, keywords=tuple(keywords)).outputs[0]
            raise self.error(node, f"the Tensor method {target.name!r}")
        known, function = self.known(target)
        if known and function is _language.annotate and len(args) == 2:   # the value itself, a list growable
            value_known, value = self.known(args[1])
            return _Container(self.items(args[1]), list) if value_known and isinstance(value, list) else args[1]
        if known and len(args) == 1 and isinstance(args[0], _Container) and not keywords:
            if function is len:
                return self.constant(len(args[0].items))
            if function in (tuple, list):
                return _Container(args[0].items, function)
            if function in (any, all):
                return self.combine([lambda i=i: i for i in args[0].items], function is all)
        casts = {bool: "aten::Bool", int: "aten::Int", float: "aten::Float", len: "aten::len", tuple: "prim::tuple",
                 list: "prim::list"}
        if known and any(function is c for c in casts) and len(args) == 1 and not self.known(args[0])[0]:
            return self.emit(casts[function], [self.value(args[0], node)]).outputs[0]
        if function in (isinstance, _language.isinstance) and len(args) == 2 and not self.known(args[0])[0]:
            return self.literal(issubclass(Tensor, self.known(args[1])[1]))   # graph values are tensors here
        if not known or not callable(function):
            raise self.error(node, "a call of something that is not a function")
        values = [self.known(a) for a in args] + [self.known(v) for v in keywords.values()]
        if all(k for k, _ in values):
            return self.literal(function(*[o for _, o in values[:len(args)]],
                                         **dict(zip(keywords, (o for _, o in values[len(args):])))))
        if isinstance(function, ScriptFunction) and function._function is not None:
            return self.inline_function(function._function, args, None, keywords)
        if isinstance(getattr(function, "__self__", None), str) and function.__name__ == "format" and not keywords:
            inputs = [self.constant(function.__self__)] + [self.value(a, node) for a in args]
            return self.emit("aten::format", inputs, type="str").outputs[0]
        builtin = next((kind for b, kind in _BUILTINS if function is b), None)
        if builtin is not None and not keywords:   # abs of a tensor runs its __abs__ (torch.abs), of a number abs
            return self.emit(builtin, [self.value(a, node) for a in args]).outputs[0]
        name = _functions()[1].get(id(unwrapped(function)))
        if isinstance(function, types.FunctionType) and not name:
            return self.inline_function(function, args, None, keywords)
        if name is None:
            raise self.error(node, f"a call of {getattr(function, '__qualname__', function)!r}, which is not one "
                                   "of ember's tensor functions")
        inputs = [self.value(a, node) for a in args] + [self.value(v, node) for v in keywords.values()]
        return self.emit(f"fn::{name}", inputs, keywords=tuple(keywords)).outputs[0]

    def grow(self, node, container, method, args):
        """``list.append`` / ``list.extend`` on a list whose length is known: its items grow while compiling, which
        is only right outside branches and loops that depend on the inputs."""
        if self.depth:
            raise self.error(node, f"list.{method} inside a branch or loop that depends on the inputs")
        if method == "append":
            container.items.append(args[0])
        else:
            items = self.items(args[0])
            if items is None:
                raise self.error(node, "list.extend with a sequence of unknown length")
            container.items.extend(items)
        return self.literal(None)

    def error(self, node, what):
        return RuntimeError(f"ember.jit.script: {what} is not supported ({self.record}:"
                            f"{getattr(node, 'lineno', '?')})")


def _optional(annotation):
    """Whether a parameter's annotation is ``Optional[...]`` (an object or, postponed, its text)."""
    if isinstance(annotation, str):
        return annotation.replace("typing.", "").startswith("Optional[") or annotation.endswith("| None")
    return typing.get_origin(annotation) in (typing.Union, types.UnionType) and \
        type(None) in typing.get_args(annotation)


def _containers(result):
    """Tuples of values as the compiler's _Containers."""
    return _Container([_containers(r) for r in result], tuple) if isinstance(result, tuple) else result


def _is_constant(obj):
    """Whether ``obj`` can be a ``prim::Constant`` (what the serialised form encodes)."""
    if obj is None or obj is Ellipsis or isinstance(obj, (bool, int, float, str, Tensor, _dtype.dtype)):
        return True
    if isinstance(obj, slice):
        return all(_is_constant(p) for p in (obj.start, obj.stop, obj.step))
    return isinstance(obj, (tuple, list)) and all(_is_constant(o) for o in obj)


class _MappingView:
    """Marks ``items``/``keys``/``values`` of a dict with known keys (compiled to their items, never called)."""


class _ListMethod:
    """Marks ``append``/``extend`` of a list being compiled (applied to its items, never called)."""


class _BoundMethod:
    """Marks a method of a module reached from scripted code (it is compiled inline, never called)."""

