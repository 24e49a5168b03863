"""Learned and random augmentation policies: AutoAugment, RandAugment, TrivialAugmentWide and AugMix, on one image
or video per sample (other inputs pass through; boxes and masks are refused)."""
import math
from enum import Enum

import ember

from ...tv_tensors import BoundingBoxes, Image, KeyPoints, Mask, Video, wrap
from .. import _functional_tensor as F_t
from . import functional as F
from .functional import InterpolationMode
from .functional._utils import is_pil_image, is_pure_tensor
from ._transform import Transform
from ._utils import _get_fill, _setup_fill_arg, check_type, tree_flatten, tree_unflatten

__all__ = ["AutoAugmentPolicy", "AutoAugment", "RandAugment", "TrivialAugmentWide", "AugMix"]


class AutoAugmentPolicy(Enum):
    """The datasets AutoAugment learned policies on."""

    IMAGENET = "imagenet"
    CIFAR10 = "cifar10"
    SVHN = "svhn"


def _linspace(low, high):
    return lambda num_bins, height, width: ember.linspace(low, high, num_bins)


def _posterize_bits(start, steps):
    return lambda num_bins, height, width: (start - ember.arange(num_bins) / ((num_bins - 1) / steps)).round().int()


def _none(num_bins, height, width):
    return None


# name: (magnitudes(num_bins, height, width) or None, whether the magnitude's sign is drawn)
_AUTO_SPACE = {
    "ShearX": (_linspace(0.0, 0.3), True), "ShearY": (_linspace(0.0, 0.3), True),
    "TranslateX": (lambda n, h, w: ember.linspace(0.0, 150.0 / 331.0 * w, n), True),
    "TranslateY": (lambda n, h, w: ember.linspace(0.0, 150.0 / 331.0 * h, n), True),
    "Rotate": (_linspace(0.0, 30.0), True), "Brightness": (_linspace(0.0, 0.9), True),
    "Color": (_linspace(0.0, 0.9), True), "Contrast": (_linspace(0.0, 0.9), True),
    "Sharpness": (_linspace(0.0, 0.9), True), "Posterize": (_posterize_bits(8, 4), False),
    "Solarize": (_linspace(1.0, 0.0), False), "AutoContrast": (_none, False), "Equalize": (_none, False),
}

# The published policies: pairs of (op, probability, magnitude bin) per sub-policy.
_POLICIES = {
    AutoAugmentPolicy.IMAGENET: """
        Posterize .4 8 Rotate .6 9|Solarize .6 5 AutoContrast .6 -|Equalize .8 - Equalize .6 -
        Posterize .6 7 Posterize .6 6
        Equalize .4 - Solarize .2 4|Equalize .4 - Rotate .8 8|Solarize .6 3 Equalize .6 -|Posterize .8 5 Equalize 1 -
        Rotate .2 3 Solarize .6 8|Equalize .6 - Posterize .4 6|Rotate .8 8 Color .4 0|Rotate .4 9 Equalize .6 -
        Equalize 0 - Equalize .8 -|Invert .6 - Equalize 1 -|Color .6 4 Contrast 1 8|Rotate .8 8 Color 1 2
        Color .8 8 Solarize .8 7|Sharpness .4 7 Invert .6 -|ShearX .6 5 Equalize 1 -|Color .4 0 Equalize .6 -
        Equalize .4 - Solarize .2 4|Solarize .6 5 AutoContrast .6 -|Invert .6 - Equalize 1 -|Color .6 4 Contrast 1 8
        Equalize .8 - Equalize .6 -""",
    AutoAugmentPolicy.CIFAR10: """
        Invert .1 - Contrast .2 6|Rotate .7 2 TranslateX .3 9|Sharpness .8 1 Sharpness .9 3|ShearY .5 8 TranslateY .7 9
        AutoContrast .5 - Equalize .9 -|ShearY .2 7 Posterize .3 7|Color .4 3 Brightness .6 7
        Sharpness .3 9 Brightness .7 9|Equalize .6 - Equalize .5 -|Contrast .6 7 Sharpness .6 5
        Color .7 7 TranslateX .5 8|Equalize .3 - AutoContrast .4 -|TranslateY .4 3 Sharpness .2 6
        Brightness .9 6 Color .2 8|Solarize .5 2 Invert 0 -|Equalize .2 - AutoContrast .6 -|Equalize .2 - Equalize .6 -
        Color .9 9 Equalize .6 -|AutoContrast .8 - Solarize .2 8|Brightness .1 3 Color .7 0
        Solarize .4 5 AutoContrast .9 -|TranslateY .9 9 TranslateY .7 9|AutoContrast .9 - Solarize .8 3
        Equalize .8 - Invert .1 -|TranslateY .7 9 AutoContrast .9 -""",
    AutoAugmentPolicy.SVHN: """
        ShearX .9 4 Invert .2 -|ShearY .9 8 Invert .7 -|Equalize .6 - Solarize .6 6|Invert .9 - Equalize .6 -
        Equalize .6 - Rotate .9 3|ShearX .9 4 AutoContrast .8 -|ShearY .9 8 Invert .4 -|ShearY .9 5 Solarize .2 6
        Invert .9 - AutoContrast .8 -|Equalize .6 - Rotate .9 3|ShearX .9 4 Solarize .3 3|ShearY .8 8 Invert .7 -
        Equalize .9 - TranslateY .6 6|Invert .9 - Equalize .6 -|Contrast .3 3 Rotate .8 4|Invert .8 - TranslateY 0 2
        ShearY .7 6 Solarize .4 8|Invert .6 - Rotate .8 4|ShearY .3 7 TranslateX .9 3|ShearX .1 6 Invert .6 -
        Solarize .7 2 TranslateY .6 7|ShearY .8 4 Invert .8 -|ShearX .7 9 TranslateY .8 3|ShearY .8 5 AutoContrast .7 -
        ShearX .7 2 Invert .1 -""",
}


def _parse_policy(text):
    """[((op, probability, magnitude bin or None), (op, ...)), ...] from the compact table above."""
    policies = []
    for sub_policy in text.replace("\n", "|").split("|"):
        words = sub_policy.split()
        if words:
            policies.append(tuple((words[i], float(words[i + 1]), None if words[i + 2] == "-" else int(words[i + 2]))
                                  for i in range(0, len(words), 3)))
    return policies


class _AutoAugmentBase(Transform):
    def __init__(self, *, interpolation=InterpolationMode.NEAREST, fill=None):
        super().__init__()
        self.interpolation = interpolation
        self.fill = fill
        self._fill = _setup_fill_arg(fill)

    def _get_random_item(self, space):
        keys = tuple(space.keys())
        key = keys[int(ember.randint(len(keys), ()))]
        return key, space[key]

    def _flatten_and_extract_image_or_video(self, inputs):
        flat_inputs, spec = tree_flatten(inputs if len(inputs) > 1 else inputs[0])
        needs_transform_list = self._needs_transform_list(flat_inputs)
        found = []
        for idx, (inpt, needs_transform) in enumerate(zip(flat_inputs, needs_transform_list)):
            if needs_transform and check_type(inpt, (Image, is_pil_image, is_pure_tensor, Video)):
                found.append((idx, inpt))
            elif isinstance(inpt, (BoundingBoxes, Mask, KeyPoints)):
                raise TypeError(f"Inputs of type {type(inpt).__name__} are not supported by {type(self).__name__}()")
        if not found:
            raise TypeError("Found no image in the sample.")
        if len(found) > 1:
            raise TypeError("Auto augment transformations are only properly defined for a single image or video, "
                            f"but found {len(found)}.")
        idx, image = found[0]
        return (flat_inputs, spec, idx), image

    @staticmethod
    def _unflatten_and_insert_image_or_video(flat_inputs_with_spec, image):
        flat_inputs, spec, idx = flat_inputs_with_spec
        flat_inputs[idx] = image
        return tree_unflatten(flat_inputs, spec)

    def _draw_magnitude(self, magnitudes_fn, signed, num_bins, height, width, index):
        """The magnitude at bin ``index()`` (drawn after the magnitudes exist), negated with probability 1/2 when
        ``signed``; 0 for ops without one."""
        magnitudes = magnitudes_fn(num_bins, height, width)
        if magnitudes is None:
            return 0.0
        magnitude = float(magnitudes[index()])
        if signed and ember.rand(()) <= 0.5:
            magnitude *= -1
        return magnitude

    def _apply_image_or_video_transform(self, image, transform_id, magnitude, interpolation, fill):
        fill = _get_fill(fill, type(image))
        if transform_id == "Identity":
            return image
        if transform_id in ("ShearX", "ShearY"):
            shear = math.degrees(math.atan(magnitude))
            return F.affine(image, angle=0.0, translate=[0, 0], scale=1.0,
                            shear=[shear, 0.0] if transform_id == "ShearX" else [0.0, shear],
                            interpolation=interpolation, fill=fill, center=[0, 0])
        if transform_id in ("TranslateX", "TranslateY"):
            translate = [int(magnitude), 0] if transform_id == "TranslateX" else [0, int(magnitude)]
            return F.affine(image, angle=0.0, translate=translate, scale=1.0, shear=[0.0, 0.0],
                            interpolation=interpolation, fill=fill)
        if transform_id == "Rotate":
            return F.rotate(image, angle=magnitude, interpolation=interpolation, fill=fill)
        adjust = {"Brightness": F.adjust_brightness, "Color": F.adjust_saturation, "Contrast": F.adjust_contrast,
                  "Sharpness": F.adjust_sharpness}
        if transform_id in adjust:
            return adjust[transform_id](image, 1.0 + magnitude)
        if transform_id == "Posterize":
            return F.posterize(image, bits=int(magnitude))
        if transform_id == "Solarize":
            bound = F_t._max_value(image.dtype) if isinstance(image, ember.Tensor) else 255.0
            return F.solarize(image, threshold=bound * magnitude)
        if transform_id == "AutoContrast":
            return F.autocontrast(image)
        if transform_id == "Equalize":
            return F.equalize(image)
        if transform_id == "Invert":
            return F.invert(image)
        raise ValueError(f"No transform available for {transform_id}")


class AutoAugment(_AutoAugmentBase):
    """AutoAugment (Cubuk et al., 2019): one of the sub-policies learned on ``policy``'s dataset per call."""

    _AUGMENTATION_SPACE = {**_AUTO_SPACE, "Invert": (_none, False)}

    def __init__(self, policy=AutoAugmentPolicy.IMAGENET, interpolation=InterpolationMode.NEAREST, fill=None):
        super().__init__(interpolation=interpolation, fill=fill)
        self.policy = policy
        if policy not in _POLICIES:
            raise ValueError(f"The provided policy {policy} is not recognized.")
        self._policies = _parse_policy(_POLICIES[policy])

    def forward(self, *inputs):
        """The sample with its image through one random sub-policy."""
        flat_inputs_with_spec, image = self._flatten_and_extract_image_or_video(inputs)
        height, width = F.get_size(image)
        policy = self._policies[int(ember.randint(len(self._policies), ()))]
        for transform_id, probability, magnitude_idx in policy:
            if not ember.rand(()) <= probability:
                continue
            magnitudes_fn, signed = self._AUGMENTATION_SPACE[transform_id]
            magnitude = self._draw_magnitude(magnitudes_fn, signed, 10, height, width, lambda: magnitude_idx)
            image = self._apply_image_or_video_transform(image, transform_id, magnitude, self.interpolation,
                                                         self._fill)
        return self._unflatten_and_insert_image_or_video(flat_inputs_with_spec, image)


class RandAugment(_AutoAugmentBase):
    """RandAugment (Cubuk et al., 2020): ``num_ops`` uniformly drawn ops at a fixed ``magnitude`` bin."""

    _AUGMENTATION_SPACE = {"Identity": (_none, False), **_AUTO_SPACE}

    def __init__(self, num_ops=2, magnitude=9, num_magnitude_bins=31, interpolation=InterpolationMode.NEAREST,
                 fill=None):
        super().__init__(interpolation=interpolation, fill=fill)
        if not isinstance(num_ops, int) or num_ops < 0:
            raise ValueError(f"num_ops should be a non-negative integer, but got {num_ops} instead.")
        self.num_ops = num_ops
        self.magnitude = magnitude
        self.num_magnitude_bins = num_magnitude_bins

    def forward(self, *inputs):
        """The sample with its image through ``num_ops`` random ops."""
        flat_inputs_with_spec, image = self._flatten_and_extract_image_or_video(inputs)
        height, width = F.get_size(image)
        for _ in range(self.num_ops):
            transform_id, (magnitudes_fn, signed) = self._get_random_item(self._AUGMENTATION_SPACE)
            magnitude = self._draw_magnitude(magnitudes_fn, signed, self.num_magnitude_bins, height, width,
                                             lambda: self.magnitude)
            image = self._apply_image_or_video_transform(image, transform_id, magnitude, self.interpolation,
                                                         self._fill)
        return self._unflatten_and_insert_image_or_video(flat_inputs_with_spec, image)


class TrivialAugmentWide(_AutoAugmentBase):
    """TrivialAugment (Müller and Hutter, 2021): one uniformly drawn op at a uniformly drawn magnitude."""

    _AUGMENTATION_SPACE = {
        "Identity": (_none, False), "ShearX": (_linspace(0.0, 0.99), True), "ShearY": (_linspace(0.0, 0.99), True),
        "TranslateX": (_linspace(0.0, 32.0), True), "TranslateY": (_linspace(0.0, 32.0), True),
        "Rotate": (_linspace(0.0, 135.0), True), "Brightness": (_linspace(0.0, 0.99), True),
        "Color": (_linspace(0.0, 0.99), True), "Contrast": (_linspace(0.0, 0.99), True),
        "Sharpness": (_linspace(0.0, 0.99), True), "Posterize": (_posterize_bits(8, 6), False),
        "Solarize": (_linspace(1.0, 0.0), False), "AutoContrast": (_none, False), "Equalize": (_none, False),
    }

    def __init__(self, num_magnitude_bins=31, interpolation=InterpolationMode.NEAREST, fill=None):
        super().__init__(interpolation=interpolation, fill=fill)
        self.num_magnitude_bins = num_magnitude_bins

    def forward(self, *inputs):
        """The sample with its image through one random op."""
        flat_inputs_with_spec, image = self._flatten_and_extract_image_or_video(inputs)
        height, width = F.get_size(image)
        transform_id, (magnitudes_fn, signed) = self._get_random_item(self._AUGMENTATION_SPACE)
        magnitude = self._draw_magnitude(magnitudes_fn, signed, self.num_magnitude_bins, height, width,
                                         lambda: int(ember.randint(self.num_magnitude_bins, ())))
        image = self._apply_image_or_video_transform(image, transform_id, magnitude, self.interpolation, self._fill)
        return self._unflatten_and_insert_image_or_video(flat_inputs_with_spec, image)


class AugMix(_AutoAugmentBase):
    """AugMix (Hendrycks et al., 2020): ``mixture_width`` chains of random ops mixed with Dirichlet weights, then
    blended with the original by a Beta weight."""

    _PARTIAL_AUGMENTATION_SPACE = {
        "ShearX": (_linspace(0.0, 0.3), True), "ShearY": (_linspace(0.0, 0.3), True),
        "TranslateX": (lambda n, h, w: ember.linspace(0.0, w / 3.0, n), True),
        "TranslateY": (lambda n, h, w: ember.linspace(0.0, h / 3.0, n), True),
        "Rotate": (_linspace(0.0, 30.0), True), "Posterize": (_posterize_bits(4, 4), False),
        "Solarize": (_linspace(1.0, 0.0), False), "AutoContrast": (_none, False), "Equalize": (_none, False),
    }
    _AUGMENTATION_SPACE = {**_PARTIAL_AUGMENTATION_SPACE, "Brightness": (_linspace(0.0, 0.9), True),
                           "Color": (_linspace(0.0, 0.9), True), "Contrast": (_linspace(0.0, 0.9), True),
                           "Sharpness": (_linspace(0.0, 0.9), True)}
    _PARAMETER_MAX = 10

    def __init__(self, severity=3, mixture_width=3, chain_depth=-1, alpha=1.0, all_ops=True,
                 interpolation=InterpolationMode.BILINEAR, fill=None):
        super().__init__(interpolation=interpolation, fill=fill)
        if not 1 <= severity <= self._PARAMETER_MAX:
            raise ValueError(f"The severity must be between [1, {self._PARAMETER_MAX}]. Got {severity} instead.")
        self.severity = severity
        self.mixture_width = mixture_width
        self.chain_depth = chain_depth
        self.alpha = alpha
        self.all_ops = all_ops

    def _sample_dirichlet(self, concentration):
        return ember.distributions.Dirichlet(concentration).sample()

    def forward(self, *inputs):
        """The sample with its image replaced by the AugMix blend."""
        flat_inputs_with_spec, original = self._flatten_and_extract_image_or_video(inputs)
        height, width = F.get_size(original)
        image = original.as_subclass(ember.Tensor) if isinstance(original, ember.Tensor) else \
            F.pil_to_tensor(original)
        space = self._AUGMENTATION_SPACE if self.all_ops else self._PARTIAL_AUGMENTATION_SPACE
        orig_dims = list(image.shape)
        expected_ndim = 5 if isinstance(original, Video) else 4
        batch = image.reshape([1] * max(expected_ndim - image.ndim, 0) + orig_dims)
        batch_dims = [batch.size(0)] + [1] * (batch.ndim - 1)
        m = self._sample_dirichlet(ember.tensor([self.alpha, self.alpha]).expand(batch_dims[0], -1))
        combined_weights = self._sample_dirichlet(
            ember.tensor([self.alpha] * self.mixture_width).expand(batch_dims[0], -1)) * m[:, 1].reshape(
            [batch_dims[0], -1])
        mix = m[:, 0].reshape(batch_dims) * batch
        for i in range(self.mixture_width):
            aug = batch
            depth = self.chain_depth if self.chain_depth > 0 else int(ember.randint(low=1, high=4, size=(1,)).item())
            for _ in range(depth):
                transform_id, (magnitudes_fn, signed) = self._get_random_item(space)
                magnitude = self._draw_magnitude(magnitudes_fn, signed, self._PARAMETER_MAX, height, width,
                                                 lambda: int(ember.randint(self.severity, ())))
                aug = self._apply_image_or_video_transform(aug, transform_id, magnitude, self.interpolation,
                                                           self._fill)
            mix = mix + combined_weights[:, i].reshape(batch_dims) * aug
        mix = mix.reshape(orig_dims).to(dtype=image.dtype)
        if isinstance(original, (Image, Video)):
            mix = wrap(mix, like=original)
        elif is_pil_image(original):
            mix = F.to_pil_image(mix)
        return self._unflatten_and_insert_image_or_video(flat_inputs_with_spec, mix)
