"""examples/deploy.py end to end: trains briefly, traces, saves, loads in a fresh process without the model class,
exports to ONNX, and prints the three paths' agreement and latency."""
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_deploy_example_paths_agree(tmp_path):
    pytest.importorskip("onnxruntime")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "deploy.py"), "--steps", "2", "--repeats", "1",
                             "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=240,
                            check=False, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    differences = [float(d) for d in re.findall(r"max \|difference\| (\S+)", out)]
    assert len(differences) == 2 and max(differences) < 1e-4, out   # loaded (fresh process) and ONNX vs eager
    assert re.search(r"eager [\d.]+ ms, loaded trace [\d.]+ ms", out) and re.search(r"ONNX Runtime [\d.]+ ms", out)
    assert (tmp_path / "out" / "model.pt").exists() and (tmp_path / "out" / "model.onnx").exists()
