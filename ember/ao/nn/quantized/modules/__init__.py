"""Quantized modules (``torch.ao.nn.quantized.modules``)."""
from .activation import ELU, Hardswish, LeakyReLU, ReLU6, Sigmoid
from .batchnorm import BatchNorm2d, BatchNorm3d
from .conv import Conv1d, Conv2d, Conv3d
from .dropout import Dropout
from .embedding_ops import Embedding, EmbeddingBag, EmbeddingPackedParams
from .functional_modules import FloatFunctional, FXFloatFunctional, QFunctional
from .linear import Linear, LinearPackedParams
from .normalization import GroupNorm, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, LayerNorm
from .stubs import DeQuantize, Quantize

__all__ = ["BatchNorm2d", "BatchNorm3d", "Conv1d", "Conv2d", "Conv3d", "DeQuantize", "ELU", "Embedding",
           "EmbeddingBag", "EmbeddingPackedParams", "Hardswish", "LeakyReLU", "Linear", "LinearPackedParams",
           "Quantize", "ReLU6", "Sigmoid", "Dropout", "FloatFunctional", "FXFloatFunctional", "QFunctional",
           "LayerNorm", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"]
