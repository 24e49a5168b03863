"""Runs a script as an MPI job under a hard timeout; skips the calling test where mpi4py or mpiexec is missing."""
import json
import math
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import threading

import pytest

SCRIPTS = pathlib.Path(__file__).resolve().parent / "scripts"
REPO = pathlib.Path(__file__).resolve().parents[2]
MPIEXEC = pathlib.Path(sys.executable).parent / "mpiexec"
if not MPIEXEC.exists() and shutil.which("mpiexec"):   # MPICH installed elsewhere (pip --target, a module system)
    MPIEXEC = pathlib.Path(shutil.which("mpiexec"))


def require_mpi():
    pytest.importorskip("mpi4py", reason="ember.distributed needs mpi4py (pip install 'ember[distributed]')")
    if not MPIEXEC.exists():
        pytest.skip(f"no mpiexec next to {sys.executable} (pip install mpich)")


def env():
    """The environment for launched ranks: this checkout first on the path, one BLAS thread per rank."""
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
                OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", PYTHONUNBUFFERED="1")


def run(argv, timeout=60, cwd=None):
    """Runs ``argv`` in its own process group; kills the whole group if it outlives ``timeout``."""
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(), cwd=cwd,
                               start_new_session=True)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        out, err = process.communicate()
        raise AssertionError(f"{argv} ran past {timeout} s\nstdout:\n{out}\nstderr:\n{err}")
    return subprocess.CompletedProcess(argv, process.returncode, out, err)


def mpiexec(script, ranks, *args, timeout=60, cwd=None):
    """Runs ``scripts/<script>`` on ``ranks`` MPI ranks."""
    require_mpi()
    return run([str(MPIEXEC), "-n", str(ranks), sys.executable, str(SCRIPTS / script), *map(str, args)], timeout, cwd)


def ok(result, ranks):
    """Asserts that the job succeeded and every rank printed its ``rank r ok`` line."""
    assert result.returncode == 0, f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    for r in range(ranks):
        assert f"rank {r} ok" in result.stdout, result.stdout + result.stderr


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torch_job(script, ranks, *args, timeout=120):
    """Runs ``scripts/<script>`` on torch: ``ranks`` processes meeting through env:// on a free local port (gloo);
    one result whose output joins every rank's."""
    port, outputs = _free_port(), {}

    def rank(r):
        env = {"RANK": str(r), "WORLD_SIZE": str(ranks), "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}
        outputs[r] = run(["env", *(f"{k}={v}" for k, v in env.items()), sys.executable, str(SCRIPTS / script),
                          *map(str, args)], timeout=timeout)
    threads = [threading.Thread(target=rank, args=(r,)) for r in range(ranks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return subprocess.CompletedProcess(
        script, next((o.returncode for o in outputs.values() if o.returncode), 0),
        "".join(outputs[r].stdout for r in range(ranks)), "".join(outputs[r].stderr for r in range(ranks)))


def results_beside_torch(script, ranks, folder, timeout=180):
    """Runs ``scripts/<script>`` (a program written on ``scripts/_beside_torch.py``) on ember under mpiexec and on
    torch's gloo; each side's per-rank results, ember's with its names spelled as torch's."""
    for library, job in (("ember", mpiexec), ("torch", torch_job)):
        ok(job(script, ranks, library, folder, timeout=timeout), ranks)
    ours, theirs = ([json.loads((folder / f"{library}-{r}.json").read_text()) for r in range(ranks)]
                    for library in ("ember", "torch"))
    return [json.loads(json.dumps(r).replace("ember.", "torch.")) for r in ours], theirs


def _close(mine, theirs):
    if isinstance(mine, list) and isinstance(theirs, list):
        return len(mine) == len(theirs) and all(_close(a, b) for a, b in zip(mine, theirs))
    if isinstance(mine, dict) and isinstance(theirs, dict):
        return mine.keys() == theirs.keys() and all(_close(mine[k], theirs[k]) for k in mine)
    if isinstance(mine, float) and isinstance(theirs, float):
        return math.isclose(mine, theirs, rel_tol=1e-5, abs_tol=1e-6)
    return mine == theirs


def assert_same_results(ours, theirs):
    """Each rank recorded the same names with the same values (floats to 1e-5 relative, 1e-6 absolute)."""
    for mine, torchs in zip(ours, theirs, strict=True):
        assert mine.keys() == torchs.keys()
        for key in torchs:
            assert _close(mine[key], torchs[key]), (mine["rank"], key, mine[key], torchs[key])


def _losses(result):
    assert result.returncode == 0, result.stdout + result.stderr
    return [float(line.split()[-1]) for line in result.stdout.splitlines() if line.startswith("step ")]


def example_losses_beside_torch(example, ranks, *args, tmp_path, timeout=240):
    """The ``step`` losses ``examples/<example>`` prints on ``ranks`` MPI ranks with ``args``, and those the same
    program (its ``ember`` names spelled as torch's) prints on torch in one process with ``--steps 10``."""
    require_mpi()
    source = REPO / "examples" / example
    ours = _losses(run([str(MPIEXEC), "-n", str(ranks), sys.executable, str(source), *map(str, args)],
                       timeout=timeout))
    on_torch = tmp_path / example
    on_torch.write_text(source.read_text().replace("import ember as torch", "import torch").replace("ember.", "torch."))
    theirs = _losses(run(["env", "RANK=0", "WORLD_SIZE=1", "MASTER_ADDR=127.0.0.1", f"MASTER_PORT={_free_port()}",
                          sys.executable, str(on_torch), "--steps", "10"], timeout=120))
    return ours, theirs
