"""Learning-rate schedulers against torch 2.13: every scheduler of torch.optim.lr_scheduler (CyclicLR and OneCycleLR
with momentum and beta1 cycling, three_phase, SequentialLR, ChainedScheduler, ReduceLROnPlateau in all modes, an
LRScheduler subclass) over its options: get_last_lr and the groups' lr/momentum over 14 steps, state_dicts, resuming
from a state_dict and from last_epoch, the deprecated epoch argument, the warnings and the constructor errors."""
import copy
import math

import pytest

from tests.optim.sweep import check
from tests.optim.sweep_cases import make_params


def optimizer(L, name="SGD", groups=2, **kwargs):
    params = make_params(L, shapes=((2,), (3,), (1,))[:groups])
    kwargs = {"SGD": dict(lr=0.1, momentum=0.9), "Adam": dict(lr=0.1)}.get(name, {}) | kwargs
    return getattr(L.optim, name)([{"params": [p]} for p in params], **kwargs)


def schedulers(L, opt, name, kw):
    S = L.optim.lr_scheduler
    kw = dict(kw)
    if name == "SequentialLR":
        return S.SequentialLR(opt, [S.ConstantLR(opt, factor=0.5, total_iters=2), S.ExponentialLR(opt, gamma=0.9),
                                    S.StepLR(opt, 2)][:kw.pop("n", 2)], **kw)
    if name == "ChainedScheduler":
        return S.ChainedScheduler([S.ConstantLR(opt, factor=0.5, total_iters=3), S.ExponentialLR(opt, gamma=0.9)],
                                  **({"optimizer": opt} if kw.pop("opt", False) else {}))
    if "lr_lambda" in kw:
        kw["lr_lambda"] = {"exp": lambda e: 0.9 ** e, "lin": lambda e: 1 + e, "two": [lambda e: 0.5 ** e,
                           lambda e: 1 / (e + 1)]}[kw["lr_lambda"]]
    if kw.get("scale_fn") == "half":
        kw["scale_fn"] = lambda x: 0.5 ** x
    return getattr(S, name)(opt, **kw)


CASES = [
    ("StepLR", dict(step_size=3)), ("StepLR", dict(step_size=2, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[2, 5, 5, 8])), ("MultiStepLR", dict(milestones=[3, 1], gamma=0.5)),
    ("ConstantLR", dict()), ("ConstantLR", dict(factor=0.5, total_iters=3)),
    ("LinearLR", dict()), ("LinearLR", dict(start_factor=1.0, end_factor=0.1, total_iters=7)),
    ("ExponentialLR", dict(gamma=0.8)),
    ("PolynomialLR", dict()), ("PolynomialLR", dict(total_iters=8, power=2.0)),
    ("CosineAnnealingLR", dict(T_max=5)), ("CosineAnnealingLR", dict(T_max=4, eta_min=0.01)),
    ("CosineAnnealingWarmRestarts", dict(T_0=3)), ("CosineAnnealingWarmRestarts", dict(T_0=2, T_mult=2, eta_min=0.01)),
    ("LambdaLR", dict(lr_lambda="exp")), ("LambdaLR", dict(lr_lambda="two")),
    ("MultiplicativeLR", dict(lr_lambda="exp")), ("MultiplicativeLR", dict(lr_lambda="two")),
    ("SequentialLR", dict(milestones=[3])), ("SequentialLR", dict(milestones=[2, 5], n=3)),
    ("SequentialLR", dict(milestones=[0])),
    ("ChainedScheduler", dict()), ("ChainedScheduler", dict(opt=True)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=3)),
    ("CyclicLR", dict(base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=2, step_size_down=4, mode="triangular2")),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=2, mode="exp_range", gamma=0.9)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=2, scale_fn="half", scale_mode="iterations")),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=2, cycle_momentum=False)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=2, base_momentum=0.5, max_momentum=0.7)),
    ("OneCycleLR", dict(max_lr=0.1, total_steps=12)),
    ("OneCycleLR", dict(max_lr=[0.1, 0.2], epochs=3, steps_per_epoch=4, anneal_strategy="linear")),
    ("OneCycleLR", dict(max_lr=0.1, total_steps=12, three_phase=True)),
    ("OneCycleLR", dict(max_lr=0.1, total_steps=12, cycle_momentum=False, pct_start=0.5, div_factor=10,
                        final_div_factor=100)),
]
ADAM = [("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=2)), ("OneCycleLR", dict(max_lr=0.1, total_steps=12)),
        ("OneCycleLR", dict(max_lr=0.1, total_steps=12, three_phase=True))]

INVALID = [
    ("StepLR", dict(step_size=0)), ("MultiStepLR", dict(milestones=[2, "a"])), ("ConstantLR", dict(factor=2.0)),
    ("LinearLR", dict(start_factor=0.0)), ("LinearLR", dict(end_factor=1.5)), ("LinearLR", dict(start_factor=2.0)),
    ("CosineAnnealingWarmRestarts", dict(T_0=0)), ("CosineAnnealingWarmRestarts", dict(T_0=2, T_mult=0)),
    ("CosineAnnealingWarmRestarts", dict(T_0=2.5)), ("CosineAnnealingWarmRestarts", dict(T_0=2, eta_min="x")),
    ("LambdaLR", dict(lr_lambda="two", last_epoch=-1)), ("ExponentialLR", dict(gamma=0.9, last_epoch=3)),
    ("CyclicLR", dict(base_lr=[0.1], max_lr=0.2)), ("CyclicLR", dict(base_lr=0.1, max_lr=0.2, mode="x")),
    ("OneCycleLR", dict(max_lr=0.1)), ("OneCycleLR", dict(max_lr=0.1, total_steps=0)),
    ("OneCycleLR", dict(max_lr=0.1, epochs=0, steps_per_epoch=2)),
    ("OneCycleLR", dict(max_lr=0.1, epochs=2, steps_per_epoch=-1)),
    ("OneCycleLR", dict(max_lr=0.1, total_steps=10, pct_start=1.5)),
    ("OneCycleLR", dict(max_lr=0.1, total_steps=10, anneal_strategy="x")),
    ("OneCycleLR", dict(max_lr=[0.1, 0.2, 0.3], total_steps=10)),
    ("SequentialLR", dict(milestones=[3, 4])), ("ReduceLROnPlateau", dict(factor=1.0)),
    ("ReduceLROnPlateau", dict(mode="x")), ("ReduceLROnPlateau", dict(threshold_mode="x")),
    ("ReduceLROnPlateau", dict(min_lr=[0.1])), ("PolynomialLR", dict(total_iters=3, last_epoch=2)),
]


def lrs(opt):
    out = [g["lr"] for g in opt.param_groups]
    for g in opt.param_groups:
        if "momentum" in g:
            out.append(g["momentum"])
        if "betas" in g:
            out.append(g["betas"])
    return out


def sweep(L, name, kw, steps=14, optname="SGD"):
    opt = optimizer(L, optname)
    sched = schedulers(L, opt, name, kw)
    seq = [sched.get_last_lr(), lrs(opt)]
    for _ in range(steps):
        opt.step()
        sched.step()
        seq.append((sched.get_last_lr(), lrs(opt), sched.last_epoch))
    return seq, _state(sched)


def _state(sched):
    return sched.state_dict()


def resume(L, name, kw):
    """Steps 5 times, saves the state_dict, builds a new scheduler on a fresh optimizer, loads it, steps 5 more."""
    opt = optimizer(L)
    sched = schedulers(L, opt, name, kw)
    for _ in range(5):
        opt.step()
        sched.step()
    saved = copy.deepcopy(sched.state_dict())
    opt2 = optimizer(L)
    opt2.load_state_dict(opt.state_dict())
    sched2 = schedulers(L, opt2, name, kw)
    sched2.load_state_dict(saved)
    out = []
    for _ in range(5):
        opt2.step()
        sched2.step()
        out.append((sched2.get_last_lr(), lrs(opt2)))
    return out


def last_epoch(L, name, kw):
    """A scheduler constructed with last_epoch=4 on an optimizer whose groups carry initial_lr."""
    opt = optimizer(L)
    for g in opt.param_groups:
        g["initial_lr"] = g["lr"]
        g["lr"] = g["lr"] * 0.5
    sched = schedulers(L, opt, name, dict(kw, last_epoch=4))
    out = [sched.get_last_lr(), lrs(opt)]
    for _ in range(4):
        opt.step()
        sched.step()
        out.append(sched.get_last_lr())
    return out


def invalid(L, name, kw):
    opt = optimizer(L)
    if name == "SequentialLR":
        S = L.optim.lr_scheduler
        return S.SequentialLR(opt, [S.StepLR(opt, 2), S.StepLR(opt, 3)], **kw)
    kw = dict(kw)
    if "lr_lambda" in kw:
        kw["lr_lambda"] = [lambda e: 1.0] * 3
    return schedulers(L, opt, name, kw).get_last_lr()


def plateau_resume(L, kw):
    opt = optimizer(L)
    sched = L.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
    for m in METRICS[:6]:
        sched.step(m)
    opt2 = optimizer(L)
    opt2.load_state_dict(opt.state_dict())
    sched2 = L.optim.lr_scheduler.ReduceLROnPlateau(opt2, **kw)
    sched2.load_state_dict(copy.deepcopy(sched.state_dict()))
    out = []
    for m in METRICS[6:]:
        sched2.step(m)
        out.append((sched2.get_last_lr(), sched2.num_bad_epochs, sched2.best))
    sched2.step(1.0, epoch=30)
    return out, sched2.last_epoch


def plateau(L, kw, metrics):
    opt = optimizer(L)
    sched = L.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
    out = []
    for m in metrics:
        opt.step()
        sched.step(m)
        out.append((sched.get_last_lr(), lrs(opt), sched.num_bad_epochs, sched.cooldown_counter, sched.best))
    return out, {k: v for k, v in sched.state_dict().items()}


PLATEAU = [dict(), dict(patience=1), dict(mode="max", patience=1), dict(patience=0, factor=0.5, cooldown=2),
           dict(patience=1, threshold=0.1, threshold_mode="abs"), dict(mode="max", patience=0, threshold_mode="abs"),
           dict(patience=0, min_lr=[0.05, 0.02]), dict(patience=0, min_lr=0.04, eps=0.02)]
METRICS = [1.0, 0.99, 0.98, 1.2, 0.5, 0.5, 0.5, 0.49, 0.6, 0.7, 0.3, 0.3, 0.3, 0.3, math.inf, 0.1]


def warnings_order(L):
    """Scheduler.step before optimizer.step warns; an epoch argument is deprecated; get_lr outside step warns."""
    opt = optimizer(L)
    sched = L.optim.lr_scheduler.StepLR(opt, 2)
    sched.step()
    opt.step()
    sched.step(3)
    sched.get_lr()
    return sched.get_last_lr(), sched.last_epoch


def epoch_arg(L, name, kw):
    opt = optimizer(L)
    sched = schedulers(L, opt, name, kw)
    out = []
    for e in (1, 2, 5, 3, 7):
        opt.step()
        sched.step(e)
        out.append(sched.get_last_lr())
    return out


def subclass(L):
    class Halving(L.optim.lr_scheduler.LRScheduler):
        def get_lr(self):
            return [g["lr"] * (0.5 if self.last_epoch % 2 else 1.0) for g in self.optimizer.param_groups]

    opt = optimizer(L)
    sched = Halving(opt)
    out = []
    for _ in range(5):
        opt.step()
        sched.step()
        out.append(sched.get_last_lr())
    return out, sorted(sched.state_dict())


def tensor_lr(L):
    opt = L.optim.Adam(make_params(L), lr=L.tensor(0.1))
    sched = L.optim.lr_scheduler.StepLR(opt, 1, gamma=0.5)
    for _ in range(3):
        opt.step()
        sched.step()
    return sched.get_last_lr(), opt.param_groups[0]["lr"]


def overridden_step(L):
    opt = optimizer(L)
    sched = L.optim.lr_scheduler.StepLR(opt, 2)
    opt.step = lambda: None
    sched.step()
    return sched.get_last_lr()


def seq_errors(L):
    S = L.optim.lr_scheduler
    out = []
    o1, o2 = optimizer(L), optimizer(L)
    for make in (lambda: S.SequentialLR(o1, [S.StepLR(o1, 2), S.StepLR(o2, 2)], milestones=[2]),
                 lambda: S.SequentialLR(o1, [], milestones=[]),
                 lambda: S.SequentialLR(o1, [S.StepLR(o1, 2)], milestones=[]),
                 lambda: S.SequentialLR(o1, [S.StepLR(o1, 2), S.ReduceLROnPlateau(o1)], milestones=[2]),
                 lambda: S.SequentialLR(o1, [S.StepLR(o1, 2), 5], milestones=[2]),
                 lambda: S.ChainedScheduler([S.StepLR(o1, 2), S.StepLR(o2, 2)]),
                 lambda: S.ChainedScheduler([]),
                 lambda: S.ChainedScheduler([S.StepLR(o1, 2)], optimizer=o2),
                 lambda: S.StepLR("x", 2),
                 lambda: S.ReduceLROnPlateau("x"),
                 lambda: S.ChainedScheduler([S.StepLR(o1, 2), S.ReduceLROnPlateau(o1)]),
                 ):
        try:
            s = make()
            out.append(("ok", type(s).__name__, s.get_last_lr()))
        except Exception as error:  # noqa: BLE001 (the type and message are compared)
            out.append((type(error).__name__, str(error)))
    return str(out)


class Factor:
    def __init__(self, f):
        self.f = f

    def __call__(self, e):
        return self.f ** e


def lambda_state(L):
    opt = optimizer(L)
    s = L.optim.lr_scheduler.LambdaLR(opt, [Factor(0.5), lambda e: 1.0])
    for _ in range(3):
        opt.step()
        s.step()
    sd = s.state_dict()
    s2 = L.optim.lr_scheduler.LambdaLR(optimizer(L), [Factor(0.9), lambda e: 2.0])
    s2.load_state_dict(copy.deepcopy(sd))
    return sd, s2.lr_lambdas[0].f


def chained_with_plateau(L):
    opt = optimizer(L)
    S = L.optim.lr_scheduler
    s = S.ChainedScheduler([S.ExponentialLR(opt, 0.9), S.ReduceLROnPlateau(opt, patience=0)])
    out = []
    for _ in range(3):
        opt.step()
        try:
            s.step()
        except Exception as error:  # noqa: BLE001 (the message is compared)
            out.append(str(error))
        out.append(lrs(opt))
    return str(out)


def get_last_lr_types(L):
    opt = optimizer(L)
    s = L.optim.lr_scheduler.StepLR(opt, 2)
    return str([type(x).__name__ for x in s.get_last_lr()]), str(s.state_dict())


def sequential_state(L):
    opt = optimizer(L)
    S = L.optim.lr_scheduler
    s = S.SequentialLR(opt, [S.LinearLR(opt, 0.1, total_iters=3), S.CosineAnnealingLR(opt, 5)], milestones=[3])
    for _ in range(4):
        opt.step()
        s.step()
    return s.state_dict(), s.last_epoch, s.get_last_lr(), s._last_lr


def plateau_get_last_lr_before(L):
    opt = optimizer(L)
    s = L.optim.lr_scheduler.ReduceLROnPlateau(opt)
    return s.get_last_lr(), s.last_epoch, str(sorted(s.state_dict()))


def cyclic_no_momentum_opt(L):
    opt = L.optim.Adagrad(optimizer(L).param_groups[0]["params"])
    return L.optim.lr_scheduler.CyclicLR(opt, 0.01, 0.1)


def onecycle_overstep(L):
    opt = optimizer(L)
    s = L.optim.lr_scheduler.OneCycleLR(opt, 0.1, total_steps=3)
    for _ in range(4):
        opt.step()
        s.step()


def warm_restarts_fractional(L):
    opt = optimizer(L)
    s = L.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2)
    out = []
    for e in (0.5, 1.5, 2.25, 7.0, 6.5):
        opt.step()
        s.step(e)
        out.append((s.get_last_lr(), s.T_cur, s.T_i, s.last_epoch))
    try:
        s.step(-1)
    except Exception as error:  # noqa: BLE001 (the message is compared)
        out.append(str(error))
    return str(out)


def scheduler_repr_keys(L):
    opt = optimizer(L)
    S = L.optim.lr_scheduler
    out = []
    for s in (S.StepLR(opt, 2), S.MultiStepLR(opt, [1, 3]), S.CyclicLR(opt, 0.01, 0.1), S.OneCycleLR(opt, 0.1, 10),
              S.ReduceLROnPlateau(opt), S.CosineAnnealingWarmRestarts(opt, 3), S.PolynomialLR(opt)):
        out.append(sorted(s.state_dict()))
    return str(out)



def nested_sequential(L):
    opt = optimizer(L)
    S = L.optim.lr_scheduler
    inner = S.SequentialLR(opt, [S.ConstantLR(opt, 0.5, total_iters=2), S.ExponentialLR(opt, 0.8)], milestones=[2])
    outer = S.SequentialLR(opt, [inner, S.StepLR(opt, 2)], milestones=[4])
    out = [outer.get_last_lr()]
    for _ in range(8):
        opt.step()
        outer.step()
        out.append(lrs(opt))
    return out


TENSOR_LR = [("StepLR", dict(step_size=1)), ("ExponentialLR", dict(gamma=0.5)), ("CosineAnnealingLR", dict(T_max=3)),
             ("LinearLR", {}), ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=2, cycle_momentum=False)),
             ("OneCycleLR", dict(max_lr=0.1, total_steps=10, cycle_momentum=False)),
             ("ReduceLROnPlateau", dict(patience=0)), ("PolynomialLR", {}), ("LambdaLR", dict(lr_lambda="exp")),
             ("MultiplicativeLR", dict(lr_lambda="exp")), ("CosineAnnealingWarmRestarts", dict(T_0=2)),
             ("SequentialLR", dict(milestones=[2])), ("ChainedScheduler", {})]


def tensor_lr_schedule(L, name, kwargs):
    """A Tensor lr stays the optimizer's same tensor, filled in place; get_last_lr gives copies."""
    opt = L.optim.Adam(make_params(L), lr=L.tensor(0.1))
    lr = opt.param_groups[0]["lr"]
    sched = L.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs) if name == "ReduceLROnPlateau" else \
        schedulers(L, opt, name, kwargs)
    out = []
    for _ in range(4):
        opt.step()
        sched.step(1.0) if name == "ReduceLROnPlateau" else sched.step()
        out.append((sched.get_last_lr(), float(opt.param_groups[0]["lr"]), opt.param_groups[0]["lr"] is lr))
    return out


def _ids(case):
    return repr(case)


CHAINS = ("SequentialLR", "ChainedScheduler")


@pytest.mark.parametrize("name, kwargs", CASES, ids=_ids)
def test_schedule(name, kwargs):
    check(lambda L: sweep(L, name, kwargs))
    check(lambda L: resume(L, name, kwargs))
    if name not in CHAINS:
        check(lambda L: last_epoch(L, name, kwargs))
        check(lambda L: epoch_arg(L, name, kwargs))


@pytest.mark.parametrize("name, kwargs", ADAM, ids=_ids)
def test_beta1_cycling(name, kwargs):
    check(lambda L: sweep(L, name, kwargs, optname="Adam"))


@pytest.mark.parametrize("name, kwargs", INVALID, ids=_ids)
def test_invalid(name, kwargs):
    check(lambda L: invalid(L, name, kwargs))


@pytest.mark.parametrize("name, kwargs", TENSOR_LR, ids=_ids)
def test_tensor_lr(name, kwargs):
    check(lambda L: tensor_lr_schedule(L, name, kwargs))


@pytest.mark.parametrize("kwargs", PLATEAU, ids=_ids)
def test_plateau(kwargs):
    check(lambda L: plateau(L, kwargs, METRICS))
    check(lambda L: plateau_resume(L, kwargs))


@pytest.mark.parametrize("program", [warnings_order, subclass, tensor_lr, overridden_step, seq_errors, lambda_state,
                                     chained_with_plateau, get_last_lr_types, sequential_state,
                                     plateau_get_last_lr_before, cyclic_no_momentum_opt, onecycle_overstep,
                                     warm_restarts_fractional, scheduler_repr_keys, nested_sequential],
                         ids=lambda f: f.__name__)
def test_api(program):
    check(program)
