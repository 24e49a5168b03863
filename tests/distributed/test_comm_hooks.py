"""DistributedDataParallel's communication hooks: one program on 2 ranks (no hook, the default hooks, fp16
compression and its wrapper, the no-op, PowerSGD over four steps, a built-in hook, a user's hook recording its
buckets, the registration errors), run on ember under mpiexec and on torch's gloo backend, must give the same results
on each rank (gradients to float tolerance: the local backward rounds as ember's kernels do)."""
import pytest

from .launch import assert_same_results, results_beside_torch

pytest.importorskip("torch.distributed")


def test_hooks_give_torchs_gradients_buckets_and_errors(tmp_path):
    ours, theirs = results_beside_torch("comm_hooks.py", 2, tmp_path)
    assert_same_results(ours, theirs)
    assert ours[0]["noop"] != ours[1]["noop"] and ours[0]["fp16"] == ours[1]["fp16"]


def test_futures_annotate_as_torchs():
    import typing

    import ember
    assert typing.get_origin(ember.futures.Future[ember.Tensor]) is ember.futures.Future
    assert ember.futures.Future[ember.Tensor] == ember.futures.Future[ember.Tensor]
