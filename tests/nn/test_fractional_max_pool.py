"""Fractional max pooling against PyTorch's: values, indices and gradients for given samples (2-d and 3-d, batched
and not, sizes and ratios, both float dtypes), seeded draws picking PyTorch's windows, the modules, and the errors."""
import numpy
import pytest
import torch

import ember

rng = numpy.random.default_rng(0)


def run(lib, n, x, samples, **kwargs):
    inp = lib.tensor(x, requires_grad=True)
    function = getattr(lib.nn.functional, f"fractional_max_pool{n}d_with_indices")
    values, indices = function(inp, _random_samples=None if samples is None else lib.tensor(samples), **kwargs)
    (values * lib.tensor(numpy.arange(values.numel()).reshape(tuple(values.shape)), dtype=values.dtype)).sum() \
        .backward()
    return values.detach().numpy(), indices.numpy(), inp.grad.numpy()


CASES = [
    (2, (2, 3, 10, 9), dict(kernel_size=3, output_size=(5, 4))),
    (2, (2, 3, 12, 12), dict(kernel_size=(2, 3), output_ratio=(0.5, 0.7))),
    (2, (3, 11, 7), dict(kernel_size=2, output_size=6)),
    (2, (1, 2, 9, 9), dict(kernel_size=3, output_size=7)),          # overlapping windows: gradients accumulate
    (3, (2, 2, 8, 9, 7), dict(kernel_size=(3, 2, 2), output_size=(4, 5, 3))),
    (3, (2, 6, 6, 6), dict(kernel_size=2, output_ratio=0.5)),
]


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
@pytest.mark.parametrize("n,shape,kwargs", CASES)
def test_given_samples_give_torchs_values_indices_and_gradients(n, shape, kwargs, dtype):
    x = rng.standard_normal(shape).astype(dtype)
    batch = 1 if len(shape) == n + 1 else shape[0]
    samples = rng.random((batch, shape[-n - 1], n)).astype(dtype)
    ours, theirs = run(ember, n, x, samples, **kwargs), run(torch, n, x, samples, **kwargs)
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape and a.dtype == b.dtype
        numpy.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("n,shape,kwargs", CASES[:2] + CASES[4:5])
def test_seeded_draws_pick_torchs_windows(n, shape, kwargs):
    x = rng.standard_normal(shape).astype(numpy.float32)
    results = []
    for lib in (ember, torch):
        lib.manual_seed(11)
        results.append(run(lib, n, x, None, **kwargs))
    for a, b in zip(*results):
        numpy.testing.assert_array_equal(a, b)


def test_modules_match_torch_and_keep_their_samples():
    x = rng.standard_normal((2, 3, 10, 10)).astype(numpy.float32)
    samples = rng.random((2, 3, 2)).astype(numpy.float32)
    for lib in (ember, torch):
        assert repr(lib.nn.FractionalMaxPool2d(3, output_ratio=0.5)) == "FractionalMaxPool2d()"
    ours = ember.nn.FractionalMaxPool2d(3, output_size=4, return_indices=True, _random_samples=ember.tensor(samples))
    theirs = torch.nn.FractionalMaxPool2d(3, output_size=4, return_indices=True,
                                          _random_samples=torch.tensor(samples))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["_random_samples"]
    for a, b in zip(ours(ember.tensor(x)), theirs(torch.tensor(x))):
        numpy.testing.assert_array_equal(a.numpy(), b.numpy())
    assert ours.kernel_size == theirs.kernel_size and ours.output_size == theirs.output_size
    x3 = rng.standard_normal((1, 2, 6, 6, 6)).astype(numpy.float32)
    for lib in (ember, torch):
        lib.manual_seed(2)
    out = ember.nn.FractionalMaxPool3d(2, output_ratio=(0.5, 0.6, 0.7))(ember.tensor(x3))
    expected = torch.nn.FractionalMaxPool3d(2, output_ratio=(0.5, 0.6, 0.7))(torch.tensor(x3))
    numpy.testing.assert_array_equal(out.numpy(), expected.numpy())


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.FractionalMaxPool2d(3),
    lambda lib: lib.nn.FractionalMaxPool3d(3),
    lambda lib: lib.nn.FractionalMaxPool2d(3, output_size=4, output_ratio=0.5),
    lambda lib: lib.nn.FractionalMaxPool2d(3, output_ratio=1.5),
    lambda lib: lib.nn.functional.fractional_max_pool2d(lib.zeros(1, 2, 8, 8), 3),
])
def test_module_and_argument_errors_match_torch(make):
    with pytest.raises(ValueError) as theirs:
        make(torch)
    with pytest.raises(ValueError) as ours:
        make(ember)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("call", [
    lambda F, lib: F.fractional_max_pool2d(lib.zeros(2, 3, 10, 9), 3, output_size=9),
    lambda F, lib: F.fractional_max_pool2d(lib.zeros(2, 3, 10, 9), 3, output_size=(4, 8)),
    lambda F, lib: F.fractional_max_pool3d(lib.zeros(2, 3, 10, 9, 8), 3, output_size=(8, 2, 2)),
    lambda F, lib: F.fractional_max_pool3d(lib.zeros(2, 3, 10, 9, 8), 3, output_size=(7, 2, 6)),
    lambda F, lib: F.fractional_max_pool2d(lib.zeros(2, 3, 10, 9), 3, output_size=4,
                                           _random_samples=lib.zeros(1, 3, 2)),
    lambda F, lib: F.fractional_max_pool2d(lib.zeros(2, 3, 10, 9), 3, output_size=4,
                                           _random_samples=lib.zeros(2, 3, 3)),
    lambda F, lib: F.fractional_max_pool2d(lib.zeros(2, 3, 10, 9), (3, 3, 3), output_size=4),
])
def test_runtime_errors_match_torch(call):
    with pytest.raises(RuntimeError) as theirs:
        call(torch.nn.functional, torch)
    with pytest.raises(RuntimeError) as ours:
        call(ember.nn.functional, ember)
    assert str(ours.value) == str(theirs.value)
