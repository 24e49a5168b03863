"""Ops that write or move elements by position, exported and run in onnxruntime on inputs other than the traced
ones (dynamic batch where the op allows): equal to ember's eager results, which equal PyTorch's."""
import io
import warnings

import numpy
import pytest
import torch

import ember
import ember.nn as nn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _written_mask(lib, x):
    y = x.clone()
    y[y > 0] = 0.5
    return y


def _written_basic(lib, x):
    y = x.clone()
    y[:, 1] = y[:, 2] * 2
    y[0] = 3.0
    y[1:, ::2] += 1
    return y


def _written_rows(lib, x):
    y = x.clone()
    y[lib.tensor([0, 2])] = y[1] + 1
    return y


def _written_selected(lib, x):
    y = x.clone()
    y[y > 0] = y[y > 0] * 3
    return y


def _written_views(lib, x):
    y = x * 1
    y[0].mul_(3)
    y.view(-1)[:3].add_(1)
    y.t()[1].zero_()
    return y


def _index(lib, x):
    return (x.abs() * 3).long().clamp(max=3)


CASES = {   # name: (function of (library, x), dynamic batch)
    "atan2": (lambda lib, x: lib.atan2(x, x.flip(1)), True),
    "atan2 signed zeros": (lambda lib, x: lib.atan2(x * 0, x) + lib.atan2(x, x * 0) + lib.atan2(x * 0, x * 0), True),
    "roll": (lambda lib, x: lib.roll(x, 1, 1), True),
    "roll two dims": (lambda lib, x: lib.roll(x, (1, -2), (0, 1)), True),
    "roll flat": (lambda lib, x: lib.roll(x, 5), False),
    "roll past the size": (lambda lib, x: lib.roll(x, 9, 1), True),
    "unfold": (lambda lib, x: x.unfold(1, 2, 1), True),
    "unfold dim 0": (lambda lib, x: x.unfold(0, 2, 1), False),
    "scatter": (lambda lib, x: x.scatter(1, _index(lib, x), x * 2), True),
    "scatter a number": (lambda lib, x: x.scatter(1, _index(lib, x)[:, :1], 7.0), True),
    "scatter_add": (lambda lib, x: lib.zeros_like(x).scatter_add(1, _index(lib, x), x), True),
    "scatter_reduce amax": (lambda lib, x: x.scatter_reduce(1, _index(lib, x), x * 2, "amax"), True),
    "boolean mask": (lambda lib, x: x[x > 0], True),
    "boolean mask of rows": (lambda lib, x: x[x[:, 0] > 0], True),
    "index_put": (lambda lib, x: x.index_put((lib.tensor([0, 2]),), lib.tensor(1.0)), True),
    "index_put accumulate": (lambda lib, x: x.index_put((lib.tensor([0, 0]), lib.tensor([1, 1])), lib.tensor(1.0),
                                                        accumulate=True), True),
    "index_put mask": (lambda lib, x: x.index_put((x < 0,), lib.tensor(-1.0)), True),
    "x[mask] = number": (_written_mask, True),
    "x[ints, slices] = values": (_written_basic, True),
    "x[index tensor] = row": (_written_rows, True),
    "x[mask] = selected values": (_written_selected, True),
    "in-place ops on views": (_written_views, False),
    "index_select": (lambda lib, x: x.index_select(1, lib.tensor([3, 0, 3])), True),
    "masked_select": (lambda lib, x: x.masked_select(x > 0.5), True),
    "take": (lambda lib, x: x.take(lib.tensor([[0, 5], [11, 2]])), True),
    "index_fill": (lambda lib, x: x.index_fill(1, lib.tensor([0, 2]), -2.0), True),
    "index_copy": (lambda lib, x: x.index_copy(1, lib.tensor([3, 1]), x[:, :2] * 5), True),
    "index_add": (lambda lib, x: x.index_add(1, lib.tensor([3, 3]), x[:, :2], alpha=2), True),
    "diagonal": (lambda lib, x: x.diagonal() + x.diagonal(1).sum() + x[None].diagonal(-1, 1, 2).sum(), False),
    "diagonal of a batch": (lambda lib, x: x.view(-1, 2, 2).diagonal(0, 1, 2), True),
    "nn.Unfold (im2col)": (lambda lib, x: lib.nn.functional.unfold(x.view(-1, 1, 2, 2).repeat(1, 2, 3, 2), (2, 3),
                                                                  dilation=(1, 2), padding=1, stride=(2, 1)), True),
}


class _Function(nn.Module):
    def __init__(self, function):
        super().__init__()
        self.function = function

    def forward(self, x):
        return self.function(ember, x)


@pytest.mark.parametrize("name", CASES)
def test_exported_op_equals_eager_and_torch(name):
    function, dynamic = CASES[name]
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ember.onnx.export(_Function(function), (ember.randn(3, 4),), buffer, opset_version=18, input_names=["x"],
                          dynamic_axes={"x": {0: "batch"}} if dynamic else None)
    onnx.checker.check_model(onnx.load_from_string(buffer.getvalue()))
    session = ort.InferenceSession(buffer.getvalue(), providers=["CPUExecutionProvider"])
    rng = numpy.random.default_rng(1)
    for shape in ((3, 4), (5, 4)) if dynamic else ((3, 4),):
        x = rng.standard_normal(shape).astype(numpy.float32)
        x[0, 0], x[-1, -1] = 0.0, -0.0
        got = session.run(None, {"x": x})[0]
        eager = function(ember, ember.tensor(x)).numpy()
        expected = function(torch, torch.tensor(x)).numpy()
        numpy.testing.assert_allclose(eager, expected, rtol=1e-6, atol=1e-6)
        numpy.testing.assert_allclose(got, eager, rtol=1e-6, atol=1e-6)


def test_writes_export_refuses_what_onnx_cannot_say():
    class TwoMasks(nn.Module):
        def forward(self, x):
            return x.scatter_reduce(1, _index(ember, x), x, "mean")
    with pytest.raises(ember.onnx.errors.OnnxExporterError, match="scatter_reduce exports with reduce"):
        ember.onnx.export(TwoMasks(), (ember.randn(3, 4),), io.BytesIO(), opset_version=18)
