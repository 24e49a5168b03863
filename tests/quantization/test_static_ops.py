"""Statically quantized kernels against torch's x86/fbgemm ones: convolution and linear (integer sums requantized as
fbgemm, equal to torch's integers), the elementwise ops of QFunctional, the quantized activations, and the aten ops
torch runs on quantized tensors (pooling, means, cat, views), which keep their input's qparams."""
import numpy
import pytest
import torch

import ember

pytestmark = pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor:UserWarning",
                                        "ignore:ember computes quantized ops:UserWarning",
                                        "ignore:torch.ao.quantization is deprecated:DeprecationWarning",
                                        "ignore:All inputs of this cat operator:UserWarning")


def _q(values, scale, zero_point, dtype="quint8"):
    """The same per-tensor quantized values in both libraries."""
    values = numpy.asarray(values, numpy.float32)
    return (torch.quantize_per_tensor(torch.from_numpy(values), scale, zero_point, getattr(torch, dtype)),
            ember.quantize_per_tensor(ember.tensor(values), scale, zero_point, getattr(ember, dtype)))


def _assert_same(t, e, steps=0):
    """Same shape, dtype and qparams; integers equal (or within ``steps``)."""
    assert tuple(e.shape) == tuple(t.shape) and repr(e.dtype).replace("ember", "torch") == repr(t.dtype)
    assert (e.q_scale(), e.q_zero_point()) == (t.q_scale(), t.q_zero_point())
    diff = numpy.abs(e.int_repr().numpy().astype(int) - t.int_repr().numpy().astype(int))
    assert diff.max(initial=0) <= steps


def _weight(rng, shape, per_channel):
    w = (rng.standard_normal(shape) * 0.3).astype(numpy.float32)
    if per_channel:
        scales = numpy.abs(w).reshape(shape[0], -1).max(1) / 127
        zero_points = numpy.zeros(shape[0], numpy.int64)
        return (torch.quantize_per_channel(torch.from_numpy(w), torch.from_numpy(scales).double(),
                                           torch.from_numpy(zero_points), 0, torch.qint8),
                ember.quantize_per_channel(ember.tensor(w), ember.tensor(scales).double(),
                                           ember.tensor(zero_points), 0, ember.qint8))
    return _q(w, 0.01, 0, "qint8")


@pytest.mark.parametrize("engine", ["x86", "fbgemm", "onednn"])
@pytest.mark.parametrize("per_channel", [False, True])
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("relu", [False, True])
def test_conv2d_integers_equal_torch(engine, per_channel, bias, relu):
    # x86 runs convolutions with symmetric weights through oneDNN, which rounds differently from fbgemm
    torch.backends.quantized.engine = engine
    ember.backends.quantized.engine = engine
    try:
        rng = numpy.random.default_rng(int(per_channel) * 4 + int(bias) * 2 + int(relu))
        x_t, x_e = _q(rng.standard_normal((2, 6, 9, 8)) * 2, 0.05, 60)
        w_t, w_e = _weight(rng, (8, 3, 3, 3), per_channel)
        b = rng.standard_normal(8).astype(numpy.float32) if bias else None
        cls_t = torch.ao.nn.intrinsic.quantized.ConvReLU2d if relu else torch.ao.nn.quantized.Conv2d
        cls_e = ember.ao.nn.intrinsic.quantized.ConvReLU2d if relu else ember.ao.nn.quantized.Conv2d
        conv_t = cls_t(6, 8, 3, stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2, bias=bias)
        conv_e = cls_e(6, 8, 3, stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2, bias=bias)
        conv_t.set_weight_bias(w_t, None if b is None else torch.from_numpy(b))
        conv_e.set_weight_bias(w_e, None if b is None else ember.tensor(b))
        conv_t.scale = conv_e.scale = 0.2
        conv_t.zero_point = conv_e.zero_point = 70
        _assert_same(conv_t(x_t), conv_e(x_e))
        assert repr(conv_e).replace("ember", "torch") == repr(conv_t)
    finally:
        torch.backends.quantized.engine = "x86"
        ember.backends.quantized.engine = "x86"


def test_conv1d_and_linear_integers_equal_torch():
    rng = numpy.random.default_rng(5)
    x_t, x_e = _q(rng.standard_normal((3, 4, 11)) * 2, 0.04, 128)
    w_t, w_e = _weight(rng, (5, 4, 3), True)
    conv_t, conv_e = torch.ao.nn.quantized.Conv1d(4, 5, 3, padding=1), ember.ao.nn.quantized.Conv1d(4, 5, 3, padding=1)
    b = rng.standard_normal(5).astype(numpy.float32)
    conv_t.set_weight_bias(w_t, torch.from_numpy(b))
    conv_e.set_weight_bias(w_e, ember.tensor(b))
    conv_t.scale = conv_e.scale = 0.1
    conv_t.zero_point = conv_e.zero_point = 64
    _assert_same(conv_t(x_t), conv_e(x_e))
    for relu, per_channel in [(False, False), (True, True)]:
        x_t, x_e = _q(rng.standard_normal((3, 7, 20)) * 3, 0.05, 120)
        w_t, w_e = _weight(rng, (9, 20), per_channel)
        cls = "ao.nn.intrinsic.quantized.LinearReLU" if relu else "ao.nn.quantized.Linear"
        lin_t, lin_e = eval(f"torch.{cls}")(20, 9), eval(f"ember.{cls}")(20, 9)
        b = rng.standard_normal(9).astype(numpy.float32)
        lin_t.set_weight_bias(w_t, torch.from_numpy(b))
        lin_e.set_weight_bias(w_e, ember.tensor(b))
        lin_t.scale = lin_e.scale = 0.3
        lin_t.zero_point = lin_e.zero_point = 90
        _assert_same(lin_t(x_t), lin_e(x_e))
        assert repr(lin_e).replace("ember", "torch") == repr(lin_t)
        assert list(lin_e.state_dict()) == list(lin_t.state_dict())


def test_qfunctional_ops_equal_torch():
    rng = numpy.random.default_rng(1)
    a_t, a_e = _q(rng.standard_normal((4, 300)) * 2, 0.02, 130)
    b_t, b_e = _q(rng.standard_normal((4, 300)) * 2, 0.03, 110)
    f_t, f_e = torch.ao.nn.quantized.QFunctional(), ember.ao.nn.quantized.QFunctional()
    f_t.scale = f_e.scale = 0.05
    f_t.zero_point = f_e.zero_point = 128
    for name in ("add", "mul", "add_relu"):
        _assert_same(getattr(f_t, name)(a_t, b_t), getattr(f_e, name)(a_e, b_e))
    _assert_same(f_t.cat([a_t, b_t], 1), f_e.cat([a_e, b_e], 1))
    for other in (0.7, -0.7, 3.0, -4.5, 0.0):
        _assert_same(f_t.mul_scalar(a_t, other), f_e.mul_scalar(a_e, other))
    for other in (0.7, -0.3, 2.9, -3.0):
        _assert_same(f_t.add_scalar(a_t, other), f_e.add_scalar(a_e, other))
    assert repr(f_e) == repr(f_t)
    assert {k: float(v) for k, v in f_e.state_dict().items()} == {k: float(v) for k, v in f_t.state_dict().items()}


def test_quantized_activation_modules_equal_torch():
    rng = numpy.random.default_rng(2)
    x_t, x_e = _q(rng.standard_normal((3, 5, 40)) * 3, 0.07, 120)
    nnq_t, nnq_e = torch.ao.nn.quantized, ember.ao.nn.quantized
    for name, args in [("ReLU6", ()), ("Hardswish", (0.05, 100)), ("ELU", (0.06, 90, 0.5)),
                       ("LeakyReLU", (0.04, 80, 0.2)), ("Sigmoid", (1 / 256, 0))]:
        m_t, m_e = getattr(nnq_t, name)(*args), getattr(nnq_e, name)(*args)
        _assert_same(m_t(x_t), m_e(x_e), steps=1 if name == "ELU" else 0)   # torch's SLEEF exp: 1 step, rarely
        assert repr(m_e) == repr(m_t)
        assert list(m_e.state_dict()) == list(m_t.state_dict())
    bn_t, bn_e = nnq_t.BatchNorm2d(5), nnq_e.BatchNorm2d(5)
    stats = {"weight": rng.uniform(0.5, 2, 5), "bias": rng.standard_normal(5), "running_mean": rng.standard_normal(5),
             "running_var": rng.uniform(0.5, 2, 5)}
    bn_t.load_state_dict({**bn_t.state_dict(), **{k: torch.tensor(v, dtype=torch.float32) for k, v in stats.items()},
                          "scale": torch.tensor(0.1), "zero_point": torch.tensor(60)})
    bn_e.load_state_dict({**bn_e.state_dict(), **{k: ember.tensor(v, dtype=ember.float32) for k, v in stats.items()},
                          "scale": ember.tensor(0.1), "zero_point": ember.tensor(60)})
    x_t, x_e = _q(rng.standard_normal((2, 5, 4, 4)), 0.05, 128)
    _assert_same(bn_t(x_t), bn_e(x_e), steps=1)


@pytest.mark.parametrize("name, fn", [
    ("relu", lambda m, q: m.nn.functional.relu(q)),
    ("relu_", lambda m, q: m.nn.functional.relu(q, inplace=True)),
    ("relu6", lambda m, q: m.nn.functional.relu6(q)),
    ("hardtanh", lambda m, q: m.nn.functional.hardtanh(q, -0.5, 2.0)),
    ("leaky_relu", lambda m, q: m.nn.functional.leaky_relu(q, 0.2)),
    ("hardsigmoid", lambda m, q: m.nn.functional.hardsigmoid(q)),
    ("sigmoid", lambda m, q: q.sigmoid()),
    ("sigmoid_function", lambda m, q: m.sigmoid(q)),
    ("tanh_function", lambda m, q: m.tanh(q)),
    ("max_pool2d", lambda m, q: m.nn.functional.max_pool2d(q, 3, 2, 1)),
    ("max_pool2d_ceil", lambda m, q: m.nn.functional.max_pool2d(q, 2, ceil_mode=True)),
    ("avg_pool2d", lambda m, q: m.nn.functional.avg_pool2d(q, 3, 2, 1)),
    ("avg_pool2d_no_pad", lambda m, q: m.nn.functional.avg_pool2d(q, 3, 2, 1, count_include_pad=False)),
    ("adaptive_avg_pool2d", lambda m, q: m.nn.functional.adaptive_avg_pool2d(q, (3, 5))),
    ("global_pool", lambda m, q: m.nn.functional.adaptive_avg_pool2d(q, 1)),
    ("adaptive_avg_pool1d", lambda m, q: m.nn.functional.adaptive_avg_pool1d(q.flatten(2), 4)),
    ("mean", lambda m, q: q.mean([2, 3])),
    ("flatten", lambda m, q: m.flatten(q, 1)),
    ("cat", lambda m, q: m.cat([q, m.quantize_per_tensor(m.ones(2, 3, 9, 7), 0.02, 3, m.quint8)], 1)),
    ("chunk", lambda m, q: q.chunk(2, dim=1)[1]),
    ("channel_shuffle", lambda m, q: q.view(2, 2, 3, 9, 7).transpose(1, 2).contiguous().view(2, -1, 9, 7)),
    ("squeeze", lambda m, q: q[:, :1].squeeze(1).unsqueeze(0)),
    ("dropout", lambda m, q: m.nn.functional.dropout(q, training=False)),
    ("upsample_nearest", lambda m, q: m.nn.functional.interpolate(q, scale_factor=2)),
    ("upsample_nearest_size", lambda m, q: m.nn.functional.interpolate(q, size=(10, 13))),
    ("upsample_bilinear", lambda m, q: m.nn.functional.interpolate(q, scale_factor=2, mode="bilinear")),
    ("downsample_bilinear", lambda m, q: m.nn.functional.interpolate(q, size=(5, 4), mode="bilinear")),
    ("bilinear_align_corners", lambda m, q: m.nn.Upsample(size=(10, 13), mode="bilinear", align_corners=True)(q)),
    ("transpose_function", lambda m, q: m.transpose(q, 1, 2).contiguous()),
    ("permute_function", lambda m, q: m.permute(q, (0, 2, 3, 1))),
    ("squeeze_function", lambda m, q: m.unsqueeze(m.squeeze(q[:, :1], 1), 0)),
    ("clamp", lambda m, q: m.clamp(q, 0.1, 3.0)),
    ("clamp_method_max", lambda m, q: q.clamp(max=2.0)),
    ("clamp_min_between_steps", lambda m, q: m.clamp(q, min=-0.123)),
])
def test_ops_on_quantized_tensors_equal_torch(name, fn):
    rng = numpy.random.default_rng(3)
    values = rng.standard_normal((2, 6, 9, 7)) * 3
    q_t, q_e = _q(values, 0.07, 120)
    _assert_same(fn(torch, q_t), fn(ember, q_e))


def test_cat_of_differing_qparams_warns_as_torch():
    a_t, a_e = _q(numpy.ones((2, 3)), 0.1, 10)
    b_t, b_e = _q(numpy.ones((2, 3)), 0.2, 10)
    with pytest.warns(UserWarning, match="All inputs of this cat operator must share the same quantization"):
        torch.cat([a_t, b_t])
    with pytest.warns(UserWarning, match="All inputs of this cat operator must share the same quantization"):
        ember.cat([a_e, b_e])


def test_quantized_functional_namespace():
    rng = numpy.random.default_rng(4)
    x_t, x_e = _q(rng.standard_normal((1, 4, 6, 6)), 0.05, 100)
    w_t, w_e = _weight(rng, (3, 4, 1, 1), False)
    b = rng.standard_normal(3).astype(numpy.float32)
    qf_t, qf_e = torch.ao.nn.quantized.functional, ember.nn.quantized.functional
    _assert_same(qf_t.conv2d(x_t, w_t, torch.from_numpy(b), scale=0.1, zero_point=10),
                 qf_e.conv2d(x_e, w_e, ember.tensor(b), scale=0.1, zero_point=10))
    _assert_same(qf_t.hardswish(x_t, 0.02, 50), qf_e.hardswish(x_e, 0.02, 50))
    _assert_same(qf_t.max_pool2d(x_t, 2), qf_e.max_pool2d(x_e, 2))


@pytest.mark.parametrize("zero_point", [0, 3, 35, 36])
def test_average_pooling_rounds_the_mean_half_to_even_as_torch(zero_point):
    """PyTorch rounds the mean of the stored integers (padding counting as the zero point) half to even, whatever
    the zero point: 72.5 -> 72 and 73.5 -> 74 (rounding the mean less the zero point moves ties by an odd one)."""
    ints = numpy.array([[72] * 8 + [73] * 8, [73] * 8 + [74] * 8, [20] * 8 + [21] * 8, [41] * 16])
    values = ((ints - zero_point) * 0.1).reshape(1, 4, 4, 4).astype(numpy.float32)
    t, e = _q(values, 0.1, zero_point)
    F_t, F_e = torch.nn.functional, ember.nn.functional
    _assert_same(F_t.adaptive_avg_pool2d(t, 1), F_e.adaptive_avg_pool2d(e, 1))
    _assert_same(F_t.adaptive_avg_pool2d(t, (2, 2)), F_e.adaptive_avg_pool2d(e, (2, 2)))
    _assert_same(F_t.avg_pool2d(t, 4), F_e.avg_pool2d(e, 4))
    _assert_same(F_t.avg_pool2d(t, 2, stride=2, padding=1), F_e.avg_pool2d(e, 2, stride=2, padding=1))
    _assert_same(t.mean((2, 3)), e.mean((2, 3)))
