"""ember.types: the aliases annotations import from torch.types accept what PyTorch's accept."""
import typing

import torch

import ember


def test_aliases_accept_what_pytorch_accepts():
    for name in ("Number", "Device", "FileLike"):
        ours, theirs = getattr(ember.types, name), getattr(torch.types, name)
        ours_args = {a.__name__ for a in typing.get_args(ours) if hasattr(a, "__name__")}
        theirs_args = {a.__name__ for a in typing.get_args(theirs) if hasattr(a, "__name__")}
        assert ours_args == theirs_args, name
    assert ember.types.Tensor is ember.Tensor and ember.types.Size is ember.Size
    assert ember.types.IntLikeType is int


def test_serialization_annotation_aliases():
    # Pyro's param store: ``from torch.serialization import MAP_LOCATION``
    for name in ("MAP_LOCATION", "FileLike", "STORAGE"):
        ours, theirs = getattr(ember.serialization, name), getattr(torch.serialization, name)
        ours_args = {a.__name__ for a in typing.get_args(ours) if hasattr(a, "__name__")}
        theirs_args = {a.__name__ for a in typing.get_args(theirs) if hasattr(a, "__name__")}
        assert ours_args - {"Dict"} == theirs_args - {"dict", "Storage"}, name
