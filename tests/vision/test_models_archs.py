"""The architectures added beside ResNet/VGG/MobileNetV2 against torchvision's (loaded through tv_oracle): state_dict
keys, shapes and dtypes, the module tree, parameter counts against the weights' published ``num_params``, and eval
outputs after loading the torchvision model's (randomised) weights into ember's."""
import re
from collections import OrderedDict

import numpy
import pytest

import ember
from ember.vision import models

from . import tv_oracle

tv = tv_oracle.load()
torch = pytest.importorskip("torch")
import torchvision.models as tvm  # noqa: E402

# builders whose full-size layout (and parameter count) is compared
LAYOUTS = [
    "alexnet", "squeezenet1_0", "squeezenet1_1", "densenet121", "densenet161", "densenet169", "densenet201",
    "mobilenet_v3_large", "mobilenet_v3_small", *[f"efficientnet_b{i}" for i in range(8)], "efficientnet_v2_s",
    "efficientnet_v2_m", "efficientnet_v2_l", "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5",
    "shufflenet_v2_x2_0", "googlenet", "inception_v3", "convnext_tiny", "convnext_small", "convnext_base",
    "convnext_large", "regnet_y_400mf", "regnet_y_800mf", "regnet_y_1_6gf", "regnet_y_3_2gf", "regnet_x_400mf",
    "regnet_x_800mf", "regnet_x_1_6gf", "regnet_x_3_2gf", "regnet_x_8gf", "vit_b_16", "vit_b_32", "vit_l_16",
    "mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3", "swin_t", "swin_s", "swin_v2_t", "swin_v2_b",
    "maxvit_t",
]
# builders that warn about their initialisation unless it is chosen
INIT = {"googlenet": {"init_weights": True}, "inception_v3": {"init_weights": True}}

# (builder, kwargs, input shape) for the outputs with the same weights
FORWARD = [
    ("alexnet", {"num_classes": 10}, (2, 3, 64, 64)),
    ("squeezenet1_0", {"num_classes": 10}, (2, 3, 48, 48)),
    ("squeezenet1_1", {"num_classes": 10}, (2, 3, 48, 48)),
    ("densenet121", {"num_classes": 10}, (1, 3, 40, 40)),
    ("densenet161", {"num_classes": 10, "drop_rate": 0.2}, (1, 3, 32, 32)),
    ("mobilenet_v3_large", {"num_classes": 10}, (2, 3, 64, 64)),
    ("mobilenet_v3_large", {"num_classes": 10, "width_mult": 0.75, "reduced_tail": True, "dilated": True},
     (1, 3, 48, 48)),
    ("mobilenet_v3_small", {"num_classes": 10}, (2, 3, 64, 64)),
    ("efficientnet_b0", {"num_classes": 10}, (2, 3, 64, 64)),
    ("efficientnet_b5", {"num_classes": 10}, (1, 3, 40, 40)),
    ("efficientnet_v2_s", {"num_classes": 10}, (1, 3, 64, 64)),
    ("shufflenet_v2_x0_5", {"num_classes": 10}, (2, 3, 64, 64)),
    ("shufflenet_v2_x1_5", {"num_classes": 10}, (1, 3, 48, 48)),
    ("googlenet", {"num_classes": 10, "init_weights": True}, (2, 3, 64, 64)),
    ("googlenet", {"num_classes": 10, "init_weights": False, "aux_logits": False, "transform_input": True},
     (1, 3, 40, 40)),
    ("inception_v3", {"num_classes": 10, "init_weights": False}, (1, 3, 75, 75)),
    ("inception_v3", {"num_classes": 10, "init_weights": False, "transform_input": True, "aux_logits": False},
     (1, 3, 80, 80)),
    ("convnext_tiny", {"num_classes": 10}, (2, 3, 64, 64)),
    ("convnext_small", {"num_classes": 10, "stochastic_depth_prob": 0.3}, (1, 3, 32, 32)),
    ("regnet_y_400mf", {"num_classes": 10}, (2, 3, 64, 64)),
    ("regnet_x_400mf", {"num_classes": 10}, (2, 3, 64, 64)),
    ("regnet_y_1_6gf", {"num_classes": 10}, (1, 3, 32, 32)),
    ("vit_b_16", {"num_classes": 10, "image_size": 32}, (2, 3, 32, 32)),
    ("vit_b_32", {"num_classes": 10, "image_size": 64, "representation_size": 16}, (1, 3, 64, 64)),
    ("mnasnet0_5", {"num_classes": 10}, (2, 3, 64, 64)),
    ("mnasnet1_3", {"num_classes": 10, "dropout": 0.5}, (1, 3, 48, 48)),
    ("swin_t", {"num_classes": 10}, (2, 3, 64, 64)),
    ("swin_t", {"num_classes": 10}, (1, 3, 72, 56)),
    ("swin_v2_t", {"num_classes": 10}, (1, 3, 64, 64)),
    ("swin_v2_s", {"num_classes": 10}, (1, 3, 40, 48)),
    ("maxvit_t", {"num_classes": 10}, (1, 3, 224, 224)),
]


def _keys_shapes_dtypes(model):
    return [(k, tuple(v.shape), str(v.dtype).split(".")[-1]) for k, v in model.state_dict().items()]


def _repr(model):
    """The module tree as printed, without the ``bias=`` that torch 2.13's norm reprs gained, and without the
    ``inplace=True`` that ember's Hardswish prints (torch's prints none)."""
    return str(model).replace(", bias=True, track_running_stats", ", track_running_stats").replace(
        ", elementwise_affine=True, bias=True)", ", elementwise_affine=True)").replace(
        "Hardswish(inplace=True)", "Hardswish()")


def _randomize(torch_model):
    """Non-trivial norm statistics, affine terms and layer scales, so eval outputs test them."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, p in torch_model.named_parameters():
            if name.endswith("layer_scale"):
                p.uniform_(0.5, 1.5, generator=generator)
            elif not p.any():  # zero-initialised heads and tokens
                p.normal_(0, 0.05, generator=generator)
        for m in torch_model.modules():
            if isinstance(m, (torch.nn.BatchNorm2d, torch.nn.LayerNorm, torch.nn.GroupNorm)):
                if m.weight is not None:
                    m.weight.uniform_(0.5, 1.5, generator=generator)
                    m.bias.uniform_(-0.2, 0.2, generator=generator)
                if getattr(m, "running_mean", None) is not None:
                    m.running_mean.uniform_(-0.2, 0.2, generator=generator)
                    m.running_var.uniform_(0.5, 1.5, generator=generator)


def _ember_state(torch_state):
    """A torch state dict as ember tensors, with its ``_metadata`` (module versions) kept."""
    state = OrderedDict((k, ember.from_numpy(v.detach().numpy().copy())) for k, v in torch_state.items())
    state._metadata = torch_state._metadata
    return state


@pytest.mark.parametrize("name", LAYOUTS)
def test_layout_and_parameter_count_equal_torchvisions(name):
    ours, theirs = models.get_model(name, **INIT.get(name, {})), tvm.get_model(name, **INIT.get(name, {}))
    assert _keys_shapes_dtypes(ours) == _keys_shapes_dtypes(theirs)
    assert _repr(ours) == _repr(theirs)
    # GoogLeNet's published count leaves out the auxiliary heads its pretrained model drops
    count = sum(p.numel() for k, p in ours.named_parameters() if not k.startswith(("aux1.", "aux2.")))
    assert count == models.get_model_weights(name).DEFAULT.meta["num_params"]


@pytest.mark.parametrize("name, kwargs, shape", FORWARD, ids=[f"{c[0]}-{i}" for i, c in enumerate(FORWARD)])
def test_eval_outputs_equal_torchvisions_with_the_same_weights(name, kwargs, shape):
    torch.manual_seed(0)
    theirs = tvm.get_model(name, **kwargs).eval()
    _randomize(theirs)
    ours = models.get_model(name, **kwargs).eval()
    assert ours.load_state_dict(_ember_state(theirs.state_dict())) == ([], [])
    x = numpy.random.default_rng(0).standard_normal(shape).astype(numpy.float32)
    with ember.no_grad(), torch.no_grad():
        expected = theirs(torch.from_numpy(x))
        out = ours(ember.from_numpy(x))
    numpy.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-4, atol=1e-4)


def test_registry_holds_the_architectures():
    assert set(models.list_models()) >= {name for name, _, _ in FORWARD} | set(LAYOUTS)


def test_densenet_loads_old_checkpoint_keys_and_checkpoints_memory(tmp_path, monkeypatch):
    from ember import hub
    monkeypatch.setattr(hub, "_hub_dir", str(tmp_path))
    source = models.densenet121()
    old = {re.sub(r"(denselayer\d+\.(?:norm|relu|conv))([12])\.", r"\1.\2.", k): v
           for k, v in source.state_dict().items() if not k.endswith("num_batches_tracked")}  # as the old files
    assert "features.denseblock1.denselayer1.norm.1.weight" in old
    (tmp_path / "checkpoints").mkdir()
    ember.save(old, tmp_path / "checkpoints" / models.DenseNet121_Weights.DEFAULT.url.rsplit("/", 1)[1])
    model = models.densenet121(weights="DEFAULT")
    for key, value in source.state_dict().items():
        numpy.testing.assert_array_equal(model.state_dict()[key].numpy(), value.numpy(), err_msg=key)
    x = ember.randn(2, 3, 32, 32, requires_grad=True)
    lean = models.densenet121(num_classes=4, memory_efficient=True)
    plain = models.densenet121(num_classes=4)
    plain.load_state_dict(lean.state_dict())
    lean(x).sum().backward()
    grad = x.grad.clone()
    x.grad = None
    plain(x).sum().backward()
    numpy.testing.assert_allclose(grad.numpy(), x.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, kwargs, shape", [
    ("googlenet", {"dropout": 0.0, "dropout_aux": 0.0}, (2, 3, 64, 64)),
    ("inception_v3", {"dropout": 0.0}, (2, 3, 299, 299))])
def test_training_outputs_with_auxiliary_heads_equal_torchvisions(name, kwargs, shape):
    theirs = tvm.get_model(name, num_classes=5, init_weights=False, **kwargs).double().train()
    _randomize(theirs)
    ours = models.get_model(name, num_classes=5, init_weights=False, **kwargs).double().train()
    ours.load_state_dict({k: ember.from_numpy(v.detach().numpy().copy()) for k, v in theirs.state_dict().items()})
    x = numpy.random.default_rng(1).standard_normal(shape)
    out, expected = ours(ember.from_numpy(x)), theirs(torch.from_numpy(x))
    assert type(out).__name__ == type(expected).__name__ and out._fields == expected._fields
    for o, e in zip(out, expected):
        numpy.testing.assert_allclose(o.detach().numpy(), e.detach().numpy(), rtol=1e-8, atol=1e-8)
    for key, value in theirs.state_dict().items():  # the running statistics after the training step
        numpy.testing.assert_allclose(ours.state_dict()[key].numpy(), value.numpy(), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name, heads, kept_by_default", [("googlenet", ("aux1", "aux2"), False),
                                                      ("inception_v3", ("AuxLogits",), True)])
def test_pretrained_auxiliary_heads_as_torchvision(tmp_path, monkeypatch, name, heads, kept_by_default):
    from ember import hub
    monkeypatch.setattr(hub, "_hub_dir", str(tmp_path))
    weights = models.get_model_weights(name).DEFAULT
    (tmp_path / "checkpoints").mkdir()
    source = models.get_model(name, aux_logits=True, init_weights=False)
    ember.save(source.state_dict(), tmp_path / "checkpoints" / weights.url.rsplit("/", 1)[1])
    warns = pytest.warns(UserWarning, match="NOT pretrained") if name == "googlenet" else _nothing()
    with warns if kept_by_default else _nothing():
        model = models.get_model(name, weights=weights)
    assert model.transform_input and model.aux_logits == kept_by_default
    assert all((getattr(model, h) is not None) == kept_by_default for h in heads)
    with warns:
        kept = models.get_model(name, weights=weights, aux_logits=True, transform_input=False)
    assert kept.aux_logits and not kept.transform_input and all(getattr(kept, h) is not None for h in heads)
    with pytest.raises(ValueError, match="The parameter 'aux_logits' expected value True but got False instead."):
        models.get_model(name, weights=weights, aux_logits=False)  # as torchvision's builders


def _nothing():
    import contextlib
    return contextlib.nullcontext()


@pytest.mark.parametrize("name", tvm.list_models(include="regnet_*"))
def test_regnet_block_params_equal_torchvisions(name, monkeypatch):
    """Every RegNet's stages (depths, widths, groups, strides, SE ratio), without building the large ones."""
    from ember.vision.models import regnet
    from torchvision.models import regnet as tv_regnet
    captured = {}
    for module, key in ((regnet, "ours"), (tv_regnet, "theirs")):
        monkeypatch.setattr(module, "_regnet",
                            lambda params, *args, key=key, **kwargs: captured.setdefault(key, params))
        getattr(module, name)()
    ours, theirs = captured["ours"], captured["theirs"]
    for field in ("depths", "widths", "group_widths", "bottleneck_multipliers", "strides", "se_ratio"):
        assert getattr(ours, field) == getattr(theirs, field), field


def test_vit_conv_stem_old_mlp_keys_and_interpolated_embeddings():
    from ember.vision.models import vision_transformer as ours_vit
    from torchvision.models import vision_transformer as tv_vit
    stem = [(8, 3, 2), (16, 3, 2)]
    ours = ours_vit.VisionTransformer(16, 4, 2, 2, 16, 32, num_classes=3,
                                      conv_stem_configs=[ours_vit.ConvStemConfig(*c) for c in stem]).eval()
    theirs = tv_vit.VisionTransformer(16, 4, 2, 2, 16, 32, num_classes=3,
                                      conv_stem_configs=[tv_vit.ConvStemConfig(*c) for c in stem]).eval()
    _randomize(theirs)
    assert _keys_shapes_dtypes(ours) == _keys_shapes_dtypes(theirs)
    state = {k: ember.from_numpy(v.detach().numpy().copy()) for k, v in theirs.state_dict().items()}
    old = {re.sub(r"mlp\.([03])\.", lambda m: f"mlp.linear_{int(m.group(1)) // 3 + 1}.", k): v
           for k, v in state.items()}
    assert "encoder.layers.encoder_layer_0.mlp.linear_2.bias" in old
    metadata = {"encoder.layers.encoder_layer_0.mlp": {"version": 1}, "encoder.layers.encoder_layer_1.mlp": {}}
    old = type("State", (dict,), {})(old)
    old._metadata = metadata
    ours.load_state_dict(old)
    x = numpy.random.default_rng(2).standard_normal((2, 3, 16, 16)).astype(numpy.float32)
    with ember.no_grad(), torch.no_grad():
        numpy.testing.assert_allclose(ours(ember.from_numpy(x)).numpy(), theirs(torch.from_numpy(x)).numpy(),
                                      rtol=1e-4, atol=1e-5)
    with pytest.raises(AssertionError, match="Wrong image height! Expected 16 but got 20!"):
        ours(ember.zeros(1, 3, 20, 16))
    for reset in (False, True):
        mine = ours_vit.interpolate_embeddings(24, 4, dict(state), reset_heads=reset)
        expected = tv_vit.interpolate_embeddings(24, 4, dict(theirs.state_dict()), reset_heads=reset)
        assert list(mine) == list(expected)
        numpy.testing.assert_allclose(mine["encoder.pos_embedding"].numpy(),
                                      expected["encoder.pos_embedding"].numpy(), rtol=1e-5, atol=1e-6)


def test_mnasnet_version_1_checkpoints_load_with_the_old_stem():
    from torchvision.models import mnasnet as tv_mnasnet
    old = tvm.mnasnet0_5(num_classes=4).eval()
    m = tv_mnasnet._BN_MOMENTUM
    stem = [torch.nn.Conv2d(3, 32, 3, padding=1, stride=2, bias=False), torch.nn.BatchNorm2d(32, momentum=m),
            torch.nn.ReLU(inplace=True), torch.nn.Conv2d(32, 32, 3, padding=1, stride=1, groups=32, bias=False),
            torch.nn.BatchNorm2d(32, momentum=m), torch.nn.ReLU(inplace=True),
            torch.nn.Conv2d(32, 16, 1, padding=0, stride=1, bias=False), torch.nn.BatchNorm2d(16, momentum=m),
            tv_mnasnet._stack(16, 16, 3, 2, 3, 3, m)]
    for i, layer in enumerate(stem):
        old.layers[i] = layer
    _randomize(old)
    state = old.state_dict()
    state._metadata[""]["version"] = 1
    theirs, ours = tvm.mnasnet0_5(num_classes=4).eval(), models.mnasnet0_5(num_classes=4).eval()
    with pytest.warns(UserWarning, match="A new version of MNASNet model has been implemented"):
        theirs.load_state_dict(state)
    with pytest.warns(UserWarning, match="A new version of MNASNet model has been implemented"):
        ours.load_state_dict(_ember_state(state))
    assert _keys_shapes_dtypes(ours) == _keys_shapes_dtypes(theirs) and ours._version == 1
    x = numpy.random.default_rng(3).standard_normal((1, 3, 48, 48)).astype(numpy.float32)
    with ember.no_grad(), torch.no_grad():
        numpy.testing.assert_allclose(ours(ember.from_numpy(x)).numpy(), theirs(torch.from_numpy(x)).numpy(),
                                      rtol=1e-4, atol=1e-5)
    state._metadata[""]["version"] = 3
    with pytest.raises(ValueError, match="version should be set to 1 or 2 instead of 3"):
        models.mnasnet1_0(num_classes=4).load_state_dict(_ember_state(state))


@pytest.mark.parametrize("name", ["alexnet", "squeezenet1_1", "densenet121", "mobilenet_v3_small", "efficientnet_b0",
                                  "shufflenet_v2_x0_5", "googlenet", "inception_v3", "regnet_y_400mf", "mnasnet0_5"])
def test_feature_extraction_node_names_equal_torchvisions(name):
    """Graph node names (train and eval) as torchvision's feature extraction lists them, so
    ``create_feature_extractor`` takes the same ``return_nodes``."""
    import warnings
    from ember.vision.models.feature_extraction import get_graph_node_names
    from torchvision.models.feature_extraction import get_graph_node_names as tv_get_graph_node_names
    kwargs = INIT.get(name, {})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # both warn alike where the train and eval graphs differ
        assert get_graph_node_names(models.get_model(name, **kwargs)) == \
            tv_get_graph_node_names(tvm.get_model(name, **kwargs))
