"""ember.vision.models.feature_extraction on ember.vision's resnet18, beside torchvision's own feature_extraction
module (loaded from its file: the installed torchvision lacks its compiled ops) on the same layout in torch."""
import copy
import importlib.util
import pathlib
import sys
import types

import numpy
import pytest
import torch

import ember
from ember.vision.models import resnet18
from ember.vision.models.feature_extraction import create_feature_extractor, get_graph_node_names

from .models import copy_weights, pair

RETURN_NODES = {"layer1": "feat1", "layer3.1.relu_1": "feat3", "flatten": "flat", "fc": "logits"}


@pytest.fixture(scope="module")
def torchvision_fe():
    path = pathlib.Path(torch.__file__).parent.parent / "torchvision" / "models" / "feature_extraction.py"
    if not path.exists():
        pytest.skip("torchvision's feature_extraction.py is not installed")
    stub = types.ModuleType("torchvision")
    stub.ops = types.ModuleType("torchvision.ops")   # no torchvision.ops modules in these models
    saved = sys.modules.get("torchvision")
    sys.modules["torchvision"] = stub
    try:
        spec = importlib.util.spec_from_file_location("torchvision_feature_extraction", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        if saved is None:
            del sys.modules["torchvision"]
        else:
            sys.modules["torchvision"] = saved
    return module


@pytest.fixture(scope="module")
def models():
    torch.manual_seed(0)
    t_model = pair("ResNet")[0]
    return t_model, copy_weights(t_model, resnet18())


def test_node_names_match_torchvision(torchvision_fe, models):
    t_model, e_model = models
    e_model.train()
    t_train, t_eval = torchvision_fe.get_graph_node_names(t_model)
    e_train, e_eval = get_graph_node_names(e_model)
    assert e_train == t_train and e_eval == t_eval
    assert e_train[:6] == ["x", "conv1", "bn1", "relu", "maxpool", "layer1.0.conv1"]
    assert "layer1.0.add" in e_train and "layer1.0.relu_1" in e_train and e_train[-2:] == ["flatten", "fc"]
    assert e_model.training


def test_features_equal_the_layers_called_directly(torchvision_fe, models):
    t_model, e_model = models
    e_model.eval()
    t_model.eval()
    x = numpy.random.randn(2, 3, 32, 32).astype(numpy.float32)
    ex = ember.from_numpy(x)
    extractor = create_feature_extractor(e_model, return_nodes=RETURN_NODES)
    assert not extractor.training and type(extractor).__name__ == "ResNet"
    out = extractor(ex)
    assert list(out) == ["feat1", "feat3", "flat", "logits"]
    m = e_model
    stem = m.maxpool(m.relu(m.bn1(m.conv1(ex))))
    layer1 = m.layer1(stem)
    layer3 = m.layer3(m.layer2(layer1))
    flat = ember.flatten(m.avgpool(m.layer4(layer3)), 1)
    for got, expected in [(out["feat1"], layer1), (out["feat3"], layer3), (out["flat"], flat),
                          (out["logits"], m.fc(flat))]:
        assert got.shape == expected.shape
        numpy.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-5)
    t_out = torchvision_fe.create_feature_extractor(t_model, return_nodes=RETURN_NODES)(torch.from_numpy(x))
    for key in RETURN_NODES.values():
        numpy.testing.assert_allclose(out[key].detach().numpy(), t_out[key].detach().numpy(), rtol=1e-4, atol=1e-4)


def test_extractor_drops_unused_layers_and_switches_graphs(torchvision_fe, models):
    t_model, e_model = models
    t_model.train()
    e_model.train()
    extractor = create_feature_extractor(e_model, {"layer2.0.bn1": "mid"})
    t_extractor = torchvision_fe.create_feature_extractor(t_model, {"layer2.0.bn1": "mid"})
    assert sorted(extractor.state_dict()) == sorted(t_extractor.state_dict())
    assert [n.name for n in extractor.graph.nodes] == [n.name for n in t_extractor.graph.nodes]
    assert extractor.code.replace("ember.", "torch.") == t_extractor.code
    assert extractor.graph is extractor.train_graph
    extractor.eval()
    assert extractor.graph is extractor.eval_graph and not extractor.training
    clone = copy.deepcopy(extractor)
    x = ember.randn(1, 3, 32, 32)
    numpy.testing.assert_allclose(clone(x)["mid"].detach().numpy(), extractor(x)["mid"].detach().numpy())
    assert not clone.training and clone.graph is clone.eval_graph


def test_argument_errors_match_torchvision(torchvision_fe, models):
    t_model, e_model = models
    for kwargs in ({}, {"train_return_nodes": ["fc"]}, {"return_nodes": ["fc"], "train_return_nodes": ["fc"],
                                                         "eval_return_nodes": ["fc"]}, {"return_nodes": ["nope"]}):
        with pytest.raises(ValueError) as t_info:
            torchvision_fe.create_feature_extractor(t_model, **kwargs)
        with pytest.raises(ValueError) as e_info:
            create_feature_extractor(e_model, **kwargs)
        assert str(e_info.value) == str(t_info.value)


def test_torchvision_ops_blocks_are_leaves():
    # torchvision.ops.misc.Conv2dNormActivation is a leaf of torchvision's tracer; ember's models' copy is too.
    from ember.vision.models import mobilenet_v2
    names = get_graph_node_names(mobilenet_v2())[1]
    assert names[:8] == ["x", "features.0", "features.1.conv.0", "features.1.conv.1", "features.1.conv.2",
                         "features.2.conv.0", "features.2.conv.1", "features.2.conv.2"]
    assert names[-3:] == ["flatten", "classifier.0", "classifier.1"]


def test_models_with_parameters_read_in_forward_trace():
    """A tracer whose create_proxy takes no proxy_factory_fn (feature extraction's) still traces modules that read
    parameters in forward (ViT's class token, ConvNeXt's layer scale), as PyTorch's tracer checks the signature."""
    from ember.vision.models import VisionTransformer
    ember.manual_seed(0)
    model = VisionTransformer(image_size=32, patch_size=16, num_layers=1, num_heads=2, hidden_dim=16,
                              mlp_dim=32).eval()
    last = get_graph_node_names(model)[1][-1]
    x = ember.randn(2, 3, 32, 32)
    features = create_feature_extractor(model, return_nodes=[last])(x)
    assert (features[last] - model(x)).abs().max().item() == 0
