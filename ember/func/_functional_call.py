"""functional_call: runs a module with some parameters and buffers replaced by the given tensors."""
import contextlib

from .._tensor import Tensor

__all__ = ["functional_call", "stack_module_state"]


def _owner(module, path):
    *prefix, name = path.split(".")
    for part in prefix:
        module = getattr(module, part)
    return module, name


@contextlib.contextmanager
def _swapped(module, tensors, strict, reassigned=None):
    """Puts ``tensors`` (name -> tensor) in place of the module's parameters/buffers, restoring them on exit; what
    the block assigned in place of one of them goes into ``reassigned`` (name -> tensor) when given."""
    if strict:
        expected = {name for name, _ in module.named_parameters()} | {name for name, _ in module.named_buffers()}
        missing, unexpected = sorted(expected - set(tensors)), sorted(set(tensors) - expected)
        if missing or unexpected:
            lines = []
            if unexpected:
                lines.append("Unexpected key(s): " + ", ".join(repr(k) for k in unexpected) + ".")
            if missing:
                lines.append("Missing key(s): " + ", ".join(repr(k) for k in missing) + ".")
            raise RuntimeError("Error(s) in reparametrizing for {}:\n\t{}".format(type(module).__name__,
                                                                                  "\n\t".join(lines)))
    saved = []
    try:
        for path, value in tensors.items():
            owner, name = _owner(module, path)
            for store in ("_parameters", "_buffers"):
                table = owner.__dict__[store]
                if name in table:
                    saved.append((path, table, name, table[name]))
                    table[name] = value
                    break
            else:
                raise AttributeError(f"'{type(owner).__name__}' object has no parameter or buffer '{name}'")
        yield
    finally:
        for path, table, name, original in reversed(saved):
            if reassigned is not None and table.get(name) is not tensors[path]:
                reassigned[path] = table.get(name)
            table[name] = original


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """``module(*args, **kwargs)`` with the parameters and buffers named in ``parameter_and_buffer_dicts`` (a dict
    or a sequence of dicts) replaced by the given tensors for this call only."""
    dicts = parameter_and_buffer_dicts
    if isinstance(dicts, dict):
        tensors = dict(dicts)
    else:
        tensors = {}
        for d in dicts:
            overlap = set(tensors) & set(d)
            if overlap:
                raise ValueError(f"{sorted(overlap)} appeared in multiple dictionaries; behavior of functional call "
                                 "is ambiguous")
            tensors.update(d)
    for name, value in tensors.items():
        if not isinstance(value, Tensor):
            raise TypeError(f"functional_call expects tensors as values, got {type(value).__name__} for '{name}'")
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    reassigned = {}
    with _swapped(module, tensors, strict, reassigned):
        output = module(*args, **(kwargs or {}))
    if isinstance(dicts, dict):   # as PyTorch: a buffer the forward reassigned goes back into the caller's dict
        dicts.update(reassigned)
    return output


def stack_module_state(models):
    """(params, buffers): each model's parameters and buffers stacked along a new first dim, by name, as new
    leaves, for ensembling the models with ``vmap`` over ``functional_call``."""
    from .. import stack
    if len(models) == 0:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")
    if not all(type(m) is type(models[0]) for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")

    def stacked(named):
        per_model = [dict(named(m)) for m in models]
        result = {}
        for name in per_model[0]:
            tensors = [state[name] for state in per_model]
            flags = {t.requires_grad for t in tensors}
            if len(flags) > 1:
                raise RuntimeError(f"Expected {name} from each model to have the same .requires_grad")
            value = stack(tensors)
            result[name] = value.detach().requires_grad_() if flags == {True} else value
        return result
    return stacked(lambda m: m.named_parameters()), stacked(lambda m: m.named_buffers())


def replace_all_batch_norm_modules_(root):
    """Makes every batch-norm module in ``root`` (itself included) normalize by batch statistics alone: no running
    mean or variance kept (``track_running_stats=False``), as vmap over a module needs. Returns ``root``."""
    from ..nn.modules.batchnorm import _BatchNorm
    for module in root.modules():
        if isinstance(module, _BatchNorm) and module.track_running_stats:
            module.running_mean = module.running_var = module.num_batches_tracked = None
            module.track_running_stats = False
    return root
