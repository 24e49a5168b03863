"""FullyShardedDataParallel's HYBRID_SHARD and _HYBRID_SHARD_ZERO2: one program (scripts/fsdp_hybrid.py) on 4 ranks
(two "nodes" of two) must give torch's gloo results on every rank: sharded within a node, gradients reduce-scattered
there and all-reduced across nodes, for a 2-D DeviceMesh or a pair of process groups, with no_sync, clipping, full
state dicts, optimizer state dicts and PyTorch's errors; and the replicas' shards agree."""
import pytest

from .launch import assert_same_results, results_beside_torch

pytest.importorskip("torch.distributed")


def test_hybrid_strategies_match_torch(tmp_path):
    ours, theirs = results_beside_torch("fsdp_hybrid.py", 4, tmp_path)
    assert_same_results(ours, theirs)
    assert ours[0]["hybrid_params"] == ours[2]["hybrid_params"] != ours[1]["hybrid_params"]
