"""Python source for a graph: the ``forward`` that ``GraphModule`` runs and shows as ``code``, written line for line
as torch.fx writes it (``add = x + 1;  x = None``)."""
import builtins
import enum
import keyword
import math
import re
import typing
from dataclasses import dataclass

from .. import Tensor, _alias, device
from ..utils import _pytree as pytree
from . import _pytree as fx_pytree
from ._names import PackageRoot, is_from_ember, is_torch_c_tensor_method, qualified_name
from .node import Node, _type_repr, is_namedtuple

reflectable_magic_methods = {
    "add": "{} + {}", "sub": "{} - {}", "mul": "{} * {}", "floordiv": "{} // {}", "truediv": "{} / {}",
    "div": "{} / {}", "mod": "{} % {}", "pow": "{} ** {}", "lshift": "{} << {}", "rshift": "{} >> {}",
    "and_": "{} & {}", "or_": "{} | {}", "xor": "{} ^ {}", "getitem": "{}[{}]", "matmul": "{} @ {}",
}
"""Binary operators Proxy records from both sides (``__add__`` and ``__radd__``), with their source forms."""
magic_methods = {
    "eq": "{} == {}", "ne": "{} != {}", "lt": "{} < {}", "gt": "{} > {}", "le": "{} <= {}", "ge": "{} >= {}",
    "pos": "+{}", "neg": "-{}", "invert": "~{}", **reflectable_magic_methods,
}
"""Every operator Proxy records, with the source form generated code writes for it."""
inplace_methods = {
    "iadd": "{} += {}", "iand": "{} &= {}", "ifloordiv": "{} //= {}", "ilshift": "{} <<= {}", "imod": "{} %= {}",
    "imul": "{} *= {}", "imatmul": "{} @= {}", "ior": "{} |= {}", "ipow": "{} **= {}", "irshift": "{} >>= {}",
    "isub": "{} -= {}", "itruediv": "{} /= {}", "ixor": "{} ^= {}", "setitem": "{}[{}] = {}",
}
"""In-place operators, written as statements when a graph calls them."""


# typing's names for the builtin generics, as annotations are written (list[int] as List[int]).
_origin_type_map = {list: typing.List, dict: typing.Dict, set: typing.Set, frozenset: typing.FrozenSet,
                    tuple: typing.Tuple}
# Names generated code uses without importing them (both package roots among them), and what they stand for.
_custom_builtins = {"inf": math.inf, "nan": math.nan, "NoneType": type(None), "device": device,
                    "torch": PackageRoot(), "ember": PackageRoot(), "fx_pytree": fx_pytree, "pytree": pytree}
# Names a node may not take: keywords, builtins and the custom builtins.
_illegal_names = {k: object() for k in keyword.kwlist}
_illegal_names.update(builtins.__dict__)
_illegal_names.update(_custom_builtins)

_name_regex = re.compile(r"^([a-zA-Z_][0-9a-zA-Z_]*?)(?:_(\d+))?$")
_illegal_char_regex = re.compile("[^0-9a-zA-Z_]+")


class _Namespace:
    """Unique Python names for a graph's values and globals: one name per object, none shadowing a builtin."""

    def __init__(self):
        self._obj_to_name = {}
        self._used_names = set()
        self._base_count = {}

    def create_name(self, candidate, obj):
        """A fresh name based on ``candidate`` (``add``, ``add_1``, ...), remembered for ``obj``."""
        if obj is not None and obj in self._obj_to_name:
            return self._obj_to_name[obj]
        match = _name_regex.match(candidate)
        if match is None:
            candidate = _illegal_char_regex.sub("_", candidate) or "_unnamed"
            if candidate[0].isdigit():
                candidate = f"_{candidate}"
            match = _name_regex.match(candidate)
        base, num = match.group(1, 2)
        if num is None or candidate in self._used_names:
            num = self._base_count.get(base, 0)
            if _illegal_names.get(candidate, obj) is not obj:
                num += 1
                candidate = f"{base}_{num}"
        else:
            num = int(num)
        while candidate in self._used_names:
            num += 1
            candidate = f"{base}_{num}"
        self._used_names.add(candidate)
        self._base_count[base] = num
        if obj is not None:
            self._obj_to_name[obj] = candidate
        return candidate

    def associate_name_with_obj(self, name, obj):
        """Records that ``obj`` is called ``name``."""
        if self._obj_to_name.setdefault(obj, name) is not name:
            raise AssertionError("obj is already associated")


@dataclass
class PythonCode:
    """Generated source (``src``) and the globals (``globals``) it runs with."""

    src: str
    globals: dict


def _format_target(base, target):
    result = base
    for elem in target.split("."):
        result = f'{result}.{elem}' if elem.isidentifier() else f'getattr({result}, "{elem}")'
    return result


def _is_operator(target, table):
    return getattr(target, "__module__", "") == "_operator" and target.__name__ in table


def _plain(text):
    return text


def _color(code):
    """A function wrapping text in the ANSI color ``code`` (print_readable(colored=True), as torch.fx)."""
    return lambda text: f"\033[{code}m{text}\033[0m"


class CodeGen:
    """Writes a graph's nodes as the body of a Python function (``forward`` by default)."""

    def __init__(self):
        self._func_name = "forward"

    def gen_fn_def(self, free_vars, maybe_return_annotation):
        """The ``def`` line: ``self`` first, then the placeholders."""
        if not free_vars or free_vars[0] != "self":
            free_vars.insert(0, "self")
        return f"def {self._func_name}({', '.join(free_vars)}){maybe_return_annotation}:"

    def process_inputs(self, *args):
        """The graph's inputs from the function's arguments (the same, for this code generator)."""
        return args

    def process_outputs(self, outputs):
        """The function's result from the graph's output (the same, for this code generator)."""
        return outputs

    def generate_output(self, output_args, repr_fn=repr):
        """The ``return`` line."""
        return f"return {repr_fn(output_args)}"

    def _gen_python_code(self, nodes, root_module, namespace, verbose=False, include_stride=False,
                         include_device=False, colored=False):
        free_vars, body, globals_, wrapped_fns = [], [], {}, {}
        red, blue, dim, dim_blue, dim_green = (_color(code) if colored else _plain for code in
                                               ("31", "34", "2", "2m\033[34", "2m\033[32"))
        return_annotation = [""]

        def add_global(name_hint, obj):
            if is_from_ember(obj) and obj is not device and not is_torch_c_tensor_method(obj):
                return qualified_name(obj)
            name = namespace.create_name(name_hint, obj)
            if name in globals_ and globals_[name] is not obj:
                raise AssertionError(f"Global name {name} already assigned to different object")
            globals_[name] = obj
            return name

        for name in ("inf", "nan", "NoneType", _alias.package(), "device", "fx_pytree", "pytree"):
            globals_[namespace.create_name(name, _custom_builtins[name])] = _custom_builtins[name]

        def get_repr(arg):
            if isinstance(arg, Node):
                return repr(arg)
            if isinstance(arg, tuple) and is_namedtuple(arg):
                return f"{add_global(qualified_name(type(arg)), type(arg))}{repr(tuple(arg))}"
            if isinstance(arg, enum.Enum):
                return f"{add_global(type(arg).__name__, type(arg))}.{arg.name}"
            if isinstance(arg, Tensor):
                return f"{_alias.package()}.Tensor(size={list(arg.shape)}, dtype={str(arg.dtype).split('.')[-1]})"
            if isinstance(arg, tuple):
                inner = ", ".join(get_repr(a) for a in arg)
                return f"({inner},)" if len(arg) == 1 else f"({inner})"
            if isinstance(arg, list):
                return "[" + ", ".join(get_repr(a) for a in arg) + "]"
            if isinstance(arg, slice):
                return f"slice({get_repr(arg.start)}, {get_repr(arg.stop)}, {get_repr(arg.step)})"
            return blue(repr(arg))

        def format_args(args, kwargs):
            return ", ".join([get_repr(a) for a in args] + [f"{k} = {get_repr(v)}" for k, v in kwargs.items()])

        def type_repr(o):
            if o == ():
                return "()"
            origin = getattr(o, "__origin__", None)
            if origin is None:
                return add_global(_type_repr(o), o)
            if isinstance(o, typing._GenericAlias):
                origin = _origin_type_map.get(origin, origin)
            origin_name = add_global(_type_repr(origin), origin)
            args = typing.get_args(o)
            return f"{origin_name}[{','.join(type_repr(arg) for arg in args)}]" if args else origin_name

        last_uses = {}
        seen = set()
        for node in reversed(nodes):
            for input_node in node._input_nodes:
                if input_node not in seen:
                    seen.add(input_node)
                    last_uses.setdefault(node, []).append(input_node)

        def delete_unused_values(user):
            if user.op == "placeholder":
                return
            if user.op == "output":
                body.append("\n")
                return
            to_delete = list(last_uses.get(user, []))
            if not user.users:
                to_delete.append(user)
            body.append(f";  {dim(' = '.join([repr(n) for n in to_delete] + ['None']))}\n" if to_delete else "\n")

        summary = [None]

        def append_stacktrace_summary(node):
            if node.op not in ("placeholder", "output"):
                parsed = _parse_stack_trace(node.meta.get("stack_trace"))
                text = f"\n{dim('# ' + (parsed or 'No stacktrace found for following nodes'))}\n"
                if text != summary[0]:
                    summary[0] = text
                    body.append(text)

        def emit_node(node):
            annotation = "" if node.type is None else f" : {type_repr(node.type)}"
            meta = node.meta.get("val", node.meta.get("tensor_meta", node.meta.get("example_value")))
            if verbose and hasattr(meta, "dtype") and hasattr(meta, "shape"):
                abbr = _DTYPE_ABBRS.get(str(meta.dtype).split(".")[-1], "")
                shape = f'[{", ".join(map(str, meta.shape))}]'
                if isinstance(meta, Tensor):   # a value (meta["val"]), not ShapeProp's TensorMetadata
                    stride = f'[{", ".join(map(str, meta.stride()))}]' if include_stride else ""
                    device = str(meta.device) if include_device else ""
                    annotation = f': "{red(abbr)}{blue(shape)}{dim_blue(stride)}{dim_green(device)}"'
                else:
                    annotation = f': "{abbr}{shape}"'
            if node.op == "placeholder":
                default = "" if not node.args else f" = {get_repr(node.args[0])}"
                free_vars.append(f"{node.target}{annotation}{default}")
                raw_name = node.target.replace("*", "")
                if raw_name != repr(node):
                    body.append(f"{repr(node)} = {raw_name}\n")
                return
            if node.op == "call_method":
                body.append(f"{repr(node)}{annotation} = {_format_target(get_repr(node.args[0]), node.target)}"
                            f"({format_args(node.args[1:], node.kwargs)})")
            elif node.op == "call_function":
                target = node.target
                if _is_operator(target, magic_methods):
                    body.append(f"{repr(node)}{annotation} = "
                                f"{magic_methods[target.__name__].format(*(get_repr(a) for a in node.args))}")
                elif _is_operator(target, inplace_methods):
                    body.append(f"{inplace_methods[target.__name__].format(*(get_repr(a) for a in node.args))};  "
                                f"{repr(node)}{annotation} = {get_repr(node.args[0])}")
                else:
                    global_name = add_global(qualified_name(target), target)
                    if (global_name == "getattr" and len(node.args) == 2 and isinstance(node.args[1], str)
                            and node.args[1].isidentifier()):
                        body.append(f"{repr(node)}{annotation} = "
                                    f"{_format_target(get_repr(node.args[0]), node.args[1])}")
                    else:
                        body.append(f"{repr(node)}{annotation} = {global_name}("
                                    f"{format_args(node.args, node.kwargs)})")
                    if node.meta.get("is_wrapped", False):
                        wrapped_fns.setdefault(global_name)
            elif node.op == "call_module":
                body.append(f"{repr(node)}{annotation} = "
                            f"{_format_target(root_module, node.target)}({format_args(node.args, node.kwargs)})")
            elif node.op == "get_attr":
                body.append(f"{repr(node)}{annotation} = {_format_target(root_module, node.target)}")
            elif node.op == "output":
                if node.type is not None:
                    return_annotation[0] = f" -> {type_repr(node.type)}"
                body.append(self.generate_output(node.args[0], repr_fn=get_repr))

        for node in nodes:
            if verbose:
                append_stacktrace_summary(node)
            emit_node(node)
            delete_unused_values(node)
        if not body:
            body.append("pass\n")
        wrap_stmts = ""
        if wrapped_fns:
            from ._symbolic_trace import wrap
            wrap_name = add_global("wrap", wrap)
            wrap_stmts = "\n".join(f'{wrap_name}("{name}")' for name in wrapped_fns)
        prologue = self.gen_fn_def(free_vars, return_annotation[0])
        code = "".join(body).lstrip("\n")
        code = "\n".join("    " + line for line in code.split("\n"))
        return PythonCode(f"\n{wrap_stmts}\n\n{prologue}\n{code}", globals_)


_STACK_LINE = re.compile(r"^File \"(.+)\", line (\d+), in (.+)$")


def _parse_stack_trace(stack_trace):
    """``File: path:line in function, code: source`` for a stack trace's innermost frame (None without one)."""
    if stack_trace is None:
        return None
    lines = stack_trace.strip().split("\n")
    for idx in range(len(lines) - 2, -1, -1):
        match = _STACK_LINE.match(lines[idx].strip())
        if match:
            file, lineno, name = match.groups()
            return f"File: {file}:{lineno} in {name}, code: {lines[idx + 1].strip()}"
    return None


_DTYPE_ABBRS = {"bfloat16": "bf16", "float64": "f64", "float32": "f32", "float16": "f16", "complex32": "c32",
                "complex64": "c64", "complex128": "c128", "int8": "i8", "int16": "i16", "int32": "i32",
                "int64": "i64", "bool": "b8", "uint8": "u8", "uint16": "u16", "uint32": "u32", "uint64": "u64"}


class _PyTreeInfo(typing.NamedTuple):
    """A pytree-flattening function's argument names and the specs of its inputs and output."""

    orig_args: list
    in_spec: object
    out_spec: object


class _PyTreeCodeGen(CodeGen):
    """Code for a graph traced from a function taking or returning structures (``concrete_args`` holding
    containers): ``forward`` keeps the function's arguments, flattens them to the graph's placeholders by
    ``self._in_spec`` and rebuilds the output by ``self._out_spec``."""

    def __init__(self, pytree_info):
        super().__init__()
        self.pytree_info = pytree_info

    def process_inputs(self, *inputs):
        """The graph's inputs: the leaves of the arguments."""
        return pytree.tree_leaves(inputs)

    def process_outputs(self, out):
        """The function's result: the graph's outputs put back in the output structure."""
        if self.pytree_info is None or self.pytree_info.out_spec is None:
            return out
        if not isinstance(out, (list, tuple)):
            out = [out]
        return pytree.tree_unflatten(out, self.pytree_info.out_spec)

    def gen_fn_def(self, free_vars, maybe_return_annotation):
        """The ``def`` line with the function's own arguments, then the line flattening them."""
        if self.pytree_info is None:
            return super().gen_fn_def(free_vars, maybe_return_annotation)
        fn_args = self.pytree_info.orig_args
        if fn_args and fn_args[0] == "self":
            free_vars.insert(0, "self")
        definition = super().gen_fn_def(fn_args[:], maybe_return_annotation)
        if free_vars:
            spec = self.pytree_info.in_spec
            signature = f"[{', '.join(fn_args)}], self._in_spec"
            if (spec.type is tuple and spec.num_children == 2 and spec.children_specs[0].type is tuple
                    and spec.children_specs[1].type is dict):   # (args, kwargs)
                count = spec.children_specs[0].num_children
                kwargs = ", ".join(f"'{k}':{v}" for k, v in zip(spec.children_specs[1].context, fn_args[count:]))
                signature = f"([{', '.join(fn_args[:count])}], {{{kwargs}}}), self._in_spec"
            plain = [v.split(":")[0].split("#")[0] for v in free_vars]
            annotated = [v + "; " for v in free_vars if ":" in v]
            if annotated:
                definition += "\n    " + "".join(annotated) + "\n"
            definition += f"\n    {', '.join(plain)}, = fx_pytree.tree_flatten_spec({signature})"
        return definition

    def generate_output(self, output_args, repr_fn=repr):
        """``return`` of the output rebuilt in its structure."""
        if self.pytree_info and self.pytree_info.out_spec:
            return f"return pytree.tree_unflatten({repr_fn(output_args)}, self._out_spec)"
        return super().generate_output(output_args, repr_fn)
