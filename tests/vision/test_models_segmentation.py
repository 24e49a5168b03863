"""ember.vision.models.segmentation (FCN, DeepLabV3, LR-ASPP) and ``_utils.IntermediateLayerGetter`` against
torchvision's (loaded through tv_oracle): state_dict keys and shapes, module trees, parameter counts against the
weights' published ``num_params``, eval outputs and a training step's gradients with the same weights."""
import numpy
import pytest

import ember
from ember.vision import models
from ember.vision.models._utils import IntermediateLayerGetter

from . import tv_oracle

tv = tv_oracle.load()
torch = pytest.importorskip("torch")
import torchvision.models as tvm  # noqa: E402
from torchvision.models._utils import IntermediateLayerGetter as TVIntermediateLayerGetter  # noqa: E402

from .test_models_archs import _ember_state, _randomize, _repr  # noqa: E402


def test_intermediate_layer_getter_equals_torchvisions():
    torch.manual_seed(0)
    theirs = TVIntermediateLayerGetter(tvm.resnet18(), {"layer1": "feat1", "layer3": "feat2"}).eval()
    ours = IntermediateLayerGetter(models.resnet18(), {"layer1": "feat1", "layer3": "feat2"}).eval()
    assert list(ours.keys()) == list(theirs.keys())  # stops after layer3
    assert ours.return_layers == {"layer1": "feat1", "layer3": "feat2"}
    assert ours.load_state_dict(_ember_state(theirs.state_dict())) == ([], [])
    x = numpy.random.default_rng(0).standard_normal((1, 3, 32, 32)).astype(numpy.float32)
    with ember.no_grad(), torch.no_grad():
        out, expected = ours(ember.from_numpy(x)), theirs(torch.from_numpy(x))
    assert list(out) == list(expected) == ["feat1", "feat2"]
    for k in out:
        numpy.testing.assert_allclose(out[k].numpy(), expected[k].numpy(), rtol=1e-5, atol=1e-5)
    for getter in (IntermediateLayerGetter, TVIntermediateLayerGetter):
        with pytest.raises(ValueError, match="return_layers are not present in model"):
            getter((models if getter is IntermediateLayerGetter else tvm).resnet18(), {"layer9": "x"})


NO_DOWNLOAD = {"weights_backbone": None}
BUILDERS = ["fcn_resnet50", "fcn_resnet101", "deeplabv3_resnet50", "deeplabv3_resnet101",
            "deeplabv3_mobilenet_v3_large", "lraspp_mobilenet_v3_large"]


def _keys_shapes(model):
    return [(k, tuple(v.shape)) for k, v in model.state_dict().items()]


@pytest.mark.parametrize("name", BUILDERS)
def test_layout_and_parameter_count_equal_torchvisions(name):
    kwargs = {**NO_DOWNLOAD, **({} if name.startswith("lraspp") else {"aux_loss": True})}
    ours, theirs = models.get_model(name, **kwargs), tvm.get_model(name, **kwargs)
    assert _keys_shapes(ours) == _keys_shapes(theirs)
    assert _repr(ours) == _repr(theirs)
    assert sum(p.numel() for p in ours.parameters()) == models.get_model_weights(name).DEFAULT.meta["num_params"]
    assert type(ours).__module__ == f"ember.vision.models.segmentation.{name.split('_')[0]}"


# (builder, kwargs, input shape): small inputs, so the dilated backbones stay cheap
FORWARD = [
    ("fcn_resnet50", {"num_classes": 5, "aux_loss": True}, (2, 3, 32, 40)),
    ("deeplabv3_resnet50", {"num_classes": 4}, (1, 3, 33, 27)),
    ("deeplabv3_mobilenet_v3_large", {"num_classes": 3, "aux_loss": True}, (2, 3, 48, 48)),
    ("lraspp_mobilenet_v3_large", {"num_classes": 6}, (2, 3, 45, 60)),
]


@pytest.mark.parametrize("name, kwargs, shape", FORWARD, ids=[c[0] for c in FORWARD])
def test_eval_outputs_equal_torchvisions_with_the_same_weights(name, kwargs, shape):
    torch.manual_seed(0)
    theirs = tvm.get_model(name, **NO_DOWNLOAD, **kwargs).eval()
    _randomize(theirs)
    ours = models.get_model(name, **NO_DOWNLOAD, **kwargs).eval()
    assert ours.load_state_dict(_ember_state(theirs.state_dict())) == ([], [])
    x = numpy.random.default_rng(0).standard_normal(shape).astype(numpy.float32)
    with ember.no_grad(), torch.no_grad():
        expected, out = theirs(torch.from_numpy(x)), ours(ember.from_numpy(x))
    assert type(out).__name__ == "OrderedDict" and list(out) == list(expected)
    for key in expected:
        assert tuple(out[key].shape) == (shape[0], kwargs["num_classes"], *shape[2:])
        numpy.testing.assert_allclose(out[key].numpy(), expected[key].numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", ["fcn_resnet50", "deeplabv3_mobilenet_v3_large", "lraspp_mobilenet_v3_large"])
def test_training_step_gradients_equal_torchvisions(name):
    """One seeded training step (batch statistics, the same dropout draws): the loss of ``out`` plus 0.5 of
    ``aux``, gradients of parameters in the backbone and heads, running statistics after the step."""
    aux = not name.startswith("lraspp")
    kwargs = {**NO_DOWNLOAD, "num_classes": 3, **({"aux_loss": True} if aux else {})}
    torch.manual_seed(0)
    theirs = tvm.get_model(name, **kwargs).double().train()
    ours = models.get_model(name, **kwargs).double().train()
    ours.load_state_dict(_ember_state(theirs.state_dict()))
    rng = numpy.random.default_rng(1)
    x = rng.standard_normal((2, 3, 40, 40))
    target = rng.integers(0, 3, (2, 40, 40))
    losses = []
    for lib, model in ((torch, theirs), (ember, ours)):
        lib.manual_seed(5)
        out = model(lib.from_numpy(x))
        loss = lib.nn.functional.cross_entropy(out["out"], lib.from_numpy(target))
        if aux:
            loss = loss + 0.5 * lib.nn.functional.cross_entropy(out["aux"], lib.from_numpy(target))
        loss.backward()
        losses.append(float(loss))
    numpy.testing.assert_allclose(losses[1], losses[0], rtol=1e-10)
    our_params, their_params = dict(ours.named_parameters()), dict(theirs.named_parameters())
    assert list(our_params) == list(their_params)
    names = list(their_params)
    for key in names[:2] + names[len(names) // 2:len(names) // 2 + 2] + names[-4:]:
        numpy.testing.assert_allclose(our_params[key].grad.numpy(), their_params[key].grad.numpy(), rtol=1e-7,
                                      atol=1e-10, err_msg=key)
    for key, value in theirs.state_dict().items():
        numpy.testing.assert_allclose(ours.state_dict()[key].numpy(), value.numpy(), rtol=1e-8, atol=1e-10,
                                      err_msg=key)


def test_builder_arguments_as_torchvisions(monkeypatch):
    for lib in (models, tvm):
        seg = lib.segmentation
        assert seg.fcn_resnet50(**NO_DOWNLOAD).aux_classifier is None
        assert isinstance(seg.deeplabv3_resnet50(**NO_DOWNLOAD, num_classes=7).classifier[-1], lib.resnet.nn.Conv2d)
        with pytest.raises(NotImplementedError, match="This model does not use auxiliary loss"):
            seg.lraspp_mobilenet_v3_large(aux_loss=True)
        for builder in (seg.fcn_resnet50, seg.deeplabv3_mobilenet_v3_large):
            with pytest.raises(ValueError, match="The parameter 'aux_loss' expected value True but got False"):
                builder(weights="DEFAULT", aux_loss=False)
            with pytest.raises(ValueError, match="The parameter 'num_classes' expected value 21 but got 3"):
                builder(weights="DEFAULT", num_classes=3)
    # the weights skip the backbone's weights, fix the heads and load once
    seen = []
    monkeypatch.setattr(models.WeightsEnum, "get_state_dict", lambda self, *a, **k: seen.append(self) or
                        models.segmentation.deeplabv3_mobilenet_v3_large(**NO_DOWNLOAD, aux_loss=True).state_dict())
    model = models.segmentation.deeplabv3_mobilenet_v3_large(weights="DEFAULT", progress=False)
    assert seen == [models.segmentation.DeepLabV3_MobileNet_V3_Large_Weights.COCO_WITH_VOC_LABELS_V1]
    assert model.aux_classifier is not None and model.classifier[-1].out_channels == 21


def test_legacy_pretrained_backbone_warns_as_torchvision():
    import warnings

    def caught(lib):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            lib.segmentation.lraspp_mobilenet_v3_large(pretrained=False, pretrained_backbone=False)
        return [(w.category.__name__, str(w.message)) for w in record]
    assert caught(models) == caught(tvm) and len(caught(tvm)) == 4


def test_semantic_segmentation_usage_runs_unmodified_under_ember_run(tmp_path):
    """torchvision's documented inference lines (preset, ``model(batch)["out"]``, softmax over the classes, a class's
    mask as a PIL image) and a training step with the auxiliary loss, under ``ember run`` without downloads."""
    import os
    import pathlib
    import subprocess
    import sys
    import textwrap
    (tmp_path / "script.py").write_text(textwrap.dedent('''
        import torch
        from torchvision.models.segmentation import FCN_ResNet50_Weights, fcn_resnet50
        from torchvision.transforms.functional import to_pil_image
        torch.manual_seed(0)
        img = (torch.rand(3, 50, 60) * 255).to(torch.uint8)
        weights = FCN_ResNet50_Weights.DEFAULT
        model = fcn_resnet50(weights=None, weights_backbone=None, num_classes=21, aux_loss=True).eval()
        batch = weights.transforms(resize_size=None)(img).unsqueeze(0)
        with torch.no_grad():
            prediction = model(batch)["out"]
        class_to_idx = {cls: idx for (idx, cls) in enumerate(weights.meta["categories"])}
        mask = prediction.softmax(dim=1)[0, class_to_idx["dog"]]
        print(type(model).__module__, torch.nn.__name__, tuple(prediction.shape), class_to_idx["dog"],
              to_pil_image(mask).size)
        model.train()
        out = model(torch.randn(2, 3, 32, 32))
        target = torch.randint(0, 21, (2, 32, 32))
        loss = torch.nn.functional.cross_entropy(out["out"], target) + 0.5 * torch.nn.functional.cross_entropy(
            out["aux"], target)
        loss.backward()
        print(sorted(out), model.backbone.conv1.weight.grad.shape == model.backbone.conv1.weight.shape)
    '''))
    root = str(pathlib.Path(__file__).resolve().parents[2])
    result = subprocess.run([sys.executable, "-W", "ignore", "-m", "ember", "run", "script.py"], cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": root}, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["torchvision.models.segmentation.fcn ember.nn (1, 21, 50, 60) 12 (60, 50)",
                                          "['aux', 'out'] True"]


@pytest.mark.parametrize("name", ["fcn_resnet50", "deeplabv3_mobilenet_v3_large", "lraspp_mobilenet_v3_large"])
def test_feature_extraction_node_names_equal_torchvisions(name):
    from torchvision.models.feature_extraction import get_graph_node_names as tv_get_graph_node_names

    from ember.vision.models.feature_extraction import get_graph_node_names
    kwargs = {**NO_DOWNLOAD, **({} if name.startswith("lraspp") else {"aux_loss": True})}
    with ember.device("meta"), torch.device("meta"):
        ours, theirs = models.get_model(name, **kwargs), tvm.get_model(name, **kwargs)
    assert get_graph_node_names(ours) == tv_get_graph_node_names(theirs)


def test_default_backbone_weights_load_into_the_backbone(monkeypatch):
    """Without ``weights``, the builders load the backbone's ImageNet weights by default (here a stand-in
    checkpoint), and ``pretrained_backbone=True`` means the same."""
    import warnings
    source = models.mobilenet_v3_large()
    seen = []
    monkeypatch.setattr(models.WeightsEnum, "get_state_dict",
                        lambda self, *a, **k: seen.append(self) or source.state_dict())
    for kwargs in ({}, {"pretrained_backbone": True}):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = models.segmentation.lraspp_mobilenet_v3_large(num_classes=3, **kwargs)
        assert seen.pop() is models.MobileNet_V3_Large_Weights.IMAGENET1K_V1
        numpy.testing.assert_array_equal(model.backbone["0"][0].weight.detach().numpy(),
                                         source.features[0][0].weight.detach().numpy())
