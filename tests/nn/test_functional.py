"""nn.functional against torch.nn.functional: values, dtypes, shapes and gradients, plus gradcheck in float64."""
import numpy
import pytest
import torch

import ember
from tests.oracle import check, check_error, gradcheck, sample

F32 = numpy.float32
X4 = sample((2, 3, 7, 6), F32, seed=1)
W4 = sample((4, 3, 3, 2), F32, seed=2) / 3
B4 = sample((4,), F32, seed=3)

CONV_CASES = [
    ("conv1d", sample((2, 4, 9), F32), sample((6, 2, 3), F32) / 3, sample((6,), F32), dict(stride=2, padding=1,
                                                                                          groups=2)),
    ("conv1d", sample((4, 9), F32), sample((5, 4, 2), F32) / 3, None, dict(padding="same", dilation=2)),
    ("conv2d", X4, W4, B4, {}),
    ("conv2d", X4, W4, B4, dict(stride=(2, 1), padding=(1, 2), dilation=(2, 1))),
    ("conv2d", X4, W4, None, dict(padding="same")),
    ("conv2d", X4, W4, None, dict(padding="valid", stride=3)),
    ("conv2d", sample((2, 4, 6, 6), F32), sample((4, 1, 3, 3), F32) / 3, None, dict(groups=4, padding=1)),
    ("conv3d", sample((1, 2, 4, 5, 4), F32), sample((3, 2, 2, 3, 2), F32) / 3, sample((3,), F32), dict(padding=1)),
    ("conv_transpose1d", sample((2, 4, 5), F32), sample((4, 3, 3), F32) / 3, sample((3,), F32), dict(stride=2)),
    ("conv_transpose2d", sample((2, 4, 5, 4), F32), sample((4, 3, 3, 2), F32) / 3, sample((3,), F32),
     dict(stride=2, padding=1, output_padding=1)),
    ("conv_transpose2d", sample((1, 4, 4, 4), F32), sample((4, 1, 3, 3), F32) / 3, None,
     dict(stride=2, groups=2, dilation=2)),
]


@pytest.mark.parametrize("name,x,w,b,options", CONV_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CONV_CASES)])
def test_convolutions_match_torch(name, x, w, b, options):
    check(lambda lib, x, w, b: getattr(lib.nn.functional, name)(x, w, b, **options), x, w, b, rtol=1e-4, atol=1e-4)


def test_convolution_gradcheck_and_double_backward():
    x, w = sample((1, 2, 5, 4), numpy.float64), sample((3, 2, 2, 3), numpy.float64)
    gradcheck(lambda lib, x, w: lib.nn.functional.conv2d(x, w, stride=(2, 1), padding=1), x, w)
    gradcheck(lambda lib, x, w: lib.nn.functional.conv_transpose2d(x[..., ::2], w, stride=2),
              sample((1, 3, 3, 4), numpy.float64), sample((3, 2, 2, 2), numpy.float64))


def test_convolution_errors_match_torch():
    check_error(lambda lib, x, w: lib.nn.functional.conv2d(x, w), sample((64, 3, 28, 28), F32),
                sample((32, 1, 3, 3), F32), match=r"expected input\[64, 3, 28, 28\] to have 1 channels")
    check_error(lambda lib, x, w: lib.nn.functional.conv2d(x, w), sample((1, 1, 2, 2), F32),
                sample((1, 1, 3, 3), F32), match="Kernel size can't be greater than actual input size")
    for name, x_shape, w_shape, padding in [("conv_transpose1d", (1, 8, 1), (8, 2, 5), 3),
                                            ("conv_transpose3d", (1, 8, 1, 2, 2), (8, 2, 3, 3, 3), (2, 0, 0))]:
        check_error(lambda lib, x, w: getattr(lib.nn.functional, name)(x, w, padding=padding), sample(x_shape, F32),
                    sample(w_shape, F32), match="Output size is too small")
    check(lambda lib, x, w: lib.nn.functional.conv_transpose2d(x, w, padding=(2, 0)), sample((1, 8, 1, 3), F32),
          sample((8, 2, 4, 4), F32))   # an output of no rows is no error


POOL_CASES = [
    ("max_pool2d", dict(kernel_size=2)),
    ("max_pool2d", dict(kernel_size=3, stride=2, padding=1)),
    ("max_pool2d", dict(kernel_size=(2, 3), stride=(1, 2), dilation=(2, 1), ceil_mode=True)),
    ("avg_pool2d", dict(kernel_size=2)),
    ("avg_pool2d", dict(kernel_size=3, stride=2, padding=1)),
    ("avg_pool2d", dict(kernel_size=3, stride=2, padding=1, count_include_pad=False, ceil_mode=True)),
    ("avg_pool2d", dict(kernel_size=2, divisor_override=3)),
    ("adaptive_avg_pool2d", dict(output_size=(3, 4))),
    ("adaptive_avg_pool2d", dict(output_size=1)),
    ("adaptive_max_pool2d", dict(output_size=(3, 2))),
]


@pytest.mark.parametrize("name,options", POOL_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(POOL_CASES)])
def test_pooling_matches_torch(name, options):
    check(lambda lib, x: getattr(lib.nn.functional, name)(x, **options), X4)


def test_pool_1d_3d_indices_and_unpool():
    check(lambda lib, x: lib.nn.functional.max_pool1d(x, 3, 2, 1, return_indices=True), sample((2, 3, 9), F32))
    check(lambda lib, x: lib.nn.functional.avg_pool1d(x, 3, 2, 1), sample((2, 3, 9), F32))
    check(lambda lib, x: lib.nn.functional.max_pool3d(x, 2), sample((1, 2, 4, 4, 4), F32))
    check(lambda lib, x: lib.nn.functional.adaptive_avg_pool1d(x, 4), sample((2, 3, 9), F32))

    def roundtrip(lib, x):
        values, indices = lib.nn.functional.max_pool2d(x, 2, return_indices=True)
        return lib.nn.functional.max_unpool2d(values, indices, 2, output_size=x.shape)
    check(roundtrip, X4)
    gradcheck(lambda lib, x: lib.nn.functional.max_pool2d(x, 2, 1), sample((1, 1, 4, 4), numpy.float64, seed=5))
    gradcheck(lambda lib, x: lib.nn.functional.avg_pool2d(x, 3, 2, 1), sample((1, 1, 5, 5), numpy.float64))


ACTIVATIONS = [
    ("relu", {}), ("relu6", {}), ("elu", dict(alpha=0.7)), ("selu", {}), ("celu", dict(alpha=1.3)),
    ("gelu", {}), ("gelu", dict(approximate="tanh")), ("silu", {}), ("mish", {}), ("leaky_relu", dict(
        negative_slope=0.2)), ("hardtanh", dict(min_val=-0.5, max_val=2.0)), ("hardsigmoid", {}), ("hardswish", {}),
    ("softplus", dict(beta=2.0, threshold=3.0)), ("softsign", {}), ("logsigmoid", {}), ("tanhshrink", {}),
    ("softshrink", dict(lambd=0.7)), ("hardshrink", dict(lambd=0.7)), ("threshold", dict(threshold=0.3, value=-1.0)),
    ("softmax", dict(dim=1)), ("log_softmax", dict(dim=-1)), ("softmin", dict(dim=0)), ("glu", dict(dim=-1)),
    ("sigmoid", {}), ("tanh", {}),
]


@pytest.mark.parametrize("name,options", ACTIVATIONS, ids=[f"{a[0]}-{i}" for i, a in enumerate(ACTIVATIONS)])
def test_activations_match_torch(name, options):
    x = sample((3, 4), F32, seed=7)
    check(lambda lib, x: getattr(lib.nn.functional, name)(x, **options), x)
    gradcheck(lambda lib, x: getattr(lib.nn.functional, name)(x, **options), sample((3, 4), numpy.float64, seed=8))


INPLACE_ACTIVATIONS = [
    ("relu", {}), ("relu6", {}), ("elu", dict(alpha=0.7)), ("selu", {}), ("celu", dict(alpha=1.3)), ("silu", {}),
    ("mish", {}), ("leaky_relu", dict(negative_slope=0.2)), ("hardtanh", dict(min_val=-0.5, max_val=2.0)),
    ("hardsigmoid", {}), ("hardswish", {}), ("threshold", dict(threshold=0.3, value=-1.0)), ("rrelu", {}),
]


@pytest.mark.parametrize("name,options", INPLACE_ACTIVATIONS, ids=[a[0] for a in INPLACE_ACTIVATIONS])
def test_inplace_activations_write_into_input_and_keep_gradients(name, options):
    def inplace(lib, x):
        y = x * 1.5
        out = getattr(lib.nn.functional, name)(y, **options, inplace=True)
        assert out is y and y._version == 1
        return out * y   # y now holds the activation, so both factors are its result
    check(inplace, sample((3, 4), F32, seed=7))

    def on_view(lib, x):
        y = x * 1.5
        getattr(lib.nn.functional, name)(y[1:, ::2], **options, inplace=True)
        return y
    check(on_view, sample((3, 4), F32, seed=8))
    check_error(lambda lib, x: getattr(lib.nn.functional, name)(x.requires_grad_(), **options, inplace=True),
                sample((3, 4), F32), match="a leaf Variable that requires grad is being used in an in-place operation")


def test_softmax_is_stable_and_prelu_matches():
    big = numpy.array([[1000.0, 0.0, -1000.0]], dtype=F32)
    check(lambda lib, x: lib.nn.functional.softmax(x, dim=1), big)
    check(lambda lib, x: lib.nn.functional.log_softmax(x, dim=1), big)
    check(lambda lib, x, w: lib.nn.functional.prelu(x, w), sample((2, 3, 4), F32), sample((3,), F32))


TARGET_CLASSES = numpy.array([1, 0, 3, 2, 3], dtype=numpy.int64)
LOGITS = sample((5, 4), F32, seed=11)
PROBS = (sample((5, 4), F32, low=0.05, high=0.95, seed=12))
TARGET = sample((5, 4), F32, low=0, high=1, seed=13)

LOSSES = [
    ("cross_entropy", (LOGITS, TARGET_CLASSES), {}),
    ("cross_entropy", (LOGITS, TARGET_CLASSES), dict(reduction="sum", label_smoothing=0.1)),
    ("cross_entropy", (LOGITS, numpy.array([1, -100, 3, 2, 3])), dict(weight=None, ignore_index=-100)),
    ("cross_entropy", (LOGITS, TARGET_CLASSES), dict(reduction="none")),
    ("cross_entropy", (LOGITS, numpy.abs(TARGET) / numpy.abs(TARGET).sum(1, keepdims=True)), {}),
    ("cross_entropy", (sample((2, 4, 3, 3), F32), sample((2, 3, 3), numpy.int64, 0, 4)), {}),
    ("nll_loss", (LOGITS, TARGET_CLASSES), {}),
    ("mse_loss", (PROBS, TARGET), {}),
    ("l1_loss", (PROBS, TARGET), dict(reduction="sum")),
    ("smooth_l1_loss", (LOGITS, TARGET), dict(beta=0.5)),
    ("huber_loss", (LOGITS, TARGET), dict(delta=0.7)),
    ("binary_cross_entropy", (PROBS, TARGET), {}),
    ("binary_cross_entropy_with_logits", (LOGITS, TARGET), {}),
    ("kl_div", (numpy.log(PROBS), TARGET), dict(reduction="batchmean")),
    ("kl_div", (numpy.log(PROBS), numpy.log(PROBS[::-1].copy())), dict(reduction="sum", log_target=True)),
    ("poisson_nll_loss", (LOGITS, numpy.abs(TARGET) * 3), {}),
    ("poisson_nll_loss", (numpy.abs(LOGITS) + 0.1, numpy.round(numpy.abs(TARGET) * 3)), dict(log_input=False,
                                                                                             full=True)),
    ("soft_margin_loss", (LOGITS, numpy.sign(TARGET - 0.5)), dict(detach_target=True)),
    ("multilabel_soft_margin_loss", (LOGITS, numpy.round(TARGET)), {}),
    ("multi_margin_loss", (LOGITS, TARGET_CLASSES), {}),
    ("hinge_embedding_loss", (LOGITS, numpy.sign(TARGET - 0.5)), {}),
]


@pytest.mark.parametrize("name,args,options", LOSSES, ids=[f"{c[0]}-{i}" for i, c in enumerate(LOSSES)])
def test_losses_match_torch(name, args, options):
    options = dict(options)
    detach = options.pop("detach_target", False)   # torch refuses a target that requires grad for these

    def loss(lib, input, target, *rest):
        return getattr(lib.nn.functional, name)(input, target.detach() if detach else target, *rest, **options)
    check(loss, *args, rtol=1e-5, atol=1e-5)


def test_weighted_losses_and_pairs():
    weight = numpy.array([0.2, 1.0, 3.0, 0.5], dtype=F32)
    check(lambda lib, x, t, w: lib.nn.functional.cross_entropy(x, t, weight=w.detach(), label_smoothing=0.2), LOGITS,
          TARGET_CLASSES, weight)
    check(lambda lib, x, t, w: lib.nn.functional.nll_loss(x, t, weight=w.detach(), ignore_index=3), LOGITS,
          TARGET_CLASSES, weight)
    check(lambda lib, x, t, w: lib.nn.functional.binary_cross_entropy_with_logits(x, t, pos_weight=w.detach()), LOGITS,
          TARGET, weight)
    a, b = sample((5, 4), F32, seed=21), sample((5, 4), F32, seed=22)
    y = numpy.array([1, -1, 1, -1, 1], dtype=F32)
    check(lambda lib, a, b, y: lib.nn.functional.cosine_embedding_loss(a, b, y, margin=0.1), a, b, y)
    check(lambda lib, a, b, y: lib.nn.functional.margin_ranking_loss(a[:, 0], b[:, 0], y, margin=0.2), a, b, y)
    check(lambda lib, a, b, c: lib.nn.functional.triplet_margin_loss(a, b, c), a, b, LOGITS)
    check(lambda lib, a, b: lib.nn.functional.cosine_similarity(a, b), a, b)
    check(lambda lib, a, b: lib.nn.functional.pairwise_distance(a, b, p=3), a, b)
    var = numpy.abs(sample((5, 4), F32, seed=23)) + 0.1
    check(lambda lib, a, b, v: lib.nn.functional.gaussian_nll_loss(a, b, v), a, b, var)


def test_loss_errors_match_torch():
    check_error(lambda lib, x, t: lib.nn.functional.cross_entropy(x, t), LOGITS, numpy.array([0, 1, 2, 3, 4]),
                match="out of bounds")
    check_error(lambda lib, x, t: lib.nn.functional.nll_loss(x, t), LOGITS, numpy.array([0, 1]))


NORMS = [
    ("batch_norm", lambda lib, x, w, b: lib.nn.functional.batch_norm(x, None, None, w, b, training=True)),
    ("layer_norm", lambda lib, x, w, b: lib.nn.functional.layer_norm(x, (7, 6), None, None)),
    ("group_norm", lambda lib, x, w, b: lib.nn.functional.group_norm(x, 3, w, b)),
    ("instance_norm", lambda lib, x, w, b: lib.nn.functional.instance_norm(x, weight=w, bias=b)),
    ("local_response_norm", lambda lib, x, w, b: lib.nn.functional.local_response_norm(x, 2)),
]


@pytest.mark.parametrize("name,fn", NORMS, ids=[n[0] for n in NORMS])
def test_normalizations_match_torch(name, fn):
    x = sample((2, 3, 7, 6), F32, seed=31)
    check(fn, x, sample((3,), F32, seed=32), sample((3,), F32, seed=33), rtol=1e-4, atol=1e-5)


def test_batch_norm_running_statistics_match_torch():
    e_bn, t_bn = ember.nn.BatchNorm2d(3, momentum=0.3), torch.nn.BatchNorm2d(3, momentum=0.3)
    for seed in range(3):
        x = sample((4, 3, 5, 5), F32, seed=seed)
        e_bn(ember.tensor(x))
        t_bn(torch.tensor(x))
    for key, value in t_bn.state_dict().items():
        numpy.testing.assert_allclose(numpy.asarray(e_bn.state_dict()[key]._data), value.numpy(), rtol=1e-5,
                                      atol=1e-6)
    e_bn.eval()
    t_bn.eval()
    x = sample((2, 3, 5, 5), F32, seed=9)
    numpy.testing.assert_allclose(e_bn(ember.tensor(x)).detach().numpy(), t_bn(torch.tensor(x)).detach().numpy(),
                                  rtol=1e-5, atol=1e-5)


def test_padding_modes_match_torch():
    x = sample((1, 2, 4, 5), F32)
    for mode in ("constant", "reflect", "replicate", "circular"):
        check(lambda lib, x: lib.nn.functional.pad(x, (1, 2, 2, 1), mode=mode), x)
    check(lambda lib, x: lib.nn.functional.pad(x, (1, -1, 0, 2), value=3.5), x)


def test_embedding_and_dropout():
    weight = sample((10, 3), F32)
    index = numpy.array([[1, 2, 4], [4, 3, 9]], dtype=numpy.int64)
    check(lambda lib, i, w: lib.nn.functional.embedding(i, w, padding_idx=4), index, weight)
    check(lambda lib, i, w: lib.nn.functional.embedding_bag(i, w, mode="sum"), index, weight)
    check(lambda lib, i, w: lib.nn.functional.embedding_bag(i, w, mode="max"), index, weight)
    ember.manual_seed(0)
    x = ember.ones(10000)
    y = ember.nn.functional.dropout(x, 0.3)
    kept = (y != 0).float().mean().item()
    assert abs(kept - 0.7) < 0.03 and numpy.isin(y.numpy(), numpy.float32([0.0, 1 / 0.7])).all()
    assert ember.nn.functional.dropout(x, 0.3, training=False) is x


@pytest.mark.parametrize("classes, num_classes", [
    (numpy.random.default_rng(0).integers(0, 100, 4096), 100), (numpy.array([[0, 3], [2, 2]]), -1),
    (numpy.array([[0, 3], [2, 2]]), 6), (numpy.array(2), 3), (numpy.zeros((0, 2), numpy.int64), 4),
])
def test_one_hot_matches_torch(classes, num_classes):
    check(lambda lib, t: lib.nn.functional.one_hot(t, num_classes), classes.astype(numpy.int64))


@pytest.mark.parametrize("classes, num_classes", [
    (numpy.array([-1, 10]), 5), (numpy.array([3]), 3), (numpy.array([1]), -2), (numpy.array([1]), 0),
    (numpy.zeros(0, numpy.int64), -1), (numpy.zeros(0, numpy.int64), 0), (numpy.array([[1.0]]), 2),
])
def test_one_hot_errors_match_torch(classes, num_classes):
    def call(lib, t):
        return lib.nn.functional.one_hot(t, num_classes)
    error = check_error(call, classes)
    with pytest.raises(RuntimeError) as expected:
        call(torch, torch.tensor(classes))
    assert str(error) == str(expected.value)


def test_dropout2d_legacy_ranks_match_torch():
    x = numpy.ones((4, 6), dtype=F32)
    for lib in (torch, ember):
        with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d"):
            y = lib.nn.functional.dropout2d(lib.tensor(x), 0.5)
        assert any(len(set(row)) > 1 for row in numpy.asarray(y).tolist())   # an element-wise mask, not per row
    with pytest.raises(RuntimeError, match="Expected 2D or 3D input"):
        ember.nn.functional.dropout1d(ember.ones(2, 3, 4, 5))


@pytest.mark.parametrize("options", [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1),
                                     dict(kernel_size=2, stride=1, dilation=2, ceil_mode=True),
                                     dict(kernel_size=3, stride=2, ceil_mode=True)], ids=str)
def test_max_pool_ties_and_nans_pick_torch_indices(options):
    rng = numpy.random.default_rng(5)
    x = rng.integers(0, 3, (2, 3, 7, 6)).astype(F32)    # many ties
    x[0, 0, 1, 1] = x[0, 1, 2, 2] = x[0, 1, 2, 3] = x[1, 2, 4, 4] = numpy.nan
    e_values, e_index = ember.nn.functional.max_pool2d(ember.tensor(x), return_indices=True, **options)
    t_values, t_index = torch.nn.functional.max_pool2d(torch.tensor(x), return_indices=True, **options)
    numpy.testing.assert_array_equal(e_index.numpy(), t_index.numpy())
    numpy.testing.assert_array_equal(e_values.numpy(), t_values.numpy())


@pytest.mark.parametrize("shape, normalized, weight", [((), (), None), ((2, 4), (), None), ((2, 4), (3,), None),
                                                       ((2, 4, 5), (3, 5), None), ((5,), (2, 5), None),
                                                       ((2, 4), (4,), (2, 2)), ((2, 4), (4,), (3,))])
def test_rms_norm_shape_errors_match_torch(shape, normalized, weight):
    x = sample(shape, F32, seed=3)
    w = None if weight is None else sample(weight, F32, seed=4)
    error = check_error(lambda lib, x, w: lib.nn.functional.rms_norm(x, normalized, w), x, w)
    with pytest.raises(type(error)) as reference:
        torch.nn.functional.rms_norm(torch.tensor(x), normalized, None if w is None else torch.tensor(w))
    assert str(error) == str(reference.value)


@pytest.mark.parametrize("hard, dim, tau", [(False, -1, 1.0), (True, -1, 0.5), (True, 0, 2.0), (False, 1, 0.3)])
def test_gumbel_softmax_draws_pytorchs_sample(hard, dim, tau):
    results = []
    for lib in (ember, torch):
        lib.manual_seed(7)
        x = lib.tensor(sample((3, 4, 5), F32, seed=11), requires_grad=True)
        y = lib.nn.functional.gumbel_softmax(x, tau=tau, hard=hard, dim=dim)
        (y * lib.arange(5.0)).sum().backward()
        results.append((y.detach().numpy(), x.grad.numpy()))
    (y, grad), (want, want_grad) = results
    numpy.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-6)
    numpy.testing.assert_allclose(grad, want_grad, rtol=1e-4, atol=1e-5)
    if hard:
        assert ((y == 0) | (y == 1)).all() and (y.sum(dim) == 1).all()


def test_gumbel_softmax_eps_is_deprecated():
    with pytest.warns(UserWarning, match="deprecated"):
        ember.nn.functional.gumbel_softmax(ember.zeros(2, 3), eps=1e-3)


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
def test_bce_with_logits_at_zero_and_far_logits_matches_torch(dtype):
    """Logits exactly 0 (a zero-initialised head) get sigmoid(0) - t, not -t, and logits far out on both sides keep
    their values: with and without pos_weight and weight."""
    logits = numpy.array([[0.0, 0.0, -0.0, 30.0], [-30.0, 45.0, -45.0, 1e-3]], dtype=dtype)
    target = numpy.array([[0.0, 0.3, 1.0, 0.0], [1.0, 0.5, 0.2, 1.0]], dtype=dtype)
    weights = numpy.array([0.5, 2.0, 1.0, 3.0], dtype=dtype)
    check(lambda lib, x, t: lib.nn.functional.binary_cross_entropy_with_logits(x, t, reduction="none"), logits,
          target)
    check(lambda lib, x, t, w: lib.nn.functional.binary_cross_entropy_with_logits(x, t, pos_weight=w.detach()),
          logits, target, weights)
    check(lambda lib, x, t, w: lib.nn.functional.binary_cross_entropy_with_logits(x, t, weight=w.detach()),
          logits, target, weights)


def test_multilabel_soft_margin_loss_at_zero_logits_matches_torch():
    logits = numpy.array([[0.0, 1.5, -0.0], [-30.0, 0.0, 45.0]], dtype=F32)
    target = numpy.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]], dtype=F32)
    check(lambda lib, x, t: lib.nn.functional.multilabel_soft_margin_loss(x, t), logits, target)


def test_logsigmoid_keeps_float64_precision_far_out():
    x = numpy.array([-25.0, -38.0, -45.0, 0.0, 30.0])
    check(lambda lib, x: lib.nn.functional.logsigmoid(x), x, rtol=1e-15, atol=1e-14)


BAG_IDS = numpy.array([1, 2, 2, 3, 5, 1, 7, 7], dtype=numpy.int64)
BAG_CASES = [
    (BAG_IDS, numpy.array([0, 2, 2, 8]), dict(mode="sum")),   # empty bags, in the middle and at the end
    (BAG_IDS, numpy.array([0, 2, 2, 8]), dict(mode="mean")),
    (BAG_IDS, numpy.array([0, 2, 2, 8]), dict(mode="max")),
    (BAG_IDS, numpy.array([0, 3, 5]), dict(mode="max", padding_idx=2)),
    (BAG_IDS, numpy.array([0, 3, 5]), dict(mode="mean", padding_idx=-19)),
    (BAG_IDS, numpy.array([0, 2, 2, 8]), dict(mode="max", include_last_offset=True)),
    (BAG_IDS.astype(numpy.int32), numpy.array([0, 4], dtype=numpy.int32), dict(mode="mean")),   # equal bags
    (BAG_IDS, numpy.array([0, 4]), dict(mode="max")),
    (numpy.zeros(0, numpy.int64), numpy.array([0, 0]), dict(mode="mean")),
    (numpy.zeros(0, numpy.int64), numpy.array([0]), dict(mode="max")),
    (BAG_IDS.reshape(2, 4), None, dict(mode="sum", include_last_offset=True)),
    (BAG_IDS.reshape(4, 2), None, dict(mode="max", padding_idx=7)),
    (numpy.array([[7, 7], [7, 1]]), None, dict(mode="max", padding_idx=7)),   # a bag of padding only
]


@pytest.mark.parametrize("ids, offsets, options", BAG_CASES)
def test_embedding_bag_matches_torch(ids, offsets, options):
    weight = sample((20, 3), F32, seed=4)
    if offsets is None:
        check(lambda lib, i, w: lib.nn.functional.embedding_bag(i, w, **options), ids, weight)
    else:
        check(lambda lib, i, w, o: lib.nn.functional.embedding_bag(i, w, o, **options), ids, weight, offsets)


@pytest.mark.parametrize("ids, offsets", [(BAG_IDS, numpy.array([0, 3, 3, 6])), (BAG_IDS.reshape(2, 4), None)])
def test_embedding_bag_per_sample_weights(ids, offsets):
    weight = sample((20, 3), F32, seed=4)
    scales = sample(ids.shape, F32, seed=5)
    for padding_idx in (None, 2):
        check(lambda lib, i, w, o, p: lib.nn.functional.embedding_bag(i, w, o, mode="sum", per_sample_weights=p,
                                                                      padding_idx=padding_idx),
              ids, weight, offsets, scales)


@pytest.mark.parametrize("offsets", [numpy.arange(0, 4096, 64), numpy.sort(numpy.random.default_rng(3).integers(
    0, 4096, 50)) * numpy.r_[0, numpy.ones(49, numpy.int64)]])
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_large_is_exact(offsets, mode):
    weight = sample((500, 16), F32, seed=6)
    ids = numpy.random.default_rng(2).integers(0, 500, 4096)
    w_e, w_t = ember.tensor(weight, requires_grad=True), torch.tensor(weight, requires_grad=True)
    out_e = ember.nn.functional.embedding_bag(ember.tensor(ids), w_e, ember.tensor(offsets), mode=mode)
    out_t = torch.nn.functional.embedding_bag(torch.tensor(ids), w_t, torch.tensor(offsets), mode=mode)
    numpy.testing.assert_array_equal(out_e.detach().numpy(), out_t.detach().numpy())
    grad = sample(tuple(out_t.shape), F32, seed=7)
    out_e.backward(ember.tensor(grad))
    out_t.backward(torch.tensor(grad))
    numpy.testing.assert_allclose(w_e.grad.numpy(), w_t.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_embedding_bag_double_backward_and_errors():
    weight = sample((20, 3), numpy.float64, seed=4)
    gradcheck(lambda lib, w: lib.nn.functional.embedding_bag(lib.tensor([1, 2, 2, 9]), w, lib.tensor([0, 1, 1]),
                                                             mode="mean"), weight)
    gradcheck(lambda lib, w, p: lib.nn.functional.embedding_bag(lib.tensor([1, 2, 2, 9]), w, lib.tensor([0, 1]),
                                                                mode="sum", per_sample_weights=p, padding_idx=9),
              weight, sample((4,), numpy.float64, seed=5))
    w = sample((6, 2), F32)
    ids = numpy.array([1, 2])
    check_error(lambda lib, i, w: lib.nn.functional.embedding_bag(i, w, lib.tensor([1])), ids, w)
    check_error(lambda lib, i, w: lib.nn.functional.embedding_bag(i, w, lib.tensor([0])), numpy.array([1, 9]), w)
    check_error(lambda lib, i, w: lib.nn.functional.embedding_bag(i, w, lib.tensor([0]), padding_idx=7), ids, w)
    check_error(lambda lib, i, w: lib.nn.functional.embedding_bag(i, w, lib.tensor([0])), ids.astype(F32), w)
    check_error(lambda lib, i, w: lib.nn.functional.embedding_bag(i, w, lib.tensor([0])), ids.reshape(1, 2), w)


@pytest.mark.parametrize("call", [lambda t: t.nn.functional.relu(3.0), lambda t: t.nn.functional.relu([1.0]),
                                  lambda t: t.nn.functional.relu(3.0, inplace=True),
                                  lambda t: t.nn.functional.relu_(3.0), lambda t: t.nn.ReLU()(3.0)],
                         ids=["float", "list", "inplace", "relu_", "module"])
def test_relu_of_a_non_tensor_raises_pytorchs_type_error(call):
    """F.relu calls torch.relu, whose parser refuses a number or list (an AttributeError in ember before)."""
    from tests.oracle import check_same_error
    check_same_error(call)


@pytest.mark.parametrize("kwargs", [{}, {"inplace": True}, {"training": False}, {"p": 0.0}], ids=str)
def test_dropout_of_a_non_tensor_raises_pytorchs_type_error(kwargs):
    """F.dropout runs torch's dropout/dropout_ binding, training or not: a number is refused by its parser."""
    from tests.oracle import check_same_error
    check_same_error(lambda t: t.nn.functional.dropout(1.0, **kwargs))


@pytest.mark.parametrize("name", ["softshrink", "hardshrink"])
def test_shrinks_keep_nan_and_zero_signs_as_torch(name):
    """NaN passes through both shrinks with a zero gradient, and zeros inside the band are +0, as PyTorch's."""
    def run(lib):
        values = [float("nan"), float("-inf"), float("inf"), -0.5, 0.5, -0.3, 0.0, -2.0] * 4   # PyTorch vectorizes
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        y = getattr(lib.nn.functional, name)(x)
        grad, = lib.autograd.grad(y.sum(), x)
        return [str(v) for v in y.tolist()], numpy.signbit(y.detach().numpy()).tolist(), grad.tolist()

    assert run(ember) == run(torch)
