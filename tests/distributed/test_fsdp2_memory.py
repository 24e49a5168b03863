"""FSDP2 frees gathered parameters after forward: one program (scripts/fsdp2_memory.py) trains four Linear layers
sharded with reshard_after_forward True, False and (on 4 ranks) 2, on ember under mpiexec and on torch's gloo; the
gradients, shards and losses must be torch's on every rank, and ember's live bytes (tracemalloc) must show one
layer's whole parameters at a time in forward, none kept after it, and a backward peak of one layer's parameters
and gradient beside the sharded gradients; computing with a freed parameter raises."""
import pytest

from .launch import assert_same_results, results_beside_torch

pytest.importorskip("torch.distributed")


@pytest.mark.parametrize("ranks", [2, 4])
def test_resharding_after_forward_frees_the_gathered_parameters(tmp_path, ranks):
    ours, theirs = results_beside_torch("fsdp2_memory.py", ranks, tmp_path)
    memories = [{k[6:]: mine.pop(k) for k in list(mine) if k.startswith("ember_")} for mine in ours]
    assert_same_results(ours, theirs)
    for memory in memories:
        resharded, kept = memory["resharded"], memory["kept"]
        assert memory["freed_use"] == "RuntimeError"   # not zeros: the storage is gone until gathered again
        layer, layers = resharded["layer"], len(resharded["at_layers"])
        activations = resharded["after_forward"]
        assert activations < layer / 4   # the four layers' outputs, no parameters
        # in forward, each layer's own gathered parameters and the activations so far, never an earlier layer's
        assert all(layer <= alive < layer + activations for alive in resharded["at_layers"])
        sharded_grads = layers * layer / ranks
        # (and an eighth of a layer for small temporaries: the bias gradients' sums in PyTorch's order of adds)
        assert resharded["backward_peak"] < activations + sharded_grads + 3 * layer + layer / 8
        # the same measure sees every layer kept whole without resharding
        assert kept["after_forward"] > layers * layer
        assert kept["at_layers"][-1] > layers * layer
        if ranks == 4:   # kept sharded over pairs of ranks: half of each layer
            pairs = memory["to_pairs"]
            assert layers * layer / 2 <= pairs["after_forward"] < layers * layer / 2 + 2 * activations
