"""Every layer beside its torch.nn twin: same state_dict keys and shapes, same printed form, same outputs and
gradients once torch's weights are copied in, and default initialisation with torch's distribution."""
import numpy
import pytest
import torch

import ember
from tests.oracle import assert_same, sample

F32 = numpy.float32
X2, X3, X4 = sample((4, 6), F32), sample((2, 4, 9), F32), sample((2, 4, 8, 7), F32)
X5 = sample((1, 2, 4, 5, 4), F32)
INDICES = numpy.array([[1, 2, 4], [4, 3, 9]], dtype=numpy.int64)

# (layer name, constructor args, constructor kwargs, input)
LAYERS = [
    ("Identity", (), {}, X2), ("Linear", (6, 3), {}, X2), ("Linear", (6, 3), dict(bias=False), X3[..., :6]),
    ("Bilinear", (6, 6, 2), {}, (X2, X2[::-1].copy())), ("Flatten", (), {}, X4), ("Unflatten", (1, (2, 2)), {}, X3),
    ("Conv1d", (4, 6, 3), dict(stride=2, padding=1), X3), ("Conv1d", (4, 4, 3), dict(groups=2, padding="same"), X3),
    ("Conv2d", (4, 5, 3), {}, X4), ("Conv2d", (4, 6, (3, 2)), dict(stride=(2, 1), dilation=2, groups=2), X4),
    ("Conv2d", (4, 5, 3), dict(padding=1, padding_mode="reflect"), X4),
    ("Conv2d", (4, 5, 3), dict(padding=2, padding_mode="circular", bias=False), X4),
    ("Conv3d", (2, 3, 2), dict(padding=1), X5),
    ("ConvTranspose1d", (4, 3, 3), dict(stride=2, output_padding=1), X3),
    ("ConvTranspose2d", (4, 2, 3), dict(stride=2, padding=1), X4),
    ("MaxPool1d", (3,), dict(stride=2), X3), ("MaxPool2d", (2,), {}, X4),
    ("MaxPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True), X4),
    ("AvgPool1d", (3,), {}, X3), ("AvgPool2d", (3,), dict(stride=2, padding=1, count_include_pad=False), X4),
    ("AdaptiveAvgPool1d", (4,), {}, X3), ("AdaptiveAvgPool2d", ((3, 2),), {}, X4), ("AdaptiveAvgPool2d", (1,), {}, X4),
    ("AdaptiveMaxPool2d", ((3, 4),), {}, X4),
    ("BatchNorm1d", (4,), {}, X3), ("BatchNorm1d", (6,), dict(affine=False), X2), ("BatchNorm2d", (4,), {}, X4),
    ("BatchNorm2d", (4,), dict(momentum=None, track_running_stats=True), X4),
    ("LayerNorm", ((8, 7),), {}, X4), ("LayerNorm", (6,), dict(elementwise_affine=False), X2),
    ("GroupNorm", (2, 4), {}, X4), ("InstanceNorm2d", (4,), dict(affine=True), X4), ("InstanceNorm1d", (4,), {}, X3),
    ("Dropout", (0.3,), {}, X2), ("Dropout2d", (0.3,), {}, X4), ("AlphaDropout", (0.2,), {}, X2),
    ("Embedding", (10, 3), dict(padding_idx=1), INDICES), ("Embedding", (10, 3), dict(max_norm=1.0), INDICES),
    ("EmbeddingBag", (10, 3), dict(mode="mean"), INDICES),
    ("ReLU", (), {}, X2), ("ReLU6", (), {}, X2 * 4), ("LeakyReLU", (0.2,), {}, X2), ("PReLU", (), {}, X2),
    ("PReLU", (4,), {}, X4), ("ELU", (), dict(alpha=0.7), X2), ("SELU", (), {}, X2), ("CELU", (1.5,), {}, X2),
    ("GELU", (), {}, X2), ("GELU", (), dict(approximate="tanh"), X2), ("SiLU", (), {}, X2), ("Mish", (), {}, X2),
    ("Sigmoid", (), {}, X2), ("Tanh", (), {}, X2), ("Hardtanh", (-0.5, 0.5), {}, X2), ("Hardsigmoid", (), {}, X2 * 4),
    ("Hardswish", (), {}, X2 * 4), ("Softplus", (), dict(beta=2, threshold=1), X2), ("Softsign", (), {}, X2),
    ("Softmax", (), dict(dim=1), X2), ("LogSoftmax", (), dict(dim=-1), X2), ("Softmin", (), dict(dim=0), X2),
    ("GLU", (), {}, X2), ("Threshold", (0.1, 20.0), {}, X2),
]


def _build(lib, name, args, kwargs, seed=0):
    lib.manual_seed(seed)
    return getattr(lib.nn, name)(*args, **kwargs)


def _inputs(lib, x, grad):
    xs = x if isinstance(x, tuple) else (x,)
    return [lib.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in xs]


@pytest.mark.parametrize("name, args, kwargs, x", LAYERS, ids=[f"{r[0]}-{i}" for i, r in enumerate(LAYERS)])
def test_layer_matches_torch(name, args, kwargs, x):
    t_layer, e_layer = _build(torch, name, args, kwargs), _build(ember, name, args, kwargs)
    t_state, e_state = t_layer.state_dict(), e_layer.state_dict()
    assert list(e_state) == list(t_state)
    for key in t_state:
        assert tuple(e_state[key].shape) == tuple(t_state[key].shape), key
        assert str(e_state[key].dtype).split(".")[-1] == str(t_state[key].dtype).split(".")[-1], key
    assert repr(e_layer) == repr(t_layer)
    e_layer.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t_state.items()})
    for mode in ("train", "eval"):
        if "Dropout" in name and mode == "train":
            continue     # random masks differ between libraries; dropout statistics are tested in test_functional
        getattr(t_layer, mode)()
        getattr(e_layer, mode)()
        t_in, e_in = _inputs(torch, x, True), _inputs(ember, x, True)
        t_out, e_out = t_layer(*t_in), e_layer(*e_in)
        assert_same(e_out, t_out, rtol=1e-4, atol=1e-5)
        if not t_out.requires_grad:
            continue
        weight = numpy.random.default_rng(1).standard_normal(tuple(t_out.shape)).astype(F32)
        t_params, e_params = list(t_layer.parameters()), list(e_layer.parameters())
        t_leaves = [a for a in t_in if a.requires_grad] + t_params
        e_leaves = [a for a in e_in if a.requires_grad] + e_params
        t_grads = torch.autograd.grad(t_out, t_leaves, torch.tensor(weight), allow_unused=True)
        e_grads = ember.autograd.grad(e_out, e_leaves, ember.tensor(weight), allow_unused=True)
        for i, (eg, tg) in enumerate(zip(e_grads, t_grads)):
            if tg is None:
                assert eg is None or not eg.numpy().any()
            else:
                assert_same(eg, tg, rtol=1e-4, atol=1e-4, path=f"{mode} grad[{i}]")
        for key, value in t_layer.state_dict().items():   # running statistics move the same way
            assert_same(e_layer.state_dict()[key], value, rtol=1e-5, atol=1e-6, path=key)


# (layer, args, the uniform bound PyTorch draws weights and biases from: 1/sqrt(fan_in); None for other inits)
INIT_CASES = [("Linear", (300, 200), 300 ** -0.5), ("Conv2d", (16, 32, 3), (16 * 9) ** -0.5),
              ("Conv1d", (8, 16, 5), (8 * 5) ** -0.5), ("ConvTranspose2d", (32, 16, 3), (16 * 9) ** -0.5),
              ("Bilinear", (30, 40, 20), 30 ** -0.5), ("Embedding", (1000, 16), None), ("PReLU", (), None),
              ("BatchNorm2d", (8,), None), ("LayerNorm", (8,), None), ("GroupNorm", (2, 8), None)]


@pytest.mark.parametrize("name, args, bound", INIT_CASES, ids=[c[0] for c in INIT_CASES])
def test_default_initialisation_matches_torch_distribution(name, args, bound):
    t_state = _build(torch, name, args, {}).state_dict()
    e_state = _build(ember, name, args, {}).state_dict()
    for key, t_value in t_state.items():
        t_value, e_value = t_value.detach().numpy(), e_state[key].numpy()
        if t_value.size < 2 or t_value.std() == 0:
            numpy.testing.assert_array_equal(e_value, t_value, err_msg=key)
            continue
        if bound is not None:
            assert numpy.abs(t_value).max() <= bound and numpy.abs(e_value).max() <= bound, key
        if t_value.size >= 1000:
            assert abs(e_value.std() / t_value.std() - 1) < 0.05, key
            assert abs(e_value.mean() - t_value.mean()) < 0.05 * t_value.std(), key
            if bound is not None:
                assert numpy.abs(e_value).max() > 0.99 * bound, key
