"""Helpers shared by the box functions, the losses and the RoI ops, and torchvision's ``split_normalization_params``."""
import ember
from ember import nn


def _upcast(t):
    """Floats below 32 bits to float32 and integers below 32 bits to int32, so box arithmetic cannot overflow."""
    if t.is_floating_point():
        return t if t.dtype in (ember.float32, ember.float64) else t.float()
    return t if t.dtype in (ember.int32, ember.int64) else t.int()


def _upcast_non_float(t):
    """Anything but float32/float64 to float32 (the losses' inputs)."""
    return t if t.dtype in (ember.float32, ember.float64) else t.float()


def _reduce(loss, reduction, empty_mean_is_zero=True):
    """The losses' ``reduction`` argument; a mean over no boxes is 0 (with a gradient), as in torchvision."""
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean() if loss.numel() > 0 or not empty_mean_is_zero else 0.0 * loss.sum()
    if reduction == "sum":
        return loss.sum()
    raise ValueError(
        f"Invalid Value for arg 'reduction': '{reduction} \n Supported reduction modes: 'none', 'mean', 'sum'")


def _loss_inter_union(boxes1, boxes2):
    """Intersection and union areas of boxes paired elementwise (``[..., 4]`` xyxy)."""
    x1, y1, x2, y2 = boxes1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(dim=-1)
    w = ember.min(x2, x2g) - ember.max(x1, x1g)
    h = ember.min(y2, y2g) - ember.max(y1, y1g)
    inter = ember.where((w > 0) & (h > 0), w * h, ember.zeros_like(w))
    union = (x2 - x1) * (y2 - y1) + (x2g - x1g) * (y2g - y1g) - inter
    return inter, union


def _pair(size):
    """``output_size`` as ``(height, width)``."""
    return tuple(size) if isinstance(size, (tuple, list)) else (size, size)


def convert_boxes_to_roi_format(boxes):
    """A list of per-image ``Tensor[L, 4]`` as one ``Tensor[K, 5]`` whose first column is the image index."""
    concat = boxes[0] if len(boxes) == 1 else ember.cat(list(boxes), 0)
    ids = [ember.full_like(b[:, :1], i) for i, b in enumerate(boxes)]
    ids = ids[0] if len(ids) == 1 else ember.cat(ids, 0)
    return ember.cat([ids, concat], dim=1)


def check_roi_boxes_shape(boxes):
    """Asserts ``boxes`` is a ``Tensor[K, 5]`` or a list of ``Tensor[L, 4]`` (AssertionError, as torchvision)."""
    if isinstance(boxes, (list, tuple)):
        for tensor in boxes:
            if tensor.size(1) != 4:
                raise AssertionError("The shape of the tensor in the boxes list is not correct as List[Tensor[L, 4]]")
    elif isinstance(boxes, ember.Tensor):
        if boxes.size(1) != 5:
            raise AssertionError("The boxes tensor shape is not correct as Tensor[K, 5]")
    else:
        raise AssertionError("boxes is expected to be a Tensor[L, 5] or a List[Tensor[K, 4]]")


def _rois(boxes):
    """Checks ``boxes`` and returns them as a ``Tensor[K, 5]``."""
    check_roi_boxes_shape(boxes)
    return boxes if isinstance(boxes, ember.Tensor) else convert_boxes_to_roi_format(boxes)


def _dtype_name(dtype):
    """PyTorch's scalar-type name in kernel errors ('Long', 'Int', 'Half', ...)."""
    return {ember.int64: "Long", ember.int32: "Int", ember.int16: "Short", ember.int8: "Char", ember.uint8: "Byte",
            ember.float16: "Half", ember.bfloat16: "BFloat16", ember.bool: "Bool"}.get(dtype, str(dtype))


def split_normalization_params(model, norm_classes=None):
    """``(norm_params, other_params)``: the trainable parameters of ``model``'s normalization layers (batch, layer,
    group, instance and local response norms by default) and the rest, e.g. to exempt norms from weight decay."""
    if not norm_classes:
        norm_classes = [nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm, nn.LazyBatchNorm1d,
                        nn.LazyBatchNorm2d, nn.LazyBatchNorm3d, nn.LayerNorm, nn.GroupNorm, nn.InstanceNorm1d,
                        nn.InstanceNorm2d, nn.InstanceNorm3d, nn.LazyInstanceNorm1d, nn.LazyInstanceNorm2d,
                        nn.LazyInstanceNorm3d, nn.LocalResponseNorm]
    for t in norm_classes:
        if not issubclass(t, nn.Module):
            raise ValueError(f"Class {t} is not a subclass of nn.Module.")
    classes = tuple(norm_classes)
    norm_params, other_params = [], []
    for module in model.modules():
        if next(module.children(), None):
            other_params.extend(p for p in module.parameters(recurse=False) if p.requires_grad)
        elif isinstance(module, classes):
            norm_params.extend(p for p in module.parameters() if p.requires_grad)
        else:
            other_params.extend(p for p in module.parameters() if p.requires_grad)
    return norm_params, other_params
