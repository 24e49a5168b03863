"""Tensor.new, sum_to_size, cumsum_/cumprod_, hardshrink/prelu methods and the predicates is_same_size, is_signed,
get_device against PyTorch."""
import numpy
import pytest
import torch

import ember

from ..oracle import check, check_error, sample


@pytest.mark.parametrize("args", [([1, 2],), ([[1.5, 2], [3, 4]],), ((2, 3),), ()])
@pytest.mark.parametrize("dtype", [numpy.float32, numpy.int64, numpy.float64])
def test_new_copies_data_in_self_dtype(args, dtype):
    check(lambda L, x: x.new(*args), numpy.ones(2, dtype), grad=False)


@pytest.mark.parametrize("size", [(2, 3), (0,), (4,)])
def test_new_allocates_shapes(size):
    for shape in (size, (ember.Size(size),)):
        made = ember.ones(2, dtype=ember.float64).new(*shape)
        assert tuple(made.shape) == size and made.dtype is ember.float64 and not made.requires_grad
    assert ember.ones(1).new(2, 3, device="cpu").device == ember.device("cpu")


def test_new_from_tensor_and_errors():
    x = ember.ones(3)
    other = ember.arange(3.0)
    assert x.new(other).tolist() == [0.0, 1.0, 2.0]
    check_error(lambda L, x, y: x.new(y), numpy.ones(2, numpy.float32), numpy.ones(2, numpy.int64))
    check_error(lambda L, x: x.new(3.5), numpy.ones(2))
    check_error(lambda L, x: x.new(2, dtype=L.int64), numpy.ones(2))


@pytest.mark.parametrize("shape, size", [((2, 3), (1, 3)), ((2, 3), (3,)), ((2, 3), (2, 1)), ((2, 3), (1, 1)),
                                         ((4, 1, 3), (1, 3)), ((2, 3), (2, 3)), ((), ()), ((5,), (1,))])
@pytest.mark.parametrize("dtype", [numpy.float64, numpy.int32])
def test_sum_to_size_matches_torch(shape, size, dtype):
    check(lambda L, x: x.sum_to_size(*size) if size else x.sum_to_size(size), sample(shape, dtype))
    check(lambda L, x: x.sum_to_size(L.Size(size)), sample(shape, dtype), grad=False)


@pytest.mark.parametrize("size", [(4, 3), (1, 2, 3), (2,)])
def test_sum_to_size_errors(size):
    check_error(lambda L, x: x.sum_to_size(*size), numpy.ones((2, 3)))
    check_error(lambda L, x: x.sum_to_size(), numpy.ones((2, 3)))


@pytest.mark.parametrize("name", ["cumsum_", "cumprod_"])
@pytest.mark.parametrize("dtype", [numpy.float32, numpy.int32, numpy.uint8, numpy.float64])
def test_inplace_cumulative_keeps_dtype(name, dtype):
    def run(L, x):
        y = x * 1
        return getattr(y, name)(1), y
    check(run, sample((3, 4), dtype, low=0))
    check(lambda L, x: getattr(x * 1, name)(0, dtype=x.dtype), sample((3,), dtype, low=0), grad=False)
    check_error(lambda L, x: getattr(x, name)(0, dtype=L.float64 if x.dtype != L.float64 else L.float32),
                sample((3,), dtype, low=0))


def test_hardshrink_and_prelu_methods():
    x = sample((2, 3, 4), numpy.float64)
    check(lambda L, x: x.hardshrink(), x)
    check(lambda L, x: x.hardshrink(1.5), x)
    check(lambda L, x, w: x.prelu(w), x, numpy.array([0.25, -0.5, 2.0]))
    check(lambda L, x, w: x.prelu(w), x, numpy.array([0.1]))


def test_predicates_match_torch():
    for a, b in [((2,), (2, 1)), ((2, 3), (2, 3)), ((), ())]:
        check(lambda L, x, y: (x.is_same_size(y), L.is_same_size(x, y)), numpy.ones(a), numpy.ones(b), grad=False)
    check_error(lambda L, x: x.is_same_size(3), numpy.ones(2))
    for dtype in (numpy.uint8, numpy.int8, numpy.float32, numpy.bool_, numpy.complex64):
        check(lambda L, x: (L.is_signed(x), x.is_signed(), L.get_device(x)), numpy.ones(2, dtype), grad=False)


def test_is_inference_matches_torch():
    def run(L):
        outside = L.ones(2)
        with L.inference_mode():
            made, computed, view_of_outside, item_of_outside = L.ones(2), outside * 2, outside.view(2), outside[0]
            with L.inference_mode(False):
                nested = L.ones(1)
        with L.no_grad():
            under_no_grad = L.ones(1)
        tensors = [outside, made, computed, view_of_outside, item_of_outside, nested, under_no_grad, made.view(2),
                   made[0], made + 1]
        return [t.is_inference() for t in tensors] + [L.is_inference(made), L.is_inference(outside)]
    ours, theirs = run(ember), run(torch)
    assert ours == theirs
    assert not ember.is_inference_mode_enabled()


def test_frombuffer_shares_memory_and_matches_torch():
    import array
    for kwargs in ({}, {"count": 2, "offset": 2}):
        check(lambda L, k=kwargs: L.frombuffer(bytearray(b"\x01\x00\x02\x00\x03\x00"), dtype=L.int16, **k),
              grad=False)
    data = bytearray(b"\x01\x02")
    made = ember.frombuffer(data, dtype=ember.uint8)
    made[0] = 9
    assert data[0] == 9
    floats = ember.frombuffer(array.array("f", [1.0, 2.0]), dtype=ember.float32, requires_grad=True)
    assert floats.requires_grad and floats.tolist() == [1.0, 2.0]
    with pytest.warns(UserWarning, match="not writable"):
        assert ember.frombuffer(b"ab", dtype=ember.uint8).tolist() == [97, 98]


@pytest.mark.parametrize("kwargs", [{"dtype": "int32"}, {"offset": 6}, {"count": 5}, {"count": 0}])
def test_frombuffer_errors(kwargs):
    def run(L):
        options = dict({"dtype": "int16"}, **kwargs)
        options["dtype"] = getattr(L, options["dtype"])
        return L.frombuffer(bytearray(6), **options)
    check_error(run)
    check_error(lambda L: L.frombuffer(bytearray(), dtype=L.int16))


def test_apply_and_map_match_torch():
    check(lambda L, x: x.clone().apply_(lambda v: v * 2.7), sample((2, 3), numpy.int64), grad=False)
    check(lambda L, x: x.clone().apply_(lambda v: v * v - 1), sample((2, 3)), grad=False)
    check(lambda L, x, y: x.clone().map_(y, lambda a, b: a * 10 + b), sample((2, 3)), sample((3,), seed=1),
          grad=False)
    check_error(lambda L, x: x.requires_grad_().apply_(abs), numpy.ones(2))


def test_typename_and_is_conj_match_torch():
    for make in (lambda L: L.ones(2), lambda L: L.ones(2, dtype=L.long), lambda L: 3, lambda L: L.nn.Linear(1, 1),
                 lambda L: L.nn.Linear):
        assert ember.typename(make(ember)).replace("ember", "torch") == torch.typename(make(torch))
    assert ember.is_conj(ember.ones(2)) is torch.is_conj(torch.ones(2))


def test_assert_async_raises_as_torch_on_the_cpu():
    # kornia's class-label check: torch._assert_async(low >= 0, "Class values must be non-negative.")
    samples = [((True,), {}), ((False,), {}), ((False, "msg x"), {}), ((0.0,), {}), ((2,), {}), ((float("nan"),), {}),
               (([1, 1],), {}), (([],), {}), ((1 + 0j,), {}), ((0j,), {})]
    for (value, *rest), _ in samples:
        outcomes = []
        for lib in (torch, ember):
            try:
                outcomes.append(lib._assert_async(lib.tensor(value), *rest))
            except RuntimeError as error:
                outcomes.append(str(error))
        assert outcomes[0] == outcomes[1], value
