"""``Transform``: the base of the v2 transforms. ``forward`` flattens any structure of inputs, draws parameters
once (``make_params``) and applies them to every input it transforms (``transform``)."""
import enum

import ember
from ember import nn

from ...tv_tensors import Image, Video
from .functional import is_pure_tensor
from .functional._utils import _get_kernel, is_pil_image
from ._utils import check_type, has_any, tree_flatten, tree_unflatten


class Transform(nn.Module):
    """Base class of v2 transforms: subclasses override ``make_params(flat_inputs)`` and ``transform(inpt,
    params)``."""

    # Types (or checks) of the inputs a transform touches; the rest pass through.
    _transformed_types = (ember.Tensor, is_pil_image)
    # The v1 transform this one replaces, whose static get_params it offers (torchvision's compatibility).
    _v1_transform_cls = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls._v1_transform_cls is not None and hasattr(cls._v1_transform_cls, "get_params"):
            cls.get_params = staticmethod(cls._v1_transform_cls.get_params)

    def check_inputs(self, flat_inputs):
        """Raises if the flattened sample cannot be transformed (nothing by default)."""

    def make_params(self, flat_inputs):
        """The random (or computed) parameters shared by every input of one call."""
        return dict()

    def _call_kernel(self, functional, inpt, *args, **kwargs):
        return _get_kernel(functional, type(inpt), allow_passthrough=True)(inpt, *args, **kwargs)

    def transform(self, inpt, params):
        """One input, transformed with ``params``."""
        raise NotImplementedError

    def forward(self, *inputs):
        """Do not override: override ``make_params`` and ``transform``."""
        flat_inputs, spec = tree_flatten(inputs if len(inputs) > 1 else inputs[0])
        self.check_inputs(flat_inputs)
        return tree_unflatten(self._transform_flat(flat_inputs), spec)

    def _transform_flat(self, flat_inputs):
        needs_transform = self._needs_transform_list(flat_inputs)
        params = self.make_params([inpt for inpt, needs in zip(flat_inputs, needs_transform) if needs])
        return [self.transform(inpt, params) if needs else inpt for inpt, needs in zip(flat_inputs, needs_transform)]

    def _needs_transform_list(self, flat_inputs):
        # torchvision's heuristic: without an Image, Video or PIL image in the sample, the first pure tensor is the
        # image; every other pure tensor passes through.
        transform_pure_tensor = not has_any(flat_inputs, Image, Video, is_pil_image)
        needs_transform_list = []
        for inpt in flat_inputs:
            needs_transform = check_type(inpt, self._transformed_types)
            if needs_transform and is_pure_tensor(inpt):
                needs_transform, transform_pure_tensor = transform_pure_tensor, False
            needs_transform_list.append(needs_transform)
        return needs_transform_list

    def extra_repr(self):
        extra = []
        for name, value in self.__dict__.items():
            if name.startswith("_") or name == "training":
                continue
            if isinstance(value, (bool, int, float, str, tuple, list, enum.Enum)):
                extra.append(f"{name}={value}")
        return ", ".join(extra)


class _RandomApplyTransform(Transform):
    """A transform applied with probability ``p``: one draw per call, before the parameters."""

    def __init__(self, p=0.5):
        if not (0.0 <= p <= 1.0):
            raise ValueError("`p` should be a floating point value in the interval [0.0, 1.0].")
        super().__init__()
        self.p = p

    def forward(self, *inputs):
        """The inputs, transformed with probability ``p``, else returned as they are."""
        inputs = inputs if len(inputs) > 1 else inputs[0]
        flat_inputs, spec = tree_flatten(inputs)
        self.check_inputs(flat_inputs)
        if ember.rand(1) >= self.p:
            return inputs
        return tree_unflatten(self._transform_flat(flat_inputs), spec)
