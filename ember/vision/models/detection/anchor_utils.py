"""Anchor generation: the boxes detectors regress from, tiled over every feature map (``AnchorGenerator`` in
pixels, SSD's ``DefaultBoxGenerator`` from relative scales)."""
import math

import ember
from ember import nn


class AnchorGenerator(nn.Module):
    """Anchors for a set of feature maps: for map ``i``, every ``(size, aspect ratio)`` pair of ``sizes[i]`` and
    ``aspect_ratios[i]`` (ratio = height / width) centred on every cell, the cells spaced by the map's stride in the
    padded image. ``forward`` returns one ``[anchors, 4]`` tensor per image, maps in order."""

    def __init__(self, sizes=((128, 256, 512),), aspect_ratios=((0.5, 1.0, 2.0),)):
        super().__init__()
        if not isinstance(sizes[0], (list, tuple)):
            sizes = tuple((s,) for s in sizes)
        if not isinstance(aspect_ratios[0], (list, tuple)):
            aspect_ratios = (aspect_ratios,) * len(sizes)
        self.sizes = sizes
        self.aspect_ratios = aspect_ratios
        self.cell_anchors = [self.generate_anchors(size, ratio) for size, ratio in zip(sizes, aspect_ratios)]

    def generate_anchors(self, scales, aspect_ratios, dtype=ember.float32, device=ember.device("cpu")):
        """The zero-centred anchors ``[len(ratios) * len(scales), 4]`` of one cell, rounded to whole pixels."""
        scales = ember.as_tensor(scales, dtype=dtype, device=device)
        aspect_ratios = ember.as_tensor(aspect_ratios, dtype=dtype, device=device)
        h_ratios = ember.sqrt(aspect_ratios)
        w_ratios = 1 / h_ratios
        ws = (w_ratios[:, None] * scales[None, :]).view(-1)
        hs = (h_ratios[:, None] * scales[None, :]).view(-1)
        return (ember.stack([-ws, -hs, ws, hs], dim=1) / 2).round()

    def set_cell_anchors(self, dtype, device):
        """Moves the cell anchors to ``dtype`` and ``device``."""
        self.cell_anchors = [anchors.to(dtype=dtype, device=device) for anchors in self.cell_anchors]

    def num_anchors_per_location(self):
        """How many anchors each cell of each map has."""
        return [len(s) * len(a) for s, a in zip(self.sizes, self.aspect_ratios)]

    def grid_anchors(self, grid_sizes, strides):
        """The cell anchors shifted to every cell of each map: one ``[H * W * A, 4]`` tensor per map."""
        if not len(grid_sizes) == len(strides) == len(self.cell_anchors):
            raise AssertionError(
                "Anchors should be Tuple[Tuple[int]] because each feature map could potentially have different sizes "
                "and aspect ratios. There needs to be a match between the number of feature maps passed and the "
                "number of sizes / aspect ratios specified.")
        anchors = []
        for (grid_height, grid_width), (stride_height, stride_width), base in zip(grid_sizes, strides,
                                                                                  self.cell_anchors):
            shifts_x = ember.arange(0, grid_width, dtype=ember.int32, device=base.device) * stride_width
            shifts_y = ember.arange(0, grid_height, dtype=ember.int32, device=base.device) * stride_height
            shift_y, shift_x = ember.meshgrid(shifts_y, shifts_x, indexing="ij")
            shift_x, shift_y = shift_x.reshape(-1), shift_y.reshape(-1)
            shifts = ember.stack((shift_x, shift_y, shift_x, shift_y), dim=1)
            anchors.append((shifts.view(-1, 1, 4) + base.view(1, -1, 4)).reshape(-1, 4))
        return anchors

    def forward(self, image_list, feature_maps):
        grid_sizes = [feature_map.shape[-2:] for feature_map in feature_maps]
        image_size = image_list.tensors.shape[-2:]
        dtype, device = feature_maps[0].dtype, feature_maps[0].device
        strides = [[ember.empty((), dtype=ember.int64, device=device).fill_(image_size[0] // g[0]),
                    ember.empty((), dtype=ember.int64, device=device).fill_(image_size[1] // g[1])]
                   for g in grid_sizes]
        self.set_cell_anchors(dtype, device)
        anchors = ember.cat(self.grid_anchors(grid_sizes, strides))
        return [anchors for _ in image_list.image_sizes]


class DefaultBoxGenerator(nn.Module):
    """SSD's default boxes: per map ``k``, a square of scale ``s_k``, one of ``sqrt(s_k * s_k+1)`` and a pair
    ``(s_k * sqrt(ar), s_k / sqrt(ar))`` both ways for each of ``aspect_ratios[k]``, centred on every cell (spaced
    by ``steps`` pixels, or the map's own grid); scales spread evenly over ``[min_ratio, max_ratio]`` unless given.
    ``clip`` keeps the relative sizes within [0, 1]. ``forward`` returns boxes in pixels, one tensor per image."""

    def __init__(self, aspect_ratios, min_ratio=0.15, max_ratio=0.9, scales=None, steps=None, clip=True):
        super().__init__()
        if steps is not None and len(aspect_ratios) != len(steps):
            raise ValueError("aspect_ratios and steps should have the same length")
        self.aspect_ratios = aspect_ratios
        self.steps = steps
        self.clip = clip
        num_outputs = len(aspect_ratios)
        if scales is None:
            if num_outputs > 1:
                range_ratio = max_ratio - min_ratio
                self.scales = [min_ratio + range_ratio * k / (num_outputs - 1.0) for k in range(num_outputs)]
                self.scales.append(1.0)
            else:
                self.scales = [min_ratio, max_ratio]
        else:
            self.scales = scales
        self._wh_pairs = self._generate_wh_pairs(num_outputs)

    def _generate_wh_pairs(self, num_outputs, dtype=ember.float32, device=ember.device("cpu")):
        wh_pairs_per_map = []
        for k in range(num_outputs):
            s_k = self.scales[k]
            s_prime_k = math.sqrt(self.scales[k] * self.scales[k + 1])
            wh_pairs = [[s_k, s_k], [s_prime_k, s_prime_k]]
            for ar in self.aspect_ratios[k]:
                sq_ar = math.sqrt(ar)
                w, h = self.scales[k] * sq_ar, self.scales[k] / sq_ar
                wh_pairs.extend([[w, h], [h, w]])
            wh_pairs_per_map.append(ember.as_tensor(wh_pairs, dtype=dtype, device=device))
        return wh_pairs_per_map

    def num_anchors_per_location(self):
        """How many default boxes each cell of each map has."""
        return [2 + 2 * len(r) for r in self.aspect_ratios]

    def _grid_default_boxes(self, grid_sizes, image_size, dtype=ember.float32):
        """All maps' default boxes as ``(cx, cy, w, h)`` relative to the image."""
        default_boxes = []
        for k, f_k in enumerate(grid_sizes):
            if self.steps is not None:
                x_f_k, y_f_k = image_size[1] / self.steps[k], image_size[0] / self.steps[k]
            else:
                y_f_k, x_f_k = f_k
            shifts_x = ((ember.arange(0, f_k[1]) + 0.5) / x_f_k).to(dtype=dtype)
            shifts_y = ((ember.arange(0, f_k[0]) + 0.5) / y_f_k).to(dtype=dtype)
            shift_y, shift_x = ember.meshgrid(shifts_y, shifts_x, indexing="ij")
            shift_x, shift_y = shift_x.reshape(-1), shift_y.reshape(-1)
            shifts = ember.stack((shift_x, shift_y) * len(self._wh_pairs[k]), dim=-1).reshape(-1, 2)
            wh_pair = self._wh_pairs[k].clamp(min=0, max=1) if self.clip else self._wh_pairs[k]
            default_boxes.append(ember.cat((shifts, wh_pair.repeat((f_k[0] * f_k[1]), 1)), dim=1))
        return ember.cat(default_boxes, dim=0)

    def __repr__(self):
        return (f"{self.__class__.__name__}(aspect_ratios={self.aspect_ratios}, clip={self.clip}, "
                f"scales={self.scales}, steps={self.steps})")

    def forward(self, image_list, feature_maps):
        grid_sizes = [feature_map.shape[-2:] for feature_map in feature_maps]
        image_size = image_list.tensors.shape[-2:]
        dtype, device = feature_maps[0].dtype, feature_maps[0].device
        default_boxes = self._grid_default_boxes(grid_sizes, image_size, dtype=dtype).to(device)
        x_y_size = ember.tensor([image_size[1], image_size[0]], device=default_boxes.device)
        boxes = ember.cat([(default_boxes[:, :2] - 0.5 * default_boxes[:, 2:]) * x_y_size,
                           (default_boxes[:, :2] + 0.5 * default_boxes[:, 2:]) * x_y_size], -1)
        return [boxes for _ in image_list.image_sizes]
