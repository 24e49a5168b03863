"""The three ways to start ranks: mpiexec (the other tests), ``python -m ember.distributed.run`` and
``ember.multiprocessing.spawn``; and init_process_group's errors outside a job."""
import json
import subprocess
import sys

import pytest

from .launch import REPO, SCRIPTS, env, require_mpi, run


def test_run_sets_torchrun_environment(tmp_path):
    require_mpi()
    result = run([sys.executable, "-m", "ember.distributed.run", "--nproc-per-node", "2", "--master-port", "1234",
                  str(SCRIPTS / "envs.py"), "a", "--b"], timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [json.loads((tmp_path / f"rank-{r}.json").read_text()) for r in range(2)]
    assert [d["rank"] for d in lines] == [0, 1]
    for rank, line in enumerate(lines):
        assert line["env"] == {"RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": "2", "LOCAL_WORLD_SIZE": "2",
                               "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "1234"}
        assert line["argv"] == ["a", "--b"] and line["elastic"]


def test_spawn_forms_a_world_and_reraises_a_child_error(tmp_path):
    require_mpi()
    result = run([sys.executable, str(SCRIPTS / "spawn_job.py")], timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "spawn ok" in result.stdout and "failure re-raised ok" in result.stdout, result.stdout + result.stderr


def test_spawn_without_mpi_uses_plain_processes(tmp_path):
    blocker = tmp_path / "blocked" / "mpi4py.py"
    blocker.parent.mkdir()
    blocker.write_text("raise ImportError('no MPI here')\n")
    (tmp_path / "out").mkdir()
    result = subprocess.run([sys.executable, str(SCRIPTS / "spawn_plain.py"), str(tmp_path / "out")],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path,
                            env=dict(env(), PYTHONPATH=f"{blocker.parent}:{REPO}"))
    assert result.returncode == 0 and "plain spawn ok" in result.stdout, result.stdout + result.stderr


def test_init_outside_a_job_says_how_to_start_one():
    require_mpi()
    code = ("import ember.distributed as dist\n"
            "try:\n    dist.init_process_group('gloo', rank=1, world_size=2)\n"
            "except RuntimeError as e:\n    print('mpiexec' in str(e) and 'ember.distributed.run' in str(e))\n"
            "dist.init_process_group('gloo', rank=0, world_size=1)\n"
            "print(dist.get_world_size(), dist.get_backend())\n"
            "try:\n    dist.init_process_group('gloo')\nexcept ValueError as e:\n    print(e)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env(),
                            cwd=REPO)
    assert result.stdout.splitlines() == ["True", "1 gloo", "trying to initialize the default process group twice!"], \
        result.stderr


def test_without_mpi4py_init_says_what_to_install(tmp_path):
    blocker = tmp_path / "mpi4py.py"
    blocker.write_text("raise ImportError('no MPI here')\n")
    code = ("import ember.distributed as dist\nprint(dist.is_available())\n"
            "try:\n    dist.init_process_group('gloo')\nexcept RuntimeError as e:\n    print(e)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            env=dict(env(), PYTHONPATH=f"{tmp_path}:{REPO}"), cwd=tmp_path)
    assert result.stdout.splitlines()[0] == "False"
    assert "pip install 'ember[distributed]'" in result.stdout, result.stderr


def test_rank_queries_before_init_raise_like_torch():
    import ember.distributed as dist
    assert not dist.is_initialized()
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        dist.get_rank()
    with pytest.raises(ValueError, match="Invalid backend"):
        dist.Backend("carrier-pigeon")
    assert dist.Backend("GLOO") == "gloo" and dist.Backend("cpu:gloo,cuda:nccl") == "gloo"


@pytest.mark.parametrize("nproc, given, expected", [("2", None, "1"), ("1", None, None), ("2", "3", "3")])
def test_run_gives_each_rank_one_thread_unless_told(monkeypatch, caplog, nproc, given, expected):
    # torchrun's default: several ranks on a machine each get OMP_NUM_THREADS=1, with its warning
    from ember.distributed import run as launcher
    monkeypatch.setattr(launcher, "mpiexec_path", lambda: "mpiexec")
    if given is None:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    else:
        monkeypatch.setenv("OMP_NUM_THREADS", given)
    _, environment = launcher.command(launcher.parser().parse_args(["--nproc-per-node", nproc, "train.py"]))
    assert environment.get("OMP_NUM_THREADS") == expected
    warned = "Setting OMP_NUM_THREADS environment variable for each process to be 1" in caplog.text
    assert warned == (given is None and nproc == "2")


def test_torchrun_under_ember_run_runs_the_ranks_on_ember(tmp_path):
    """``ember run -m torch.distributed.run``: the ranks import torch as ember too, and a rank's uncaught error
    prints from the script's frames in PyTorch's excepthook format."""
    require_mpi()
    (tmp_path / "prog.py").write_text(
        "import sys\nimport torch\nimport torch.distributed as dist\n"
        "dist.init_process_group('gloo')\n"
        # one write per line: the ranks share the pipe, and print() writes its arguments one by one when unbuffered
        "sys.stdout.write(f'rank {dist.get_rank()} {type(dist.get_rank).__module__} {dist.get_rank.__module__}\\n')\n"
        "sys.stdout.flush()\n"
        "dist.barrier()\n"
        "if dist.get_rank() == 1:\n    raise RuntimeError('rank 1 fails')\n"
        "dist.barrier()\n")
    result = run([sys.executable, "-m", "ember", "run", "-m", "torch.distributed.run", "--nproc-per-node", "2",
                  "prog.py"], timeout=120, cwd=tmp_path)
    assert result.returncode != 0
    for rank in (0, 1):
        assert f"rank {rank} builtins ember.distributed.process_group" in result.stdout, result.stdout + result.stderr
    assert ("[rank1]: Traceback (most recent call last):\n"
            f"[rank1]:   File \"{tmp_path / 'prog.py'}\", line 9, in <module>\n") in result.stderr, result.stderr
    assert "[rank1]: RuntimeError: rank 1 fails" in result.stderr


def test_is_available_leaves_mpi_for_other_libraries_to_start():
    # Lightning's MPI environment probe imports mpi4py.MPI after asking torch.distributed.is_available()
    code = ("import ember.distributed as dist\nprint(dist.is_available())\n"
            "from mpi4py import MPI\nprint(MPI.Is_initialized(), MPI.COMM_WORLD.Get_size())\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env(),
                            cwd=REPO)
    assert result.stdout.splitlines() == ["True", "True 1"], result.stderr
