"""``ember.ao.nn.quantized`` (``torch.ao.nn.quantized``, also ``torch.nn.quantized``): quantized modules; the
dynamically quantized ones live in ``dynamic``."""
from . import dynamic  # noqa: F401
from .modules import DeQuantize, Embedding, EmbeddingBag, LinearPackedParams, Quantize  # noqa: F401

__all__ = ["LinearPackedParams", "Quantize", "DeQuantize", "Embedding", "EmbeddingBag"]
