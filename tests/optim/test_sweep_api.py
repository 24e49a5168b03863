"""The optimizer API against torch 2.13: invalid options (PyTorch's error types and texts), parameter lists and
groups (named parameters, add_param_group errors, duplicates, mixed float32/float64 groups), gradients that are None,
zero_grad, sparse gradients (SGD, Adagrad, SparseAdam; the others' errors), state_dict/load_state_dict round trips and
errors, a torch optimizer's state_dict loaded into ember and an ember one into torch (the steps after compared with
torch's own), step and state_dict hooks (per optimizer and global), reprs and defaults."""
import copy
import importlib
import pickle

import numpy
import pytest
import torch

import ember
from tests.optim.sweep import check, differences, seen
from tests.optim.sweep_cases import loss_of, make_params, run

NAMES = ["SGD", "Adam", "AdamW", "Adadelta", "Adagrad", "Adamax", "ASGD", "NAdam", "RAdam", "RMSprop", "Rprop",
         "Adafactor", "SparseAdam", "LBFGS", "Muon"]

INVALID = {
    "SGD": [dict(lr=-0.1), dict(momentum=-1.0), dict(weight_decay=-1.0), dict(nesterov=True),
            dict(nesterov=True, momentum=0.9, dampening=0.1), dict(lr=0.1, fused=True, foreach=True),
            dict(lr=0.1, fused=True, differentiable=True)],
    "Adam": [dict(lr=-1.0), dict(eps=-1.0), dict(betas=(1.0, 0.9)), dict(betas=(0.9, -0.1)), dict(weight_decay=-1.0),
             dict(fused=True, foreach=True), dict(fused=True, differentiable=True), dict(betas=(0.9, "T")),
             dict(lr="T2")],
    "AdamW": [dict(lr=-1.0), dict(eps=-1.0), dict(betas=(1.0, 0.9)), dict(weight_decay=-1.0),
              dict(fused=True, foreach=True), dict(lr="T", foreach=True)],
    "Adadelta": [dict(lr=-1.0), dict(rho=1.5), dict(rho=-0.1), dict(eps=-1.0), dict(weight_decay=-1.0)],
    "Adagrad": [dict(lr=-1.0), dict(lr_decay=-1.0), dict(weight_decay=-1.0), dict(initial_accumulator_value=-1.0),
                dict(eps=-1.0), dict(fused=True, foreach=True), dict(fused=True, differentiable=True)],
    "Adamax": [dict(lr=-1.0), dict(eps=-1.0), dict(betas=(1.0, 0.9)), dict(betas=(0.9, 1.0)), dict(weight_decay=-1.0)],
    "ASGD": [dict(lr=-1.0), dict(weight_decay=-1.0)],
    "NAdam": [dict(lr=-1.0), dict(eps=-1.0), dict(betas=(1.0, 0.9)), dict(betas=(0.9, 1.0)), dict(weight_decay=-1.0),
              dict(momentum_decay=-1.0)],
    "RAdam": [dict(lr=-1.0), dict(eps=-1.0), dict(betas=(1.0, 0.9)), dict(betas=(0.9, 1.0)), dict(weight_decay=-1.0)],
    "RMSprop": [dict(lr=-1.0), dict(eps=-1.0), dict(momentum=-1.0), dict(weight_decay=-1.0), dict(alpha=-1.0)],
    "Rprop": [dict(lr=-1.0), dict(etas=(1.5, 1.2)), dict(etas=(0.5, 0.9)), dict(etas=(0.0, 1.2))],
    "Adafactor": [dict(lr=-1.0), dict(beta2_decay=0.5), dict(eps=(-1.0, 1e-3)), dict(eps=(None, -1.0)), dict(d=-1.0),
                  dict(weight_decay=-1.0), dict(foreach=True)],
    "SparseAdam": [dict(lr=-1.0), dict(eps=-1.0), dict(betas=(1.0, 0.9)), dict(betas=(0.9, 1.0))],
    "LBFGS": [dict(lr=-1.0), dict(line_search_fn="armijo")],
    "Muon": [dict(lr=-1.0), dict(weight_decay=-1.0), dict(momentum=-1.0), dict(adjust_lr_fn="x"), dict(ns_steps=200),
             dict(eps=-1.0)],
}


def invalid(name, kw):
    def fn(L):
        kwargs = {k: (L.tensor(0.1) if v == "T" else L.tensor([0.1, 0.2]) if v == "T2" else v) for k, v in kw.items()}
        if isinstance(kw.get("betas"), tuple) and "T" in kw["betas"]:
            kwargs["betas"] = (0.9, L.tensor(0.99))
        params = make_params(L, shapes=((3, 4),))
        opt = getattr(L.optim, name)(params, **kwargs)
        loss_of(L, params).backward()
        return opt.step(lambda: loss_of(L, params)) if name == "LBFGS" else opt.step()
    return fn


def bad_params(L):
    return [lambda: L.optim.SGD(L.ones(3, requires_grad=True)), lambda: L.optim.SGD([]),
            lambda: L.optim.SGD([1.0]), lambda: L.optim.SGD({L.ones(2, requires_grad=True)}),
            lambda: L.optim.SGD([L.ones(2, requires_grad=True) * 2]),
            lambda: L.optim.SGD([{"params": [L.ones(2, requires_grad=True)]}]),
            lambda: L.optim.SGD([{"params": L.ones(2, requires_grad=True)}], lr=0.1).param_groups[0]["params"],
            lambda: L.optim.SGD([{"lr": 0.1}]),
            lambda: L.optim.Adam([{"params": []}]).param_groups,
            lambda: L.optim.Adam(x for x in [L.ones(2, requires_grad=True)]).param_groups[0]["params"],
            lambda: L.optim.Adam([("w", L.ones(2, requires_grad=True))]).param_groups,
            lambda: L.optim.Adam([("w", L.ones(2, requires_grad=True)), ("b", L.zeros(1, requires_grad=True))])
            .state_dict(),
            lambda: L.optim.Adam([{"params": [("w", L.ones(2, requires_grad=True))], "lr": 0.5}]).state_dict(),
            lambda: L.optim.Adam([L.ones(2, requires_grad=True), ("b", L.zeros(1, requires_grad=True))]),
            lambda: L.optim.SGD([L.ones(2, dtype=L.int64)], lr=0.1).param_groups[0]["params"],
            lambda: L.optim.SGD([L.ones(2)], lr=0.1).state_dict(),
            ]


def fused_complex(L):
    params = make_params(L, "complex64")
    opt = L.optim.Adam(params, fused=True)
    loss_of(L, params).backward()
    opt.step()


def add_group_errors(L):
    a, b = L.ones(2, requires_grad=True), L.ones(3, requires_grad=True)
    opt = L.optim.SGD([a], lr=0.1)
    out = []
    for group in ([a], {"params": [a]}, {"params": a}, {"params": {b}}, {"params": [b], "momentum": -1},
                  {"params": [b, b]}, {"params": [L.ones(2) * 2]}, {"params": [b], "foo": 1}):
        try:
            opt.add_param_group(group)
            out.append(str(opt.state_dict()["param_groups"]))
        except Exception as error:  # noqa: BLE001
            out.append(f"{type(error).__name__}: {error}")
    return out


def duplicate_in_group(L):
    a = L.ones(2, requires_grad=True)
    opt = L.optim.SGD([a, a], lr=0.1)
    (a * a).sum().backward()
    opt.step()
    return a, opt.state_dict()


def mixed_groups(L, name, kwargs):
    params = make_params(L, shapes=((3, 4), (5,), (2, 3)))
    params[2] = L.tensor(params[2].detach().numpy().astype("float64"), requires_grad=True)
    opt = getattr(L.optim, name)([{"params": params[:1]}, {"params": params[1:2], "lr": 0.05},
                                  {"params": params[2:], "weight_decay": 0.1}], **kwargs)
    for _ in range(3):
        opt.zero_grad()
        loss_of(L, params[:2]).backward()
        (params[2] ** 3).sum().backward()
        opt.step()
    return params, opt.state_dict()


def grad_none(L, name, kwargs):
    params = make_params(L, shapes=((3, 4), (5,), (2,)))
    opt = getattr(L.optim, name)(params, **kwargs)
    for i in range(3):
        opt.zero_grad()
        loss_of(L, params[:1] if i == 0 else params[:2]).backward()
        opt.step()
    return params, opt.state_dict(), [p.grad for p in params]


def zero_grad(L, set_to_none):
    params = make_params(L)
    opt = L.optim.Adam(params)
    loss_of(L, params).backward()
    opt.step()
    grads = [p.grad for p in params]
    opt.zero_grad(set_to_none=set_to_none)
    return [p.grad for p in params], grads


def sparse(L, name, kwargs):
    emb = L.nn.Embedding(6, 3, sparse=True)
    with L.no_grad():
        emb.weight.copy_(L.tensor(numpy.arange(18, dtype="float32").reshape(6, 3) / 10))
    opt = getattr(L.optim, name)(emb.parameters(), **kwargs)
    for idx in ([0, 2, 2], [1, 2], [5, 0]):
        opt.zero_grad()
        emb(L.tensor(idx)).pow(2).sum().backward()
        opt.step()
    return emb.weight, opt.state_dict()


def sparse_adam_dense(L):
    p = L.ones(3, requires_grad=True)
    opt = L.optim.SparseAdam([p])
    (p * p).sum().backward()
    opt.step()


def round_trip(L, name, kwargs):
    params, state, _ = run(L, name, kwargs, steps=2)
    fresh = make_params(L, seed=1)
    opt = getattr(L.optim, name)(fresh, **kwargs)
    opt.load_state_dict(copy.deepcopy(state))
    for _ in range(2):
        opt.zero_grad()
        loss_of(L, fresh).backward()
        opt.step()
    return fresh, opt.state_dict(), opt.param_groups[0]["lr"]


def load_errors(L):
    params = make_params(L)
    opt = L.optim.Adam(params)
    state = opt.state_dict()
    out = []
    for change in (lambda s: s["param_groups"].append(dict(s["param_groups"][0])),
                   lambda s: s["param_groups"][0]["params"].pop(),
                   lambda s: s.pop("state"),
                   lambda s: s["param_groups"][0].pop("lr")):
        s = copy.deepcopy(state)
        change(s)
        try:
            L.optim.Adam(make_params(L)).load_state_dict(s)
            out.append(str(L.optim.Adam(make_params(L)).state_dict()["param_groups"]))
        except Exception as error:  # noqa: BLE001
            out.append(f"{type(error).__name__}: {error}")
    return out


def hooks(L):
    params = make_params(L)
    opt = L.optim.SGD(params, lr=0.1)
    log = []
    h1 = opt.register_step_pre_hook(lambda o, a, k: log.append(("pre", len(a), sorted(k))))
    opt.register_step_post_hook(lambda o, a, k: log.append(("post", len(a), sorted(k))))
    loss_of(L, params).backward()
    opt.step()
    h1.remove()
    opt.step(closure=None)
    opt.register_state_dict_pre_hook(lambda o: log.append("sd pre"))
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
    sd = opt.state_dict()
    opt.register_load_state_dict_pre_hook(lambda o, sd: log.append(("load pre", sorted(sd))))
    opt.register_load_state_dict_post_hook(lambda o: log.append("load post"))
    opt.load_state_dict(sd)
    return str(log), sorted(sd), params


def global_hooks(L):
    params = make_params(L)
    opt = L.optim.SGD(params, lr=0.1)
    log = []
    module = importlib.import_module(L.__name__ + ".optim.optimizer")
    h1 = module.register_optimizer_step_pre_hook(lambda o, a, k: log.append("gpre"))
    h2 = module.register_optimizer_step_post_hook(lambda o, a, k: log.append("gpost"))
    opt.register_step_pre_hook(lambda o, a, k: log.append("pre"))
    try:
        loss_of(L, params).backward()
        opt.step()
    finally:
        h1.remove()
        h2.remove()
    opt.step()
    return str(log)


def pre_hook_replaces(L):
    params = make_params(L)
    opt = L.optim.LBFGS(params)
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad()
        loss = loss_of(L, params)
        loss.backward()
        return loss
    opt.register_step_pre_hook(lambda o, a, k: ((o,), {"closure": closure}))
    loss = opt.step(None)
    return loss, len(calls), params


def reprs(L):
    params = make_params(L)
    return [repr(getattr(L.optim, n)(params if n not in ("Muon",) else params[:1])) for n in NAMES
            if n != "SparseAdam"]


def defaults(L):
    params = make_params(L)
    return [str(getattr(L.optim, n)(params if n != "Muon" else params[:1]).defaults) for n in NAMES]


def cross(src, dst, name, kwargs):
    """Steps a ``src`` optimizer twice, loads its state_dict into a ``dst`` one, steps both twice more."""
    libs = {"ember": ember, "torch": torch}
    params, state, _ = run(libs[src], name, kwargs, steps=2)
    converted = convert(state, libs[dst])
    fresh = [libs[dst].tensor(p.detach().numpy(), requires_grad=True) for p in params]
    opt = getattr(libs[dst].optim, name)(fresh, **kwargs)
    opt.load_state_dict(converted)
    for _ in range(2):
        opt.zero_grad()
        loss_of(libs[dst], fresh).backward()
        opt.step()
    return fresh, opt.state_dict()


def convert(value, L):
    if hasattr(value, "detach") and hasattr(value, "numpy"):
        return L.tensor(value.detach().numpy())
    if isinstance(value, dict):
        return {k: convert(v, L) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(convert(v, L) for v in value)
    return value


def custom(L):
    class Mine(L.optim.Optimizer):
        def __init__(self, params, lr=0.1, beta=0.5):
            super().__init__(params, dict(lr=lr, beta=beta))

        @L.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    st = self.state[p]
                    if not st:
                        st["count"] = L.tensor(0)
                        st["avg"] = L.zeros_like(p)
                        st["hist"] = [L.zeros(1, dtype=L.float64)]
                        st["n"] = 0
                    st["count"] += 1
                    st["n"] += 1
                    st["avg"].mul_(group["beta"]).add_(p.grad)
                    p.add_(st["avg"], alpha=-group["lr"])
    params = make_params(L)
    opt = Mine(params)
    for _ in range(2):
        opt.zero_grad()
        loss_of(L, params).backward()
        opt.step()
    sd = copy.deepcopy(opt.state_dict())
    p2 = [L.tensor(p.detach().numpy().astype("float64"), requires_grad=True) for p in params]
    opt2 = Mine(p2)
    opt2.load_state_dict(sd)
    return sd, opt2.state_dict(), repr(opt2)


def lbfgs_groups(L):
    p = make_params(L)
    return L.optim.LBFGS([{"params": p[:1]}, {"params": p[1:]}])


def lbfgs_roundtrip(L):
    params, sd, _ = run(L, "LBFGS", dict(history_size=3, max_iter=3), dtype="float64", closure=True, steps=2)
    p2 = make_params(L, "float64")
    opt = L.optim.LBFGS(p2, history_size=3, max_iter=3)
    opt.load_state_dict(copy.deepcopy(sd))
    def closure():
        opt.zero_grad()
        loss = loss_of(L, p2)
        loss.backward()
        return loss
    opt.step(closure)
    return p2, opt.state_dict()


def lbfgs_no_closure(L):
    p = make_params(L)
    L.optim.LBFGS(p).step()


def lbfgs_sparse(L):
    emb = L.nn.Embedding(4, 2, sparse=True)
    with L.no_grad():
        emb.weight.copy_(L.ones(4, 2))
    opt = L.optim.LBFGS(emb.parameters(), max_iter=3)
    def closure():
        opt.zero_grad()
        loss = emb(L.tensor([0, 1, 1])).pow(2).sum()
        loss.backward()
        return loss
    opt.step(closure)
    return emb.weight


def step_closure_loss(L):
    params = make_params(L)
    out = []
    for name in ("SGD", "Adam", "RMSprop", "Adagrad", "SparseAdam"):
        opt = getattr(L.optim, name)(params)
        def closure():
            return loss_of(L, params) * 0 + 3.0
        try:
            out.append(opt.step(closure))
        except Exception as error:  # noqa: BLE001 (the message is compared)
            out.append(str(error))
    return out


def state_keys_no_grad(L):
    params = make_params(L)
    opt = L.optim.Adam(params)
    opt.step()
    sd = opt.state_dict()
    return sd, len(opt.state)


def setstate_pickle(L):
    params = make_params(L)
    opt = L.optim.Adam(params, lr=0.1)
    loss_of(L, params).backward()
    opt.step()
    o2 = pickle.loads(pickle.dumps(opt))
    return o2.state_dict(), type(o2.state).__name__


def lr_tensor_state(L):
    params = make_params(L)
    opt = L.optim.SGD(params, lr=L.tensor(0.1))
    sd = opt.state_dict()
    opt2 = L.optim.SGD(make_params(L), lr=0.5)
    opt2.load_state_dict(sd)
    return sd, opt2.param_groups[0]["lr"]


def load_missing_keys(L):
    params = make_params(L)
    opt = L.optim.Adam(params)
    sd = opt.state_dict()
    del sd["param_groups"][0]["amsgrad"]
    opt2 = L.optim.Adam(make_params(L))
    opt2.load_state_dict(sd)
    loss_of(L, opt2.param_groups[0]["params"]).backward()
    opt2.step()
    return opt2.state_dict()


def param_groups_repr(L):
    params = make_params(L)
    opt = L.optim.SGD([{"params": params[:1], "lr": 0.2}, {"params": params[1:]}], lr=0.1, momentum=0.9)
    return repr(opt), str(opt.param_groups[0].keys())


def zero_grad_nonleaf_grad(L):
    params = make_params(L)
    opt = L.optim.SGD(params, lr=0.1)
    loss_of(L, params).backward(create_graph=True)
    g = params[0].grad
    opt.zero_grad(set_to_none=False)
    return params[0].grad, g.requires_grad, params[0].grad.requires_grad, params[0].grad.grad_fn is None


def int_lr(L):
    params = make_params(L)
    opt = L.optim.SGD(params, lr=1)
    loss_of(L, params).backward()
    opt.step()
    return params, opt.state_dict()


def retained_nonleaf(L):
    """A non-leaf that retains its grad may be optimized, as in PyTorch."""
    w = L.ones(3, requires_grad=True)
    h = w * 2
    h.retain_grad()
    opt = L.optim.SGD([h], lr=0.1, momentum=0.9)
    (h ** 2).sum().backward()
    opt.step()
    return h, opt.state_dict(), w.grad


def hook_attributes(L):
    """The hook dictionaries under PyTorch's attribute names (code outside the optimizer reads and clears them)."""
    opt = L.optim.SGD(make_params(L), lr=0.1)
    opt.register_step_pre_hook(lambda o, a, k: None)
    return sorted((k, len(v)) for k, v in vars(opt).items() if k.startswith("_optimizer_"))


def extra_state(L):
    """State saved under a key that names no parameter is kept by load_state_dict and given back by state_dict."""
    params = make_params(L)
    opt = L.optim.Adam(params)
    loss_of(L, params).backward()
    opt.step()
    saved = copy.deepcopy(opt.state_dict())
    saved["state"][7] = {"foo": L.ones(2)}
    loaded = L.optim.Adam(make_params(L))
    loaded.load_state_dict(saved)
    return loaded.state_dict()


CALLS = [add_group_errors, duplicate_in_group, load_errors, hooks, global_hooks, pre_hook_replaces, reprs, defaults,
         sparse_adam_dense, fused_complex, custom, lbfgs_groups, lbfgs_roundtrip, lbfgs_no_closure, lbfgs_sparse,
         step_closure_loss, state_keys_no_grad, setstate_pickle, lr_tensor_state, load_missing_keys, param_groups_repr,
         zero_grad_nonleaf_grad, int_lr, retained_nonleaf, hook_attributes, extra_state]
DENSE = [n for n in NAMES if n not in ("SparseAdam", "LBFGS", "Muon")]
SPARSE = [("SparseAdam", {}), ("SparseAdam", dict(maximize=True)), ("SGD", dict(lr=0.1)),
          ("SGD", dict(lr=0.1, momentum=0.9)), ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True)),
          ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3)), ("SGD", dict(lr=0.1, weight_decay=0.1)),
          ("Adagrad", {}), ("Adagrad", dict(lr_decay=0.1, maximize=True)), ("Adagrad", dict(weight_decay=0.1)),
          ("SGD", dict(lr=0.1, foreach=True)), ("SGD", dict(lr=0.1, fused=True)), ("Adagrad", dict(foreach=True)),
          ("Adagrad", dict(fused=True)),
          *((name, {}) for name in DENSE if name not in ("SGD", "Adagrad"))]


@pytest.mark.parametrize("name, kwargs", [(n, k) for n, ks in INVALID.items() for k in ks], ids=repr)
def test_invalid_options(name, kwargs):
    check(invalid(name, kwargs))


@pytest.mark.parametrize("index", range(len(bad_params(torch))))
def test_params_given(index):
    check(lambda L: bad_params(L)[index]())


@pytest.mark.parametrize("program", CALLS, ids=lambda f: f.__name__)
def test_api(program):
    check(program)


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    check(lambda L: zero_grad(L, set_to_none))


@pytest.mark.parametrize("name", DENSE)
def test_groups_and_missing_grads(name):
    check(lambda L: mixed_groups(L, name, {}))
    check(lambda L: grad_none(L, name, {}))
    check(lambda L: round_trip(L, name, {}))


@pytest.mark.parametrize("name, kwargs", SPARSE, ids=repr)
def test_sparse_gradients(name, kwargs):
    check(lambda L: sparse(L, name, kwargs), warns=False)   # torch warns that its sparse invariant checks are off


@pytest.mark.parametrize("direction", [("ember", "torch"), ("torch", "ember")], ids="->".join)
@pytest.mark.parametrize("name, kwargs", [*((n, {}) for n in DENSE), ("SGD", dict(lr=0.1, momentum=0.9)),
                                          ("Adam", dict(amsgrad=True)), ("RMSprop", dict(centered=True, momentum=0.5)),
                                          ("NAdam", dict(decoupled_weight_decay=True, weight_decay=0.1))], ids=repr)
def test_state_dict_across_libraries(name, kwargs, direction):
    src, dst = direction
    want, _ = seen(torch, lambda L: cross("torch", "torch", name, kwargs))
    got, _ = seen(ember if dst == "ember" else torch, lambda L: cross(src, dst, name, kwargs))
    found = differences(got, want)
    assert not found, "\n".join(found)
