"""Anchor generation: the boxes region proposal networks regress from, tiled over every feature map."""
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
