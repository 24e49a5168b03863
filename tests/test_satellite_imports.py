"""ember.audio and ember.text are satellites: they import only ember's public modules (their own package aside)."""
import pytest

from tests.test_imports import PACKAGE, _imports, _resolve

FILES = sorted((PACKAGE / "audio").rglob("*.py")) + sorted((PACKAGE / "text").rglob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_satellites_use_the_public_api_only(path):
    own = ".".join(path.relative_to(PACKAGE.parent).parts[:2])
    for level, module, names in _imports(path):
        target = _resolve(path, level, module)
        if target.startswith(own) or not target.startswith("ember"):
            continue
        private = [part for part in target.split(".") + names if part.startswith("_")]
        assert not private, f"{path.relative_to(PACKAGE)} imports {target} {names}"
