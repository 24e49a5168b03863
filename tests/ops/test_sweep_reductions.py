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


@pytest.mark.parametrize("name", ["all", "any"])
@pytest.mark.parametrize("dim", [(), [], None, 0, (0, 1)])
def test_all_any_over_an_empty_dim_list_reduce_nothing(name, dim):
    """``all``/``any`` with ``dim=()`` test each element (PyTorch's ``all.dims``), keeping uint8 for uint8 input;
    ``sum`` and the others still reduce everything there."""
    results = []
    for lib in (torch, ember):
        row = []
        for x in (lib.tensor([[1, 0, 2], [0, 0, 3]], dtype=lib.uint8), lib.tensor([[0.5, 0.0]]), lib.ones(2, 0)):
            for keepdim in (False, True):
                kwargs = {} if dim is None else {"dim": dim, "keepdim": keepdim}
                r = getattr(lib, name)(x, **kwargs)
                row += [str(r.dtype).split(".")[1], r.tolist(), getattr(x, name)(**kwargs).tolist()]
        row.append(lib.sum(lib.ones(2, 3), dim=()).tolist())
        results.append(row)
    assert results[0] == results[1]
