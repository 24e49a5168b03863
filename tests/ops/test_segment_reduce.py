"""``segment_reduce`` / ``_segment_reduce`` (PyTorch Geometric's ``segment`` and ``softmax(ptr=)``) against torch:
values with empty segments, ``initial`` and offsets that skip elements, gradients (ties, zeros in products), the
batched form along a later axis, and the argument errors."""
import numpy
import pytest
import torch

import ember

DATA = {"random": numpy.random.default_rng(0).standard_normal((6, 3)),
        "ties_zeros": numpy.array([[0., 5], [3, 0], [0, 6], [2, 2], [1, 1], [4, 4]])}
SEGMENTS = [{"lengths": [2, 0, 4]}, {"offsets": [0, 2, 2, 6]}, {"lengths": [3, 3], "initial": 2.0},
            {"offsets": [1, 3, 5]}, {"lengths": [6], "initial": -1.5}]


@pytest.mark.parametrize("reduce", ["sum", "mean", "max", "min", "prod", "amax", "amin"])
@pytest.mark.parametrize("data", list(DATA))
def test_values_and_gradients_match_torch(reduce, data):
    for segments in SEGMENTS:
        results = []
        for lib in (torch, ember):
            x = lib.tensor(DATA[data], requires_grad=True)
            kwargs = {k: lib.tensor(v) if isinstance(v, list) else v for k, v in segments.items()}
            out = lib.segment_reduce(x, reduce, **kwargs)
            weights = lib.arange(out.numel(), dtype=out.dtype).view(out.shape)
            grad, = lib.autograd.grad((out.nan_to_num(0, 0, 0) * weights).sum(), x)
            results.append((out.detach().numpy(), grad.numpy(), type(out.grad_fn).__name__))
        numpy.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-12)
        numpy.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-12)
        assert results[1][2] == results[0][2] == "SegmentReduceBackward0"


def test_axis_dtypes_and_aten_name():
    for kwargs in ({"lengths": [[2, 4], [3, 3]]}, {"offsets": [[0, 2, 6], [0, 3, 6]]}):
        outs = [lib.segment_reduce(lib.arange(24.).view(2, 6, 2), "max", axis=1,
                                   **{k: lib.tensor(v) for k, v in kwargs.items()}) for lib in (torch, ember)]
        assert outs[0].tolist() == outs[1].tolist()
    for lib in (torch, ember):
        out = lib._segment_reduce(lib.ones(4, dtype=lib.float16), "sum", offsets=lib.tensor([0, 1, 4], dtype=lib.int32))
        assert out.tolist() == [1.0, 3.0] and out.dtype == lib.float16
        unsafe = lib.segment_reduce(lib.arange(12.).view(6, 2), "sum", lengths=lib.tensor([2, 3]), unsafe=True)
        assert unsafe.tolist() == [[2.0, 4.0], [18.0, 21.0]]


def _error(lib, data, reduce, **kwargs):
    try:
        lib.segment_reduce(data(lib), reduce, **{k: v(lib) for k, v in kwargs.items()})
    except Exception as error:
        return type(error).__name__, str(error)
    return None


@pytest.mark.parametrize("reduce,kwargs", [
    ("sum", {"lengths": lambda L: L.tensor([2, 3])}), ("sum", {"lengths": lambda L: L.tensor([2, -1, 5])}),
    ("sum", {}), ("sum", {"indices": lambda L: L.tensor([0, 0, 1, 1, 1, 1])}),
    ("sum", {"lengths": lambda L: L.tensor([2., 4])}), ("foo", {"lengths": lambda L: L.tensor([2, 4])})])
def test_errors_match_torch(reduce, kwargs):
    def data(lib):
        return lib.arange(12.).view(6, 2)
    assert _error(ember, data, reduce, **kwargs) == _error(torch, data, reduce, **kwargs) is not None
    assert _error(ember, lambda L: L.arange(6), "sum", lengths=lambda L: L.tensor([2, 4])) == \
        _error(torch, lambda L: L.arange(6), "sum", lengths=lambda L: L.tensor([2, 4]))
