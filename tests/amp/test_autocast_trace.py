"""A traced model run under autocast: the ops the IR keeps whole (composites such as max_pool3d and interpolate) go
through autocast's hook when the interpreter runs them, also after save/load, with PyTorch's dtypes; the listed ops
that tracing records as their primitives (linear as ``ember::Linear``) run in the dtypes they are given."""
import io

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


class _Pooled(ember.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = ember.nn.Linear(4, 4)

    def forward(self, x):
        return ember.nn.functional.max_pool3d(x, 2), self.linear(x)


def _loaded(module, example):
    buffer = io.BytesIO()
    ember.jit.save(ember.jit.trace(module, example), buffer)
    buffer.seek(0)
    return ember.jit.load(buffer)


def test_composites_kept_by_the_trace_are_autocast_when_a_loaded_model_runs():
    x = np.random.default_rng(0).standard_normal((1, 2, 4, 4, 4)).astype(np.float32)
    model = _Pooled()
    loaded = _loaded(model, ember.tensor(x))
    assert "ember::max_pool3d" in str(loaded.graph) and "ember::Linear" in str(loaded.graph)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        expected = torch.nn.functional.max_pool3d(torch.tensor(x).bfloat16(), 2)
    with ember.autocast("cpu", dtype=ember.bfloat16):
        pooled, projected = loaded(ember.tensor(x).bfloat16())
        eager, _ = model(ember.tensor(x).bfloat16())
    assert pooled.dtype is ember.float32 and eager.dtype is ember.float32 and expected.dtype is torch.float32
    np.testing.assert_allclose(pooled.numpy(), expected.numpy())
    assert projected.dtype is ember.bfloat16   # the recorded primitive follows its (16-bit) input



def test_a_loaded_recurrent_layer_is_autocast_as_in_eager_code():
    """A recurrent layer is one node whose run calls the layer's forward, which dispatches as ``lstm``."""
    x = np.random.default_rng(1).standard_normal((5, 2, 4)).astype(np.float32)
    torch.manual_seed(0)
    reference = torch.nn.LSTM(4, 3)
    model = ember.nn.LSTM(4, 3)
    model.load_state_dict({k: ember.tensor(v.numpy()) for k, v in reference.state_dict().items()})
    loaded = _loaded(model, ember.tensor(x))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        expected, _ = reference(torch.tensor(x))
    with ember.autocast("cpu", dtype=ember.bfloat16):
        got, _ = loaded(ember.tensor(x))
    assert expected.dtype is torch.bfloat16 and got.dtype is ember.bfloat16
    np.testing.assert_allclose(got.float().detach().numpy(), expected.float().detach().numpy(), atol=3e-2, rtol=3e-2)
