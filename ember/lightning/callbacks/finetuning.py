"""Finetuning callbacks: ``BaseFinetuning`` freezes modules before the optimizers are configured and unfreezes them
into new optimizer param groups as epochs start (its groups are kept in checkpoints by parameter name, so a resumed
fit rebuilds them); ``BackboneFinetuning`` does so for a module's ``backbone`` on a learning-rate schedule."""
import logging
from collections.abc import Iterable

from .callback import Callback

log = logging.getLogger(__name__)


def multiplicative(epoch):
    """BackboneFinetuning's default schedule: the backbone's learning rate doubles each epoch."""
    return 2.0


def _is_batch_norm(module):
    from ember.nn.modules.batchnorm import _BatchNorm
    return isinstance(module, _BatchNorm)


class BaseFinetuning(Callback):
    """Override ``freeze_before_training`` (called in ``setup``, before ``configure_optimizers``) and
    ``finetune_function`` (called at each training epoch's start for each optimizer) with your freezing and
    unfreezing."""

    def __init__(self):
        self._internal_optimizer_metadata = {}
        self._restarting = False

    def state_dict(self):
        return {"internal_optimizer_metadata": self._internal_optimizer_metadata}

    def load_state_dict(self, state_dict):
        self._restarting = True
        if "internal_optimizer_metadata" in state_dict:
            self._internal_optimizer_metadata = state_dict["internal_optimizer_metadata"]
        else:
            self._internal_optimizer_metadata = state_dict

    def on_fit_start(self, trainer, pl_module):
        """On a resumed fit, gives the optimizers the param groups they had when the checkpoint was taken."""
        if self._restarting:
            if self._internal_optimizer_metadata:
                named_parameters = dict(pl_module.named_parameters())
                for opt_idx, optimizer in enumerate(trainer.optimizers):
                    if opt_idx in self._internal_optimizer_metadata:
                        optimizer.param_groups = self._apply_mapping_to_param_groups(
                            self._internal_optimizer_metadata[opt_idx], named_parameters)
            self._restarting = False

    @staticmethod
    def flatten_modules(modules):
        """The leaf modules (and the parents that hold parameters themselves) of a module or nested iterable of
        modules."""
        from ember.nn import ModuleDict
        if isinstance(modules, ModuleDict):
            modules = modules.values()
        if isinstance(modules, Iterable):
            flat = []
            for module in modules:
                flat.extend(BaseFinetuning.flatten_modules(module))
            found = iter(flat)
        else:
            found = modules.modules()
        return [m for m in found if not list(m.children()) or m._parameters]

    @staticmethod
    def filter_params(modules, train_bn=True, requires_grad=True):
        """Yields the parameters whose ``requires_grad`` is ``requires_grad`` (skipping batch norms unless
        ``train_bn``)."""
        for module in BaseFinetuning.flatten_modules(modules):
            if _is_batch_norm(module) and not train_bn:
                continue
            for param in module.parameters(recurse=False):
                if param.requires_grad == requires_grad:
                    yield param

    @staticmethod
    def make_trainable(modules):
        """Unfreezes the modules' parameters (batch norms track running statistics again)."""
        for module in BaseFinetuning.flatten_modules(modules):
            if _is_batch_norm(module):
                module.track_running_stats = True
            for param in module.parameters(recurse=False):
                param.requires_grad = True

    @staticmethod
    def freeze_module(module):
        """Freezes one module's own parameters (a batch norm stops tracking running statistics)."""
        if _is_batch_norm(module):
            module.track_running_stats = False
        for param in module.parameters(recurse=False):
            param.requires_grad = False

    @staticmethod
    def freeze(modules, train_bn=True):
        """Freezes the modules' parameters, leaving batch norms trainable when ``train_bn``."""
        for module in BaseFinetuning.flatten_modules(modules):
            if _is_batch_norm(module) and train_bn:
                BaseFinetuning.make_trainable(module)
            else:
                BaseFinetuning.freeze_module(module)

    @staticmethod
    def filter_on_optimizer(optimizer, params):
        """The parameters not already in one of ``optimizer``'s groups (compared by value, as Lightning does)."""
        import ember

        from ..utilities.rank_zero import rank_zero_warn
        out_params, removed_params = [], []
        for param in params:
            if not any(p.shape == param.shape and ember.equal(p, param)
                       for group in optimizer.param_groups for p in group["params"]):
                out_params.append(param)
            else:
                removed_params.append(param)
        if removed_params:
            rank_zero_warn("The provided params to be frozen already exist within another group of this optimizer. "
                           "Those parameters will be skipped.\nHINT: Did you init your optimizer in "
                           f"`configure_optimizer` as such:\n {type(optimizer)}(filter(lambda p: p.requires_grad, "
                           "self.parameters()), ...) ")
        return out_params

    @staticmethod
    def unfreeze_and_add_param_group(modules, optimizer, lr=None, initial_denom_lr=10.0, train_bn=True):
        """Unfreezes ``modules`` and adds their parameters to ``optimizer`` as a new group, at ``lr`` (default: the
        first group's learning rate divided by ``initial_denom_lr``)."""
        BaseFinetuning.make_trainable(modules)
        params_lr = optimizer.param_groups[0]["lr"] if lr is None else float(lr)
        denom_lr = initial_denom_lr if lr is None else 1.0
        params = BaseFinetuning.filter_params(modules, train_bn=train_bn, requires_grad=True)
        params = BaseFinetuning.filter_on_optimizer(optimizer, params)
        if params:
            optimizer.add_param_group({"params": params, "lr": params_lr / denom_lr})

    def setup(self, trainer, pl_module, stage):
        self.freeze_before_training(pl_module)

    @staticmethod
    def _apply_mapping_to_param_groups(param_groups, mapping):
        output = []
        for group in param_groups:
            state = {k: v for k, v in group.items() if k != "params"}
            state["params"] = [mapping[p] for p in group["params"]]
            output.append(state)
        return output

    def _store(self, pl_module, opt_idx, num_param_groups, current_param_groups):
        mapping = {p: n for n, p in pl_module.named_parameters()}
        if opt_idx not in self._internal_optimizer_metadata:
            self._internal_optimizer_metadata[opt_idx] = self._apply_mapping_to_param_groups(
                current_param_groups, mapping)
        elif num_param_groups != len(current_param_groups):
            self._internal_optimizer_metadata[opt_idx].extend(
                self._apply_mapping_to_param_groups(current_param_groups[num_param_groups:], mapping))

    def on_train_epoch_start(self, trainer, pl_module):
        """Calls ``finetune_function`` for each optimizer and records the param groups by parameter name."""
        for opt_idx, optimizer in enumerate(trainer.optimizers):
            num_param_groups = len(optimizer.param_groups)
            self.finetune_function(pl_module, trainer.current_epoch, optimizer)
            self._store(pl_module, opt_idx, num_param_groups, optimizer.param_groups)

    def finetune_function(self, pl_module, epoch, optimizer):
        """Override to add your unfreeze logic."""
        raise NotImplementedError

    def freeze_before_training(self, pl_module):
        """Override to add your freeze logic."""
        raise NotImplementedError


class BackboneFinetuning(BaseFinetuning):
    """Freezes ``pl_module.backbone`` and unfreezes it at ``unfreeze_backbone_at_epoch`` into a new param group, whose
    learning rate then follows ``lambda_func`` (capped at the model's when ``should_align``)."""

    def __init__(self, unfreeze_backbone_at_epoch=10, lambda_func=multiplicative, backbone_initial_ratio_lr=10e-2,
                 backbone_initial_lr=None, should_align=True, initial_denom_lr=10.0, train_bn=True, verbose=False,
                 rounding=12):
        super().__init__()
        self.unfreeze_backbone_at_epoch = unfreeze_backbone_at_epoch
        self.lambda_func = lambda_func
        self.backbone_initial_ratio_lr = backbone_initial_ratio_lr
        self.backbone_initial_lr = backbone_initial_lr
        self.should_align = should_align
        self.initial_denom_lr = initial_denom_lr
        self.train_bn = train_bn
        self.verbose = verbose
        self.rounding = rounding
        self.previous_backbone_lr = None

    def state_dict(self):
        return {"internal_optimizer_metadata": self._internal_optimizer_metadata,
                "previous_backbone_lr": self.previous_backbone_lr}

    def load_state_dict(self, state_dict):
        self.previous_backbone_lr = state_dict["previous_backbone_lr"]
        super().load_state_dict(state_dict)

    def on_fit_start(self, trainer, pl_module):
        from ember.nn import Module

        from ..utilities.exceptions import MisconfigurationException
        if hasattr(pl_module, "backbone") and isinstance(pl_module.backbone, Module):
            return super().on_fit_start(trainer, pl_module)
        raise MisconfigurationException("The LightningModule should have a nn.Module `backbone` attribute")

    def freeze_before_training(self, pl_module):
        self.freeze(pl_module.backbone)

    def finetune_function(self, pl_module, epoch, optimizer):
        """Unfreezes the backbone at its epoch; afterwards scales its learning rate each epoch."""
        if epoch == self.unfreeze_backbone_at_epoch:
            current_lr = optimizer.param_groups[0]["lr"]
            initial_backbone_lr = (self.backbone_initial_lr if self.backbone_initial_lr is not None
                                   else current_lr * self.backbone_initial_ratio_lr)
            self.previous_backbone_lr = initial_backbone_lr
            self.unfreeze_and_add_param_group(pl_module.backbone, optimizer, initial_backbone_lr,
                                              train_bn=self.train_bn, initial_denom_lr=self.initial_denom_lr)
            if self.verbose:
                log.info(f"Current lr: {round(current_lr, self.rounding)}, "
                         f"Backbone lr: {round(initial_backbone_lr, self.rounding)}")
        elif epoch > self.unfreeze_backbone_at_epoch:
            current_lr = optimizer.param_groups[0]["lr"]
            next_lr = self.lambda_func(epoch + 1) * self.previous_backbone_lr
            next_lr = current_lr if (self.should_align and next_lr > current_lr) else next_lr
            optimizer.param_groups[-1]["lr"] = next_lr
            self.previous_backbone_lr = next_lr
            if self.verbose:
                log.info(f"Current lr: {round(current_lr, self.rounding)}, "
                         f"Backbone lr: {round(next_lr, self.rounding)}")
