"""Auto-wrap policies, as ``torch.distributed.fsdp.wrap``: which submodules FSDP wraps in FSDP units of their own.

A policy is called ``policy(module=, recurse=, nonwrapped_numel=)``: with ``recurse=True`` it says whether to look
inside ``module``, with ``recurse=False`` whether to wrap it. ``ModuleWrapPolicy`` and ``CustomPolicy`` are objects
answering the same call."""
import collections
import contextlib
import warnings

from ... import nn

__all__ = ["always_wrap_policy", "lambda_auto_wrap_policy", "transformer_auto_wrap_policy",
           "size_based_auto_wrap_policy", "enable_wrap", "wrap", "CustomPolicy", "ModuleWrapPolicy"]


def always_wrap_policy(*args, **kwargs):
    """Wraps every submodule."""
    return True


def _module_wrap_policy(module, recurse, nonwrapped_numel, module_classes):
    if recurse:
        return True   # always recurse
    return isinstance(module, tuple(module_classes))


def lambda_auto_wrap_policy(module, recurse, nonwrapped_numel, lambda_fn):
    """Wraps the submodules for which ``lambda_fn(module)`` is true."""
    if recurse:
        return True
    return lambda_fn(module)


def transformer_auto_wrap_policy(module, recurse, nonwrapped_numel, transformer_layer_cls):
    """Wraps the submodules that are instances of ``transformer_layer_cls`` (a set of classes)."""
    return _module_wrap_policy(module, recurse, nonwrapped_numel, transformer_layer_cls)


def _or_policy(module, recurse, nonwrapped_numel, policies):
    return any(policy(module=module, recurse=recurse, nonwrapped_numel=nonwrapped_numel) for policy in policies)


def _wrap_module_cls_individually(module, module_classes, recurse, *args, **kwargs):
    if recurse:
        return True
    return isinstance(module, tuple(module_classes))


def size_based_auto_wrap_policy(module, recurse, nonwrapped_numel, min_num_params=int(1e8),
                                force_leaf_modules=None, exclude_wrap_modules=None):
    """Wraps a submodule once the parameters not yet wrapped below it number at least ``min_num_params``; never
    looks inside ``force_leaf_modules`` (MultiheadAttention) nor wraps ``exclude_wrap_modules`` (ModuleList,
    ModuleDict)."""
    force_leaf_modules = (size_based_auto_wrap_policy.FORCE_LEAF_MODULES if force_leaf_modules is None
                          else force_leaf_modules)
    exclude_wrap_modules = (size_based_auto_wrap_policy.EXCLUDE_WRAP_MODULES if exclude_wrap_modules is None
                            else exclude_wrap_modules)
    is_large = nonwrapped_numel >= min_num_params
    if recurse:
        return is_large and not isinstance(module, tuple(force_leaf_modules))
    return is_large and not isinstance(module, tuple(exclude_wrap_modules))


size_based_auto_wrap_policy.FORCE_LEAF_MODULES = {nn.MultiheadAttention}
size_based_auto_wrap_policy.EXCLUDE_WRAP_MODULES = {nn.ModuleList, nn.ModuleDict}


class _Policy:
    """Base of the policy objects."""

    def __call__(self, module, recurse, *args, **kwargs):
        raise NotImplementedError


class ModuleWrapPolicy(_Policy):
    """Wraps every submodule that is an instance of one of ``module_classes``."""

    def __init__(self, module_classes):
        self._module_classes = set(module_classes)
        self._module_classes_str = str(self._module_classes)

    def __call__(self, module, recurse, *args, **kwargs):
        return _module_wrap_policy(module, recurse, nonwrapped_numel=-1, module_classes=self._module_classes)

    def __repr__(self):
        return super().__repr__() + f"({self._module_classes_str})"


class CustomPolicy(_Policy):
    """Wraps the submodules for which ``lambda_fn(module)`` is true; a dict it returns gives that unit's own FSDP
    arguments."""

    def __init__(self, lambda_fn):
        self._lambda_fn = lambda_fn

    def __call__(self, module, recurse, *args, **kwargs):
        return True if recurse else self._lambda_fn(module)


_wrap_state = {"in_autowrap_context": False, "wrapper_cls": None, "kwargs": {}}


@contextlib.contextmanager
def enable_wrap(*, wrapper_cls, **wrapper_kwargs):
    """Within it, ``wrap(module)`` wraps in ``wrapper_cls(module, **wrapper_kwargs)``."""
    if _wrap_state["in_autowrap_context"]:
        raise NotImplementedError("You are already within an autowrap context and we currently do not supported "
                                  "nested autowrap.")
    _wrap_state.update(in_autowrap_context=True, wrapper_cls=wrapper_cls, kwargs=wrapper_kwargs)
    try:
        yield
    finally:
        _wrap_state.update(in_autowrap_context=False, wrapper_cls=None, kwargs={})


def wrap(module, **wrap_overrides):
    """Wraps ``module`` as ``enable_wrap`` says; outside ``enable_wrap`` returns it unchanged."""
    if _wrap_state["in_autowrap_context"]:
        kwargs = {**_wrap_state["kwargs"], **wrap_overrides}
        return _wrap_state["wrapper_cls"](module, **kwargs)
    return module


def _recursive_wrap(module, auto_wrap_policy, wrapper_cls, ignored_modules, ignored_params, only_wrap_children=False,
                    **kwargs):
    """Wraps ``module``'s subtree bottom-up where the policy says; returns the (maybe wrapped) module and the number
    of parameters wrapped."""
    if isinstance(wrapper_cls, type) and isinstance(module, wrapper_cls):   # wrapped already (an FSDP unit)
        return module, 0
    nonwrapped_numel = sum(p.numel() for p in module.parameters() if p not in ignored_params)
    if auto_wrap_policy(module=module, recurse=True, nonwrapped_numel=nonwrapped_numel):
        total_wrapped_numel = 0
        for name, child in module.named_children():
            if child in ignored_modules:
                continue
            wrapped_child, num_wrapped_params = _recursive_wrap(child, auto_wrap_policy, wrapper_cls, ignored_modules,
                                                                ignored_params, **kwargs)
            setattr(module, name, wrapped_child)
            total_wrapped_numel += num_wrapped_params
        remainder = nonwrapped_numel - total_wrapped_numel
        if not only_wrap_children and auto_wrap_policy(module=module, recurse=False, nonwrapped_numel=remainder):
            overrides = dict(getattr(module, "_wrap_overrides", {}))
            if isinstance(auto_wrap_policy, CustomPolicy):
                result = auto_wrap_policy._lambda_fn(module)
                overrides.update(result if isinstance(result, dict) else {})
            return wrapper_cls(module, **{**kwargs, **overrides}), nonwrapped_numel
        return module, total_wrapped_numel
    return module, 0



def _post_order_named_modules(root):
    """``root``'s modules, children before parents (the reverse of a depth-first visit taking children in order)."""
    visited, stack, order = {id(root)}, [("", root)], []
    while stack:
        name, module = stack.pop()
        order.append((name, module))
        for child_name, child in module.named_children():
            if child is not None and id(child) not in visited:
                visited.add(id(child))
                stack.append((f"{name}.{child_name}" if name else child_name, child))
    return order[::-1]


def _validate_frozen_params(root, policy, ignored_modules, ignored_params, use_orig_params):
    """PyTorch's check before wrapping with a policy object: each unit-to-be manages uniformly frozen or trainable
    parameters (an error without ``use_orig_params``, a warning with it)."""
    to_wrap = {id(root)} | {id(m) for m in root.modules() if m is not root and m not in ignored_modules and
                            policy(module=m, recurse=False, nonwrapped_numel=-1)}
    visited = set()
    for module_name, module in _post_order_named_modules(root):
        if id(module) not in to_wrap:
            continue
        managed, queue = [], collections.deque([(module, module_name)])
        visited.add(id(module))
        while queue:
            current, prefix = queue.popleft()
            for name, param in current.named_parameters(recurse=False):
                if param not in ignored_params:
                    managed.append((f"{prefix}.{name}" if prefix else name, param))
            for child_name, child in current.named_children():
                if child is not None and id(child) not in visited:
                    visited.add(id(child))
                    queue.append((child, f"{prefix}.{child_name}" if prefix else child_name))
        frozen = [(fqn, p.numel()) for fqn, p in managed if not p.requires_grad]
        trainable = [(fqn, p.numel()) for fqn, p in managed if p.requires_grad]
        if not frozen or not trainable:
            continue
        msg = f"{module_name} has both parameters with requires_grad=True and False."
        trainable_numel = sum(n for _, n in trainable)
        if use_orig_params:
            msg += (" We do not recommend wrapping such modules since the gradient memory usage will be higher than "
                    f"expected ({trainable_numel + sum(n for _, n in frozen)} numel instead of {trainable_numel} "
                    "numel before sharding via reduce-scatter). ")
        else:
            msg += " FSDP does not support wrapping such modules when use_orig_params=False. "
        msg += "If possible, wrap the frozen parameters with FSDP separately.\n"
        msg += (f"The following parameters have requires_grad=True:\n{[f for f, _ in trainable]}\n"
                f"The following parameters have requires_grad=False:\n{[f for f, _ in frozen]}")
        if not use_orig_params:
            raise ValueError(msg)
        warnings.warn(msg, stacklevel=4)
