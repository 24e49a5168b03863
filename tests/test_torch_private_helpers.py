"""Private helpers of PyTorch that libraries call: ``torch._C._nn._parse_to`` (fastai's DataLoader reads its device
with it) and ``torch._utils._flatten_dense_tensors`` / ``_unflatten_dense_tensors`` (fastai's fp16 utilities, DDP
buckets), each compared with PyTorch."""
import importlib

import numpy as np
import pytest

import ember
from ember import _utils

torch = pytest.importorskip("torch")


def _parse_to_calls(lib):
    return [((), {"device": None}), ((), {"device": "cpu"}), (("cpu", lib.float16), {}), ((lib.float64,), {}),
            ((lib.zeros(2, dtype=lib.int32),), {}),
            (("cpu",), {"non_blocking": True, "memory_format": lib.channels_last}),
            ((lib.device("cpu"), lib.float32, True), {}), ((lib.float16, True), {}), ((), {})]


def _described(result):
    return tuple(None if part is None else str(part).replace("ember.", "torch.") for part in result)


def test_parse_to_as_torch():
    parse = importlib.import_module("ember._C._nn")._parse_to
    assert parse is ember._C._nn._parse_to
    for ours, theirs in zip(_parse_to_calls(ember), _parse_to_calls(torch)):
        assert _described(parse(*ours[0], **ours[1])) == _described(torch._C._nn._parse_to(*theirs[0], **theirs[1]))


@pytest.mark.parametrize("args, kwargs, error", [((ember.float16, True, True), {}, RuntimeError),
                                                 ((ember.float16,), {"copy": True}, RuntimeError),
                                                 ((), {"foo": 1}, TypeError)])
def test_parse_to_errors_as_torch(args, kwargs, error):
    theirs = tuple(getattr(torch, str(a).split(".")[1]) if isinstance(a, ember.dtype) else a for a in args)
    with pytest.raises(error):
        torch._C._nn._parse_to(*theirs, **kwargs)
    with pytest.raises(error):
        ember._C._nn._parse_to(*args, **kwargs)


def _tensors(lib):
    rng = np.random.default_rng(0)
    return [lib.tensor(rng.standard_normal((2, 3)).astype(np.float32)),
            lib.tensor(rng.standard_normal(4).astype(np.float32)),
            lib.zeros(0, 5), lib.tensor(rng.standard_normal((3, 2)).astype(np.float32)).t()]


def test_flatten_and_unflatten_dense_tensors_as_torch():
    ours, theirs = _tensors(ember), _tensors(torch)
    flat, their_flat = _utils._flatten_dense_tensors(ours), torch._utils._flatten_dense_tensors(theirs)
    np.testing.assert_array_equal(flat.numpy(), their_flat.numpy())
    pieces = _utils._unflatten_dense_tensors(flat, ours)
    their_pieces = torch._utils._unflatten_dense_tensors(their_flat, theirs)
    assert [tuple(p.shape) for p in pieces] == [tuple(p.shape) for p in their_pieces] == [(2, 3), (4,), (0, 5), (2, 3)]
    for piece, theirs_piece in zip(pieces, their_pieces):
        np.testing.assert_array_equal(piece.numpy(), theirs_piece.numpy())
    pieces[1][0] = 100.0   # views of the flat buffer, as torch's
    assert flat[6].item() == 100.0
    lone = ember.ones(3)
    assert _utils._flatten_dense_tensors([lone]).data_ptr() == lone.data_ptr()   # a lone tensor: a view
    for flatten in (torch._utils._flatten_dense_tensors, _utils._flatten_dense_tensors):
        with pytest.raises(ValueError, match="expected a non-empty list of Tensors"):
            flatten([])
