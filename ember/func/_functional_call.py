"""functional_call: runs a module with some parameters and buffers replaced by the given tensors."""
import contextlib

from .._tensor import Tensor

__all__ = ["functional_call", "stack_module_state"]


_MISSING = object()


def _untied(module, tensors):
    """``tensors`` with each value also given to the names tied to its name (PyTorch's tie_weights); two different
    values for one tied group raise PyTorch's ValueError."""
    named = dict(module.named_parameters(remove_duplicate=False))
    named.update(module.named_buffers(remove_duplicate=False))
    groups = {}
    for name, tensor in named.items():
        groups.setdefault(id(tensor), set()).add(name)
    tied = {name: names for names in groups.values() if len(names) > 1 for name in names}
    given = [name for name in tensors if name in tied]
    for name in given:
        names = tied[name]
        if len(names.intersection(given)) > 1 and len({id(tensors[n]) for n in names if n in tensors}) != 1:
            raise ValueError(f"functional_call got multiple values for keys {sorted(names)}, which are tied. Consider "
                             "using tie_weights=False")
    untied = dict(tensors)
    for name in given:
        for other in tied[name]:
            untied[other] = tensors[name]
    return untied


def _swap(module, path, value):
    """Puts ``value`` at ``path`` (a parameter, a buffer, or else a plain attribute; ``_MISSING`` deletes it) and
    returns what was there, as PyTorch's ``NamedMemberAccessor.swap_tensor`` with ``allow_missing``."""
    prefix, _, name = path.rpartition(".")
    owner = module.get_submodule(prefix)
    if value is not _MISSING and value is not None and not isinstance(value, Tensor):
        raise TypeError(f"{value} is not an instance of torch.Tensor")
    for store in ("_parameters", "_buffers"):
        table = owner.__dict__[store]
        if name in table:
            original = table[name]
            if value is _MISSING:
                del table[name]
            else:
                table[name] = value
            return original
    original = getattr(owner, name) if hasattr(owner, name) else _MISSING
    if original is not _MISSING and original is not None and not isinstance(original, Tensor):
        raise TypeError(f"attribute `{name}`: {original} is not an instance of torch.Tensor")
    if value is not _MISSING:
        setattr(owner, name, value)
    elif hasattr(owner, name):
        delattr(owner, name)
    return original


@contextlib.contextmanager
def _swapped(module, tensors, strict, reassigned=None, tie_weights=True):
    """Puts ``tensors`` (name -> tensor) in place of the module's parameters/buffers (names the module lacks become
    attributes for the call), restoring them on exit; what the block assigned in place of one of them goes into
    ``reassigned`` (name -> tensor) when given."""
    untied = _untied(module, tensors) if tie_weights else tensors
    if strict:
        expected = {name for name, _ in module.named_parameters(remove_duplicate=False)}
        expected |= {name for name, _ in module.named_buffers(remove_duplicate=False)}
        missing, unexpected = sorted(expected - set(untied)), sorted(set(untied) - expected)
        if missing or unexpected:
            lines = []
            if unexpected:
                lines.append("Unexpected key(s): " + ", ".join(repr(k) for k in unexpected) + ".")
            if missing:
                lines.append("Missing key(s): " + ", ".join(repr(k) for k in missing) + ".")
            raise RuntimeError("Error(s) in reparametrizing for {}:\n\t{}".format(module._get_name(),
                                                                                  "\n\t".join(lines)))
    saved = []
    try:
        for path, value in untied.items():
            saved.append((path, _swap(module, path, value)))
        yield
    finally:
        for path, original in reversed(saved):
            current = _swap(module, path, original)
            if reassigned is not None and path in tensors and current is not tensors[path]:
                reassigned[path] = current


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """``module(*args, **kwargs)`` with the parameters and buffers named in ``parameter_and_buffer_dicts`` (a dict
    or a sequence of dicts) replaced by the given tensors for this call only (tied weights together, unless
    ``tie_weights=False``)."""
    dicts = parameter_and_buffer_dicts
    if isinstance(dicts, dict):
        tensors = dict(dicts)
    elif isinstance(dicts, (tuple, list)):
        if not all(isinstance(d, dict) for d in dicts):
            raise ValueError("Expected all elements of parameter_and_buffer_dicts to be dictionaries")
        keys = [k for d in dicts for k in d]
        repeated = [k for k in dict.fromkeys(keys) if keys.count(k) > 1]
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of functional call is ambiguous")
        tensors = {k: v for d in dicts for k, v in d.items()}
    else:
        raise ValueError("Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of dicts, but got "
                         f"{type(dicts)}")
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    reassigned = {}
    with _swapped(module, tensors, strict, reassigned, tie_weights):
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
