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


BOOL_CASES = {
    "argmax": lambda L, b: b.argmax(),
    "argmin along a dim": lambda L, b: L.argmin(b, 0, keepdim=True),
    "topk": lambda L, b: b.topk(1),
    "kthvalue": lambda L, b: b.kthvalue(1),
    "trace": lambda L, b: L.stack([b[:2], b[1:]]).trace(),
    "cumsum to bool": lambda L, b: b.cumsum(0, dtype=L.bool),
    "cumsum of ints to bool": lambda L, b: b.long().cumsum(0, dtype=L.bool),
    "cumprod to bool": lambda L, b: b.cumprod(0, dtype=L.bool),
    "mvlgamma": lambda L, b: L.mvlgamma(b, 1),
    "cumsum of bools (int64)": lambda L, b: b.cumsum(0),
    "trace of ints": lambda L, b: L.stack([b[:2], b[1:]]).long().trace(),
}


@pytest.mark.parametrize("name", BOOL_CASES)
def test_bool_inputs_refused_as_torch(name):
    """The kernels PyTorch has no bool loop for refuse bool tensors with its errors (ember computed them)."""
    def run(lib):
        try:
            return BOOL_CASES[name](lib, lib.tensor([True, False, True])).tolist()
        except (RuntimeError, NotImplementedError) as error:
            return type(error).__name__, str(error)
    assert run(ember) == run(torch)
