"""``torch.backends.mha``: the switch for the fast inference path of ``MultiheadAttention`` and
``TransformerEncoder``; with it off, ``TransformerEncoder`` keeps its padded positions' values instead of the zeros
PyTorch's nested-tensor path gives them."""

__all__ = ["get_fastpath_enabled", "set_fastpath_enabled"]


def get_fastpath_enabled():
    """Whether the fast path may run (True while scripting)."""
    from .. import jit
    from ..nn.modules import transformer   # on first use: importing ember leaves the training stack unloaded
    return True if jit.is_scripting() else transformer.fastpath_enabled[0]


def set_fastpath_enabled(value):
    """Turns the fast path on or off."""
    from ..nn.modules import transformer
    transformer.fastpath_enabled[0] = value
