"""torch.fx.experimental.optimization beside torch (found by a differential sweep): conv/linear-BatchNorm fusion,
dropout removal and subgraph extraction give the same generated code and outputs."""
import importlib
import warnings

import numpy
import torch

import ember

from .models import as_torch_text


def build(lib):
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.bn = nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)
            self.shared, self.bn_shared = nn.Conv2d(4, 4, 1), nn.BatchNorm2d(4)   # output also used elsewhere
            self.lin, self.bn1d = nn.Linear(4, 5), nn.BatchNorm1d(5)
            self.drop, self.drop2d = nn.Dropout(0.5), nn.Dropout2d(0.5)

        def forward(self, x):
            y = self.drop2d(lib.relu(self.bn(self.conv(x))))
            s = self.shared(y)
            y = self.bn_shared(s) + s
            return self.bn1d(self.lin(self.drop(y.mean((2, 3)))))
    return Net()


def pair():
    t_model, e_model = build(torch), build(ember)
    for module in t_model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):   # statistics other than the defaults
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2)
    e_model.load_state_dict({k: ember.from_numpy(v.numpy().copy()) for k, v in t_model.state_dict().items()})
    return t_model.eval(), e_model.eval()


def optimization(lib):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)   # torch's module imports its mkldnn helpers
        return importlib.import_module(f"{lib.__name__}.fx.experimental.optimization")


def outputs_match(t_gm, e_gm, shape=(2, 3, 6, 6)):
    x = numpy.random.RandomState(0).randn(*shape).astype(numpy.float32)
    t_out, e_out = t_gm(torch.from_numpy(x)), e_gm(ember.from_numpy(x))
    numpy.testing.assert_allclose(e_out.detach().numpy(), t_out.detach().numpy(), rtol=1e-4, atol=1e-5)


def test_fuse_as_torch():
    t_model, e_model = pair()
    t_gm, e_gm = optimization(torch).fuse(t_model), optimization(ember).fuse(e_model)
    assert as_torch_text(e_gm.code) == t_gm.code and "bn_shared" in t_gm.code and ".bn(" not in t_gm.code
    assert sorted(e_gm.state_dict()) == sorted(t_gm.state_dict())
    outputs_match(t_gm, e_gm)
    outputs_match(t_model, e_gm)   # fusing keeps the eval-mode result


def test_remove_dropout_and_extract_subgraph_as_torch():
    t_model, e_model = pair()
    t_gm, e_gm = optimization(torch).remove_dropout(t_model), optimization(ember).remove_dropout(e_model)
    assert as_torch_text(e_gm.code) == t_gm.code
    outputs_match(t_gm, e_gm)

    def extract(lib, gm):
        nodes = list(gm.graph.nodes)
        inner = [n for n in nodes if n.op not in ("placeholder", "output")][:3]
        return optimization(lib).extract_subgraph(gm, inner, [nodes[0]], [inner[-1]])
    t_sub, e_sub = extract(torch, t_gm), extract(ember, e_gm)
    assert as_torch_text(e_sub.code) == t_sub.code
    x = numpy.random.RandomState(1).randn(1, 3, 5, 5).astype(numpy.float32)
    numpy.testing.assert_allclose(e_sub(ember.from_numpy(x))[0].detach().numpy(),
                                  t_sub(torch.from_numpy(x))[0].detach().numpy(), rtol=1e-5, atol=1e-6)
