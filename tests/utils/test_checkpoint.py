"""ember.utils.checkpoint against torch.utils.checkpoint: same outputs and gradients as without checkpointing,
recomputation counted by forward calls, RNG replayed for dropout, both use_reentrant modes."""
import contextlib

import numpy
import pytest
import torch
import torch.utils.checkpoint

import ember
import ember.utils.checkpoint
from tests.oracle import assert_same


def build(lib):
    lib.manual_seed(0)
    model = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.Tanh(), lib.nn.Linear(8, 8), lib.nn.GELU(),
                              lib.nn.Linear(8, 3))
    return model


def copy_weights(source, target):
    for (_, s), (_, t) in zip(source.named_parameters(), target.named_parameters()):
        t.data = ember.tensor(s.detach().numpy())


def pair():
    t_model = build(torch)
    e_model = build(ember)
    copy_weights(t_model, e_model)
    return e_model, t_model


X = numpy.random.default_rng(0).standard_normal((5, 4)).astype(numpy.float32)


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_gradients_equal_torch_and_forward_runs_twice(use_reentrant):
    e_model, t_model = pair()
    calls = []

    def counted(model):
        def run(x):
            calls.append(1)
            return model[2](model[1](model[0](x)))
        return run

    results = []
    for lib, model in ((ember, e_model), (torch, t_model)):
        calls.clear()
        x = lib.tensor(X, requires_grad=True)
        hidden = lib.utils.checkpoint.checkpoint(counted(model), x, use_reentrant=use_reentrant)
        out = model[4](model[3](hidden))
        assert len(calls) == 1
        (out ** 2).sum().backward()
        assert len(calls) == 2   # the backward pass recomputed the checkpointed segment once
        results.append((out, x.grad, [p.grad for p in model.parameters()]))
    assert_same(results[0][0], results[1][0], rtol=1e-5, atol=1e-6)
    assert_same(results[0][1], results[1][1], rtol=1e-5, atol=1e-6)
    for eg, tg in zip(results[0][2], results[1][2]):
        assert_same(eg, tg, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_same_gradients_as_without_checkpointing(use_reentrant):
    model = build(ember)
    x = ember.tensor(X, requires_grad=True)
    model(x).pow(2).sum().backward()
    plain = [x.grad.clone()] + [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    x.grad = None
    ember.utils.checkpoint.checkpoint(model, x, use_reentrant=use_reentrant).pow(2).sum().backward()
    for a, b in zip(plain, [x.grad] + [p.grad for p in model.parameters()]):
        numpy.testing.assert_array_equal(a.numpy(), b.numpy())


def test_non_reentrant_works_with_autograd_grad_and_kwargs():
    model = build(ember)
    x = ember.tensor(X, requires_grad=True)

    def run(x, *, scale):
        return model(x) * scale
    y = ember.utils.checkpoint.checkpoint(run, x, scale=2.0, use_reentrant=False)
    grads = ember.autograd.grad(y.sum(), [x, model[0].weight])
    expected = ember.autograd.grad((model(x) * 2.0).sum(), [x, model[0].weight])
    for a, b in zip(grads, expected):
        numpy.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_rng_state_is_replayed_for_dropout(use_reentrant):
    dropout = ember.nn.Dropout(0.5)
    x = ember.ones(200, requires_grad=True)
    ember.manual_seed(3)
    y = ember.utils.checkpoint.checkpoint(lambda v: dropout(v * 3.0), x, use_reentrant=use_reentrant)
    y.sum().backward()
    mask = y.detach().numpy() != 0
    numpy.testing.assert_array_equal(x.grad.numpy(), mask * 6.0)   # the rerun drew the same mask


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_checkpoint_sequential_matches_torch(use_reentrant):
    e_model, t_model = pair()
    outputs = []
    for lib, model in ((ember, e_model), (torch, t_model)):
        x = lib.tensor(X, requires_grad=True)
        out = lib.utils.checkpoint.checkpoint_sequential(model, 2, x, use_reentrant=use_reentrant)
        out.sum().backward()
        outputs.append((out, x.grad, model[0].weight.grad))
    for e, t in zip(*outputs):
        assert_same(e, t, rtol=1e-5, atol=1e-6)


def test_warnings_as_torch():
    f = ember.nn.Linear(2, 2)
    with pytest.warns(UserWarning, match="the use_reentrant parameter should be passed explicitly"):
        ember.utils.checkpoint.checkpoint(f, ember.ones(1, 2, requires_grad=True))
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True. Gradients will be None"):
        ember.utils.checkpoint.checkpoint(f, ember.ones(1, 2), use_reentrant=True)


class _Log:
    """A context manager that records when it is entered and left."""

    def __init__(self, events, name):
        self.events, self.name = events, name

    def __enter__(self):
        self.events.append(f"enter {self.name}")

    def __exit__(self, *exc_info):
        self.events.append(f"exit {self.name}")


def _run_with_contexts(lib):
    events = []

    def body(x):
        events.append("run")
        return (x.sin() * 2).sum()

    x = lib.ones(3, requires_grad=True)
    out = lib.utils.checkpoint.checkpoint(body, x, use_reentrant=False,
                                          context_fn=lambda: (_Log(events, "forward"), _Log(events, "recompute")))
    events.append("backward")
    out.backward()
    return events, x.grad.tolist()


def test_context_fn_wraps_the_forward_and_the_recomputation_as_torchs():
    (ours, our_grad), (theirs, their_grad) = _run_with_contexts(ember), _run_with_contexts(torch)
    assert ours == theirs and numpy.allclose(our_grad, their_grad)
    for lib in (ember, torch):
        forward, recompute = lib.utils.checkpoint.noop_context_fn()
        with forward, recompute:
            pass


@pytest.mark.parametrize("call", [
    lambda lib: lib.utils.checkpoint.checkpoint(lambda x: x * 2, lib.ones(2, requires_grad=True), use_reentrant=False,
                                                determinism_check="sometimes"),
    lambda lib: lib.utils.checkpoint.checkpoint(lambda x: x * 2, lib.ones(2, requires_grad=True), use_reentrant=False,
                                                debug=True, context_fn=lambda: (contextlib.nullcontext(),) * 2),
    lambda lib: lib.utils.checkpoint.checkpoint(lambda x: x * 2, lib.ones(2, requires_grad=True), use_reentrant=True,
                                                context_fn=lambda: (contextlib.nullcontext(),) * 2),
    lambda lib: lib.utils.checkpoint.detach_variable([lib.ones(2)]),
])
def test_argument_errors_match_torch(call):
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(type(theirs.value)) as ours:
        call(ember)
    assert str(ours.value) == str(theirs.value)


def test_no_determinism_check_and_the_helpers_match_torch():
    for lib in (ember, torch):
        x = lib.ones(3, requires_grad=True)
        lib.utils.checkpoint.checkpoint(lambda t: t.exp().sum(), x, use_reentrant=False,
                                        determinism_check="none").backward()
        assert numpy.allclose(x.grad.tolist(), numpy.e)
        detached = lib.utils.checkpoint.detach_variable((x, 3))
        assert detached[0].requires_grad and detached[0].grad_fn is None and detached[1] == 3
        assert lib.utils.checkpoint.DefaultDeviceType.get_device_type() == "cpu"
        assert lib.utils.checkpoint.get_device_states(lib.ones(2), [lib.zeros(1)]) == ([], [])
        with lib.utils.checkpoint.set_checkpoint_early_stop(False), \
                lib.utils.checkpoint.set_checkpoint_debug_enabled(None):
            lib.utils.checkpoint.checkpoint(lambda t: (t * t).sum(), x, use_reentrant=False).backward()
        with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
            lib.utils.checkpoint.check_backward_validity([lib.ones(1), 2])


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_recomputation_runs_under_the_forwards_autocast(use_reentrant):
    """The forward ran in bfloat16 under autocast and backward runs outside it: the recomputation casts as the forward
    did, so it saves the same values (and non-reentrant checkpointing finds the same operations)."""
    def run(lib):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.ReLU(), lib.nn.Linear(8, 2))
        x = lib.tensor(X[:3], requires_grad=True)
        with lib.autocast("cpu", dtype=lib.bfloat16):
            out = lib.utils.checkpoint.checkpoint(model, x, use_reentrant=use_reentrant)
        out.float().sum().backward()
        return [str(out.dtype).split(".")[-1], x.grad.numpy(), model[0].weight.grad.numpy()]
    ours, theirs = run(ember), run(torch)
    assert ours[0] == theirs[0]
    for a, b in zip(ours[1:], theirs[1:]):
        numpy.testing.assert_allclose(a, b, rtol=1e-2, atol=1e-3)


def test_reentrant_checkpoint_refuses_grad_and_backward_inputs_as_torch():
    def run(lib):
        messages = []
        for call in (lambda out, x: lib.autograd.grad(out, x), lambda out, x: out.backward(inputs=[x])):
            x = lib.tensor(X, requires_grad=True)
            out = lib.utils.checkpoint.checkpoint(lambda a: a.exp().sum(), x, use_reentrant=True)
            with pytest.raises(RuntimeError) as error:
                call(out, x)
            messages.append(str(error.value))
        x = lib.tensor(X, requires_grad=True)
        lib.utils.checkpoint.checkpoint(lambda a: a.exp().sum(), x, use_reentrant=True).backward()
        return messages, x.grad.numpy()
    ours, theirs = run(ember), run(torch)
    assert ours[0] == theirs[0]
    numpy.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6)


def test_non_reentrant_checkpoint_differentiates_twice_as_torch():
    """create_graph through the recomputed values: a gradient penalty and a Hessian-vector product."""
    def run(lib):
        x = lib.tensor(X, requires_grad=True)
        w = lib.tensor(X.T.copy(), requires_grad=True)
        out = lib.utils.checkpoint.checkpoint(lambda a: ((a @ w).tanh() ** 3).sum(), x, use_reentrant=False)
        gx, = lib.autograd.grad(out, x, create_graph=True)
        (gx ** 2).sum().backward()
        return x.grad.numpy(), w.grad.numpy()
    for a, b in zip(run(ember), run(torch)):
        numpy.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_recomputed_values_are_not_version_checked_as_torch():
    """The function changes a tensor in place after an op saved it: without checkpointing backward refuses, while
    PyTorch's recomputed values go to backward unchecked (the same number in ember)."""
    def fn(a):
        b = a @ a
        c = b.sin()
        b.mul_(2)
        return c * b

    def run(lib):
        x = lib.tensor(X[:4, :4], requires_grad=True)
        lib.utils.checkpoint.checkpoint(fn, x, use_reentrant=False).sum().backward()
        return x.grad.numpy()
    numpy.testing.assert_allclose(run(ember), run(torch), rtol=1e-5, atol=1e-5)
