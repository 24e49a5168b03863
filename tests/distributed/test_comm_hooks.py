"""DistributedDataParallel's communication hooks: one program on 2 ranks (no hook, the default hooks, fp16
compression and its wrapper, the no-op, PowerSGD over four steps, a built-in hook, a user's hook recording its
buckets, the registration errors), run on ember under mpiexec and on torch's gloo backend, must give the same results
on each rank (gradients to float tolerance: the local backward rounds as ember's kernels do)."""
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


def test_hooks_give_torchs_gradients_buckets_and_errors(tmp_path):
    ours = _results(mpiexec("comm_hooks.py", RANKS, "ember", tmp_path, timeout=180), "ember", tmp_path)
    theirs = _results(torch_job("comm_hooks.py", RANKS, "torch", tmp_path, timeout=180), "torch", tmp_path)
    for mine, torchs in zip(ours, theirs):
        assert mine.keys() == torchs.keys()
        for key in torchs:
            assert _close(mine[key], torchs[key]), (mine["rank"], key, mine[key], torchs[key])
    assert ours[0]["noop"] != ours[1]["noop"] and ours[0]["fp16"] == ours[1]["fp16"]


def test_futures_annotate_as_torchs():
    import typing

    import ember
    assert typing.get_origin(ember.futures.Future[ember.Tensor]) is ember.futures.Future
    assert ember.futures.Future[ember.Tensor] == ember.futures.Future[ember.Tensor]
