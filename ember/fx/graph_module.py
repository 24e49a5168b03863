"""``GraphModule``: a Module whose ``forward`` is Python generated from a ``Graph``, holding the parameters, buffers
and submodules the graph refers to."""
import copy
import itertools
import linecache
import warnings
from pathlib import Path

from .. import Tensor, _alias
from ..nn import Module, Parameter
from ._codegen import _PyTreeCodeGen
from .graph import Graph

__all__ = ["GraphModule"]

_next_id = itertools.count()


def _exec_with_source(src, globals_):
    # The source is registered with linecache under a unique key, so tracebacks through forward show its lines.
    key = f"<eval_with_key>.{next(_next_id)}"
    linecache.cache[key] = (len(src), None, src.splitlines(True), key)
    exec(compile(src, key, "exec"), globals_)


def _forward_from_src(src, globals_):
    globals_copy = dict(globals_)
    _exec_with_source(src, globals_copy)
    return globals_copy["forward"]


def _copy_attr(from_module, to_module, target):
    *prefix, field = target.split(".")
    for item in prefix:
        f = getattr(from_module, item)
        t = getattr(to_module, item, None)
        if f is t:
            return
        if t is None:
            t = Module()
            setattr(to_module, item, t)
        from_module, to_module = f, t
    original = getattr(from_module, field)
    if isinstance(original, Tensor) and not isinstance(original, Parameter):
        to_module.register_buffer(field, original)
    else:
        setattr(to_module, field, original)


def _assign_attr(from_obj, to_module, target):
    *prefix, field = target.split(".")
    for item in prefix:
        t = getattr(to_module, item, None)
        if t is None:
            t = Module()
            setattr(to_module, item, t)
        to_module = t
    if isinstance(from_obj, Tensor) and not isinstance(from_obj, Parameter):
        to_module.register_buffer(field, from_obj)
    else:
        setattr(to_module, field, from_obj)


# Lines to_folder adds to torch's header: generated code names ember's functions by torch.fx's paths
# (torch._C._nn.gelu), which the package root resolves only through the object GraphModule.code runs with.
_ROOT_REBINDING = "from ember.fx._names import PackageRoot\n{root} = PackageRoot()\n"


def _addindent(s, num_spaces):
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    return lines[0] + "\n" + "\n".join(num_spaces * " " + line if line.strip() else "" for line in lines[1:])


class GraphModule(Module):
    """A Module made from a ``Graph`` and a root: it copies from ``root`` (a Module, or a dict of qualified name
    -> object) what the graph's ``get_attr`` and ``call_module`` nodes use, and runs ``forward`` generated from
    the graph. Edit ``graph``, then call ``recompile()``."""

    def __new__(cls, *args, **kwargs):
        # Each instance gets a class of its own, since recompile() installs forward on the class.
        class GraphModuleImpl(_base_class(cls)):
            pass
        return super().__new__(GraphModuleImpl)

    def __init__(self, root, graph, class_name="GraphModule"):
        super().__init__()
        type(self).__name__ = class_name
        if isinstance(root, Module):
            if hasattr(root, "training"):
                self.training = root.training
            for node in graph.nodes:
                if node.op in ("get_attr", "call_module"):
                    _copy_attr(root, self, node.target)
        elif isinstance(root, dict):
            for node in graph.nodes:
                if node.op in ("get_attr", "call_module"):
                    if node.target not in root:
                        raise RuntimeError(f"Node {node} referenced target {node.target} but that target was not "
                                           "provided in ``root``!")
                    _assign_attr(root[node.target], self, node.target)
        else:
            raise RuntimeError("Unsupported type " + str(root) + " passed for root!")
        self.graph = graph
        self._tracer_cls = graph._tracer_cls
        self.meta = getattr(root, "meta", {}) if isinstance(root, Module) else {}

    @property
    def graph(self):
        """The ``Graph`` this module runs; setting it regenerates ``forward``."""
        return self._graph

    @graph.setter
    def graph(self, g):
        if not isinstance(g, Graph):
            raise AssertionError(f"Expected a Graph instance, but got {type(g)}")
        self._graph = g
        g.owning_module = self
        self.recompile()

    @property
    def code(self):
        """The Python source of the generated ``forward``."""
        if not hasattr(self, "_code"):
            raise RuntimeError("Code has not been generated! Please report a bug to PyTorch")
        return self._code

    def recompile(self):
        """Regenerates ``forward`` (and ``code``) from ``graph``; call it after editing the graph."""
        codegen = self._graph._codegen
        if isinstance(codegen, _PyTreeCodeGen):   # the specs its generated forward reads
            self._in_spec, self._out_spec = codegen.pytree_info.in_spec, codegen.pytree_info.out_spec
        python_code = self._graph.python_code(root_module="self")
        self._code = python_code.src
        type(self).forward = _forward_from_src(self._code, python_code.globals)
        return python_code

    def print_readable(self, print_output=True, include_stride=False, include_device=False, colored=False):
        """The generated code as a class definition (``class Name(torch.nn.Module): def forward...``), printed
        too unless ``print_output`` is False; ``include_stride``/``include_device`` annotate tensor values kept
        in ``node.meta["val"]`` with their strides and devices; ``colored`` adds ANSI colors."""
        return self._print_readable(self._get_name(), print_output, include_stride, include_device, colored)

    def _print_readable(self, module_name, print_output, include_stride=False, include_device=False,
                        colored=False):
        code = self._graph.python_code("self", verbose=True, include_stride=include_stride,
                                       include_device=include_device, colored=colored).src
        code = _addindent(f"class {module_name}({_alias.package()}.nn.Module):\n" + code.lstrip("\n"), 4)
        sub = [""] + [m._print_readable(name, False, include_stride, include_device, colored)
                      for name, m in self.named_children() if isinstance(m, GraphModule)]
        output = code + _addindent("\n".join(sub), 4)
        if print_output:
            print(output)
        return output

    def __str__(self):
        return "\n".join([super().__str__(), self._code,
                          "# To see more debug info, please use `graph_module.print_readable()`"])

    # Copies and unpickled modules are named GraphModule, not the traced class's name, as in torch.fx.
    def __reduce__(self):
        state = {k: v for k, v in self.__dict__.items() if k not in ("_graph", "_code")}
        return _reconstruct, (_base_class(type(self)), "GraphModule", state, self._graph)

    def __deepcopy__(self, memo):
        state = {k: v for k, v in self.__dict__.items() if k not in ("_code",)}
        state = copy.deepcopy(state, memo)
        result = _reconstruct(_base_class(type(self)), "GraphModule", state, state.pop("_graph"))
        memo[id(self)] = result
        return result

    def __copy__(self):
        result = GraphModule(self, self.graph)
        result.meta = getattr(self, "meta", {})
        return result

    def to_folder(self, folder, module_name="FxModule"):
        """Writes this module to ``folder`` as Python source (``module.py``, with ``__init__.py``) and its weights
        (``state_dict.pt``; children whose repr cannot rebuild them as ``<name>.pt``), so that
        ``from <folder> import <module_name>`` gives it back."""
        from .. import nn, save
        folder = Path(folder)
        folder.mkdir(exist_ok=True)
        save(self.state_dict(), folder / "state_dict.pt")
        root = _alias.package()
        tab = " " * 4
        source = (f"\nimport {root}\nfrom math import inf\nfrom math import nan\nNoneType = type(None)\n"
                  f"import {root}\nfrom {root} import device\nimport {root}.fx._pytree as fx_pytree\n"
                  f"import {root}.utils._pytree as pytree\n{_ROOT_REBINDING.format(root=root)}\n"
                  f"from {root}.nn import *\nclass {module_name}({root}.nn.Module):\n"
                  f"    def __init__(self):\n        super().__init__()\n")
        safe_reprs = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
        blobified = []
        for name, module in self.named_children():
            if type(module) in safe_reprs:
                source += f"{tab * 2}setattr(self, '{name}', {module!r})\n"
                continue
            module_file = folder / f"{name}.pt"
            save(module, module_file)
            blobified.append(name)
            module_repr = repr(module).replace("\r", " ").replace("\n", " ")
            source += (f"{tab * 2}setattr(self, '{name}', {root}.load(r'{module_file}', weights_only=False)) "
                       f"# {module_repr}\n")
        for name, buffer in self._buffers.items():
            if buffer is not None:
                source += (f"{tab * 2}self.register_buffer('{name}', {root}.empty({list(buffer.shape)}, "
                           f"dtype={buffer.dtype}))\n")
        for name, param in self._parameters.items():
            if param is not None:
                source += (f"{tab * 2}setattr(self, '{name}', {root}.nn.Parameter({root}.empty({list(param.shape)}, "
                           f"dtype={param.dtype})))\n")
        source += f"{tab * 2}self.load_state_dict({root}.load(r'{folder}/state_dict.pt'))\n"
        source += f"{_addindent(self.code, 4)}\n"
        (folder / "module.py").write_text(source)
        (folder / "__init__.py").write_text("from .module import *")
        if blobified:
            warnings.warn("Was not able to save the following children modules as reprs -saved as pickled files "
                          f"instead: {blobified}", stacklevel=2)

    # --- editing the module hierarchy -----------------------------------------------------------------------
    def add_submodule(self, target, m):
        """Installs module ``m`` at dotted path ``target``, creating empty parents; False if a non-module is in
        the way."""
        *prefix, field = target.split(".")
        mod = self
        for item in prefix:
            submod = getattr(mod, item, None)
            if submod is None:
                submod = Module()
                setattr(mod, item, submod)
            if not isinstance(submod, Module):
                return False
            mod = submod
        setattr(mod, field, m)
        return True

    def delete_submodule(self, target):
        """Removes the submodule at dotted path ``target``; False if there is none."""
        *path, field = target.split(".")
        mod = self
        for item in path:
            if not hasattr(mod, item):
                return False
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                return False
        if not isinstance(getattr(mod, field, None), Module):
            return False
        delattr(mod, field)
        return True

    def delete_all_unused_submodules(self):
        """Removes every submodule no ``call_module``/``get_attr`` node uses (nor a parent of one)."""
        used = set()
        for node in self.graph.nodes:
            if node.op in ("call_module", "get_attr"):
                atoms = node.target.split(".")
                used.update(".".join(atoms[:i]) for i in range(1, len(atoms) + 1))
                if node.op == "call_module":
                    used.update(f"{node.target}.{name}" for name, _ in self.get_submodule(node.target)
                                .named_modules() if name)
        for name, _ in list(self.named_modules()):
            if name and name not in used:
                self.delete_submodule(name)


def _base_class(cls):
    """The GraphModule class an instance's own class was made from."""
    return next(t for t in cls.__mro__ if t.__qualname__.split(".")[-1] != "GraphModuleImpl")


def _reconstruct(cls, class_name, state, graph):
    """Rebuilds a pickled or copied GraphModule (of GraphModule class ``cls``) from its attributes and graph."""
    gm = cls.__new__(cls)
    Module.__init__(gm)
    gm.__dict__.update(state)
    type(gm).__name__ = class_name
    gm.graph = graph
    return gm
