"""A map-style dataset of PIL images through ToTensor + Normalize and a DataLoader (in the main process and in
workers, whose batches travel through shared memory) gives PyTorch's batches: same values, dtypes and shapes."""
import numpy
import pytest
import torch
from PIL import Image

import ember
from ember.vision import transforms
from tests.utils.test_dataloader_workers import no_leaks  # noqa: F401  (fixture)

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


class PILImages:
    """Images of several sizes' worth of random pixels with integer labels, as torchvision's CIFAR10 serves them."""

    def __init__(self, transform, count=21):
        rng = numpy.random.default_rng(3)
        self.images = rng.integers(0, 256, (count, 5, 7, 3), dtype=numpy.uint8)
        self.labels = rng.integers(0, 10, count)
        self.transform = transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        return self.transform(Image.fromarray(self.images[index])), int(self.labels[index])


def torch_transform(image):
    """torchvision's ToTensor + Normalize written out on torch (torchvision is not installed beside torch here)."""
    chw = torch.from_numpy(numpy.array(image, numpy.uint8)).permute(2, 0, 1).contiguous()
    return chw.to(torch.float32).div(255).sub_(torch.tensor(MEAN).view(-1, 1, 1)).div_(torch.tensor(STD).view(-1, 1, 1))


@pytest.mark.timeout(120)
@pytest.mark.parametrize("workers", [0, 2])
def test_pil_loader_batches_match_torch(workers, no_leaks):  # noqa: F811
    ours = ember.utils.data.DataLoader(
        PILImages(transforms.Compose([transforms.ToTensor(), transforms.Normalize(MEAN, STD)])), batch_size=4,
        num_workers=workers)
    theirs = torch.utils.data.DataLoader(PILImages(torch_transform), batch_size=4)
    count = 0
    for (x, y), (tx, ty) in zip(ours, theirs, strict=True):
        assert x.dtype == ember.float32 and y.dtype == ember.int64 and tuple(x.shape) == tuple(tx.shape)
        assert x.is_contiguous() and not x.requires_grad
        numpy.testing.assert_array_equal(x.numpy(), tx.numpy())
        numpy.testing.assert_array_equal(y.numpy(), ty.numpy())
        count += 1
    assert count == 6
