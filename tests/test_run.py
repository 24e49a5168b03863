"""``ember run`` / ``python -m ember run``: unmodified PyTorch programs, written here, run on ember as ``python``
runs them (argv, ``__main__``, exit codes, tracebacks), in every import style and in spawned children."""
import json
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest
from torch.torch_version import TorchVersion as TorchsVersion

from ember import _alias
from ember.__main__ import main
from ember.torch_version import TorchVersion

ROOT = str(pathlib.Path(__file__).resolve().parent.parent)


def _run(tmp_path, args, timeout=120):
    env = {**os.environ, "PYTHONPATH": ROOT}
    return subprocess.run([sys.executable, *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=timeout)


def ember_run(tmp_path, *args, timeout=120):
    """``python -m ember run args...`` in ``tmp_path``."""
    return _run(tmp_path, ["-m", "ember", "run", *args], timeout)


def python(tmp_path, *args, timeout=120):
    """Plain ``python args...`` (real PyTorch) in ``tmp_path``."""
    return _run(tmp_path, list(args), timeout)


def write(tmp_path, name, source):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))
    return path


def test_script_sees_what_python_gives_it(tmp_path):
    write(tmp_path, "prog.py", '''
        """The docstring."""
        import json, sys
        import torch
        v = torch.__version__
        print(json.dumps({"argv": sys.argv, "file": __file__, "name": __name__, "doc": __doc__,
                          "spec": repr(__spec__), "path0": sys.path[0], "str": isinstance(v, str),
                          "compare": [v >= "2.0", v > (2, 1), v < "3", v < "2.14", v >= (2, 13), v > "parrot"],
                          "types": [torch.ones(2).type(), torch.ones(2, dtype=torch.long).type()]}))
        ''')
    mine, theirs = ember_run(tmp_path, "prog.py", "--lr", "0.1"), python(tmp_path, "prog.py", "--lr", "0.1")
    assert mine.returncode == theirs.returncode == 0, mine.stderr + theirs.stderr
    assert json.loads(mine.stdout) == json.loads(theirs.stdout)
    version = ember_run(tmp_path, "-c", "import torch, ember; print(torch.__version__, ember.__version__)")
    import torch
    assert version.stdout.split() == [torch.__version__.split("+")[0], "0.1.0"]


def test_import_styles_resolve_to_ember_modules_once(tmp_path):
    write(tmp_path, "train.py", '''
        import os, sys
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        from torch import nn as nn2, optim
        from torch.optim.lr_scheduler import StepLR
        from torch.utils.data import DataLoader, TensorDataset
        import torchvision.transforms as T
        from torchvision import datasets, transforms
        import ember

        assert torch.nn is nn is nn2 is ember.nn and F is ember.nn.functional and optim is ember.optim
        assert sys.modules["torch.nn"] is ember.nn and sys.modules["torch.utils.data"] is ember.utils.data
        assert T is transforms is ember.vision.transforms and datasets is ember.vision.datasets
        assert ember.nn.__spec__.name == "ember.nn" and torch.Tensor is ember.Tensor
        here = os.path.dirname(ember.__file__)
        assert all(module.__file__.startswith(here) for name, module in sys.modules.items()
                   if name.split(".")[0] in ("torch", "torchvision") and hasattr(module, "__file__"))

        torch.manual_seed(0)
        x = torch.randn(64, 3)
        y = x @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.3
        model = nn.Sequential(nn.Linear(3, 1))
        opt = optim.SGD(model.parameters(), lr=0.1)
        sched = StepLR(opt, 10)
        losses = []
        for xb, yb in DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True):
            loss = F.mse_loss(model(xb), yb)
            opt.zero_grad(); loss.backward(); opt.step(); sched.step()
            losses.append(loss.item())
        images = datasets.FakeData(size=2, image_size=(3, 8, 8), transform=transforms.ToTensor())
        print(losses[0] > losses[-1], tuple(images[0][0].shape))
        ''')
    result = ember_run(tmp_path, "train.py")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "(3,", "8,", "8)"]


def test_spawned_children_and_dataloader_workers_import_ember(tmp_path):
    write(tmp_path, "spawner.py", '''
        import multiprocessing as mp
        import os
        import torch
        from torch.utils.data import DataLoader, Dataset


        class Squares(Dataset):
            def __len__(self):
                return 6

            def __getitem__(self, i):
                return torch.tensor([float(i) ** 2]), os.getpid()


        def child(queue):
            import torch.nn, ember
            queue.put([str(torch.__version__), torch.nn is ember.nn, torch.ones(3).sum().item()])


        if __name__ == "__main__":
            ctx = mp.get_context("spawn")
            queue = ctx.Queue()
            process = ctx.Process(target=child, args=(queue,))
            process.start()
            print(queue.get(timeout=60))
            process.join()
            for context in ("spawn", None):
                loader = DataLoader(Squares(), batch_size=2, num_workers=2, multiprocessing_context=context)
                batches = list(loader)
                pids = {pid for batch in batches for pid in batch[1].tolist()}
                print([v for batch in batches for v in batch[0].flatten().tolist()], len(pids - {os.getpid()}))
        ''')
    result = ember_run(tmp_path, "spawner.py", timeout=240)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "['2.13.0', True, 3.0]"
    assert lines[1:] == ["[0.0, 1.0, 4.0, 9.0, 16.0, 25.0] 2"] * 2


def test_run_module_with_dash_m(tmp_path):
    write(tmp_path, "pkg/__init__.py", "")
    write(tmp_path, "pkg/mod.py", '''
        import multiprocessing as mp
        import sys
        from torch import nn


        def child(queue):
            from torch import nn
            queue.put(f"{type(nn.Linear(2, 3)).__module__} {nn.__name__}")


        if __name__ == "__main__":
            ctx = mp.get_context("spawn")
            queue = ctx.Queue()
            process = ctx.Process(target=child, args=(queue,))
            process.start()
            print(queue.get(timeout=60), sys.argv[1:], __spec__.name)
            process.join()
        ''')
    result = ember_run(tmp_path, "-m", "pkg.mod", "a", "-b", timeout=180)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["torch.nn.modules.linear", "ember.nn", "['a',", "'-b']", "pkg.mod"]


def test_aliased_modules_run_with_dash_m_as_torchs(tmp_path):
    """``python -m torch.distributed.run`` (torchrun) runs ember's launcher: the alias's spec says a plain module
    is no package, and its loader hands runpy the module's code."""
    for name, package in (("torch.distributed.run", False), ("torch.nn", True), ("torch.nn.functional", False)):
        assert (_alias._Finder.find_spec(name).submodule_search_locations is not None) is package
    mine = ember_run(tmp_path, "-m", "torch.distributed.run", "--help")
    theirs = python(tmp_path, "-m", "torch.distributed.run", "--help")
    assert mine.returncode == theirs.returncode == 0, mine.stderr
    assert "--nproc-per-node" in mine.stdout and "--nproc-per-node" in theirs.stdout


def test_aliased_dash_m_runs_get_the_modules_file_as_argv0(tmp_path):
    """runpy puts the spec's origin in ``sys.argv[0]`` (argparse's prog): the ember module's file, not None."""
    mine = ember_run(tmp_path, "-m", "torch.distributed.checkpoint.format_utils", "--help")
    theirs = python(tmp_path, "-m", "torch.distributed.checkpoint.format_utils", "--help")
    assert mine.returncode == theirs.returncode == 0, mine.stderr
    assert mine.stdout == theirs.stdout


@pytest.mark.parametrize("source", ["import sys\nsys.exit(3)\n", "import sys\nsys.exit('bye')\n",
                                    "def f():\n    raise ValueError('boom')\n\nf()\n",
                                    "raise KeyboardInterrupt\n", "print('done')\n"])
def test_exit_codes_and_tracebacks_are_pythons(tmp_path, source):
    write(tmp_path, "prog.py", source)
    mine, theirs = ember_run(tmp_path, "prog.py"), python(tmp_path, "prog.py")
    assert (mine.returncode, mine.stdout, mine.stderr) == (theirs.returncode, theirs.stdout, theirs.stderr)


def test_missing_names_say_ember_lacks_them(tmp_path):
    write(tmp_path, "gaps.py", '''
        import torch
        try:
            torch.not_a_function
        except AttributeError as error:
            print(error)
        try:
            import torch.not_a_module
        except ImportError as error:
            print(type(error).__name__, error)
        print(hasattr(torch.nn, "NotALayer"), hasattr(torch.nn, "Linear"))
        from torch.nn import NotALayer
        ''')
    result = ember_run(tmp_path, "gaps.py")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("module 'torch' has no attribute 'not_a_function': ember does not implement "
                               "torch.not_a_function; if PyTorch has it, please report")
    assert lines[1].startswith("ModuleNotFoundError No module named 'torch.not_a_module': ember does not implement")
    assert lines[2] == "False True"
    assert "cannot import name 'NotALayer'" in result.stderr
    assert "ember does not implement torch.nn.NotALayer" in result.stderr


def test_torch_c_usage_logging_that_libraries_call(tmp_path):
    # torchmetrics' Metric.__init__ and Lightning call torch._C._log_api_usage_once: a no-op taking one string
    write(tmp_path, "usage.py", '''
        import torch
        import torch._C
        from torch._C import _log_api_usage_once
        print(torch._C._log_api_usage_once("mylib.metric.Accuracy"), _log_api_usage_once("") is None)
        try:
            torch._C._log_api_usage_once(3)
        except TypeError as error:
            print("TypeError", error)
        ''')
    mine, theirs = ember_run(tmp_path, "usage.py"), python(tmp_path, "usage.py")
    assert mine.returncode == theirs.returncode == 0, mine.stderr + theirs.stderr
    assert mine.stdout == theirs.stdout == "None True\nTypeError bad argument type for built-in operation\n"
    import ember
    assert ember._C._log_api_usage_once("x") is None   # ``import ember as torch`` programs reach it too


def test_package_metadata_reports_the_api_versions(tmp_path):
    # libraries check importlib.metadata.version("torch") (lightning_utilities' RequirementCache, transformers):
    # under ember run it is the PyTorch version ember follows, installed or not, as torch.__version__ is
    write(tmp_path, "meta.py", '''
        import importlib.metadata as metadata
        from packaging.version import Version
        import torch
        version = metadata.version("torch")
        print(version == torch.__version__, Version(version) >= Version("2.1"), Version(version) < Version("2.6"),
              metadata.distribution("torch").metadata["Name"], metadata.version("numpy") != "")
        ''')
    mine, theirs = ember_run(tmp_path, "meta.py"), python(tmp_path, "meta.py")
    assert mine.returncode == theirs.returncode == 0, mine.stderr + theirs.stderr
    assert mine.stdout == theirs.stdout == "True True False torch True\n"
    versions = ember_run(tmp_path, "-c", "import importlib.metadata as m; print(m.version('torch'), "
                                          "m.version('torchvision'))")
    assert versions.stdout.split() == [_alias.API_VERSIONS["torch"], _alias.API_VERSIONS["torchvision"]]


def test_install_torch_alias_for_notebooks(tmp_path):
    write(tmp_path, "notebook.py", '''
        import sys, types
        import ember
        sys.modules["torchinfo"] = types.ModuleType("torchinfo")  # as if the real one were imported already
        try:
            ember.install_torch_alias()
        except RuntimeError as error:
            print("refused:", error)
        del sys.modules["torchinfo"]
        ember.install_torch_alias()
        ember.install_torch_alias()
        import torch, torch.optim
        print(torch.optim is ember.optim, sys.meta_path.count(sys.meta_path[0]), torch.zeros(1).type())
        ''')
    result = python(tmp_path, "notebook.py")
    assert result.returncode == 0, result.stderr
    refused, used = result.stdout.splitlines()
    assert refused.startswith("refused: torchinfo already imported from PyTorch")
    assert used == "True 1 torch.FloatTensor"


@pytest.mark.parametrize("name, target", [
    ("torch", "ember"), ("torch.nn.functional", "ember.nn.functional"), ("torchvision", "ember.vision"),
    ("torchvision.transforms.functional", "ember.vision.transforms.functional"), ("torchaudio", "ember.audio"),
    ("torchtext.data", "ember.text.data"), ("lightning.pytorch", "ember.lightning"),
    ("lightning.pytorch.callbacks", "ember.lightning.callbacks"), ("pytorch_lightning", "ember.lightning"),
    ("torchsummary", "ember.utils.summary.torchsummary"), ("torchinfo", "ember.utils.summary"), ("torchx", None),
    ("numpy", None)])
def test_alias_names(name, target):
    assert _alias.ember_name(name) == target
    if target is not None and name not in ("torchinfo", "lightning", "pytorch_lightning"):
        assert _alias.public_name(target) == name


def test_usage_errors_and_help(tmp_path, capsys):
    assert main(["--help"]) == 0 and "ember run script.py" in capsys.readouterr().out
    result = _run(tmp_path, ["-m", "ember"])
    assert result.returncode == 2 and result.stderr.startswith("usage: ember run")
    pyproject = (pathlib.Path(ROOT) / "pyproject.toml").read_text()
    assert 'ember = "ember.__main__:main"' in pyproject


VERSIONS = ["2.13.0", "2.0.0a0", "1.10.0", "2.13.0+cpu", "parrot"]
OPERANDS = ["2.13", "2.2", "2.13.0", "10.0", (2, 1), (2, 13, 0), [1, 10], "parrot"]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("operand", OPERANDS, ids=repr)
def test_torch_version_compares_as_torchs(version, operand):
    mine, theirs = TorchVersion(version), TorchsVersion(version)
    for op in ("__eq__", "__lt__", "__le__", "__gt__", "__ge__"):
        assert getattr(mine, op)(operand) == getattr(theirs, op)(operand), (op, operand)
    assert hash(mine) == hash(version) and str(mine) == version
    with pytest.raises(TypeError):
        mine > 3


def test_torch_version_compares_with_packaging_versions():
    from packaging.version import Version
    from torch._vendor.packaging.version import Version as TorchsVendoredVersion
    for version in VERSIONS[:-1]:
        for other in ("2.0", "2.13.0", "2.13.0.post1"):
            assert (TorchVersion(version) >= Version(other)) == (TorchsVersion(version) >= TorchsVendoredVersion(other))


def test_torch_version_without_packaging_compares_release_numbers(monkeypatch):
    from ember import torch_version
    monkeypatch.setattr(torch_version, "_packaging", lambda: None)
    for version in ("2.13.0", "1.10.0"):
        for operand in ("2.13", "2.2", "2.13.0", "10.0", (2, 1), (2, 13, 0)):
            for op in ("__eq__", "__lt__", "__ge__"):
                assert getattr(TorchVersion(version), op)(operand) == getattr(TorchsVersion(version), op)(operand)


def test_torch_multiprocessing_spawn_shares_tensors_and_raises_child_errors(tmp_path):
    write(tmp_path, "spawn_ranks.py", '''
        import torch
        import torch.multiprocessing as mp


        def work(rank, shared):
            shared[rank] = rank + 10


        def fail(rank):
            if rank == 1:
                raise ValueError("bad rank")


        if __name__ == "__main__":
            shared = torch.zeros(2).share_memory_()
            mp.spawn(work, args=(shared,), nprocs=2)
            print(shared.tolist(), mp.get_sharing_strategy())
            try:
                mp.spawn(fail, nprocs=2)
            except mp.ProcessRaisedException as error:
                lines = str(error).splitlines()
                print(type(error).__name__, error.error_index, lines[2], lines[-1])
        ''')
    result = ember_run(tmp_path, "spawn_ranks.py", timeout=240)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "[10.0, 11.0] file_descriptor",
        "ProcessRaisedException 1 -- Process 1 terminated with the following error: ValueError: bad rank"]


def test_torch_torch_is_torch(tmp_path):
    # kornia annotates with torch.torch.Tensor: in PyTorch the package is an attribute of itself
    write(tmp_path, "selfref.py", '''
        import torch
        print(torch.torch is torch, torch.torch.torch.Tensor is torch.Tensor, "torch" in dir(torch))
        ''')
    mine, theirs = ember_run(tmp_path, "selfref.py"), python(tmp_path, "selfref.py")
    assert mine.returncode == theirs.returncode == 0, mine.stderr + theirs.stderr
    assert mine.stdout == theirs.stdout == "True True True\n"
    import ember
    assert ember.torch is ember


def test_plain_pickles_of_devices_dtypes_and_formats_load_in_torch(tmp_path):
    # libraries pickle objects holding them (stable-baselines3's replay buffers keep their device)
    write(tmp_path, "dump.py", '''
        import pickle, sys
        import torch
        values = [torch.device("cpu"), torch.device("cuda", 1), torch.device("meta"), torch.float32, torch.bool,
                  torch.bfloat16, torch.int64]
        copies = pickle.loads(pickle.dumps(values))
        print(copies == values, all(a is b for a, b in zip(copies[3:], values[3:])))
        with open(sys.argv[1], "wb") as file:
            pickle.dump(values, file)
        ''')
    write(tmp_path, "load.py", '''
        import pickle, sys
        with open(sys.argv[1], "rb") as file:
            print(pickle.load(file))
        ''')
    ours, theirs = ember_run(tmp_path, "dump.py", "ours.pkl"), python(tmp_path, "dump.py", "theirs.pkl")
    assert ours.returncode == theirs.returncode == 0, ours.stderr[-2000:] + theirs.stderr[-2000:]
    assert ours.stdout == theirs.stdout == "True True\n"
    assert b"ember" not in (tmp_path / "ours.pkl").read_bytes()
    loaded = [python(tmp_path, "load.py", "ours.pkl"), python(tmp_path, "load.py", "theirs.pkl"),
              ember_run(tmp_path, "load.py", "ours.pkl"), ember_run(tmp_path, "load.py", "theirs.pkl")]
    assert all(result.returncode == 0 for result in loaded), [result.stderr[-2000:] for result in loaded]
    assert len({result.stdout for result in loaded}) == 1


def test_plain_pickles_of_tensors_made_by_torch_load(tmp_path):
    write(tmp_path, "dump.py", '''
        import pickle, torch
        x = torch.arange(12.).reshape(3, 4)
        values = {"t": x[1:, ::2], "p": torch.nn.Parameter(torch.ones(2, dtype=torch.float64)),
                  "g": torch.ones(3, requires_grad=True), "i": torch.tensor([1, 2], dtype=torch.int16),
                  "layout": torch.strided, "format": torch.channels_last_3d, "gen": torch.Generator().manual_seed(5)}
        torch.randn(3, generator=values["gen"])
        with open("tensors.pkl", "wb") as file:
            pickle.dump(values, file)
        ''')
    write(tmp_path, "load.py", '''
        import pickle, torch
        with open("tensors.pkl", "rb") as file:
            values = pickle.load(file)
        for name, value in values.items():
            print(name, type(value) if isinstance(value, torch.Tensor) else "", value if name != "gen" else "")
        print(values["gen"].initial_seed(), torch.randn(3, generator=values["gen"]))
        print(values["t"].stride(), values["t"].is_contiguous(), values["layout"] is torch.strided)
        ''')
    made = python(tmp_path, "dump.py")
    assert made.returncode == 0, made.stderr[-2000:]
    ours, theirs = ember_run(tmp_path, "load.py"), python(tmp_path, "load.py")
    assert ours.returncode == theirs.returncode == 0, ours.stderr[-2000:] + theirs.stderr[-2000:]
    assert ours.stdout == theirs.stdout


def test_core_classes_print_under_torchs_names_and_pickle(tmp_path):
    program = tmp_path / "types.py"
    program.write_text(textwrap.dedent("""
        import pickle
        import torch
        x = torch.ones(2)
        print(type(x), type(x.shape), type(x.device), type(x.dtype))
        print(pickle.loads(pickle.dumps((x.shape, x.device, x.dtype))))
        torch.save({"s": x.shape, "d": x.device, "t": x.dtype}, "saved.pt")
        print(torch.load("saved.pt"))
    """))
    ours, theirs = ember_run(tmp_path, str(program)), python(tmp_path, str(program))
    assert ours.returncode == 0, ours.stderr[-2000:]
    assert ours.stdout == theirs.stdout
