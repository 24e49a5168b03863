"""Miscellaneous v2 transforms: Identity, Lambda, Normalize, GaussianBlur, ToDtype, ConvertImageDtype and
SanitizeBoundingBoxes."""
import warnings

import ember

from ...tv_tensors import BoundingBoxes, Image, KeyPoints, Mask, Video, wrap
from .. import transforms as _v1
from ..transforms import _setup_size
from . import functional as F
from .functional._keypoints import _valid_keypoints
from .functional._misc import _valid_boxes
from .functional._utils import is_pil_image, is_pure_tensor
from ._transform import Transform
from ._utils import _parse_labels_getter, _setup_number_or_seq, get_bounding_boxes, get_keypoints, has_any, \
    tree_flatten, tree_unflatten

__all__ = ["Identity", "Lambda", "Normalize", "GaussianBlur", "GaussianNoise", "LinearTransformation", "ToDtype",
           "ConvertImageDtype", "SanitizeBoundingBoxes", "SanitizeKeyPoints"]


class Identity(Transform):
    """Returns its inputs unchanged."""

    def transform(self, inpt, params):
        return inpt


class Lambda(Transform):
    """Applies ``lambd`` to the inputs of ``types`` (every input by default)."""

    _transformed_types = (object,)

    def __init__(self, lambd, *types):
        super().__init__()
        self.lambd = lambd
        self.types = types or self._transformed_types

    def transform(self, inpt, params):
        return self.lambd(inpt) if isinstance(inpt, self.types) else inpt

    def extra_repr(self):
        extras = []
        name = getattr(self.lambd, "__name__", None)
        if name:
            extras.append(name)
        extras.append(f"types={[type.__name__ for type in self.types]}")
        return ", ".join(extras)


class Normalize(Transform):
    """(input - mean) / std per channel of tensor images and videos."""

    def __init__(self, mean, std, inplace=False):
        super().__init__()
        self.mean = list(mean)
        self.std = list(std)
        self.inplace = inplace

    def check_inputs(self, flat_inputs):
        if has_any(flat_inputs, is_pil_image):
            raise TypeError(f"{type(self).__name__}() does not support PIL images.")

    def transform(self, inpt, params):
        return self._call_kernel(F.normalize, inpt, mean=self.mean, std=self.std, inplace=self.inplace)


class GaussianBlur(Transform):
    """Gaussian blur of ``kernel_size`` with sigma fixed or drawn uniformly from a (min, max) range."""

    _v1_transform_cls = _v1.GaussianBlur

    def __init__(self, kernel_size, sigma=(0.1, 2.0)):
        super().__init__()
        self.kernel_size = _setup_size(kernel_size, "Kernel size should be a tuple/list of two integers")
        for ks in self.kernel_size:
            if ks <= 0 or ks % 2 == 0:
                raise ValueError("Kernel size value should be an odd and positive number.")
        self.sigma = _setup_number_or_seq(sigma, "sigma")
        if not 0.0 < self.sigma[0] <= self.sigma[1]:
            raise ValueError(f"sigma values should be positive and of the form (min, max). Got {self.sigma}")

    def make_params(self, flat_inputs):
        sigma = ember.empty(1).uniform_(self.sigma[0], self.sigma[1]).item()
        return dict(sigma=[sigma, sigma])

    def transform(self, inpt, params):
        return self._call_kernel(F.gaussian_blur, inpt, self.kernel_size, **params)


class GaussianNoise(Transform):
    """Adds normal noise of ``mean`` and ``sigma`` to images and videos, clipped to the valid range with ``clip``."""

    def __init__(self, mean=0.0, sigma=0.1, clip=True):
        super().__init__()
        self.mean = mean
        self.sigma = sigma
        self.clip = clip

    def transform(self, inpt, params):
        return self._call_kernel(F.gaussian_noise, inpt, mean=self.mean, sigma=self.sigma, clip=self.clip)


class LinearTransformation(Transform):
    """Flattens each image, subtracts ``mean_vector`` and multiplies by ``transformation_matrix`` (whitening)."""

    _transformed_types = (is_pure_tensor, Image, Video)

    def __init__(self, transformation_matrix, mean_vector):
        super().__init__()
        size = tuple(transformation_matrix.shape)
        if size[0] != size[1]:
            raise ValueError(f"transformation_matrix should be square. Got {size} rectangular matrix.")
        if mean_vector.size(0) != size[0]:
            raise ValueError(f"mean_vector should have the same length {mean_vector.size(0)} as any one of the "
                             f"dimensions of the transformation_matrix [{size}]")
        if transformation_matrix.device != mean_vector.device:
            raise ValueError(f"Input tensors should be on the same device. Got {transformation_matrix.device} and "
                             f"{mean_vector.device}")
        if transformation_matrix.dtype != mean_vector.dtype:
            raise ValueError(f"Input tensors should have the same dtype. Got {transformation_matrix.dtype} and "
                             f"{mean_vector.dtype}")
        self.transformation_matrix = transformation_matrix
        self.mean_vector = mean_vector

    def check_inputs(self, flat_inputs):
        if has_any(flat_inputs, is_pil_image):
            raise TypeError(f"{type(self).__name__}() does not support PIL images.")

    def transform(self, inpt, params):
        shape = inpt.shape
        n = shape[-3] * shape[-2] * shape[-1]
        if n != self.transformation_matrix.shape[0]:
            raise ValueError("Input tensor and transformation matrix have incompatible shape."
                             f"[{shape[-3]} x {shape[-2]} x {shape[-1]}] != {self.transformation_matrix.shape[0]}")
        if inpt.device.type != self.mean_vector.device.type:
            raise ValueError("Input tensor should be on the same device as transformation matrix and mean vector. "
                             f"Got {inpt.device} vs {self.mean_vector.device}")
        flat = inpt.as_subclass(ember.Tensor).reshape(-1, n) - self.mean_vector
        output = ember.mm(flat, self.transformation_matrix.to(flat.dtype)).reshape(shape)
        return wrap(output, like=inpt) if isinstance(inpt, (Image, Video)) else output


class ToDtype(Transform):
    """Converts images and videos to ``dtype`` (or each input type to ``dtype[type]``, "others" for the rest);
    ``scale`` rescales image values between the dtypes' ranges."""

    _transformed_types = (ember.Tensor,)

    def __init__(self, dtype, scale=False):
        super().__init__()
        if not isinstance(dtype, (dict, ember.dtype)):
            raise ValueError(f"dtype must be a dict or a torch.dtype, got {type(dtype)} instead")
        if isinstance(dtype, dict) and ember.Tensor in dtype and any(cls in dtype for cls in (Image, Video)):
            warnings.warn("Got `dtype` values for `torch.Tensor` and either `tv_tensors.Image` or "
                          "`tv_tensors.Video`. Note that a plain `torch.Tensor` will *not* be transformed by this "
                          "(or any other transformation) in case a `tv_tensors.Image` or `tv_tensors.Video` is "
                          "present in the input.")
        self.dtype = dtype
        self.scale = scale

    def transform(self, inpt, params):
        supports_scaling = is_pure_tensor(inpt) or isinstance(inpt, (Image, Video))
        if isinstance(self.dtype, ember.dtype):
            if not supports_scaling:   # a single dtype converts images and videos only (ConvertImageDtype's rule)
                return inpt
            dtype = self.dtype
        elif type(inpt) in self.dtype:
            dtype = self.dtype[type(inpt)]
        elif "others" in self.dtype:
            dtype = self.dtype["others"]
        else:
            raise ValueError(f"No dtype was specified for type {type(inpt)}. If you only need to convert the dtype "
                             "of images or videos, you can just pass e.g. dtype=torch.float32. If you're passing a "
                             "dict as dtype, you can use \"others\" as a catch-all key e.g. dtype={tv_tensors.Mask: "
                             "torch.int64, \"others\": None} to pass-through the rest of the inputs.")
        if dtype is None:
            if self.scale and supports_scaling:
                warnings.warn("scale was set to True but no dtype was specified for images or videos: no scaling "
                              "will be done.")
            return inpt
        return self._call_kernel(F.to_dtype, inpt, dtype=dtype, scale=self.scale)


class ConvertImageDtype(Transform):
    """Converts images to ``dtype``, rescaling values (v1's transform)."""

    def __init__(self, dtype=ember.float32):
        super().__init__()
        self.dtype = dtype

    def transform(self, inpt, params):
        return self._call_kernel(F.to_dtype, inpt, dtype=self.dtype, scale=True)


class SanitizeBoundingBoxes(Transform):
    """Removes degenerate or out-of-canvas boxes (smaller than ``min_size`` or ``min_area``), with the matching
    masks and labels (found by ``labels_getter``)."""

    def __init__(self, min_size=1.0, min_area=1.0, labels_getter="default"):
        super().__init__()
        if min_size < 1:
            raise ValueError(f"min_size must be >= 1, got {min_size}.")
        if min_area < 1:
            raise ValueError(f"min_area must be >= 1, got {min_area}.")
        self.min_size = min_size
        self.min_area = min_area
        self.labels_getter = labels_getter
        self._labels_getter = _parse_labels_getter(labels_getter)

    def forward(self, *inputs):
        """The inputs with only the valid boxes and their labels and masks."""
        return _sanitize(self, inputs, get_bounding_boxes, lambda boxes: _valid_boxes(
            boxes.as_subclass(ember.Tensor), boxes.format, boxes.canvas_size, self.min_size, self.min_area), "boxes")

    def transform(self, inpt, params):
        return _keep_valid(inpt, params, (BoundingBoxes, Mask))


class SanitizeKeyPoints(Transform):
    """Removes keypoints (or groups of them) that leave the canvas, with their labels (found by
    ``labels_getter``, None by default)."""

    def __init__(self, labels_getter=None):
        super().__init__()
        self.labels_getter = labels_getter
        self._labels_getter = _parse_labels_getter(labels_getter)

    def forward(self, *inputs):
        """The inputs with only the valid keypoints and their labels."""
        return _sanitize(self, inputs, get_keypoints,
                         lambda points: _valid_keypoints(points.as_subclass(ember.Tensor), points.canvas_size),
                         "kepyoints")

    def transform(self, inpt, params):
        return _keep_valid(inpt, params, (KeyPoints,))


def _sanitize(transform, inputs, find, validity, what):
    """The sanitizers' forward: finds the labels and the boxes or points, computes which are valid, filters."""
    inputs = inputs if len(inputs) > 1 else inputs[0]
    labels = transform._labels_getter(inputs)
    if labels is not None:
        message = "The labels in the input to forward() must be a tensor or None, got {type} instead."
        if isinstance(labels, ember.Tensor):
            labels = (labels,)
        elif isinstance(labels, (tuple, list)):
            for entry in labels:
                if not isinstance(entry, ember.Tensor):
                    raise ValueError(message.format(type=type(entry)))
        else:
            raise ValueError(message.format(type=type(labels)))
    flat_inputs, spec = tree_flatten(inputs)
    found = find(flat_inputs)
    if labels is not None:
        for label in labels:
            if found.shape[0] != label.shape[0]:
                raise ValueError(f"Number of {what} (shape={found.shape}) {'and ' if what == 'boxes' else ''}must "
                                 f"match the number of labels.Found labels with shape={label.shape}).")
    params = dict(valid=validity(found), labels=labels)
    return tree_unflatten([transform.transform(inpt, params) for inpt in flat_inputs], spec)


def _keep_valid(inpt, params, types):
    is_label = params["labels"] is not None and any(inpt is label for label in params["labels"])
    if not (is_label or isinstance(inpt, types)):
        return inpt
    try:
        output = inpt[params["valid"]]
    except IndexError:
        return inpt
    return output if is_label else wrap(output, like=inpt)
