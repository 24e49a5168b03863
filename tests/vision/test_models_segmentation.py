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

from .test_models_archs import _ember_state  # noqa: E402


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
