"""Loading TorchScript archives written by PyTorch's ``torch.jit.save``.

Such an archive holds the module objects (``data.pkl``: attributes, parameters, buffers, submodules, each object
naming its class ``__torch__.<path>.<Class>``), tensor constants (``constants.pkl``) and each class's methods as
TorchScript source (``code/__torch__/<path>.py``). The objects are unpickled with the restricted unpickler (torch
classes become plain records), the source is parsed with ``ast`` (never executed) and compiled into ember's IR:
submodule calls are inlined, ``if`` and ``for``/``while`` become ``prim::If``/``prim::Loop``, and each call names an
``aten::``/``prim::`` op that must be in ember's table (``_aten.py``), else loading fails naming it.
"""
import ast
import io
import sys
import zipfile

from .. import serialization as _serialization
from .._tensor import Tensor
from ..nn.parameter import Parameter
from ._aten import lookup
from ._ir import Block, Graph, Node
from ._module import RecursiveScriptModule


class _Object:
    """A TorchScript object from ``data.pkl``: its class's qualified name and its attributes."""

    qualified = ""

    def __setstate__(self, state):
        self.__dict__["_state"] = dict(state)


def _unpickler(file, load_storage, budget, end):
    """ember's weights-only unpickler, which also builds TorchScript's ``__torch__.*`` objects as ``_Object``s."""
    classes = {}

    def find_global(module, name):
        if module == "__torch__" or module.startswith("__torch__."):
            cls = classes.get((module, name))
            if cls is None:
                cls = classes[(module, name)] = type(name, (_Object,), {"qualified": f"{module}.{name}"})
                unpickler._trusted[id(cls)] = cls   # built and given state like data: _Object only stores it
            return cls
        return _serialization._find_allowed_global(module, name)

    unpickler = _serialization.Unpickler(file, find_global=find_global, constructors=_serialization._constructors(),
                                         persistent_load=load_storage, budget=budget,
                                         build_types=(_serialization.Tensor,), end=end, encoding="utf-8")
    return unpickler


def is_torchscript(f):
    """True for a zip whose records include TorchScript ``code/``."""
    with _serialization._opened(f) as (file, _):
        start = file.tell()
        try:
            if file.read(4) != b"PK\x03\x04":
                return False
            file.seek(start)
            names = zipfile.ZipFile(file).namelist()
        except zipfile.BadZipFile:
            return False
        finally:
            file.seek(start)
    return any(name.split("/", 1)[-1].startswith("code/__torch__") for name in names)


def load(f, map_location=None):
    """A ScriptModule running the archive's ``forward`` (and other methods), with its parameters and buffers."""
    with _serialization._opened(f) as (file, name):
        size = file.seek(0, 2) - file.seek(0)
        budget = _serialization.Budget(_serialization._default_limit(size), f"jit.load({name})")
        checkpoint = _serialization._ZipCheckpoint(file, name, None, budget)
        byteorder = checkpoint.read("byteorder").decode() if checkpoint.has("byteorder") else "little"
        def unpickle(record, folder):
            """``record``'s object, its storages read from ``folder/<key>``."""
            storages = {}

            def load_storage(saved_id):
                storage_type, key, location, numel = _serialization._parse_storage_id(saved_id)
                dtype = storage_type.dtype
                if key not in storages:
                    data = checkpoint.read_bytes(f"{folder}/{key}", numel * dtype.itemsize).view(dtype.numpy)
                    if byteorder != sys.byteorder:
                        data.byteswap(inplace=True)
                    storages[key] = _serialization._restore_location(_serialization.Storage(data), location,
                                                                     map_location)
                return storages[key]
            pickled = checkpoint.read(record)
            return _unpickler(io.BytesIO(pickled), load_storage, budget, len(pickled)).load()
        root = unpickle("data.pkl", "data")
        constants = unpickle("constants.pkl", "constants") if checkpoint.has("constants.pkl") else ()
        sources = _Sources(checkpoint)
        if not isinstance(root, _Object):
            raise RuntimeError(f"{name}: data.pkl holds no TorchScript module")
        module = _build(root, sources, "")
        module._define("forward", _Compiler(sources, tuple(constants)).compile(root, "forward", module))
        return module


class _Sources:
    """The class definitions of an archive's ``code/``, parsed on demand."""

    def __init__(self, checkpoint):
        self._checkpoint, self._classes = checkpoint, {}

    def cls(self, qualified):
        if qualified not in self._classes:
            *path, name = qualified.split(".")
            if not path or not all(part.isidentifier() for part in path + [name]):
                raise RuntimeError(f"invalid TorchScript class name {qualified!r}")
            record = "code/" + "/".join(path) + ".py"
            if not self._checkpoint.has(record):
                raise RuntimeError(f"the archive lacks {record}, the source of {qualified}")
            tree = ast.parse(self._checkpoint.read(record).decode("utf-8"), record)
            for node in tree.body:
                if isinstance(node, ast.ClassDef):
                    self._classes[".".join(path + [node.name])] = (record, node)
            if qualified not in self._classes:
                raise RuntimeError(f"{record} does not define {name}")
        return self._classes[qualified]

    def methods(self, qualified):
        return [n.name for n in self.cls(qualified)[1].body if isinstance(n, ast.FunctionDef)]

    def method(self, qualified, name):
        record, cls = self.cls(qualified)
        for node in cls.body:
            if isinstance(node, ast.FunctionDef) and node.name == name:
                return record, node
        raise RuntimeError(f"{qualified} has no method {name}")

    def names(self, qualified, field):
        """The ``__parameters__`` or ``__buffers__`` list of a class."""
        for node in self.cls(qualified)[1].body:
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and \
                    node.targets[0].id == field:
                return [e.value for e in node.value.elts]
        return []


def _build(obj, sources, prefix):
    """The ScriptModule tree of ``data.pkl``'s objects: parameters, buffers, submodules and ``training``."""
    name = obj.qualified.rsplit(".", 1)[-1]
    module = RecursiveScriptModule(name)
    state = obj._state
    module.training = bool(state.get("training", False))
    parameters, buffers = sources.names(obj.qualified, "__parameters__"), sources.names(obj.qualified, "__buffers__")
    for key, value in state.items():
        if isinstance(value, _Object):
            module._modules[key] = _build(value, sources, f"{prefix}{key}.")
        elif isinstance(value, Tensor) and key in parameters:
            module._parameters[key] = Parameter(value, requires_grad=value.dtype.is_floating_point)
        elif isinstance(value, Tensor) and key in buffers:
            module._buffers[key] = value
    return module


class _ModuleRef:
    """A submodule seen in source: its object and dotted path."""

    def __init__(self, obj, path):
        self.obj, self.path = obj, path


_BINARY = {ast.Add: "aten::add", ast.Sub: "aten::sub", ast.Mult: "aten::mul", ast.Div: "aten::div",
           ast.FloorDiv: "aten::floordiv", ast.Mod: "aten::remainder", ast.Pow: "aten::pow",
           ast.BitAnd: "aten::__and__", ast.BitOr: "aten::__or__"}
_COMPARE = {ast.Gt: "aten::gt", ast.Lt: "aten::lt", ast.GtE: "aten::ge", ast.LtE: "aten::le", ast.Eq: "aten::eq",
            ast.NotEq: "aten::ne"}
_CASTS = {"bool": "aten::Bool", "int": "aten::Int", "float": "aten::Float", "len": "aten::len"}


class _Compiler:
    """TorchScript source -> IR, inlining submodule methods."""

    def __init__(self, sources, constants):
        self.sources, self.constants = sources, constants

    def compile(self, root, method, module):
        self.graph, self.nodes, self.record = Graph(), None, ""
        self.nodes = self.graph.nodes
        record, function = self.sources.method(root.qualified, method)
        args = [a.arg for a in function.args.args[1:]]
        inputs = [self.graph.add_input(_annotation(a.annotation), name) for a, name in
                  zip(function.args.args[1:], args)]
        self.graph.output = self.inline(_ModuleRef(root, ""), method, inputs)
        return self.graph

    # --- helpers -------------------------------------------------------------------------------------------
    def error(self, node, what):
        return RuntimeError(f"{what} ({self.record}:{getattr(node, 'lineno', '?')}): ember cannot load this "
                            "TorchScript program")

    def emit(self, kind, inputs, outputs=1, keywords=(), value=None, unpack=False, type="Tensor"):
        node = Node(kind, inputs, keywords, value, unpack=unpack)
        for _ in range(outputs):
            out = self.graph.fresh(type)
            out.node = node
            node.outputs.append(out)
        self.nodes.append(node)
        return node

    def constant(self, value):
        return self.emit("prim::Constant", [], value=value, type=type(value).__name__).outputs[0]

    # --- methods -------------------------------------------------------------------------------------------
    def inline(self, ref, method, args):
        """Compiles ``ref``'s ``method`` on ``args`` into the current nodes; returns its result value."""
        record, function = self.sources.method(ref.obj.qualified, method)
        outer, self.record = self.record, record
        params = [a.arg for a in function.args.args]
        if len(args) != len(params) - 1:
            raise self.error(function, f"{method}() takes {len(params) - 1} arguments, got {len(args)}")
        env = {params[0]: ref}
        env.update(zip(params[1:], args))
        body = function.body
        if not body or not isinstance(body[-1], ast.Return):
            raise self.error(function, f"{method}() must end with a return")
        for statement in body[:-1]:
            self.statement(statement, env)
        result = self.expression(body[-1].value, env) if body[-1].value is not None else self.constant(None)
        self.record = outer
        return result

    # --- statements ----------------------------------------------------------------------------------------
    def statement(self, node, env):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            self.assign(node.targets[0], self.expression(node.value, env), env)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            self.assign(node.target, self.expression(node.value, env), env)
        elif isinstance(node, ast.Expr):
            self.expression(node.value, env)
        elif isinstance(node, ast.If):
            self.branch(node, env)
        elif isinstance(node, (ast.For, ast.While)):
            self.loop(node, env)
        elif isinstance(node, ast.Pass):
            pass
        elif isinstance(node, ast.Return):
            raise self.error(node, "an early return")
        else:
            raise self.error(node, f"the statement {type(node).__name__}")

    def assign(self, target, value, env):
        if isinstance(target, ast.Name):
            env[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)) and all(isinstance(t, ast.Name) for t in target.elts):
            node = self.emit("prim::TupleUnpack", [value], outputs=len(target.elts), unpack=True)
            for name, out in zip(target.elts, node.outputs):
                env[name.id] = out
        else:
            raise self.error(target, f"assignment to {type(target).__name__}")

    def block(self, statements, env, inputs=()):
        """Compiles ``statements`` into a new Block over a copy of ``env``; returns (block, env after)."""
        block, outer = Block(), self.nodes
        block.inputs = list(inputs)
        self.nodes, inner = block.nodes, dict(env)
        for statement in statements:
            self.statement(statement, inner)
        self.nodes = outer
        return block, inner

    def branch(self, node, env, condition=None):
        condition = self.expression(node.test, env) if condition is None else condition
        then, then_env = self.block(node.body, env)
        other, other_env = self.block(node.orelse, env)
        names = [n for n in {**then_env, **other_env} if n in then_env and n in other_env
                 and (then_env[n] is not env.get(n) or other_env[n] is not env.get(n))]
        then.outputs = [then_env[n] for n in names]
        other.outputs = [other_env[n] for n in names]
        result = self.emit("prim::If", [condition], outputs=len(names))
        result.blocks = [then, other]
        env.update(zip(names, result.outputs))

    def loop(self, node, env):
        assigned = sorted({t.id for s in node.body for t in ast.walk(s) if isinstance(t, ast.Name)
                           and isinstance(t.ctx, ast.Store) and t.id in env})
        if isinstance(node, ast.For):
            iterator = node.iter
            if not (isinstance(iterator, ast.Call) and isinstance(iterator.func, ast.Name) and
                    iterator.func.id == "range" and len(iterator.args) == 1 and isinstance(node.target, ast.Name)):
                raise self.error(node, "a for loop over anything but range(n)")
            trips, condition = self.expression(iterator.args[0], env), self.constant(True)
            counter = node.target.id
        else:
            trips, condition, counter = self.constant(sys.maxsize), self.expression(node.test, env), None
        carried = [self.graph.fresh(env[n].type) for n in assigned]
        index = self.graph.fresh("int")
        inner_env = dict(env, **dict(zip(assigned, carried)))
        if counter is not None:
            inner_env[counter] = index
        body, after = self.block(node.body, inner_env, [index] + carried)
        outer, self.nodes = self.nodes, body.nodes   # the condition for the next trip, computed in the body
        if counter is None:
            going_on = self.expression(node.test, after)
        elif getattr(node, "exit_flag", None):   # a range loop lowered for break (_loop_exits) stops once broken
            going_on = self.expression(ast.UnaryOp(ast.Not(), ast.Name(node.exit_flag, ast.Load())), after)
        else:
            going_on = self.constant(True)
        body.outputs = [going_on]
        self.nodes = outer
        body.outputs += [after[n] for n in assigned]
        result = self.emit("prim::Loop", [trips, condition] + [env[n] for n in assigned], outputs=len(assigned))
        result.blocks = [body]
        env.update(zip(assigned, result.outputs))

    # --- expressions ---------------------------------------------------------------------------------------
    def expression(self, node, env):
        if isinstance(node, ast.Constant):
            return self.constant(node.value)
        if isinstance(node, ast.Name):
            if node.id not in env:
                raise self.error(node, f"the undefined name {node.id!r}")
            value = env[node.id]
            if isinstance(value, _ModuleRef):
                raise self.error(node, f"the module {node.id!r} used as a value")
            return value
        if isinstance(node, ast.Attribute):
            return self.attribute(node, env)
        if isinstance(node, ast.Call):
            return self.call(node, env)
        if isinstance(node, (ast.List, ast.Tuple)):
            items = [self.expression(e, env) for e in node.elts]
            kind = "prim::ListConstruct" if isinstance(node, ast.List) else "prim::TupleConstruct"
            return self.emit(kind, items, type="list" if isinstance(node, ast.List) else "tuple").outputs[0]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return self.op(_BINARY[type(node.op)], [node.left, node.right], env)
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE:
            return self.op(_COMPARE[type(node.ops[0])], [node.left, node.comparators[0]], env)
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], (ast.Is, ast.IsNot)):
            kind = "aten::eq" if isinstance(node.ops[0], ast.Is) else "aten::ne"
            return self.op(kind, [node.left, node.comparators[0]], env)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
            return self.op("aten::__not__" if isinstance(node.op, ast.Not) else "aten::neg", [node.operand], env)
        if isinstance(node, ast.BoolOp):
            kind = "aten::__and__" if isinstance(node.op, ast.And) else "aten::__or__"
            result = self.expression(node.values[0], env)
            for other in node.values[1:]:
                result = self.emit(kind, [result, self.expression(other, env)], type="bool").outputs[0]
            return result
        if isinstance(node, ast.Subscript):
            return self.op("aten::__getitem__", [node.value, node.slice], env)
        raise self.error(node, f"the expression {type(node).__name__}")

    def op(self, kind, operands, env):
        return self.emit(kind, [self.expression(o, env) for o in operands]).outputs[0]

    def attribute(self, node, env):
        if isinstance(node.value, ast.Name) and node.value.id == "CONSTANTS":
            index = int(node.attr[1:]) if node.attr.startswith("c") and node.attr[1:].isdigit() else -1
            if not 0 <= index < len(self.constants):
                raise self.error(node, f"the missing constant CONSTANTS.{node.attr}")
            return self.constant(self.constants[index])
        return self.member(self.module_of(node.value, env), node.attr, node)

    def member(self, owner, attr, node):
        """A module's attribute: a submodule reference, a parameter/buffer read, or a constant."""
        value = owner.obj._state.get(attr)
        path = f"{owner.path}{attr}"
        if attr == "training":   # read at run time, so the loaded module follows train()/eval()
            return self.emit("prim::GetAttr", [], value=path, type="bool").outputs[0]
        if isinstance(value, _Object):
            return _ModuleRef(value, path + ".")
        if isinstance(value, Tensor):
            return self.emit("prim::GetAttr", [], value=path).outputs[0]
        if attr not in owner.obj._state:
            raise self.error(node, f"the missing attribute {path!r}")
        return self.constant(value)

    def module_of(self, node, env):
        ref = env.get(node.id) if isinstance(node, ast.Name) else self.attribute(node, env) \
            if isinstance(node, ast.Attribute) else None
        if not isinstance(ref, _ModuleRef):
            raise self.error(node, "an attribute of something other than a module")
        return ref

    def call(self, node, env):
        function = node.func
        if isinstance(function, ast.Name):
            if function.id == "annotate" and len(node.args) == 2:
                return self.expression(node.args[1], env)
            if function.id == "getattr" and len(node.args) == 2 and isinstance(node.args[1], ast.Constant):
                return self.member(self.module_of(node.args[0], env), str(node.args[1].value), node)
            if function.id == "uninitialized":
                return self.constant(None)
            if function.id in _CASTS:
                return self.op(_CASTS[function.id], node.args, env)
            raise self.error(node, f"a call of {function.id}()")
        kind = _qualified_op(function)
        if kind is not None:
            if lookup(kind) is None:
                raise RuntimeError(f"Unknown builtin op: {kind}. ember has no op of that name, so this program "
                                   f"cannot run ({self.record}:{node.lineno})")
            args = [self.expression(a, env) for a in node.args]
            keywords = [k.arg for k in node.keywords]
            args += [self.expression(k.value, env) for k in node.keywords]
            unpack = kind == "prim::TupleUnpack"
            return self.emit(kind, args, keywords=keywords).outputs[0] if not unpack else \
                self.emit(kind, args).outputs[0]
        if isinstance(function, ast.Attribute):   # (submodule).method(args)
            target = self.expression_or_module(function.value, env)
            if isinstance(target, _ModuleRef):   # a traced shared submodule arrives as an argument
                return self.inline(target, function.attr, [self.expression_or_module(a, env) for a in node.args])
        raise self.error(node, "a call of an unknown function")

    def expression_or_module(self, node, env):
        if isinstance(node, ast.Name) and isinstance(env.get(node.id), _ModuleRef):
            return env[node.id]
        if isinstance(node, ast.Attribute) and not _qualified_op(node):
            return self.attribute(node, env)
        return self.expression(node, env)


def _qualified_op(function):
    """``aten::x`` for ``torch.x``/``ops.aten.x``, ``prim::x`` for ``ops.prim.x``; else None."""
    if not isinstance(function, ast.Attribute):
        return None
    base = function.value
    if isinstance(base, ast.Name) and base.id == "torch":
        return f"aten::{function.attr}"
    if isinstance(base, ast.Attribute) and isinstance(base.value, ast.Name) and base.value.id == "ops" and \
            base.attr in ("aten", "prim"):
        return f"{base.attr}::{function.attr}"
    return None


def _annotation(node):
    return ast.unparse(node) if node is not None else "Tensor"

