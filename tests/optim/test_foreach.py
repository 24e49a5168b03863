"""The foreach path: bit-equal to the per-parameter path, and stepped beside torch.optim's ``foreach=True``."""
import numpy
import pytest
import torch

import ember
from ember.optim import _foreach
from tests.oracle import as_numpy, dtype_name
from tests.optim.test_optim import CASES

# packed small ones of two dtypes, a 0-d one, one too large to pack, and a transposed (non-contiguous) one
SHAPES = [((5, 3), "float32"), ((3,), "float32"), ((), "float32"), ((4, 2), "float64"), ((7,), "float64"),
          ((_foreach.PACK_LIMIT + 3,), "float32"), ((2, 6), "float32")]


def _values(seed):
    rng = numpy.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(dtype) for shape, dtype in SHAPES]


def _make_params(lib, values):
    params = [lib.nn.Parameter(lib.tensor(v)) for v in values[:-1]]
    # a parameter whose storage is transposed
    last = lib.tensor(numpy.ascontiguousarray(values[-1].T)).t()
    return params + [lib.nn.Parameter(last) if lib is torch else _transposed_parameter(last)]


def _transposed_parameter(tensor):
    param = ember.nn.Parameter(tensor.detach().clone())
    param._data = param._data.T.copy().T   # same values, Fortran-ordered storage
    return param


def _run(lib, name, options, foreach, steps=12):
    params = _make_params(lib, _values(0))
    opt = getattr(lib.optim, name)(params, **options, **({} if foreach == "omit" else {"foreach": foreach}))
    for step in range(steps):
        for i, (p, g) in enumerate(zip(params, _values(100 + step))):
            # some parameters miss some steps, so their step counts differ and they land in separate buckets
            skip = (i + step) % 5 == 0
            p.grad = None if skip else lib.tensor(g if p.shape == g.shape else numpy.ascontiguousarray(g))
        opt.step()
    return params, opt


@pytest.mark.parametrize("name,options", CASES)
def test_foreach_is_bit_equal_to_the_loop_and_matches_torch_foreach(name, options, monkeypatch):
    for foreach in ("omit", True):
        if foreach is True:   # the loop of the foreach form (PyTorch's multi-tensor NAdam and RAdam reorder ops)
            with monkeypatch.context() as unpacked:
                unpacked.setattr(_foreach, "PACK_LIMIT", -1)
                loop_params, loop_opt = _run(ember, name, options, True)
        else:
            loop_params, loop_opt = _run(ember, name, options, False)
        params, opt = _run(ember, name, options, foreach)
        for p, q in zip(params, loop_params):
            assert p.dtype == q.dtype
            numpy.testing.assert_array_equal(as_numpy(p), as_numpy(q), strict=True)
        state, loop_state = opt.state_dict()["state"], loop_opt.state_dict()["state"]
        assert list(state) == list(loop_state)
        for index, entry in loop_state.items():
            assert list(state[index]) == list(entry)
            for key, value in entry.items():
                numpy.testing.assert_array_equal(as_numpy(state[index][key]), as_numpy(value), strict=True)
    t_params, t_opt = _run(torch, name, options, True)
    for p, t in zip(params, t_params):
        # torch's foreach ASGD multiplies by its float32 eta tensor, its loop by the Python float (as ember)
        tolerance = 1e-5 if p.dtype == ember.float32 else 1e-7 if name == "ASGD" else 1e-10
        numpy.testing.assert_allclose(as_numpy(p), as_numpy(t), rtol=tolerance, atol=tolerance)
    e_state, t_state = opt.state_dict(), t_opt.state_dict()
    assert e_state["param_groups"] == t_state["param_groups"]
    assert list(e_state["state"]) == list(t_state["state"])
    for index, t_entry in t_state["state"].items():
        e_entry = e_state["state"][index]
        assert list(e_entry) == list(t_entry)
        for key, value in t_entry.items():
            assert (dtype_name(e_entry[key]), e_entry[key].shape) == (dtype_name(value), value.shape)
            # float32 sums of 12 steps over 32k elements: a few elements near zero differ in the last digits
            numpy.testing.assert_allclose(as_numpy(e_entry[key]), as_numpy(value), rtol=1e-4, atol=1e-5)

def test_foreach_keeps_state_tensors_and_parameter_storage(monkeypatch):
    buckets, packed_update = [], _foreach._packed_update
    monkeypatch.setattr(_foreach, "_packed_update", lambda *args: buckets.append(len(args[2])) or packed_update(*args))
    params = [ember.nn.Parameter(ember.randn(3, 2)) for _ in range(3)]
    storages = [p._data for p in params]
    opt = ember.optim.SGD(params, lr=0.1, momentum=0.9, foreach=True)
    for p in params:
        p.grad = ember.ones_like(p)
    opt.step()
    buffers = [opt.state[p]["momentum_buffer"] for p in params]
    versions = [p._version for p in params]
    opt.step()
    assert all(p._data is s for p, s in zip(params, storages))
    assert all(opt.state[p]["momentum_buffer"] is b for p, b in zip(params, buffers))
    assert [p._version for p in params] == [v + 1 for v in versions]
    assert buckets == [3, 3]   # one packed update of the three parameters per step
    # each buffer owns its memory: changing one leaves the others alone
    buffers[0].zero_()
    assert float(buffers[1].abs().sum()) > 0


def test_group_tensors_by_device_and_dtype_as_pytorch():
    """The static helper foreach optimizers outside torch (timm's ADOPT) call to bucket their tensor lists."""
    def groups(lib, with_indices):
        a = [lib.ones(2), lib.ones(2, dtype=lib.float64), lib.full((3,), 2.0)]
        b = [lib.zeros(2), None, lib.zeros(3)]
        out = lib.optim.Optimizer._group_tensors_by_device_and_dtype([a, b], with_indices=with_indices)
        return {(str(device), str(dtype).split(".")[-1]): ([[None if t is None else t.tolist() for t in column]
                                                             for column in lists], indices)
                for (device, dtype), (lists, indices) in out.items()}
    for with_indices in (False, True):
        assert groups(ember, with_indices) == groups(torch, with_indices)
