"""``QuantStub``, ``DeQuantStub`` and ``QuantWrapper`` (``torch.ao.quantization.stubs``): where a model's float
values turn quantized and back; identities until ``convert`` swaps them for ``Quantize``/``DeQuantize``."""
from ember import nn

__all__ = ["QuantStub", "DeQuantStub", "QuantWrapper"]


class QuantStub(nn.Module):
    """Marks where quantization starts; returns its input unchanged until converted."""

    def __init__(self, qconfig=None):
        super().__init__()
        if qconfig:
            self.qconfig = qconfig

    def forward(self, x):
        """Returns ``x``."""
        return x


class DeQuantStub(nn.Module):
    """Marks where quantization ends; returns its input unchanged until converted."""

    def __init__(self, qconfig=None):
        super().__init__()
        if qconfig:
            self.qconfig = qconfig

    def forward(self, x):
        """Returns ``x``."""
        return x


class QuantWrapper(nn.Module):
    """``module`` between a QuantStub (``quant``) and a DeQuantStub (``dequant``)."""

    def __init__(self, module):
        super().__init__()
        qconfig = getattr(module, "qconfig", None)
        self.add_module("quant", QuantStub(qconfig))
        self.add_module("dequant", DeQuantStub(qconfig))
        self.add_module("module", module)
        self.train(module.training)

    def forward(self, X):
        """``dequant(module(quant(X)))``."""
        return self.dequant(self.module(self.quant(X)))
