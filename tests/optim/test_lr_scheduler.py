"""Schedulers stepped side by side with torch.optim.lr_scheduler: the learning rates must agree at every step."""
import math
import os
import warnings

import pytest
import torch

import ember

CASES = [
    ("StepLR", dict(step_size=3, gamma=0.5), "SGD"),
    ("MultiStepLR", dict(milestones=[2, 5, 5, 9], gamma=0.3), "SGD"),
    ("ExponentialLR", dict(gamma=0.9), "SGD"),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.001), "SGD"),
    ("CosineAnnealingWarmRestarts", dict(T_0=4, T_mult=2, eta_min=0.01), "SGD"),
    ("LinearLR", dict(start_factor=0.25, end_factor=0.9, total_iters=6), "SGD"),
    ("ConstantLR", dict(factor=0.5, total_iters=4), "SGD"),
    ("PolynomialLR", dict(total_iters=8, power=2.0), "SGD"),
    ("LambdaLR", dict(lr_lambda=lambda epoch: 0.95 ** epoch), "SGD"),
    ("MultiplicativeLR", dict(lr_lambda=lambda epoch: 0.9), "SGD"),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=30), "SGD"),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=30, anneal_strategy="linear", three_phase=True), "Adam"),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=4), "SGD"),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=3, step_size_down=5, mode="triangular2"), "SGD"),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=3, mode="exp_range", gamma=0.9), "SGD"),
]


def _optimizers(kind):
    options = dict(lr=0.1, momentum=0.9) if kind == "SGD" else dict(lr=0.1)
    e = getattr(ember.optim, kind)([ember.nn.Parameter(ember.ones(2))], **options)
    t = getattr(torch.optim, kind)([torch.nn.Parameter(torch.ones(2))], **options)
    return e, t


def _group_values(optimizer):
    group = optimizer.param_groups[0]
    return group["lr"], group.get("momentum"), group.get("betas")


@pytest.mark.parametrize("name,options,kind", CASES, ids=[c[0] + str(i) for i, c in enumerate(CASES)])
def test_learning_rates_match_torch(name, options, kind):
    e_opt, t_opt = _optimizers(kind)
    e_sched = getattr(ember.optim.lr_scheduler, name)(e_opt, **options)
    t_sched = getattr(torch.optim.lr_scheduler, name)(t_opt, **options)
    for _ in range(29):
        for ours, theirs in zip(_group_values(e_opt), _group_values(t_opt)):
            if isinstance(theirs, tuple):
                assert all(math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) for a, b in zip(ours, theirs))
            elif theirs is not None:
                assert math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-12)
        assert e_sched.get_last_lr() == pytest.approx(t_sched.get_last_lr(), rel=1e-9, abs=1e-12)
        e_opt.step()
        t_opt.step()
        e_sched.step()
        t_sched.step()


RECURRENCES = [case for case in CASES if case[0] not in ("OneCycleLR", "CyclicLR", "CosineAnnealingWarmRestarts")]


@pytest.mark.parametrize("name,options,kind", RECURRENCES, ids=[c[0] for c in RECURRENCES])
def test_get_lr_driven_from_outside_and_resumed_match_torch(name, options, kind):
    """Only the constructor's own step is the initial one (PyTorch's _is_initial), not every step at epoch 0:
    pytorch-ignite's LRScheduler calls get_lr() itself, then advances last_epoch; a scheduler made with last_epoch
    given leaves the groups' lr as they are."""
    lrs = []
    for lib, (e_opt, t_opt) in ((ember, _optimizers(kind)), (torch, _optimizers(kind))):
        opt = e_opt if lib is ember else t_opt
        scheduler = getattr(lib.optim.lr_scheduler, name)(opt, **options)
        values = []
        for _ in range(9):
            scheduler._get_lr_called_within_step = True
            lr = scheduler.get_lr()[0]
            scheduler._get_lr_called_within_step = False
            opt.param_groups[0]["lr"] = lr
            scheduler.last_epoch += 1
            values.append(lr)
        opt.param_groups[0]["lr"] = 0.05
        resumed = getattr(lib.optim.lr_scheduler, name)(opt, last_epoch=4, **options)
        for _ in range(6):
            values.append(resumed.get_last_lr()[0])
            opt.step()
            resumed.step()
        lrs.append(values)
    assert lrs[0] == pytest.approx(lrs[1], rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("name,options,kind", CASES, ids=[c[0] + str(i) for i, c in enumerate(CASES)])
def test_get_lr_outside_step_warns_as_torch(name, options, kind):
    warned = []
    for lib, opt in zip((ember, torch), _optimizers(kind)):
        scheduler = getattr(lib.optim.lr_scheduler, name)(opt, **options)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            scheduler.get_lr()
            opt.step()
            scheduler.step()
        warned.append([(w.category, str(w.message), os.path.basename(w.filename)) for w in caught])
    assert warned[0] == warned[1] and warned[0][0][1].startswith("To get the last learning rate")


def test_sequential_and_chained_match_torch():
    for build in (
        lambda lib, opt: lib.optim.lr_scheduler.SequentialLR(
            opt, [lib.optim.lr_scheduler.LinearLR(opt, 0.1, total_iters=3),
                  lib.optim.lr_scheduler.ExponentialLR(opt, 0.8)], milestones=[3]),
        lambda lib, opt: lib.optim.lr_scheduler.ChainedScheduler(
            [lib.optim.lr_scheduler.ConstantLR(opt, 0.5, total_iters=4),
             lib.optim.lr_scheduler.ExponentialLR(opt, 0.9)]),
    ):
        e_opt, t_opt = _optimizers("SGD")
        e_sched, t_sched = build(ember, e_opt), build(torch, t_opt)
        for _ in range(12):
            assert e_opt.param_groups[0]["lr"] == pytest.approx(t_opt.param_groups[0]["lr"], rel=1e-9)
            e_opt.step()
            t_opt.step()
            e_sched.step()
            t_sched.step()


def test_reduce_on_plateau_matches_torch():
    e_opt, t_opt = _optimizers("SGD")
    e_sched = ember.optim.lr_scheduler.ReduceLROnPlateau(e_opt, patience=2, factor=0.5, cooldown=1, min_lr=0.01)
    t_sched = torch.optim.lr_scheduler.ReduceLROnPlateau(t_opt, patience=2, factor=0.5, cooldown=1, min_lr=0.01)
    losses = [1.0, 0.9, 0.95, 0.96, 0.97, 0.98, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3]
    for loss in losses:
        e_sched.step(loss)
        t_sched.step(loss)
        assert e_opt.param_groups[0]["lr"] == pytest.approx(t_opt.param_groups[0]["lr"], rel=1e-12)
    assert list(e_sched.state_dict()) == list(t_sched.state_dict())   # the same keys, in the same order


def test_reduce_on_plateau_reduces_through_its_reduce_lr_as_torch():
    """pytorch-ignite's ReduceLROnPlateauScheduler replaces _reduce_lr to reduce one param group; a group added
    later takes the default min_lr, or PyTorch's RuntimeError when min_lr was a list; an epoch given warns."""
    results = []
    for lib in (ember, torch):
        params = [lib.nn.Parameter(lib.ones(1)) for _ in range(3)]
        opt = lib.optim.SGD([{"params": params[:1]}, {"params": params[1:2]}], lr=1.0)
        scheduler = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5)
        original = scheduler._reduce_lr
        scheduler._reduce_lr = lambda epoch: opt.param_groups[0].update(lr=opt.param_groups[0]["lr"] * 0.1)
        lrs = []
        for loss in (1.0, 2.0, 3.0):
            scheduler.step(loss)
            lrs.append([group["lr"] for group in opt.param_groups])
        scheduler._reduce_lr = original
        opt.add_param_group({"params": params[2:], "lr": 1.0})
        with pytest.warns(UserWarning, match="The epoch parameter in `scheduler.step\\(\\)` was not necessary"):
            scheduler.step(4.0, epoch=7)
        lrs.append([group["lr"] for group in opt.param_groups] + [scheduler.min_lrs, scheduler.last_epoch])
        listed = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, min_lr=[0.0, 0.0, 0.0])
        opt.add_param_group({"params": [lib.nn.Parameter(lib.ones(1))]})
        listed.step(1.0)
        with pytest.raises(RuntimeError) as error:
            listed.step(2.0)
        results.append((lrs, str(error.value), hasattr(scheduler, "is_better")))
    assert results[0] == results[1]


def test_state_dict_resumes_schedule():
    e_opt, _ = _optimizers("SGD")
    scheduler = ember.optim.lr_scheduler.StepLR(e_opt, step_size=2, gamma=0.5)
    for _ in range(3):
        e_opt.step()
        scheduler.step()
    state = scheduler.state_dict()
    other_opt, _ = _optimizers("SGD")
    other_opt.param_groups[0]["initial_lr"] = 0.1
    resumed = ember.optim.lr_scheduler.StepLR(other_opt, step_size=2, gamma=0.5, last_epoch=0)
    resumed.load_state_dict(state)
    assert resumed.last_epoch == 3 and resumed.get_last_lr() == scheduler.get_last_lr()


@pytest.mark.parametrize("three_phase", [False, True])
def test_one_cycle_state_dict_loads_into_the_other_library(three_phase):
    options = dict(max_lr=1.0, total_steps=12, three_phase=three_phase)
    e_opt, t_opt = _optimizers("SGD")
    e_sched = ember.optim.lr_scheduler.OneCycleLR(e_opt, **options)
    t_sched = torch.optim.lr_scheduler.OneCycleLR(t_opt, **options)
    for _ in range(4):
        e_opt.step(), t_opt.step(), e_sched.step(), t_sched.step()
    assert e_sched.state_dict() == t_sched.state_dict()
    e_other, t_other = _optimizers("SGD")
    e_other.load_state_dict(e_opt.state_dict())
    t_other.load_state_dict(t_opt.state_dict())
    e_resumed = ember.optim.lr_scheduler.OneCycleLR(e_other, last_epoch=3, **options)
    t_resumed = torch.optim.lr_scheduler.OneCycleLR(t_other, last_epoch=3, **options)
    e_resumed.load_state_dict(t_sched.state_dict())
    t_resumed.load_state_dict(e_sched.state_dict())
    for _ in range(6):
        e_other.step(), t_other.step(), e_resumed.step(), t_resumed.step()
        assert _group_values(e_other)[:2] == pytest.approx(_group_values(t_other)[:2], rel=1e-12)
