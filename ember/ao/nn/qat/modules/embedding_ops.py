"""QAT embeddings (``torch.ao.nn.qat.Embedding``, ``EmbeddingBag``): float tables fake-quantized (quint8 rows with
float qparams) on every forward."""
from ember import nn
from ember.nn import functional as F

__all__ = ["Embedding", "EmbeddingBag"]

_QSCHEME_ERROR = "Embedding weights requires a qscheme of torch.per_channel_affine_float_qparams Got "


def _check_qconfig(qconfig):
    import ember
    if not qconfig:
        raise AssertionError("qconfig must be provided for QAT module")
    qscheme = qconfig.weight().qscheme
    if qscheme != ember.per_channel_affine_float_qparams:
        raise AssertionError(_QSCHEME_ERROR + str(qscheme))


def _check_float(cls, mod):
    import ember
    if type(mod) is not cls._FLOAT_MODULE:
        raise AssertionError(" qat." + cls.__name__ + ".from_float only works for " + cls._FLOAT_MODULE.__name__)
    if not hasattr(mod, "qconfig"):
        raise AssertionError("Input float module must have qconfig defined")
    if not mod.qconfig:
        raise AssertionError("Input float module must have a valid qconfig")
    qscheme = mod.qconfig.weight().qscheme
    if qscheme != ember.per_channel_affine_float_qparams:
        raise AssertionError(_QSCHEME_ERROR + str(qscheme))


class Embedding(nn.Embedding):
    """An Embedding whose table is fake-quantized by ``weight_fake_quant`` on every forward."""

    _FLOAT_MODULE = nn.Embedding

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, device=None, dtype=None, qconfig=None):
        super().__init__(num_embeddings, embedding_dim, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                         _weight, device=device, dtype=dtype)
        _check_qconfig(qconfig)
        self.qconfig = qconfig
        self.weight_fake_quant = qconfig.weight()

    def forward(self, input):
        """The rows of the fake-quantized table."""
        return F.embedding(input, self.weight_fake_quant(self.weight), self.padding_idx, self.max_norm,
                           self.norm_type, self.scale_grad_by_freq, self.sparse)

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The QAT Embedding of float ``mod`` (its qconfig's weight must have float qparams per row)."""
        _check_float(cls, mod)
        return cls(mod.num_embeddings, mod.embedding_dim, mod.padding_idx, mod.max_norm, mod.norm_type,
                   mod.scale_grad_by_freq, mod.sparse, mod.weight, qconfig=mod.qconfig)

    def to_float(self):
        """The float Embedding with this table."""
        embedding = nn.Embedding(self.num_embeddings, self.embedding_dim, self.padding_idx, self.max_norm,
                                 self.norm_type, self.scale_grad_by_freq, self.sparse, None)
        embedding.weight = nn.Parameter(self.weight.detach())
        embedding.train(self.training)
        return embedding


class EmbeddingBag(nn.EmbeddingBag):
    """An EmbeddingBag whose table is fake-quantized by ``weight_fake_quant`` on every forward."""

    _FLOAT_MODULE = nn.EmbeddingBag

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                 mode="mean", sparse=False, _weight=None, include_last_offset=False, padding_idx=None, qconfig=None,
                 device=None, dtype=None):
        super().__init__(num_embeddings, embedding_dim, max_norm, norm_type, scale_grad_by_freq, mode, sparse,
                         _weight, include_last_offset, padding_idx, device=device, dtype=dtype)
        _check_qconfig(qconfig)
        self.qconfig = qconfig
        self.weight_fake_quant = qconfig.weight()

    def forward(self, input, offsets=None, per_sample_weights=None):
        """The bags' reductions over the fake-quantized table."""
        return F.embedding_bag(input, self.weight_fake_quant(self.weight), offsets, self.max_norm, self.norm_type,
                               self.scale_grad_by_freq, self.mode, self.sparse, per_sample_weights,
                               self.include_last_offset, self.padding_idx)

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The QAT EmbeddingBag of float ``mod``."""
        _check_float(cls, mod)
        return cls(mod.num_embeddings, mod.embedding_dim, mod.max_norm, mod.norm_type, mod.scale_grad_by_freq,
                   mod.mode, mod.sparse, mod.weight, mod.include_last_offset, mod.padding_idx, qconfig=mod.qconfig)

    def to_float(self):
        """The float EmbeddingBag with this table."""
        bag = nn.EmbeddingBag(self.num_embeddings, self.embedding_dim, self.max_norm, self.norm_type,
                              self.scale_grad_by_freq, self.mode, self.sparse, None, self.include_last_offset,
                              self.padding_idx)
        bag.weight = nn.Parameter(self.weight.detach())
        bag.train(self.training)
        return bag
