"""GeneralizedRCNN: the two-stage detector's frame (transform, backbone, region proposals, RoI heads)."""
from collections import OrderedDict

import ember
from ember import nn


def _check_targets(targets):
    if targets is None:
        raise AssertionError("targets should not be none when in training mode")
    for target in targets:
        boxes = target["boxes"]
        if not isinstance(boxes, ember.Tensor):
            raise AssertionError(f"Expected target boxes to be of type Tensor, got {type(boxes)}.")
        if not (len(boxes.shape) == 2 and boxes.shape[-1] == 4):
            raise AssertionError(f"Expected target boxes to be a tensor of shape [N, 4], got {boxes.shape}.")


def _check_degenerate_boxes(targets):
    for target_idx, target in enumerate(targets):
        boxes = target["boxes"]
        degenerate_boxes = boxes[:, 2:] <= boxes[:, :2]
        if degenerate_boxes.any():
            bb_idx = ember.where(degenerate_boxes.any(dim=1))[0][0]
            raise AssertionError(f"All bounding boxes should have positive height and width. Found invalid box "
                                 f"{boxes[bb_idx].tolist()} for target at index {target_idx}.")


class GeneralizedRCNN(nn.Module):
    """Runs ``transform`` on the images (and targets), ``backbone`` on the batch, ``rpn`` for proposals and
    ``roi_heads`` for detections. In training mode returns the dict of losses, in eval mode one dict of detections
    per image (``boxes``, ``labels``, ``scores``, and ``masks`` / ``keypoints`` where the heads make them)."""

    def __init__(self, backbone, rpn, roi_heads, transform):
        super().__init__()
        self.transform = transform
        self.backbone = backbone
        self.rpn = rpn
        self.roi_heads = roi_heads
        self._has_warned = False

    def eager_outputs(self, losses, detections):
        """The losses in training mode, the detections otherwise."""
        if self.training:
            return losses
        return detections

    def forward(self, images, targets=None):
        """``images``: a list of ``[C, H, W]`` float tensors; ``targets`` (training): one dict per image with
        ``boxes`` ``[N, 4]`` (x1, y1, x2, y2) and ``labels`` ``[N]`` (and ``masks``, ``keypoints``)."""
        if self.training:
            _check_targets(targets)
        original_image_sizes = []
        for img in images:
            val = img.shape[-2:]
            if len(val) != 2:
                raise AssertionError(f"expecting the last two dimensions of the Tensor to be H and W instead got "
                                     f"{img.shape[-2:]}")
            original_image_sizes.append((val[0], val[1]))
        images, targets = self.transform(images, targets)
        if targets is not None:
            _check_degenerate_boxes(targets)
        features = self.backbone(images.tensors)
        if isinstance(features, ember.Tensor):
            features = OrderedDict([("0", features)])
        proposals, proposal_losses = self.rpn(images, features, targets)
        detections, detector_losses = self.roi_heads(features, proposals, images.image_sizes, targets)
        detections = self.transform.postprocess(detections, images.image_sizes, original_image_sizes)
        losses = {}
        losses.update(detector_losses)
        losses.update(proposal_losses)
        return self.eager_outputs(losses, detections)
