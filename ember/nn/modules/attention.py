"""MultiheadAttention, in PyTorch's shape (parameter names, initialisation, mask conventions)."""
from ... import ops
from ...ops.attention import _none_or_dtype
from .. import functional as F, init
from ..functional import _canonical_mask
from ..parameter import Parameter
from .linear import Linear
from .module import Module


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear under the name PyTorch gives MultiheadAttention's output projection."""


class MultiheadAttention(Module):
    """Attention over ``num_heads`` heads of size embed_dim // num_heads, with input and output projections."""

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None):
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                             f"num_heads={num_heads} instead")
        super().__init__()
        factory = dict(device=device, dtype=dtype)
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(ops.creation.empty((3 * embed_dim, embed_dim), **factory))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(ops.creation.empty((embed_dim, embed_dim), **factory))
            self.k_proj_weight = Parameter(ops.creation.empty((embed_dim, self.kdim), **factory))
            self.v_proj_weight = Parameter(ops.creation.empty((embed_dim, self.vdim), **factory))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(ops.creation.empty(3 * embed_dim, **factory))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **factory)
        if add_bias_kv:
            self.bias_k = Parameter(ops.creation.empty((1, 1, embed_dim), **factory))
            self.bias_v = Parameter(ops.creation.empty((1, 1, embed_dim), **factory))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        """Xavier-uniform projections, zero biases and Xavier-normal bias_k/bias_v, as PyTorch."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def _why_no_nested_path(self, query, key, value):
        """PyTorch's first reason, in its order, why a nested tensor's call missed its fast path (ember has none:
        nested tensors reach its checks past the ones a subclass fails)."""
        from ... import backends   # the public switch (nn may use the top-level package)
        reasons = [
            (not backends.mha.get_fastpath_enabled(), "torch.backends.mha.get_fastpath_enabled() was not True"),
            (query.dim() != 3, f"input not batched; expected query.dim() of 3 but got {query.dim()}"),
            (query is not key or key is not value,
             "non-self attention was used (query, key, and value are not the same Tensor)"),
            (self.in_proj_bias is not None and query.dtype != self.in_proj_bias.dtype,
             f"dtypes of query ({query.dtype}) and self.in_proj_bias ({getattr(self.in_proj_bias, 'dtype', None)}) "
             "don't match"),
            (self.in_proj_weight is None, "in_proj_weight was None"),
            (self.in_proj_weight is not None and query.dtype != self.in_proj_weight.dtype,
             f"dtypes of query ({query.dtype}) and self.in_proj_weight ({getattr(self.in_proj_weight, 'dtype', None)}) "
             "don't match"),
            (self.training, "training is enabled"), (self.num_heads % 2 != 0, "self.num_heads is not even"),
            (not self.batch_first, "batch_first was not True"), (self.bias_k is not None, "self.bias_k was not None"),
            (self.bias_v is not None, "self.bias_v was not None"), (self.add_zero_attn, "add_zero_attn was enabled"),
            (not self._qkv_same_embed_dim, "_qkv_same_embed_dim was not True")]
        return next((reason for failed, reason in reasons if failed), "some Tensor argument has_torch_function")

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        """Returns (attention output, attention weights or None); masks mark with True what not to attend."""
        if query.is_nested or key.is_nested or value.is_nested:   # PyTorch's take them only on its C++ fast path
            raise AssertionError("MultiheadAttention does not support NestedTensor outside of its fast path. The fast "
                                 f"path was not hit because {self._why_no_nested_path(query, key, value)}")
        is_batched = query.ndim == 3
        key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", _none_or_dtype(attn_mask),
                                           "attn_mask", query.dtype)
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, check_other=False)
        separate = not self._qkv_same_embed_dim
        batch_first = self.batch_first and is_batched
        if batch_first:   # transposed as PyTorch's, a self-attention's one input once
            if key is value:
                if query is key:
                    query = key = value = query.transpose(1, 0)
                else:
                    query, key = (x.transpose(1, 0) for x in (query, key))
                    value = key
            else:
                query, key, value = (x.transpose(1, 0) for x in (query, key, value))
        output, weights = F.multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight, self.in_proj_bias, self.bias_k,
            self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight, self.out_proj.bias,
            training=self.training, key_padding_mask=key_padding_mask, need_weights=need_weights,
            attn_mask=attn_mask, use_separate_proj_weight=separate, q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights, is_causal=is_causal)
        if batch_first:
            return output.transpose(1, 0), weights
        return output, weights
