"""examples/ddp_fashion_mnist.py started each of the three ways prints the same loss and accuracy (same seeds, same
shards), a few batches each."""
import os
import sys

import pytest

from .launch import MPIEXEC, REPO, require_mpi, run

EXAMPLE = REPO / "examples" / "ddp_fashion_mnist.py"
LIMITS = ["--limit", "2", "--test-limit", "1"]


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir("/usr/share/datasets/fashion-mnist"), reason="needs Debian's Fashion-MNIST")
def test_three_launchers_train_alike(tmp_path):
    require_mpi()
    outputs = []
    for argv in ([str(MPIEXEC), "-n", "2", sys.executable, str(EXAMPLE), *LIMITS],
                 [sys.executable, "-m", "ember.distributed.run", "--nproc-per-node", "2", str(EXAMPLE), *LIMITS],
                 [sys.executable, str(EXAMPLE), "--spawn", "2", *LIMITS]):
        result = run(argv, timeout=240, cwd=tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
        outputs.append(result.stdout.strip().splitlines())
    assert outputs[0][0].startswith("Epoch: 1 loss: ") and "on 200 test images" in outputs[0][1], outputs[0]
    assert outputs[0] == outputs[1] == outputs[2]
