"""DTensor through indexing, scans, sorts, selections, flip/roll, in-place indexing and a convolution's strategy:
one program (scripts/dtensor_index.py) run on ember under mpiexec and on torch's gloo backend must give the same
output placements and whole values, the same errors, and the same whole gradients on each rank (2 ranks); on 3
ranks (uneven and empty shards; torch's DTensor desynchronizes there) ember's whole values, errors and gradients
must still be torch's of 2 ranks, which do not depend on the layout."""
import json

import pytest

from .launch import assert_same_results, mpiexec, ok, results_beside_torch, torch_job

pytest.importorskip("torch.distributed")


def test_dtensor_indexing_scans_and_sorts_match_torch(tmp_path):
    ours, theirs = results_beside_torch("dtensor_index.py", 2, tmp_path)
    assert_same_results(ours, theirs)


def _without_layout(value):
    """A record without its placements (they depend on the number of ranks)."""
    if isinstance(value, list):
        return [_without_layout(v) for v in value if not (isinstance(v, str) and v.startswith("("))]
    return value


def test_dtensor_indexing_values_on_three_ranks_match_torch(tmp_path):
    ok(mpiexec("dtensor_index.py", 3, "ember", tmp_path, timeout=180), 3)
    ok(torch_job("dtensor_index.py", 2, "torch", tmp_path, timeout=180), 2)
    theirs = json.loads((tmp_path / "torch-0.json").read_text())
    theirs = {k: _without_layout(v) for k, v in theirs.items() if k != "rank"}
    for rank in range(3):
        ours = json.loads((tmp_path / f"ember-{rank}.json").read_text().replace("ember.", "torch."))
        assert_same_results([{k: _without_layout(v) for k, v in ours.items() if k != "rank"} | {"rank": rank}],
                            [theirs | {"rank": rank}])
