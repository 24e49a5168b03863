"""The design's import rules: `import ember` stays light; the core's layers import only layers below them (at import
time or inside functions) and no modules import each other in a circle; optim never imports nn; vision uses the
public API only."""
import ast
import pathlib
import subprocess
import sys

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "ember"
HEAVY = ("torch", "cupy", "mpi4py", "onnx", "PIL", "tqdm", "matplotlib")


def test_import_ember_loads_no_optional_library():
    code = ("import sys, ember, ember.nn, ember.optim, ember.utils.data, ember.vision; "
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            cwd=PACKAGE.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def _imports(path):
    """(level, module) of every import statement in a file."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            yield node.level, node.module or "", [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield 0, alias.name, []


def _resolve(path, level, module):
    """The absolute dotted name an import in ``path`` refers to."""
    if level == 0:
        return module
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)[:-level]
    return ".".join(parts + ([module] if module else []))


# The core's layers, lowest first (docs/design.md). A module may import its own layer and those before it.
LAYERS = [("ember._backend", "ember._dtype", "ember._meta"),
          ("ember._tensor", "ember._tensor_str", "ember._arg_parser"),
          ("ember.autograd",),
          ("ember.ops", "ember.linalg"), ("ember.nn",), ("ember.optim",), ("ember.utils.data",),
          ("ember.serialization",)]


def _module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(name):
    found = [i for i, layer in enumerate(LAYERS) for prefix in layer if name == prefix or name.startswith(prefix + ".")]
    return max(found) if found else None


def _targets(path):
    """The ember modules a file imports, anywhere in it (``from . import x`` counts as importing module x)."""
    modules = {_module_name(p) for p in PACKAGE.rglob("*.py")}
    for level, module, names in _imports(path):
        if path.name == "__init__.py" and level:
            level -= 1   # a package's own __init__ is the package
            base = _resolve(path.parent / "x.py", level + 1, module) if level else _resolve(path, 1, module)
        else:
            base = _resolve(path, level, module)
        if not base.startswith("ember"):
            continue
        submodules = [f"{base}.{n}" for n in names if f"{base}.{n}" in modules]
        yield from submodules or [base]


CORE = [p for p in sorted(PACKAGE.rglob("*.py")) if _layer(_module_name(p)) is not None]


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_core_layers_import_only_lower_layers(path):
    own = _layer(_module_name(path))
    for target in _targets(path):
        if target != "ember":
            layer = _layer(target)
            assert layer is None or layer <= own, f"{_module_name(path)} (layer {own}) imports {target} (layer {layer})"
        else:   # the training stack (nn and above) is written on the public API, the top-level package
            assert own >= _layer("ember.nn"), f"{_module_name(path)} imports the top-level ember package"


def test_no_import_cycles_in_the_core():
    graph = {_module_name(p): {t for t in _targets(p) if t != "ember"} for p in CORE}
    graph = {m: {t for t in targets if t in graph and t != m} for m, targets in graph.items()}
    # Packages' __init__ re-export their submodules: an edge into a package is not an edge back out of it.
    for m in graph:
        graph[m] = {t for t in graph[m] if not m.startswith(t + ".")}
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(v):   # Tarjan's strongly connected components, iteratively deep enough for this package
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert cycles == []


@pytest.mark.parametrize("path", sorted((PACKAGE / "optim").rglob("*.py")), ids=lambda p: p.name)
def test_optim_never_imports_nn(path):
    for level, module, names in _imports(path):
        target = _resolve(path, level, module)
        assert not (target == "ember.nn" or target.startswith("ember.nn.")), f"{path.name} imports {target}"
        assert not (target == "ember" and "nn" in names), f"{path.name} imports ember.nn"


@pytest.mark.parametrize("path", sorted((PACKAGE / "vision").rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_vision_uses_the_public_api_only(path):
    for level, module, names in _imports(path):
        target = _resolve(path, level, module)
        if target.startswith("ember.vision") or not target.startswith("ember"):
            continue
        private = [part for part in target.split(".") + names if part.startswith("_")]
        assert not private, f"{path.relative_to(PACKAGE)} imports {target} {names}"
