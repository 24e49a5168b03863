"""Runs a Lightning 2.x program on PyTorch in a child process (Lightning cannot be imported beside the CUDA build of
torchvision in the test environment, so the child hides torchvision first) and returns what it printed as JSON."""
import json
import subprocess
import sys
import textwrap

import pytest

_HIDE_TORCHVISION = """
import importlib.metadata as _md, sys as _sys
_dist, _version = _md.distribution, _md.version
def _hidden(real):
    def find(name):
        if name == "torchvision":
            raise _md.PackageNotFoundError(name)
        return real(name)
    return find
_md.distribution, _md.version = _hidden(_dist), _hidden(_version)
_sys.modules["torchvision"] = None
"""


def lightning_available():
    """Whether real Lightning imports beside torch here."""
    code = _HIDE_TORCHVISION + "import pytorch_lightning"
    try:
        return subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=300).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


_AVAILABLE = None


def run_lightning(program, cwd):
    """Runs ``program`` (which prints one JSON document last) with real Lightning; skips if Lightning is missing."""
    global _AVAILABLE
    if _AVAILABLE is None:
        _AVAILABLE = lightning_available()
    if not _AVAILABLE:
        pytest.skip("pytorch_lightning does not import beside torch here")
    result = subprocess.run([sys.executable, "-c", _HIDE_TORCHVISION + textwrap.dedent(program)], cwd=cwd,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])
