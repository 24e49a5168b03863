"""Training with uneven inputs (``Join``, ``DistributedDataParallel.join``, ZeroRedundancyOptimizer as a joinable):
one program on 2 ranks with different numbers of batches, run on ember under mpiexec and on torch's gloo backend,
must give the same weights, buffers and errors on each rank (to float tolerance)."""
import json
import math

import pytest

from .launch import mpiexec, ok, torch_job

pytest.importorskip("torch.distributed")
RANKS = 2


def _results(result, library, folder):
    ok(result, RANKS)
    return [json.loads((folder / f"{library}-{r}.json").read_text()) for r in range(RANKS)]


def _close(mine, theirs):
    if isinstance(mine, list) and isinstance(theirs, list):
        return len(mine) == len(theirs) and all(_close(a, b) for a, b in zip(mine, theirs))
    if isinstance(mine, float) and isinstance(theirs, float):
        return math.isclose(mine, theirs, rel_tol=1e-5, abs_tol=1e-6)
    return mine == theirs


def test_uneven_inputs_train_as_torchs(tmp_path):
    ours = _results(mpiexec("join.py", RANKS, "ember", tmp_path, timeout=180), "ember", tmp_path)
    theirs = _results(torch_job("join.py", RANKS, "torch", tmp_path, timeout=180), "torch", tmp_path)
    for mine, torchs in zip(ours, theirs):
        assert mine.keys() == torchs.keys()
        for key in torchs:
            assert _close(mine[key], torchs[key]), (mine["rank"], key, mine[key], torchs[key])
    assert ours[0]["join"] == ours[1]["join"]   # the replicas end equal
