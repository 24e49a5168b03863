"""Reductions where a differential sweep against PyTorch 2.13 found ember differing: each case runs on both."""
import pytest
import torch

import ember


@pytest.mark.parametrize("n", [5, 17, 40, 300, 2000])
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "int64", "uint8", "bool"])
def test_mode_picks_ties_and_nans_as_torch(n, dtype):
    """``mode`` reports the index PyTorch's CPU kernel ends the mode's run on (its ``std::sort`` by ``<`` moves
    ties), and with NaNs (unordered there, each a run of its own) the value it picks too, along either dim."""
    results = []
    for lib in (torch, ember):
        keys = lib.randint(0, 7, (3, n), generator=lib.Generator().manual_seed(n)).to(getattr(lib, dtype))
        if dtype.startswith(("float", "bfloat")):
            keys[:, ::5] = float("nan")
            keys[0, 1::3] = float("nan")
        row = []
        for x, dim in ((keys, 1), (keys.t(), 0), (keys[:, :4], -1)):
            values, indices = lib.mode(x, dim)
            row += [values.double().nan_to_num(-9.0).tolist(), indices.tolist()]
        results.append(row)
    assert results[0] == results[1]
