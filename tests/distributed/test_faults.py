"""A failing rank ends the whole job with a non-zero exit, the failing rank and its error printed, and no process of
the job left behind; a rank that never arrives makes the others' collectives time out."""
import pathlib
import shutil
import sys
import time

import pytest

from .launch import MPIEXEC, SCRIPTS, require_mpi, run


def _leftovers(marker, grace=5.0):
    """Processes of ours whose command line mentions ``marker`` (a path unique to the test), still there ``grace``
    seconds after the job ended (MPI's cleanup reaps the ranks just after mpiexec exits)."""
    deadline = time.monotonic() + grace
    while _matching(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    return _matching(marker)


def _matching(marker):
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                alive = "State:\tZ" not in (entry / "status").read_text()
                if alive and marker in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


@pytest.mark.parametrize("mode, expected", [
    ("raise", "RuntimeError: rank 1 fails on purpose"),
    ("kill", "BAD TERMINATION"),
    ("hang", "timed out after 3 s"),
    ("hang-monitored", "Rank 1 failed to pass monitoredBarrier in 2000 ms"),
    ("late-init", "Timeout (0:00:03)!"),
])
def test_a_failing_rank_ends_the_job(mode, expected, tmp_path):
    require_mpi()
    script = tmp_path / "faults.py"   # a copy under tmp_path: its path marks this job's processes
    shutil.copy(SCRIPTS / "faults.py", script)
    stamp = tmp_path / "failed-at"
    for _ in range(3):
        # MPICH's mpiexec sometimes aborts the job before forwarding the ranks' last output (seen under load, about
        # one run in three for the hang modes): such a run shows nothing to check, so run the job again.
        for leftover in tmp_path.glob("ready-*"):
            leftover.unlink()
        result = run([str(MPIEXEC), "-n", "2", sys.executable, str(script), mode, str(stamp)], timeout=120)
        if result.stdout or result.stderr:
            break
    assert result.returncode != 0
    assert expected in result.stdout + result.stderr, result.stdout + result.stderr
    if mode in ("raise", "kill"):
        assert stamp.exists()   # the failure happened after init, as planned
    if mode == "raise":   # PyTorch's excepthook format: every line of the traceback under "[rank1]: "
        assert "[rank1]: Traceback (most recent call last):" in result.stderr
        assert "[rank1]: RuntimeError: rank 1 fails on purpose" in result.stderr
    if mode == "late-init":
        assert "in init_process_group" in result.stderr
    if mode.startswith("hang"):
        assert "[rank0]: " in result.stderr or "[Rank 0]" in result.stderr
    assert _leftovers(str(tmp_path)) == []
