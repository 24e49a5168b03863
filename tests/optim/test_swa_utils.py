"""``ember.optim.swa_utils`` beside ``torch.optim.swa_utils``: AveragedModel over SGD training from the same initial
weights (default, SWA and EMA averages, per tensor and multi-tensor, with and without buffers), SWALR's learning
rates, update_bn's BatchNorm statistics, state_dicts and the errors for bad arguments."""
import copy
import json
import pickle
import subprocess
import sys

import numpy
import pytest
import torch
from torch.optim import swa_utils as torch_swa

import ember
from ember.optim import swa_utils as ember_swa

LIBS = ((ember, ember_swa), (torch, torch_swa))


def as_numpy(value):
    return value.detach().numpy() if hasattr(value, "detach") else numpy.asarray(value)


def assert_state_dicts_match(ember_state, torch_state, rtol=1e-5, atol=1e-6):
    assert list(ember_state) == list(torch_state)
    for key, value in torch_state.items():
        got = as_numpy(ember_state[key])
        assert got.dtype == value.numpy().dtype, key
        numpy.testing.assert_allclose(got, value.numpy(), rtol=rtol, atol=atol, err_msg=key)


def mlp(lib):
    return lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.BatchNorm1d(8), lib.nn.ReLU(), lib.nn.Linear(8, 3))


def twin_models(build=mlp, seed=0):
    """(ember model, torch model) with torch's initial weights copied into ember's."""
    torch.manual_seed(seed)
    torch_model = build(torch)
    ember_model = build(ember)
    ember_model.load_state_dict({k: ember.tensor(v.numpy()) for k, v in torch_model.state_dict().items()})
    return ember_model, torch_model


def batches(steps, shape=(6, 4), seed=1):
    rng = numpy.random.default_rng(seed)
    return [(rng.standard_normal(shape).astype("float32"), rng.standard_normal((shape[0], 3)).astype("float32"))
            for _ in range(steps)]


def train(lib, model, data, after_step, lr=0.1):
    """SGD steps on ``data``; ``after_step(model)`` runs after each optimizer step."""
    optimizer = lib.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    for x, y in data:
        optimizer.zero_grad()
        lib.nn.functional.mse_loss(model(lib.tensor(x)), lib.tensor(y)).backward()
        optimizer.step()
        after_step(model)


AVERAGES = {
    "default": lambda su: {},
    "swa_avg_fn": lambda su: {"avg_fn": su.get_swa_avg_fn()},
    "ema_avg_fn": lambda su: {"avg_fn": su.get_ema_avg_fn(0.9)},
    "swa_multi_avg_fn": lambda su: {"multi_avg_fn": su.get_swa_multi_avg_fn()},
    "ema_multi_avg_fn": lambda su: {"multi_avg_fn": su.get_ema_multi_avg_fn(0.8)},
    "custom_avg_fn": lambda su: {"avg_fn": lambda avg, cur, n: avg * 0.5 + cur * 0.5 + n * 0.01},
}


# (integer buffers stop PyTorch's multi-tensor SWA average: see the error test below)
@pytest.mark.parametrize("average, use_buffers", [(a, b) for a in sorted(AVERAGES) for b in (False, True)
                                                  if not (a == "swa_multi_avg_fn" and b)])
def test_averaged_model_tracks_torch_over_training(average, use_buffers):
    data = batches(6)
    results = []
    for (lib, su), model in zip(LIBS, twin_models()):
        averaged = su.AveragedModel(model, use_buffers=use_buffers, **AVERAGES[average](su))
        history = []

        def after_step(m, averaged=averaged, history=history):
            averaged.update_parameters(m)
            history.append({k: v.clone() for k, v in averaged.state_dict().items()})
        train(lib, model, data, after_step)
        x = lib.tensor(data[0][0])
        averaged.eval()
        results.append((history, averaged(x), averaged))
    (ember_history, ember_out, ember_avg), (torch_history, torch_out, torch_avg) = results
    for ember_state, torch_state in zip(ember_history, torch_history, strict=True):
        assert_state_dicts_match(ember_state, torch_state)
    assert int(ember_avg.n_averaged) == int(torch_avg.n_averaged) == 6
    numpy.testing.assert_allclose(ember_out.detach().numpy(), torch_out.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_default_average_on_a_foreach_device_is_torchs_multi_tensor_swa(monkeypatch):
    """On CUDA PyTorch's default average is the multi-tensor lerp; the CPU stands in for such a device here."""
    monkeypatch.setattr(ember_swa, "_FOREACH_DEVICE_TYPES", ("cpu",))
    data = batches(4)
    states = []
    for (lib, su), model in zip(LIBS, twin_models()):
        averaged = su.AveragedModel(model, **({} if lib is ember else {"multi_avg_fn": su.get_swa_multi_avg_fn()}))
        train(lib, model, data, averaged.update_parameters)
        states.append(averaged.state_dict())
    assert_state_dicts_match(*states)


def test_averaged_model_copies_the_model_and_keeps_torchs_state_dict():
    ember_model, torch_model = twin_models()
    ember_avg = ember_swa.AveragedModel(ember_model)
    torch_avg = torch_swa.AveragedModel(torch_model)
    assert isinstance(ember_avg, ember.nn.Module)
    assert ember_avg.module is not ember_model
    assert all(a is not b for a, b in zip(ember_avg.parameters(), ember_model.parameters()))
    assert_state_dicts_match(ember_avg.state_dict(), torch_avg.state_dict())
    assert ember_avg.n_averaged.dtype == ember.int64 and ember_avg.n_averaged.shape == ()
    assert [n for n, _ in ember_avg.named_buffers()] == [n for n, _ in torch_avg.named_buffers()]
    assert [n for n, _ in ember_avg.named_parameters()] == [n for n, _ in torch_avg.named_parameters()]
    # the copy does not follow later changes to the model until update_parameters
    with ember.no_grad():
        ember_model[0].weight.add_(1.0)
    copied, changed = ember_avg.module[0].weight.detach().numpy(), ember_model[0].weight.detach().numpy()
    assert not numpy.allclose(copied, changed)
    ember_avg.update_parameters(ember_model)
    numpy.testing.assert_array_equal(ember_avg.module[0].weight.detach().numpy(), changed)


def test_averaged_model_state_dict_round_trip_and_device():
    ember_model, torch_model = twin_models()
    data = batches(3)
    averages = []
    for (lib, su), model in zip(LIBS, (ember_model, torch_model)):
        averaged = su.AveragedModel(model, device="cpu")
        train(lib, model, data, averaged.update_parameters)
        averages.append(averaged)
    ember_avg, torch_avg = averages
    assert ember_avg.n_averaged.device.type == "cpu"
    restored = ember_swa.AveragedModel(mlp(ember))
    restored.load_state_dict({k: ember.tensor(v.numpy()) for k, v in torch_avg.state_dict().items()})
    assert_state_dicts_match(restored.state_dict(), torch_avg.state_dict(), rtol=0, atol=0)
    assert int(restored.n_averaged) == 3
    # avg_fn and multi_avg_fn are attributes, not state
    assert "avg_fn" not in " ".join(restored.state_dict())


def test_averaged_model_buffers_follow_the_model_without_use_buffers():
    model = mlp(ember)
    averaged = ember_swa.AveragedModel(model)
    train(ember, model, batches(2), averaged.update_parameters)
    for b_avg, b_model in zip(averaged.module.buffers(), model.buffers()):
        numpy.testing.assert_array_equal(b_avg.numpy(), b_model.numpy())
    assert int(averaged.module[1].num_batches_tracked) == 2


def test_averaged_model_pickles_and_deep_copies():
    averaged = ember_swa.AveragedModel(mlp(ember))
    for clone in (copy.deepcopy(averaged), pickle.loads(pickle.dumps(averaged))):
        assert type(clone) is ember_swa.AveragedModel
        assert_state_dicts_match(clone.state_dict(), {k: torch.tensor(v.numpy()) for k, v in
                                                      averaged.state_dict().items()}, rtol=0, atol=0)


def test_averaged_model_rejects_both_average_functions():
    for lib, su in LIBS:
        with pytest.raises(AssertionError, match="^Only one of avg_fn and multi_avg_fn should be provided$"):
            su.AveragedModel(mlp(lib), avg_fn=su.get_swa_avg_fn(), multi_avg_fn=su.get_swa_multi_avg_fn())


def test_multi_tensor_swa_average_of_integer_buffers_fails_as_in_torch():
    messages = []
    for (lib, su), model in zip(LIBS, twin_models()):
        averaged = su.AveragedModel(model, multi_avg_fn=su.get_swa_multi_avg_fn(), use_buffers=True)
        averaged.update_parameters(model)
        with pytest.raises(RuntimeError) as info:
            averaged.update_parameters(model)
        messages.append(str(info.value))
    assert messages[0] == messages[1]


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
@pytest.mark.parametrize("count", [1, 4, "tensor"])
def test_average_functions_match_torch(dtype, count):
    rng = numpy.random.default_rng(3)
    averaged = [(rng.standard_normal(s) * 10).astype(dtype) for s in [(3, 4), (5,), ()]]
    current = [(rng.standard_normal(s) * 10).astype(dtype) for s in [(3, 4), (5,), ()]]
    outputs = []
    for lib, su in LIBS:
        n = lib.tensor(3) if count == "tensor" else count
        got = {}
        for name, fn in (("swa", su.get_swa_avg_fn()), ("ema", su.get_ema_avg_fn(0.75)),
                         ("ema_default", su.get_ema_avg_fn())):
            got[name] = [fn(lib.tensor(a), lib.tensor(c), n) for a, c in zip(averaged, current)]
        for name, fn in (("swa_multi", su.get_swa_multi_avg_fn()), ("ema_multi", su.get_ema_multi_avg_fn(0.75))):
            tensors = [lib.tensor(a) for a in averaged]
            try:
                fn(tensors, [lib.tensor(c) for c in current], n)
                got[name] = tensors
            except RuntimeError as error:
                got[name] = type(error).__name__
        outputs.append(got)
    ember_out, torch_out = outputs
    assert ember_out.keys() == torch_out.keys()
    for name, values in torch_out.items():
        if isinstance(values, str):
            assert ember_out[name] == values, name
            continue
        for e, t in zip(ember_out[name], values, strict=True):
            assert e.dtype == getattr(ember, str(t.dtype).split(".")[1]), name
            numpy.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-6, atol=1e-6, err_msg=name)


def test_average_functions_need_no_grad():
    weight = ember.nn.Parameter(ember.ones(3))
    assert not ember_swa.get_swa_avg_fn()(weight, ember.zeros(3), 1).requires_grad
    assert not ember_swa.get_ema_avg_fn(0.5)(weight, ember.zeros(3), 1).requires_grad
    ember_swa.get_ema_multi_avg_fn(0.5)([weight], [ember.zeros(3)], 1)
    assert weight.grad_fn is None and weight.tolist() == [0.5, 0.5, 0.5]


@pytest.mark.parametrize("decay", [-0.1, 1.5])
def test_bad_decay(decay):
    for _, su in LIBS:
        for getter in (su.get_ema_avg_fn, su.get_ema_multi_avg_fn):
            with pytest.raises(ValueError, match=rf"^Invalid decay value {decay} provided\. Please provide a value in "
                                                 r"\[0,1\] range\.$"):
                getter(decay)
    for _, su in LIBS:
        su.get_ema_avg_fn(0.0), su.get_ema_multi_avg_fn(1.0)


# --- SWALR -----------------------------------------------------------------------------------------------------------

def swalr_lrs(lib, su, steps=15, groups=2, before=None, **options):
    """The learning rates per step: the optimizer's groups after each scheduler step, and get_last_lr."""
    params = [lib.nn.Parameter(lib.ones(2)) for _ in range(groups)]
    optimizer = lib.optim.SGD([{"params": [p], "lr": 0.1 / (i + 1)} for i, p in enumerate(params)], lr=0.1)
    seen = []
    if before is not None:
        scheduler = before(lib, optimizer)
        for _ in range(3):
            optimizer.step()
            scheduler.step()
    swa = su.SWALR(optimizer, **options)
    seen.append([g["lr"] for g in optimizer.param_groups])
    for _ in range(steps):
        optimizer.step()
        swa.step()
        seen.append([g["lr"] for g in optimizer.param_groups] + swa.get_last_lr())
    return seen, [g["swa_lr"] for g in optimizer.param_groups]


@pytest.mark.parametrize("anneal_epochs", [0, 1, 3, 10, 20])
@pytest.mark.parametrize("strategy", ["cos", "linear"])
@pytest.mark.parametrize("swa_lr", [0.05, [0.05, 0.2]])
def test_swalr_learning_rates_match_torch(strategy, anneal_epochs, swa_lr):
    options = dict(swa_lr=swa_lr, anneal_epochs=anneal_epochs, anneal_strategy=strategy)
    assert swalr_lrs(ember, ember_swa, **options) == swalr_lrs(torch, torch_swa, **options)


@pytest.mark.parametrize("before", ["StepLR", "CosineAnnealingLR"])
def test_swalr_takes_over_from_another_scheduler(before):
    def make(lib, optimizer):
        if before == "StepLR":
            return lib.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
        return lib.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10)
    options = dict(swa_lr=0.01, anneal_epochs=4, before=make)
    assert swalr_lrs(ember, ember_swa, **options) == swalr_lrs(torch, torch_swa, **options)


def test_swalr_default_arguments_and_state_dict():
    outputs = []
    for lib, su in LIBS:
        optimizer = lib.optim.SGD([lib.nn.Parameter(lib.ones(2))], lr=0.5)
        scheduler = su.SWALR(optimizer, swa_lr=0.05)
        for _ in range(4):
            optimizer.step()
            scheduler.step()
        state = scheduler.state_dict()
        resumed = su.SWALR(optimizer, swa_lr=0.05, anneal_strategy="linear")
        resumed.load_state_dict(state)
        lrs = []
        for _ in range(8):
            optimizer.step()
            resumed.step()
            lrs.append(optimizer.param_groups[0]["lr"])
        outputs.append((sorted(state), {k: v for k, v in state.items() if not k.startswith("_get")}, lrs,
                        resumed.anneal_func is su.SWALR._cosine_anneal, resumed.anneal_epochs))
    assert outputs[0] == outputs[1]
    assert "anneal_func" not in outputs[0][0] and "optimizer" not in outputs[0][0]


def test_swalr_get_lr_outside_step_warns():
    for lib, su in LIBS:
        optimizer = lib.optim.SGD([lib.nn.Parameter(lib.ones(2))], lr=0.5)
        scheduler = su.SWALR(optimizer, swa_lr=0.05)
        with pytest.warns(UserWarning, match=r"^To get the last learning rate computed by the scheduler, please use "
                                             r"`get_last_lr\(\)`\.$"):
            scheduler.get_lr()


BAD_SWALR = [
    ({"swa_lr": 0.1, "anneal_strategy": "exp"}, ValueError,
     "anneal_strategy must be one of 'cos' or 'linear', instead got exp"),
    ({"swa_lr": 0.1, "anneal_epochs": -1}, ValueError, "anneal_epochs must be equal or greater than 0, got -1"),
    ({"swa_lr": 0.1, "anneal_epochs": 2.5}, ValueError, "anneal_epochs must be equal or greater than 0, got 2.5"),
    ({"swa_lr": [0.1, 0.2, 0.3]}, ValueError,
     "swa_lr must have the same length as optimizer.param_groups. swa_lr has 3 values, param_groups has 2."),
]


@pytest.mark.parametrize("options, error, message", BAD_SWALR)
def test_swalr_errors_match_torch(options, error, message):
    for lib, su in LIBS:
        params = [lib.nn.Parameter(lib.ones(2)), lib.nn.Parameter(lib.ones(2))]
        optimizer = lib.optim.SGD([{"params": [p]} for p in params], lr=0.1)
        with pytest.raises(error) as info:
            su.SWALR(optimizer, **options)
        assert str(info.value) == message


def test_swalr_rejects_what_is_not_an_optimizer():
    class NotAnOptimizer:
        param_groups = [{"lr": 0.1}]
    for _, su in LIBS:
        with pytest.raises(TypeError, match="^NotAnOptimizer is not an Optimizer$"):
            su.SWALR(NotAnOptimizer(), swa_lr=0.05)
    for lib, su in LIBS:   # resuming needs initial_lr in every group
        optimizer = lib.optim.SGD([lib.nn.Parameter(lib.ones(2))], lr=0.1)
        with pytest.raises(KeyError, match="param 'initial_lr' is not specified in param_groups\\[0\\]"):
            su.SWALR(optimizer, swa_lr=0.05, last_epoch=3)


# --- update_bn -------------------------------------------------------------------------------------------------------

def conv_bn(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3, momentum=0.3), nn.ReLU(), nn.Flatten(),
                         nn.Linear(12, 5), nn.BatchNorm1d(5, affine=False), nn.Linear(5, 2))


def bn_state(model):
    return {k: v for k, v in model.state_dict().items() if "running" in k or "num_batches" in k}


@pytest.mark.parametrize("batch_kind", ["tuple", "list", "tensor"])
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_update_bn_matches_torch(batch_kind, mode):
    rng = numpy.random.default_rng(5)
    inputs = rng.standard_normal((22, 2, 4, 4)).astype("float32")
    targets = rng.integers(0, 2, 22)
    states = []
    for (lib, su), model in zip(LIBS, twin_models(conv_bn)):
        with lib.no_grad():   # statistics to be thrown away
            model(lib.tensor(inputs[:4]) * 3 + 1)
        getattr(model, mode)()
        data = lib.utils.data
        if batch_kind == "tensor":
            loader = data.DataLoader(lib.tensor(inputs), batch_size=5)
        else:
            loader = data.DataLoader(data.TensorDataset(lib.tensor(inputs), lib.tensor(targets)), batch_size=5)
            if batch_kind == "tuple":
                loader = [tuple(batch) for batch in loader]
        su.update_bn(loader, model, device="cpu" if batch_kind == "list" else None)
        assert model.training == (mode == "train")
        assert (model[1].momentum, model[5].momentum) == (0.3, 0.1)
        states.append(bn_state(model))
    assert_state_dicts_match(*states)
    assert int(states[1]["1.num_batches_tracked"]) == 5


def test_update_bn_on_an_averaged_model_after_training():
    data = batches(5)
    states = []
    for (lib, su), model in zip(LIBS, twin_models()):
        averaged = su.AveragedModel(model)
        train(lib, model, data, averaged.update_parameters)
        su.update_bn([(lib.tensor(x), lib.tensor(y)) for x, y in data], averaged)
        averaged.eval()
        states.append((averaged.state_dict(), averaged(lib.tensor(data[0][0]))))
    assert_state_dicts_match(states[0][0], states[1][0])
    numpy.testing.assert_allclose(states[0][1].detach().numpy(), states[1][1].detach().numpy(), rtol=1e-5, atol=1e-6)


def test_update_bn_passes_other_batches_as_they_are_and_skips_models_without_batch_norm():
    class DictModel:
        pass

    for lib, su in LIBS:
        class Net(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.bn = lib.nn.BatchNorm1d(2)

            def forward(self, batch):
                return self.bn(batch["x"])
        net = Net()
        su.update_bn([{"x": lib.ones(3, 2)}, {"x": lib.zeros(3, 2)}], net)
        assert net.bn.running_mean.tolist() == [0.5, 0.5] and int(net.bn.num_batches_tracked) == 2

        def unused():
            raise AssertionError("the loader is not read without BatchNorm layers")
            yield
        plain = lib.nn.Linear(2, 2)
        su.update_bn(unused(), plain)
        assert plain.training


# --- the namespace ---------------------------------------------------------------------------------------------------

def test_public_names_match_torch():
    assert ember_swa.__all__ == torch_swa.__all__
    for name in torch_swa.__all__:
        assert getattr(ember_swa, name).__doc__, name
    assert ember.optim.swa_utils is ember_swa
    assert ember_swa.AveragedModel.__module__ == "ember.optim.swa_utils"
    assert "AveragedModel" in dir(ember_swa)
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        ember_swa.nothing


def test_importing_optim_leaves_nn_unloaded_until_averaging():
    code = """
import json, sys
import ember.optim.swa_utils
before = "ember.nn" in sys.modules
from ember.optim.swa_utils import AveragedModel
import ember
averaged = AveragedModel(ember.nn.Linear(2, 2))
print(json.dumps([before, "ember.nn" in sys.modules, isinstance(averaged, ember.nn.Module)]))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == [False, True, True]
