"""Video Swin Transformer (arXiv:2106.13230): the 2-D Swin's blocks and patch merging over (T, H, W) windows of
patch tokens, with torchvision's layout so its Kinetics-400 checkpoints load. Activations are channels-last
``(B, T, H, W, C)`` inside; inputs are clips ``(B, C, T, H, W)``. The window helpers and the attention function are
fx leaves, as torchvision's."""
from functools import partial
from typing import Optional

import ember
from ember import nn
from ember.nn import functional as F

from ...transforms._presets import VideoClassification
from .._api import Weights, WeightsEnum, register_model
from .._meta import _KINETICS400_CATEGORIES
from .._utils import _load_weights, _ovewrite_named_param, handle_legacy_interface
from ..swin_transformer import PatchMerging, SwinTransformerBlock

__all__ = ["SwinTransformer3d", "Swin3D_T_Weights", "Swin3D_S_Weights", "Swin3D_B_Weights", "swin3d_t", "swin3d_s",
           "swin3d_b"]


def _get_window_and_shift_size(shift_size, size_dhw, window_size):
    """Shrinks, in place, each window dimension larger than the input to the input's size, without a shift there."""
    for i in range(3):
        if size_dhw[i] <= window_size[i]:
            window_size[i] = size_dhw[i]
            shift_size[i] = 0
    return window_size, shift_size


ember.fx.wrap("_get_window_and_shift_size")


def _get_relative_position_bias(relative_position_bias_table, relative_position_index, window_size):
    """The ``(1, heads, N, N)`` bias of a window of ``N`` tokens, read from the table through the index's leading
    block (the window may have shrunk)."""
    window_vol = window_size[0] * window_size[1] * window_size[2]
    bias = relative_position_bias_table[relative_position_index[:window_vol, :window_vol].flatten()]
    return bias.view(window_vol, window_vol, -1).permute(2, 0, 1).contiguous().unsqueeze(0)


ember.fx.wrap("_get_relative_position_bias")


def _compute_pad_size_3d(size_dhw, patch_size):
    """How much each of (T, H, W) must grow to a multiple of ``patch_size``."""
    pad_size = [(patch_size[i] - size_dhw[i] % patch_size[i]) % patch_size[i] for i in range(3)]
    return pad_size[0], pad_size[1], pad_size[2]


ember.fx.wrap("_compute_pad_size_3d")


def _shift_regions(size, window, shift):
    """Along one axis of a cyclically shifted grid, which of the (up to) three regions each position came from:
    those must not attend to each other inside a window."""
    labels = ember.zeros(size, dtype=ember.long)
    if shift > 0:
        labels[size - window:size - shift] = 1
        labels[size - shift:] = 2
    return labels


def _compute_attention_mask_3d(x, size_dhw, window_size, shift_size):
    """``(windows, N, N)``: -100 between tokens of a shifted window that came from different regions, else 0 (in
    ``x``'s dtype and device)."""
    d, h, w = (_shift_regions(size_dhw[i], window_size[i], shift_size[i]) for i in range(3))
    regions = d[:, None, None] * 9 + h[None, :, None] * 3 + w[None, None, :]
    regions = regions.view(size_dhw[0] // window_size[0], window_size[0], size_dhw[1] // window_size[1],
                           window_size[1], size_dhw[2] // window_size[2], window_size[2])
    regions = regions.permute(0, 2, 4, 1, 3, 5).reshape(-1, window_size[0] * window_size[1] * window_size[2])
    differ = (regions.unsqueeze(1) - regions.unsqueeze(2)).to(x.device) != 0
    return x.new_zeros(differ.shape).masked_fill(differ, -100.0)


ember.fx.wrap("_compute_attention_mask_3d")


def shifted_window_attention_3d(input, qkv_weight, proj_weight, relative_position_bias, window_size, num_heads,
                                shift_size, attention_dropout=0.0, dropout=0.0, qkv_bias=None, proj_bias=None,
                                training=True):
    """Multi-head self-attention inside (T, H, W) windows of ``input`` ``(B, T, H, W, C)``, with a relative position
    bias; the grid is padded to whole windows and, where ``shift_size`` is not zero, cyclically shifted first (with
    a mask keeping the wrapped-around regions apart). Returns a tensor of ``input``'s shape."""
    b, t, h, w, c = input.shape
    pad_size = _compute_pad_size_3d((t, h, w), (window_size[0], window_size[1], window_size[2]))
    x = F.pad(input, (0, 0, 0, pad_size[2], 0, pad_size[1], 0, pad_size[0]))
    _, tp, hp, wp, _ = x.shape
    shifted = sum(shift_size) > 0
    if shifted:
        x = ember.roll(x, shifts=(-shift_size[0], -shift_size[1], -shift_size[2]), dims=(1, 2, 3))
    grid = (tp // window_size[0], hp // window_size[1], wp // window_size[2])
    num_windows = grid[0] * grid[1] * grid[2]
    window_vol = window_size[0] * window_size[1] * window_size[2]
    x = x.view(b, grid[0], window_size[0], grid[1], window_size[1], grid[2], window_size[2], c)
    x = x.permute(0, 1, 3, 5, 2, 4, 6, 7).reshape(b * num_windows, window_vol, c)

    qkv = F.linear(x, qkv_weight, qkv_bias).reshape(x.size(0), x.size(1), 3, num_heads, c // num_heads)
    q, k, v = qkv.permute(2, 0, 3, 1, 4)
    attn = (q * (c // num_heads) ** -0.5).matmul(k.transpose(-2, -1)) + relative_position_bias
    if shifted:
        mask = _compute_attention_mask_3d(x, (tp, hp, wp), tuple(window_size[:3]), tuple(shift_size[:3]))
        attn = attn.view(x.size(0) // num_windows, num_windows, num_heads, x.size(1), x.size(1))
        attn = (attn + mask.unsqueeze(1).unsqueeze(0)).view(-1, num_heads, x.size(1), x.size(1))
    attn = F.dropout(F.softmax(attn, dim=-1), p=attention_dropout, training=training)
    x = attn.matmul(v).transpose(1, 2).reshape(x.size(0), x.size(1), c)
    x = F.dropout(F.linear(x, proj_weight, proj_bias), p=dropout, training=training)

    x = x.view(b, *grid, *window_size[:3], c).permute(0, 1, 4, 2, 5, 3, 6, 7).reshape(b, tp, hp, wp, c)
    if shifted:
        x = ember.roll(x, shifts=(shift_size[0], shift_size[1], shift_size[2]), dims=(1, 2, 3))
    return x[:, :t, :h, :w, :].contiguous()


ember.fx.wrap("shifted_window_attention_3d")


class ShiftedWindowAttention3d(nn.Module):
    """Window attention over (T, H, W) windows (:func:`shifted_window_attention_3d`): ``qkv`` and ``proj`` linears,
    a learned ``relative_position_bias_table`` per head and its ``relative_position_index`` buffer."""

    def __init__(self, dim, window_size, shift_size, num_heads, qkv_bias=True, proj_bias=True, attention_dropout=0.0,
                 dropout=0.0):
        super().__init__()
        if len(window_size) != 3 or len(shift_size) != 3:
            raise ValueError("window_size and shift_size must be of length 2")  # torchvision's message
        self.window_size = window_size
        self.shift_size = shift_size
        self.num_heads = num_heads
        self.attention_dropout = attention_dropout
        self.dropout = dropout
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim, bias=proj_bias)
        self.define_relative_position_bias_table()
        self.define_relative_position_index()

    def define_relative_position_bias_table(self):
        """One learned bias per head for each of the ``(2Wd-1)(2Wh-1)(2Ww-1)`` relative offsets."""
        wd, wh, ww = self.window_size
        self.relative_position_bias_table = nn.Parameter(
            ember.zeros((2 * wd - 1) * (2 * wh - 1) * (2 * ww - 1), self.num_heads))
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)

    def define_relative_position_index(self):
        """The ``(N, N)`` buffer of table rows for every pair of a window's ``N`` tokens."""
        wd, wh, ww = self.window_size
        coords = ember.stack(ember.meshgrid(ember.arange(wd), ember.arange(wh), ember.arange(ww), indexing="ij"))
        coords = coords.flatten(1)
        offsets = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0)
        offsets = offsets + ember.tensor([wd - 1, wh - 1, ww - 1])
        index = offsets[:, :, 0] * ((2 * wh - 1) * (2 * ww - 1)) + offsets[:, :, 1] * (2 * ww - 1) + offsets[:, :, 2]
        self.register_buffer("relative_position_index", index.contiguous())

    def get_relative_position_bias(self, window_size):
        """The bias of a (possibly shrunk) window."""
        return _get_relative_position_bias(self.relative_position_bias_table, self.relative_position_index,
                                           window_size)

    def forward(self, x):
        _, t, h, w, _ = x.shape
        window_size, shift_size = _get_window_and_shift_size(self.shift_size.copy(), [t, h, w],
                                                             self.window_size.copy())
        relative_position_bias = self.get_relative_position_bias(window_size)  # first: fx graphs keep this order
        return shifted_window_attention_3d(
            x, self.qkv.weight, self.proj.weight, relative_position_bias, window_size, self.num_heads,
            shift_size=shift_size, attention_dropout=self.attention_dropout, dropout=self.dropout,
            qkv_bias=self.qkv.bias, proj_bias=self.proj.bias, training=self.training)


class PatchEmbed3d(nn.Module):
    """Clips to patch tokens: pads (T, H, W) to multiples of ``patch_size``, a strided Conv3d to ``embed_dim``,
    channels moved last, then ``norm_layer`` (Identity if None)."""

    def __init__(self, patch_size, in_channels=3, embed_dim=96, norm_layer=None):
        super().__init__()
        self.tuple_patch_size = (patch_size[0], patch_size[1], patch_size[2])
        self.proj = nn.Conv3d(in_channels, embed_dim, kernel_size=self.tuple_patch_size,
                              stride=self.tuple_patch_size)
        self.norm = norm_layer(embed_dim) if norm_layer is not None else nn.Identity()

    def forward(self, x):
        _, _, t, h, w = x.size()
        pad_size = _compute_pad_size_3d((t, h, w), self.tuple_patch_size)
        x = F.pad(x, (0, pad_size[2], 0, pad_size[1], 0, pad_size[0]))
        return self.norm(self.proj(x).permute(0, 2, 3, 4, 1))


class SwinTransformer3d(nn.Module):
    """Video Swin: ``patch_embed``, ``pos_drop``, ``features`` (stages of Swin blocks with 3-D window attention,
    alternately shifted by half a window, and patch merging between stages, doubling the channels from
    ``embed_dim``), ``norm``, a global average pool and ``head``. ``stochastic_depth_prob`` grows linearly over
    the blocks."""

    def __init__(self, patch_size, embed_dim, depths, num_heads, window_size, mlp_ratio=4.0, dropout=0.0,
                 attention_dropout=0.0, stochastic_depth_prob=0.1, num_classes=400, norm_layer=None, block=None,
                 downsample_layer=PatchMerging, patch_embed=None):
        super().__init__()
        self.num_classes = num_classes
        if block is None:
            block = partial(SwinTransformerBlock, attn_layer=ShiftedWindowAttention3d)
        if norm_layer is None:
            norm_layer = partial(nn.LayerNorm, eps=1e-5)
        if patch_embed is None:
            patch_embed = PatchEmbed3d
        self.patch_embed = patch_embed(patch_size=patch_size, embed_dim=embed_dim, norm_layer=norm_layer)
        self.pos_drop = nn.Dropout(p=dropout)
        layers = []
        total_stage_blocks = sum(depths)
        stage_block_id = 0
        for i_stage in range(len(depths)):
            stage = []
            dim = embed_dim * 2**i_stage
            for i_layer in range(depths[i_stage]):
                sd_prob = stochastic_depth_prob * float(stage_block_id) / (total_stage_blocks - 1)
                stage.append(block(dim, num_heads[i_stage], window_size=window_size,
                                   shift_size=[0 if i_layer % 2 == 0 else w // 2 for w in window_size],
                                   mlp_ratio=mlp_ratio, dropout=dropout, attention_dropout=attention_dropout,
                                   stochastic_depth_prob=sd_prob, norm_layer=norm_layer,
                                   attn_layer=ShiftedWindowAttention3d))
                stage_block_id += 1
            layers.append(nn.Sequential(*stage))
            if i_stage < (len(depths) - 1):
                layers.append(downsample_layer(dim, norm_layer))
        self.features = nn.Sequential(*layers)
        self.num_features = embed_dim * 2 ** (len(depths) - 1)
        self.norm = norm_layer(self.num_features)
        self.avgpool = nn.AdaptiveAvgPool3d(1)
        self.head = nn.Linear(self.num_features, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.features(self.pos_drop(self.patch_embed(x)))
        x = self.norm(x).permute(0, 4, 1, 2, 3)
        return self.head(ember.flatten(self.avgpool(x), 1))


def _swin_transformer3d(patch_size, embed_dim, depths, num_heads, window_size, stochastic_depth_prob, weights,
                        progress, **kwargs):
    if weights is not None:
        _ovewrite_named_param(kwargs, "num_classes", len(weights.meta["categories"]))
    model = SwinTransformer3d(patch_size=patch_size, embed_dim=embed_dim, depths=depths, num_heads=num_heads,
                              window_size=window_size, stochastic_depth_prob=stochastic_depth_prob, **kwargs)
    return _load_weights(model, weights, progress)


_COMMON_META = {"categories": _KINETICS400_CATEGORIES, "min_size": (1, 1), "min_temporal_size": 1}


def _kinetics_weights(url, num_params, acc1, acc5, ops, file_size):
    """A Kinetics-400 ``Weights`` entry of the Video Swins (224-pixel crops, ImageNet normalization)."""
    return Weights(
        url=url,
        transforms=partial(VideoClassification, crop_size=(224, 224), resize_size=(256,),
                           mean=(0.4850, 0.4560, 0.4060), std=(0.2290, 0.2240, 0.2250)),
        meta={
            **_COMMON_META,
            "recipe": "https://github.com/SwinTransformer/Video-Swin-Transformer#kinetics-400",
            "_docs": ("The weights were ported from the paper. The accuracies are estimated on video-level "
                      "with parameters `frame_rate=15`, `clips_per_video=12`, and `clip_len=32`"),
            "num_params": num_params,
            "_metrics": {"Kinetics-400": {"acc@1": acc1, "acc@5": acc5}},
            "_ops": ops,
            "_file_size": file_size,
        },
    )


class Swin3D_T_Weights(WeightsEnum):
    """Pretrained weights of ``swin3d_t``: the members' url, transforms and meta are torchvision's."""

    KINETICS400_V1 = _kinetics_weights("https://download.pytorch.org/models/swin3d_t-7615ae03.pth", 28158070,
                                       77.715, 93.519, 43.882, 121.543)
    DEFAULT = KINETICS400_V1


class Swin3D_S_Weights(WeightsEnum):
    """Pretrained weights of ``swin3d_s``: the members' url, transforms and meta are torchvision's."""

    KINETICS400_V1 = _kinetics_weights("https://download.pytorch.org/models/swin3d_s-da41c237.pth", 49816678,
                                       79.521, 94.158, 82.841, 218.288)
    DEFAULT = KINETICS400_V1


class Swin3D_B_Weights(WeightsEnum):
    """Pretrained weights of ``swin3d_b`` (trained from ImageNet-1K or ImageNet-22K initialisations): the members'
    url, transforms and meta are torchvision's."""

    KINETICS400_V1 = _kinetics_weights("https://download.pytorch.org/models/swin3d_b_1k-24f7c7c6.pth", 88048984,
                                       79.427, 94.386, 140.667, 364.134)
    KINETICS400_IMAGENET22K_V1 = _kinetics_weights("https://download.pytorch.org/models/swin3d_b_22k-7c6ae6fa.pth",
                                                   88048984, 81.643, 95.574, 140.667, 364.134)
    DEFAULT = KINETICS400_V1


@register_model()
@handle_legacy_interface(weights=("pretrained", Swin3D_T_Weights.KINETICS400_V1))
def swin3d_t(*, weights: Optional[Swin3D_T_Weights] = None, progress: bool = True, **kwargs):
    """Video Swin-T: 96 channels, depths (2, 2, 6, 2), 8x7x7 windows; ``kwargs`` go to
    :class:`SwinTransformer3d`."""
    weights = Swin3D_T_Weights.verify(weights)
    return _swin_transformer3d(patch_size=[2, 4, 4], embed_dim=96, depths=[2, 2, 6, 2], num_heads=[3, 6, 12, 24],
                               window_size=[8, 7, 7], stochastic_depth_prob=0.1, weights=weights, progress=progress,
                               **kwargs)


@register_model()
@handle_legacy_interface(weights=("pretrained", Swin3D_S_Weights.KINETICS400_V1))
def swin3d_s(*, weights: Optional[Swin3D_S_Weights] = None, progress: bool = True, **kwargs):
    """Video Swin-S: 96 channels, depths (2, 2, 18, 2), 8x7x7 windows; ``kwargs`` go to
    :class:`SwinTransformer3d`."""
    weights = Swin3D_S_Weights.verify(weights)
    return _swin_transformer3d(patch_size=[2, 4, 4], embed_dim=96, depths=[2, 2, 18, 2], num_heads=[3, 6, 12, 24],
                               window_size=[8, 7, 7], stochastic_depth_prob=0.1, weights=weights, progress=progress,
                               **kwargs)


@register_model()
@handle_legacy_interface(weights=("pretrained", Swin3D_B_Weights.KINETICS400_V1))
def swin3d_b(*, weights: Optional[Swin3D_B_Weights] = None, progress: bool = True, **kwargs):
    """Video Swin-B: 128 channels, depths (2, 2, 18, 2), 8x7x7 windows; ``kwargs`` go to
    :class:`SwinTransformer3d`."""
    weights = Swin3D_B_Weights.verify(weights)
    return _swin_transformer3d(patch_size=[2, 4, 4], embed_dim=128, depths=[2, 2, 18, 2], num_heads=[4, 8, 16, 32],
                               window_size=[8, 7, 7], stochastic_depth_prob=0.1, weights=weights, progress=progress,
                               **kwargs)
