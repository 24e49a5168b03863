"""The fast paths of hardtanh/relu6, batch norm (training and running statistics) and adaptive average pooling
against PyTorch: values, gradients, running statistics, in-place forms, bounds and non-finite values, dtypes and
edge shapes (batch 1, odd sizes, strided inputs), and second gradients."""
import numpy
import pytest
import torch

import ember
from tests.oracle import check, check_error, gradcheck, noncontiguous, sample

F32, F64 = numpy.float32, numpy.float64


# --- hardtanh / relu6 ------------------------------------------------------------------------------------------
EDGES = numpy.array([-7.0, -1.0, -0.0, 0.0, 1e-30, 0.5, 1.0, 5.999, 6.0, 6.5, numpy.inf, -numpy.inf, numpy.nan])


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("name, args", [("relu6", ()), ("hardtanh", ()), ("hardtanh", (-2.0, 0.5))], ids=str)
def test_hardtanh_values_and_gradients_at_bounds_and_non_finite(dtype, name, args):
    x = numpy.concatenate([EDGES, sample((3, 5), seed=1).ravel() * 3]).astype(dtype)   # edges in the vector part
    check(lambda lib, x: getattr(lib.nn.functional, name)(x, *args), x)
    # strided, PyTorch's scalar loop runs, which passes the gradient at NaN: compared without NaN
    check(lambda lib, x: getattr(lib.nn.functional, name)(x, *args), noncontiguous(x[~numpy.isnan(x)].reshape(3, -1)))


@pytest.mark.parametrize("module", ["ReLU6", "Hardtanh"])
def test_inplace_hardtanh_on_a_graph_value_and_on_a_view_match_torch(module):
    def run(lib, x):
        y = x * 2
        out = getattr(lib.nn, module)(inplace=True)(y)
        view = (x + 1)[:, 1:]
        getattr(lib.nn, module)(inplace=True)(view)
        return out, view, y._version
    out, _ = check(run, sample((4, 5), F32, seed=2) * 3)
    assert type(out[0].grad_fn).__name__ == "HardtanhBackward0"


def test_hardtanh_inplace_errors_and_no_grad_write():
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            lib.nn.functional.relu6(lib.tensor(sample((3,), F32), requires_grad=True), inplace=True)
    x = ember.tensor(sample((3, 4), F32, seed=3) * 4, requires_grad=True)
    with ember.no_grad():
        out = ember.nn.functional.relu6(x, inplace=True)
    assert out is x and float(x.max()) <= 6 and float(x.min()) >= 0

    def saved_input_changed(lib, x):   # exp saves its result; the in-place write must be caught at backward
        y = x.exp()
        lib.nn.functional.hardtanh(y, inplace=True)
        y.sum().backward()
    check_error(saved_input_changed, sample((3,), F32))


def test_inplace_hardtanh_keeps_a_mask_so_later_writes_to_its_result_are_allowed_as_in_torch():
    def run(lib, x):   # PyTorch keeps a copy of the input of hardtanh_: writing into its result later is no error
        y = x * 1
        out = lib.nn.functional.relu6(y, inplace=True)
        out.mul_(2)
        return out
    check(run, numpy.concatenate([EDGES[~numpy.isnan(EDGES)], sample((20,), seed=6) * 4]).astype(F32))
    x = ember.tensor(sample((4, 5), F32, seed=7) * 4, requires_grad=True)
    y = ember.nn.functional.hardtanh(x * 1, -1.0, 2.0, inplace=True)
    saved, = y.grad_fn._saved
    assert saved[0] == "array" and saved[1].dtype == bool   # a one-byte mask, not a copy of the input

    def second(lib, x):
        y = lib.nn.functional.relu6(x * 1, inplace=True)
        gx, = lib.autograd.grad((y ** 3).sum(), x, create_graph=True)
        return gx
    check(second, sample((3, 4), F64, seed=8) * 4)


def test_hardtanh_integer_and_half_inputs_match_torch():
    check(lambda lib, x: lib.nn.functional.relu6(x), sample((4, 5), numpy.int64, low=-9, high=9))
    check(lambda lib, x: lib.nn.functional.hardtanh(x, -2.5, 3.7), sample((4, 5), numpy.int32, low=-9, high=9))
    check(lambda lib, x: lib.nn.functional.hardtanh(x, 0.5, 7.9), sample((4, 5), numpy.uint8, low=0, high=12))
    check_error(lambda lib, x: lib.nn.functional.hardtanh(x, -1.0, 2.0), sample((3,), numpy.uint8, low=0, high=9))
    check_error(lambda lib, x: lib.nn.functional.relu6(x), sample((3,), bool))
    check(lambda lib, x: lib.nn.functional.relu6(x), sample((4, 5), numpy.float16, seed=4) * 3)


def test_hardtanh_second_gradient():
    x = sample((3, 4), F64, seed=5) * 4
    x[numpy.abs(x) < 0.05] = 0.5   # finite differences need distance from the kinks
    x[numpy.abs(x - 6) < 0.05] = 5.5
    gradcheck(lambda lib, x: lib.nn.functional.relu6(x) ** 2, x)

    def second(lib, x):
        gx, = lib.autograd.grad((lib.nn.functional.relu6(x) ** 3).sum(), x, create_graph=True)
        return gx
    out, _ = check(second, x)
    assert type(out.grad_fn).__name__ == "HardtanhBackwardBackward0"


# --- batch norm ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("repeat_width", [1 << 20, 0], ids=["repeated", "broadcast"])
@pytest.mark.parametrize("shape", [(1, 3, 5, 5), (2, 1, 7), (5, 4), (3, 6, 1, 1), (2, 3, 3, 4, 5)], ids=str)
@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
def test_batch_norm_training_values_gradients_and_running_statistics(shape, dtype, repeat_width, monkeypatch):
    """Per-channel values repeated over the positions (small maps) or broadcast (wide ones)."""
    from ember.ops import normalization
    monkeypatch.setattr(normalization, "REPEAT_WIDTH", repeat_width)
    c = shape[1]
    tol = 1e-4 if dtype is F32 else 1e-10

    def run(lib, x, w, b):
        mean, var = lib.zeros(c, dtype=x.dtype) + 0.5, lib.ones(c, dtype=x.dtype)
        out = lib.nn.functional.batch_norm(x, mean, var, w, b, training=True, momentum=0.3, eps=1e-3)
        return out, mean, var
    check(run, sample(shape, dtype, seed=6), sample((c,), dtype, seed=7), sample((c,), dtype, seed=8),
          rtol=tol, atol=tol)
    check(run, noncontiguous(sample(shape, dtype, seed=9)), sample((c,), dtype, seed=7), None, rtol=tol, atol=tol)


def test_batch_norm_statistics_stay_accurate_far_from_zero():
    """A large offset next to a small spread: the statistics are formed from x - mean (two passes), so float32
    keeps PyTorch's accuracy where a sum of squares would cancel."""
    rng = numpy.random.default_rng(10)
    x = (1000 + rng.standard_normal((8, 3, 6, 6)) * 0.01).astype(F32)
    mean, var = ember.zeros(3), ember.ones(3)
    out = ember.nn.functional.batch_norm(ember.tensor(x), mean, var, training=True, momentum=1.0)
    exact = x.astype(F64)
    normalized = (exact - exact.mean((0, 2, 3), keepdims=True)) / numpy.sqrt(exact.var((0, 2, 3), keepdims=True)
                                                                               + 1e-5)
    # float32's mean is off by about 4e-5 here (PyTorch's too: 0.004 after normalizing); a sum of squares would
    # lose the variance (1e-4 next to squares of 1e6) entirely
    numpy.testing.assert_allclose(out.numpy(), normalized, atol=1e-2)
    numpy.testing.assert_allclose(var.numpy(), exact.var((0, 2, 3), ddof=1), rtol=1e-2)


@pytest.mark.parametrize("repeat_width", [1 << 20, 0], ids=["repeated", "broadcast"])
@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("affine", [True, False], ids=["affine", "plain"])
def test_batch_norm_by_running_statistics_values_and_gradients(dtype, affine, repeat_width, monkeypatch):
    from ember.ops import normalization
    monkeypatch.setattr(normalization, "REPEAT_WIDTH", repeat_width)
    c = 4
    mean, var = sample((c,), dtype, seed=11), numpy.abs(sample((c,), dtype, seed=12)) + 0.1
    w, b = (sample((c,), dtype, seed=13), sample((c,), dtype, seed=14)) if affine else (None, None)
    for x in (sample((3, c, 5, 2), dtype, seed=15), noncontiguous(sample((1, c, 3), dtype, seed=16)),
              sample((6, c), dtype, seed=17)):
        check(lambda lib, x, w, b: lib.nn.functional.batch_norm(x, lib.tensor(mean), lib.tensor(var), w, b,
                                                                training=False, eps=1e-4), x, w, b,
              rtol=1e-5 if dtype is F32 else 1e-12, atol=1e-5 if dtype is F32 else 1e-12)


def test_batch_norm_modules_train_then_eval_match_torch():
    def run(lib, x):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.BatchNorm2d(3), lib.nn.ReLU6(inplace=True))
        with lib.no_grad():
            model[0].weight.copy_(lib.tensor([0.5, -1.0, 2.0]))
        outputs = [model(x * (i + 1)) for i in range(3)]
        model.eval()
        return outputs + [model(x), model[0].running_mean, model[0].running_var]
    check(run, sample((4, 3, 5, 5), F32, seed=18), rtol=1e-4, atol=1e-4)


def test_batch_norm_eval_second_gradient():
    mean, var = sample((2,), F64, seed=19), numpy.abs(sample((2,), F64, seed=20)) + 0.5
    gradcheck(lambda lib, x, w, b: lib.nn.functional.batch_norm(x, lib.tensor(mean), lib.tensor(var), w, b) ** 2,
              sample((3, 2, 2), F64, seed=21), sample((2,), F64, seed=22), sample((2,), F64, seed=23))


# --- adaptive average pooling ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, shape, size", [
    ("adaptive_avg_pool2d", (2, 3, 6, 8), 1), ("adaptive_avg_pool2d", (2, 3, 6, 8), (3, 4)),
    ("adaptive_avg_pool2d", (2, 3, 6, 8), (2, None)), ("adaptive_avg_pool2d", (3, 6, 8), (None, 1)),
    ("adaptive_avg_pool2d", (1, 2, 7, 5), (3, 2)), ("adaptive_avg_pool2d", (1, 2, 4, 4), (4, 4)),
    ("adaptive_avg_pool1d", (2, 3, 12), 4), ("adaptive_avg_pool1d", (2, 3, 10), 4),
    ("adaptive_avg_pool3d", (1, 2, 4, 6, 2), (2, 3, 1)), ("adaptive_avg_pool3d", (1, 2, 4, 5, 3), 2)], ids=str)
@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
def test_adaptive_avg_pool_matches_torch(name, shape, size, dtype):
    check(lambda lib, x: getattr(lib.nn.functional, name)(x, size), sample(shape, dtype, seed=24),
          rtol=1e-5 if dtype is F32 else 1e-12, atol=1e-6 if dtype is F32 else 1e-12)
    check(lambda lib, x: getattr(lib.nn.functional, name)(x, size), noncontiguous(sample(shape, dtype, seed=25)),
          rtol=1e-5 if dtype is F32 else 1e-12, atol=1e-6 if dtype is F32 else 1e-12)


def test_adaptive_avg_pool_second_gradient():
    gradcheck(lambda lib, x: lib.nn.functional.adaptive_avg_pool2d(x, (2, 1)) ** 2, sample((1, 2, 4, 3), F64, seed=26))


# --- max pooling with overlapping windows (gradient summed by flat index) ----------------------------------------
@pytest.mark.parametrize("name, shape, options", [
    ("max_pool2d", (2, 3, 9, 9), dict(kernel_size=3, stride=2, padding=1)),
    ("max_pool2d", (1, 2, 7, 6), dict(kernel_size=3, stride=1, ceil_mode=True)),
    ("max_pool2d", (2, 2, 9, 8), dict(kernel_size=3, stride=2, dilation=2, padding=1)),
    ("max_pool1d", (2, 3, 11), dict(kernel_size=4, stride=2, padding=2, ceil_mode=True)),
    ("max_pool3d", (1, 2, 5, 4, 5), dict(kernel_size=3, stride=2, padding=1))], ids=str)
@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
def test_overlapping_max_pool_gradients_with_ties_match_torch(name, shape, options, dtype):
    x = numpy.maximum(numpy.round(sample(shape, dtype, seed=27)), 0)   # many ties, as after a ReLU
    check(lambda lib, x: getattr(lib.nn.functional, name)(x, **options), x)
    check(lambda lib, x: getattr(lib.nn.functional, name)(x, return_indices=True, **options)[0], noncontiguous(x))


def test_overlapping_max_pool_gradient_with_infinite_values_matches_torch():
    x = sample((1, 2, 7, 7), F32, seed=28)

    def run(lib, x):
        x = x.detach().requires_grad_()
        y = lib.nn.functional.max_pool2d(x, 3, 2, 1)
        g = lib.ones_like(y)
        g[0, 0, 1, 1], g[0, 1, 0, 2] = float("inf"), -float("inf")
        return lib.autograd.grad(y, x, g)[0]
    check(run, x, grad=False)


# --- pooled results: ReLU's gradient and disjoint max pooling's gradient -----------------------------------------
@pytest.mark.parametrize("shape", [(3, 4), (8, 16, 48, 48)], ids=str)   # the larger one takes pooled arrays
def test_relu_gradient_matches_torch_and_the_select(shape):
    x = sample(shape, F32, seed=29)
    x.ravel()[:6] = [0.0, -0.0, numpy.nan, numpy.inf, -numpy.inf, 1e-30]
    check(lambda lib, x: lib.relu(x) * 3, x[..., 1:] if len(shape) == 2 else x)
    g = sample(shape, F32, seed=30)
    t = ember.tensor(x, requires_grad=True)
    (grad,) = ember.autograd.grad(ember.relu(t), t, ember.tensor(g))
    result = numpy.maximum(numpy.float32(0), x)
    # PyTorch's threshold_backward selects: +0 where the result is 0 (a product with the mask gives -0 there)
    assert grad.numpy().tobytes() == numpy.where(result != 0, g, numpy.float32(0)).tobytes()


def test_pooled_relu_gradients_are_not_shared():
    x = ember.tensor(sample((8, 16, 48, 48), F32, seed=31), requires_grad=True)
    grads = []
    for scale in (1.0, 2.0, 3.0):
        (ember.relu(x) * scale).sum().backward()
        grads.append(x.grad.numpy().copy())
    expected = (x.detach().numpy() > 0).astype(F32)
    a, b = ember.relu(x), ember.relu(x * 2)
    ga, gb = ember.autograd.grad((ember.relu(a) + ember.relu(b)).sum(), (a, b))
    numpy.testing.assert_array_equal(ga.numpy(), expected)
    numpy.testing.assert_array_equal(gb.numpy(), expected)
    numpy.testing.assert_array_equal(grads[0], expected)
    numpy.testing.assert_array_equal(grads[2], expected * 6)
    numpy.testing.assert_array_equal(x.grad.numpy(), expected * 6)


@pytest.mark.parametrize("shape, options", [
    ((2, 3, 8, 6), dict(kernel_size=2)), ((2, 3, 7, 6), dict(kernel_size=2)), ((1, 2, 6, 9), dict(kernel_size=3)),
    ((1, 2, 6, 6), dict(kernel_size=2, stride=3)), ((1, 2, 9, 9), dict(kernel_size=3, padding=1)),
    ((8, 16, 48, 48), dict(kernel_size=2))], ids=str)
def test_disjoint_max_pool_gradient_covering_or_not_matches_torch(shape, options):
    x = sample(shape, F32, seed=32)
    for _ in range(2):   # the second backward reuses the first one's pooled result
        check(lambda lib, x: lib.nn.functional.max_pool2d(x, **options) * 2, x)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_half_precision_avg_pool_sums_and_divides_in_float32(dtype):
    # PyTorch's CPU avg_pool of half types rounds once: ember rounded the window sums before dividing
    x = numpy.random.default_rng(0).standard_normal((2, 4, 17, 23)).astype(numpy.float32)
    for lib_args in [dict(kernel_size=3), dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=2, ceil_mode=True),
                     dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)]:
        outs = []
        for lib in (torch, ember):
            y = lib.tensor(x).to(getattr(lib, dtype))
            outs.append([lib.nn.functional.avg_pool2d(y, **lib_args), lib.nn.functional.avg_pool1d(y[0], **lib_args)])
        for theirs, ours in zip(*outs):
            assert ours.dtype == getattr(ember, dtype)
            numpy.testing.assert_array_equal(ours.float().numpy(), theirs.float().numpy(), err_msg=str(lib_args))
