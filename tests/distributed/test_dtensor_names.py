"""torch.distributed.tensor's names without a job: placement values print, compare and hash as PyTorch's, and DTensor
is a Tensor subclass no plain tensor or parameter is an instance of (tests/distributed/test_dtensor.py runs it)."""
import pytest
import torch
import torch.distributed.tensor as theirs
import torch.distributed.tensor.placement_types as their_types

import ember
import ember.distributed.tensor as ours
import ember.distributed.tensor.placement_types as our_types

PLACEMENTS = ["Shard(0)", "Shard(2)", "Replicate()", "Partial()", "Partial('max')", "_StridedShard(1, split_factor=2)",
              "_MaskPartial(offset_shape=(4, 2), offset_dim=0)"]


@pytest.mark.parametrize("made", PLACEMENTS)
def test_placements_print_and_answer_as_torch(made):
    mine, torchs = eval(made, vars(our_types)), eval(made, vars(their_types))
    assert (repr(mine), str(mine)) == (repr(torchs), str(torchs))
    questions = ("is_shard()", "is_shard(0)", "is_shard(1)", "is_replicate()", "is_partial()", "is_partial('sum')")
    assert [eval(f"p.{q}", {"p": mine}) for q in questions] == [eval(f"p.{q}", {"p": torchs}) for q in questions]


def test_placements_compare_and_hash_as_torch():
    for lib in (our_types, their_types):
        assert lib.Shard(1) == lib.Shard(1) and lib.Shard(1) != lib.Shard(0) and lib.Shard(0) != lib.Replicate()
        assert hash(lib.Shard(1)) == hash(lib.Shard(1)) and len({lib.Replicate(), lib.Replicate()}) == 1
        assert lib.Partial() == lib.Partial("sum") != lib.Partial("max")
        assert isinstance(lib.Shard(0), lib.Placement) and isinstance(lib.Partial(), lib.Placement)
    assert set(ours.__all__) <= set(theirs.__all__)


def test_no_tensor_is_a_dtensor():
    for lib, module in ((ember, ours), (torch, theirs)):
        assert issubclass(module.DTensor, lib.Tensor)
        values = [lib.ones(2), lib.nn.Parameter(lib.ones(2)), lib.nn.Linear(2, 2).weight]
        assert not any(isinstance(v, module.DTensor) for v in values)
