"""Quantized modules (``torch.ao.nn.quantized.modules``)."""
from .embedding_ops import Embedding, EmbeddingBag, EmbeddingPackedParams
from .linear import LinearPackedParams
from .stubs import DeQuantize, Quantize

__all__ = ["LinearPackedParams", "Quantize", "DeQuantize", "Embedding", "EmbeddingBag", "EmbeddingPackedParams"]
