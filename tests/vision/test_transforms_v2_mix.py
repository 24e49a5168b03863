"""MixUp and CutMix: images and labels mixed by the explicit formulas (each sample with the previous one, labels
one-hot for index labels), with the weight drawn from Beta(alpha, alpha)."""
import math

import numpy
import pytest

import ember
from ember.vision import tv_tensors
from ember.vision.transforms import v2

B, C, H, W, CLASSES = 4, 3, 10, 12, 5


def batch():
    ember.manual_seed(123)
    return ember.rand(B, C, H, W), ember.tensor([0, 3, 1, 4])


def one_hot(labels):
    out = numpy.zeros((len(labels), CLASSES), numpy.float32)
    out[numpy.arange(len(labels)), labels] = 1
    return out


def draw_lam(seed, alpha):
    ember.manual_seed(seed)
    return float(ember.distributions.Beta(ember.tensor([alpha]), ember.tensor([alpha])).sample(()))


@pytest.mark.parametrize("alpha", [0.4, 1.0])
def test_mixup_formula(alpha):
    images, labels = batch()
    lam = draw_lam(7, alpha)
    ember.manual_seed(7)
    mixed, mixed_labels = v2.MixUp(alpha=alpha, num_classes=CLASSES)(images, labels)
    x = images.numpy()
    numpy.testing.assert_allclose(mixed.numpy(), lam * x + (1 - lam) * numpy.roll(x, 1, axis=0), atol=1e-6)
    y = one_hot(labels.numpy())
    numpy.testing.assert_allclose(mixed_labels.numpy(), lam * y + (1 - lam) * numpy.roll(y, 1, axis=0), atol=1e-6)


def test_cutmix_formula():
    images, labels = batch()
    for seed in range(6):
        lam = draw_lam(seed, 1.0)
        r_x, r_y = int(ember.randint(W, size=(1,))), int(ember.randint(H, size=(1,)))
        half_w, half_h = int(0.5 * math.sqrt(1 - lam) * W), int(0.5 * math.sqrt(1 - lam) * H)
        x1, y1, x2, y2 = max(r_x - half_w, 0), max(r_y - half_h, 0), min(r_x + half_w, W), min(r_y + half_h, H)
        ember.manual_seed(seed)
        mixed, mixed_labels = v2.CutMix(num_classes=CLASSES)(images, labels)
        expected = images.numpy().copy()
        expected[..., y1:y2, x1:x2] = numpy.roll(images.numpy(), 1, axis=0)[..., y1:y2, x1:x2]
        numpy.testing.assert_array_equal(mixed.numpy(), expected)
        kept = 1 - (x2 - x1) * (y2 - y1) / (W * H)   # labels mix by the area each sample contributes
        y = one_hot(labels.numpy())
        numpy.testing.assert_allclose(mixed_labels.numpy(), kept * y + (1 - kept) * numpy.roll(y, 1, axis=0),
                                      atol=1e-6)


def test_probability_labels_and_tv_tensor_images():
    images, labels = batch()
    soft = ember.tensor(one_hot(labels.numpy()) * 0.9 + 0.02)
    out_images, out_labels = v2.MixUp()(tv_tensors.Image(images), soft)
    assert type(out_images) is tv_tensors.Image and out_labels.shape == (B, CLASSES)
    numpy.testing.assert_allclose(out_labels.sum(dim=1).numpy(), soft.sum(dim=1).numpy(), atol=1e-5)
    sample = {"image": images, "labels": labels, "note": "batch"}
    out = v2.CutMix(num_classes=CLASSES)(sample)
    assert out["note"] == "batch" and out["labels"].shape == (B, CLASSES)


def test_misuse_raises_as_torchvision():
    images, labels = batch()
    with pytest.raises(ValueError, match="num_classes must be passed"):
        v2.MixUp()(images, labels)
    with pytest.raises(ValueError, match="Expected a batched input with 4 dims"):
        v2.MixUp(num_classes=CLASSES)(images[0], labels)
    with pytest.raises(ValueError, match="batch size of the image"):
        v2.CutMix(num_classes=CLASSES)(images[:3], labels)
    with pytest.raises(ValueError, match="does not support PIL images, bounding boxes"):
        v2.MixUp(num_classes=CLASSES)(images, labels, tv_tensors.Mask(ember.zeros(B, H, W)))
    with pytest.raises(ValueError, match="must match num_classes"):
        v2.MixUp(num_classes=3)(images, ember.zeros(B, CLASSES))
    with pytest.raises(ValueError, match="labels must be a tensor"):
        v2.MixUp(num_classes=CLASSES, labels_getter=lambda inputs: [0] * B)(images, labels)
