"""RandomErasing, and the batch transforms MixUp and CutMix (which mix labels too)."""
import math
import numbers
import warnings
from collections.abc import Sequence

import ember

from ...tv_tensors import BoundingBoxes, Image, KeyPoints, Mask, Video, wrap
from .. import transforms as _v1
from ..transforms import _check_sequence_input, _random_area_and_ratio
from . import functional as F
from .functional._utils import is_pil_image, is_pure_tensor
from ._transform import Transform, _RandomApplyTransform
from ._utils import _parse_labels_getter, has_any, query_chw, query_size, tree_flatten, tree_unflatten

__all__ = ["RandomErasing", "MixUp", "CutMix", "JPEG"]


class RandomErasing(_RandomApplyTransform):
    """Erases a random rectangle of images and videos with probability ``p`` (Zhong et al., 2017); ``value`` is a
    number, one per channel, or "random" for normal noise."""

    _v1_transform_cls = _v1.RandomErasing

    def __init__(self, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0.0, inplace=False):
        super().__init__(p=p)
        if not isinstance(value, (numbers.Number, str, tuple, list)):
            raise TypeError("Argument value should be either a number or str or a sequence")
        if isinstance(value, str) and value != "random":
            raise ValueError("If value is str, it should be 'random'")
        if not isinstance(scale, Sequence):
            raise TypeError("Scale should be a sequence")
        if not isinstance(ratio, Sequence):
            raise TypeError("Ratio should be a sequence")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            warnings.warn("Scale and ratio should be of kind (min, max)")
        if scale[0] < 0 or scale[1] > 1:
            raise ValueError("Scale should be between 0 and 1")
        self.scale = scale
        self.ratio = ratio
        if isinstance(value, (int, float)):
            self.value = [float(value)]
        elif isinstance(value, str):
            self.value = None
        else:
            self.value = [float(v) for v in value]
        self.inplace = inplace

    def _call_kernel(self, functional, inpt, *args, **kwargs):
        if isinstance(inpt, (BoundingBoxes, KeyPoints, Mask)):
            warnings.warn(f"{type(self).__name__}() is currently passing through inputs of type "
                          f"tv_tensors.{type(inpt).__name__}. This will likely change in the future.")
        return super()._call_kernel(functional, inpt, *args, **kwargs)

    def make_params(self, flat_inputs):
        img_c, img_h, img_w = query_chw(flat_inputs)
        if self.value is not None and len(self.value) not in (1, img_c):
            raise ValueError(f"If value is a sequence, it should have either a single value or {img_c} (number of "
                             "inpt channels)")
        for _ in range(10):
            erase_area, aspect_ratio = _random_area_and_ratio(img_h, img_w, self.scale, self.ratio)
            h = int(round(math.sqrt(erase_area * aspect_ratio)))
            w = int(round(math.sqrt(erase_area / aspect_ratio)))
            if not (h < img_h and w < img_w):
                continue
            if self.value is None:
                v = ember.empty([img_c, h, w], dtype=ember.float32).normal_()
            else:
                v = ember.tensor(self.value)[:, None, None]
            i = int(ember.randint(0, img_h - h + 1, size=(1,)).item())
            j = int(ember.randint(0, img_w - w + 1, size=(1,)).item())
            return dict(i=i, j=j, h=h, w=w, v=v)
        return dict(i=0, j=0, h=img_h, w=img_w, v=None)

    def transform(self, inpt, params):
        if params["v"] is None:
            return inpt
        if isinstance(inpt, ember.Tensor):   # v is drawn on the CPU, as torchvision draws it
            params = dict(params, v=params["v"].to(inpt.device))
        return self._call_kernel(F.erase, inpt, **params, inplace=self.inplace)


class _BaseMixUpCutMix(Transform):
    def __init__(self, *, alpha=1.0, num_classes=None, labels_getter="default"):
        super().__init__()
        self.alpha = float(alpha)
        self._dist = ember.distributions.Beta(ember.tensor([alpha]), ember.tensor([alpha]))
        self.num_classes = num_classes
        self._labels_getter = _parse_labels_getter(labels_getter)

    def forward(self, *inputs):
        """The batch mixed, with its labels mixed in the same proportion."""
        inputs = inputs if len(inputs) > 1 else inputs[0]
        flat_inputs, spec = tree_flatten(inputs)
        needs_transform_list = self._needs_transform_list(flat_inputs)
        if has_any(flat_inputs, is_pil_image, BoundingBoxes, Mask, KeyPoints):
            raise ValueError(f"{type(self).__name__}() does not support PIL images, bounding boxes, keypoints and "
                             "masks.")
        labels = self._labels_getter(inputs)
        if not isinstance(labels, ember.Tensor):
            raise ValueError(f"The labels must be a tensor, but got {type(labels)} instead.")
        if labels.ndim not in (1, 2):
            raise ValueError("labels should be index based with shape (batch_size,) or probability based with shape "
                             f"(batch_size, num_classes), but got a tensor of shape {labels.shape} instead.")
        if labels.ndim == 2 and self.num_classes is not None and labels.shape[-1] != self.num_classes:
            raise ValueError("When passing 2D labels, the number of elements in last dimension must match "
                             f"num_classes: {labels.shape[-1]} != {self.num_classes}. You can Leave num_classes to "
                             "None.")
        if labels.ndim == 1 and self.num_classes is None:
            raise ValueError("num_classes must be passed if the labels are index-based (1D)")
        params = {"labels": labels, "batch_size": labels.shape[0],
                  **self.make_params([inpt for inpt, needs in zip(flat_inputs, needs_transform_list) if needs])}
        needs_transform_list[next(idx for idx, inpt in enumerate(flat_inputs) if inpt is labels)] = True
        flat_outputs = [self.transform(inpt, params) if needs else inpt
                        for inpt, needs in zip(flat_inputs, needs_transform_list)]
        return tree_unflatten(flat_outputs, spec)

    def _check_image_or_video(self, inpt, *, batch_size):
        expected_num_dims = 5 if isinstance(inpt, Video) else 4
        if inpt.ndim != expected_num_dims:
            raise ValueError(f"Expected a batched input with {expected_num_dims} dims, but got {inpt.ndim} dimensions "
                             "instead.")
        if inpt.shape[0] != batch_size:
            raise ValueError("The batch size of the image or video does not match the batch size of the labels: "
                             f"{inpt.shape[0]} != {batch_size}.")

    def _mixup_label(self, label, *, lam):
        if label.ndim == 1:
            label = ember.nn.functional.one_hot(label, num_classes=self.num_classes)
        if not label.dtype.is_floating_point:
            label = label.float()
        return label.roll(1, 0) * (1.0 - lam) + label * lam

    def _mix(self, inpt, params, mix):
        if inpt is params["labels"]:
            return self._mixup_label(inpt, lam=params["label_lam"])
        if isinstance(inpt, (Image, Video)) or is_pure_tensor(inpt):
            self._check_image_or_video(inpt, batch_size=params["batch_size"])
            output = mix(inpt.as_subclass(ember.Tensor))
            return wrap(output, like=inpt) if isinstance(inpt, (Image, Video)) else output
        return inpt


class MixUp(_BaseMixUpCutMix):
    """MixUp (Zhang et al., 2017) on a batch: each sample blended with the previous one (rolled by one) with a
    weight drawn from Beta(alpha, alpha), labels (one-hot for index labels) blended alike."""

    def make_params(self, flat_inputs):
        lam = float(self._dist.sample(()))
        return dict(lam=lam, label_lam=lam)

    def transform(self, inpt, params):
        lam = params["lam"]
        return self._mix(inpt, params, lambda batch: batch.roll(1, 0) * (1.0 - lam) + batch * lam)


class CutMix(_BaseMixUpCutMix):
    """CutMix (Yun et al., 2019) on a batch: a box of each sample replaced by the previous sample's, labels mixed by
    the area kept."""

    def make_params(self, flat_inputs):
        lam = float(self._dist.sample(()))
        height, width = query_size(flat_inputs)
        r_x = int(ember.randint(width, size=(1,)))
        r_y = int(ember.randint(height, size=(1,)))
        r = 0.5 * math.sqrt(1.0 - lam)
        r_w_half, r_h_half = int(r * width), int(r * height)
        x1, y1 = max(r_x - r_w_half, 0), max(r_y - r_h_half, 0)
        x2, y2 = min(r_x + r_w_half, width), min(r_y + r_h_half, height)
        return dict(box=(x1, y1, x2, y2), label_lam=float(1.0 - (x2 - x1) * (y2 - y1) / (width * height)))

    def transform(self, inpt, params):
        x1, y1, x2, y2 = params["box"]

        def cut(batch):
            output = batch.clone()
            output[..., y1:y2, x1:x2] = batch.roll(1, 0)[..., y1:y2, x1:x2]
            return output
        return self._mix(inpt, params, cut)


class JPEG(Transform):
    """Compresses images through JPEG at a quality drawn from ``quality`` (an int, or a (min, max) range)."""

    def __init__(self, quality):
        super().__init__()
        if isinstance(quality, int):
            if isinstance(quality, bool):
                raise TypeError("quality can't be bool")
            quality = [quality, quality]
        else:
            _check_sequence_input(quality, "quality", req_sizes=(2,))
        if not (1 <= quality[0] <= quality[1] <= 100 and isinstance(quality[0], int) and isinstance(quality[1], int)):
            raise ValueError(f"quality must be an integer from 1 to 100, got {quality=}")
        self.quality = quality

    def make_params(self, flat_inputs):
        return dict(quality=int(ember.randint(self.quality[0], self.quality[1] + 1, ()).item()))

    def transform(self, inpt, params):
        return self._call_kernel(F.jpeg, inpt, quality=params["quality"])
