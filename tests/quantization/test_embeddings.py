"""Quantized Embedding/EmbeddingBag (quint8 tables with float row qparams) against torch's: the tables, lookups bit
for bit (bags of every length incl. empty, per-sample weights, include_last_offset, 2-D input), printing, state
dicts in both directions, and float-qparams quantized tensors themselves."""
import io

import numpy
import pytest
import torch

import ember

pytestmark = pytest.mark.filterwarnings("ignore:torch.ao.quantization is deprecated:DeprecationWarning",
                                        "ignore:torch.quantize_per_tensor:UserWarning",
                                        "ignore:TypedStorage is deprecated:UserWarning")


def _models(rows, dim):
    def build(lib):
        return lib.nn.Sequential(lib.nn.Embedding(rows, dim), lib.nn.EmbeddingBag(rows, dim, mode="sum"),
                                 lib.nn.EmbeddingBag(rows, dim, mode="mean", include_last_offset=True))
    torch_model, ember_model = build(torch), build(ember)
    ember_model.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in torch_model.state_dict().items()})
    tq = torch.ao.quantization.quantize_dynamic(torch_model, {torch.nn.Embedding, torch.nn.EmbeddingBag},
                                                dtype=torch.quint8)
    eq = ember.ao.quantization.quantize_dynamic(ember_model, {ember.nn.Embedding, ember.nn.EmbeddingBag},
                                                dtype=ember.quint8)
    return tq, eq


def test_lookups_equal_torch():
    rng = numpy.random.default_rng(0)
    for trial in range(20):
        rows, dim = int(rng.integers(2, 30)), int(rng.integers(1, 70))
        torch.manual_seed(trial)
        tq, eq = _models(rows, dim)
        assert repr(eq).replace("ember", "torch") == repr(tq)
        assert repr(eq[0].weight()).replace("ember", "torch") == repr(tq[0].weight())
        idx = rng.integers(0, rows, (3, 4))
        text = rng.integers(0, rows, 9)
        weights = rng.standard_normal(9).astype(numpy.float32)
        cases = [(lambda m, lib: m[0](lib.tensor(idx))),
                 (lambda m, lib: m[1](lib.tensor(text), lib.tensor([0, 2, 2, 5]))),
                 (lambda m, lib: m[1](lib.tensor(text), lib.tensor([0, 2, 2, 5]),
                                      per_sample_weights=lib.tensor(weights))),
                 (lambda m, lib: m[2](lib.tensor(text), lib.tensor([0, 2, 5, 9]))),   # summed, as torch's kernel
                 (lambda m, lib: m[1](lib.tensor(idx)))]
        for case in cases:
            numpy.testing.assert_array_equal(case(eq, ember).numpy(), case(tq, torch).numpy())


def test_state_dicts_move_both_ways():
    torch.manual_seed(0)
    tq, eq = _models(12, 5)
    text, offsets = [1, 2, 3, 11, 0], [0, 3]
    expected = tq[1](torch.tensor(text), torch.tensor(offsets)).numpy()
    assert list(eq.state_dict()) == list(tq.state_dict())
    buffer = io.BytesIO()
    ember.save(eq.state_dict(), buffer)
    torch.manual_seed(1)
    other_t, other_e = _models(12, 5)
    other_t.load_state_dict(torch.load(io.BytesIO(buffer.getvalue())))
    numpy.testing.assert_array_equal(other_t[1](torch.tensor(text), torch.tensor(offsets)).numpy(), expected)
    buffer = io.BytesIO()
    torch.save(tq.state_dict(), buffer)
    other_e.load_state_dict(ember.load(io.BytesIO(buffer.getvalue())))
    numpy.testing.assert_array_equal(other_e[1](ember.tensor(text), ember.tensor(offsets)).numpy(), expected)


def test_float_qparams_tensors():
    rng = numpy.random.default_rng(1)
    for _ in range(30):
        w = (rng.standard_normal((int(rng.integers(1, 6)), int(rng.integers(1, 70)))) * 2).astype(numpy.float32)
        observer = torch.ao.quantization.default_float_qparams_observer()
        observer(torch.from_numpy(w))
        scales, zero_points = observer.calculate_qparams()
        t = torch.quantize_per_channel(torch.from_numpy(w), scales, zero_points, 0, torch.quint8)
        e = ember.quantize_per_channel(ember.tensor(w), ember.tensor(scales.numpy()), ember.tensor(zero_points.numpy()),
                                       0, ember.quint8)
        assert repr(e).replace("ember", "torch") == repr(t)
        numpy.testing.assert_array_equal(e.int_repr().numpy(), t.int_repr().numpy())
        numpy.testing.assert_array_equal(e.dequantize().numpy(), t.dequantize().numpy())
    buffer = io.BytesIO()
    torch.save(t, buffer)
    assert repr(ember.load(io.BytesIO(buffer.getvalue()))) == repr(e)
    buffer = io.BytesIO()
    ember.save(e, buffer)
    assert repr(torch.load(io.BytesIO(buffer.getvalue()))) == repr(t)


def test_misuse_errors_match_torch():
    cases = [lambda lib: lib.ao.quantization.quantize_dynamic(lib.nn.Sequential(lib.nn.Embedding(3, 2)),
                                                               {lib.nn.Embedding}, dtype=lib.qint8),
             lambda lib: lib.ao.nn.quantized.Embedding.from_float(lib.nn.Linear(2, 2)),
             lambda lib: lib.ao.quantization.quantize_dynamic(lib.nn.Sequential(lib.nn.EmbeddingBag(3, 2)),
                                                               dtype=lib.quint8)[0](lib.tensor([0, 1]))]
    for case in cases:
        with pytest.raises(Exception) as expected:
            case(torch)
        with pytest.raises(type(expected.value)) as got:
            case(ember)
        assert str(got.value).replace("ember", "torch") == str(expected.value).split("\n")[0]
