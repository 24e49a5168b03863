"""Containers: Compose, RandomApply, RandomChoice, RandomOrder. Each passes the whole sample (any structure, or
several positional inputs) to the transforms it holds."""
from collections.abc import Sequence

import ember
from ember import nn

from ._transform import Transform

__all__ = ["Compose", "RandomApply", "RandomChoice", "RandomOrder"]


def _check_transforms(transforms, allowed=(Sequence,)):
    if not isinstance(transforms, allowed):
        raise TypeError("Argument transforms should be a sequence of callables"
                        + (" or a `nn.ModuleList`" if nn.ModuleList in allowed else ""))
    if not transforms:
        raise ValueError("Pass at least one transform")


def _run(transforms, inputs):
    needs_unpacking = len(inputs) > 1
    for transform in transforms:
        outputs = transform(*inputs)
        inputs = outputs if needs_unpacking else (outputs,)
    return outputs


def _lines(transforms):
    return "\n".join(f"    {t}" for t in transforms)


class Compose(Transform):
    """Applies ``transforms`` in order."""

    def __init__(self, transforms):
        super().__init__()
        _check_transforms(transforms)
        self.transforms = transforms

    def forward(self, *inputs):
        """The inputs through each transform in turn."""
        return _run(self.transforms, inputs)

    def extra_repr(self):
        return _lines(self.transforms)


class RandomApply(Transform):
    """Applies all of ``transforms`` with probability ``p`` (one draw per call)."""

    def __init__(self, transforms, p=0.5):
        super().__init__()
        _check_transforms(transforms, (Sequence, nn.ModuleList))
        self.transforms = transforms
        if not 0.0 <= p <= 1.0:
            raise ValueError("`p` should be a floating point value in the interval [0.0, 1.0].")
        self.p = p

    def forward(self, *inputs):
        """The inputs through every transform with probability ``p``, else unchanged."""
        if ember.rand(1) >= self.p:
            return inputs if len(inputs) > 1 else inputs[0]
        return _run(self.transforms, inputs)

    def extra_repr(self):
        return _lines(self.transforms)


class RandomChoice(Transform):
    """Applies one of ``transforms``, drawn with weights ``p`` (``ember.multinomial``, as torchvision's v2)."""

    def __init__(self, transforms, p=None):
        _check_transforms(transforms)
        if p is None:
            p = [1] * len(transforms)
        elif len(p) != len(transforms):
            raise ValueError(f"Length of p doesn't match the number of transforms: {len(p)} != {len(transforms)}")
        super().__init__()
        self.transforms = transforms
        total = sum(p)
        self.p = [prob / total for prob in p]

    def forward(self, *inputs):
        """The inputs through one transform drawn with weights ``p``."""
        return self.transforms[int(ember.multinomial(ember.tensor(self.p), 1))](*inputs)


class RandomOrder(Transform):
    """Applies ``transforms`` in a random order (``ember.randperm``, as torchvision's v2)."""

    def __init__(self, transforms):
        _check_transforms(transforms)
        super().__init__()
        self.transforms = transforms

    def forward(self, *inputs):
        """The inputs through every transform, in an order drawn per call."""
        return _run([self.transforms[i] for i in ember.randperm(len(self.transforms)).tolist()], inputs)
