"""ZeroRedundancyOptimizer: one program on 2 ranks (the partition, DDP training with Adam and SGD, parameter groups
and a scheduler, parameters as bucket views, the consolidated state_dict and loading it, add_param_group, the
errors), run on ember under mpiexec and on torch's gloo backend, must give the same results on each rank (weights and
states to float tolerance)."""
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
    if isinstance(mine, dict) and isinstance(theirs, dict):
        return mine.keys() == theirs.keys() and all(_close(mine[k], theirs[k]) for k in mine)
    if isinstance(mine, float) and isinstance(theirs, float):
        return math.isclose(mine, theirs, rel_tol=1e-5, abs_tol=1e-6)
    return mine == theirs


def test_zero_matches_torch(tmp_path):
    ours = _results(mpiexec("zero.py", RANKS, "ember", tmp_path, timeout=180), "ember", tmp_path)
    theirs = _results(torch_job("zero.py", RANKS, "torch", tmp_path, timeout=180), "torch", tmp_path)
    for mine, torchs in zip(ours, theirs):
        assert mine.keys() == torchs.keys()
        for key in torchs:
            assert _close(mine[key], torchs[key]), (mine["rank"], key, mine[key], torchs[key])
    assert ours[0]["adam_local_shapes"] != ours[1]["adam_local_shapes"]   # the state really is split
