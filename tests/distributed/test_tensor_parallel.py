"""Tensor parallelism (torch.distributed.tensor.parallel): one program (scripts/tensor_parallel.py) on 2 ranks, run
on ember under mpiexec and on torch's gloo backend, trains a colwise/rowwise MLP and a small sequence-parallel
Transformer with a loss_parallel head (SGD and Adam, float64 and float32) and must give the same losses, parameter
layouts, local parts, whole values, gradients, style reprs, warnings and errors on each rank. Without a job, the
module's names, the styles' reprs and their refusals of mismatched layouts are torch's; examples/tensor_parallel_lm.py
on 2 ranks prints torch's one-process losses."""
import math

import pytest

from .launch import assert_same_results, example_losses_beside_torch, results_beside_torch

pytest.importorskip("torch.distributed")

STYLES = ["ColwiseParallel()", "ColwiseParallel(input_layouts=Shard(1), output_layouts=Replicate(), "
          "use_local_output=False)", "RowwiseParallel()", "RowwiseParallel(output_layouts=Shard(1))",
          "SequenceParallel()", "SequenceParallel(sequence_dim=0, use_local_output=True)",
          "PrepareModuleInput(input_layouts=(Shard(0), None), desired_input_layouts=(Replicate(), None))",
          "PrepareModuleInput(input_kwarg_layouts={'y': Shard(0)}, desired_input_kwarg_layouts={'y': Replicate()})",
          "PrepareModuleOutput(output_layouts=Shard(0), desired_output_layouts=Replicate(), use_local_output=False)",
          "PrepareModuleInputOutput(input_layouts=Shard(0), desired_input_layouts=Replicate(), "
          "output_layouts=Replicate(), desired_output_layouts=Shard(0))"]


def _namespaces():
    import torch.distributed.tensor as their_tensor
    import torch.distributed.tensor.parallel as theirs

    import ember.distributed.tensor as our_tensor
    import ember.distributed.tensor.parallel as ours
    return dict(vars(ours), **vars(our_tensor)), dict(vars(theirs), **vars(their_tensor))


def test_names_match_torch():
    import torch.distributed.tensor.parallel as theirs

    import ember.distributed.tensor.parallel as ours
    assert sorted(ours.__all__) == sorted(theirs.__all__)
    for namespace in _namespaces():
        with pytest.raises(TypeError):
            namespace["ParallelStyle"]()


@pytest.mark.parametrize("made", STYLES)
def test_styles_print_as_torch(made):
    mine, torchs = (eval(made, namespace) for namespace in _namespaces())
    assert repr(mine) == repr(torchs)


def test_tensor_parallel_matches_torch(tmp_path):
    ours, theirs = results_beside_torch("tensor_parallel.py", 2, tmp_path)
    assert_same_results(ours, theirs)
    # the parts really are shards: the colwise layer's rows differ between ranks
    assert ours[0]["mlp_sgd_layouts_after"]["w1.weight"][3] != ours[1]["mlp_sgd_layouts_after"]["w1.weight"][3]


def test_tensor_parallel_on_a_2d_mesh_matches_torch(tmp_path):
    """TP over mesh["tp"] of a 2 x 2 (dp, tp) mesh, with gradients averaged over mesh["dp"] by hand."""
    ours, theirs = results_beside_torch("tensor_parallel_2d.py", 4, tmp_path)
    assert_same_results(ours, theirs)


@pytest.mark.parametrize("made", [
    "PrepareModuleInput(input_layouts=(Shard(0),), desired_input_layouts=(Replicate(), None))",
    "PrepareModuleInput(input_layouts=Shard(0))",
    "PrepareModuleInput(input_kwarg_layouts={'y': Shard(0)})",
    "PrepareModuleOutput(output_layouts=(Shard(0),), desired_output_layouts=(Replicate(), Shard(0)))"])
def test_mismatched_layouts_are_refused_as_torch(made):
    messages = []
    for namespace in _namespaces():
        with pytest.raises(AssertionError) as caught:
            eval(made, namespace)
        messages.append(str(caught.value))
    assert messages[0] == messages[1]


def test_example_trains_as_torch_in_one_process(tmp_path):
    """examples/tensor_parallel_lm.py on 2 ranks prints the losses of the same program on torch in one process."""
    ours, theirs = example_losses_beside_torch("tensor_parallel_lm.py", 2, "--steps", 10, tmp_path=tmp_path)
    assert len(ours) == len(theirs) == 3
    assert all(math.isclose(a, b, rel_tol=1e-5) for a, b in zip(ours, theirs)), (ours, theirs)
    assert theirs[-1] < theirs[0] - 0.5   # it learns
