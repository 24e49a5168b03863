"""The weights API of ember.vision.models beside torchvision's (loaded through tv_oracle): enums' URLs, meta and
transforms, the registry, the legacy ``pretrained=`` interface, and ``weights=`` loading checkpoints through the hub
(file:// URLs and a patched download into a temporary hub dir; nothing leaves the machine)."""
import hashlib
import io
import warnings

import numpy
import pytest

import ember
from ember import hub
from ember.vision import models
from ember.vision import transforms as T
from ember.vision.transforms._presets import ImageClassification

from . import tv_oracle

tv = tv_oracle.load()
torch = pytest.importorskip("torch")
import torchvision.models as tvm  # noqa: E402
from torchvision.transforms._presets import ImageClassification as TVImageClassification  # noqa: E402

WITH_WEIGHTS = [name for name in models.list_models() if name != "lenet5"]


def _warnings_of(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = call()
        except Exception as error:  # the same exception on both sides is compared by the caller
            result = error
    return result, [(w.category, str(w.message)) for w in caught]


def _plain(keywords):
    """Keyword arguments with InterpolationMode members as their values (ember's enum is its own class)."""
    return {k: getattr(v, "value", v) for k, v in keywords.items()}


@pytest.fixture
def hub_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(hub, "_hub_dir", str(tmp_path / "hub"))
    return tmp_path / "hub" / "checkpoints"


# --- enums, meta, transforms ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", WITH_WEIGHTS)
def test_weights_enum_equals_torchvisions(name):
    ours, theirs = models.get_model_weights(name), tvm.get_model_weights(name)
    assert ours.__name__ == theirs.__name__
    assert list(ours.__members__) == list(theirs.__members__)
    for member in theirs.__members__:
        o, t = ours[member], theirs[member]
        assert repr(o) == repr(t) and o.url == t.url and o.url.startswith("https://download.pytorch.org/models/")
        assert repr(o.meta) == repr(t.meta), member  # repr: the features' metrics are NaN
        if isinstance(t.transforms, type):  # a preset without arguments (optical flow's)
            assert o.transforms.__name__ == t.transforms.__name__
        else:
            assert _plain(o.transforms.keywords) == _plain(t.transforms.keywords)
        assert repr(o.transforms()) == repr(t.transforms())
        assert models.get_weight(f"{ours.__name__}.{member}") is o
    assert ours.DEFAULT is ours[[m for m, v in theirs.__members__.items() if v is theirs.DEFAULT and m != "DEFAULT"][0]]


def test_imagenet_categories():
    categories = models.ResNet18_Weights.DEFAULT.meta["categories"]
    assert len(categories) == 1000 and categories[0] == "tench" and categories[-1] == "toilet tissue"
    assert categories == tvm.ResNet18_Weights.DEFAULT.meta["categories"]


def test_registry_answers_equal_torchvisions():
    ours = set(models.list_models())
    assert models.list_models() == sorted(ours)
    assert set(tvm.list_models()) >= ours - {"lenet5"}
    for include, exclude in [("resnet*", None), (["vgg1?", "alex*"], "*_bn"), (None, ["*net*", "vgg*"]),
                             ("wide_*", "*101*")]:
        theirs = tvm.list_models(include=include, exclude=exclude)
        assert models.list_models(include=include, exclude=exclude) == [n for n in theirs if n in ours]
    # a package's own builders: models' classification ones, not those of its subpackages
    assert models.list_models(models) == [n for n in models.list_models() if n in tvm.list_models(tvm) + ["lenet5"]]
    for package in ("detection", "optical_flow", "segmentation", "video"):
        assert models.list_models(getattr(models, package)) == tvm.list_models(getattr(tvm, package))
    assert models.list_models(models.resnet) == tvm.list_models(tvm.resnet) == []
    assert models.get_model_builder("ResNet18") is models.resnet18
    assert models.get_model_weights(models.vgg16) is models.VGG16_Weights
    for call, lib in [(lambda m: m.get_model("nonexistent"), (ValueError, "Unknown model nonexistent")),
                      (lambda m: m.get_weight("ResNet18_Weights"), (ValueError, "Invalid weight name provided")),
                      (lambda m: m.get_weight("Nope_Weights.V1"), (ValueError, "couldn't be retrieved"))]:
        for module in (models, tvm):
            with pytest.raises(lib[0], match=lib[1]):
                call(module)
    with pytest.raises(ValueError, match="couldn't be retrieved"):
        models.get_model_weights("lenet5")
    model = models.get_model("resnet18", num_classes=3)
    assert model.fc.out_features == 3


def test_verify_accepts_members_and_names():
    w = models.ResNet50_Weights
    assert w.verify(None) is None and w.verify("IMAGENET1K_V2") is w.IMAGENET1K_V2
    assert w.verify("ResNet50_Weights.DEFAULT") is w.IMAGENET1K_V2 and w.verify(w.IMAGENET1K_V1) is w.IMAGENET1K_V1
    with pytest.raises(TypeError, match="expected ResNet50_Weights but received ResNet18_Weights"):
        w.verify(models.ResNet18_Weights.DEFAULT)
    with pytest.raises(KeyError):
        w.verify("IMAGENET1K_V9")


def test_weights_survive_deepcopy_and_pickle():
    import copy
    import pickle
    w = models.ResNet50_Weights.IMAGENET1K_V2  # (VGG16's features weights have NaN metrics and fail, as torchvision's)
    assert copy.deepcopy(w) is w and pickle.loads(pickle.dumps(w)) is w


def _image(seed=0, size=(3, 300, 280)):
    return numpy.random.default_rng(seed).integers(0, 256, size, dtype=numpy.uint8)


@pytest.mark.parametrize("name, member", [("resnet50", "IMAGENET1K_V2"), ("resnet18", "IMAGENET1K_V1"),
                                          ("vgg16", "IMAGENET1K_FEATURES"), ("efficientnet_b3", "IMAGENET1K_V1")])
def test_transforms_equal_torchvisions_and_the_v1_pipeline(name, member):
    from PIL import Image
    preset = models.get_model_weights(name)[member].transforms()
    theirs = tvm.get_model_weights(name)[member].transforms()
    assert isinstance(preset, ImageClassification) and preset.describe() == theirs.describe()
    pipeline = T.Compose([T.Resize(preset.resize_size, interpolation=preset.interpolation, antialias=True),
                          T.CenterCrop(preset.crop_size), T.ConvertImageDtype(ember.float),
                          T.Normalize(preset.mean, preset.std)])
    array = _image()
    for image in (ember.from_numpy(array), ember.from_numpy(numpy.stack([array, _image(1)]))):
        out = preset(image)
        assert out.dtype == ember.float32 and out.shape[-2:] == (preset.crop_size[0],) * 2
        numpy.testing.assert_array_equal(out.numpy(), pipeline(image).numpy())
        expected = theirs(torch.from_numpy(image.numpy())).numpy()
        # ember's antialiased uint8 resize may round a rare pixel one step (1/255) away from torch's
        step = 1 / 255 / min(preset.std) + 1e-5
        numpy.testing.assert_allclose(out.numpy(), expected, atol=step)
        assert (numpy.abs(out.numpy() - expected) > 1e-5).mean() < 1e-4
    pil = Image.fromarray(array.transpose(1, 2, 0))
    pil_pipeline = T.Compose([T.Resize(preset.resize_size, interpolation=preset.interpolation),
                              T.CenterCrop(preset.crop_size), T.PILToTensor(), T.ConvertImageDtype(ember.float),
                              T.Normalize(preset.mean, preset.std)])
    numpy.testing.assert_array_equal(preset(pil).numpy(), pil_pipeline(pil).numpy())
    numpy.testing.assert_allclose(preset(pil).numpy(), theirs(pil).numpy(), rtol=1e-6, atol=1e-6)


def test_image_classification_defaults_and_repr():
    ours, theirs = ImageClassification(crop_size=7), TVImageClassification(crop_size=7)
    assert repr(ours) == repr(theirs) and ours.antialias is True
    assert (ours.crop_size, ours.resize_size, ours.mean, ours.std) == \
        (theirs.crop_size, theirs.resize_size, theirs.mean, theirs.std)


# --- loading --------------------------------------------------------------------------------------------------------
def _checkpoint(tmp_path, model, stem):
    """Saves ``model``'s state dict as ``<stem>-<sha256 prefix>.pth``; returns its path and bytes."""
    buffer = io.BytesIO()
    ember.save(model.state_dict(), buffer)
    data = buffer.getvalue()
    path = tmp_path / f"{stem}-{hashlib.sha256(data).hexdigest()[:8]}.pth"
    path.write_bytes(data)
    return path, data


def _randomize(model):
    with ember.no_grad():
        for name, value in model.state_dict().items():
            if value.dtype == ember.float32:
                value.copy_(ember.rand(value.shape) * (0.5 if "running_var" not in name else 1.0) + 0.25)


def test_weights_download_with_the_hash_checked_and_load(tmp_path, hub_dir, monkeypatch):
    source = models.resnet18()
    _randomize(source)
    path, _ = _checkpoint(tmp_path, source, "resnet18")
    monkeypatch.setattr(models.ResNet18_Weights.IMAGENET1K_V1.value, "url", path.as_uri())
    model = models.resnet18(weights=models.ResNet18_Weights.IMAGENET1K_V1, progress=False).eval()
    assert (hub_dir / path.name).exists()
    for key, value in source.state_dict().items():
        numpy.testing.assert_array_equal(model.state_dict()[key].numpy(), value.numpy(), err_msg=key)
    theirs = tvm.resnet18().eval()
    theirs.load_state_dict(torch.load(path, weights_only=True))
    x = numpy.random.default_rng(0).standard_normal((1, 3, 64, 64)).astype(numpy.float32)
    with ember.no_grad(), torch.no_grad():
        numpy.testing.assert_allclose(model(ember.from_numpy(x)).numpy(), theirs(torch.from_numpy(x)).numpy(),
                                      rtol=1e-4, atol=1e-4)
    # a second build reads the cached file, as get_model with the member's name does
    path.unlink()
    again = models.get_model("resnet18", weights="IMAGENET1K_V1", progress=False)
    numpy.testing.assert_array_equal(again.fc.weight.detach().numpy(), source.fc.weight.detach().numpy())


def test_wrong_hash_is_refused_and_nothing_cached(tmp_path, hub_dir, monkeypatch):
    path, _ = _checkpoint(tmp_path, models.mobilenet_v2(), "mobilenet_v2")
    wrong = path.with_name("mobilenet_v2-00000000.pth")
    path.rename(wrong)
    monkeypatch.setattr(models.MobileNet_V2_Weights.IMAGENET1K_V1.value, "url", wrong.as_uri())
    with pytest.raises(RuntimeError, match=r'invalid hash value \(expected "00000000", got "'):
        models.mobilenet_v2(weights="IMAGENET1K_V1", progress=False)
    assert not hub_dir.exists() or not list(hub_dir.iterdir())


def test_canonical_url_is_requested(hub_dir, monkeypatch):
    requested = []

    class Response(io.BytesIO):
        def info(self):
            from email.message import Message
            return Message()

    def fake_urlopen(request):
        requested.append((request.full_url, request.get_header("User-agent")))
        return Response(b"not the checkpoint")

    monkeypatch.setattr(hub, "urlopen", fake_urlopen)
    with pytest.raises(RuntimeError, match=r'invalid hash value \(expected "f37072fd"'):
        models.resnet18(weights="DEFAULT", progress=False)
    assert requested == [("https://download.pytorch.org/models/resnet18-f37072fd.pth", "torch.hub")]
    with pytest.raises(RuntimeError, match=r'invalid hash value \(expected "11ad3fa6"'):
        models.get_model("resnet50", weights="ResNet50_Weights.DEFAULT", progress=False)
    assert requested[-1][0] == "https://download.pytorch.org/models/resnet50-11ad3fa6.pth"


def test_num_classes_conflicting_with_the_weights_raises_as_torchvision():
    for lib in (models, tvm):
        with pytest.raises(ValueError, match="The parameter 'num_classes' expected value 1000 but got 10 instead."):
            lib.resnet18(weights=lib.ResNet18_Weights.DEFAULT, num_classes=10)
        with pytest.raises(ValueError, match="The parameter 'groups' expected value 32 but got 4 instead."):
            lib.resnext50_32x4d(groups=4)


@pytest.mark.parametrize("args, kwargs", [((), {"pretrained": False}), ((False,), {}), ((), {"weights": None}),
                                          ((None, False), {}), ((None,), {"progress": False})])
def test_legacy_interface_warns_as_torchvision(args, kwargs):
    ours, our_warnings = _warnings_of(lambda: models.mobilenet_v2(*args, **kwargs))
    theirs, their_warnings = _warnings_of(lambda: tvm.mobilenet_v2(*args, **kwargs))
    assert isinstance(ours, models.MobileNetV2) and isinstance(theirs, tvm.MobileNetV2)
    assert [(c.__name__, m) for c, m in our_warnings] == [(c.__name__, m) for c, m in their_warnings]


def test_pretrained_true_means_the_legacy_default_weights(monkeypatch):
    seen = []
    monkeypatch.setattr(models.WeightsEnum, "get_state_dict",
                        lambda self, *a, **k: seen.append((self, k)) or models.resnet50().state_dict())
    monkeypatch.setattr(tvm.WeightsEnum, "get_state_dict", lambda self, *a, **k: tvm.resnet50().state_dict())
    for call in (lambda lib: lib.resnet50(pretrained=True), lambda lib: lib.resnet50(True)):
        _, ours = _warnings_of(lambda: call(models))
        _, theirs = _warnings_of(lambda: call(tvm))
        assert ours == theirs and "ResNet50_Weights.IMAGENET1K_V1" in ours[-1][1]
    assert seen == [(models.ResNet50_Weights.IMAGENET1K_V1, {"progress": True, "check_hash": True})] * 2
    with pytest.raises(ValueError, match="No weights available for model lenet5"):
        models.lenet5(pretrained=True)
    with pytest.raises(ValueError, match="No weights available for model lenet5"):
        models.lenet5(weights="DEFAULT")


def test_transfer_learning_start_runs_unmodified_under_ember_run(tmp_path):
    """The tutorial's opening lines under ``ember run``: the checkpoint comes from the hub cache ($TORCH_HOME)."""
    import os
    import pathlib
    import subprocess
    import sys
    import textwrap
    checkpoints = tmp_path / "torch_home" / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    source = models.resnet18()
    ember.save(source.state_dict(), checkpoints / "resnet18-f37072fd.pth")
    expected = float(source.fc.weight.detach().sum())
    (tmp_path / "script.py").write_text(textwrap.dedent('''
        import torch
        import torchvision
        from PIL import Image
        from torchvision.models import ResNet18_Weights, resnet18
        weights = ResNet18_Weights.DEFAULT
        model = resnet18(weights=weights)
        legacy = torchvision.models.resnet18(pretrained=True)
        model.fc = torch.nn.Linear(model.fc.in_features, 2)
        batch = weights.transforms()(Image.new("RGB", (300, 260), (10, 120, 200))).unsqueeze(0)
        print(type(model).__module__, torch.nn.__name__, tuple(model(batch).shape), weights.meta["categories"][1],
              round(float(legacy.fc.weight.sum()), 3))
    '''))
    root = str(pathlib.Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": root, "TORCH_HOME": str(tmp_path / "torch_home")}
    result = subprocess.run([sys.executable, "-W", "ignore", "-m", "ember", "run", "script.py"], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["torchvision.models.resnet", "ember.nn", "(1,", "2)", "goldfish",
                                     str(round(expected, 3))]


def test_segmentation_video_flow_detection_presets_equal_torchvisions():
    from PIL import Image
    from torchvision.transforms import _presets as tv_presets

    from ember.vision.transforms import _presets
    array = _image(size=(3, 60, 50))
    cases = [("SemanticSegmentation", {"resize_size": 40}, (array,)),
             ("SemanticSegmentation", {"resize_size": None}, (Image.fromarray(array.transpose(1, 2, 0)),)),
             ("VideoClassification", {"crop_size": (24, 20), "resize_size": (30, 40)},
              (numpy.stack([array, _image(1, (3, 60, 50))]),)),
             ("VideoClassification", {"crop_size": (16, 16), "resize_size": (20,)},
              (numpy.stack([array] * 3)[None],)),
             ("OpticalFlow", {}, (array, _image(2, (3, 60, 50)))),
             ("ObjectDetection", {}, (array,))]
    for name, kwargs, inputs in cases:
        ours, theirs = getattr(_presets, name)(**kwargs), getattr(tv_presets, name)(**kwargs)
        assert repr(ours) == repr(theirs)
        if hasattr(theirs, "describe"):
            assert ours.describe() == theirs.describe()
        out = ours(*[ember.from_numpy(x) if isinstance(x, numpy.ndarray) else x for x in inputs])
        expected = theirs(*[torch.from_numpy(x) if isinstance(x, numpy.ndarray) else x for x in inputs])
        for o, e in zip(out if isinstance(out, tuple) else (out,), expected if isinstance(expected, tuple) else
                        (expected,)):
            assert o.dtype == ember.float32 and tuple(o.shape) == tuple(e.shape), name
            # an antialiased uint8 resize may round a rare pixel one step (1/255) away from torch's
            numpy.testing.assert_allclose(o.numpy(), e.numpy(), atol=1 / 255 / 0.2 + 1e-5, err_msg=name)
            assert (numpy.abs(o.numpy() - e.numpy()) > 1e-5).mean() < 1e-3, name
