"""``ember.return_types``: the named tuples ops return (``max``'s values and indices, ``linalg_slogdet``'s sign and
logabsdet, ...), one class per name kept here, so results print as PyTorch's and pickle (DataLoader workers,
``torch.save``). They are namedtuples: built from their fields (PyTorch's take one sequence), and with ``_fields``."""
import collections

from . import _alias

__all__ = []


def _repr(self):
    fields = ",\n".join(f"{name}={value!r}" for name, value in zip(self._fields, self))
    return f"{_alias.package()}.return_types.{type(self).__name__}(\n{fields})"


def structseq(name, fields):
    """The named tuple class ``name`` of ``fields``, made on first use and kept as ``ember.return_types.<name>``."""
    kept = globals().get(name)
    if kept is None:
        kept = collections.namedtuple(name, fields, module=__name__)
        kept.__repr__ = kept.__str__ = _repr
        globals()[name] = kept
        __all__.append(name)
    elif kept._fields != tuple(fields):
        raise TypeError(f"return_types.{name} has fields {kept._fields}, not {tuple(fields)}")
    return kept
