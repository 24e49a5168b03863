"""Batch norm modules by running statistics with nothing recorded (``_conv_eval.batch_norm``): PyTorch's values, the
same bits as the functional path, and every case that must take the module's own forward (training, no running
statistics, recording, other dtypes and layouts, an empty batch, a replaced functional, torch-function modes)."""
import numpy
import pytest
import torch

import ember
from ember.nn.modules import _conv_eval
from tests.oracle import assert_same, check, count_calls, sample

F32, F64 = numpy.float32, numpy.float64
MODULES = [("BatchNorm1d", (5, 3)), ("BatchNorm1d", (4, 3, 7)), ("BatchNorm2d", (2, 3, 5, 4)),
           ("BatchNorm2d", (1, 3, 1, 1)), ("BatchNorm3d", (2, 3, 2, 3, 4))]


def _trained(lib, name, dtype, **options):
    """A batch norm module with running statistics and affine parameters away from their initial values."""
    bn = getattr(lib.nn, name)(3, **options).to(getattr(lib, numpy.dtype(dtype).name))
    with lib.no_grad():
        if bn.weight is not None:
            bn.weight.copy_(lib.tensor([0.5, -2.0, 1.5]))
            bn.bias.copy_(lib.tensor([0.25, 1.0, -3.0]))
        if bn.running_mean is not None:
            bn.running_mean.copy_(lib.tensor([0.1, -0.7, 2.0]))
            bn.running_var.copy_(lib.tensor([0.3, 1.7, 4.0]))
    return bn.eval()


def _fast_calls(monkeypatch):
    return count_calls(monkeypatch, _conv_eval, ["_affine"])


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("name, shape", MODULES, ids=str)
@pytest.mark.parametrize("affine", [True, False], ids=["affine", "plain"])
def test_matches_torch_and_the_functional_bits(name, shape, dtype, affine, monkeypatch):
    calls = _fast_calls(monkeypatch)

    def run(lib, x):
        with lib.no_grad():
            return _trained(lib, name, dtype, affine=affine)(x)
    check(run, sample(shape, dtype, seed=1), grad=False)
    assert calls["_affine"] == 1
    bn, x = _trained(ember, name, dtype, affine=affine), ember.tensor(sample(shape, dtype, seed=2))
    with ember.no_grad():
        fast = bn(x)
        general = ember.nn.functional.batch_norm(x, bn.running_mean, bn.running_var, bn.weight, bn.bias, False,
                                                 bn.momentum, bn.eps)
    assert fast.dtype == general.dtype and numpy.array_equal(fast.numpy(), general.numpy())
    assert fast.grad_fn is None and not fast.requires_grad


def test_frozen_parameters_with_grad_enabled_take_it_as_torch():
    calls_before = []

    def run(lib, x):
        bn = _trained(lib, "BatchNorm2d", F32).requires_grad_(False)
        y = bn(x)
        calls_before.append(y.requires_grad)
        return y
    check(run, sample((2, 3, 4, 4), seed=3), grad=False)
    assert calls_before == [False, False]


@pytest.mark.parametrize("case", ["training", "no_running_stats", "recorded_input", "recorded_weight", "half",
                                  "channels_last", "strided", "empty"])
def test_cases_that_take_the_modules_forward(case, monkeypatch):
    calls = _fast_calls(monkeypatch)
    dtype = F32 if case != "half" else numpy.float16

    def run(lib, x):
        bn = _trained(lib, "BatchNorm2d", dtype, track_running_stats=case != "no_running_stats")
        if case == "training":
            bn.train()
        if case == "recorded_weight":
            return bn(x)
        if case == "channels_last":
            x = x.contiguous(memory_format=lib.channels_last)
        if case == "strided":
            x = x[:, :, ::2]
        with lib.no_grad() if case not in ("recorded_input",) else _Nothing():
            y = bn(x)
        return (y, y.is_contiguous(memory_format=lib.channels_last)) if case == "channels_last" else y
    shape = (0, 3, 4, 4) if case == "empty" else (2, 3, 4, 4)
    grad = case in ("recorded_input", "recorded_weight")
    check(run, sample(shape, dtype, seed=4), grad=grad)
    assert "_affine" not in calls


class _Nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_a_replaced_functional_and_a_torch_function_mode_are_seen(monkeypatch):
    from ember import overrides  # its __torch_function__ wrappers installed first: the functional below is theirs
    seen = []
    own = ember.nn.functional.batch_norm

    def spy(*args, **kwargs):
        seen.append("functional")
        return own(*args, **kwargs)
    bn, x = _trained(ember, "BatchNorm2d", F32), ember.tensor(sample((2, 3, 4, 4), seed=5))
    with ember.no_grad():
        with monkeypatch.context() as patch:
            patch.setattr(ember.nn.functional, "batch_norm", spy)
            bn(x)
        assert seen == ["functional"] and ember.nn.functional.batch_norm is own

        class Mode(overrides.TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                seen.append(getattr(func, "__name__", str(func)))
                return func(*args, **(kwargs or {}))
        with Mode():
            expected = bn(x)
        assert "batch_norm" in seen
        assert_same(bn(x), torch.tensor(expected.numpy()))


def test_hooks_still_run_around_it():
    bn, x = _trained(ember, "BatchNorm2d", F32), ember.tensor(sample((2, 3, 4, 4), seed=6))
    bn.register_forward_hook(lambda module, args, output: output * 2)
    with ember.no_grad():
        doubled = bn(x)
    t_bn = _trained(torch, "BatchNorm2d", F32)
    with torch.no_grad():
        assert_same(doubled, t_bn(torch.tensor(x.numpy())) * 2)
