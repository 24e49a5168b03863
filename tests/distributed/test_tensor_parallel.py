"""Tensor parallelism (torch.distributed.tensor.parallel): one program (scripts/tensor_parallel.py) on 2 ranks, run
on ember under mpiexec and on torch's gloo backend, trains a colwise/rowwise MLP and a small sequence-parallel
Transformer with a loss_parallel head (SGD and Adam, float64 and float32) and must give the same losses, parameter
layouts, local parts, whole values, gradients, style reprs, warnings and errors on each rank. Without a job, the
module's names, the styles' reprs and their refusals of mismatched layouts are torch's; examples/tensor_parallel_lm.py
on 2 ranks prints torch's one-process losses."""
import math
import sys

import pytest

from .launch import MPIEXEC, REPO, _free_port, assert_same_results, require_mpi, results_beside_torch, run

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


def _losses(result):
    assert result.returncode == 0, result.stdout + result.stderr
    return [float(line.split()[-1]) for line in result.stdout.splitlines() if line.startswith("step ")]


def test_example_trains_as_torch_in_one_process(tmp_path):
    """examples/tensor_parallel_lm.py on 2 ranks prints the losses of the same program on torch in one process."""
    require_mpi()
    example = REPO / "examples" / "tensor_parallel_lm.py"
    ours = _losses(run([str(MPIEXEC), "-n", "2", sys.executable, str(example), "--steps", "10"], timeout=120))
    on_torch = tmp_path / "tensor_parallel_lm.py"
    on_torch.write_text(example.read_text().replace("import ember as torch", "import torch")
                        .replace("ember.", "torch."))
    theirs = _losses(run(["env", "RANK=0", "WORLD_SIZE=1", "MASTER_ADDR=127.0.0.1", f"MASTER_PORT={_free_port()}",
                          sys.executable, str(on_torch), "--steps", "10"], timeout=120))
    assert len(ours) == len(theirs) == 3
    assert all(math.isclose(a, b, rel_tol=1e-5) for a, b in zip(ours, theirs)), (ours, theirs)
    assert theirs[-1] < theirs[0] - 0.5   # it learns
