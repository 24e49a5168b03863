"""jit.freeze and jit.optimize_for_inference: constants folded, batch norm folded into convolutions, no dropout."""
import numpy
import pytest

import ember
import ember.jit as jit
import ember.nn as nn
from tests.jit.models import cnn


def _conv_bn(bias):
    model = nn.Sequential(nn.Conv2d(3, 4, 3, bias=bias), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout(0.3),
                          nn.Conv2d(4, 2, 1), nn.BatchNorm2d(2, affine=False))
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
    return model.eval()


@pytest.mark.parametrize("bias", [True, False])
def test_optimize_for_inference_folds_batch_norm_and_drops_dropout(bias):
    model = _conv_bn(bias)
    optimized = jit.optimize_for_inference(jit.trace(model, ember.randn(1, 3, 6, 6)))
    kinds = [node.kind for node in optimized.graph.nodes]
    assert "ember::batch_norm" not in kinds and "ember::dropout" not in kinds and "prim::GetAttr" not in kinds
    assert kinds.count("ember::Convolution") == 2
    # a convolution with a bias adds it itself: the folded shift becomes that bias; without, an add after it
    assert kinds.count("ember::Add") == (0 if bias else 1)
    x = ember.randn(3, 3, 6, 6)
    with ember.no_grad():
        numpy.testing.assert_allclose(optimized(x).numpy(), model(x).numpy(), rtol=1e-5, atol=1e-5)


def test_freeze_inlines_parameters_and_keeps_outputs():
    model = cnn(nn).eval()
    traced = jit.trace(model, ember.randn(2, 1, 12, 12))
    frozen = jit.freeze(traced)
    assert not list(frozen.parameters()) and "prim::GetAttr" not in str(frozen.graph)
    x = ember.randn(4, 1, 12, 12)
    with ember.no_grad():
        numpy.testing.assert_array_equal(frozen(x).numpy(), model(x).numpy())


def test_freeze_needs_eval_mode():
    with pytest.raises(RuntimeError, match="only implemented for modules in eval mode"):
        jit.freeze(jit.trace(nn.Linear(2, 2), ember.randn(1, 2)).train())
