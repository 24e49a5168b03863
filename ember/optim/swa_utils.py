"""``torch.optim.swa_utils``: weight averaging (SWA and EMA) of a model, the SWA learning-rate schedule and the
BatchNorm statistics pass that follows averaging.

``AveragedModel`` is an ``nn.Module`` and ``update_bn`` looks for BatchNorm layers, yet optim never imports nn: both
reach ``ember.nn`` through the top-level package only when used (the class is made on first access), so importing
``ember.optim`` leaves nn unloaded."""
import copy
import itertools
import math
import warnings
from typing import Literal

import ember

from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from .lr_scheduler import LRScheduler
from .optimizer import Optimizer

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn",  # noqa: F822
           "get_ema_avg_fn", "get_swa_avg_fn"]   # AveragedModel comes from __getattr__, on first access

_FOREACH_DEVICE_TYPES = ("cuda", "xpu")
"""Device types on which PyTorch's default average runs as one multi-tensor lerp rather than tensor by tensor."""


def _check_decay(decay):
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")


def _is_float_or_complex(tensor):
    return tensor.is_floating_point() or tensor.is_complex()


def get_ema_multi_avg_fn(decay=0.999):
    """A ``multi_avg_fn`` for :class:`AveragedModel` keeping an exponential moving average in place:
    ``ema = decay * ema + (1 - decay) * current`` for each tensor of a list (``decay`` in [0, 1])."""
    _check_decay(decay)

    @no_grad()
    def ema_update(ema_param_list, current_param_list, _):
        if _is_float_or_complex(ema_param_list[0]):
            for p_ema, p_model in zip(ema_param_list, current_param_list):
                p_ema.lerp_(p_model, 1 - decay)
        else:
            for p_ema, p_model in zip(ema_param_list, current_param_list, strict=True):
                p_ema.copy_(p_ema * decay + p_model * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn():
    """A ``multi_avg_fn`` for :class:`AveragedModel` keeping the equally weighted running mean in place: each averaged
    tensor moves ``1 / (num_averaged + 1)`` of the way to the current one."""

    @no_grad()
    def swa_update(averaged_param_list, current_param_list, num_averaged):
        if _is_float_or_complex(averaged_param_list[0]):
            # PyTorch's multi-tensor lerp takes the weight as a number: a tensor count gives float32 1 / (n + 1)
            weight = 1 / (num_averaged + 1)
            weight = weight.item() if isinstance(weight, Tensor) else weight
            for p_averaged, p_model in zip(averaged_param_list, current_param_list):
                p_averaged.lerp_(p_model, weight)
        else:
            diffs = [p_model - p_averaged for p_averaged, p_model in zip(averaged_param_list, current_param_list)]
            if isinstance(num_averaged, Tensor):
                for p_averaged, diff in zip(averaged_param_list, diffs):
                    p_averaged.addcdiv_(diff, num_averaged + 1)
            else:
                for p_averaged, diff in zip(averaged_param_list, diffs):
                    p_averaged.add_(diff, alpha=1.0 / (num_averaged + 1))

    return swa_update


def get_ema_avg_fn(decay=0.999):
    """An ``avg_fn`` for :class:`AveragedModel` returning the exponential moving average
    ``decay * ema + (1 - decay) * current`` of one tensor (``decay`` in [0, 1])."""
    _check_decay(decay)

    @no_grad()
    def ema_update(ema_param, current_param, num_averaged):
        return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn():
    """An ``avg_fn`` for :class:`AveragedModel` returning the equally weighted running mean of one tensor:
    ``averaged + (current - averaged) / (num_averaged + 1)``."""

    @no_grad()
    def swa_update(averaged_param, current_param, num_averaged):
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


def _group_by_device_and_dtype(averaged, current):
    """Pairs of lists (averaged tensors, current tensors) per (device, dtype), in order of first appearance."""
    groups = {}
    for p_averaged, p_model in zip(averaged, current):
        pair = groups.setdefault((p_averaged.device, p_averaged.dtype), ([], []))
        pair[0].append(p_averaged)
        pair[1].append(p_model)
    return groups


def _make_averaged_model_class():
    """Builds AveragedModel on ``ember.nn.Module`` (see the module docstring for why not at import time)."""

    class AveragedModel(ember.nn.Module):
        """A deep copy of ``model`` (moved to ``device`` when given) whose parameters, and buffers too when
        ``use_buffers``, hold a running average of ``model``'s, updated by :meth:`update_parameters`: Stochastic
        Weight Averaging (the default, an equally weighted mean) or an exponential moving average.

        ``avg_fn(averaged, current, num_averaged)`` returns one averaged tensor; ``multi_avg_fn(averaged_list,
        current_list, num_averaged)`` updates lists of tensors (one list per device and dtype) in place; give at
        most one. The first update copies ``model``'s values; ``n_averaged`` (a buffer, so in ``state_dict``)
        counts the updates. Without ``use_buffers`` the copy's buffers simply follow ``model``'s; BatchNorm
        statistics of the averaged weights can then be recomputed with :func:`update_bn`. The averaging functions
        are not part of ``state_dict``.
        """

        def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
            super().__init__()
            if avg_fn is not None and multi_avg_fn is not None:
                raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
            self.module = copy.deepcopy(model)
            if device is not None:
                self.module = self.module.to(device)
            self.register_buffer("n_averaged", ember.tensor(0, dtype=ember.long, device=device))
            self.avg_fn = avg_fn
            self.multi_avg_fn = multi_avg_fn
            self.use_buffers = use_buffers

        def forward(self, *args, **kwargs):
            """Runs the averaged copy of the model."""
            return self.module(*args, **kwargs)

        def update_parameters(self, model):
            """Folds ``model``'s current parameters (and buffers, with ``use_buffers``) into the average."""
            if self.use_buffers:
                self_param = itertools.chain(self.module.parameters(), self.module.buffers())
                model_param = itertools.chain(model.parameters(), model.buffers())
            else:
                self_param, model_param = self.parameters(), model.parameters()
            self_detached, model_detached = [], []
            copy_param = bool(self.n_averaged == 0)
            for p_averaged, p_model in zip(self_param, model_param):
                p_model_ = p_model.detach().to(p_averaged.device)
                self_detached.append(p_averaged.detach())
                model_detached.append(p_model_)
                if copy_param:
                    p_averaged.detach().copy_(p_model_)

            if self.n_averaged > 0:
                if self.multi_avg_fn is not None or self.avg_fn is None:
                    groups = _group_by_device_and_dtype(self_detached, model_detached)
                    for (device, _), (self_params, model_params) in groups.items():
                        n_averaged = self.n_averaged.to(device)
                        if self.multi_avg_fn:
                            self.multi_avg_fn(self_params, model_params, n_averaged)
                        elif device.type in _FOREACH_DEVICE_TYPES:
                            get_swa_multi_avg_fn()(self_params, model_params, n_averaged)
                        else:
                            avg_fn = get_swa_avg_fn()
                            for p_averaged, p_model in zip(self_params, model_params, strict=True):
                                p_averaged.copy_(avg_fn(p_averaged, p_model, n_averaged))
                else:
                    for p_averaged, p_model in zip(self_detached, model_detached, strict=True):
                        n_averaged = self.n_averaged.to(p_averaged.device)
                        p_averaged.detach().copy_(self.avg_fn(p_averaged.detach(), p_model, n_averaged))

            if not self.use_buffers:
                for b_swa, b_model in zip(self.module.buffers(), model.buffers(), strict=True):
                    b_swa.detach().copy_(b_model.detach().to(b_swa.device))
            self.n_averaged += 1

    AveragedModel.__qualname__ = "AveragedModel"
    return AveragedModel


def __getattr__(name):
    if name == "AveragedModel":
        cls = globals()["AveragedModel"] = _make_averaged_model_class()
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | {"AveragedModel"})


@no_grad()
def update_bn(loader, model, device=None):
    """Recomputes the running mean and variance of every BatchNorm layer in ``model`` with one pass over ``loader``.

    The statistics are reset and then accumulated as a cumulative average (momentum ``None``) in training mode;
    momenta and the train/eval mode are restored afterwards. A batch that is a list or tuple contributes its first
    element; any other batch is passed to ``model`` as it is. With ``device``, inputs are moved there first.
    """
    batch_norm = ember.nn.modules.batchnorm._BatchNorm
    momenta = {}
    for module in model.modules():
        if isinstance(module, batch_norm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return

    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    for input in loader:
        if isinstance(input, (list, tuple)):
            input = input[0]
        if device is not None:
            input = input.to(device)
        model(input)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


def _format_param(name, optimizer, param):
    """``param`` as one value per parameter group (tensors copied)."""
    if isinstance(param, (list, tuple)):
        if len(param) != len(optimizer.param_groups):
            raise ValueError(f"{name} must have the same length as optimizer.param_groups. {name} has {len(param)} "
                             f"values, param_groups has {len(optimizer.param_groups)}.")
    else:
        param = [param] * len(optimizer.param_groups)
    return [p.clone() if isinstance(p, Tensor) else p for p in param]


class SWALR(LRScheduler):
    """Anneals each parameter group's learning rate to ``swa_lr`` (one value, or one per group) over
    ``anneal_epochs`` steps, along a half cosine (``anneal_strategy="cos"``) or a straight line (``"linear"``), and
    then holds it there: the schedule of Stochastic Weight Averaging's averaging phase, usually taking over from
    another scheduler. Each group keeps its target under ``group["swa_lr"]``."""

    def __init__(self, optimizer: Optimizer, swa_lr: float, anneal_epochs=10,
                 anneal_strategy: Literal["cos", "linear"] = "cos", last_epoch=-1):
        swa_lrs = _format_param("swa_lr", optimizer, swa_lr)
        for value, group in zip(swa_lrs, optimizer.param_groups, strict=True):
            group["swa_lr"] = value
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self):
        """The learning rates of the next step: each group's current rate, traced back to where the annealing
        started, moved the annealed fraction of the way to its ``swa_lr``. Use :meth:`get_last_lr` to read the rates
        in force."""
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, please use `get_last_lr()`.",
                          UserWarning, stacklevel=2)
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_t = max(0, min(1, (step - 1) / max(1, self.anneal_epochs)))
        prev_alpha = self.anneal_func(prev_t)
        prev_lrs = [self._get_initial_lr(group["lr"], group["swa_lr"], prev_alpha)
                    for group in self.optimizer.param_groups]
        t = max(0, min(1, step / max(1, self.anneal_epochs)))
        alpha = self.anneal_func(t)
        return [group["swa_lr"] * alpha + lr * (1 - alpha)
                for group, lr in zip(self.optimizer.param_groups, prev_lrs, strict=True)]

    def _set_anneal_func(self, anneal_strategy):
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal

    def state_dict(self):
        """Every attribute except the optimizer and the annealing function (restored from the strategy's name)."""
        return {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict):
        """Restores attributes saved by ``state_dict`` and the annealing function they name."""
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
