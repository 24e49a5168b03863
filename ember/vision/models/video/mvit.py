"""Multiscale Vision Transformers for video: MViT-V1-B (arXiv:2104.11227) and MViT-V2-S (arXiv:2112.01526, pooled
residuals and decomposed relative positions), with torchvision's layout so its Kinetics-400 checkpoints load.

Tokens are a class token followed by the clip's (T, H, W) patches. Attention pools its queries and keys/values with
depthwise 3-D convolutions, so each stage shrinks the token grid while the channels grow. The token-reshaping helpers
are fx leaves, as torchvision's."""
import math
from dataclasses import dataclass
from functools import partial
from typing import Optional

import ember
from ember import nn

from ...ops.misc import MLP
from ...ops.stochastic_depth import StochasticDepth
from ...transforms._presets import VideoClassification
from .._api import Weights, WeightsEnum, register_model
from .._meta import _KINETICS400_CATEGORIES
from .._utils import _load_weights, _ovewrite_named_param, handle_legacy_interface

__all__ = ["MViT", "MViT_V1_B_Weights", "mvit_v1_b", "MViT_V2_S_Weights", "mvit_v2_s"]


@dataclass
class MSBlockConfig:
    """One multiscale block: heads, input and output channels, and the (T, H, W) kernels and strides that pool the
    queries (``*_q``) and keys/values (``*_kv``); an empty list pools nothing."""

    num_heads: int
    input_channels: int
    output_channels: int
    kernel_q: list
    kernel_kv: list
    stride_q: list
    stride_kv: list


def _prod(s):
    return math.prod(s)


def _unsqueeze(x, target_dim, expand_dim):
    """``x`` with a size-1 dim inserted at ``expand_dim`` when it has one dim fewer than ``target_dim``; also its
    original number of dims."""
    tensor_dim = x.dim()
    if tensor_dim == target_dim - 1:
        x = x.unsqueeze(expand_dim)
    elif tensor_dim != target_dim:
        raise ValueError(f"Unsupported input dimension {x.shape}")
    return x, tensor_dim


def _squeeze(x, target_dim, expand_dim, tensor_dim):
    """Undoes :func:`_unsqueeze`."""
    return x.squeeze(expand_dim) if tensor_dim == target_dim - 1 else x


ember.fx.wrap("_unsqueeze")
ember.fx.wrap("_squeeze")


class Pool(nn.Module):
    """Pools the patch tokens of ``(B, [heads,] 1 + T*H*W, C)`` over their (T, H, W) grid with ``pool`` (the class
    token passes untouched), then applies ``norm`` and ``activation`` (before pooling if ``norm_before_pool``). The
    forward returns the tokens and the pooled grid's size."""

    def __init__(self, pool, norm, activation=None, norm_before_pool=False):
        super().__init__()
        self.pool = pool
        layers = [m for m in (norm, activation) if m is not None]
        self.norm_act = nn.Sequential(*layers) if layers else None
        self.norm_before_pool = norm_before_pool

    def forward(self, x, thw):
        x, tensor_dim = _unsqueeze(x, 4, 1)
        class_token, x = ember.tensor_split(x, indices=(1,), dim=2)
        x = x.transpose(2, 3)
        B, N, C = x.shape[:3]
        x = x.reshape((B * N, C) + tuple(thw)).contiguous()
        if self.norm_before_pool and self.norm_act is not None:
            x = self.norm_act(x)
        x = self.pool(x)
        T, H, W = x.shape[2:]
        x = ember.cat((class_token, x.reshape(B, N, C, -1).transpose(2, 3)), dim=2)
        if not self.norm_before_pool and self.norm_act is not None:
            x = self.norm_act(x)
        return _squeeze(x, 4, 1, tensor_dim), (T, H, W)


def _interpolate(embedding, d):
    """A ``(L, C)`` table of relative-position embeddings resampled linearly to ``d`` rows."""
    if embedding.shape[0] == d:
        return embedding
    resized = nn.functional.interpolate(embedding.permute(1, 0).unsqueeze(0), size=d, mode="linear")
    return resized.squeeze(0).permute(1, 0)


def _relative_index(q_size, k_size):
    """Row ``i``, column ``j``: the table row of query position ``i`` against key position ``j``, positions scaled
    to the finer of the two grids."""
    q_ratio, k_ratio = max(k_size / q_size, 1.0), max(q_size / k_size, 1.0)
    dist = ember.arange(q_size)[:, None] * q_ratio - (ember.arange(k_size)[None, :] + (1.0 - k_size)) * k_ratio
    return dist.long()


def _add_rel_pos(attn, q, q_thw, k_thw, rel_pos_h, rel_pos_w, rel_pos_t):
    """MViTv2's decomposed relative positions: adds, in place, to the patch-to-patch scores of ``attn`` the
    queries' products with the height, width and time embeddings of each query-key offset."""
    tables = []
    for q_size, k_size, table in zip(q_thw, k_thw, (rel_pos_t, rel_pos_h, rel_pos_w)):
        table = _interpolate(table, int(2 * max(q_size, k_size) - 1))
        tables.append(table[_relative_index(q_size, k_size)])
    Rt, Rh, Rw = tables
    q_t, q_h, q_w = q_thw
    B, n_head, _, dim = q.shape
    r_q = q[:, :, 1:].reshape(B, n_head, q_t, q_h, q_w, dim)
    rel_h = ember.einsum("bythwc,hkc->bythwk", r_q, Rh)
    rel_w = ember.einsum("bythwc,wkc->bythwk", r_q, Rw)
    rel_t = ember.einsum("bythwc,tkc->bythwk", r_q, Rt)
    rel_pos = (rel_h[:, :, :, :, :, None, :, None] + rel_w[:, :, :, :, :, None, None, :]
               + rel_t[:, :, :, :, :, :, None, None])
    attn[:, :, 1:, 1:] += rel_pos.reshape(B, n_head, q_t * q_h * q_w, -1)
    return attn


def _add_shortcut(x, shortcut, residual_with_cls_embed):
    """Adds the pooled queries to the attention output in place (the class token's too if
    ``residual_with_cls_embed``)."""
    if residual_with_cls_embed:
        x.add_(shortcut)
    else:
        x[:, :, 1:, :] += shortcut[:, :, 1:, :]
    return x


ember.fx.wrap("_add_rel_pos")
ember.fx.wrap("_add_shortcut")


def _pool_conv(head_dim, kernel, stride, norm_layer):
    """A :class:`Pool` of a depthwise 3-D convolution ("same" padding) and ``norm_layer`` over the head's
    channels."""
    conv = nn.Conv3d(head_dim, head_dim, kernel, stride=stride, padding=[int(k // 2) for k in kernel],
                     groups=head_dim, bias=False)
    return Pool(conv, norm_layer(head_dim))


class MultiscaleAttention(nn.Module):
    """Multi-head attention whose queries (``pool_q``) and keys/values (``pool_k``, ``pool_v``) are pooled over the
    token grid; with ``residual_pool`` the pooled queries are added to the output, with ``rel_pos_embed`` the scores
    get MViTv2's relative positions (``rel_pos_h``, ``rel_pos_w``, ``rel_pos_t``)."""

    def __init__(self, input_size, embed_dim, output_dim, num_heads, kernel_q, kernel_kv, stride_q, stride_kv,
                 residual_pool, residual_with_cls_embed, rel_pos_embed, dropout=0.0, norm_layer=nn.LayerNorm):
        super().__init__()
        self.embed_dim = embed_dim
        self.output_dim = output_dim
        self.num_heads = num_heads
        self.head_dim = output_dim // num_heads
        self.scaler = 1.0 / math.sqrt(self.head_dim)
        self.residual_pool = residual_pool
        self.residual_with_cls_embed = residual_with_cls_embed
        self.qkv = nn.Linear(embed_dim, 3 * output_dim)
        layers = [nn.Linear(output_dim, output_dim)]
        if dropout > 0.0:
            layers.append(nn.Dropout(dropout, inplace=True))
        self.project = nn.Sequential(*layers)
        self.pool_q = None
        if _prod(kernel_q) > 1 or _prod(stride_q) > 1:
            self.pool_q = _pool_conv(self.head_dim, kernel_q, stride_q, norm_layer)
        self.pool_k = self.pool_v = None
        if _prod(kernel_kv) > 1 or _prod(stride_kv) > 1:
            self.pool_k = _pool_conv(self.head_dim, kernel_kv, stride_kv, norm_layer)
            self.pool_v = _pool_conv(self.head_dim, kernel_kv, stride_kv, norm_layer)
        self.rel_pos_h = self.rel_pos_w = self.rel_pos_t = None
        if rel_pos_embed:
            size = max(input_size[1:])
            q_size = size // stride_q[1] if len(stride_q) > 0 else size
            kv_size = size // stride_kv[1] if len(stride_kv) > 0 else size
            spatial_dim = 2 * max(q_size, kv_size) - 1
            self.rel_pos_h = nn.Parameter(ember.zeros(spatial_dim, self.head_dim))
            self.rel_pos_w = nn.Parameter(ember.zeros(spatial_dim, self.head_dim))
            self.rel_pos_t = nn.Parameter(ember.zeros(2 * input_size[0] - 1, self.head_dim))
            for table in (self.rel_pos_h, self.rel_pos_w, self.rel_pos_t):
                nn.init.trunc_normal_(table, std=0.02)

    def forward(self, x, thw):
        B, N, C = x.shape
        q, k, v = self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dim).transpose(1, 3).unbind(dim=2)
        k_thw = thw
        if self.pool_k is not None:
            k, k_thw = self.pool_k(k, thw)
        if self.pool_v is not None:
            v = self.pool_v(v, thw)[0]
        if self.pool_q is not None:
            q, thw = self.pool_q(q, thw)
        attn = ember.matmul(self.scaler * q, k.transpose(2, 3))
        if self.rel_pos_h is not None and self.rel_pos_w is not None and self.rel_pos_t is not None:
            attn = _add_rel_pos(attn, q, thw, k_thw, self.rel_pos_h, self.rel_pos_w, self.rel_pos_t)
        x = ember.matmul(attn.softmax(dim=-1), v)
        if self.residual_pool:
            _add_shortcut(x, q, self.residual_with_cls_embed)
        x = x.transpose(1, 2).reshape(B, -1, self.output_dim)
        return self.project(x), thw


class MultiscaleBlock(nn.Module):
    """Pre-norm transformer block on a token grid: :class:`MultiscaleAttention` with a max-pooled skip
    (``pool_skip``) where the queries are strided, then an MLP; ``project`` changes the channels, after the attention
    (``proj_after_attn``, MViTv2) or after the MLP's norm (MViTv1)."""

    def __init__(self, input_size, cnf, residual_pool, residual_with_cls_embed, rel_pos_embed, proj_after_attn,
                 dropout=0.0, stochastic_depth_prob=0.0, norm_layer=nn.LayerNorm):
        super().__init__()
        self.proj_after_attn = proj_after_attn
        self.pool_skip = None
        if _prod(cnf.stride_q) > 1:
            kernel_skip = [s + 1 if s > 1 else s for s in cnf.stride_q]
            self.pool_skip = Pool(nn.MaxPool3d(kernel_skip, stride=cnf.stride_q,
                                               padding=[int(k // 2) for k in kernel_skip]), None)
        attn_dim = cnf.output_channels if proj_after_attn else cnf.input_channels
        self.norm1 = norm_layer(cnf.input_channels)
        self.norm2 = norm_layer(attn_dim)
        self.needs_transposal = isinstance(self.norm1, nn.BatchNorm1d)
        self.attn = MultiscaleAttention(
            input_size, cnf.input_channels, attn_dim, cnf.num_heads, kernel_q=cnf.kernel_q, kernel_kv=cnf.kernel_kv,
            stride_q=cnf.stride_q, stride_kv=cnf.stride_kv, rel_pos_embed=rel_pos_embed, residual_pool=residual_pool,
            residual_with_cls_embed=residual_with_cls_embed, dropout=dropout, norm_layer=norm_layer)
        self.mlp = MLP(attn_dim, [4 * attn_dim, cnf.output_channels], activation_layer=nn.GELU, dropout=dropout,
                       inplace=None)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")
        self.project = None
        if cnf.input_channels != cnf.output_channels:
            self.project = nn.Linear(cnf.input_channels, cnf.output_channels)

    def _norm(self, norm, x):
        """``norm`` over the channels (batch norms see them as dim 1)."""
        return norm(x.transpose(1, 2)).transpose(1, 2) if self.needs_transposal else norm(x)

    def forward(self, x, thw):
        x_norm1 = self._norm(self.norm1, x)
        x_attn, thw_new = self.attn(x_norm1, thw)
        if self.project is not None and self.proj_after_attn:
            x = self.project(x_norm1)
        x_skip = x if self.pool_skip is None else self.pool_skip(x, thw)[0]
        x = x_skip + self.stochastic_depth(x_attn)
        x_norm2 = self._norm(self.norm2, x)
        x_proj = x if self.project is None or self.proj_after_attn else self.project(x_norm2)
        return x_proj + self.stochastic_depth(self.mlp(x_norm2)), thw_new


class PositionalEncoding(nn.Module):
    """Prepends the learned ``class_token``; without relative positions, adds the sum of a spatial and a temporal
    embedding to each patch (``class_pos`` to the class token)."""

    def __init__(self, embed_size, spatial_size, temporal_size, rel_pos_embed):
        super().__init__()
        self.spatial_size = spatial_size
        self.temporal_size = temporal_size
        self.class_token = nn.Parameter(ember.zeros(embed_size))
        self.spatial_pos = self.temporal_pos = self.class_pos = None
        if not rel_pos_embed:
            self.spatial_pos = nn.Parameter(ember.zeros(self.spatial_size[0] * self.spatial_size[1], embed_size))
            self.temporal_pos = nn.Parameter(ember.zeros(self.temporal_size, embed_size))
            self.class_pos = nn.Parameter(ember.zeros(embed_size))

    def forward(self, x):
        x = ember.cat((self.class_token.expand(x.size(0), -1).unsqueeze(1), x), dim=1)
        if self.spatial_pos is not None and self.temporal_pos is not None and self.class_pos is not None:
            hw_size, embed_size = self.spatial_pos.shape
            pos = ember.repeat_interleave(self.temporal_pos, hw_size, dim=0)
            pos.add_(self.spatial_pos.unsqueeze(0).expand(self.temporal_size, -1, -1).reshape(-1, embed_size))
            x.add_(ember.cat((self.class_pos.unsqueeze(0), pos), dim=0).unsqueeze(0))
        return x


class MViT(nn.Module):
    """Multiscale Vision Transformer: ``conv_proj`` patchifies clips of ``temporal_size`` x ``spatial_size``
    (images are taken as one-frame clips), ``pos_encoding`` adds the class token and positions, ``blocks`` (one per
    :class:`MSBlockConfig` of ``block_setting``) pool the token grid stage by stage, and ``norm`` and ``head``
    classify the class token. ``residual_pool``, ``residual_with_cls_embed``, ``rel_pos_embed`` and
    ``proj_after_attn`` choose between MViTv1 and MViTv2; ``stochastic_depth_prob`` grows linearly to the last
    block."""

    def __init__(self, spatial_size, temporal_size, block_setting, residual_pool, residual_with_cls_embed,
                 rel_pos_embed, proj_after_attn, dropout=0.5, attention_dropout=0.0, stochastic_depth_prob=0.0,
                 num_classes=400, block=None, norm_layer=None, patch_embed_kernel=(3, 7, 7),
                 patch_embed_stride=(2, 4, 4), patch_embed_padding=(1, 3, 3)):
        super().__init__()
        total_stage_blocks = len(block_setting)
        if total_stage_blocks == 0:
            raise ValueError("The configuration parameter can't be empty.")
        if block is None:
            block = MultiscaleBlock
        if norm_layer is None:
            norm_layer = partial(nn.LayerNorm, eps=1e-6)
        self.conv_proj = nn.Conv3d(in_channels=3, out_channels=block_setting[0].input_channels,
                                   kernel_size=patch_embed_kernel, stride=patch_embed_stride,
                                   padding=patch_embed_padding)
        input_size = [size // stride for size, stride in zip((temporal_size,) + tuple(spatial_size),
                                                              self.conv_proj.stride)]
        self.pos_encoding = PositionalEncoding(embed_size=block_setting[0].input_channels,
                                               spatial_size=(input_size[1], input_size[2]),
                                               temporal_size=input_size[0], rel_pos_embed=rel_pos_embed)
        self.blocks = nn.ModuleList()
        for stage_block_id, cnf in enumerate(block_setting):
            sd_prob = stochastic_depth_prob * stage_block_id / (total_stage_blocks - 1.0)
            self.blocks.append(block(input_size=input_size, cnf=cnf, residual_pool=residual_pool,
                                     residual_with_cls_embed=residual_with_cls_embed, rel_pos_embed=rel_pos_embed,
                                     proj_after_attn=proj_after_attn, dropout=attention_dropout,
                                     stochastic_depth_prob=sd_prob, norm_layer=norm_layer))
            if len(cnf.stride_q) > 0:
                input_size = [size // stride for size, stride in zip(input_size, cnf.stride_q)]
        self.norm = norm_layer(block_setting[-1].output_channels)
        self.head = nn.Sequential(nn.Dropout(dropout, inplace=True),
                                  nn.Linear(block_setting[-1].output_channels, num_classes))
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0.0)
            elif isinstance(m, nn.LayerNorm):
                if m.weight is not None:
                    nn.init.constant_(m.weight, 1.0)
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0.0)
            elif isinstance(m, PositionalEncoding):
                for weights in m.parameters():
                    nn.init.trunc_normal_(weights, std=0.02)

    def forward(self, x):
        x = _unsqueeze(x, 5, 2)[0]
        x = self.conv_proj(x).flatten(2).transpose(1, 2)
        x = self.pos_encoding(x)
        thw = (self.pos_encoding.temporal_size,) + self.pos_encoding.spatial_size
        for block in self.blocks:
            x, thw = block(x, thw)
        return self.head(self.norm(x)[:, 0])


def _mvit(block_setting, stochastic_depth_prob, weights, progress, **kwargs):
    if weights is not None:
        _ovewrite_named_param(kwargs, "num_classes", len(weights.meta["categories"]))
        assert weights.meta["min_size"][0] == weights.meta["min_size"][1]
        _ovewrite_named_param(kwargs, "spatial_size", weights.meta["min_size"])
        _ovewrite_named_param(kwargs, "temporal_size", weights.meta["min_temporal_size"])
    model = MViT(
        spatial_size=kwargs.pop("spatial_size", (224, 224)),
        temporal_size=kwargs.pop("temporal_size", 16),
        block_setting=block_setting,
        residual_pool=kwargs.pop("residual_pool", False),
        residual_with_cls_embed=kwargs.pop("residual_with_cls_embed", True),
        rel_pos_embed=kwargs.pop("rel_pos_embed", False),
        proj_after_attn=kwargs.pop("proj_after_attn", False),
        stochastic_depth_prob=stochastic_depth_prob,
        **kwargs,
    )
    return _load_weights(model, weights, progress)


def _kinetics_weights(url, recipe, num_params, acc1, acc5, ops, file_size):
    """A Kinetics-400 ``Weights`` entry of the MViTs (224-pixel, 16-frame clips; weights ported from the papers)."""
    return Weights(
        url=url,
        transforms=partial(VideoClassification, crop_size=(224, 224), resize_size=(256,), mean=(0.45, 0.45, 0.45),
                           std=(0.225, 0.225, 0.225)),
        meta={
            "min_size": (224, 224),
            "min_temporal_size": 16,
            "categories": _KINETICS400_CATEGORIES,
            "recipe": recipe,
            "_docs": ("The weights were ported from the paper. The accuracies are estimated on video-level "
                      "with parameters `frame_rate=7.5`, `clips_per_video=5`, and `clip_len=16`"),
            "num_params": num_params,
            "_metrics": {"Kinetics-400": {"acc@1": acc1, "acc@5": acc5}},
            "_ops": ops,
            "_file_size": file_size,
        },
    )


class MViT_V1_B_Weights(WeightsEnum):
    """Pretrained weights of ``mvit_v1_b``: the members' url, transforms and meta are torchvision's."""

    KINETICS400_V1 = _kinetics_weights(
        "https://download.pytorch.org/models/mvit_v1_b-dbeb1030.pth",
        "https://github.com/facebookresearch/pytorchvideo/blob/main/docs/source/model_zoo.md", 36610672, 78.477,
        93.582, 70.599, 139.764)
    DEFAULT = KINETICS400_V1


class MViT_V2_S_Weights(WeightsEnum):
    """Pretrained weights of ``mvit_v2_s``: the members' url, transforms and meta are torchvision's."""

    KINETICS400_V1 = _kinetics_weights(
        "https://download.pytorch.org/models/mvit_v2_s-ae3be167.pth",
        "https://github.com/facebookresearch/SlowFast/blob/main/MODEL_ZOO.md", 34537744, 80.757, 94.665, 64.224,
        131.884)
    DEFAULT = KINETICS400_V1


# Both variants: 16 blocks in four stages (96, 192, 384, 768 channels), the queries strided at blocks 1, 3 and 14,
# the keys/values pooled down to a grid of 1/8 of the first stage's.
_HEADS = [1, 2, 2, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 8, 8]
_QUERY_STRIDED = (1, 3, 14)
_STRIDE_KV = [[1, 8, 8], [1, 4, 4], [1, 4, 4]] + [[1, 2, 2]] * 11 + [[1, 1, 1]] * 2


def _block_setting(input_channels, output_channels, query_kernel_everywhere):
    """The 16 blocks' configs; MViTv1 pools queries only where they are strided, MViTv2 everywhere (stride 1 but
    where strided)."""
    settings = []
    for i, heads in enumerate(_HEADS):
        strided = i in _QUERY_STRIDED
        if query_kernel_everywhere:
            kernel_q, stride_q = [3, 3, 3], [1, 2, 2] if strided else [1, 1, 1]
        else:
            kernel_q, stride_q = ([3, 3, 3], [1, 2, 2]) if strided else ([], [])
        settings.append(MSBlockConfig(num_heads=heads, input_channels=input_channels[i],
                                      output_channels=output_channels[i], kernel_q=kernel_q, kernel_kv=[3, 3, 3],
                                      stride_q=stride_q, stride_kv=list(_STRIDE_KV[i])))
    return settings


@register_model()
@handle_legacy_interface(weights=("pretrained", MViT_V1_B_Weights.KINETICS400_V1))
def mvit_v1_b(*, weights: Optional[MViT_V1_B_Weights] = None, progress: bool = True, **kwargs):
    """MViT-V1-B (arXiv:2104.11227) for 16-frame 224 x 224 clips; ``kwargs`` go to :class:`MViT`
    (``stochastic_depth_prob`` defaults to 0.2)."""
    weights = MViT_V1_B_Weights.verify(weights)
    block_setting = _block_setting([96, 192, 192] + [384] * 11 + [768] * 2, [192, 192] + [384] * 11 + [768] * 3,
                                   query_kernel_everywhere=False)
    return _mvit(spatial_size=(224, 224), temporal_size=16, block_setting=block_setting, residual_pool=False,
                 residual_with_cls_embed=False, stochastic_depth_prob=kwargs.pop("stochastic_depth_prob", 0.2),
                 weights=weights, progress=progress, **kwargs)


@register_model()
@handle_legacy_interface(weights=("pretrained", MViT_V2_S_Weights.KINETICS400_V1))
def mvit_v2_s(*, weights: Optional[MViT_V2_S_Weights] = None, progress: bool = True, **kwargs):
    """MViT-V2-S (arXiv:2112.01526): pooled-query residuals, decomposed relative positions and the channel projection
    after the attention; ``kwargs`` go to :class:`MViT` (``stochastic_depth_prob`` defaults to 0.2)."""
    weights = MViT_V2_S_Weights.verify(weights)
    block_setting = _block_setting([96, 96, 192, 192] + [384] * 11 + [768], [96, 192, 192] + [384] * 11 + [768] * 2,
                                   query_kernel_everywhere=True)
    return _mvit(spatial_size=(224, 224), temporal_size=16, block_setting=block_setting, residual_pool=True,
                 residual_with_cls_embed=False, rel_pos_embed=True, proj_after_attn=True,
                 stochastic_depth_prob=kwargs.pop("stochastic_depth_prob", 0.2), weights=weights, progress=progress,
                 **kwargs)
