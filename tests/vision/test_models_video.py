"""ember.vision.models.video against torchvision's (loaded through tv_oracle): state_dict keys and shapes, module
trees, parameter counts against the weights' published ``num_params``, eval outputs and a training step's gradients
with the same weights, on small clips ``(N, C, T, H, W)``."""
import numpy
import pytest

import ember
from ember.vision import models

from . import tv_oracle

tv = tv_oracle.load()
torch = pytest.importorskip("torch")
import torchvision.models as tvm  # noqa: E402

from .test_models_archs import _ember_state, _repr  # noqa: E402

BUILDERS = ["r3d_18", "mc3_18", "r2plus1d_18", "s3d", "mvit_v1_b", "mvit_v2_s", "swin3d_t", "swin3d_s", "swin3d_b"]


def _randomize(torch_model):
    """Non-trivial 3-D norm statistics and affine terms, so eval outputs test them."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for m in torch_model.modules():
            if isinstance(m, (torch.nn.BatchNorm3d, torch.nn.LayerNorm)):
                m.weight.uniform_(0.5, 1.5, generator=generator)
                m.bias.uniform_(-0.2, 0.2, generator=generator)
                if isinstance(m, torch.nn.BatchNorm3d):
                    m.running_mean.uniform_(-0.2, 0.2, generator=generator)
                    m.running_var.uniform_(0.5, 1.5, generator=generator)
            elif isinstance(m, torch.nn.Linear) and m.bias is not None:
                m.bias.normal_(0, 0.05, generator=generator)


@pytest.mark.parametrize("name", BUILDERS)
def test_layout_and_parameter_count_equal_torchvisions(name):
    with ember.device("meta"), torch.device("meta"):  # layouts without the full-size initialisation
        ours, theirs = models.get_model(name), tvm.get_model(name)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    assert _repr(ours) == _repr(theirs)
    assert sum(p.numel() for p in ours.parameters()) == models.get_model_weights(name).DEFAULT.meta["num_params"]
    assert name in models.list_models(models.video) and type(ours).__module__.startswith("ember.vision.models.video.")


@pytest.mark.parametrize("name, shape", [("r3d_18", (2, 3, 4, 32, 32)), ("mc3_18", (1, 3, 5, 24, 40)),
                                         ("r2plus1d_18", (2, 3, 4, 32, 32))])
def test_eval_outputs_equal_torchvisions_with_the_same_weights(name, shape):
    torch.manual_seed(0)
    theirs = tvm.get_model(name, num_classes=7).eval()
    _randomize(theirs)
    ours = models.get_model(name, num_classes=7).eval()
    assert ours.load_state_dict(_ember_state(theirs.state_dict())) == ([], [])
    x = numpy.random.default_rng(0).standard_normal(shape).astype(numpy.float32)
    with ember.no_grad(), torch.no_grad():
        expected, out = theirs(torch.from_numpy(x)), ours(ember.from_numpy(x))
    numpy.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-4, atol=1e-4)


def test_s3d_eval_outputs_equal_torchvisions_at_its_smallest_clip():
    torch.manual_seed(0)
    theirs = tvm.video.s3d(num_classes=5).eval()
    _randomize(theirs)
    ours = models.video.s3d(num_classes=5).eval()
    assert ours.load_state_dict(_ember_state(theirs.state_dict())) == ([], [])
    x = numpy.random.default_rng(0).standard_normal((1, 3, 8, 64, 64)).astype(numpy.float32)
    with ember.no_grad(), torch.no_grad():  # the features of a small clip, then the head at the (2, 7, 7) minimum
        numpy.testing.assert_allclose(ours.features(ember.from_numpy(x)).numpy(),
                                      theirs.features(torch.from_numpy(x)).numpy(), rtol=1e-4, atol=1e-4)
        features = numpy.random.default_rng(1).standard_normal((2, 1024, 3, 7, 8)).astype(numpy.float32)
        expected = theirs.classifier(theirs.avgpool(torch.from_numpy(features))).mean(dim=(2, 3, 4))
        out = ours.classifier(ours.avgpool(ember.from_numpy(features))).mean(dim=(2, 3, 4))
    numpy.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["r2plus1d_18", "mc3_18"])
def test_training_step_gradients_equal_torchvisions(name):
    torch.manual_seed(0)
    theirs = tvm.get_model(name, num_classes=4).double().train()
    ours = models.get_model(name, num_classes=4).double().train()
    ours.load_state_dict(_ember_state(theirs.state_dict()))
    rng = numpy.random.default_rng(1)
    x, target = rng.standard_normal((2, 3, 2, 24, 24)), rng.integers(0, 4, 2)
    losses = []
    for lib, model in ((torch, theirs), (ember, ours)):
        loss = lib.nn.functional.cross_entropy(model(lib.from_numpy(x)), lib.from_numpy(target))
        loss.backward()
        losses.append(float(loss))
    numpy.testing.assert_allclose(losses[1], losses[0], rtol=1e-10)
    our_params, their_params = dict(ours.named_parameters()), dict(theirs.named_parameters())
    names = list(their_params)
    for key in names[:3] + names[len(names) // 2:len(names) // 2 + 2] + names[-3:]:
        numpy.testing.assert_allclose(our_params[key].grad.numpy(), their_params[key].grad.numpy(), rtol=1e-7,
                                      atol=1e-10, err_msg=key)
    for key, value in theirs.state_dict().items():
        numpy.testing.assert_allclose(ours.state_dict()[key].numpy(), value.numpy(), rtol=1e-8, atol=1e-10,
                                      err_msg=key)


def test_s3d_training_step_gradients_equal_torchvisions():
    """S3D's features in a training step (batch statistics with its momentum 0.001), on a small clip, up to the
    blocks whose maps are 1x1x1 there: batch norm over two values makes their gradients rounding noise."""
    torch.manual_seed(0)
    theirs, ours = tvm.video.s3d(num_classes=3).double().train(), models.video.s3d(num_classes=3).double().train()
    ours.load_state_dict(_ember_state(theirs.state_dict()))
    x = numpy.random.default_rng(2).standard_normal((2, 3, 8, 32, 32))
    for lib, model in ((torch, theirs), (ember, ours)):
        (model.features[:14](lib.from_numpy(x)) ** 2).mean().backward()
    our_params, their_params = dict(ours.named_parameters()), dict(theirs.named_parameters())
    for key in ["features.0.0.0.weight", "features.5.branch1.1.1.1.weight", "features.12.branch3.1.0.weight"]:
        numpy.testing.assert_allclose(our_params[key].grad.numpy(), their_params[key].grad.numpy(), rtol=1e-7,
                                      atol=1e-12, err_msg=key)
    key = "features.12.branch0.1.running_var"
    numpy.testing.assert_allclose(ours.state_dict()[key].numpy(), theirs.state_dict()[key].numpy(), rtol=1e-10)


def test_builders_refuse_a_num_classes_the_weights_fix():
    for lib in (models, tvm):
        for builder in (lib.video.r3d_18, lib.video.s3d):
            with pytest.raises(ValueError, match="The parameter 'num_classes' expected value 400 but got 10"):
                builder(weights="DEFAULT", num_classes=10)


# --- MViT ----------------------------------------------------------------------------------------------------------
def _small_mvit(lib, version, spatial_size, **kwargs):
    """A four-block MViT of ``version`` 1 or 2 (the builders' flags) on a small clip grid."""
    config = lib.video.mvit.MSBlockConfig
    if version == 1:
        setting = [config(1, 16, 32, [], [3, 3, 3], [], [1, 4, 4]),
                   config(2, 32, 32, [3, 3, 3], [3, 3, 3], [1, 2, 2], [1, 2, 2]),
                   config(2, 32, 64, [], [3, 3, 3], [], [1, 2, 2]),
                   config(4, 64, 64, [3, 3, 3], [3, 3, 3], [1, 2, 2], [1, 1, 1])]
        flags = {"residual_pool": False, "residual_with_cls_embed": False, "rel_pos_embed": False,
                 "proj_after_attn": False}
    else:
        setting = [config(1, 16, 16, [3, 3, 3], [3, 3, 3], [1, 1, 1], [1, 4, 4]),
                   config(2, 16, 32, [3, 3, 3], [3, 3, 3], [1, 2, 2], [1, 2, 2]),
                   config(2, 32, 32, [3, 3, 3], [3, 3, 3], [1, 1, 1], [1, 2, 2]),
                   config(4, 32, 64, [3, 3, 3], [3, 3, 3], [1, 2, 2], [1, 1, 1])]
        flags = {"residual_pool": True, "residual_with_cls_embed": version == 3, "rel_pos_embed": True,
                 "proj_after_attn": True}
    return lib.video.MViT(spatial_size=spatial_size, temporal_size=4, block_setting=setting, num_classes=5,
                          **flags, **kwargs)


@pytest.mark.parametrize("version, spatial_size", [(1, (32, 32)), (2, (32, 32)), (2, (36, 44)), (3, (32, 32))],
                         ids=["v1", "v2", "v2-odd-grid", "v2-cls-residual"])
def test_mvit_eval_outputs_equal_torchvisions(version, spatial_size):
    """Small MViTs with each variant's flags; the odd grid (9 x 11 patches) makes the strided poolings round up, so
    the relative-position tables are resampled."""
    torch.manual_seed(0)
    theirs = _small_mvit(tvm, version, spatial_size).eval()
    _randomize(theirs)
    ours = _small_mvit(models, version, spatial_size).eval()
    assert _repr(ours) == _repr(theirs)
    assert ours.load_state_dict(_ember_state(theirs.state_dict())) == ([], [])
    x = numpy.random.default_rng(0).standard_normal((2, 3, 4, *spatial_size)).astype(numpy.float32)
    with ember.no_grad(), torch.no_grad():
        expected, out = theirs(torch.from_numpy(x)), ours(ember.from_numpy(x))
    numpy.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("version", [1, 2])
def test_mvit_training_step_gradients_equal_torchvisions(version):
    """A seeded training step with stochastic depth and attention dropout drawing the same numbers."""
    torch.manual_seed(0)
    kwargs = {"stochastic_depth_prob": 0.3, "attention_dropout": 0.1, "dropout": 0.2}
    theirs = _small_mvit(tvm, version, (32, 32), **kwargs).double().train()
    ours = _small_mvit(models, version, (32, 32), **kwargs).double().train()
    ours.load_state_dict(_ember_state(theirs.state_dict()))
    rng = numpy.random.default_rng(1)
    x, target = rng.standard_normal((3, 3, 4, 32, 32)), rng.integers(0, 5, 3)
    losses = []
    for lib, model in ((torch, theirs), (ember, ours)):
        lib.manual_seed(3)
        loss = lib.nn.functional.cross_entropy(model(lib.from_numpy(x)), lib.from_numpy(target))
        loss.backward()
        losses.append(float(loss))
    numpy.testing.assert_allclose(losses[1], losses[0], rtol=1e-10)
    our_params = dict(ours.named_parameters())
    for key, p in theirs.named_parameters():
        numpy.testing.assert_allclose(our_params[key].grad.numpy(), p.grad.numpy(), rtol=1e-7, atol=1e-12,
                                      err_msg=key)


def test_mvit_takes_images_as_one_frame_clips():
    torch.manual_seed(0)
    config = tvm.video.mvit.MSBlockConfig
    theirs = tvm.video.MViT((32, 32), 1, [config(2, 16, 16, [], [], [], [])] * 2, False, True, False, False,
                            num_classes=3, patch_embed_kernel=(1, 7, 7), patch_embed_stride=(1, 4, 4),
                            patch_embed_padding=(0, 3, 3)).eval()
    config = models.video.mvit.MSBlockConfig
    ours = models.video.MViT((32, 32), 1, [config(2, 16, 16, [], [], [], [])] * 2, False, True, False, False,
                             num_classes=3, patch_embed_kernel=(1, 7, 7), patch_embed_stride=(1, 4, 4),
                             patch_embed_padding=(0, 3, 3)).eval()
    ours.load_state_dict(_ember_state(theirs.state_dict()))
    x = numpy.random.default_rng(0).standard_normal((2, 3, 32, 32)).astype(numpy.float32)
    with ember.no_grad(), torch.no_grad():
        numpy.testing.assert_allclose(ours(ember.from_numpy(x)).numpy(), theirs(torch.from_numpy(x)).numpy(),
                                      rtol=1e-4, atol=1e-5)
    for lib in (models, tvm):
        with pytest.raises(ValueError, match="Unsupported input dimension"):
            (ours if lib is models else theirs)(ember.zeros(2, 32, 32) if lib is models else torch.zeros(2, 32, 32))
        with pytest.raises(ValueError, match="The configuration parameter can't be empty."):
            lib.video.MViT((32, 32), 4, [], False, True, False, False)


# --- Video Swin ----------------------------------------------------------------------------------------------------
def _small_swin3d(lib, window_size, **kwargs):
    return lib.video.SwinTransformer3d(patch_size=[2, 4, 4], embed_dim=16, depths=[2, 2], num_heads=[2, 4],
                                       window_size=window_size, num_classes=5, **kwargs)


@pytest.mark.parametrize("window_size, shape", [([2, 3, 3], (2, 3, 4, 24, 24)), ([2, 3, 3], (1, 3, 5, 26, 30)),
                                                ([8, 7, 7], (1, 3, 4, 24, 28))],
                         ids=["shifted", "padded", "window-larger-than-clip"])
def test_swin3d_eval_outputs_equal_torchvisions(window_size, shape):
    """Shifted windows with their masks, clips padded to whole patches and windows, and windows shrunk to a clip
    smaller than them (no shift there)."""
    torch.manual_seed(0)
    theirs = _small_swin3d(tvm, window_size).eval()
    _randomize(theirs)
    ours = _small_swin3d(models, window_size).eval()
    assert _repr(ours) == _repr(theirs)
    assert ours.load_state_dict(_ember_state(theirs.state_dict())) == ([], [])
    x = numpy.random.default_rng(0).standard_normal(shape).astype(numpy.float32)
    with ember.no_grad(), torch.no_grad():
        expected, out = theirs(torch.from_numpy(x)), ours(ember.from_numpy(x))
    numpy.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-4, atol=1e-5)


def test_swin3d_training_step_gradients_equal_torchvisions():
    torch.manual_seed(0)
    kwargs = {"stochastic_depth_prob": 0.3, "attention_dropout": 0.1, "dropout": 0.1}
    theirs = _small_swin3d(tvm, [2, 3, 3], **kwargs).double().train()
    ours = _small_swin3d(models, [2, 3, 3], **kwargs).double().train()
    ours.load_state_dict(_ember_state(theirs.state_dict()))
    rng = numpy.random.default_rng(1)
    x, target = rng.standard_normal((2, 3, 4, 24, 24)), rng.integers(0, 5, 2)
    losses = []
    for lib, model in ((torch, theirs), (ember, ours)):
        lib.manual_seed(3)
        loss = lib.nn.functional.cross_entropy(model(lib.from_numpy(x)), lib.from_numpy(target))
        loss.backward()
        losses.append(float(loss))
    numpy.testing.assert_allclose(losses[1], losses[0], rtol=1e-10)
    our_params = dict(ours.named_parameters())
    for key, p in theirs.named_parameters():
        numpy.testing.assert_allclose(our_params[key].grad.numpy(), p.grad.numpy(), rtol=1e-7, atol=1e-12,
                                      err_msg=key)
    assert ours.features[0][1].attn.relative_position_index.dtype == ember.int64


@pytest.mark.parametrize("name", ["r3d_18", "r2plus1d_18", "s3d", "mvit-v1", "mvit-v2", "swin3d_t"])
def test_feature_extraction_node_names_equal_torchvisions(name):
    """Graph node names (train and eval) as torchvision's feature extraction lists them: the same helpers are fx
    leaves, the convolution subclasses are traced through, and the graph keeps torchvision's order (the MViTs in
    their small configurations: 16 blocks trace slowly)."""
    from torchvision.models.feature_extraction import get_graph_node_names as tv_get_graph_node_names

    from ember.vision.models.feature_extraction import get_graph_node_names
    with ember.device("meta"), torch.device("meta"):
        if name.startswith("mvit"):
            ours, theirs = (_small_mvit(lib, int(name[-1]), (32, 32)) for lib in (models, tvm))
        else:
            ours, theirs = models.get_model(name), tvm.get_model(name)
    assert get_graph_node_names(ours) == tv_get_graph_node_names(theirs)


def test_video_resnet_model_urls_warn_as_torchvision():
    import torchvision.models.video.resnet as tv_resnet

    from ember.vision.models.video import resnet
    assert dict(resnet.model_urls) == dict(tv_resnet.model_urls)
    for table in (resnet.model_urls, tv_resnet.model_urls):
        with pytest.warns(UserWarning, match="Accessing the model URLs via the internal dictionary"):
            assert table["r3d_18"].endswith("r3d_18-b3b3357e.pth")
