"""fake_quantize_per_tensor_affine / fake_quantize_per_channel_affine and the FakeQuantize module against torch:
values bit for bit (float32 and float64 inputs, integer and float zero points), straight-through gradients,
errors, and several training batches through FakeQuantize."""
import numpy
import pytest
import torch

import ember

pytestmark = pytest.mark.filterwarnings("ignore:Please use quant_min and quant_max:UserWarning")


def _inputs(rng, shape, scale, dtype):
    x = (rng.standard_normal(shape) * scale * 30).astype(dtype)
    ties = ((rng.integers(-50, 50, shape) + 0.5) * numpy.float32(scale)).astype(dtype)
    x[..., ::2] = ties[..., ::2]
    return x


def _run(fn_torch, fn_ember, x, grad):
    t = torch.from_numpy(x).requires_grad_()
    e = ember.tensor(x, requires_grad=True)
    yt, ye = fn_torch(t), fn_ember(e)
    yt.backward(torch.from_numpy(grad))
    ye.backward(ember.tensor(grad))
    numpy.testing.assert_array_equal(ye.detach().numpy(), yt.detach().numpy())
    numpy.testing.assert_array_equal(e.grad.numpy(), t.grad.numpy())
    assert ye.dtype.name == str(yt.dtype).split(".")[1]
    return yt, ye


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
def test_per_tensor_values_and_gradients(dtype):
    rng = numpy.random.default_rng(5)
    for _ in range(60):
        n = int(rng.integers(1, 100))
        scale, zero_point = float(rng.uniform(0.01, 2)), int(rng.integers(0, 20))
        quant_max = int(rng.choice([31, 127, 255]))
        x = _inputs(rng, (3, n), scale, dtype)
        grad = rng.standard_normal((3, n)).astype(dtype)
        _run(lambda t: torch.fake_quantize_per_tensor_affine(t, scale, zero_point, 0, quant_max),
             lambda e: ember.fake_quantize_per_tensor_affine(e, scale, zero_point, 0, quant_max), x, grad)
        _run(lambda t: torch.fake_quantize_per_tensor_affine(t, torch.tensor(scale), torch.tensor(
                 zero_point, dtype=torch.int32), 0, quant_max),
             lambda e: ember.fake_quantize_per_tensor_affine(e, ember.tensor(scale), ember.tensor(
                 zero_point, dtype=ember.int32), 0, quant_max), x, grad)


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
@pytest.mark.parametrize("float_zero_point", [False, True])
def test_per_channel_values_and_gradients(dtype, float_zero_point):
    rng = numpy.random.default_rng(6)
    for _ in range(40):
        axis = int(rng.integers(0, 2))
        shape = (3, int(rng.integers(1, 40)))
        scales = rng.uniform(0.01, 2, shape[axis]).astype(numpy.float32)
        zero_points = rng.integers(0, 20, shape[axis]).astype(numpy.int32)
        if float_zero_point:
            zero_points = (zero_points + rng.random(shape[axis])).astype(numpy.float32)
        x = (rng.standard_normal(shape) * 30).astype(dtype)
        grad = rng.standard_normal(shape).astype(dtype)
        yt, ye = _run(lambda t: torch.fake_quantize_per_channel_affine(
                          t, torch.from_numpy(scales), torch.from_numpy(zero_points), axis, 0, 255),
                      lambda e: ember.fake_quantize_per_channel_affine(
                          e, ember.tensor(scales), ember.tensor(zero_points), axis, 0, 255), x, grad)
    assert type(ye.grad_fn).__name__ == type(yt.grad_fn).__name__ == "FakeQuantizePerChannelAffineCachemaskBackward0"


def test_tensor_qparams_take_any_zero_point_as_torch():
    x = numpy.array([0.0, 1.0, -1.0, 30.0], numpy.float32)
    for zero_point in (3.7, 300, -5):
        t = torch.fake_quantize_per_tensor_affine(torch.from_numpy(x), torch.tensor(0.1), torch.tensor(zero_point), 0,
                                                  255)
        e = ember.fake_quantize_per_tensor_affine(ember.tensor(x), ember.tensor(0.1), ember.tensor(zero_point), 0,
                                                  255)
        numpy.testing.assert_array_equal(e.numpy(), t.numpy())


def test_node_names():
    x = ember.randn(3, requires_grad=True)
    y = ember.fake_quantize_per_tensor_affine(x, 0.1, 3, 0, 255)
    assert type(y.grad_fn).__name__ == "FakeQuantizePerTensorAffineCachemaskBackward0"
    y = ember.fake_quantize_per_tensor_affine(x, ember.tensor(0.1), ember.tensor(3, dtype=ember.int32), 0, 255)
    assert type(y.grad_fn).__name__ == "FakeQuantizePerTensorAffineCachemaskTensorQparamsBackward0"


def test_errors_match_torch():
    cases = [
        lambda lib, x: lib.fake_quantize_per_tensor_affine(x, 0.1, 300, 0, 255),
        lambda lib, x: lib.fake_quantize_per_tensor_affine(x, 0.1, 3, 10, 5),
        lambda lib, x: lib.fake_quantize_per_tensor_affine(x.long(), 0.1, 3, 0, 5),
        lambda lib, x: lib.fake_quantize_per_tensor_affine(x, lib.tensor(0.1), lib.tensor(3), 10, 5),
        lambda lib, x: lib.fake_quantize_per_channel_affine(x.view(3, 1), lib.tensor([0.1, 0.2]),
                                                            lib.tensor([1, 2], dtype=lib.int32), 0, 0, 5),
        lambda lib, x: lib.fake_quantize_per_channel_affine(x.view(3, 1), lib.tensor([0.1, 0.2, 0.3]),
                                                            lib.tensor([1, 2], dtype=lib.int32), 0, 0, 5),
        lambda lib, x: lib.fake_quantize_per_channel_affine(x.view(3, 1), lib.tensor([0.1, 0.2, 0.3]),
                                                            lib.tensor([1, 2, 3], dtype=lib.int32), 2, 0, 5),
        lambda lib, x: lib.fake_quantize_per_channel_affine(x.view(3, 1), lib.tensor([0.1, 0.2, 0.3]),
                                                            lib.tensor([1, 2, 3], dtype=lib.int32), 0, 10, 5),
        lambda lib, x: lib.fake_quantize_per_channel_affine(x.view(3, 1), lib.tensor([0.1, 0.2, 0.3]),
                                                            lib.tensor([1, 2, 3]), 0, 0, 5),
        lambda lib, x: lib.fake_quantize_per_channel_affine(x.view(3, 1), lib.tensor([0.1, 0.2, 0.3]).double(),
                                                            lib.tensor([1, 2, 3], dtype=lib.int32), 0, 0, 5),
        lambda lib, x: lib.fake_quantize_per_channel_affine(x.view(3, 1), lib.tensor([0.1, 0.2, 0.3]),
                                                            lib.tensor([1, 2, 300], dtype=lib.int32), 0, 0, 255),
    ]
    for case in cases:
        with pytest.raises(Exception) as expected:
            case(torch, torch.randn(3))
        with pytest.raises(type(expected.value)) as got:
            case(ember, ember.randn(3))
        assert str(got.value) == str(expected.value)


def _fake_quant_pair(factory_name, **kwargs):
    torch_module = getattr(torch.ao.quantization, factory_name)
    ember_module = getattr(ember.ao.quantization, factory_name)
    return (torch_module(**kwargs) if kwargs else torch_module()), (ember_module(**kwargs) if kwargs else
                                                                   ember_module())


@pytest.mark.parametrize("factory", ["default_fake_quant", "default_weight_fake_quant",
                                     "default_per_channel_weight_fake_quant", "default_dynamic_fake_quant"])
def test_fake_quantize_module_over_batches(factory):
    rng = numpy.random.default_rng(7)
    tm, em = _fake_quant_pair(factory)
    assert repr(em).replace("ember", "torch") == repr(tm)
    for step in range(5):
        x = (rng.standard_normal((4, 6)) * (step + 1) + step * 0.3).astype(numpy.float32)
        grad = rng.standard_normal((4, 6)).astype(numpy.float32)
        _run(tm, em, x, grad)
        numpy.testing.assert_array_equal(em.scale.numpy(), tm.scale.numpy())
        numpy.testing.assert_array_equal(em.zero_point.numpy(), tm.zero_point.numpy())
        if step == 2:
            tm.apply(torch.ao.quantization.disable_observer)
            em.apply(ember.ao.quantization.disable_observer)
    assert repr(em).replace("ember", "torch") == repr(tm)
    tm.disable_fake_quant()
    em.disable_fake_quant()
    x = rng.standard_normal((4, 6)).astype(numpy.float32)
    numpy.testing.assert_array_equal(em(ember.tensor(x)).numpy(), tm(torch.from_numpy(x)).numpy())
    state = em.state_dict()
    assert list(state) == list(tm.state_dict())
    fresh = getattr(ember.ao.quantization, factory)()
    fresh.load_state_dict(state)
    numpy.testing.assert_array_equal(fresh.scale.numpy(), tm.scale.numpy())


def test_fake_quantize_constructor_errors():
    for kwargs in [dict(quant_min=10, quant_max=5), dict(quant_min=-1, quant_max=255),
                   dict(quant_min=0, quant_max=256)]:
        with pytest.raises(AssertionError) as expected:
            torch.ao.quantization.FakeQuantize(**kwargs)
        with pytest.raises(AssertionError) as got:
            ember.ao.quantization.FakeQuantize(**kwargs)
        assert str(got.value) == str(expected.value)


def test_quantization_aware_training_tracks_torch():
    """A small QAT model (fake-quantized activations, per-tensor and per-channel fake-quantized weights) trained
    side by side with torch: losses and parameters agree step after step."""
    def build(lib):
        q = lib.ao.quantization

        class Net(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1, self.fc2 = lib.nn.Linear(8, 16), lib.nn.Linear(16, 3)
                self.act, self.w1 = q.default_fake_quant(), q.default_weight_fake_quant()
                self.w2 = q.default_per_channel_weight_fake_quant()

            def forward(self, x):
                h = lib.nn.functional.linear(self.act(x), self.w1(self.fc1.weight), self.fc1.bias).relu()
                return lib.nn.functional.linear(h, self.w2(self.fc2.weight), self.fc2.bias)
        return Net()
    torch.manual_seed(0)
    tm, em = build(torch), build(ember)
    em.load_state_dict({k: ember.tensor(v.detach().clone().numpy()) for k, v in tm.state_dict().items()})
    optimizer_t, optimizer_e = torch.optim.SGD(tm.parameters(), lr=0.1), ember.optim.SGD(em.parameters(), lr=0.1)
    rng = numpy.random.default_rng(0)
    for _ in range(5):
        x, y = rng.standard_normal((16, 8)).astype(numpy.float32), rng.integers(0, 3, 16)
        loss_t = torch.nn.functional.cross_entropy(tm(torch.from_numpy(x)), torch.from_numpy(y))
        optimizer_t.zero_grad()
        loss_t.backward()
        optimizer_t.step()
        loss_e = ember.nn.functional.cross_entropy(em(ember.tensor(x)), ember.tensor(y))
        optimizer_e.zero_grad()
        loss_e.backward()
        optimizer_e.step()
        assert abs(loss_e.item() - loss_t.item()) < 1e-6
        for p_t, p_e in zip(tm.parameters(), em.parameters()):
            numpy.testing.assert_allclose(p_e.detach().numpy(), p_t.detach().numpy(), rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", ["default_fused_act_fake_quant", "default_fused_wt_fake_quant",
                                  "default_fused_per_channel_wt_fake_quant",
                                  "fused_per_channel_wt_fake_quant_range_neg_127_to_127", "reduce_range"])
def test_fused_moving_average_fake_quantize_matches_torch(name):
    def make(lib):
        q = lib.ao.quantization
        if name == "reduce_range":   # get_default_qat_qconfig("x86")'s activation
            return q.get_default_qat_qconfig("x86").activation()
        return getattr(q, name)()
    fq_t, fq_e = make(torch), make(ember)
    assert repr(fq_e).replace("ember", "torch") == repr(fq_t)
    rng = numpy.random.default_rng(3)
    for step in range(4):
        x = (rng.standard_normal((4, 3, 2, 2)) * (step + 1)).astype(numpy.float32)
        grad = rng.standard_normal(x.shape).astype(numpy.float32)
        _run(fq_t, fq_e, x, grad)
        numpy.testing.assert_array_equal(fq_e.scale.numpy(), fq_t.scale.numpy())
        numpy.testing.assert_array_equal(fq_e.zero_point.numpy(), fq_t.zero_point.numpy())
        numpy.testing.assert_array_equal(fq_e.activation_post_process.min_val.numpy(),
                                         fq_t.activation_post_process.min_val.numpy())
        if step == 1:
            fq_t.disable_observer()
            fq_e.disable_observer()
        if step == 2:
            fq_t.disable_fake_quant()
            fq_e.disable_fake_quant()
    assert sorted(fq_e.state_dict()) == sorted(fq_t.state_dict())
    assert repr(fq_e).replace("ember", "torch") == repr(fq_t)


def test_default_qat_qconfigs_print_as_torch():
    for backend in ("x86", "fbgemm", "qnnpack", "onednn"):
        for version in (0, 1):
            text = repr(ember.ao.quantization.get_default_qat_qconfig(backend, version))
            expected = repr(torch.ao.quantization.get_default_qat_qconfig(backend, version))
            assert text.replace("ember", "torch") == expected
