"""DESIGN.md's import rules: `import ember` stays light, optim never imports nn, vision uses the public API only."""
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
