"""ember.onnx.export checked in onnxruntime against ember's eager outputs and torch's outputs for the same weights."""
import io

import numpy
import pytest
import torch

import ember
import ember.nn as nn
import ember.onnx
from tests.jit.models import cnn, mlp, pair

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _export(model, args, **options):
    buffer = io.BytesIO()
    options.setdefault("input_names", [f"in{i}" for i in range(len(args))])
    ember.onnx.export(model, args, buffer, **options)
    onnx.checker.check_model(onnx.load_from_string(buffer.getvalue()))
    return ort.InferenceSession(buffer.getvalue(), providers=["CPUExecutionProvider"])


def _run(session, *inputs):
    return session.run(None, {i.name: numpy.asarray(x) for i, x in zip(session.get_inputs(), inputs)})


def _eager(model, *inputs):
    with ember.no_grad():
        out = model(*[ember.from_numpy(x) for x in inputs])
    return [o.numpy() for o in _flatten(out)]


def _flatten(out):
    return [t for o in out for t in _flatten(o)] if isinstance(out, tuple) else [out]


def _check(model, *inputs, atol=1e-4, **options):
    model.eval()
    session = _export(model, tuple(ember.from_numpy(x) for x in inputs), **options)
    for got, expected in zip(_run(session, *inputs), _eager(model, *inputs)):
        numpy.testing.assert_allclose(got, expected, rtol=1e-4, atol=atol)
    return session


def _randn(*shape):
    return numpy.random.randn(*shape).astype(numpy.float32)


@pytest.mark.parametrize("opset", [17, 18, 19, 20])
@pytest.mark.parametrize("builder, shape", [(mlp, (3, 12)), (cnn, (2, 1, 12, 12))])
def test_mlp_and_cnn_match_ember_and_torch_with_a_dynamic_batch(builder, shape, opset):
    ember_model, torch_model = pair(builder)
    session = _export(ember_model, (ember.randn(*shape),), opset_version=opset, input_names=["x"],
                      output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    assert session.get_inputs()[0].shape[0] == "batch"
    for batch in (1, 6):
        x = _randn(batch, *shape[1:])
        got, = _run(session, x)
        numpy.testing.assert_allclose(got, _eager(ember_model, x)[0], rtol=1e-4, atol=1e-5)
        numpy.testing.assert_allclose(got, torch_model(torch.from_numpy(x)).detach().numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", [pytest.param("vgg11_bn", marks=pytest.mark.slow), "mobilenet_v2",
                                  pytest.param("resnet50", marks=pytest.mark.slow)])
def test_vision_models_with_a_dynamic_batch(name):
    from ember.vision import models
    model = getattr(models, name)(num_classes=7).eval()
    for module in model.modules():   # non-trivial running statistics, so batch norm is really exercised
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
    session = _export(model, (ember.randn(1, 3, 32, 32),), input_names=["x"], dynamic_axes={"x": [0]})
    x = _randn(3, 3, 32, 32)
    got, = _run(session, x)
    expected, = _eager(model, x)
    assert numpy.abs(expected).max() > 1e-3
    numpy.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_resnet18_with_a_dynamic_batch_matches_torchvision_with_the_same_weights():
    from tests.vision import tv_oracle
    torchvision = tv_oracle.load()
    from ember.vision import models
    model = models.resnet18(num_classes=5).eval()
    reference = torchvision.models.resnet18(num_classes=5)
    reference.load_state_dict({k: torch.from_numpy(numpy.array(v.numpy())) for k, v in model.state_dict().items()})
    session = _export(model, (ember.randn(1, 3, 32, 32),), input_names=["x"], dynamic_axes={"x": [0]})
    x = _randn(2, 3, 32, 32)
    with torch.no_grad():
        expected = reference.eval()(torch.from_numpy(x)).numpy()
    numpy.testing.assert_allclose(_run(session, x)[0], expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("layer, shape", [
    (lambda: nn.LayerNorm(6), (2, 4, 6)), (lambda: nn.GroupNorm(2, 4), (2, 4, 5)),
    (lambda: nn.InstanceNorm2d(4), (2, 4, 5, 5)), (lambda: nn.BatchNorm1d(4), (3, 4)),
    (lambda: nn.GELU(), (2, 8)), (lambda: nn.GELU("tanh"), (2, 8)), (lambda: nn.SiLU(), (2, 8)),
    (lambda: nn.ELU(), (2, 8)), (lambda: nn.LeakyReLU(0.1), (2, 8)), (lambda: nn.Softplus(), (2, 8)),
    (lambda: nn.Hardswish(), (2, 8)), (lambda: nn.ReLU6(), (2, 8)), (lambda: nn.Sigmoid(), (2, 8)),
    (lambda: nn.Tanh(), (2, 8)), (lambda: nn.Softmax(1), (2, 8)), (lambda: nn.LogSoftmax(-1), (2, 8)),
    (lambda: nn.PReLU(), (2, 8)), (lambda: nn.Mish(), (2, 8)), (lambda: nn.Hardsigmoid(), (2, 8)),
    (lambda: nn.GroupNorm(2, 4), (2, 4, 3, 3)),
    (lambda: nn.Upsample(scale_factor=2), (1, 2, 3, 4)),
    (lambda: nn.Upsample(scale_factor=2, mode="bilinear"), (1, 2, 3, 4)),
    (lambda: nn.Upsample(size=(5, 7), mode="bilinear", align_corners=True), (1, 2, 3, 4)),
    (lambda: nn.PixelShuffle(2), (1, 8, 3, 3)), (lambda: nn.PixelUnshuffle(2), (1, 2, 4, 6)),
    (lambda: nn.AvgPool2d(2), (1, 2, 6, 6)), (lambda: nn.AdaptiveAvgPool2d(1), (1, 2, 5, 5)),
    (lambda: nn.AdaptiveMaxPool2d(1), (1, 2, 5, 5)), (lambda: nn.MaxPool1d(3, 2, 1), (1, 2, 9)),
    (lambda: nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1), (1, 2, 4, 4)),
    (lambda: nn.Conv1d(2, 4, 3, padding=1, groups=2), (2, 2, 7)), (lambda: nn.ReflectionPad2d(1), (1, 2, 3, 3)),
])
def test_activations_normalisations_resampling(layer, shape):
    _check(layer(), _randn(*shape))


class _Pointwise(nn.Module):
    def forward(self, a, b, c):
        return ember.addcmul(a, b, c, value=0.5) - ember.addcdiv(a, b, c, value=2) + c.reciprocal() + a.add(b, alpha=3)


def test_addcmul_addcdiv_reciprocal_and_scaled_add():
    _check(_Pointwise(), _randn(3, 4), _randn(1, 4), numpy.random.rand(3, 1).astype(numpy.float32) + 1)


def test_embedding_and_embedding_bag():
    indices = numpy.array([[1, 2, 9], [0, 4, 4]], dtype=numpy.int64)
    _check(nn.Embedding(10, 3), indices)
    for mode in ("sum", "mean", "max"):
        _check(nn.EmbeddingBag(10, 3, mode=mode), indices)


def test_transformer_encoder_with_masks():
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    model = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)

    class Masked(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = model

        def forward(self, x, padding):
            causal = ember.ones(x.shape[1], x.shape[1], dtype=ember.bool).triu(1)
            return self.encoder(x, mask=causal, src_key_padding_mask=padding)
    model = Masked().eval()
    padding = numpy.array([[False] * 5, [False, False, False, True, True]])
    with pytest.warns(ember.jit.TracerWarning, match="Python boolean"):   # the causal-mask test, as in torch
        session = _export(model, (ember.from_numpy(_randn(2, 5, 8)), ember.from_numpy(padding)),
                          dynamic_axes={"in0": [0, 1], "in1": [0, 1]})
    for batch, length in ((2, 5), (3, 9)):   # the masks are built from the input's sizes, in the graph
        x, padding = _randn(batch, length, 8), numpy.zeros((batch, length), bool)
        padding[0, -2:] = True
        got, = _run(session, x, padding)
        numpy.testing.assert_allclose(got, _eager(model, x, padding)[0], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_recurrent_layers_batch_first_layers_bidirectional(mode):
    layer = getattr(nn, mode)(4, 5, num_layers=2, batch_first=True, bidirectional=True)
    _check(layer, _randn(2, 3, 4))


def test_export_params_false_makes_weights_inputs():
    model = mlp(nn).eval()
    buffer = io.BytesIO()
    ember.onnx.export(model, (ember.randn(2, 12),), buffer, export_params=False)
    proto = onnx.load_from_string(buffer.getvalue())
    assert not proto.graph.initializer or all(i.name not in model.state_dict() for i in proto.graph.initializer)
    assert {"0.weight", "0.bias", "4.weight"} <= {i.name for i in proto.graph.input}


def test_unsupported_op_names_the_op_and_module():
    class Odd(nn.Module):
        def __init__(self):
            super().__init__()
            self.head = nn.Linear(3, 3)

        def forward(self, x):
            return ember.bincount(self.head(x).argmax(1))
    with pytest.raises(ember.onnx.errors.UnsupportedOperatorError, match="operator 'bincount' to ONNX opset version "
                                                                         "17 is not supported"):
        ember.onnx.export(Odd(), (ember.randn(2, 3),), io.BytesIO())


def test_training_dropout_is_refused_and_eval_is_the_default():
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5)).train()
    _export(model, (ember.randn(2, 3),))   # TrainingMode.EVAL (the default) exports in eval mode
    assert model.training
    with pytest.raises(ember.onnx.OnnxExporterError, match="dropout in training mode"):
        ember.onnx.export(model, (ember.randn(2, 3),), io.BytesIO(), training=ember.onnx.TrainingMode.TRAINING)


def test_opset_out_of_range():
    with pytest.raises(ValueError, match="opset versions 17 to 20"):
        ember.onnx.export(mlp(nn), (ember.randn(2, 12),), io.BytesIO(), opset_version=9)


def test_traced_module_exports_and_file_path(tmp_path):
    model = cnn(nn).eval()
    traced = ember.jit.trace(model, ember.randn(2, 1, 12, 12))
    ember.onnx.export(traced, (ember.randn(2, 1, 12, 12),), tmp_path / "cnn.onnx", input_names=["x"])
    session = ort.InferenceSession(str(tmp_path / "cnn.onnx"), providers=["CPUExecutionProvider"])
    x = _randn(2, 1, 12, 12)
    numpy.testing.assert_allclose(_run(session, x)[0], _eager(model, x)[0], rtol=1e-4, atol=1e-5)


def test_transformer_encoder_with_dynamic_batch_and_sequence():
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    model = nn.Sequential(nn.Embedding(20, 8), nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)).eval()
    tokens = numpy.random.randint(0, 20, (2, 5))
    traced = ember.jit.trace(model, ember.from_numpy(tokens))   # sizes from shapes are recorded, not frozen
    session = _export(model, (ember.from_numpy(tokens),), input_names=["tokens"],
                      dynamic_axes={"tokens": {0: "batch", 1: "sequence"}})
    for batch, length in ((3, 5), (2, 9), (4, 11)):
        tokens = numpy.random.randint(0, 20, (batch, length))
        expected, = _eager(model, tokens)
        numpy.testing.assert_allclose(_run(session, tokens)[0], expected, rtol=1e-4, atol=1e-5)
        with ember.no_grad():
            numpy.testing.assert_allclose(traced(ember.from_numpy(tokens)).numpy(), expected, rtol=1e-6, atol=1e-6)


class MasksAndCounts(nn.Module):
    """Bool masks combined with & | ^ ~, mixed-dtype arithmetic (bool and int64 promoted to float), one_hot."""

    def forward(self, x, classes):
        mask = (x > 0) & ~(x > 1) | (x < -2)
        picked = ember.where(ember.logical_xor(mask, x < 0.5), x, -x) * (x > -0.5)
        tests = x.isnan() | ember.isposinf(x) | ember.isneginf(x) ^ ~x.isfinite() | x.isinf()
        return picked + classes + nn.functional.one_hot(classes, 7).sum(-1) * ember.logical_not(mask) + tests


@pytest.mark.parametrize("opset", [17, 18])
def test_masks_mixed_dtypes_and_one_hot_follow_the_inputs(opset):
    x, classes = _randn(3, 4), numpy.random.default_rng(0).integers(0, 7, (3, 4))
    session = _export(MasksAndCounts(), (ember.from_numpy(x), ember.from_numpy(classes)), opset_version=opset)
    other_x, other_classes = _randn(3, 4) * 3, numpy.random.default_rng(1).integers(0, 7, (3, 4))
    other_x[0, :3] = [numpy.nan, numpy.inf, -numpy.inf]
    got, = _run(session, other_x, other_classes)
    numpy.testing.assert_allclose(got, _eager(MasksAndCounts(), other_x, other_classes)[0], rtol=1e-6)


def test_integer_bitwise_ops_need_opset_18():
    class Bits(nn.Module):
        def forward(self, k):
            return (k & 6) ^ ~k

    k = numpy.arange(12).reshape(3, 4)
    with pytest.raises(ember.onnx.OnnxExporterError, match="needs ONNX opset 18"):
        _export(Bits(), (ember.from_numpy(k),), opset_version=17)
    session = _export(Bits(), (ember.from_numpy(k),), opset_version=18)
    numpy.testing.assert_array_equal(_run(session, k * 7)[0], (k * 7 & 6) ^ ~(k * 7))


def test_floor_division_and_nonzero():
    class Model(nn.Module):
        def forward(self, x, k):
            return (x // 0.75).sum() + (k // 3).sum() + (-k // 4).sum() + (x > 0.5).nonzero().sum()

    x, k = _randn(4, 5), numpy.random.default_rng(2).integers(-9, 9, (4, 5))
    session = _export(Model(), (ember.from_numpy(x), ember.from_numpy(k)))
    other_x, other_k = _randn(4, 5) * 2, numpy.random.default_rng(3).integers(-20, 20, (4, 5))
    numpy.testing.assert_allclose(_run(session, other_x, other_k)[0], _eager(Model(), other_x, other_k)[0])


def test_arguments_passed_by_keyword_reach_the_converters():
    """Keywords are recorded at their parameter's position (gaps take defaults): a padding given by name is not
    read as the stride, keepdim not as the dim, training=True by name is still refused."""
    class Model(nn.Module):
        def forward(self, x):
            pooled = nn.functional.max_pool2d(x, 3, padding=1) + nn.functional.avg_pool2d(x, 3, padding=1)
            return pooled.argmax(keepdim=True).float() + nn.functional.dropout(pooled, training=False).sum()

    _check(Model(), _randn(1, 2, 6, 6))

    class Training(nn.Module):
        def forward(self, x):
            return nn.functional.dropout(x, training=True)

    with pytest.raises(ember.onnx.OnnxExporterError, match="training mode"):
        _export(Training(), (ember.randn(2, 3),))


def test_sorting_gathering_running_sums_and_remainders():
    class Model(nn.Module):
        def forward(self, x, k):
            top = x.topk(2, dim=0, largest=False).values.sum() + x.sort(1, descending=True).values
            order = x.argsort(dim=1).float() + x.gather(1, x.argsort(dim=1)) + (x > 0).cumsum(1) + x.cumsum(0)
            return top + order + x % 0.7 + ember.fmod(x, 0.7) + (k % 3) + ember.fmod(k, 3) + (k % -4)

    x, k = _randn(3, 5), numpy.random.default_rng(4).integers(-9, 9, (3, 5))
    session = _export(Model(), (ember.from_numpy(x), ember.from_numpy(k)), dynamic_axes={"in0": {1: "n"},
                                                                                          "in1": {1: "n"}})
    other_x, other_k = _randn(3, 7) * 2, numpy.random.default_rng(5).integers(-20, 20, (3, 7))
    numpy.testing.assert_allclose(_run(session, other_x, other_k)[0], _eager(Model(), other_x, other_k)[0],
                                  rtol=1e-5, atol=1e-5)


def test_norms_reductions_repeat_and_flip():
    class Model(nn.Module):
        def forward(self, x):
            reduced = x.norm(p=3, dim=0) + x.norm(p=1, dim=1, keepdim=True) + x.norm() + x.prod(1, keepdim=True)
            return reduced + x.logsumexp(dim=2, keepdim=True) + x.repeat(2, 1, 2, 1).sum(0)[:, 1:4] + x.flip(0, 2)

    _check(Model(), _randn(2, 3, 4))


@pytest.mark.parametrize("layer, shape", [(lambda: nn.Conv1d(4, 6, 3, padding=1, groups=2), (2, 4, 9)),
                                          (lambda: nn.Conv2d(3, 5, 3, stride=2), (2, 3, 9, 9)),
                                          (lambda: nn.Conv2d(4, 4, 3, padding=1, groups=4), (1, 4, 6, 6)),
                                          (lambda: nn.Conv3d(2, 3, 2), (1, 2, 4, 5, 4))])
@pytest.mark.parametrize("bias", [True, False])
def test_a_convolution_exports_its_bias_as_the_conv_input(layer, shape, bias):
    """The bias the convolution adds itself is ONNX Conv's third input, with no Add after it."""
    model = layer()
    if not bias:
        model.bias = None
    buffer = io.BytesIO()
    ember.onnx.export(model.eval(), (ember.randn(*shape),), buffer, input_names=["x"])
    nodes = onnx.load_from_string(buffer.getvalue()).graph.node
    assert [node.op_type for node in nodes if node.op_type != "Identity"] == ["Conv"]
    assert len(nodes[0].input) == (3 if bias else 2)
    _check(model, _randn(*shape))


def test_no_private_export_function():
    # torch.onnx._export (PyTorch < 2's exporter, which the fast-neural-style example still calls) is gone: an
    # AttributeError, as in PyTorch, not ember's exporter module.
    for lib in (ember, torch):
        with pytest.raises(AttributeError, match="has no attribute '_export'"):
            lib.onnx._export
