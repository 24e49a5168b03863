"""ember.distributed on CUDA tensors with backend='nccl', in real MPI jobs on a machine with a GPU (skipped without
one): one rank per GPU goes through NCCL; ranks sharing a GPU go through MPI and host memory."""
import pytest

import ember

from .launch import mpiexec, ok

pytestmark = pytest.mark.skipif(not ember.distributed.is_nccl_available(),
                                reason="needs an NVIDIA GPU with CuPy's NCCL (ember.distributed.is_nccl_available())")


@pytest.mark.parametrize("ranks", [1, 2])
def test_collectives_and_ddp_on_cuda_tensors_match_numpy(ranks):
    result = mpiexec("cuda_collectives.py", ranks, timeout=240)
    ok(result, ranks)
    expected = "nccl" if ranks <= ember.cuda.device_count() else "host"
    assert all(f"rank {r} ok path={expected}" in result.stdout for r in range(ranks)), result.stdout
