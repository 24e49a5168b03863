"""``torch.ScriptObject`` as checkpoints hold it: a TorchScript custom-class object, pickled as its state and its
class's qualified name. The quantized recurrent layers save their packed parameters as PyTorch's such objects and
read PyTorch's back (loads need ``weights_only=False``: PyTorch's weights-only loader refuses them too)."""

__all__ = ["ScriptObject", "pack_linear", "pack_cell", "weight_bias", "cell_params"]

_LINEAR = "__torch__.torch.classes.quantized.LinearPackedParamsBase"
_CELL = "__torch__.torch.classes.rnn.CellParamsBase"


class ScriptObject:
    """A TorchScript custom-class object as checkpoints hold it: its ``qualified_name`` and pickled ``state``
    (``torch.save`` writes it as PyTorch does: ``torch.ScriptObject`` made empty, then given both)."""

    def __init__(self, state=None, qualified_name=None):
        self.state, self.qualified_name = state, qualified_name

    def __getstate__(self):
        return self.state, self.qualified_name

    def __setstate__(self, state):
        self.state, self.qualified_name = state

    def __repr__(self):
        return f"<ScriptObject {self.qualified_name}>"


def weight_bias(packed):
    """``(weight, bias)`` of a packed linear layer: an ember pair as is, or PyTorch's LinearPackedParamsBase."""
    if isinstance(packed, ScriptObject):
        if packed.qualified_name != _LINEAR:
            raise RuntimeError(f"expected PyTorch's packed linear parameters, got {packed.qualified_name}")
        weight, bias = packed.state
        return weight, None if bias is None else bias.detach().float()
    return packed


def cell_params(param):
    """``((w_ih, b_ih), (w_hh, b_hh))`` of one layer-direction: an ember pair of pairs as is, or PyTorch's
    CellParamsBase of a qint8 or float16 dynamic layer."""
    if isinstance(param, ScriptObject):
        if param.qualified_name != _CELL or param.state[0] not in ("quantized_dynamic", "quantized_fp16"):
            raise RuntimeError(f"expected PyTorch's dynamic quantized cell parameters, got {param.qualified_name} "
                               f"{param.state[0] if param.qualified_name == _CELL else ''}".rstrip())
        kind, _, _, _, packed = param.state
        if kind == "quantized_fp16":
            raise RuntimeError("ember reads PyTorch's qint8 dynamic recurrent layers; float16 ones store their "
                               "weights in fbgemm's packed fp16 format")
        return weight_bias(packed[0]), weight_bias(packed[1])
    return param


def pack_linear(weight, bias):
    """PyTorch's LinearPackedParamsBase holding a qint8 ``weight`` and a float ``bias``."""
    return ScriptObject((weight, bias), _LINEAR)


def pack_cell(pair_ih, pair_hh):
    """PyTorch's CellParamsBase of a qint8 dynamic layer-direction (reduce_range on, as PyTorch's version 2)."""
    return ScriptObject(("quantized_dynamic", [pair_ih[1], pair_hh[1]], [], [1],
                         [pack_linear(*pair_ih), pack_linear(*pair_hh)]), _CELL)
