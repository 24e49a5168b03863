"""Module contracts checked against torch.nn: registration, state_dict keys, loading, printing, hooks, modes."""
from collections import OrderedDict

import numpy
import pytest
import torch

import ember
from ember import nn
from tests.oracle import as_numpy


def _pair():
    e = nn.Sequential(OrderedDict(fc1=nn.Linear(4, 3), act=nn.ReLU(), drop=nn.Dropout(0.2), fc2=nn.Linear(3, 2)))
    t = torch.nn.Sequential(OrderedDict(fc1=torch.nn.Linear(4, 3), act=torch.nn.ReLU(), drop=torch.nn.Dropout(0.2),
                                        fc2=torch.nn.Linear(3, 2)))
    return e, t


def _copy_torch_into(e_module, t_module):
    e_module.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t_module.state_dict().items()})


def test_state_dict_keys_shapes_and_repr_match_torch():
    e, t = _pair()
    assert list(e.state_dict()) == list(t.state_dict())
    for (name, ev), tv in zip(e.state_dict().items(), t.state_dict().values()):
        assert tuple(ev.shape) == tuple(tv.shape), name
    assert repr(e) == repr(t)
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in e.named_modules()] == [n for n, _ in t.named_modules()]
    assert [type(m).__name__ for m in e.children()] == [type(m).__name__ for m in t.children()]


def test_forward_matches_torch_with_copied_weights():
    e, t = _pair()
    e.eval()
    t.eval()
    _copy_torch_into(e, t)
    x = numpy.random.default_rng(0).standard_normal((5, 4)).astype(numpy.float32)
    numpy.testing.assert_allclose(as_numpy(e(ember.tensor(x))), as_numpy(t(torch.tensor(x))), rtol=1e-5, atol=1e-6)


def test_load_state_dict_reports_missing_unexpected_and_size_mismatch():
    e, t = _pair()
    state = {k: ember.tensor(v.numpy()) for k, v in t.state_dict().items()}
    del state["fc2.bias"]
    state["extra.weight"] = ember.zeros(1)
    with pytest.raises(RuntimeError) as error:
        e.load_state_dict(state)
    message = str(error.value)
    assert 'Missing key(s) in state_dict: "fc2.bias"' in message
    assert 'Unexpected key(s) in state_dict: "extra.weight"' in message
    result = e.load_state_dict(state, strict=False)
    assert result.missing_keys == ["fc2.bias"] and result.unexpected_keys == ["extra.weight"]
    state = {k: ember.tensor(v.numpy()) for k, v in t.state_dict().items()}
    state["fc1.weight"] = ember.zeros(2, 2)
    with pytest.raises(RuntimeError, match=r"size mismatch for fc1.weight: copying a param with shape "
                                           r"torch.Size\(\[2, 2\]\) from checkpoint, the shape in current model is "
                                           r"torch.Size\(\[3, 4\]\)"):
        e.load_state_dict(state)


def test_parameters_buffers_and_registration_rules():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(ember.ones(2))
            self.register_buffer("running", ember.zeros(2))
            self.register_buffer("scratch", ember.zeros(1), persistent=False)
            self.child = nn.Linear(2, 2)
            self.shared = self.child

        def forward(self, x):
            return self.child(x * self.w) + self.running

    net = Net()
    assert [n for n, _ in net.named_parameters()] == ["w", "child.weight", "child.bias"]
    assert [n for n, _ in net.named_buffers()] == ["running", "scratch"]
    assert list(net.state_dict()) == ["w", "running", "child.weight", "child.bias", "shared.weight", "shared.bias"]
    with pytest.raises(TypeError):
        net.w = ember.ones(2)
    with pytest.raises(AttributeError, match="has no attribute 'missing'"):
        net.missing
    net.w = None
    assert net.w is None and "w" not in dict(net.named_parameters())
    del net.shared
    assert [n for n, _ in net.named_children()] == ["child"]
    assert net.get_submodule("child") is net.child and net.get_parameter("child.bias") is net.child.bias


def test_train_eval_zero_grad_apply_to():
    e, _ = _pair()
    e.eval()
    assert not any(m.training for m in e.modules())
    e.train()
    assert all(m.training for m in e.modules())
    out = e(ember.ones(2, 4)).sum()
    out.backward()
    assert all(p.grad is not None for p in e.parameters())
    e.zero_grad()
    assert all(p.grad is None for p in e.parameters())
    seen = []
    e.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Sequential" and seen[0] == "Linear"
    weight = e.fc1.weight
    e.double()
    assert e.fc1.weight is weight and weight.dtype == ember.float64
    e.to(ember.float32)
    assert weight.dtype == ember.float32


def test_forward_hooks_and_full_backward_hook_match_torch():
    e, t = _pair()
    _copy_torch_into(e, t)
    e.eval()
    t.eval()
    records = {}
    for lib_module, key in ((e.fc1, "ember"), (t.fc1, "torch")):
        lib_module.register_forward_pre_hook(lambda m, args, key=key: records.update({key + "_pre": args[0].shape}))
        lib_module.register_forward_hook(lambda m, args, out, key=key: out * 2)
        lib_module.register_full_backward_hook(
            lambda m, gin, gout, key=key: records.update({key + "_bw": (gin[0], gout[0])}))
    x = numpy.random.default_rng(1).standard_normal((3, 4)).astype(numpy.float32)
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    e(xe).sum().backward()
    t(xt).sum().backward()
    numpy.testing.assert_allclose(as_numpy(xe.grad), as_numpy(xt.grad), rtol=1e-5, atol=1e-6)
    assert tuple(records["ember_pre"]) == tuple(records["torch_pre"])
    for ours, theirs in zip(records["ember_bw"], records["torch_bw"]):
        numpy.testing.assert_allclose(as_numpy(ours), as_numpy(theirs), rtol=1e-5, atol=1e-6)


def test_containers():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    layers.append(nn.ReLU())
    assert len(layers) == 4 and isinstance(layers[-1], nn.ReLU)
    assert len(list(layers.parameters())) == 6
    d = nn.ModuleDict({"a": nn.Linear(1, 1)})
    d["b"] = nn.ReLU()
    assert list(d.keys()) == ["a", "b"]
    params = nn.ParameterList([nn.Parameter(ember.ones(1)), ember.zeros(2)])
    assert isinstance(params[1], nn.Parameter) and len(list(params.parameters())) == 2
    pd = nn.ParameterDict({"x": ember.ones(3)})
    assert list(dict(pd.named_parameters())) == ["x"]
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert isinstance(seq[0:2], nn.Sequential) and len(seq[0:2]) == 2
    t_seq = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    assert list(seq.state_dict()) == list(t_seq.state_dict())


def test_linear_default_init_statistics_and_shape_error():
    ember.manual_seed(0)
    layer = nn.Linear(1000, 500)
    bound = 1 / numpy.sqrt(1000)
    w = as_numpy(layer.weight)
    assert w.min() >= -bound and w.max() <= bound and abs(w.std() - bound / numpy.sqrt(3)) < 0.01 * bound
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(64x12544 and 9216x128\)"):
        nn.Linear(9216, 128)(ember.zeros(64, 12544))


def _hook_log(lib):
    """A two-level model with every state_dict hook kind registered, and the calls they record."""
    model = lib.nn.Sequential(OrderedDict(fc=lib.nn.Linear(2, 2), head=lib.nn.Sequential(lib.nn.Linear(2, 1))))
    calls = []
    model.register_state_dict_pre_hook(lambda m, prefix, keep_vars: calls.append(("pre", prefix, keep_vars)))

    def post(m, state, prefix, metadata):
        calls.append(("post", prefix, sorted(state), dict(metadata)))
        state[prefix + "note"] = 1
    model.head.register_state_dict_post_hook(post)
    model.fc._register_state_dict_hook(lambda m, state, prefix, metadata: calls.append(("private", prefix)))

    def rename(m, state, prefix, metadata, strict, missing, unexpected, errors):
        calls.append(("load_pre", type(m).__name__, prefix, strict))
        if prefix + "w" in state:
            state[prefix + "weight"] = state.pop(prefix + "w")
    model.fc.register_load_state_dict_pre_hook(rename)
    model.head[0]._register_load_state_dict_pre_hook(
        lambda state, prefix, *rest: calls.append(("load_pre_plain", prefix, len(rest))))
    model.head._register_load_state_dict_pre_hook(
        lambda m, state, prefix, *rest: calls.append(("load_pre_module", type(m).__name__, prefix)), with_module=True)

    def forgive(m, incompatible):
        calls.append(("load_post", list(incompatible.missing_keys), list(incompatible.unexpected_keys)))
        incompatible.unexpected_keys.clear()
    model.register_load_state_dict_post_hook(forgive)
    return model, calls


def test_state_dict_hooks_match_torch():
    results = {}
    for lib in (ember, torch):
        model, calls = _hook_log(lib)
        state = model.state_dict()
        state = OrderedDict((k.replace("fc.weight", "fc.w"), v) for k, v in state.items())
        state["head.note"] = lib.zeros(1)   # unexpected: the post-hook clears it, so strict loading passes
        result = model.load_state_dict(state)
        results[lib] = (calls, list(model.state_dict()), repr(result), list(state))
    assert results[ember] == results[torch]
    assert results[ember][2] == "<All keys matched successfully>"


def test_state_dict_hook_contracts_match_torch():
    for lib in (ember, torch):
        model = lib.nn.Linear(2, 2)
        handle = model.register_state_dict_post_hook(lambda m, state, prefix, metadata: {})
        with pytest.raises(RuntimeError, match="state_dict post-hook must return None"):
            model.state_dict()
        handle.remove()
        model._register_state_dict_hook(lambda m, state, prefix, metadata: {"replaced": 1})
        assert model.state_dict() == {"replaced": 1}
        model.register_load_state_dict_post_hook(lambda m, keys: keys)
        with pytest.raises(AssertionError):
            model.load_state_dict(lib.nn.Linear(2, 2).state_dict())
        keys = lib.nn.Linear(2, 2).load_state_dict({"weight": lib.zeros(2, 2)}, strict=False)
        assert repr(keys) == "_IncompatibleKeys(missing_keys=['bias'], unexpected_keys=[])"


def test_old_pickled_modules_gain_new_hook_dicts():
    import pickle
    model = nn.Linear(2, 2)
    state = model.__getstate__()
    del state["_load_state_dict_pre_hooks"], state["_state_dict_pre_hooks"]
    revived = nn.Linear.__new__(nn.Linear)
    revived.__setstate__(state)
    revived.load_state_dict(pickle.loads(pickle.dumps(model)).state_dict())
    assert revived.state_dict().keys() == model.state_dict().keys()


def test_full_backward_hook_without_input_gradients_warns_as_torch():
    """A full backward hook on a module none of whose inputs require grad fires on the output gradients with one
    None per positional input, after PyTorch's UserWarning, attributed to the line that called backward()."""
    import warnings
    results = []
    for lib in (torch, ember):
        seen = []
        layer = lib.nn.Bilinear(2, 2, 3)
        layer.register_full_backward_hook(lambda m, gin, gout: seen.append((gin, tuple(gout[0].shape))))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            layer(lib.ones(4, 2), lib.ones(4, 2)).sum().backward()
        results.append((seen, [(w.category, str(w.message), w.filename) for w in caught]))
    assert results[1] == results[0] and results[0][1][0][2] == __file__
