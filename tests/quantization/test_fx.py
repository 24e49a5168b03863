"""FX graph mode quantization against torch: prepare_fx / prepare_qat_fx (fusion, observer placement and names,
shared observers), convert_fx (quantized modules, torch.ops.quantized calls, qparam buffers, printed code and
modules), convert_to_reference_fx, fuse_fx, QConfigMapping and BackendConfig, state dicts moved between the
libraries, and the quantized outputs of converted models given the same state dict."""
import copy
import io
import re
import warnings

import numpy
import pytest
import torch
import torch.ao.quantization.quantize_fx  # noqa: F401

import ember
import ember.ao.quantization.quantize_fx  # noqa: F401

pytestmark = pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor:UserWarning",
                                        "ignore:torch.ao.quantization is deprecated:DeprecationWarning",
                                        "ignore:Please use quant_min and quant_max:UserWarning",
                                        "ignore:must run observer before calling calculate_qparams:UserWarning",
                                        "ignore:TypedStorage is deprecated:UserWarning")


def _fx(lib):
    return lib.ao.quantization.quantize_fx


def _small_cnn(lib):
    nn, F = lib.nn, lib.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3, padding=1)
            self.bn = nn.BatchNorm2d(8)
            self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
            self.pool = nn.MaxPool2d(2)
            self.fc = nn.Linear(8, 4)

        def forward(self, x):
            y = F.relu(self.bn(self.conv(x)))
            z = self.conv2(y)
            y = lib.relu(y + z)
            y = lib.cat([y, z], 1)
            y = self.pool(y)
            y = F.adaptive_avg_pool2d(y, 1).flatten(1)[:, :8]
            return self.fc(y)
    return Net()


def _activations(lib):
    nn, F = lib.nn, lib.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3, padding=1)
            self.bn = nn.BatchNorm2d(8)
            self.relu = nn.ReLU()
            self.lin = nn.Linear(8, 6)
            self.lin2 = nn.Linear(6, 4)
            self.hs = nn.Hardswish()
            self.sig = nn.Sigmoid()

        def forward(self, x):
            x = self.relu(self.bn(self.conv(x)))
            x = F.max_pool2d(x, 2).mean([2, 3])
            x = self.hs(F.relu(self.lin(x)))
            y = lib.sigmoid(x) * x
            return self.sig(self.lin2(y)).reshape(-1), lib.tanh(y)
    return Net()


def _pair(build, train=False):
    """The same model in torch and in ember (ember's weights are torch's)."""
    torch.manual_seed(0)
    tm = build(torch)
    em = build(ember)
    em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    return (tm.train(), em.train()) if train else (tm.eval(), em.eval())


def _data(*shape, n=3):
    rng = numpy.random.default_rng(0)
    return [rng.standard_normal(shape).astype(numpy.float32) for _ in range(n)]


def _code(gm):
    return re.sub(r"\bember\b", "torch", gm.code)


def _text(obj):
    return re.sub(r"\bember\b", "torch", str(obj))


def _observer_groups(model):
    """Observer names grouped by the module object they share."""
    groups = {}
    for name, module in model.named_modules(remove_duplicate=False):
        if name.startswith("activation_post_process"):
            groups.setdefault(id(module), []).append(name)
    return sorted(groups.values())


def _to_ember_state(state):
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return ember.load(buffer, weights_only=False)


def _to_torch_state(state):
    buffer = io.BytesIO()
    ember.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=False)


def _prepare_both(build, mapping_name="x86", qat=False, data=None):
    tm, em = _pair(build, train=qat)
    example = data[0]
    getter = "get_default_qat_qconfig_mapping" if qat else "get_default_qconfig_mapping"
    prepare = "prepare_qat_fx" if qat else "prepare_fx"
    tp = getattr(_fx(torch), prepare)(tm, getattr(torch.ao.quantization, getter)(mapping_name),
                                      (torch.from_numpy(example),))
    ep = getattr(_fx(ember), prepare)(em, getattr(ember.ao.quantization, getter)(mapping_name),
                                      (ember.tensor(example),))
    return tp, ep


@pytest.mark.parametrize("backend", ["x86", "fbgemm"])
def test_prepare_fx_places_and_shares_observers_as_torch(backend):
    data = _data(2, 3, 8, 8)
    tp, ep = _prepare_both(_small_cnn, backend, data=data)
    assert _code(ep) == _code(tp)
    assert _text(ep) == _text(tp)
    assert _observer_groups(ep) == _observer_groups(tp)   # cat and pooling share their input's observer
    for x in data:
        tp(torch.from_numpy(x))
        ep(ember.tensor(x))
    for (tn, tmod), (en, emod) in zip(tp.named_modules(), ep.named_modules()):
        assert tn == en
        if tn.startswith("activation_post_process"):
            numpy.testing.assert_allclose(emod.min_val.numpy(), tmod.min_val.numpy(), rtol=1e-6)
            numpy.testing.assert_allclose(emod.max_val.numpy(), tmod.max_val.numpy(), rtol=1e-6)


def test_convert_fx_gives_torchs_graph_modules_and_integers():
    data = _data(2, 3, 8, 8)
    tp, ep = _prepare_both(_small_cnn, data=data)
    for x in data:
        tp(torch.from_numpy(x))
        ep(ember.tensor(x))
    ep.load_state_dict(_to_ember_state(tp.state_dict()))   # the same observed ranges: the same qparams
    tq = _fx(torch).convert_fx(copy.deepcopy(tp))
    eq = _fx(ember).convert_fx(copy.deepcopy(ep))
    assert _code(eq) == _code(tq)
    assert _text(eq) == _text(tq)
    assert list(eq.state_dict()) == list(tq.state_dict())
    assert "torch.ops.quantized.add_relu(conv, conv2, _scale_0, _zero_point_0)" in _code(eq)
    x = data[0]
    numpy.testing.assert_array_equal(eq(ember.tensor(x)).numpy(), tq(torch.from_numpy(x)).numpy())
    # state dicts move both ways
    eq.load_state_dict(_to_ember_state(tq.state_dict()))
    numpy.testing.assert_array_equal(eq(ember.tensor(x)).numpy(), tq(torch.from_numpy(x)).numpy())
    tq.load_state_dict(_to_torch_state(eq.state_dict()))
    numpy.testing.assert_array_equal(eq(ember.tensor(x)).numpy(), tq(torch.from_numpy(x)).numpy())


def test_convert_to_reference_fx_as_torch():
    data = _data(2, 3, 8, 8)
    tp, ep = _prepare_both(_small_cnn, data=data)
    for x in data:
        tp(torch.from_numpy(x))
        ep(ember.tensor(x))
    ep.load_state_dict(_to_ember_state(tp.state_dict()))
    tr = _fx(torch).convert_to_reference_fx(copy.deepcopy(tp))
    er = _fx(ember).convert_to_reference_fx(copy.deepcopy(ep))
    assert _code(er) == _code(tr)
    assert _text(er) == _text(tr)
    tstate, estate = tr.state_dict(), er.state_dict()
    assert list(estate) == list(tstate)
    for key, value in tstate.items():
        if isinstance(value, torch.Tensor):
            numpy.testing.assert_allclose(estate[key].numpy(), value.numpy(), rtol=1e-6)
        else:
            assert _text(estate[key]) == _text(value)
    x = data[1]
    numpy.testing.assert_allclose(er(ember.tensor(x)).numpy(), tr(torch.from_numpy(x)).numpy(), atol=1e-6)


def test_activations_fixed_qparams_and_reuse_input():
    data = _data(2, 3, 8, 8)
    tp, ep = _prepare_both(_activations, data=data)
    assert _code(ep) == _code(tp)   # reshape reuses the sigmoid's fixed-qparams observer
    assert _observer_groups(ep) == _observer_groups(tp)
    for x in data:
        tp(torch.from_numpy(x))
        ep(ember.tensor(x))
    ep.load_state_dict(_to_ember_state(tp.state_dict()))
    tq = _fx(torch).convert_fx(tp)
    eq = _fx(ember).convert_fx(ep)
    assert _code(eq) == _code(tq)
    assert _text(eq) == _text(tq)
    for a, b in zip(eq(ember.tensor(data[0])), tq(torch.from_numpy(data[0]))):
        numpy.testing.assert_array_equal(a.numpy(), b.numpy())


def test_prepare_qat_fx_and_convert_as_torch():
    data = _data(2, 3, 8, 8)
    tp, ep = _prepare_both(_activations, qat=True, data=data)
    assert _code(ep) == _code(tp)
    assert _text(ep) == _text(tp)
    tp(torch.from_numpy(data[0]))
    ep(ember.tensor(data[0]))
    ep.load_state_dict(_to_ember_state(tp.state_dict()))
    tp.eval()
    ep.eval()
    tq = _fx(torch).convert_fx(copy.deepcopy(tp))
    eq = _fx(ember).convert_fx(copy.deepcopy(ep))
    assert _code(eq) == _code(tq)
    assert _text(eq) == _text(tq)
    for a, b in zip(eq(ember.tensor(data[1])), tq(torch.from_numpy(data[1]))):
        numpy.testing.assert_array_equal(a.numpy(), b.numpy())


def test_qconfig_mapping_skips_modules_and_warns_on_fixed_qparams():
    tm, em = _pair(_activations)
    x = _data(2, 3, 8, 8, n=1)[0]
    tmap = torch.ao.quantization.get_default_qconfig_mapping().set_module_name("lin2", None)
    emap = ember.ao.quantization.get_default_qconfig_mapping().set_module_name("lin2", None)
    tp = _fx(torch).prepare_fx(copy.deepcopy(tm), tmap, (torch.from_numpy(x),))
    ep = _fx(ember).prepare_fx(copy.deepcopy(em), emap, (ember.tensor(x),))
    assert _code(ep) == _code(tp)
    # a global non-fixed qconfig: the fixed-qparams ops stay float, with PyTorch's warning
    tmap = torch.ao.quantization.QConfigMapping().set_global(torch.ao.quantization.default_qconfig)
    emap = ember.ao.quantization.QConfigMapping().set_global(ember.ao.quantization.default_qconfig)
    with warnings.catch_warnings(record=True) as tw:
        warnings.simplefilter("always")
        tp = _fx(torch).prepare_fx(copy.deepcopy(tm), tmap, (torch.from_numpy(x),))
    with warnings.catch_warnings(record=True) as ew:
        warnings.simplefilter("always")
        ep = _fx(ember).prepare_fx(copy.deepcopy(em), emap, (ember.tensor(x),))
    assert _code(ep) == _code(tp)

    def fixed(ws):
        return sorted({str(w.message).split(",")[0] for w in ws if "fixed qparams" in str(w.message)})
    assert fixed(ew) == fixed(tw) != []


def test_qconfig_mapping_api():
    for lib in (torch, ember):
        q = lib.ao.quantization
        mapping = (q.QConfigMapping().set_global(q.default_qconfig).set_object_type(lib.nn.Linear, None)
                   .set_module_name_regex("foo.*", q.default_qconfig).set_module_name("conv", None)
                   .set_module_name_object_type_order("", lib.nn.functional.linear, 0, q.default_qconfig))
        d = mapping.to_dict()
        assert sorted(d) == ["", "module_name", "module_name_object_type_order", "module_name_regex", "object_type"]
        assert d["object_type"] == [(lib.nn.Linear, None)]
        again = q.QConfigMapping.from_dict(d)
        assert again.to_dict() == d
        default = q.get_default_qconfig_mapping("fbgemm")
        assert len(default.object_type_qconfigs) == 23
        assert list(default.object_type_qconfigs)[0] == "reshape"
        assert type(q.get_default_qat_qconfig_mapping().global_qconfig.activation()).__name__ == \
            "FusedMovingAvgObsFakeQuantize"


def test_fuse_fx_as_torch():
    tm, em = _pair(_activations)
    tf = _fx(torch).fuse_fx(tm)
    ef = _fx(ember).fuse_fx(em)
    assert _text(ef) == _text(tf)
    x = _data(2, 3, 8, 8, n=1)[0]
    for a, b in zip(ef(ember.tensor(x)), tf(torch.from_numpy(x))):
        numpy.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_backend_config_patterns():
    for lib in (torch, ember):
        config = lib.ao.quantization.backend_config.get_native_backend_config()
        patterns = {c.pattern for c in config.configs}
        nn = lib.nn
        assert {nn.Conv2d, (nn.Conv2d, nn.BatchNorm2d, nn.ReLU), (nn.Linear, nn.ReLU), lib.cat,
                "reshape"} <= patterns
        cat = next(c for c in config.configs if c.pattern is lib.cat)
        assert cat.observation_type.name == "OUTPUT_SHARE_OBSERVER_WITH_INPUT"


def _recurrent(lib):
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(20, 8)
            self.lstm = nn.LSTM(8, 8)
            self.fc = nn.Linear(8, 4)
            self.fc2 = nn.Linear(4, 3)

        def forward(self, idx):
            out, _ = self.lstm(self.emb(idx))
            return self.fc2(lib.relu(self.fc(out)))
    return Net()


def _dynamic_mapping(lib):
    q = lib.ao.quantization
    return (q.QConfigMapping().set_object_type(lib.nn.Embedding, q.float_qparams_weight_only_qconfig)
            .set_object_type(lib.nn.LSTM, q.default_dynamic_qconfig)
            .set_object_type(lib.nn.Linear, q.default_dynamic_qconfig))


@pytest.mark.filterwarnings("ignore:To copy construct from a tensor:UserWarning")   # both references' LSTM
def test_dynamic_and_weight_only_quantization_as_torch():
    tm, em = _pair(_recurrent)
    idx = numpy.random.default_rng(0).integers(0, 20, (5, 2))
    tp = _fx(torch).prepare_fx(tm, _dynamic_mapping(torch), (torch.from_numpy(idx),))
    ep = _fx(ember).prepare_fx(em, _dynamic_mapping(ember), (ember.tensor(idx),))
    assert _code(ep) == _code(tp)   # dynamic placeholder observers before the LSTM and the linears
    assert _text(ep) == _text(tp)
    tr = _fx(torch).convert_to_reference_fx(copy.deepcopy(tp))
    er = _fx(ember).convert_to_reference_fx(copy.deepcopy(ep))
    assert _code(er) == _code(tr)   # quantize_per_tensor_dynamic -> dequantize
    assert _text(er) == _text(tr)
    assert list(er.state_dict()) == list(tr.state_dict())
    numpy.testing.assert_allclose(er(ember.tensor(idx)).detach().numpy(), tr(torch.from_numpy(idx)).detach().numpy(),
                                  atol=1e-5)
    tq = _fx(torch).convert_fx(tp)
    eq = _fx(ember).convert_fx(ep)
    assert _code(eq) == _code(tq)
    assert _text(eq) == _text(tq)   # QuantizedEmbedding, DynamicQuantizedLSTM, DynamicQuantizedLinear
    assert list(eq.state_dict()) == list(tq.state_dict())
    numpy.testing.assert_allclose(eq(ember.tensor(idx)).numpy(), tq(torch.from_numpy(idx)).numpy(), atol=1e-5)
    eq.load_state_dict(_to_ember_state(tq.state_dict()))
    numpy.testing.assert_allclose(eq(ember.tensor(idx)).numpy(), tq(torch.from_numpy(idx)).numpy(), atol=1e-5)


def test_dynamic_linear_relu_fuses_as_torch():
    def build(lib):
        return lib.nn.Sequential(lib.nn.Linear(4, 4), lib.nn.ReLU(), lib.nn.Linear(4, 2))
    tm, em = _pair(build)
    x = _data(3, 4, n=1)[0]
    tmap = torch.ao.quantization.QConfigMapping().set_global(torch.ao.quantization.per_channel_dynamic_qconfig)
    emap = ember.ao.quantization.QConfigMapping().set_global(ember.ao.quantization.per_channel_dynamic_qconfig)
    tq = _fx(torch).convert_fx(_fx(torch).prepare_fx(tm, tmap, (torch.from_numpy(x),)))
    eq = _fx(ember).convert_fx(_fx(ember).prepare_fx(em, emap, (ember.tensor(x),)))
    assert _text(eq) == _text(tq)   # DynamicQuantizedLinearReLU
    numpy.testing.assert_array_equal(eq(ember.tensor(x)).numpy(), tq(torch.from_numpy(x)).numpy())


def _many_ops(lib):
    nn, F = lib.nn, lib.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3, padding=1)
            self.bn = nn.BatchNorm2d(8)
            self.bn2 = nn.BatchNorm2d(8)
            self.relu = nn.ReLU()
            self.elu = nn.ELU()
            self.lrelu = nn.LeakyReLU(0.1)
            self.drop = nn.Dropout(0.5)
            self.ln = nn.LayerNorm([8, 4, 4])
            self.relu6 = nn.ReLU6()
            self.idn = nn.Identity()
            self.ff = nn.quantized.FloatFunctional()
            self.fc = nn.Linear(8, 5)

        def forward(self, x):
            x = self.relu(self.bn2(self.relu(self.bn(self.conv(x)))))   # conv-bn-relu, then bn-relu
            x = F.leaky_relu(self.lrelu(F.hardswish(self.elu(x))), 0.2)
            x = self.ln(F.interpolate(self.drop(x), scale_factor=0.5, mode="nearest"))
            x = lib.clamp(self.relu6((F.relu6(x) + 1.0) * 2.0), 0.1, 3.0)   # scalar add/mul
            z = self.ff.add(lib.mul(x, lib.add(x, x)), x)
            z = self.idn(z).permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
            z = z.view(z.size(0), 8, -1).mean(-1)
            return self.fc(lib.sigmoid(z))
    return Net()


def test_activations_norms_scalars_and_views_as_torch():
    data = _data(2, 3, 8, 8)
    tp, ep = _prepare_both(_many_ops, data=data)
    assert _code(ep) == _code(tp)
    assert _observer_groups(ep) == _observer_groups(tp)
    for x in data:
        tp(torch.from_numpy(x))
        ep(ember.tensor(x))
    ep.load_state_dict(_to_ember_state(tp.state_dict()))
    tq = _fx(torch).convert_fx(tp)
    eq = _fx(ember).convert_fx(ep)
    assert _code(eq) == _code(tq)   # quantized.hardswish/leaky_relu with output qparams, add/mul with scalars
    assert _text(eq) == _text(tq)   # QuantizedBNReLU2d, QuantizedELU, QuantizedLayerNorm, ...
    x = data[0]
    numpy.testing.assert_array_equal(eq(ember.tensor(x)).numpy(), tq(torch.from_numpy(x)).numpy())


def test_quantized_normalization_modules_as_torch():
    rng = numpy.random.default_rng(1)
    x = (rng.standard_normal((2, 6, 4, 5)) * 2).astype(numpy.float32)
    w, b = rng.standard_normal(6).astype(numpy.float32), rng.standard_normal(6).astype(numpy.float32)
    lw, lb = rng.standard_normal((4, 5)).astype(numpy.float32), rng.standard_normal((4, 5)).astype(numpy.float32)
    outs = []
    for lib in (torch, ember):
        nnq = lib.ao.nn.quantized
        q = lib.quantize_per_tensor(lib.tensor(x), 0.04, 64, lib.quint8)
        def t(a):
            return lib.nn.Parameter(lib.tensor(a))
        mods = [nnq.LayerNorm([4, 5], t(lw), t(lb), 0.03, 70), nnq.GroupNorm(3, 6, t(w), t(b), 0.03, 70),
                nnq.InstanceNorm2d(6, t(w), t(b), 0.03, 70, affine=True)]
        outs.append([(_text(m), m(q).int_repr().numpy()) for m in mods])
    for (tr, ti), (er, ei) in zip(*outs):
        assert er == tr
        numpy.testing.assert_array_equal(ei, ti)


def _functional(lib):
    nn, F = lib.nn, lib.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(lib.randn(4, 3, 3, 3) * 0.2)
            self.b = nn.Parameter(lib.randn(4) * 0.1)
            self.lw = nn.Parameter(lib.randn(5, 4) * 0.3)
            self.lb = nn.Parameter(lib.randn(5) * 0.1)

        def forward(self, x):
            x = F.relu(F.conv2d(x, self.w, self.b, [1, 1], [1, 1], [1, 1], 1))
            return F.linear(x.mean([2, 3]), self.lw, self.lb)
    return Net()


def test_functional_linear_and_conv_lower_to_prepacked_ops_as_torch():
    data = _data(2, 3, 6, 6)
    tp, ep = _prepare_both(_functional, data=data)
    assert _code(ep) == _code(tp)   # weight observers on the get_attr weights
    for x in data:
        tp(torch.from_numpy(x))
        ep(ember.tensor(x))
    ep.load_state_dict(_to_ember_state(tp.state_dict()))
    tq = _fx(torch).convert_fx(tp)
    eq = _fx(ember).convert_fx(ep)
    assert _code(eq) == _code(tq)   # quantized.conv2d_relu / quantized.linear on folded _packed_weight_<i>
    assert list(eq.state_dict()) == list(tq.state_dict())
    x = data[0]
    numpy.testing.assert_array_equal(eq(ember.tensor(x)).numpy(), tq(torch.from_numpy(x)).numpy())


def test_conv_prepack_takes_lists_as_torch():
    w = ember.quantize_per_tensor(ember.randn(2, 2, 1, 1), 0.1, 0, ember.qint8)
    with pytest.raises(RuntimeError, match=r"conv2d_prepack\(\) Expected a value of type 'List\[int\]' for argument "
                                           r"'stride' but instead found type 'int'"):
        ember.ops.quantized.conv2d_prepack(w, None, 1, 1, 1, 1)
    with pytest.raises(RuntimeError, match=r"conv2d_prepack\(\) is missing value for argument 'stride'"):
        ember.ops.quantized.conv2d_prepack(w, None, padding=[1, 1])


def _with_standalone(lib):
    nn = lib.nn

    class Sub(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(4, 4, 1)
            self.relu = nn.ReLU()

        def forward(self, x):
            return self.relu(self.conv(x)) + x

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 1)
            self.sub = Sub()
            self.conv2 = nn.Conv2d(4, 2, 1)

        def forward(self, x):
            return self.conv2(self.sub(self.conv(x)))
    return Net()


@pytest.mark.parametrize("quantized_io", [[], [0]])
def test_standalone_module_as_torch(quantized_io):
    data = _data(1, 3, 4, 4, n=2)
    tm, em = _pair(_with_standalone)
    prepared = []
    for lib, model in ((torch, tm), (ember, em)):
        custom = lib.ao.quantization.fx.custom_config.PrepareCustomConfig
        mapping = lib.ao.quantization.get_default_qconfig_mapping()
        sub_config = custom().set_input_quantized_indexes(quantized_io).set_output_quantized_indexes(quantized_io)
        config = custom().set_standalone_module_name("sub", mapping, (lib.randn(1, 4, 4, 4),), sub_config, None)
        prepared.append(_fx(lib).prepare_fx(model, mapping, (lib.tensor(data[0]),), prepare_custom_config=config))
    tp, ep = prepared
    assert _code(ep) == _code(tp) and _code(ep.sub) == _code(tp.sub)
    assert _text(ep) == _text(tp)
    for x in data:
        tp(torch.from_numpy(x))
        ep(ember.tensor(x))
    ep.load_state_dict(_to_ember_state(tp.state_dict()))
    tq = _fx(torch).convert_fx(tp)
    eq = _fx(ember).convert_fx(ep)
    assert _code(eq) == _code(tq) and _code(eq.sub) == _code(tq.sub)
    assert _text(eq) == _text(tq)
    numpy.testing.assert_array_equal(eq(ember.tensor(data[0])).numpy(), tq(torch.from_numpy(data[0])).numpy())


def test_weighted_module_whose_dtypes_the_backend_lacks_stays_float():
    def build(lib):
        class Net(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.emb = lib.nn.Embedding(10, 6)
                self.fc = lib.nn.Linear(6, 3)

            def forward(self, idx):
                e = self.emb(idx)
                return {"out": self.fc(e), "n": e.size(1), "first": e.shape[0]}
        return Net()
    tm, em = _pair(build)
    idx = numpy.random.default_rng(0).integers(0, 10, (2, 5))
    tp = _fx(torch).prepare_fx(tm, torch.ao.quantization.get_default_qconfig_mapping(), (torch.from_numpy(idx),))
    ep = _fx(ember).prepare_fx(em, ember.ao.quantization.get_default_qconfig_mapping(), (ember.tensor(idx),))
    assert _code(ep) == _code(tp)
    tp(torch.from_numpy(idx))
    ep(ember.tensor(idx))
    ep.load_state_dict(_to_ember_state(tp.state_dict()))
    tq, eq = _fx(torch).convert_fx(tp), _fx(ember).convert_fx(ep)
    assert _code(eq) == _code(tq)
    assert _text(eq) == _text(tq)   # the Embedding (weight-only dtypes in the backend) left a float Embedding
    a, b = eq(ember.tensor(idx)), tq(torch.from_numpy(idx))
    numpy.testing.assert_array_equal(a["out"].numpy(), b["out"].numpy())
    assert (a["n"], a["first"]) == (b["n"], b["first"])


@pytest.mark.filterwarnings("ignore:To copy construct from a tensor:UserWarning")
def test_dynamic_recurrent_cells_as_torch():
    def build(lib):
        class Net(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.c1 = lib.nn.LSTMCell(4, 5)
                self.c2 = lib.nn.GRUCell(5, 5)
                self.c3 = lib.nn.RNNCell(5, 3, nonlinearity="relu")

            def forward(self, x):
                h, _ = self.c1(x)
                return self.c3(self.c2(h))
        return Net()
    tm, em = _pair(build)
    x = _data(2, 4, n=1)[0]
    results = []
    for lib, model in ((torch, tm), (ember, em)):
        mapping = lib.ao.quantization.QConfigMapping().set_global(lib.ao.quantization.default_dynamic_qconfig)
        prepared = _fx(lib).prepare_fx(model, mapping, (lib.tensor(x),))
        reference = _fx(lib).convert_to_reference_fx(copy.deepcopy(prepared))
        quantized = _fx(lib).convert_fx(prepared)
        results.append((reference, quantized, reference(lib.tensor(x)).detach().numpy(),
                        quantized(lib.tensor(x)).numpy()))
    (tr, tq, tro, tqo), (er, eq, ero, eqo) = results
    assert _code(er) == _code(tr) and _text(er) == _text(tr)   # QuantizedLSTMCell(Reference), ...
    assert list(er.state_dict()) == list(tr.state_dict())
    assert _code(eq) == _code(tq) and _text(eq) == _text(tq)   # DynamicQuantizedLSTMCell, ...
    assert list(eq.state_dict()) == list(tq.state_dict())
    numpy.testing.assert_allclose(ero, tro, atol=1e-5)
    numpy.testing.assert_allclose(eqo, tqo, atol=1e-5)


def test_embedding_qat_eager_and_fx_as_torch():
    outs = []
    for lib in (torch, ember):
        q = lib.ao.quantization
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Embedding(10, 4))
        model[0].qconfig = q.default_embedding_qat_qconfig
        qat = q.prepare_qat(model.train(), mapping=q.quantization_mappings.get_embedding_qat_module_mappings())
        idx = lib.tensor([[1, 2], [3, 9]])
        trained = qat(idx).detach().numpy()
        quantized = q.convert(qat.eval(), mapping=q.quantization_mappings.get_embedding_static_quant_module_mappings())
        outs.append((_text(qat), trained, _text(quantized), quantized(idx).numpy()))
    (ta, tb, tc, td), (ea, eb, ec, ed) = outs
    assert (ea, ec) == (ta, tc)
    numpy.testing.assert_array_equal(eb, tb)
    numpy.testing.assert_array_equal(ed, td)

    def build(lib):
        class Net(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.emb = lib.nn.Embedding(10, 6)
                self.fc = lib.nn.Linear(6, 3)

            def forward(self, idx):
                return self.fc(self.emb(idx))
        return Net()
    tm, em = _pair(build, train=True)
    idx = numpy.random.default_rng(0).integers(0, 10, (2, 5))
    converted = []
    for lib, model in ((torch, tm), (ember, em)):
        q = lib.ao.quantization
        mapping = q.get_default_qat_qconfig_mapping().set_object_type(lib.nn.Embedding,
                                                                      q.default_embedding_qat_qconfig)
        prepared = _fx(lib).prepare_qat_fx(copy.deepcopy(model), mapping, (lib.tensor(idx),))
        prepared(lib.tensor(idx))
        converted.append(_fx(lib).convert_fx(prepared.eval()))
        with pytest.raises(AssertionError, match=r"Embedding weights requires a qscheme of torch.per_channel_affine_"
                                                 r"float_qparams Got (torch|ember)\.per_channel_symmetric"):
            _fx(lib).prepare_qat_fx(copy.deepcopy(model), q.get_default_qat_qconfig_mapping(), (lib.tensor(idx),))
    assert _text(converted[1]) == _text(converted[0])   # QuantizedEmbedding from the QAT embedding's fake quantizer
    assert _code(converted[1]) == _code(converted[0])


def test_fake_quantize_per_channel_float_zero_points_are_not_range_checked():
    x = numpy.linspace(-3, 3, 12, dtype=numpy.float32).reshape(3, 4)
    outs = [lib.fake_quantize_per_channel_affine(lib.tensor(x), lib.ones(3) * 0.1, lib.tensor([300., -5., 2.]), 0,
                                                 0, 255).numpy() for lib in (torch, ember)]
    numpy.testing.assert_array_equal(outs[1], outs[0])
    with pytest.raises(RuntimeError, match="`zero_point` must be between `quant_min` and `quant_max`."):
        ember.fake_quantize_per_channel_affine(ember.tensor(x), ember.ones(3) * 0.1,
                                               ember.tensor([300, -5, 2], dtype=ember.int32), 0, 0, 255)


def test_functional_default_ops_lower_to_quantized_ops_as_torch():
    def build(lib):
        F = lib.nn.functional

        class Net(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = lib.nn.Linear(4, 4)
                self.fc2 = lib.nn.Linear(4, 4)

            def forward(self, x):
                x = F.elu(F.dropout(self.fc(x), 0.1, self.training))
                return self.fc2(F.layer_norm(x, [4]))
        return Net()
    data = _data(3, 4)
    tp, ep = _prepare_both(build, data=data)
    assert _code(ep) == _code(tp)
    for x in data:
        tp(torch.from_numpy(x))
        ep(ember.tensor(x))
    ep.load_state_dict(_to_ember_state(tp.state_dict()))
    tq, eq = _fx(torch).convert_fx(tp), _fx(ember).convert_fx(ep)
    assert _code(eq) == _code(tq)   # quantized.dropout / elu / layer_norm with the output qparams
    numpy.testing.assert_array_equal(eq(ember.tensor(data[0])).numpy(), tq(torch.from_numpy(data[0])).numpy())
