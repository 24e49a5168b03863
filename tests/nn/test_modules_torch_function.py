"""Layers call their functions through the public namespaces as PyTorch's do, so a ``__torch_function__`` subclass
or mode (DTensor, a user's logging tensor) sees them: a TorchFunctionMode sees each layer's function called, in
ember as in torch."""
import pytest
import torch

import ember

LAYERS = {"Embedding(6, 4)": "embedding", "LayerNorm(4)": "layer_norm", "RMSNorm(4)": "rms_norm",
          "BatchNorm1d(3)": "batch_norm", "GroupNorm(1, 3)": "group_norm", "InstanceNorm1d(3)": "instance_norm",
          "LocalResponseNorm(2)": "local_response_norm", "Dropout(0.5)": "dropout", "Dropout1d(0.5)": "dropout1d",
          "AlphaDropout(0.5)": "alpha_dropout", "Sigmoid()": "sigmoid", "Tanh()": "tanh", "Softsign()": "softsign",
          "Tanhshrink()": "tanhshrink", "LogSigmoid()": "logsigmoid"}


def _calls(lib, made):
    layer = eval(made, vars(lib.nn))
    inputs = lib.tensor([[0, 5, 2]]) if made.startswith("Embedding") else lib.ones(2, 3, 4)
    seen = []

    class Recorder(lib.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            seen.append(getattr(func, "__name__", str(func)).replace("log_sigmoid", "logsigmoid"))
            return func(*args, **(kwargs or {}))

    with Recorder():
        layer(inputs)
    return seen


@pytest.mark.parametrize("made", LAYERS)
def test_layer_calls_its_public_function(made):
    assert LAYERS[made] in _calls(torch, made)
    assert LAYERS[made] in _calls(ember, made)
