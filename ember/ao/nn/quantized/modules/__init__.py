"""Quantized modules (``torch.ao.nn.quantized.modules``)."""
from .linear import LinearPackedParams
from .stubs import DeQuantize, Quantize

__all__ = ["LinearPackedParams", "Quantize", "DeQuantize"]
