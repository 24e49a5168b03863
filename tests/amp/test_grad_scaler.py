"""GradScaler against ``torch.amp.GradScaler("cpu")``: step by step the same scale, growth tracker, skipped steps
and parameters in training loops with injected inf/NaN gradients; PyTorch's errors, state_dict and aliases."""
import pickle
import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
W1, B1, W2, B2 = (RNG.standard_normal(s).astype(np.float32) * 0.5 for s in ((6, 4), (6,), (1, 6), (1,)))
X, Y = RNG.standard_normal((30, 8, 4)).astype(np.float32), RNG.standard_normal((30, 8, 1)).astype(np.float32)


def _model(T):
    model = T.nn.Sequential(T.nn.Linear(4, 6), T.nn.Tanh(), T.nn.Linear(6, 1))
    with T.no_grad():
        for p, value in zip(model.parameters(), (W1, B1, W2, B2)):
            p.copy_(T.tensor(value))
    return model


def _train(T, make_optimizer, inject, clip=None, autocast_dtype=None, steps=30, **scaler_args):
    """Runs the AMP recipe; returns per step (scale, growth tracker, step skipped, parameters)."""
    model = _model(T)
    optimizer = make_optimizer(T, model.parameters())
    scaler = T.amp.GradScaler("cpu", **scaler_args)
    history = []
    for step in range(steps):
        optimizer.zero_grad()
        with T.autocast("cpu", dtype=autocast_dtype or T.bfloat16, enabled=autocast_dtype is not None):
            loss = T.nn.functional.mse_loss(model(T.tensor(X[step])), T.tensor(Y[step]))
        scaler.scale(loss).backward()
        if step in inject:
            with T.no_grad():
                model[0].weight.grad[1, 2] = inject[step]
        if clip is not None:
            scaler.unscale_(optimizer)
            T.nn.utils.clip_grad_norm_(model.parameters(), clip)
        before = [p.detach().clone() for p in model.parameters()]
        scaler.step(optimizer)
        scaler.update()
        after = [p.detach().numpy().copy() if T is torch else np.asarray(p.detach().tolist(), np.float32)
                 for p in model.parameters()]
        skipped = all(np.array_equal(a, np.asarray(b.tolist(), np.float32)) for a, b in zip(after, before))
        history.append((scaler.get_scale(), scaler._get_growth_tracker(), skipped, after))
    return history


INJECT = {2: float("inf"), 3: float("nan"), 9: float("-inf"), 17: float("nan"), 18: float("inf")}
SGD = lambda T, params: T.optim.SGD(params, lr=0.05, momentum=0.9)
ADAM = lambda T, params: T.optim.Adam(params, lr=0.01)


@pytest.mark.parametrize("case", [
    {"make_optimizer": SGD, "inject": INJECT, "growth_interval": 4},
    {"make_optimizer": ADAM, "inject": INJECT, "growth_interval": 3, "init_scale": 2.0 ** 10, "backoff_factor": 0.25,
         "growth_factor": 4.0},
    {"make_optimizer": SGD, "inject": {5: float("inf"), 6: float("nan")}, "clip": 0.5, "growth_interval": 2},
    {"make_optimizer": SGD, "inject": {4: float("nan")}, "autocast_dtype": "bfloat16", "growth_interval": 5},
    {"make_optimizer": ADAM, "inject": {}, "init_scale": 2.0 ** 126, "growth_interval": 1},   # overflows by itself
], ids=["sgd", "adam-custom-factors", "unscale-and-clip", "bf16-autocast", "overflowing-scale"])
def test_training_loop_matches_torch_step_by_step(case):
    def run(T):
        args = dict(case)
        if args.get("autocast_dtype"):
            args["autocast_dtype"] = getattr(T, args["autocast_dtype"])
        return _train(T, **args)
    got, expected = run(ember), run(torch)
    assert [h[:3] for h in got] == [h[:3] for h in expected]
    assert any(h[2] for h in expected) and not all(h[2] for h in expected)
    tolerance = 2e-2 if case.get("autocast_dtype") else 2e-5   # bfloat16 forwards round differently inside
    for step, (g, e) in enumerate(zip(got, expected)):
        for a, b in zip(g[3], e[3]):
            np.testing.assert_allclose(a, b, rtol=tolerance, atol=tolerance / 2, err_msg=f"step {step}")


@pytest.mark.parametrize("T", [ember, torch], ids=["ember", "torch"])
def test_errors_and_order_of_calls(T):
    model = _model(T)
    optimizer = T.optim.SGD(model.parameters(), lr=0.1)
    scaler = T.amp.GradScaler("cpu")
    with pytest.raises(AssertionError, match=r"Attempted unscale_ but _scale is None.  This may indicate your "
                                             r"script did not use scaler.scale\(loss or outputs\)"):
        scaler.unscale_(optimizer)
    scaler.scale(model(T.ones(2, 4)).sum()).backward()
    scaler.unscale_(optimizer)
    with pytest.raises(RuntimeError, match=r"unscale_\(\) has already been called on this optimizer since the last "
                                           r"update\(\)."):
        scaler.unscale_(optimizer)
    with pytest.raises(RuntimeError, match="Closure use is not currently supported if GradScaler is enabled."):
        scaler.step(optimizer, closure=lambda: 0.0)
    scaler.step(optimizer)
    with pytest.raises(RuntimeError, match=r"step\(\) has already been called since the last update\(\)."):
        scaler.step(optimizer)
    with pytest.raises(RuntimeError, match=r"unscale_\(\) is being called after step\(\)."):
        scaler.unscale_(optimizer)
    scaler.update()
    with pytest.raises(AssertionError, match="No inf checks were recorded prior to update."):
        scaler.update()
    with pytest.raises(AssertionError, match="The growth factor must be > 1.0."):
        T.amp.GradScaler("cpu", growth_factor=1.0)
    with pytest.raises(AssertionError, match="The backoff factor must be < 1.0."):
        T.amp.GradScaler("cpu", backoff_factor=1.0)
    half = T.nn.Linear(2, 2).half()
    half_optimizer = T.optim.SGD(half.parameters(), lr=0.1)
    scaler.scale(half(T.ones(1, 2, dtype=T.float16)).float().sum()).backward()
    with pytest.raises(ValueError, match="Attempting to unscale FP16 gradients."):
        scaler.step(half_optimizer)


@pytest.mark.parametrize("T", [ember, torch], ids=["ember", "torch"])
def test_positional_closure_and_return_value(T):
    model = _model(T)
    optimizer = T.optim.LBFGS(model.parameters(), lr=0.1, max_iter=2)
    scaler = T.amp.GradScaler("cpu", init_scale=4.0)
    x, y = T.tensor(X[0]), T.tensor(Y[0])

    def closure():
        optimizer.zero_grad()
        loss = T.nn.functional.mse_loss(model(x), y)
        scaler.scale(loss).backward()
        return loss
    closure()
    result = scaler.step(optimizer, closure)   # positional closure: passed through, as PyTorch does
    scaler.update()
    assert isinstance(result, T.Tensor) and scaler.get_scale() == 4.0


def test_scale_nested_outputs_and_dtypes():
    for T in (ember, torch):
        scaler = T.amp.GradScaler("cpu", init_scale=8.0)
        a, b = T.ones(2), T.ones(3, dtype=T.bfloat16)
        out = scaler.scale([a, (b, [a])])
        assert isinstance(out, list) and isinstance(out[1], tuple) and isinstance(out[1][1], list)
        assert out[0].tolist() == [8.0, 8.0] and out[1][0].dtype is T.bfloat16 and out[1][0].tolist() == [8.0] * 3
        with pytest.raises(ValueError, match="outputs must be a Tensor or an iterable of Tensors"):
            scaler.scale(3.0)


def test_state_dict_load_and_pickle_like_torch():
    ours, theirs = _train(ember, SGD, INJECT, steps=7, growth_interval=3), _train(torch, SGD, INJECT, steps=7,
                                                                                   growth_interval=3)
    assert [h[:2] for h in ours] == [h[:2] for h in theirs]
    for T in (ember, torch):
        scaler = T.amp.GradScaler("cpu", init_scale=512.0, growth_interval=7)
        assert scaler.state_dict() == {"scale": 512.0, "growth_factor": 2.0, "backoff_factor": 0.5,
                                       "growth_interval": 7, "_growth_tracker": 0}
        scaler.scale(T.ones(1))
        scaler.update(new_scale=64.0)
        assert scaler.get_scale() == 64.0
        scaler.update(T.tensor(32.0))
        assert scaler.get_scale() == 32.0
        with pytest.raises(AssertionError, match="new_scale should be a float or a 1-element"):
            scaler.update(T.ones(2))
        other = T.amp.GradScaler("cpu")
        other.load_state_dict(scaler.state_dict())
        assert other.state_dict() == scaler.state_dict()
        copy = pickle.loads(pickle.dumps(scaler))
        assert copy.get_scale() == 32.0 and copy.state_dict() == scaler.state_dict()
        scaler.set_growth_factor(3.0), scaler.set_backoff_factor(0.125), scaler.set_growth_interval(11)
        assert (scaler.get_growth_factor(), scaler.get_backoff_factor(), scaler.get_growth_interval()) == \
            (3.0, 0.125, 11)
        with pytest.raises(RuntimeError, match="The source state dict is empty"):
            other.load_state_dict({})
    # a checkpoint from torch loads into ember and continues identically
    scaler = torch.amp.GradScaler("cpu", init_scale=3.0, growth_interval=9)
    scaler.scale(torch.ones(1))
    mine = ember.amp.GradScaler("cpu")
    mine.load_state_dict(scaler.state_dict())
    assert mine.state_dict() == scaler.state_dict()


def test_disabled_scaler_is_transparent():
    model = _model(ember)
    optimizer = ember.optim.SGD(model.parameters(), lr=0.1)
    scaler = ember.amp.GradScaler("cpu", enabled=False)
    loss = model(ember.ones(1, 4)).sum()
    assert scaler.scale(loss) is loss and scaler.get_scale() == 1.0 and scaler.state_dict() == {}
    loss.backward()
    before = model[0].bias.tolist()
    scaler.unscale_(optimizer)
    scaler.step(optimizer)
    scaler.update()
    assert model[0].bias.tolist() != before and not scaler.is_enabled()


def test_cuda_scaler_without_gpu_and_deprecated_aliases():
    if not ember.cuda.is_available():
        with pytest.warns(UserWarning, match="torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  "
                                             "Disabling."):
            assert not ember.amp.GradScaler().is_enabled()
    for T in (ember, torch):
        with pytest.warns(FutureWarning, match=r"`torch.cpu.amp.GradScaler\(args...\)` is deprecated. Please use "
                                               r"`torch.amp.GradScaler\('cpu', args...\)` instead."):
            scaler = T.cpu.amp.GradScaler(init_scale=16.0)
        assert scaler.get_scale() == 16.0 and isinstance(scaler, T.amp.GradScaler)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)   # no GPU: the CUDA scaler disables itself
            with pytest.warns(FutureWarning, match=r"torch.cuda.amp.GradScaler\(args...\)` is deprecated"):
                T.cuda.amp.GradScaler()
