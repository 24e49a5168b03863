"""Optimizers stepped side by side with torch.optim on identical parameters and gradients."""
import numpy
import pytest
import torch

import ember
from tests.oracle import as_numpy, dtype_name

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True)),
    ("SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.1, maximize=True)),   # negated, then decayed
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.01, maximize=True, eps=1e-6)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.5, eps=1e-6)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1, maximize=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.5, weight_decay=0.1, maximize=True)),
    ("RMSprop", dict(lr=0.01, centered=True, eps=1e-3)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, maximize=True)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.01, momentum_decay=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict()),
    ("RAdam", dict(lr=0.01, betas=(0.9, 0.9), weight_decay=0.1)),
    ("RAdam", dict(lr=0.01, betas=(0.8, 0.95), weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("ASGD", dict()),
    ("ASGD", dict(lr=0.05, lambd=0.01, alpha=0.5, t0=5, weight_decay=0.1)),
    ("ASGD", dict(lr=0.05, t0=0, maximize=True)),
    ("Rprop", dict()),
    ("Rprop", dict(lr=0.1, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2), maximize=True)),
]


def _parameters(seed=0):
    rng = numpy.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(numpy.float32) for shape in ((5, 3), (3,), ())]


def _gradients(step, shapes):
    rng = numpy.random.default_rng(100 + step)
    return [rng.standard_normal(s.shape).astype(numpy.float32) for s in shapes]


@pytest.mark.parametrize("name,options", CASES)
def test_matches_torch_over_20_steps(name, options):
    values = _parameters()
    e_params = [ember.nn.Parameter(ember.tensor(v)) for v in values]
    t_params = [torch.nn.Parameter(torch.tensor(v)) for v in values]
    e_opt = getattr(ember.optim, name)(e_params, **options)
    t_opt = getattr(torch.optim, name)(t_params, **options)
    for step in range(20):
        for e, t, g in zip(e_params, t_params, _gradients(step, values)):
            e.grad, t.grad = ember.tensor(g), torch.tensor(g)
        e_opt.step()
        t_opt.step()
    for e, t in zip(e_params, t_params):
        numpy.testing.assert_allclose(as_numpy(e), as_numpy(t), rtol=1e-5, atol=1e-6)
    _assert_same_state_dict(e_opt.state_dict(), t_opt.state_dict())


def _assert_same_state_dict(e_state, t_state):
    """Same group options (names, order, values) and the same per-parameter state (names, dtypes, shapes, values)."""
    assert [list(g) for g in e_state["param_groups"]] == [list(g) for g in t_state["param_groups"]]
    assert e_state["param_groups"] == t_state["param_groups"]
    assert set(e_state["state"]) == set(t_state["state"])
    for index, t_entry in t_state["state"].items():
        e_entry = e_state["state"][index]
        assert list(e_entry) == list(t_entry)
        for key, value in t_entry.items():
            if isinstance(value, torch.Tensor):
                assert (dtype_name(e_entry[key]), e_entry[key].shape) == (dtype_name(value), value.shape)
                numpy.testing.assert_allclose(as_numpy(e_entry[key]), as_numpy(value), rtol=1e-5, atol=1e-6)


def test_state_dict_round_trip_continues_identically():
    values = _parameters()
    first = [ember.nn.Parameter(ember.tensor(v)) for v in values]
    second = [ember.nn.Parameter(ember.tensor(v)) for v in values]
    opt1 = ember.optim.Adam(first, lr=0.01)
    for step in range(3):
        for p, g in zip(first, _gradients(step, values)):
            p.grad = ember.tensor(g)
        opt1.step()
    for p, q in zip(first, second):
        q.data = p.detach().clone()
    opt2 = ember.optim.Adam(second, lr=0.5)
    opt2.load_state_dict(opt1.state_dict())
    assert opt2.param_groups[0]["lr"] == 0.01
    for opt, params in ((opt1, first), (opt2, second)):
        for p, g in zip(params, _gradients(7, values)):
            p.grad = ember.tensor(g)
        opt.step()
    for p, q in zip(first, second):
        numpy.testing.assert_array_equal(as_numpy(p), as_numpy(q))


def test_load_torch_optimizer_state_dict():
    values = _parameters()
    t_params = [torch.nn.Parameter(torch.tensor(v)) for v in values]
    t_opt = torch.optim.SGD(t_params, lr=0.1, momentum=0.9)
    for p, g in zip(t_params, _gradients(0, values)):
        p.grad = torch.tensor(g)
    t_opt.step()
    e_params = [ember.nn.Parameter(ember.tensor(p.detach().numpy())) for p in t_params]
    e_opt = ember.optim.SGD(e_params, lr=0.5)
    state = t_opt.state_dict()
    converted = {"state": {k: {n: ember.tensor(v.numpy()) for n, v in s.items()} for k, s in state["state"].items()},
                 "param_groups": state["param_groups"]}
    e_opt.load_state_dict(converted)
    for step in range(1, 4):
        grads = _gradients(step, values)
        for e, t, g in zip(e_params, t_params, grads):
            e.grad, t.grad = ember.tensor(g), torch.tensor(g)
        e_opt.step()
        t_opt.step()
    for e, t in zip(e_params, t_params):
        numpy.testing.assert_allclose(as_numpy(e), as_numpy(t), rtol=1e-5, atol=1e-6)


def test_param_groups_and_errors():
    a, b = ember.nn.Parameter(ember.ones(2)), ember.nn.Parameter(ember.ones(3))
    opt = ember.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="empty parameter list"):
        ember.optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        ember.optim.Adam([a], lr=-1)
    with pytest.raises(ValueError, match="Nesterov"):
        ember.optim.SGD([a], lr=0.1, nesterov=True)
    with pytest.raises(TypeError):
        ember.optim.SGD(a, lr=0.1)


def test_zero_grad_and_skips_params_without_grad():
    a, b = ember.nn.Parameter(ember.ones(2)), ember.nn.Parameter(ember.ones(2))
    opt = ember.optim.SGD([a, b], lr=1.0)
    a.grad = ember.ones(2)
    opt.step()
    assert a.tolist() == [0.0, 0.0] and b.tolist() == [1.0, 1.0]
    opt.zero_grad(set_to_none=False)
    assert a.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert a.grad is None


def test_step_hooks_and_closure():
    a = ember.nn.Parameter(ember.tensor([2.0]))
    opt = ember.optim.SGD([a], lr=0.1)
    calls = []
    opt.register_step_pre_hook(lambda o, args, kwargs: calls.append("pre"))
    handle = opt.register_step_post_hook(lambda o, args, kwargs: calls.append("post"))

    def closure():
        opt.zero_grad()
        loss = (a * a).sum()
        loss.backward()
        return loss
    loss = opt.step(closure)
    assert float(loss) == 4.0 and calls == ["pre", "post"]
    assert abs(a.item() - 1.6) < 1e-6
    handle.remove()
    opt.step(closure)
    assert calls == ["pre", "post", "pre"]


def test_wrapper_subclass_without_optimizer_init_steps_its_inner_optimizer():
    # accelerate's AcceleratedOptimizer subclasses Optimizer, skips its __init__ and delegates step
    def run(lib):
        class Wrapper(lib.optim.Optimizer):
            def __init__(self, optimizer):
                self.optimizer = optimizer

            def step(self, closure=None):
                return self.optimizer.step(closure)

        a = lib.nn.Parameter(lib.tensor([2.0]))
        inner = lib.optim.SGD([a], lr=0.1)
        calls = []
        inner.register_step_pre_hook(lambda o, args, kwargs: calls.append("inner pre"))
        wrapper = Wrapper(inner)
        (a * a).sum().backward()
        wrapper.step()
        return a.item(), calls
    assert run(ember) == run(torch) == (pytest.approx(1.6), ["inner pre"])


def _to_torch_state_dict(state_dict):
    def convert(value):
        if isinstance(value, ember.Tensor):
            return torch.tensor(as_numpy(value))
        if isinstance(value, list):
            return [convert(v) for v in value]
        return value
    return {"state": {k: {n: convert(v) for n, v in s.items()} for k, s in state_dict["state"].items()},
            "param_groups": state_dict["param_groups"]}


ROUND_TRIP_CASES = [
    ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.9)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("ASGD", dict(lr=0.05, t0=2)),
    ("Rprop", dict(lr=0.1)),
]


@pytest.mark.parametrize("name,options", ROUND_TRIP_CASES)
def test_ember_state_dict_loads_into_torch_and_continues(name, options):
    values = _parameters()
    e_params = [ember.nn.Parameter(ember.tensor(v)) for v in values]
    e_opt = getattr(ember.optim, name)(e_params, **options)
    for step in range(5):
        for p, g in zip(e_params, _gradients(step, values)):
            p.grad = ember.tensor(g)
        e_opt.step()
    t_params = [torch.nn.Parameter(torch.tensor(as_numpy(p))) for p in e_params]
    t_opt = getattr(torch.optim, name)(t_params, lr=0.5)
    t_opt.load_state_dict(_to_torch_state_dict(e_opt.state_dict()))
    for step in range(5, 10):
        for e, t, g in zip(e_params, t_params, _gradients(step, values)):
            e.grad, t.grad = ember.tensor(g), torch.tensor(g)
        e_opt.step()
        t_opt.step()
    for e, t in zip(e_params, t_params):
        numpy.testing.assert_allclose(as_numpy(e), as_numpy(t), rtol=1e-5, atol=1e-6)
    _assert_same_state_dict(e_opt.state_dict(), t_opt.state_dict())


@pytest.mark.parametrize("name,options", ROUND_TRIP_CASES + [("Adadelta", {}), ("Adamax", {}), ("RAdam", {})])
def test_add_param_group_mid_run_matches_torch(name, options):
    values = _parameters()
    e_params = [ember.nn.Parameter(ember.tensor(v)) for v in values]
    t_params = [torch.nn.Parameter(torch.tensor(v)) for v in values]
    e_opt = getattr(ember.optim, name)(e_params[:1], **options)
    t_opt = getattr(torch.optim, name)(t_params[:1], **options)
    for step in range(6):
        if step == 3:
            e_opt.add_param_group({"params": e_params[1:], "lr": 0.02})
            t_opt.add_param_group({"params": t_params[1:], "lr": 0.02})
        for e, t, g in zip(e_params, t_params, _gradients(step, values)):
            e.grad, t.grad = ember.tensor(g), torch.tensor(g)
        e_opt.step()
        t_opt.step()
    for e, t in zip(e_params, t_params):
        numpy.testing.assert_allclose(as_numpy(e), as_numpy(t), rtol=1e-5, atol=1e-6)
    _assert_same_state_dict(e_opt.state_dict(), t_opt.state_dict())


def test_fresh_adagrad_state_matches_torch():
    e_opt = ember.optim.Adagrad([ember.nn.Parameter(ember.ones(2))], initial_accumulator_value=0.25)
    t_opt = torch.optim.Adagrad([torch.nn.Parameter(torch.ones(2))], initial_accumulator_value=0.25)
    _assert_same_state_dict(e_opt.state_dict(), t_opt.state_dict())


def _rosenbrock(params):
    x, y = params
    return ((1 - x) ** 2).sum() + 100 * ((y - x ** 2) ** 2).sum()


@pytest.mark.parametrize("options", [dict(lr=0.5, max_iter=10, history_size=5),
                                     dict(line_search_fn="strong_wolfe", max_iter=10, history_size=5),
                                     dict(line_search_fn="strong_wolfe", max_iter=4, max_eval=6, history_size=2)])
def test_lbfgs_matches_torch_iterates(options):
    # float64: rounding differences on Rosenbrock grow ~30x per step, so float32 would only match for a few steps
    start = [numpy.array([-1.5, 0.5, 1.2]), numpy.array([2.0, -0.5, 1.0])]
    iterates, losses, states = {}, {}, {}
    for lib in (ember, torch):
        params = [lib.nn.Parameter(lib.tensor(v)) for v in start]
        opt = lib.optim.LBFGS(params, **options)

        def closure():
            opt.zero_grad()
            loss = _rosenbrock(params)
            loss.backward()
            return loss
        iterates[lib], losses[lib] = [], []
        for _ in range(4):
            losses[lib].append(opt.step(closure).item())
            iterates[lib].append(numpy.concatenate([as_numpy(p) for p in params]))
        states[lib] = opt.state_dict()
    numpy.testing.assert_allclose(iterates[ember], iterates[torch], rtol=1e-6, atol=1e-7)
    numpy.testing.assert_allclose(losses[ember], losses[torch], rtol=1e-7)
    e_state, t_state = states[ember]["state"][0], states[torch]["state"][0]
    assert states[ember]["param_groups"] == states[torch]["param_groups"]
    assert set(e_state) == set(t_state)
    for key in ("func_evals", "n_iter", "prev_loss"):
        assert e_state[key] == pytest.approx(t_state[key], rel=1e-7)
    assert len(e_state["old_dirs"]) == len(t_state["old_dirs"])
    numpy.testing.assert_allclose(as_numpy(e_state["d"]), as_numpy(t_state["d"]), rtol=1e-6, atol=1e-9)


def test_lbfgs_errors_and_hooks():
    a, b = ember.nn.Parameter(ember.tensor([3.0])), ember.nn.Parameter(ember.tensor([1.0]))
    with pytest.raises(ValueError, match="parameter groups"):
        ember.optim.LBFGS([{"params": [a]}, {"params": [b]}])
    with pytest.raises(TypeError):
        ember.optim.LBFGS([a]).step()
    calls = []

    def closure():
        a.grad = None
        loss = (a * a).sum()
        loss.backward()
        return loss
    for line_search_fn in ("bogus", None):
        opt = ember.optim.LBFGS([a], line_search_fn=line_search_fn)
        opt.register_step_pre_hook(lambda o, args, kwargs: calls.append(("pre", args[0] is o)))
        opt.register_step_post_hook(lambda o, args, kwargs: calls.append("post"))
        if line_search_fn == "bogus":
            with pytest.raises(RuntimeError, match="strong_wolfe"):
                opt.step(closure)
        else:
            opt.step(closure)
    assert calls == [("pre", True), ("pre", True), "post"] and abs(a.item()) < 1e-4


@pytest.mark.parametrize("name", ["Adagrad", "Adadelta", "RMSprop", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"])
def test_step_hooks_may_replace_arguments(name):
    a = ember.nn.Parameter(ember.tensor([2.0]))
    opt = getattr(ember.optim, name)([a])
    seen = []

    def closure():
        seen.append("closure")
        a.grad = ember.ones(1)
        return ember.tensor(1.0)
    opt.register_step_pre_hook(lambda o, args, kwargs: ((o,), {"closure": closure}))
    opt.register_step_post_hook(lambda o, args, kwargs: seen.append(sorted(kwargs)))
    assert opt.step().item() == 1.0
    assert seen == ["closure", ["closure"]] and a.item() != 2.0


def test_hooks_run_once_for_a_subclass_step_calling_super():
    class CountingSGD(ember.optim.SGD):
        def step(self, closure=None):
            """Counts steps, then steps as SGD."""
            self.count = getattr(self, "count", 0) + 1
            return super().step(closure)
    a = ember.nn.Parameter(ember.tensor([2.0]))
    a.grad = ember.ones(1)
    opt = CountingSGD([a], lr=0.5)
    calls = []
    opt.register_step_pre_hook(lambda o, args, kwargs: calls.append("pre"))
    opt.register_step_post_hook(lambda o, args, kwargs: calls.append("post"))
    opt.step()
    assert calls == ["pre", "post"] and opt.count == 1 and a.item() == 1.5


@pytest.mark.parametrize("name,kwargs,message", [
    ("Adagrad", dict(lr_decay=-1), "Invalid lr_decay value: -1"),
    ("Adagrad", dict(initial_accumulator_value=-1), "Invalid initial_accumulator_value value: -1"),
    ("Adadelta", dict(rho=1.5), "Invalid rho value: 1.5"),
    ("RMSprop", dict(alpha=-1), "Invalid alpha value: -1"),
    ("RMSprop", dict(momentum=-1), "Invalid momentum value: -1"),
    ("Adamax", dict(betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
    ("NAdam", dict(momentum_decay=-1), "Invalid momentum_decay value: -1"),
    ("RAdam", dict(eps=-1), "Invalid epsilon value: -1"),
    ("ASGD", dict(weight_decay=-1), "Invalid weight_decay value: -1"),
    ("Rprop", dict(etas=(1.5, 1.2)), "Invalid eta values: 1.5, 1.2"),
    ("LBFGS", dict(lr=-1), "Invalid learning rate: -1"),
])
def test_invalid_options_raise_like_torch(name, kwargs, message):
    for lib in (ember, torch):
        with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
            getattr(lib.optim, name)([lib.nn.Parameter(lib.ones(1))], **kwargs)


@pytest.mark.parametrize("name,options", [case for case in CASES if case[0] not in ("SGD",)][::2])
def test_float64_default_dtype_keeps_scalar_state_in_float64(name, options):
    """Under ``set_default_dtype(float64)`` PyTorch keeps the step (and ASGD's eta/mu, NAdam's mu_product) in
    float64; the state dicts match in dtypes and values after a few float64 steps."""
    values = [v.astype(numpy.float64) for v in _parameters()]
    states = []
    for lib in (ember, torch):
        previous = lib.get_default_dtype()
        lib.set_default_dtype(lib.float64)
        try:
            params = [lib.nn.Parameter(lib.tensor(v)) for v in values]
            optimizer = getattr(lib.optim, name)(params, **options)
            for step in range(3):
                for p, g in zip(params, _gradients(step, values)):
                    p.grad = lib.tensor(g.astype(numpy.float64))
                optimizer.step()
        finally:
            lib.set_default_dtype(previous)
        states.append(optimizer.state_dict())
    _assert_same_state_dict(*states)


@pytest.mark.parametrize("groups", [1, 3])
def test_optimizer_prints_as_pytorchs(groups):
    def printed(lib):
        layers = [lib.nn.Linear(2, 2) for _ in range(groups)]
        params = [{"params": layer.parameters(), "lr": 0.1 * (i + 1)} for i, layer in enumerate(layers)]
        return [repr(lib.optim.SGD(params, lr=0.5, momentum=0.9)), repr(lib.optim.AdamW(params, amsgrad=True))]
    assert printed(ember) == printed(torch)


@pytest.mark.parametrize("make", [lambda t: t.ones(2), lambda t: t.nn.Parameter(t.ones(2, dtype=t.float64))],
                         ids=["tensor", "parameter"])
def test_a_lone_tensor_as_params_is_refused_naming_its_type_as_pytorch(make):
    """PyTorch names the tensor's type as torch.typename does (torch.FloatTensor), not the Python class."""
    messages = []
    for lib in (torch, ember):
        with pytest.raises(TypeError) as error:
            lib.optim.SGD(make(lib), lr=0.1)
        messages.append(str(error.value).replace(lib.__name__ + ".", "torch."))
    assert messages[0] == messages[1]
    assert messages[0].split("but got ")[1] in ("torch.FloatTensor", "torch.DoubleTensor")
