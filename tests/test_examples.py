"""The quick example programs run and print what they should (the training ones are run by hand and in bench/)."""
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _run(name, tmp_path, *args, logged=None):
    """The example's stdout; its stderr too goes into the list ``logged`` when given (Lightning logs there)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, str(ROOT / "examples" / name), *args], capture_output=True, text=True,
                            timeout=240, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    if logged is not None:
        logged.append(result.stderr)
    return result.stdout


def test_linear_regression_learns_the_line(tmp_path):
    last = _run("linear_regression.py", tmp_path).strip().splitlines()[-1]
    words = last.split()   # "learned y = 2.009 x + 1.005   (true: y = 2x + 1)"
    slope, intercept = float(words[3]), float(words[6])
    assert abs(slope - 2) < 0.05 and abs(intercept - 1) < 0.05, last


def test_autograd_basics_prints_the_gradients(tmp_path):
    out = _run("autograd_basics.py", tmp_path)
    assert "tensor([2.])\ntensor([4.])" in out and "AddBackward0" in out and "PowBackward0" in out


@pytest.mark.skipif(not os.path.isdir("/usr/share/datasets/fashion-mnist"), reason="needs Debian's Fashion-MNIST")
def test_dataloader_options_on_fashion_mnist(tmp_path):
    out = _run("dataloader_options.py", tmp_path)
    assert "drop_last=True: 78 batches, the last has 128 samples" in out
    assert "SubsetRandomSampler([10, 20]): loaded samples with labels" in out


def test_demo_data_without_debian_copy_or_network_says_what_to_do(tmp_path, monkeypatch):
    import urllib.error
    import urllib.request

    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    import fashion_mnist

    def offline(*args, **kwargs):
        raise urllib.error.URLError("network unreachable")
    monkeypatch.setattr(fashion_mnist, "DEBIAN_COPY", str(tmp_path / "no-debian-copy"))
    monkeypatch.setattr(fashion_mnist.shutil, "which", lambda name: None)   # no apt-get
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(SystemExit) as exited:
        fashion_mnist.data_root(str(tmp_path / "data"))
    message = str(exited.value)
    assert "Could not get Fashion-MNIST" in message and "network unreachable" in message
    assert "apt-get install dataset-fashion-mnist" in message and "train-images-idx3-ubyte.gz" in message


def test_demo_data_links_the_debian_copy(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    import fashion_mnist

    debian = tmp_path / "debian"
    debian.mkdir()
    for name in fashion_mnist.FILES:
        (debian / name).write_bytes(b"")
    monkeypatch.setattr(fashion_mnist, "DEBIAN_COPY", str(debian))
    root, download = fashion_mnist.data_root(str(tmp_path / "data"))
    raw = tmp_path / "data" / "FashionMNIST" / "raw"
    assert (root, download) == (str(tmp_path / "data"), False)
    assert sorted(os.readlink(raw / name) for name in fashion_mnist.FILES) == sorted(
        str(debian / name) for name in fashion_mnist.FILES)


@pytest.mark.skipif(not os.path.isdir("/usr/share/datasets/fashion-mnist"), reason="needs Debian's Fashion-MNIST")
def test_lightning_transfer_tests_the_best_checkpoint(tmp_path):
    logged = []
    out = _run("lightning_transfer.py", tmp_path, "--arch", "resnet18", "--image-size", "32", "--per-class", "6",
               "--epochs", "2", logged=logged)
    best = next(line for line in out.splitlines() if line.startswith("best checkpoint: "))
    path, score = best[len("best checkpoint: "):].rsplit(" (val_accuracy ", 1)
    # the model summary goes to Lightning's logger, which writes to stderr
    assert (tmp_path / path).is_file() and "5.1 K     Trainable params" in logged[0]
    accuracy = float(out.strip().splitlines()[-1].split("test_accuracy: ")[1])
    # tested on the validation folder with the best checkpoint's weights: its validation accuracy again
    assert accuracy == pytest.approx(float(score.rstrip(")")), abs=1e-4) and accuracy > 0.1
