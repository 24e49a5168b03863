"""functional_call: runs a module with some parameters and buffers replaced by the given tensors."""
import contextlib

from .._tensor import Tensor

__all__ = ["functional_call"]


def _owner(module, path):
    *prefix, name = path.split(".")
    for part in prefix:
        module = getattr(module, part)
    return module, name


@contextlib.contextmanager
def _swapped(module, tensors, strict):
    """Puts ``tensors`` (name -> tensor) in place of the module's parameters/buffers, restoring them on exit."""
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
                    saved.append((table, name, table[name]))
                    table[name] = value
                    break
            else:
                raise AttributeError(f"'{type(owner).__name__}' object has no parameter or buffer '{name}'")
        yield
    finally:
        for table, name, original in reversed(saved):
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
    with _swapped(module, tensors, strict):
        return module(*args, **(kwargs or {}))
