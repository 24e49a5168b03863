"""Right answers on non-finite, empty and huge inputs, checked against torch: pooling windows of -inf, ignored
targets holding NaN logits, unique with NaN, reductions without NumPy warnings, and repr of huge tensors."""
import tracemalloc

import numpy
import pytest
import torch

import ember


# --- repr -----------------------------------------------------------------------------------------------------
def test_repr_of_an_expanded_billion_elements_reads_only_the_edges():
    tracemalloc.start()
    try:
        text = repr(ember.zeros(1).expand(10**9))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert text == repr(torch.zeros(1).expand(10**9)).replace("torch", "ember")
    assert peak < 1 << 20


@pytest.mark.parametrize("shape", [(2000,), (40, 50), (3, 700), (5, 4, 300), (1, 1001)])
@pytest.mark.parametrize("dtype", ["float32", "float16", "int64", "complex64", "bool"])
def test_summarized_repr_matches_torch(shape, dtype):
    values = numpy.random.default_rng(0).standard_normal(shape) * 100
    values[..., 0] = numpy.inf
    t = torch.tensor(values).to(getattr(torch, dtype))
    e = ember.tensor(values).to(getattr(ember, dtype))
    assert repr(e) == repr(t).replace("torch", "ember")


def test_repr_of_a_large_tensor_copies_only_the_edges():
    big = ember.zeros(2000, 2000)
    tracemalloc.start()
    try:
        repr(big)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20  # the old path widened all 16 MB to float64 first


# --- max pooling over windows whose real elements are all -inf ----------------------------------------------
@pytest.mark.parametrize("n, shape, options", [
    (1, (2, 3, 7), {"kernel_size": 2, "stride": 2, "padding": 1}),
    (1, (1, 2, 9), {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2, "ceil_mode": True}),
    (2, (2, 2, 5, 6), {"kernel_size": 3, "stride": 2, "padding": 1}),
    (2, (1, 1, 7, 7), {"kernel_size": (2, 3), "stride": (2, 1), "padding": (1, 1), "ceil_mode": True}),
    (3, (1, 1, 4, 5, 5), {"kernel_size": 2, "stride": 2, "padding": 1}),
])
def test_max_pool_with_padding_over_minus_inf_matches_torch(n, shape, options):
    values = numpy.random.default_rng(1).standard_normal(shape)
    values[numpy.random.default_rng(2).random(shape) < 0.6] = -numpy.inf
    values.reshape(-1)[::7] = numpy.nan if n == 2 else -numpy.inf
    t = torch.tensor(values, requires_grad=True)
    e = ember.tensor(values, requires_grad=True)
    pool_t = getattr(torch.nn.functional, f"max_pool{n}d")
    pool_e = getattr(ember.nn.functional, f"max_pool{n}d")
    out_t, index_t = pool_t(t, return_indices=True, **options)
    out_e, index_e = pool_e(e, return_indices=True, **options)
    numpy.testing.assert_array_equal(numpy.asarray(out_e.detach()), out_t.detach().numpy())
    numpy.testing.assert_array_equal(numpy.asarray(index_e), index_t.numpy())
    out_t.sum().backward()
    out_e.sum().backward()
    numpy.testing.assert_array_equal(numpy.asarray(e.grad), t.grad.numpy())


# --- reductions and the softmax family: torch's values, no NumPy warnings (pytest makes warnings errors) ------
_INPUTS = [[numpy.inf, -numpy.inf, 1.0], [numpy.nan, 1.0], [numpy.inf, numpy.inf], [-numpy.inf, -numpy.inf],
           [1e308, 1e308], [[numpy.inf, 0.5], [-numpy.inf, -numpy.inf]]]
_OPS = {
    "sum": lambda lib, x: x.sum(), "mean": lambda lib, x: x.mean(), "std": lambda lib, x: x.std(),
    "var": lambda lib, x: x.var(), "prod": lambda lib, x: x.prod(), "logsumexp": lambda lib, x: x.logsumexp(-1),
    "softmax": lambda lib, x: lib.nn.functional.softmax(x, -1),
    "log_softmax": lambda lib, x: lib.nn.functional.log_softmax(x, -1),
    "softmin": lambda lib, x: lib.nn.functional.softmin(x, -1), "cumsum": lambda lib, x: x.cumsum(-1),
    "cumprod": lambda lib, x: x.cumprod(-1), "nansum": lambda lib, x: x.nansum(), "amax": lambda lib, x: x.amax(),
    "std_mean": lambda lib, x: lib.std_mean(x)[0], "gelu": lambda lib, x: lib.nn.functional.gelu(x),
    "silu": lambda lib, x: lib.nn.functional.silu(x), "softplus": lambda lib, x: lib.nn.functional.softplus(x),
    "layer_norm": lambda lib, x: lib.nn.functional.layer_norm(x, x.shape[-1:]),
}


@pytest.mark.parametrize("values", _INPUTS, ids=str)
@pytest.mark.parametrize("name", sorted(_OPS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_non_finite_inputs_give_torch_values_without_warnings(name, values, dtype):
    t = torch.tensor(values, dtype=getattr(torch, dtype), requires_grad=True)
    e = ember.tensor(values, dtype=getattr(ember, dtype), requires_grad=True)
    out_t, out_e = _OPS[name](torch, t), _OPS[name](ember, e)
    numpy.testing.assert_allclose(numpy.asarray(out_e.detach()), out_t.detach().numpy(), rtol=1e-6, equal_nan=True)
    out_t.sum().backward()
    out_e.sum().backward()
    numpy.testing.assert_allclose(numpy.asarray(e.grad), t.grad.numpy(), rtol=1e-6, equal_nan=True)


# --- losses: ignored positions never leak their NaN or inf ------------------------------------------------------
@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("options", [{}, {"weight": [0.2, 1.0, 3.0]}, {"label_smoothing": 0.1}])
def test_ignored_targets_holding_non_finite_logits_do_not_leak(loss, reduction, options):
    if loss == "nll_loss" and "label_smoothing" in options:
        pytest.skip("nll_loss has no label smoothing")
    logits = numpy.array([[numpy.nan, 1.0, 2.0], [0.5, 0.1, 0.2], [numpy.inf, -numpy.inf, 0.0], [1.0, 2.0, 3.0]])
    results = []
    for lib in (torch, ember):
        x = lib.tensor(logits, requires_grad=True)
        kwargs = {k: lib.tensor(v, dtype=lib.float64) if k == "weight" else v for k, v in options.items()}
        out = getattr(lib.nn.functional, loss)(x, lib.tensor([-100, 1, -100, 2]), reduction=reduction, **kwargs)
        out.sum().backward()
        results.append((numpy.asarray(out.detach()), numpy.asarray(x.grad)))
    numpy.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-12, equal_nan=True)
    numpy.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-12, equal_nan=True)
    assert numpy.isfinite(results[1][0]).all()


# --- unique: every NaN is its own value -------------------------------------------------------------------------
@pytest.mark.parametrize("values", [[numpy.nan, 1.0, numpy.nan, 2.0, 1.0], [numpy.nan] * 3, [numpy.inf, -numpy.inf,
                                                                                           numpy.nan, numpy.inf]])
def test_unique_with_nan_matches_torch(values):
    t = torch.unique(torch.tensor(values), return_inverse=True, return_counts=True)
    e = ember.unique(ember.tensor(values), return_inverse=True, return_counts=True)
    for got, expected in zip(e, t):
        numpy.testing.assert_array_equal(numpy.asarray(got), expected.numpy())


# --- matmul with an empty inner dimension ---------------------------------------------------------------------
@pytest.mark.parametrize("shapes", [((3, 0), (0, 2)), ((0,), (0,)), ((0,), (0, 5)), ((4, 0), (0,)),
                                    ((2, 3, 0), (0, 4)), ((0, 3, 0), (0, 4))])
def test_matmul_backward_with_an_empty_inner_dimension(shapes):
    grads = []
    for lib in (torch, ember):
        a, b = (lib.ones(s, dtype=lib.float64, requires_grad=True) for s in shapes)
        out = a @ b
        (out * 2).sum().backward()
        grads.append((numpy.asarray(out.detach()), numpy.asarray(a.grad), numpy.asarray(b.grad)))
    for got, expected in zip(grads[1], grads[0]):
        assert got.shape == expected.shape
        numpy.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("shape, normalized", [((0,), (0,)), ((0, 4), (4,)), ((3, 0), (0,))])
def test_layer_norm_of_empty_input_matches_torch_without_warnings(shape, normalized):
    t = torch.nn.functional.layer_norm(torch.zeros(shape), normalized)
    e = ember.nn.functional.layer_norm(ember.zeros(shape), normalized)
    assert tuple(e.shape) == tuple(t.shape) and e.dtype == ember.float32


# --- lerp, quantiles, threshold and var_mean on infinities, as PyTorch computes them ------------------------------
def test_lerp_and_quantiles_follow_torchs_arithmetic_on_infinities():
    """lerp starts from ``end`` for weights of 0.5 and more (lerp(1, inf, 0.5) is NaN, lerp(-inf, 1, 0.5) -inf);
    quantile's lower/higher/nearest take sorted values as they are."""
    inf = numpy.inf
    for start, end, weight in [(1.0, inf, 0.5), (inf, inf, 0.0), (-inf, 1.0, 0.5), (1.0, inf, 0.25), (2.0, 3.0, 0.7)]:
        for lib_weight in (weight, "tensor"):
            got = ember.lerp(ember.tensor(start), ember.tensor(end),
                             ember.tensor(weight) if lib_weight == "tensor" else weight)
            expected = torch.lerp(torch.tensor(start), torch.tensor(end), weight)
            numpy.testing.assert_array_equal(numpy.asarray(got), expected.numpy())
    levels = [0.0, 0.25, 0.5, 0.6, 1.0]
    for values in ([inf, inf, numpy.nan], [inf, -inf, 1.0], [1.0, inf], [-inf, -inf, 2.0]):
        for interpolation in ("linear", "lower", "higher", "midpoint", "nearest"):
            for name in ("quantile", "nanquantile"):
                got = getattr(ember, name)(ember.tensor(values), ember.tensor(levels), interpolation=interpolation)
                expected = getattr(torch, name)(torch.tensor(values), torch.tensor(levels), interpolation=interpolation)
                numpy.testing.assert_array_equal(numpy.asarray(got), expected.numpy())


def test_threshold_keeps_nan_and_bitwise_not_of_0d():
    for lib in (torch, ember):
        assert numpy.isnan(float(lib.nn.functional.threshold(lib.tensor([numpy.nan]), 0.3, -1.0)[0]))
        assert float(lib.nn.functional.threshold(lib.tensor(1.5), 0.3, -1.0)) == 1.5
        assert bool(~lib.tensor(True)) is False and int(~lib.tensor(5)) == -6


def test_var_mean_of_huge_values_does_not_overflow_like_torchs_welford():
    for values in ([1e308, 1e308], [1e308, 1e308, 1.0], [1.0, 2.0, 4.0]):
        for name in ("var_mean", "std_mean"):
            got = getattr(ember, name)(ember.tensor(values, dtype=ember.float64))
            expected = getattr(torch, name)(torch.tensor(values, dtype=torch.float64))
            for g, e in zip(got, expected):
                numpy.testing.assert_allclose(numpy.asarray(g), e.numpy(), rtol=1e-12)
