"""The text-classification and keyword-spotting examples run on the corpora they generate and learn something."""
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _run(name, tmp_path, *args):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, str(ROOT / "examples" / name), *args], capture_output=True, text=True,
                            timeout=240, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_text_classification_beats_chance(tmp_path):
    last = _run("text_classification.py", tmp_path, "--epochs", "2").strip().splitlines()[-1]
    assert last.startswith("test accuracy") and float(last.split()[-1]) > 0.6, last   # 4 classes: chance is 0.25


def test_speech_commands_beats_chance(tmp_path):
    last = _run("speech_commands.py", tmp_path, "--epochs", "4", "--per-word", "30").strip().splitlines()[-1]
    assert last.startswith("test accuracy") and float(last.split()[2]) > 0.4, last
