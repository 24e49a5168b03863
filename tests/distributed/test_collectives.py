"""ember.distributed's collectives in real MPI jobs, checked against NumPy on the gathered inputs."""
import pytest

from .launch import mpiexec, ok


@pytest.mark.parametrize("ranks", [2, 4])
def test_every_collective_matches_numpy(ranks):
    ok(mpiexec("collectives.py", ranks, timeout=90), ranks)
