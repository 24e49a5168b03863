"""``torch.backends.mha``: the switch for the fast inference path of ``MultiheadAttention`` and
``TransformerEncoder``; with it off, ``TransformerEncoder`` keeps its padded positions' values instead of the zeros
PyTorch's nested-tensor path gives them."""

from ..nn.modules import transformer as _transformer

__all__ = ["get_fastpath_enabled", "set_fastpath_enabled"]


def get_fastpath_enabled():
    """Whether the fast path may run (True while scripting)."""
    from .. import jit
    return True if jit.is_scripting() else _transformer.fastpath_enabled[0]


def set_fastpath_enabled(value):
    """Turns the fast path on or off."""
    _transformer.fastpath_enabled[0] = value
