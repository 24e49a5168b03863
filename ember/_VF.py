"""PyTorch's ``torch._VF``: the ATen functions its Python layers call (``_VF.lstm``, ``_VF.gru_cell``), which are
the top-level functions of the same names, read from the namespace at each access (a dispatching wrapper, once
installed)."""
import importlib


def __getattr__(name):
    return getattr(importlib.import_module("ember"), name)
