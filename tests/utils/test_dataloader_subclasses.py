"""Tensor subclasses keep their type and attributes through pickling and through DataLoader workers (the
shared-memory batch path), as PyTorch's do."""
import pickle

import torch

import ember
from ember.vision import tv_tensors


class Tagged(ember.Tensor):
    """A user's tensor subclass with an attribute of its own."""


class TorchTagged(torch.Tensor):
    """The same subclass of PyTorch's Tensor."""


class _Boxes(ember.utils.data.Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, index):
        boxes = tv_tensors.BoundingBoxes([[index, 0, index + 2, 3]], format="XYXY", canvas_size=(8, 8))
        tagged = ember.full((2,), float(index)).as_subclass(Tagged)
        tagged.tag = f"item{index}"
        return {"boxes": boxes, "tagged": tagged, "plain": ember.tensor([index])}


def _check(sample, index):
    assert type(sample["boxes"]) is tv_tensors.BoundingBoxes
    assert sample["boxes"].canvas_size == (8, 8) and sample["boxes"].format == tv_tensors.BoundingBoxFormat.XYXY
    assert sample["boxes"].tolist() == [[index, 0, index + 2, 3]]
    assert type(sample["tagged"]) is Tagged and sample["tagged"].tag == f"item{index}"
    assert type(sample["plain"]) is ember.Tensor


def test_workers_keep_subclasses_and_their_attributes():
    loader = ember.utils.data.DataLoader(_Boxes(), batch_size=None, num_workers=2)
    for index, sample in enumerate(loader):
        _check(sample, index)


def test_pickling_keeps_subclasses_as_pytorch():
    sample = _Boxes()[3]
    _check(pickle.loads(pickle.dumps(sample)), 3)
    theirs = torch.ones(2).as_subclass(TorchTagged)
    theirs.tag = "x"
    ours = ember.ones(2).as_subclass(Tagged)
    ours.tag = "x"
    assert pickle.loads(pickle.dumps(ours)).tag == "x"
    assert not hasattr(pickle.loads(pickle.dumps(ember.ones(2, requires_grad=True))), "tag")
    assert vars(pickle.loads(pickle.dumps(theirs))).get("tag") == "x"
