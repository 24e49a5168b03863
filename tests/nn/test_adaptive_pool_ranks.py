"""Adaptive average pooling to an all-ones output on inputs of other ranks, as PyTorch: its mean path takes any input
of enough dims, and its tuple check and dim errors come first."""
import pytest
import torch

import ember

CASES = [("adaptive_avg_pool3d", (2, 3, 3), 1), ("adaptive_avg_pool3d", (3, 3), 1), ("adaptive_avg_pool2d", (3, 3), 1),
         ("adaptive_avg_pool2d", (3,), 1), ("adaptive_avg_pool3d", (2, 3, 3), (1, 1, 1)),
         ("adaptive_avg_pool2d", (3, 3), (1, 1)), ("adaptive_avg_pool3d", (2, 3, 3), 2),
         ("adaptive_avg_pool2d", (2, 3, 4, 5, 6), 1), ("adaptive_avg_pool2d", (2, 3, 4), (1, 1)),
         ("adaptive_avg_pool3d", (2, 3, 4, 5, 6, 2), (1, None, 1))]


def _outcome(library, name, shape, output_size):
    x = library.arange(float(torch.Size(shape).numel())).reshape(shape)
    try:
        return getattr(library.nn.functional, name)(x, output_size).tolist()
    except Exception as error:
        return type(error).__name__, str(error)


@pytest.mark.parametrize("name, shape, output_size", CASES)
def test_as_pytorch(name, shape, output_size):
    assert _outcome(ember, name, shape, output_size) == _outcome(torch, name, shape, output_size)
