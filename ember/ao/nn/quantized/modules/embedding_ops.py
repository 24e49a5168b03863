"""Quantized embeddings (``torch.ao.nn.quantized.Embedding``/``EmbeddingBag``): quint8 tables quantized row by row
with float scales and zero points (``per_channel_affine_float_qparams``), looked up as fbgemm does. Their state
dicts (``_packed_params.dtype``, ``_packed_params._packed_weight``: the quantized table) are PyTorch's."""
import numpy

import ember
from ember import nn

from ...._embedding_bag import embedding_bag_byte, embedding_byte
from ...._qtensor import make_qtensor
from .utils import _quantize_weight

__all__ = ["EmbeddingPackedParams", "Embedding", "EmbeddingBag"]


def _empty_table(num_embeddings, embedding_dim):
    return make_qtensor(numpy.zeros((num_embeddings, embedding_dim), numpy.uint8), ember.quint8,
                        ember.per_channel_affine_float_qparams, scales=numpy.ones(num_embeddings, numpy.float32),
                        zero_points=numpy.zeros(num_embeddings, numpy.float32), axis=0)


class EmbeddingPackedParams(nn.Module):
    """Holds a quantized embedding table, saved as ``<prefix>dtype`` and ``<prefix>_packed_weight``."""

    _version = 1

    def __init__(self, num_embeddings, embedding_dim, dtype=ember.quint8):
        super().__init__()
        if dtype is not ember.quint8:
            raise RuntimeError(f"ember quantizes embedding tables to quint8 only, got dtype: {dtype}")
        self.dtype = dtype
        self.set_weight(_empty_table(num_embeddings, embedding_dim))

    def set_weight(self, weight):
        """Stores the quantized table (quint8, per_channel_affine_float_qparams along rows)."""
        if weight.qscheme() is not ember.per_channel_affine_float_qparams or weight.q_per_channel_axis() != 0:
            raise RuntimeError("Expected weight to be quantized per row with float qparams "
                               "(per_channel_affine_float_qparams, axis 0)")
        self._packed_weight = weight

    def _weight(self):
        return self._packed_weight

    def forward(self, x):
        """Returns ``x`` (the table is read by the layer that owns it)."""
        return x

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        destination[prefix + "dtype"] = self.dtype
        destination[prefix + "_packed_weight"] = self._weight()

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        self.dtype = state_dict.pop(prefix + "dtype")
        self.set_weight(state_dict.pop(prefix + "_packed_weight"))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, False, missing_keys, unexpected_keys,
                                      error_msgs)

    def __repr__(self):
        return repr(self._weight())


def _quantize_table(mod, kind):
    """``mod.weight`` quantized with its qconfig's weight observer (float qparams), PyTorch's checks first; a QAT
    embedding's own fake quantizer gives the qparams."""
    if hasattr(mod, "weight_fake_quant"):
        from ...qat import modules as nnqat
        if type(mod) is not getattr(nnqat, kind):
            raise AssertionError(f"nnq.{kind}.from_float with fake quant only works for nn.qat.{kind}")
        observer = mod.weight_fake_quant
        return _quantize_weight(mod.weight.float(), observer)
    if type(mod) is not getattr(nn, kind):
        raise AssertionError(f"nnq.{kind}.from_float only works for {kind}")
    if not hasattr(mod, "qconfig"):
        raise AssertionError(f"{kind} input float module must have qconfig defined")
    from ember.ao.quantization.qconfig import float_qparams_weight_only_qconfig
    if mod.qconfig is not None and mod.qconfig.weight is not None:
        observer = mod.qconfig.weight()
    else:
        observer = float_qparams_weight_only_qconfig.weight()
    if observer.qscheme is not ember.per_channel_affine_float_qparams:
        raise AssertionError(f"{kind} quantization is only supported with float_qparams_weight_only_qconfig.")
    if observer.dtype is not ember.quint8:
        raise AssertionError(f"The only supported dtype for nnq.{kind} is torch.quint8 and torch.quint4x2, got "
                             f"{observer.dtype}")
    observer(mod.weight)
    return _quantize_weight(mod.weight.float(), observer)


class Embedding(nn.Module):
    """An ``nn.Embedding`` over a quint8 table: each looked-up row dequantized as fbgemm does."""

    _version = 1

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, dtype=ember.quint8):
        super().__init__()
        self.num_embeddings, self.embedding_dim, self.dtype = num_embeddings, embedding_dim, dtype
        if _weight is not None and list(_weight.shape) != [num_embeddings, embedding_dim]:
            raise AssertionError(f"Shape of weight does not match num_embeddings and embedding_dim: expected "
                                 f"{[num_embeddings, embedding_dim]}, got {list(_weight.shape)}")
        self._packed_params = EmbeddingPackedParams(num_embeddings, embedding_dim, dtype)
        self._packed_params.set_weight(_empty_table(num_embeddings, embedding_dim) if _weight is None else _weight)

    def forward(self, indices):
        """The rows ``indices`` select, as float32 (shape ``indices.shape + (embedding_dim,)``)."""
        rows = embedding_byte(self.weight(), indices.numpy().astype(numpy.int64))
        return ember.from_numpy(rows)

    def _get_name(self):
        return "QuantizedEmbedding"

    def extra_repr(self):
        return (f"num_embeddings={self.num_embeddings}, embedding_dim={self.embedding_dim}, "
                f"dtype={self._packed_params.dtype}, qscheme={self.weight().qscheme()}")

    def __repr__(self):   # the packed table is not shown, as in PyTorch
        return f"{self._get_name()}({self.extra_repr()})"

    def set_weight(self, w):
        """Replaces the quantized table."""
        self._packed_params.set_weight(w)

    def weight(self):
        """The quantized table."""
        return self._packed_params._weight()

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The quantized counterpart of float ``nn.Embedding`` ``mod``."""
        table = _quantize_table(mod, "Embedding")
        quantized = Embedding(mod.num_embeddings, mod.embedding_dim)
        quantized.set_weight(table)
        return quantized

    @classmethod
    def from_reference(cls, ref_embedding):
        """The quantized Embedding of a reference one (FX graph mode quantization)."""
        return cls(ref_embedding.num_embeddings, ref_embedding.embedding_dim, ref_embedding.padding_idx,
                   ref_embedding.max_norm, ref_embedding.norm_type, ref_embedding.scale_grad_by_freq,
                   ref_embedding.sparse, ref_embedding.get_quantized_weight(), ref_embedding.weight_dtype)


class EmbeddingBag(Embedding):
    """An ``nn.EmbeddingBag`` over a quint8 table. As PyTorch's quantized kernel, bags are always summed (the
    ``mode`` is kept but not applied), optionally weighted by ``per_sample_weights``."""

    _version = 1

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                 mode="sum", sparse=False, _weight=None, include_last_offset=False, dtype=ember.quint8):
        super().__init__(num_embeddings, embedding_dim, _weight=_weight, dtype=dtype)
        self.mode, self.pruned_weights, self.include_last_offset = mode, False, include_last_offset

    def forward(self, indices, offsets=None, per_sample_weights=None, compressed_indices_mapping=None):
        """One summed row per bag: ``indices`` 1-D with ``offsets``, or 2-D (one bag per row)."""
        if indices.dim() == 1 and offsets is None:
            raise RuntimeError("embedding_bag_byte expects offsets to be set for 1D indices.")
        bags = embedding_bag_byte(self.weight(), indices.numpy().astype(numpy.int64),
                                  None if offsets is None else offsets.numpy(),
                                  None if per_sample_weights is None else per_sample_weights.detach().numpy(),
                                  self.include_last_offset)
        return ember.from_numpy(bags)

    def _get_name(self):
        return "QuantizedEmbeddingBag"

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The quantized counterpart of float ``nn.EmbeddingBag`` ``mod``."""
        table = _quantize_table(mod, "EmbeddingBag")
        quantized = EmbeddingBag(mod.num_embeddings, mod.embedding_dim, max_norm=mod.max_norm,
                                 norm_type=mod.norm_type, scale_grad_by_freq=mod.scale_grad_by_freq, mode=mod.mode,
                                 sparse=mod.sparse, include_last_offset=mod.include_last_offset)
        quantized.set_weight(table)
        return quantized

    @classmethod
    def from_reference(cls, ref_embedding_bag):
        """The quantized EmbeddingBag of a reference one (FX graph mode quantization)."""
        ref = ref_embedding_bag
        return cls(ref.num_embeddings, ref.embedding_dim, ref.max_norm, ref.norm_type, ref.scale_grad_by_freq,
                   ref.mode, ref.sparse, ref.get_quantized_weight(), ref.include_last_offset, ref.weight_dtype)
