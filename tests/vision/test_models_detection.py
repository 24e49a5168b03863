"""ember.vision.models.detection against torchvision's (loaded through tv_oracle): the builders' state_dict layouts,
and, with torchvision's weights copied in and the same seed, the training losses and gradients and the eval
detections (boxes, labels, scores, masks) of small models on two small images; the parts (box coding, matching,
anchors, the transform, mask pasting) one by one.

torchvision's compiled nms does not register beside CPU torch here, so its nms is replaced by the greedy definition
(as torchvision's CPU kernel: descending stable score order, IoU compared in double) and its roi_align runs its own
Python implementation (with adaptive sampling, RoI by RoI: the vectorized form samples every pixel row and column
for every RoI, minutes for the masks' targets)."""
import importlib
from collections import OrderedDict

import numpy
import pytest

import ember
from ember.vision.models import detection as det
from ember.vision.models.detection import _utils as det_utils
from ember.vision.models.detection import roi_heads as det_roi_heads
from ember.vision.models.detection import transform as det_transform

from . import tv_oracle

tv = tv_oracle.load()
torch = pytest.importorskip("torch")
import torchvision.models.detection as tvd  # noqa: E402
import torchvision.ops.boxes as tv_boxes  # noqa: E402
from torchvision.models.detection import _utils as tv_det_utils  # noqa: E402
from torchvision.models.detection import roi_heads as tv_roi_heads  # noqa: E402
from torchvision.models.detection import transform as tv_transform  # noqa: E402

tv_roi_align = importlib.import_module("torchvision.ops.roi_align")
TV_ROI_ALIGN = getattr(tv_roi_align._roi_align, "__wrapped__", tv_roi_align._roi_align)


def greedy_nms(boxes, scores, iou_threshold):
    """torchvision's CPU nms: boxes by descending score (stable), each kept unless a kept one overlaps it more."""
    b = boxes.detach().double().numpy()
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    alive = numpy.ones(len(b), bool)
    keep = []
    for i in numpy.argsort(-scores.detach().numpy(), kind="stable"):
        if alive[i]:
            keep.append(i)
            w = numpy.clip(numpy.minimum(b[i, 2], b[:, 2]) - numpy.maximum(b[i, 0], b[:, 0]), 0, None)
            h = numpy.clip(numpy.minimum(b[i, 3], b[:, 3]) - numpy.maximum(b[i, 1], b[:, 1]), 0, None)
            with numpy.errstate(invalid="ignore"):  # 0 / 0 for empty boxes: NaN, no suppression (the kernel's)
                alive &= ~(w * h / (area[i] + area - w * h) > iou_threshold)
    return torch.tensor(keep, dtype=torch.int64)


def _adaptive_roi(input, roi, spatial_scale, pooled_height, pooled_width, aligned):
    """torchvision's Python RoIAlign of one RoI with adaptive sampling: its own grid, its own bilinear sampling."""
    offset = 0.5 if aligned else 0.0
    x1, y1, x2, y2 = (roi[1:] * spatial_scale - offset).unbind()
    width, height = x2 - x1, y2 - y1
    if not aligned:
        width, height = width.clamp(min=1.0), height.clamp(min=1.0)
    bin_h, bin_w = height / pooled_height, width / pooled_width
    grid_h, grid_w = int(torch.ceil(bin_h)), int(torch.ceil(bin_w))
    iy = (torch.arange(grid_h) + 0.5).to(input.dtype)
    ix = (torch.arange(grid_w) + 0.5).to(input.dtype)
    y = y1 + torch.arange(pooled_height)[:, None] * bin_h + iy[None, :] * (bin_h / max(grid_h, 1))
    x = x1 + torch.arange(pooled_width)[:, None] * bin_w + ix[None, :] * (bin_w / max(grid_w, 1))
    val = tv_roi_align._bilinear_interpolate(input, roi[:1].int(), y[None], x[None], None, None)
    return val.sum((-1, -2)) / max(grid_h * grid_w, 1)


def tv_python_roi_align(input, rois, spatial_scale, pooled_height, pooled_width, sampling_ratio, aligned):
    if sampling_ratio > 0:
        return TV_ROI_ALIGN(input, rois, spatial_scale, pooled_height, pooled_width, sampling_ratio, aligned)
    if len(rois) == 0:
        return input.new_zeros((0, input.shape[1], pooled_height, pooled_width))
    return torch.cat([_adaptive_roi(input, roi, spatial_scale, pooled_height, pooled_width, aligned) for roi in rois])


def test_the_adaptive_oracle_is_torchvisions_python_roi_align():
    rng = numpy.random.default_rng(2)
    x = torch.tensor(rng.normal(size=(2, 3, 20, 24)).astype(numpy.float32))
    rois = torch.tensor([[0, 1.0, 2, 15, 9], [1, 0.5, 0.5, 23, 19], [0, 3, 4, 3.5, 4.2]])
    for aligned in (False, True):
        numpy.testing.assert_allclose(tv_python_roi_align(x, rois, 0.8, 3, 4, -1, aligned).numpy(),
                                      TV_ROI_ALIGN(x, rois, 0.8, 3, 4, -1, aligned).numpy(), rtol=1e-5, atol=1e-6)


@pytest.fixture(autouse=True)
def tv_python_ops(monkeypatch):
    monkeypatch.setattr(tv_boxes, "nms", greedy_nms)
    monkeypatch.setattr(tv_roi_align, "_roi_align", tv_python_roi_align)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the machine is shared; torch's own thread pool only slows it down here
    yield
    torch.set_num_threads(threads)


# --- data: two images of different sizes with boxes, labels and masks ----------------------------------------------
def _data():
    rng = numpy.random.default_rng(0)
    images = [rng.random((3, 128, 160), dtype=numpy.float32), rng.random((3, 96, 128), dtype=numpy.float32)]
    masks0 = numpy.zeros((2, 128, 160), numpy.uint8)
    masks0[0, 10:60, 20:90] = 1
    masks0[1, 50:120, 80:150] = 1
    masks1 = numpy.zeros((1, 96, 128), numpy.uint8)
    masks1[0, 20:80, 10:100] = 1
    targets = [{"boxes": numpy.array([[20.0, 10, 90, 60], [80, 50, 150, 120]], numpy.float32),
                "labels": numpy.array([1, 2]), "masks": masks0},
               {"boxes": numpy.array([[10.0, 20, 100, 80]], numpy.float32), "labels": numpy.array([1]),
                "masks": masks1}]
    return images, targets


def _inputs(lib, dtype, masks=True):
    images, targets = _data()
    float_type = getattr(lib, dtype)
    images = [lib.tensor(image).to(float_type) for image in images]
    targets = [{k: lib.tensor(v).to(float_type) if k == "boxes" else lib.tensor(v)
                for k, v in t.items() if masks or k != "masks"} for t in targets]
    return images, targets


# small settings: few proposals and samples keep torchvision's Python RoIAlign quick
SMALL = {"min_size": 96, "max_size": 160, "rpn_pre_nms_top_n_train": 300, "rpn_post_nms_top_n_train": 150,
         "rpn_pre_nms_top_n_test": 200, "rpn_post_nms_top_n_test": 50, "box_batch_size_per_image": 32,
         "box_detections_per_img": 12}


def _copy_weights(theirs, ours):
    state = theirs.state_dict()
    assert list(ours.state_dict()) == list(state)
    ours.load_state_dict({k: ember.tensor(v.numpy()) for k, v in state.items()})


def _pair(make_theirs, make_ours, dtype="float32"):
    torch.manual_seed(0)
    theirs = make_theirs().to(getattr(torch, dtype))
    ours = make_ours().to(getattr(ember, dtype))
    _copy_weights(theirs, ours)
    return theirs, ours


def _train_step(model, lib, dtype, masks=True):
    images, targets = _inputs(lib, dtype, masks)
    lib.manual_seed(1)
    model.train()
    losses = model(images, targets)
    sum(losses.values()).backward()
    return losses


def _check_training(theirs, ours, dtype="float32", masks=True, grad_rtol=1e-3):
    ref = _train_step(theirs, torch, dtype, masks)
    out = _train_step(ours, ember, dtype, masks)
    assert list(out) == list(ref)
    for key in ref:
        numpy.testing.assert_allclose(out[key].item(), ref[key].item(), rtol=1e-4, atol=1e-6, err_msg=key)
    ref_params = dict(theirs.named_parameters())
    for name, param in ours.named_parameters():
        ref_grad = ref_params[name].grad
        assert (param.grad is None) == (ref_grad is None), name
        if ref_grad is not None:
            error = numpy.linalg.norm(param.grad.numpy() - ref_grad.numpy())
            assert error <= grad_rtol * numpy.linalg.norm(ref_grad.numpy()) + 1e-7, name


def _check_detections(theirs, ours, dtype="float32"):
    outputs = []
    for model, lib in [(theirs, torch), (ours, ember)]:
        images, _ = _inputs(lib, dtype)
        model.eval()
        with lib.no_grad():
            outputs.append(model(images))
    ref, out = outputs
    _check_detections.last_reference = ref
    assert len(out) == len(ref) == 2 and sum(len(r["boxes"]) for r in ref) > 0
    for o, r in zip(out, ref):
        assert list(o) == list(r)
        assert o["labels"].dtype == ember.int64 and o["boxes"].dtype == getattr(ember, dtype)
        assert o["labels"].tolist() == r["labels"].tolist()
        numpy.testing.assert_allclose(o["scores"].numpy(), r["scores"].numpy(), rtol=1e-4, atol=1e-6)
        numpy.testing.assert_allclose(o["boxes"].numpy(), r["boxes"].numpy(), rtol=1e-4, atol=1e-3)
        if "masks" in r:
            assert tuple(o["masks"].shape) == tuple(r["masks"].shape)
            numpy.testing.assert_allclose(o["masks"].numpy(), r["masks"].numpy(), atol=1e-4)
    return out


# --- whole models --------------------------------------------------------------------------------------------------
def _small_mask_rcnn(vision):
    """Mask R-CNN on a ResNet-18 FPN of 32 channels (frozen batch norm) with narrow box and mask heads."""
    models = vision.models
    resnet = models.resnet18(weights=None, norm_layer=vision.ops.misc.FrozenBatchNorm2d)
    backbone = models.detection.backbone_utils.BackboneWithFPN(
        resnet, {"layer1": "0", "layer2": "1", "layer3": "2", "layer4": "3"}, [64, 128, 256, 512], 32)
    return models.detection.MaskRCNN(
        backbone, box_head=models.detection.faster_rcnn.TwoMLPHead(32 * 7 * 7, 64),
        box_predictor=models.detection.faster_rcnn.FastRCNNPredictor(64, 3),
        mask_head=models.detection.mask_rcnn.MaskRCNNHeads(32, (32, 32), 1),
        mask_predictor=models.detection.mask_rcnn.MaskRCNNPredictor(32, 16, 3), **SMALL)


def test_mask_rcnn_trains_and_detects_as_torchvision():
    theirs, ours = _pair(lambda: _small_mask_rcnn(tv), lambda: _small_mask_rcnn(ember.vision))
    _check_training(theirs, ours)
    out = _check_detections(theirs, ours)
    assert all(len(o["boxes"]) == 12 for o in out)


def _small_keypoint_rcnn(vision):
    """Keypoint R-CNN on the same narrow ResNet-18 FPN, 3 keypoints, a narrow keypoint head."""
    models = vision.models
    resnet = models.resnet18(weights=None, norm_layer=vision.ops.misc.FrozenBatchNorm2d)
    backbone = models.detection.backbone_utils.BackboneWithFPN(
        resnet, {"layer1": "0", "layer2": "1", "layer3": "2", "layer4": "3"}, [64, 128, 256, 512], 32)
    return models.detection.KeypointRCNN(
        backbone, box_head=models.detection.faster_rcnn.TwoMLPHead(32 * 7 * 7, 64),
        box_predictor=models.detection.faster_rcnn.FastRCNNPredictor(64, 3),
        keypoint_roi_pool=vision.ops.MultiScaleRoIAlign(["0", "1"], 7, 2),
        keypoint_head=models.detection.keypoint_rcnn.KeypointRCNNHeads(32, (16, 16)),
        keypoint_predictor=models.detection.keypoint_rcnn.KeypointRCNNPredictor(16, 3), **SMALL)


def test_keypoint_rcnn_trains_and_detects_as_torchvision(monkeypatch):
    keypoints = [numpy.array([[[30.0, 20, 1], [50, 40, 0], [60, 55, 1]], [[100, 60, 1], [140, 110, 1], [90, 70, 1]]],
                             numpy.float32), numpy.array([[[12.0, 30, 1], [90, 70, 1], [60, 40, 2]]], numpy.float32)]
    original = _data

    def with_keypoints():
        images, targets = original()
        for target, points in zip(targets, keypoints):
            target["keypoints"] = points
        return images, targets

    monkeypatch.setitem(globals(), "_data", with_keypoints)
    theirs, ours = _pair(lambda: _small_keypoint_rcnn(tv), lambda: _small_keypoint_rcnn(ember.vision))
    _check_training(theirs, ours, masks=False)
    out = _check_detections(theirs, ours)
    ref = _check_detections.last_reference
    for o, r in zip(out, ref):
        assert tuple(o["keypoints"].shape) == tuple(r["keypoints"].shape)
        numpy.testing.assert_allclose(o["keypoints"].numpy(), r["keypoints"].numpy(), rtol=1e-4, atol=1e-3)
        numpy.testing.assert_allclose(o["keypoints_scores"].numpy(), r["keypoints_scores"].numpy(), rtol=1e-4,
                                      atol=1e-4)


def _small_retinanet(vision, v2):
    """RetinaNet on a ResNet-18 FPN of 32 channels (P3-P7), its heads group-normed (v2) or not."""
    models = vision.models
    resnet = models.resnet18(weights=None, norm_layer=vision.ops.misc.FrozenBatchNorm2d)
    backbone = models.detection.backbone_utils.BackboneWithFPN(
        resnet, {"layer2": "0", "layer3": "1", "layer4": "2"}, [128, 256, 512], 32,
        extra_blocks=vision.ops.feature_pyramid_network.LastLevelP6P7(32, 32))
    lib = torch if vision is tv else ember
    norm = (lambda channels: lib.nn.GroupNorm(8, channels)) if v2 else None
    head = models.detection.retinanet.RetinaNetHead(32, 9, 3, norm_layer=norm)
    if v2:
        head.regression_head._loss_type = "giou"
    with lib.no_grad():  # spread the untrained scores (all near the prior, 0.01) so their order is clear
        head.classification_head.cls_logits.weight.mul_(30)
    return models.detection.RetinaNet(backbone, 3, head=head, min_size=96, max_size=160, topk_candidates=100,
                                      detections_per_img=12, score_thresh=0.005)


@pytest.mark.parametrize("v2", [False, True])
def test_retinanet_trains_and_detects_as_torchvision(v2):
    theirs, ours = _pair(lambda: _small_retinanet(tv, v2), lambda: _small_retinanet(ember.vision, v2))
    _check_training(theirs, ours, masks=False)
    _check_detections(theirs, ours)


def _small_fcos(vision):
    """FCOS on the narrow ResNet-18 FPN (P3-P7) with two-conv heads."""
    models = vision.models
    resnet = models.resnet18(weights=None, norm_layer=vision.ops.misc.FrozenBatchNorm2d)
    backbone = models.detection.backbone_utils.BackboneWithFPN(
        resnet, {"layer2": "0", "layer3": "1", "layer4": "2"}, [128, 256, 512], 32,
        extra_blocks=vision.ops.feature_pyramid_network.LastLevelP6P7(32, 32))
    head = models.detection.fcos.FCOSHead(32, 1, 3, num_convs=2)
    with (torch if vision is tv else ember).no_grad():  # spread the untrained scores so their order is clear
        head.classification_head.cls_logits.weight.mul_(30)
    # (untrained scores sit near sqrt(0.01 * 0.5): a threshold under them)
    return models.detection.FCOS(backbone, 3, head=head, min_size=96, max_size=160, topk_candidates=100,
                                 detections_per_img=12, score_thresh=0.02)


def test_fcos_trains_and_detects_as_torchvision():
    # float64: group norm over single channels leaves the convs' biases gradients of rounding noise only
    theirs, ours = _pair(lambda: _small_fcos(tv), lambda: _small_fcos(ember.vision), "float64")
    _check_training(theirs, ours, "float64", masks=False, grad_rtol=1e-6)
    _check_detections(theirs, ours, "float64")


def _small_ssd(vision):
    """SSD on a three-map conv backbone without ``out_channels`` (measured on an image), 128x96 inputs."""
    nn = (torch if vision is tv else ember).nn

    class Tiny(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Sequential(nn.Conv2d(3, 8, 3, stride=4, padding=1), nn.ReLU())
            self.b = nn.Sequential(nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU())
            self.c = nn.Sequential(nn.Conv2d(16, 16, 3, stride=2, padding=1), nn.ReLU())

        def forward(self, x):
            a = self.a(x)
            b = self.b(a)
            return OrderedDict([("0", a), ("1", b), ("2", self.c(b))])

    boxes = vision.models.detection.anchor_utils.DefaultBoxGenerator([[2], [2, 3], [2]], steps=[4, 8, 16])
    return vision.models.detection.ssd.SSD(Tiny(), boxes, (128, 96), 3, topk_candidates=50, detections_per_img=12)


def test_ssd_trains_and_detects_as_torchvision():
    theirs, ours = _pair(lambda: _small_ssd(tv), lambda: _small_ssd(ember.vision))
    _check_training(theirs, ours, masks=False)
    _check_detections(theirs, ours)


def test_ssdlite320_mobilenet_v3_large_trains_and_detects_as_torchvision():
    # float64: batch norm in training mode; 320-pixel inputs are the model's fixed size
    def build(lib_det):
        return lib_det.ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=3,
                                                     detections_per_img=12, topk_candidates=50)

    theirs, ours = _pair(lambda: build(tvd), lambda: build(det), "float64")
    _check_training(theirs, ours, "float64", masks=False, grad_rtol=1e-6)
    _check_detections(theirs, ours, "float64")


def _tutorial_faster_rcnn(vision):
    """As the tutorial's second model: a classifier's features as a one-level backbone (MobileNetV3-Small's here,
    smaller than its MobileNetV2), its own anchors and pooler."""
    backbone = vision.models.mobilenet_v3_small(weights=None).features
    backbone.out_channels = 576
    anchor_generator = vision.models.detection.anchor_utils.AnchorGenerator(
        sizes=((32, 64, 128, 256, 512),), aspect_ratios=((0.5, 1.0, 2.0),))
    roi_pooler = vision.ops.MultiScaleRoIAlign(featmap_names=["0"], output_size=3, sampling_ratio=2)
    return vision.models.detection.FasterRCNN(backbone, num_classes=3, rpn_anchor_generator=anchor_generator,
                                              box_roi_pool=roi_pooler, **SMALL)


def test_faster_rcnn_with_a_custom_backbone_anchors_and_pooler():
    # float64: the gradients through batch norm in training mode are too ill-conditioned to compare in float32
    theirs, ours = _pair(lambda: _tutorial_faster_rcnn(tv), lambda: _tutorial_faster_rcnn(ember.vision), "float64")
    _check_training(theirs, ours, "float64", masks=False, grad_rtol=1e-6)
    _check_detections(theirs, ours, "float64")


def test_fasterrcnn_mobilenet_v3_large_fpn_with_new_predictors():
    kwargs = {"weights": None, "weights_backbone": None, **SMALL}

    def build(lib_det):
        model = lib_det.fasterrcnn_mobilenet_v3_large_fpn(**kwargs)
        in_features = model.roi_heads.box_predictor.cls_score.in_features
        model.roi_heads.box_predictor = lib_det.faster_rcnn.FastRCNNPredictor(in_features, 3)
        return model

    theirs, ours = _pair(lambda: build(tvd), lambda: build(det), "float64")
    _check_training(theirs, ours, "float64", masks=False, grad_rtol=1e-6)
    _check_detections(theirs, ours, "float64")


@pytest.mark.slow
def test_maskrcnn_resnet50_fpn_as_in_the_tutorial():
    def build(lib_det):
        model = lib_det.maskrcnn_resnet50_fpn(weights=None, weights_backbone=None, **SMALL)
        in_features = model.roi_heads.box_predictor.cls_score.in_features
        model.roi_heads.box_predictor = lib_det.faster_rcnn.FastRCNNPredictor(in_features, 3)
        in_features_mask = model.roi_heads.mask_predictor.conv5_mask.in_channels
        model.roi_heads.mask_predictor = lib_det.mask_rcnn.MaskRCNNPredictor(in_features_mask, 256, 3)
        return model

    theirs, ours = _pair(lambda: build(tvd), lambda: build(det), "float64")
    _check_training(theirs, ours, "float64", grad_rtol=1e-6)
    _check_detections(theirs, ours, "float64")


# --- builders: layouts, frozen layers, argument checks -------------------------------------------------------------
BUILDERS = ["fasterrcnn_resnet50_fpn", "fasterrcnn_resnet50_fpn_v2", "fasterrcnn_mobilenet_v3_large_fpn",
            "fasterrcnn_mobilenet_v3_large_320_fpn", "maskrcnn_resnet50_fpn", "maskrcnn_resnet50_fpn_v2",
            "keypointrcnn_resnet50_fpn", "retinanet_resnet50_fpn", "retinanet_resnet50_fpn_v2", "fcos_resnet50_fpn",
            "ssd300_vgg16", "ssdlite320_mobilenet_v3_large"]


def _name(dtype):
    return str(dtype).split(".")[-1]


@pytest.mark.parametrize("name", BUILDERS)
def test_builder_layout_equals_torchvisions(name):
    theirs = getattr(tvd, name)(weights=None, weights_backbone=None, num_classes=5)
    ours = getattr(det, name)(weights=None, weights_backbone=None, num_classes=5)
    ref = theirs.state_dict()
    state = ours.state_dict()
    assert list(state) == list(ref)
    assert all(tuple(state[k].shape) == tuple(ref[k].shape) and _name(state[k].dtype) == _name(ref[k].dtype)
               for k in ref)
    assert [n for n, p in ours.named_parameters() if p.requires_grad] == [
        n for n, p in theirs.named_parameters() if p.requires_grad]
    assert [type(m).__name__ for m in ours.modules()] == [type(m).__name__ for m in theirs.modules()]
    assert repr(ours.transform) == repr(theirs.transform)
    if isinstance(theirs, tvd.ssd.SSD):
        assert repr(ours.anchor_generator) == repr(theirs.anchor_generator)
    elif hasattr(theirs, "rpn"):
        assert ours.rpn._pre_nms_top_n == theirs.rpn._pre_nms_top_n
        assert ours.rpn.score_thresh == theirs.rpn.score_thresh
    elif hasattr(theirs.head.regression_head, "_loss_type"):
        assert ours.head.regression_head._loss_type == theirs.head.regression_head._loss_type


def test_coco_weights_load_into_the_builder(monkeypatch):
    # the checkpoint's layout: frozen batch norm everywhere in the backbone (no download: torchvision's model's state)
    torch.manual_seed(0)
    backbone = tvd.backbone_utils._mobilenet_extractor(
        tv.models.mobilenet_v3_large(norm_layer=tv.ops.misc.FrozenBatchNorm2d), True, 6)
    anchors = tvd.anchor_utils.AnchorGenerator(((32, 64, 128, 256, 512),) * 3, ((0.5, 1.0, 2.0),) * 3)
    # (91 classes of random logits score about 1/91 each: all kept)
    theirs = tvd.FasterRCNN(backbone, 91, rpn_anchor_generator=anchors, rpn_score_thresh=0.05, box_score_thresh=0.0,
                            **SMALL)
    for module in theirs.modules():  # statistics of a trained network, so the features are not degenerate
        if isinstance(module, tv.ops.misc.FrozenBatchNorm2d):
            module.weight.uniform_(0.5, 1.5), module.bias.normal_(0, 0.1), module.running_var.uniform_(0.5, 1.5)
    state = {k: ember.tensor(v.numpy()) for k, v in theirs.state_dict().items()}
    calls = []
    monkeypatch.setattr(det.FasterRCNN_MobileNet_V3_Large_FPN_Weights, "get_state_dict",
                        lambda self, **kwargs: calls.append(kwargs) or state)
    ours = det.fasterrcnn_mobilenet_v3_large_fpn(weights="DEFAULT", box_score_thresh=0.0, **SMALL)
    assert calls == [{"progress": True, "check_hash": True}]
    assert type(ours.backbone.body["1"].block[1][1]).__name__ == "FrozenBatchNorm2d"
    three_trainable = tvd.backbone_utils._mobilenet_extractor(
        tv.models.mobilenet_v3_large(norm_layer=tv.ops.misc.FrozenBatchNorm2d), True, 3)
    assert [n for n, p in ours.backbone.named_parameters() if p.requires_grad] == [
        n for n, p in three_trainable.named_parameters() if p.requires_grad]
    _check_detections(theirs, ours)
    with pytest.raises(ValueError, match="The parameter 'num_classes' expected value 91 but got 3 instead."):
        det.fasterrcnn_mobilenet_v3_large_fpn(weights="DEFAULT", num_classes=3)


def test_frozen_layers_and_norm_follow_the_weights():
    backbone = det.backbone_utils.resnet_fpn_backbone(backbone_name="resnet18", weights=None, trainable_layers=2)
    ref = tvd.backbone_utils.resnet_fpn_backbone(backbone_name="resnet18", weights=None, trainable_layers=2)
    assert [n for n, p in backbone.named_parameters() if p.requires_grad] == [
        n for n, p in ref.named_parameters() if p.requires_grad]
    assert type(backbone.body.bn1).__name__ == "FrozenBatchNorm2d"
    mobile = det.backbone_utils.mobilenet_backbone(backbone_name="mobilenet_v3_small", weights=None, fpn=False,
                                                   trainable_layers=3)
    ref = tvd.backbone_utils.mobilenet_backbone(backbone_name="mobilenet_v3_small", weights=None, fpn=False,
                                                trainable_layers=3)
    assert list(mobile.state_dict()) == list(ref.state_dict()) and mobile.out_channels == 256
    assert [n for n, p in mobile.named_parameters() if p.requires_grad] == [
        n for n, p in ref.named_parameters() if p.requires_grad]
    for lib_det in (det, tvd):
        with pytest.warns(UserWarning, match="falling back to trainable_backbone_layers=5"):
            model = lib_det.fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None, trainable_backbone_layers=2)
        assert type(model.backbone.body.bn1).__name__ == "BatchNorm2d"
    for call in (lambda d: d.FasterRCNN(ember.nn.Conv2d(3, 4, 3)),
                 lambda d: d.backbone_utils._validate_trainable_layers(True, 7, 5, 3)):
        with pytest.raises(ValueError) as ours:
            call(det)
        with pytest.raises(ValueError) as theirs:
            call(tvd)
        assert str(ours.value) == str(theirs.value)


def test_weights_enums_equal_torchvisions():
    for name in BUILDERS:
        ours, theirs = ember.vision.models.get_model_weights(name), tv.models.get_model_weights(name)
        assert ours.__name__ == theirs.__name__ and list(ours.__members__) == list(theirs.__members__)
        for member in theirs.__members__:
            assert ours[member].url == theirs[member].url
            assert repr(ours[member].meta) == repr(theirs[member].meta)
            assert ours[member].transforms.__name__ == "ObjectDetection"
    assert ember.vision.models.get_model_builder("maskrcnn_resnet50_fpn") is det.maskrcnn_resnet50_fpn


# --- the parts -----------------------------------------------------------------------------------------------------
def test_box_coder_encodes_and_decodes_as_torchvision():
    rng = numpy.random.default_rng(3)
    xy = rng.uniform(0, 50, (6, 2))
    ref_boxes = numpy.concatenate([xy, xy + rng.uniform(5, 40, (6, 2))], 1).astype(numpy.float32)
    proposals = (ref_boxes + rng.normal(0, 3, ref_boxes.shape)).astype(numpy.float32)
    codes = rng.normal(0, 2, (6, 8)).astype(numpy.float32)  # two classes, some log-sizes past the clip
    for weights in [(1.0, 1.0, 1.0, 1.0), (10.0, 10.0, 5.0, 5.0)]:
        ours, theirs = det_utils.BoxCoder(weights), tv_det_utils.BoxCoder(weights)
        out = ours.encode([ember.tensor(ref_boxes[:4]), ember.tensor(ref_boxes[4:])],
                          [ember.tensor(proposals[:4]), ember.tensor(proposals[4:])])
        ref = theirs.encode([torch.tensor(ref_boxes[:4]), torch.tensor(ref_boxes[4:])],
                            [torch.tensor(proposals[:4]), torch.tensor(proposals[4:])])
        for o, r in zip(out, ref):
            numpy.testing.assert_allclose(o.numpy(), r.numpy(), rtol=1e-5, atol=1e-6)
        out = ours.decode(ember.tensor(codes), [ember.tensor(proposals[:4]), ember.tensor(proposals[4:])])
        ref = theirs.decode(torch.tensor(codes), [torch.tensor(proposals[:4]), torch.tensor(proposals[4:])])
        assert tuple(out.shape) == tuple(ref.shape) == (6, 2, 4)
        numpy.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-5, atol=1e-4)
    linear = det_utils.BoxLinearCoder(), tv_det_utils.BoxLinearCoder()
    encoded = [c.encode(lib.tensor(ref_boxes), lib.tensor(proposals)) for c, lib in zip(linear, (ember, torch))]
    numpy.testing.assert_allclose(encoded[0].numpy(), encoded[1].numpy(), rtol=1e-5, atol=1e-6)
    decoded = [c.decode(lib.tensor(codes[:, :4]), lib.tensor(proposals)) for c, lib in zip(linear, (ember, torch))]
    numpy.testing.assert_allclose(decoded[0].numpy(), decoded[1].numpy(), rtol=1e-5, atol=1e-4)


def test_matcher_and_sampler_as_torchvision():
    rng = numpy.random.default_rng(4)
    quality = rng.uniform(0, 1, (3, 40)).astype(numpy.float32)
    quality[1, 7] = quality[1, 9] = 0.95  # a tie for one ground truth's best prediction
    for allow in (False, True):
        ours = det_utils.Matcher(0.7, 0.3, allow_low_quality_matches=allow)(ember.tensor(quality))
        ref = tv_det_utils.Matcher(0.7, 0.3, allow_low_quality_matches=allow)(torch.tensor(quality))
        assert ours.tolist() == ref.tolist() and ours.dtype == ember.int64
    assert (det_utils.SSDMatcher(0.5)(ember.tensor(quality)).tolist()
            == tv_det_utils.SSDMatcher(0.5)(torch.tensor(quality)).tolist())
    for lib, utils in ((ember, det_utils), (torch, tv_det_utils)):
        with pytest.raises(ValueError, match="No ground-truth boxes available"):
            utils.Matcher(0.5, 0.4)(lib.zeros(0, 5))
    labels = [rng.integers(-1, 3, 50), rng.integers(-1, 2, 30)]
    masks = []
    for lib, utils in ((ember, det_utils), (torch, tv_det_utils)):
        lib.manual_seed(5)
        pos, neg = utils.BalancedPositiveNegativeSampler(16, 0.25)([lib.tensor(x) for x in labels])
        masks.append([m.tolist() for m in pos + neg])
        assert pos[0].dtype == lib.uint8
    assert masks[0] == masks[1]


def test_anchor_generator_as_torchvision():
    from ember.vision.models.detection.image_list import ImageList
    from torchvision.models.detection.image_list import ImageList as TVImageList
    sizes, ratios = ((16, 40), (64,)), ((0.5, 1.0, 2.0), (1.0, 3.0))
    ours = det.anchor_utils.AnchorGenerator(sizes, ratios)
    theirs = tvd.anchor_utils.AnchorGenerator(sizes, ratios)
    assert ours.num_anchors_per_location() == theirs.num_anchors_per_location() == [6, 2]
    features = [(1, 4, 12, 16), (1, 4, 6, 8)]
    out = ours(ImageList(ember.zeros(2, 3, 96, 128), [(90, 120), (96, 100)]), [ember.zeros(s) for s in features])
    ref = theirs(TVImageList(torch.zeros(2, 3, 96, 128), [(90, 120), (96, 100)]), [torch.zeros(s) for s in features])
    assert len(out) == len(ref) == 2
    for o, r in zip(out, ref):
        assert o.dtype == ember.float32
        numpy.testing.assert_array_equal(o.numpy(), r.numpy())
    # a flat size tuple is one size per level, with the ratios shared
    assert det.anchor_utils.AnchorGenerator((32, 64), (0.5, 1.0)).sizes == ((32,), (64,))


def test_transform_resizes_batches_and_maps_back_as_torchvision():
    images, targets = _data()
    targets[0]["keypoints"] = numpy.array([[[30.0, 20, 1], [50, 40, 0]], [[100, 60, 1], [140, 110, 1]]], numpy.float32)
    targets[1]["keypoints"] = numpy.array([[[12.0, 30, 1], [90, 70, 1]]], numpy.float32)
    args = (80, 150, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    ours, theirs = det_transform.GeneralizedRCNNTransform(*args), tv_transform.GeneralizedRCNNTransform(*args)
    assert repr(ours) == repr(theirs)
    results = []
    for transform, lib in ((ours, ember), (theirs, torch)):
        transform.eval()
        lib_targets = [{k: lib.tensor(v) for k, v in t.items()} for t in targets]
        batch, new_targets = transform([lib.tensor(i) for i in images], lib_targets)
        assert "keypoints" in lib_targets[0] and lib_targets[0]["boxes"] is not new_targets[0]["boxes"]
        results.append((batch, new_targets))
    (batch, out), (ref_batch, ref) = results
    assert batch.image_sizes == ref_batch.image_sizes and tuple(batch.tensors.shape) == tuple(ref_batch.tensors.shape)
    numpy.testing.assert_allclose(batch.tensors.numpy(), ref_batch.tensors.numpy(), rtol=1e-5, atol=1e-5)
    for o, r in zip(out, ref):
        for key in r:
            assert _name(o[key].dtype) == _name(r[key].dtype), key
            numpy.testing.assert_allclose(o[key].numpy(), r[key].numpy(), rtol=1e-6, atol=1e-5, err_msg=key)
    detections = [{"boxes": numpy.array([[3.2, 5.5, 60.1, 70.9], [0, 0, 79.6, 99.0]], numpy.float32),
                   "masks": numpy.random.default_rng(6).random((2, 1, 28, 28), dtype=numpy.float32),
                   "keypoints": targets[0]["keypoints"] * 0.6}]
    post = [t.postprocess([{k: lib.tensor(v) for k, v in detections[0].items()}], [(80, 100)], [(128, 160)])
            for t, lib in ((ours, ember), (theirs, torch))]
    for key in ("boxes", "masks", "keypoints"):
        assert tuple(post[0][0][key].shape) == tuple(post[1][0][key].shape)
        numpy.testing.assert_allclose(post[0][0][key].numpy(), post[1][0][key].numpy(), rtol=1e-5, atol=1e-5)
    for transform in (ours, theirs):
        transform.train()
    with pytest.raises(ValueError, match="expected to be a list of 3d tensors"):
        ours([ember.zeros(1, 3, 8, 8)])
    with pytest.raises(TypeError, match="Expected input images to be of floating type"):
        ours([ember.zeros(3, 8, 8, dtype=ember.uint8)])
    ember.manual_seed(7)
    torch.manual_seed(7)  # a random short side among several, drawn from the global generator
    multi = [cls(min_size=(40, 60, 80), max_size=200, image_mean=[0.0] * 3, image_std=[1.0] * 3)
             for cls in (det_transform.GeneralizedRCNNTransform, tv_transform.GeneralizedRCNNTransform)]
    sizes = [[m.resize(lib.zeros(3, 50, 70))[0].shape[-2:] for _ in range(5)] for m, lib in zip(multi, (ember, torch))]
    assert [tuple(s) for s in sizes[0]] == [tuple(s) for s in sizes[1]]


def test_mask_and_keypoint_helpers_as_torchvision():
    rng = numpy.random.default_rng(8)
    masks = rng.random((3, 1, 14, 14), dtype=numpy.float32)
    boxes = numpy.array([[-4.0, 2, 30, 40], [10, 10, 11, 12], [50, 60, 90, 75]], numpy.float32)
    out = det_roi_heads.paste_masks_in_image(ember.tensor(masks), ember.tensor(boxes), (70, 80))
    ref = tv_roi_heads.paste_masks_in_image(torch.tensor(masks), torch.tensor(boxes), (70, 80))
    numpy.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)
    empty = det_roi_heads.paste_masks_in_image(ember.zeros(0, 1, 14, 14), ember.zeros(0, 4), (7, 8))
    assert tuple(empty.shape) == (0, 1, 7, 8)
    rois = numpy.array([[0.0, 0, 20, 20], [5, 5, 45, 25]], numpy.float32)
    keypoints = numpy.array([[[3.0, 4, 1], [20, 20, 1], [25, 3, 1]], [[6, 6, 0], [44, 24, 2], [45, 25, 1]]],
                            numpy.float32)
    for o, r in zip(det_roi_heads.keypoints_to_heatmap(ember.tensor(keypoints), ember.tensor(rois), 8),
                    tv_roi_heads.keypoints_to_heatmap(torch.tensor(keypoints), torch.tensor(rois), 8)):
        assert o.tolist() == r.tolist()
    maps = rng.normal(size=(2, 3, 8, 8)).astype(numpy.float32)
    for o, r in zip(det_roi_heads.heatmaps_to_keypoints(ember.tensor(maps), ember.tensor(rois)),
                    tv_roi_heads.heatmaps_to_keypoints(torch.tensor(maps), torch.tensor(rois))):
        numpy.testing.assert_allclose(o.numpy(), r.numpy(), rtol=1e-5, atol=1e-5)
