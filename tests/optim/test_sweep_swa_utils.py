"""swa_utils against torch 2.13: AveragedModel with every averaging function (SWA, EMA, their multi-tensor forms, a
custom one), with and without buffers, update_bn, SWALR's schedules and errors."""
import copy

import numpy
import pytest

from tests.optim.sweep import check


def model(L, seed=0):
    rng = numpy.random.default_rng(seed)
    net = L.nn.Sequential(L.nn.Linear(3, 4), L.nn.BatchNorm1d(4), L.nn.ReLU(), L.nn.Linear(4, 2))
    with L.no_grad():
        for p in net.parameters():
            p.copy_(L.tensor(rng.uniform(-1, 1, tuple(p.shape)).astype("float32")))
    return net


def batches(L, n=4):
    rng = numpy.random.default_rng(3)
    return [L.tensor(rng.normal(size=(5, 3)).astype("float32")) for _ in range(n)]


AVERAGERS = ["swa", "ema", "ema_multi", "swa_multi", "custom", "custom_multi"]


def averager(L, kind):
    swa = L.optim.swa_utils
    if kind == "ema":
        return dict(avg_fn=swa.get_ema_avg_fn(0.9))
    if kind == "ema_multi":
        return dict(multi_avg_fn=swa.get_ema_multi_avg_fn(0.8))
    if kind == "swa_multi":
        return dict(multi_avg_fn=swa.get_swa_multi_avg_fn())
    if kind == "custom":
        return dict(avg_fn=lambda avg, new, n: avg * 0.5 + new * 0.5)
    if kind == "custom_multi":
        def multi(avgs, news, n):
            for a, b in zip(avgs, news):
                a.mul_(0.3).add_(b, alpha=0.7)
        return dict(multi_avg_fn=multi)
    return {}


def averaged(L, kind, use_buffers):
    net = model(L)
    avg = L.optim.swa_utils.AveragedModel(net, use_buffers=use_buffers, **averager(L, kind))
    opt = L.optim.SGD(net.parameters(), lr=0.1)
    for x in batches(L):
        opt.zero_grad()
        net(x).pow(2).sum().backward()
        opt.step()
        avg.update_parameters(net)
    state = avg.state_dict()
    with L.no_grad():
        out = avg(batches(L, 1)[0])
    return state, out, avg.n_averaged, sorted(dict(avg.named_buffers()))


def bn_update(L, shape):
    net = model(L)
    avg = L.optim.swa_utils.AveragedModel(net)
    avg.update_parameters(net)
    data = batches(L)
    loader = {"tensor": data, "list": [[x, 0] for x in data], "tuple": [(x,) for x in data]}[shape]
    L.optim.swa_utils.update_bn(loader, avg)
    return avg.state_dict(), avg.training


def swalr(L, kw, steps=12):
    params = [L.ones(2, requires_grad=True), L.ones(1, requires_grad=True)]
    opt = L.optim.SGD([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.5}], lr=1.0)
    sched = L.optim.swa_utils.SWALR(opt, **kw)
    out = [sched.get_last_lr()]
    for _ in range(steps):
        opt.step()
        sched.step()
        out.append([g["lr"] for g in opt.param_groups])
    return out, sched.state_dict()


SWALR_CASES = [dict(swa_lr=0.05), dict(swa_lr=0.05, anneal_epochs=3), dict(swa_lr=[0.05, 0.1], anneal_epochs=4,
               anneal_strategy="linear"), dict(swa_lr=0.2, anneal_epochs=1), dict(swa_lr=0.2, anneal_epochs=0),
               dict(swa_lr=0.05, last_epoch=-1, anneal_epochs=5, anneal_strategy="cos")]
SWALR_INVALID = [dict(swa_lr=0.05, anneal_strategy="x"), dict(swa_lr=0.05, anneal_epochs=-1),
                 dict(swa_lr=0.05, anneal_epochs=2.5), dict(swa_lr=[0.1])]


def swalr_resume(L):
    params = [L.ones(2, requires_grad=True)]
    opt = L.optim.SGD(params, lr=1.0)
    sched = L.optim.swa_utils.SWALR(opt, swa_lr=0.1, anneal_epochs=6)
    for _ in range(3):
        opt.step()
        sched.step()
    saved = copy.deepcopy(sched.state_dict())
    opt2 = L.optim.SGD([L.ones(2, requires_grad=True)], lr=1.0)
    opt2.load_state_dict(opt.state_dict())
    sched2 = L.optim.swa_utils.SWALR(opt2, swa_lr=0.1, anneal_epochs=6)
    sched2.load_state_dict(saved)
    out = []
    for _ in range(5):
        opt2.step()
        sched2.step()
        out.append(sched2.get_last_lr())
    return out


def avg_fns(L):
    swa = L.optim.swa_utils
    a, b = L.tensor([1.0, 2.0]), L.tensor([3.0, 5.0])
    out = [swa.get_ema_avg_fn(0.7)(a, b, L.tensor(3)), swa.get_swa_avg_fn()(a, b, L.tensor(3)),
           swa.get_swa_avg_fn()(a, b, 1)]
    x, y = [a.clone(), b.clone()], [b.clone(), a.clone()]
    swa.get_ema_multi_avg_fn(0.6)(x, y, L.tensor(2))
    u, v = [a.clone(), b.clone()], [b.clone(), a.clone()]
    swa.get_swa_multi_avg_fn()(u, v, L.tensor(2))
    return out, x, u


def device_arg(L):
    return L.optim.swa_utils.AveragedModel(model(L), device="cpu").module[0].weight.device.type


@pytest.mark.parametrize("use_buffers", [False, True])
@pytest.mark.parametrize("kind", AVERAGERS)
def test_averaged_model(kind, use_buffers):
    check(lambda L: averaged(L, kind, use_buffers))


@pytest.mark.parametrize("shape", ["tensor", "list", "tuple"])
def test_update_bn(shape):
    check(lambda L: bn_update(L, shape))


@pytest.mark.parametrize("kwargs", SWALR_CASES + SWALR_INVALID, ids=repr)
def test_swalr(kwargs):
    check(lambda L: swalr(L, kwargs))


@pytest.mark.parametrize("program", [swalr_resume, avg_fns, device_arg], ids=lambda f: f.__name__)
def test_api(program):
    check(program)
