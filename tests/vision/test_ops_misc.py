"""ember.vision.ops' modules against torchvision's: state_dict keys and shapes, outputs after loading torchvision's
weights, checkpoint migrations and errors; stochastic depth and DropBlock by their defining properties."""
from collections import OrderedDict

import numpy
import pytest
import torch

import ember
import ember.vision.ops as E
from ember import nn
from tests.vision import tv_oracle

tv = tv_oracle.load()
T = tv.ops


def layout(module):
    return [(k, tuple(v.shape)) for k, v in module.state_dict().items()]


def load_from(ours, theirs):
    state = {k: ember.from_numpy(v.detach().numpy().copy()) for k, v in theirs.state_dict().items()}
    ours.load_state_dict(state)
    return ours


def same_output(ours, theirs, *shapes, rtol=1e-5):
    load_from(ours, theirs)
    ours.eval()
    theirs.eval()
    inputs = [numpy.random.default_rng(i).normal(size=s).astype(numpy.float32) for i, s in enumerate(shapes)]
    out = ours(*[ember.tensor(x) for x in inputs])
    with torch.no_grad():
        ref = theirs(*[torch.tensor(x) for x in inputs])
    numpy.testing.assert_allclose(out.detach().numpy(), ref.numpy(), rtol=rtol, atol=1e-5)


CONV_BLOCKS = [
    ("Conv2dNormActivation", (3, 8), {}, (2, 3, 9, 9)),
    ("Conv2dNormActivation", (4, 6), {"kernel_size": (3, 5), "dilation": 2, "stride": 2}, (1, 4, 11, 12)),
    ("Conv2dNormActivation", (4, 4), {"groups": 2, "norm_layer": None, "activation_layer": None}, (1, 4, 6, 6)),
    ("Conv2dNormActivation", (3, 5), {"norm_layer": None, "bias": False, "activation_layer": nn.Hardswish,
                                      "inplace": None}, (1, 3, 6, 6)),
    ("Conv3dNormActivation", (2, 4), {}, (1, 2, 5, 6, 7)),
    ("Conv3dNormActivation", (2, 3), {"kernel_size": (1, 3, 3), "padding": 0}, (1, 2, 5, 6, 7)),
]


def torch_kwargs(kwargs):
    """The same keyword arguments with torch's layer classes in place of ember's."""
    swap = {nn.Hardswish: torch.nn.Hardswish, nn.BatchNorm2d: torch.nn.BatchNorm2d, nn.GroupNorm: torch.nn.GroupNorm,
            nn.LayerNorm: torch.nn.LayerNorm, nn.ReLU: torch.nn.ReLU, nn.SiLU: torch.nn.SiLU,
            nn.Sigmoid: torch.nn.Sigmoid, nn.Hardsigmoid: torch.nn.Hardsigmoid}
    return {k: swap.get(v, v) if isinstance(v, type) else v for k, v in kwargs.items()}


@pytest.mark.parametrize("name,args,kwargs,shape", CONV_BLOCKS)
def test_conv_norm_activation(name, args, kwargs, shape):
    ours = getattr(E, name)(*args, **kwargs)
    theirs = getattr(T, name)(*args, **torch_kwargs(kwargs))
    assert layout(ours) == layout(theirs)
    assert ours.out_channels == theirs.out_channels
    assert [type(m).__name__ for m in ours] == [type(m).__name__ for m in theirs]
    same_output(ours, theirs, shape)


def test_conv_norm_activation_base_warns():
    with pytest.warns(UserWarning, match="Don't use ConvNormActivation directly"):
        E.misc.ConvNormActivation(2, 3)


@pytest.mark.parametrize("kwargs", [{}, {"activation": nn.SiLU, "scale_activation": nn.Hardsigmoid}])
def test_squeeze_excitation(kwargs):
    ours = E.SqueezeExcitation(8, 3, **kwargs)
    theirs = T.SqueezeExcitation(8, 3, **torch_kwargs(kwargs))
    assert layout(ours) == layout(theirs)
    same_output(ours, theirs, (2, 8, 5, 6))


@pytest.mark.parametrize("kwargs", [{}, {"norm_layer": nn.LayerNorm, "dropout": 0.2},
                                    {"bias": False, "inplace": False}])
def test_mlp(kwargs):
    ours = E.MLP(6, [10, 7, 3], **kwargs)
    theirs = T.MLP(6, [10, 7, 3], **torch_kwargs(kwargs))
    assert layout(ours) == layout(theirs)
    assert [type(m).__name__ for m in ours] == [type(m).__name__ for m in theirs]
    same_output(ours, theirs, (4, 6))


def test_permute():
    x = numpy.arange(24.0).reshape(2, 3, 4)
    numpy.testing.assert_array_equal(E.Permute([2, 0, 1])(ember.tensor(x)).numpy(), x.transpose(2, 0, 1))


def test_frozen_batch_norm():
    ours, theirs = E.FrozenBatchNorm2d(5, eps=1e-3), T.FrozenBatchNorm2d(5, eps=1e-3)
    assert layout(ours) == layout(theirs) and not list(ours.parameters())
    assert repr(ours) == repr(theirs) == "FrozenBatchNorm2d(5, eps=0.001)"
    bn = torch.nn.BatchNorm2d(5)
    bn.train()
    bn(torch.randn(8, 5, 3, 3) * 3 + 1)
    for name in ("weight", "bias"):
        getattr(bn, name).data.uniform_(0.5, 1.5)
    theirs.load_state_dict(bn.state_dict())
    load_from(ours, bn)  # a BatchNorm2d checkpoint, num_batches_tracked included, loads strictly
    same_output(ours, theirs, (2, 5, 4, 4))


FPN_CASES = [({}, None), ({"norm_layer": nn.BatchNorm2d}, None), ({}, "pool"), ({}, "p6p7")]


def extra(kind, side):
    if kind == "pool":
        return side.LastLevelMaxPool()
    if kind == "p6p7":
        return side.LastLevelP6P7(16, 6)
    return None


@pytest.mark.parametrize("kwargs,kind", FPN_CASES)
def test_feature_pyramid_network(kwargs, kind):
    from torchvision.ops import feature_pyramid_network as tv_fpn
    ours = E.FeaturePyramidNetwork([4, 8, 16], 6, extra_blocks=extra(kind, E.feature_pyramid_network), **kwargs)
    theirs = T.FeaturePyramidNetwork([4, 8, 16], 6, extra_blocks=extra(kind, tv_fpn), **torch_kwargs(kwargs))
    assert layout(ours) == layout(theirs)
    load_from(ours, theirs)
    ours.eval()
    theirs.eval()
    rng = numpy.random.default_rng(0)
    feats = OrderedDict([("c3", rng.normal(size=(2, 4, 16, 15))), ("c4", rng.normal(size=(2, 8, 8, 8))),
                         ("c5", rng.normal(size=(2, 16, 3, 4)))])
    out = ours(OrderedDict((k, ember.tensor(v.astype(numpy.float32))) for k, v in feats.items()))
    with torch.no_grad():
        ref = theirs(OrderedDict((k, torch.tensor(v.astype(numpy.float32))) for k, v in feats.items()))
    assert list(out) == list(ref)
    for key in ref:
        numpy.testing.assert_allclose(out[key].detach().numpy(), ref[key].numpy(), rtol=1e-5, atol=1e-5)


def test_feature_pyramid_network_initialisation_and_errors():
    fpn = E.FeaturePyramidNetwork([4, 8], 6)
    assert all(float(m.bias.abs().sum()) == 0 for m in fpn.modules() if isinstance(m, nn.Conv2d))
    bound = (6 / ((1 + 1) * 4)) ** 0.5  # kaiming_uniform_ with a=1 on fan_in 4
    assert float(fpn.inner_blocks[0][0].weight.abs().max()) <= bound
    with pytest.raises(ValueError, match="in_channels=0 is currently not supported"):
        E.FeaturePyramidNetwork([4, 0], 6)
    with pytest.raises(TypeError, match="extra_blocks should be of type ExtraFPNBlock"):
        E.FeaturePyramidNetwork([4], 6, extra_blocks=nn.ReLU())


def test_feature_pyramid_network_loads_version_1_checkpoints():
    source = E.FeaturePyramidNetwork([4, 8], 6)
    old = OrderedDict((k.replace(".0.weight", ".weight").replace(".0.bias", ".bias"), v.clone())
                      for k, v in source.state_dict().items())
    assert "inner_blocks.0.weight" in old  # no metadata: read as version 1, keys renamed on load
    target = E.FeaturePyramidNetwork([4, 8], 6)
    target.load_state_dict(old)
    for (k, v), w in zip(target.state_dict().items(), source.state_dict().values()):
        numpy.testing.assert_array_equal(v.numpy(), w.numpy(), err_msg=k)


def test_stochastic_depth():
    x = ember.ones(2000, 3, 2)
    for mode in ("row", "batch"):
        assert E.stochastic_depth(x, 0.4, mode, training=False) is x
        assert E.stochastic_depth(x, 0.0, mode) is x
        assert float(E.stochastic_depth(x, 1.0, mode).abs().sum()) == 0.0
    ember.manual_seed(0)
    rows = E.stochastic_depth(x, 0.25, "row").numpy()
    numpy.testing.assert_allclose(numpy.unique(rows), [0.0, 1 / 0.75], rtol=1e-6)
    assert (rows == rows[:, :1, :1]).all()  # whole samples drop
    assert abs((rows[:, 0, 0] == 0).mean() - 0.25) < 0.05
    batch = E.stochastic_depth(x, 0.5, "batch").numpy()
    assert len(numpy.unique(batch)) == 1
    module = E.StochasticDepth(0.3, "row")
    assert repr(module) == "StochasticDepth(p=0.3, mode=row)"
    assert module.eval()(x) is x
    with pytest.raises(ValueError, match="drop probability has to be between 0 and 1, but got 1.5"):
        E.stochastic_depth(x, 1.5, "row")
    with pytest.raises(ValueError, match="mode has to be either 'batch' or 'row', but got col"):
        E.stochastic_depth(x, 0.5, "col")


def test_drop_block2d():
    ember.manual_seed(0)
    x = ember.ones(4, 3, 12, 12)
    out = E.drop_block2d(x, 0.2, 3).numpy()
    dropped = out == 0
    kept = out[~dropped]
    # survivors are rescaled by numel / sum(mask)
    numpy.testing.assert_allclose(kept, out.size / (~dropped).sum(), rtol=1e-5)
    # every dropped unit lies in a dropped 3x3 block (blocks are centred on seeds, cut at the border)
    padded = numpy.pad(dropped, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=True)
    windows = numpy.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(2, 3)).all(axis=(-1, -2))
    covered = numpy.zeros_like(dropped)
    for dy in range(3):
        for dx in range(3):
            covered |= numpy.pad(windows, ((0, 0), (0, 0), (1, 1), (1, 1)))[:, :, dy:dy + 12, dx:dx + 12]
    assert covered[dropped].all()
    assert 0.05 < dropped.mean() < 0.4
    assert E.drop_block2d(x, 0.3, 3, training=False) is x
    y = ember.ones(1, 1, 5, 5)
    assert E.drop_block2d(y, 0.5, 3, inplace=True) is y
    module = E.DropBlock2d(0.1, 3)
    assert repr(module) == "DropBlock2d(p=0.1, block_size=3, inplace=False)"
    with pytest.raises(ValueError, match="drop probability has to be between 0 and 1, but got -0.1."):
        E.drop_block2d(x, -0.1, 3)
    with pytest.raises(ValueError, match="input should be 4 dimensional. Got 3 dimensions."):
        E.drop_block2d(x[0], 0.1, 3)
    with pytest.raises(ValueError, match="block size should be odd. Got 4 which is even."):
        E.drop_block2d(x, 0.1, 4)


def test_drop_block3d():
    ember.manual_seed(1)
    x = ember.ones(2, 2, 6, 7, 8)
    out = E.drop_block3d(x, 0.2, 3).numpy()
    assert out.shape == (2, 2, 6, 7, 8) and (out == 0).any()
    numpy.testing.assert_allclose(out[out != 0], out.size / (out != 0).sum(), rtol=1e-5)
    assert E.DropBlock3d(0.1, 3).eval()(x) is x
    with pytest.raises(ValueError, match="input should be 5 dimensional. Got 4 dimensions."):
        E.drop_block3d(x[0], 0.1, 3)


def test_split_normalization_params():
    from ember.vision.ops._utils import split_normalization_params
    from torchvision.ops._utils import split_normalization_params as theirs_split
    ours = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Sequential(nn.Linear(4, 2), nn.LayerNorm(2)),
                         nn.GroupNorm(2, 4))
    theirs = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4),
                                 torch.nn.Sequential(torch.nn.Linear(4, 2), torch.nn.LayerNorm(2)),
                                 torch.nn.GroupNorm(2, 4))
    shapes = lambda groups: [[tuple(p.shape) for p in g] for g in groups]  # noqa: E731
    assert shapes(split_normalization_params(ours)) == shapes(theirs_split(theirs))
    assert shapes(split_normalization_params(ours, [nn.Linear])) == shapes(theirs_split(theirs, [torch.nn.Linear]))
    with pytest.raises(ValueError, match="is not a subclass of nn.Module"):
        split_normalization_params(ours, [int])


@pytest.mark.parametrize("name,args", [("stochastic_depth", (0.3, "row")), ("stochastic_depth", (0.5, "batch")),
                                       ("stochastic_depth", (1.0, "row")), ("drop_block2d", (0.3, 3)),
                                       ("drop_block2d", (0.1, 5)), ("drop_block2d", (0.2, 7)),
                                       ("drop_block3d", (0.3, 3))])
def test_random_drops_match_torchvision_seed_for_seed(name, args):
    # ember's generator draws torch's numbers for a seed, so the masks agree exactly
    shape = (4, 3, 5, 6, 7) if name == "drop_block3d" else (4, 3, 9, 8)
    x = numpy.random.default_rng(0).normal(size=shape).astype(numpy.float32)
    ember.manual_seed(11)
    torch.manual_seed(11)
    ours = getattr(E, name)(ember.tensor(x), *args)
    theirs = getattr(T, name)(torch.tensor(x), *args)
    numpy.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
