"""ember.vision.models.optical_flow (RAFT) against torchvision's (loaded through tv_oracle): state_dict keys and
shapes, module trees, parameter counts against the weights' published ``num_params``, the flow predictions and a
training step's gradients with the same weights, on the smallest images RAFT takes (128 x 128)."""
import numpy
import pytest

import ember
from ember.vision import models

from . import tv_oracle

tv = tv_oracle.load()
torch = pytest.importorskip("torch")
import torchvision.models as tvm  # noqa: E402

from .test_models_archs import _ember_state, _randomize, _repr  # noqa: E402


@pytest.mark.parametrize("name", ["raft_large", "raft_small"])
def test_layout_and_parameter_count_equal_torchvisions(name):
    ours, theirs = models.get_model(name), tvm.get_model(name)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    assert _repr(ours) == _repr(theirs)
    assert sum(p.numel() for p in ours.parameters()) == models.get_model_weights(name).DEFAULT.meta["num_params"]
    assert type(ours).__module__ == "ember.vision.models.optical_flow.raft"


def _images(batch, seed=0, size=128):
    rng = numpy.random.default_rng(seed)
    image1 = rng.uniform(-1, 1, (batch, 3, size, size)).astype(numpy.float32)
    # the second image: the first shifted by a few pixels, plus noise, so the flow has something to find
    image2 = numpy.roll(image1, (3, -2), axis=(2, 3)) + 0.1 * rng.standard_normal(image1.shape).astype(numpy.float32)
    return image1, image2


@pytest.mark.parametrize("name, updates", [("raft_small", 4), ("raft_large", 2)])
def test_flow_predictions_equal_torchvisions_with_the_same_weights(name, updates):
    torch.manual_seed(0)
    theirs = tvm.get_model(name).eval()
    _randomize(theirs)
    ours = models.get_model(name).eval()
    assert ours.load_state_dict(_ember_state(theirs.state_dict())) == ([], [])
    image1, image2 = _images(1)
    with ember.no_grad(), torch.no_grad():
        expected = theirs(torch.from_numpy(image1), torch.from_numpy(image2), num_flow_updates=updates)
        out = ours(ember.from_numpy(image1), ember.from_numpy(image2), num_flow_updates=updates)
    assert isinstance(out, list) and len(out) == len(expected) == updates
    for o, e in zip(out, expected):
        assert tuple(o.shape) == (1, 2, 128, 128)
        numpy.testing.assert_allclose(o.numpy(), e.numpy(), rtol=1e-4, atol=1e-4)


def _narrow_raft(raft, nn):
    """RAFT-large's structure (instance-normed features, batch-normed context, two GRUs, convex upsampling) with
    few channels, from the ``raft`` module's parts."""
    return raft.RAFT(
        feature_encoder=raft.FeatureEncoder(layers=(16, 16, 24, 32, 48), norm_layer=nn.InstanceNorm2d),
        context_encoder=raft.FeatureEncoder(layers=(16, 16, 24, 32, 48), norm_layer=nn.BatchNorm2d),
        corr_block=raft.CorrBlock(num_levels=4, radius=2),
        update_block=raft.UpdateBlock(
            motion_encoder=raft.MotionEncoder(in_channels_corr=100, corr_layers=(32, 24), flow_layers=(16, 8),
                                              out_channels=24),
            recurrent_block=raft.RecurrentBlock(input_size=24 + 16, hidden_size=32),
            flow_head=raft.FlowHead(in_channels=32, hidden_size=32)),
        mask_predictor=raft.MaskPredictor(in_channels=32, hidden_size=32))


def test_training_step_gradients_equal_torchvisions(monkeypatch):
    """A narrow RAFT in training mode (the context encoder's batch statistics), the references' sequence loss (later
    predictions weigh more), in float64: both libraries' coordinate grids are made float64 too (torchvision's are
    float32, which a float64 model's grid_sample refuses; in float32 the recurrence amplifies rounding)."""
    import torchvision.models.optical_flow.raft as tv_raft

    import ember.vision.models.optical_flow.raft as our_raft
    for module in (tv_raft, our_raft):
        monkeypatch.setattr(module, "make_coords_grid", lambda *a, _grid=module.make_coords_grid, **k:
                            _grid(*a, **k).double())
    torch.manual_seed(0)
    theirs = _narrow_raft(tv_raft, torch.nn).double().train()
    ours = _narrow_raft(our_raft, ember.nn).double().train()
    ours.load_state_dict(_ember_state(theirs.state_dict()))
    image1, image2 = (x.astype(numpy.float64) for x in _images(2, seed=1))
    target = numpy.random.default_rng(2).standard_normal((2, 2, 128, 128))
    losses = []
    for lib, model in ((torch, theirs), (ember, ours)):
        predictions = model(lib.from_numpy(image1), lib.from_numpy(image2), num_flow_updates=3)
        loss = sum(0.8 ** (len(predictions) - i - 1) * (p - lib.from_numpy(target)).abs().mean()
                   for i, p in enumerate(predictions))
        loss.backward()
        losses.append(float(loss))
    numpy.testing.assert_allclose(losses[1], losses[0], rtol=1e-12)
    our_params = dict(ours.named_parameters())
    for key, p in theirs.named_parameters():
        if key.endswith("0.bias") and "encoder" in key:  # a bias a norm removes: its gradient is rounding noise
            continue
        numpy.testing.assert_allclose(our_params[key].grad.numpy(), p.grad.numpy(), rtol=1e-8,
                                      atol=1e-10 * numpy.abs(p.grad.numpy()).max(), err_msg=key)
    for key, value in theirs.state_dict().items():  # the context encoder's running statistics
        numpy.testing.assert_allclose(ours.state_dict()[key].numpy(), value.numpy(), rtol=1e-10, err_msg=key)


def test_inputs_are_checked_as_torchvision():
    model_pairs = [(models.optical_flow.raft_small(), ember), (tvm.optical_flow.raft_small(), torch)]
    for model, lib in model_pairs:
        with pytest.raises(ValueError, match="input image H and W should be divisible by 8"):
            model(lib.zeros(1, 3, 132, 128), lib.zeros(1, 3, 132, 128))
        with pytest.raises(ValueError, match="input images should have the same shape"):
            model(lib.zeros(1, 3, 128, 128), lib.zeros(1, 3, 136, 128))
        with pytest.raises(ValueError, match=r"H and W of feature maps should be at least 16; .* at least 8 \* 16"):
            model(lib.zeros(1, 3, 64, 128), lib.zeros(1, 3, 64, 128))
