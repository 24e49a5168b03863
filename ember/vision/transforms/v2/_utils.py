"""Helpers the v2 transforms share: flattening samples, finding images and boxes among them, argument checks."""
import collections
import numbers
from collections.abc import Mapping, Sequence
from contextlib import suppress

from ...tv_tensors import BoundingBoxes, Image, KeyPoints, Mask, Video
from .functional import get_dimensions, get_size, is_pure_tensor
from .functional._utils import is_pil_image


def tree_flatten(tree):
    """(leaves, spec): the leaves of nested tuples, lists and dicts, and how to rebuild them."""
    if isinstance(tree, (tuple, list)):
        children = [tree_flatten(item) for item in tree]
        return [leaf for leaves, _ in children for leaf in leaves], (type(tree), None, [spec for _, spec in children])
    if isinstance(tree, dict):
        children = [tree_flatten(value) for value in tree.values()]
        return ([leaf for leaves, _ in children for leaf in leaves],
                (type(tree), list(tree.keys()), [spec for _, spec in children]))
    return [tree], None


def tree_unflatten(leaves, spec):
    """The tree ``spec`` describes, filled with ``leaves`` in order."""
    iterator = iter(leaves)

    def build(spec):
        if spec is None:
            return next(iterator)
        kind, keys, children = spec
        values = [build(child) for child in children]
        if keys is not None:
            return kind(zip(keys, values)) if kind is not collections.defaultdict else dict(zip(keys, values))
        if hasattr(kind, "_fields"):   # a namedtuple
            return kind(*values)
        return kind(values)
    return build(spec)


def check_type(obj, types_or_checks):
    """True when ``obj`` is one of the types or passes one of the checks."""
    for type_or_check in types_or_checks:
        if isinstance(obj, type_or_check) if isinstance(type_or_check, type) else type_or_check(obj):
            return True
    return False


def has_any(flat_inputs, *types_or_checks):
    """True when some input matches some type or check."""
    return any(check_type(inpt, types_or_checks) for inpt in flat_inputs)


def has_all(flat_inputs, *types_or_checks):
    """True when each type or check is matched by some input."""
    return all(has_any(flat_inputs, type_or_check) for type_or_check in types_or_checks)


def get_bounding_boxes(flat_inputs):
    """The sample's BoundingBoxes (one per sample)."""
    try:
        return next(inpt for inpt in flat_inputs if isinstance(inpt, BoundingBoxes))
    except StopIteration:
        raise ValueError("No bounding boxes were found in the sample") from None


def get_keypoints(flat_inputs):
    """The sample's KeyPoints (one per sample)."""
    try:
        return next(inpt for inpt in flat_inputs if isinstance(inpt, KeyPoints))
    except StopIteration:
        raise ValueError("No keypoints were found in the sample") from None


def _sizes_repr(sizes):
    sizes = [str(s) for s in sorted(sizes)]
    return sizes[0] if len(sizes) == 1 else f"{', '.join(sizes[:-1])}, and {sizes[-1]}"


def query_chw(flat_inputs):
    """(C, H, W) shared by the sample's images and videos."""
    chws = {tuple(get_dimensions(inpt)) for inpt in flat_inputs
            if check_type(inpt, (is_pure_tensor, Image, is_pil_image, Video))}
    if not chws:
        raise TypeError("No image or video was found in the sample")
    if len(chws) > 1:
        raise ValueError(f"Found multiple CxHxW dimensions in the sample: {_sizes_repr(chws)}")
    return chws.pop()


def query_size(flat_inputs):
    """(H, W) shared by the sample's images, videos, masks and boxes' canvas."""
    sizes = {tuple(get_size(inpt)) for inpt in flat_inputs
             if check_type(inpt, (is_pure_tensor, Image, is_pil_image, Video, Mask, BoundingBoxes, KeyPoints))}
    if not sizes:
        raise TypeError("No image, video, mask, bounding box of keypoint was found in the sample")
    if len(sizes) > 1:
        raise ValueError(f"Found multiple HxW dimensions in the sample: {_sizes_repr(sizes)}")
    return sizes.pop()


def _setup_number_or_seq(arg, name):
    if not isinstance(arg, (int, float, Sequence)):
        raise TypeError(f"{name} should be a number or a sequence of numbers. Got {type(arg)}")
    if isinstance(arg, Sequence) and len(arg) not in (1, 2):
        raise ValueError(f"If {name} is a sequence its length should be 1 or 2. Got {len(arg)}")
    if isinstance(arg, Sequence):
        for element in arg:
            if not isinstance(element, (int, float)):
                raise ValueError(f"{name} should be a sequence of numbers. Got {type(element)}")
    if isinstance(arg, (int, float)):
        return [float(arg), float(arg)]
    return [float(arg[0]), float(arg[-1])]


def _check_fill_arg(fill):
    if isinstance(fill, dict):
        for value in fill.values():
            _check_fill_arg(value)
    elif fill is not None and not isinstance(fill, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate fill arg, only Numbers, tuples, lists and dicts are allowed.")


def _setup_fill_arg(fill):
    """``fill`` as a dict by input type ("others" for the rest); sequences become lists of floats."""
    _check_fill_arg(fill)

    def convert(value):
        return value if value is None or isinstance(value, (int, float)) else [float(v) for v in value]
    if isinstance(fill, dict):
        return {key: convert(value) for key, value in fill.items()}
    return {"others": convert(fill)}


def _get_fill(fill_dict, inpt_type):
    if inpt_type in fill_dict:
        return fill_dict[inpt_type]
    return fill_dict.get("others")


def _check_padding_arg(padding):
    message = f"Padding must be an int or a 1, 2, or 4 element of tuple or list, got {padding}."
    if isinstance(padding, (tuple, list)):
        if len(padding) not in (1, 2, 4) or not all(isinstance(p, int) for p in padding):
            raise ValueError(message)
    elif not isinstance(padding, int):
        raise ValueError(message)


def _check_padding_mode_arg(padding_mode):
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")


def _find_labels_default_heuristic(inputs):
    """The labels: the second item of a (inputs, labels) pair, or the 'labels'-like key of a dict (alone or second
    in a pair)."""
    if isinstance(inputs, (tuple, list)):
        inputs = inputs[1]
    if is_pure_tensor(inputs):
        return inputs
    if not isinstance(inputs, Mapping):
        raise ValueError("When using the default labels_getter, the input passed to forward must be a dictionary or "
                         f"a two-tuple whose second item is a dictionary or a tensor, but got {inputs} instead.")
    candidate_key = None
    with suppress(StopIteration):
        candidate_key = next(key for key in inputs.keys() if key.lower() == "labels")
    if candidate_key is None:
        with suppress(StopIteration):
            candidate_key = next(key for key in inputs.keys() if "label" in key.lower())
    if candidate_key is None:
        raise ValueError("Could not infer where the labels are in the sample. Try passing a callable as the "
                         "labels_getter parameter?If there are no labels in the sample by design, pass "
                         "labels_getter=None.")
    return inputs[candidate_key]


def _parse_labels_getter(labels_getter):
    if labels_getter == "default":
        return _find_labels_default_heuristic
    if callable(labels_getter):
        return labels_getter
    if labels_getter is None:
        return lambda _: None
    raise ValueError(f"labels_getter should either be 'default', a callable, or None, but got {labels_getter}.")
