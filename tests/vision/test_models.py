"""ember.vision.models against torchvision: state_dict keys and shapes, parameter counts, initialisation, and
outputs and gradients after loading torchvision's weights into the ember model."""
import importlib
import importlib.util
import inspect
import math
import os
import sys
import types

import numpy
import pytest
import torch

import ember
from ember import nn
from ember.vision import models
from ember.vision.models import mobilenetv2, resnet, vgg
from tests.oracle import as_numpy

# torchvision's published sizes (the "num_params" of its ImageNet weights).
PUBLISHED_PARAMS = {"resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032,
                    "resnet101": 44_549_160, "resnet152": 60_192_808, "vgg11": 132_863_336,
                    "vgg16_bn": 138_365_992, "mobilenet_v2": 3_504_872}
_WEIGHT_ENUMS = {"resnet18": "ResNet18_Weights", "resnet34": "ResNet34_Weights", "resnet50": "ResNet50_Weights",
                 "resnet101": "ResNet101_Weights", "resnet152": "ResNet152_Weights", "vgg11": "VGG11_Weights",
                 "vgg16_bn": "VGG16_BN_Weights", "mobilenet_v2": "MobileNet_V2_Weights"}


def _import_torchvision_models():
    """torchvision.models' resnet, vgg and mobilenetv2 modules, or None.

    The torchvision installed next to CPU torch may be a CUDA build whose C extension fails to load, which breaks
    ``import torchvision``. The model definitions are pure Python, so they are then imported under stand-in
    parent packages that skip torchvision/__init__; the stand-ins are dropped from sys.modules afterwards."""
    names = ("resnet", "vgg", "mobilenetv2")
    before = set(sys.modules)
    try:
        return tuple(importlib.import_module(f"torchvision.models.{n}") for n in names)
    except Exception:  # not installed, or its C extension cannot load
        pass
    spec = importlib.util.find_spec("torchvision") if "torchvision" not in sys.modules else None
    if spec is None or not spec.submodule_search_locations:
        return None
    root = spec.submodule_search_locations[0]
    try:
        for name, path in (("torchvision", root), ("torchvision.models", os.path.join(root, "models"))):
            stand_in = types.ModuleType(name)
            stand_in.__path__ = [path]
            sys.modules[name] = stand_in
        return tuple(importlib.import_module(f"torchvision.models.{n}") for n in names)
    except Exception:
        return None
    finally:
        for name in set(sys.modules) - before:
            if name.startswith("torchvision"):
                del sys.modules[name]


@pytest.fixture(scope="module")
def tv():
    found = _import_torchvision_models()
    if found is None:
        pytest.skip("torchvision's model definitions cannot be imported")
    return types.SimpleNamespace(**dict(zip(("resnet", "vgg", "mobilenetv2"), found)))


def _tv_builder(tv, name):
    for module in (tv.resnet, tv.vgg, tv.mobilenetv2):
        if hasattr(module, name):
            return getattr(module, name)
    raise KeyError(name)


def _keys_and_shapes(model):
    return [(k, tuple(v.shape)) for k, v in model.state_dict().items()]


def _repr(model):
    """The module tree as printed, without the ``bias=`` that torch 2.13's BatchNorm repr gained."""
    return str(model).replace(", bias=True, track_running_stats", ", track_running_stats")


def _n_params(model):
    return sum(p.numel() for p in model.parameters())


def _randomize_norm_stats(torch_model):
    """Non-trivial BN statistics and affine terms, so eval-mode outputs test them."""
    with torch.no_grad():
        for m in torch_model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)


def _load_torch_weights(ember_model, torch_model):
    state = {k: ember.from_numpy(v.detach().numpy().copy()) for k, v in torch_model.state_dict().items()}
    return ember_model.load_state_dict(state)


def _assert_same_state_and_grads(ours, theirs):
    """Equal buffers (BN running statistics after a training forward) and parameter gradients, in float64."""
    ours_state = ours.state_dict()
    for key, value in theirs.state_dict().items():
        _assert_close(ours_state[key], value, rtol=1e-9, atol=1e-9, what=key)
    for key, param in theirs.named_parameters():
        # Cancellation leaves small entries with errors relative to the largest; a bias feeding a train-mode BN
        # has a gradient of zero up to rounding.
        scale = float(param.grad.abs().max())
        _assert_close(ours.get_parameter(key).grad, param.grad, rtol=1e-7, atol=max(1e-9 * scale, 1e-12),
                      what=f"{key}.grad")


def _assert_close(e, t, rtol=1e-4, atol=1e-4, what="output"):
    numpy.testing.assert_allclose(as_numpy(e), as_numpy(t), rtol=rtol, atol=atol, err_msg=what)


# --- builders ---------------------------------------------------------------------------------------------------
def test_list_models_and_builder_signatures():
    expected = {"lenet5", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d",
                "resnext101_32x8d", "resnext101_64x4d", "wide_resnet50_2", "wide_resnet101_2", "vgg11", "vgg11_bn",
                "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn", "mobilenet_v2"}
    assert set(models.list_models()) >= expected
    for name in expected:
        params = inspect.signature(getattr(models, name)).parameters
        assert [(p.name, p.kind, p.default) for p in params.values()] == [
            ("weights", inspect.Parameter.KEYWORD_ONLY, None), ("progress", inspect.Parameter.KEYWORD_ONLY, True),
            ("kwargs", inspect.Parameter.VAR_KEYWORD, inspect.Parameter.empty)], name
    assert models.get_model("lenet5", num_classes=3).classifier[4].out_features == 3
    with pytest.raises(ValueError, match="Unknown model"):
        models.get_model("lenet6")


def test_pretrained_false_warns_and_builds():
    with pytest.warns(UserWarning, match="'pretrained' is deprecated"), \
            pytest.warns(UserWarning, match="equivalent to passing `weights=None`"):
        model = models.lenet5(pretrained=False)
    assert isinstance(model, models.LeNet)


def test_published_parameter_counts_match_torchvision_metadata(tv):
    for name, count in PUBLISHED_PARAMS.items():
        module = tv.vgg if name.startswith("vgg") else tv.mobilenetv2 if name.startswith("mobile") else tv.resnet
        assert getattr(module, _WEIGHT_ENUMS[name]).IMAGENET1K_V1.meta["num_params"] == count


# --- state_dict layout ------------------------------------------------------------------------------------------
LAYOUT_CASES = [
    ("resnet18", {}), ("resnet34", {}), ("resnet50", {}), ("resnet101", {}), ("resnet152", {}),
    ("resnext50_32x4d", {}),
    ("resnet50", {"num_classes": 7, "zero_init_residual": True, "replace_stride_with_dilation": [False, True, True]}),
    ("mobilenet_v2", {}), ("mobilenet_v2", {"width_mult": 0.75, "num_classes": 5, "dropout": 0.1}),
]


@pytest.mark.parametrize("name, kwargs", LAYOUT_CASES, ids=lambda v: v if isinstance(v, str) else "")
def test_state_dict_layout_matches_torchvision(tv, name, kwargs):
    ours, theirs = getattr(models, name)(**kwargs), _tv_builder(tv, name)(**kwargs)
    assert _keys_and_shapes(ours) == _keys_and_shapes(theirs)
    assert _repr(ours) == _repr(theirs)
    assert [str(v.dtype).split(".")[-1] for v in ours.state_dict().values()] == \
        [str(v.dtype).split(".")[-1] for v in theirs.state_dict().values()]
    if not kwargs and name in PUBLISHED_PARAMS:
        assert _n_params(ours) == PUBLISHED_PARAMS[name]


@pytest.mark.parametrize("cfg", sorted(vgg.cfgs))
@pytest.mark.parametrize("batch_norm", [False, True])
def test_vgg_feature_stacks_match_torchvision(tv, cfg, batch_norm):
    ours, theirs = vgg.make_layers(vgg.cfgs[cfg], batch_norm), tv.vgg.make_layers(tv.vgg.cfgs[cfg], batch_norm)
    assert _keys_and_shapes(ours) == _keys_and_shapes(theirs)
    assert [type(m).__name__ for m in ours] == [type(m).__name__ for m in theirs]


def test_sample_keys_without_torchvision():
    r18 = _keys_and_shapes(models.resnet18())
    keys = dict(r18)
    assert keys["conv1.weight"] == (64, 3, 7, 7) and keys["bn1.running_mean"] == (64,)
    assert keys["layer1.0.conv1.weight"] == (64, 64, 3, 3)
    assert keys["layer2.0.downsample.0.weight"] == (128, 64, 1, 1) and "layer1.0.downsample.0.weight" not in keys
    assert keys["fc.weight"] == (1000, 512) and keys["bn1.num_batches_tracked"] == ()
    assert len(r18) == 122
    mobile = dict(_keys_and_shapes(models.mobilenet_v2()))
    assert mobile["features.0.0.weight"] == (32, 3, 3, 3) and mobile["features.0.1.running_var"] == (32,)
    assert mobile["features.1.conv.0.0.weight"] == (32, 1, 3, 3)
    assert mobile["features.1.conv.1.weight"] == (16, 32, 1, 1)
    assert mobile["features.2.conv.0.0.weight"] == (96, 16, 1, 1)
    assert mobile["features.18.0.weight"] == (1280, 320, 1, 1)
    assert mobile["classifier.1.weight"] == (1000, 1280)
    assert _n_params(models.mobilenet_v2()) == PUBLISHED_PARAMS["mobilenet_v2"]


def test_legacy_state_dict_without_num_batches_tracked_loads():
    state = {k: v for k, v in models.resnet18().state_dict().items() if not k.endswith("num_batches_tracked")}
    model = models.resnet18()
    assert model.load_state_dict(state) == ([], [])
    assert int(model.bn1.num_batches_tracked) == 0
    with pytest.raises(RuntimeError, match='size mismatch for fc.weight'):
        models.resnet18(num_classes=10).load_state_dict(state)


# --- numerics after loading torchvision weights -----------------------------------------------------------------
FORWARD_CASES = [
    ("resnet18", {"num_classes": 10}, (2, 3, 64, 64)),
    ("resnet50", {"num_classes": 10, "replace_stride_with_dilation": [False, True, True]}, (1, 3, 48, 48)),
    ("resnext50_32x4d", {"num_classes": 10}, (1, 3, 32, 32)),
    ("mobilenet_v2", {"num_classes": 10}, (2, 3, 64, 64)),
]


@pytest.mark.parametrize("name, kwargs, shape", FORWARD_CASES, ids=[c[0] for c in FORWARD_CASES])
def test_eval_forward_matches_torchvision(tv, name, kwargs, shape):
    ours, theirs = getattr(models, name)(**kwargs), _tv_builder(tv, name)(**kwargs)
    _randomize_norm_stats(theirs)
    _load_torch_weights(ours, theirs)
    ours.eval(), theirs.eval()
    x = numpy.random.randn(*shape).astype(numpy.float32)
    with ember.no_grad(), torch.no_grad():
        _assert_close(ours(ember.from_numpy(x)), theirs(torch.from_numpy(x)))


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2"])
def test_train_step_matches_torchvision(tv, name):
    kwargs = {"num_classes": 5, **({"dropout": 0.0} if name == "mobilenet_v2" else {})}
    ours, theirs = getattr(models, name)(**kwargs), _tv_builder(tv, name)(**kwargs)
    _load_torch_weights(ours, theirs)
    ours.double(), theirs.double()  # train-mode BN over few values is too ill-conditioned for float32
    x = numpy.random.randn(2, 3, 64, 64)
    target = numpy.array([1, 4])
    loss_e = nn.functional.cross_entropy(ours(ember.from_numpy(x)), ember.from_numpy(target))
    loss_t = torch.nn.functional.cross_entropy(theirs(torch.from_numpy(x)), torch.from_numpy(target))
    loss_e.backward(), loss_t.backward()
    _assert_close(loss_e, loss_t, rtol=1e-9, atol=1e-9, what="loss")
    _assert_same_state_and_grads(ours, theirs)


def test_vgg_init_and_forward_matches_torchvision(tv):
    ours = models.vgg11_bn(num_classes=10)
    weight = as_numpy(ours.classifier[0].weight)
    assert abs(weight.std() - 0.01) < 1e-4 and not as_numpy(ours.classifier[0].bias).any()
    conv = as_numpy(ours.features[4].weight)  # 128 x 64 x 3 x 3, kaiming normal over fan_out
    assert abs(conv.std() / math.sqrt(2 / (128 * 9)) - 1) < 0.02 and not as_numpy(ours.features[4].bias).any()
    theirs = tv.vgg.vgg11_bn(num_classes=10)
    assert _keys_and_shapes(ours) == _keys_and_shapes(theirs)
    _randomize_norm_stats(theirs)
    _load_torch_weights(ours, theirs)
    ours.eval(), theirs.eval()
    x = numpy.random.randn(1, 3, 32, 32).astype(numpy.float32)
    with ember.no_grad(), torch.no_grad():
        _assert_close(ours(ember.from_numpy(x)), theirs(torch.from_numpy(x)))


def _block_pairs(tv):
    return [
        (lambda lib: lib.BasicBlock(16, 32, 2, _downsample(lib, 16, 32, 2)), tv.resnet, (2, 16, 9, 9)),
        (lambda lib: lib.BasicBlock(8, 8), tv.resnet, (2, 8, 6, 6)),
        (lambda lib: lib.Bottleneck(32, 16, 1, _downsample(lib, 32, 64, 1), groups=2, base_width=32, dilation=2),
         tv.resnet, (2, 32, 7, 7)),
        (lambda lib: lib.InvertedResidual(8, 8, 1, expand_ratio=6), tv.mobilenetv2, (2, 8, 7, 7)),
        (lambda lib: lib.InvertedResidual(8, 16, 2, expand_ratio=1), tv.mobilenetv2, (2, 8, 7, 7)),
    ]


def _downsample(lib, inplanes, outplanes, stride):
    nn_ = torch.nn if lib.__name__.startswith("torchvision") else nn
    return nn_.Sequential(lib.conv1x1(inplanes, outplanes, stride), nn_.BatchNorm2d(outplanes))


def test_blocks_match_torchvision_in_training_mode(tv):
    ours_modules = {tv.resnet: resnet, tv.mobilenetv2: mobilenetv2}
    for make, their_module, shape in _block_pairs(tv):
        ours, theirs = make(ours_modules[their_module]), make(their_module)
        _randomize_norm_stats(theirs)
        _load_torch_weights(ours, theirs)
        ours.double(), theirs.double()
        x = numpy.random.randn(*shape)
        xe, xt = ember.from_numpy(x).requires_grad_(), torch.from_numpy(x).requires_grad_()
        ye, yt = ours(xe), theirs(xt)
        _assert_close(ye, yt, rtol=1e-10, atol=1e-10, what=type(ours).__name__)
        g = numpy.random.randn(*yt.shape)
        ye.backward(ember.from_numpy(g)), yt.backward(torch.from_numpy(g))
        _assert_close(xe.grad, xt.grad, rtol=1e-10, atol=1e-10, what=f"{type(ours).__name__} input grad")
        _assert_same_state_and_grads(ours, theirs)


# --- ember-only behaviour ---------------------------------------------------------------------------------------
def test_resnet_initialisation():
    model = models.resnet18(zero_init_residual=True)
    conv = as_numpy(model.layer4[0].conv2.weight)
    assert abs(conv.std() / math.sqrt(2 / (512 * 9)) - 1) < 0.01
    assert (as_numpy(model.bn1.weight) == 1).all() and not as_numpy(model.bn1.bias).any()
    assert not as_numpy(model.layer1[0].bn2.weight).any() and (as_numpy(model.layer1[0].bn1.weight) == 1).all()
    bound = 1 / math.sqrt(512)  # fc keeps nn.Linear's default initialisation
    assert numpy.abs(as_numpy(model.fc.weight)).max() <= bound and as_numpy(model.fc.weight).std() > bound / 2
    mobile = models.mobilenet_v2()
    assert abs(as_numpy(mobile.classifier[1].weight).std() - 0.01) < 1e-4
    pointwise = as_numpy(mobile.features[18][0].weight)
    assert abs(pointwise.std() / math.sqrt(2 / 1280) - 1) < 0.02


def test_resnet_forward_backward_and_feature_extractor():
    model = models.resnet50(zero_init_residual=True)
    x = ember.randn(2, 3, 32, 32)
    features = nn.Sequential(*list(model.children())[:-1])
    assert features(x).shape == (2, 2048, 1, 1)
    model = models.resnet18(num_classes=4)
    out = model(ember.randn(1, 3, 64, 64))
    assert out.shape == (1, 4)
    out.sum().backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in model.parameters())


def test_lenet_layout_forward_and_backward():
    model = models.lenet5()
    assert _keys_and_shapes(model) == [
        ("features.0.weight", (6, 1, 5, 5)), ("features.0.bias", (6,)),
        ("features.3.weight", (16, 6, 5, 5)), ("features.3.bias", (16,)),
        ("classifier.0.weight", (120, 400)), ("classifier.0.bias", (120,)),
        ("classifier.2.weight", (84, 120)), ("classifier.2.bias", (84,)),
        ("classifier.4.weight", (10, 84)), ("classifier.4.bias", (10,))]
    assert _n_params(model) == 61_706
    x = ember.randn(4, 1, 28, 28)
    out = model(x)
    assert out.shape == (4, 10)
    nn.functional.cross_entropy(out, ember.tensor([0, 1, 2, 3])).backward()
    assert all(p.grad is not None for p in model.parameters())
    assert models.LeNet(num_classes=3)(x).shape == (4, 3)


def test_lenet_matches_hand_built_torch_model():
    ours = models.lenet5()
    theirs = torch.nn.Sequential()
    theirs.features = torch.nn.Sequential(torch.nn.Conv2d(1, 6, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                          torch.nn.Conv2d(6, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2))
    theirs.classifier = torch.nn.Sequential(torch.nn.Linear(400, 120), torch.nn.ReLU(), torch.nn.Linear(120, 84),
                                            torch.nn.ReLU(), torch.nn.Linear(84, 10))
    _load_torch_weights(ours, theirs)
    x = numpy.random.randn(3, 1, 28, 28).astype(numpy.float32)
    expected = theirs.classifier(torch.flatten(theirs.features(torch.from_numpy(x)), 1))
    _assert_close(ours(ember.from_numpy(x)), expected, rtol=1e-5, atol=1e-6)


def test_constructor_errors_match_torchvision():
    with pytest.raises(ValueError, match="BasicBlock only supports groups=1 and base_width=64"):
        models.resnet18(groups=2)
    with pytest.raises(NotImplementedError, match="Dilation > 1 not supported in BasicBlock"):
        models.resnet18(replace_stride_with_dilation=[False, False, True])
    with pytest.raises(ValueError, match="replace_stride_with_dilation should be None or a 3-element tuple"):
        models.ResNet(resnet.BasicBlock, [1, 1, 1, 1], replace_stride_with_dilation=[True])
    with pytest.raises(ValueError, match="The parameter 'groups' expected value 32 but got 4 instead."):
        models.resnext50_32x4d(groups=4)
    with pytest.raises(ValueError, match="stride should be 1 or 2 instead of 3"):
        mobilenetv2.InvertedResidual(8, 8, 3, 6)
    with pytest.raises(ValueError, match="inverted_residual_setting should be non-empty"):
        models.MobileNetV2(inverted_residual_setting=[[1, 16, 1]])
