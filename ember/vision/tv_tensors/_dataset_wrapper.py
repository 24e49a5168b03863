"""``wrap_dataset_for_transforms_v2``: torchvision's datasets with their targets as tv_tensors (BoundingBoxes, Mask,
Video) so that ``transforms.v2`` transforms images and targets together."""
import collections.abc
import contextlib
from collections import defaultdict
from copy import copy

import ember
from ember.vision import datasets, tv_tensors
from ember.vision.transforms.v2 import functional as F

__all__ = ["wrap_dataset_for_transforms_v2"]

_XYXY, _XYWH = tv_tensors.BoundingBoxFormat.XYXY, tv_tensors.BoundingBoxFormat.XYWH


def wrap_dataset_for_transforms_v2(dataset, target_keys=None):
    """``dataset`` as an instance of ``Wrapped<its class>`` whose samples carry tv_tensors; ``target_keys`` (None, "all"
    or a collection of key names) picks the target keys of CocoDetection, VOCDetection, Kitti and WIDERFace."""
    if not (target_keys is None or target_keys == "all" or (isinstance(target_keys, collections.abc.Collection)
                                                            and all(isinstance(key, str) for key in target_keys))):
        raise ValueError(f"`target_keys` can be None, 'all', or a collection of strings denoting the keys to be "
                         f"returned, but got {target_keys}")
    # The subclass of both keeps isinstance(wrapped, type(dataset)); its __init__ never reaches the dataset's own.
    wrapped_cls = type(f"Wrapped{type(dataset).__name__}", (VisionDatasetTVTensorWrapper, type(dataset)), {})
    return wrapped_cls(dataset, target_keys)


class WrapperFactories(dict):
    """Dataset class -> factory(dataset, target_keys) of a function (index, raw sample) -> wrapped sample."""

    def register(self, dataset_cls):
        """Decorator registering a wrapper factory for ``dataset_cls``."""
        def decorator(wrapper_factory):
            self[dataset_cls] = wrapper_factory
            return wrapper_factory
        return decorator


WRAPPER_FACTORIES = WrapperFactories()
_TARGET_KEYS_DATASETS = {datasets.CocoDetection, datasets.VOCDetection, datasets.Kitti, datasets.WIDERFace}


class VisionDatasetTVTensorWrapper:
    """The wrapped dataset: reads the raw sample (the dataset's own transforms taken over), wraps it, then applies
    the transforms; other attributes are the dataset's."""

    def __init__(self, dataset, target_keys):
        dataset_cls = type(dataset)
        if not isinstance(dataset, datasets.VisionDataset):
            raise TypeError(
                f"This wrapper is meant for subclasses of `torchvision.datasets.VisionDataset`, "
                f"but got a '{dataset_cls.__name__}' instead.\nFor an example of how to perform the wrapping for "
                "custom datasets, see\n\nhttps://pytorch.org/vision/main/auto_examples/plot_tv_tensors.html"
                "#do-i-have-to-wrap-the-output-of-the-datasets-myself")
        for cls in dataset_cls.mro():
            if cls in WRAPPER_FACTORIES:
                if target_keys is not None and cls not in _TARGET_KEYS_DATASETS:
                    raise ValueError(f"`target_keys` is currently only supported for `CocoDetection`, `VOCDetection`,"
                                     f" `Kitti`, and `WIDERFace`, but got {cls.__name__}.")
                wrapper_factory = WRAPPER_FACTORIES[cls]
                break
            if cls is datasets.VisionDataset:
                msg = f"No wrapper exists for dataset class {dataset_cls.__name__}. Please wrap the output yourself."
                if dataset_cls in datasets.__dict__.values():
                    msg = (f"{msg} If an automated wrapper for this dataset would be useful for you, "
                           f"please open an issue at https://github.com/pytorch/vision/issues.")
                raise TypeError(msg)
        self._dataset = dataset
        self._target_keys = target_keys
        self._wrapper = wrapper_factory(dataset, target_keys)
        # The dataset's transforms run after the wrapping: take all three over (most datasets apply transform and
        # target_transform themselves rather than through transforms).
        self.transform, dataset.transform = dataset.transform, None
        self.target_transform, dataset.target_transform = dataset.target_transform, None
        self.transforms, dataset.transforms = dataset.transforms, None

    def __getattr__(self, item):
        with contextlib.suppress(AttributeError):
            return object.__getattribute__(self, item)
        return getattr(self._dataset, item)

    def __getitem__(self, idx):
        sample = self._wrapper(idx, self._dataset[idx])
        if self.transforms is not None:
            sample = self.transforms(*sample)
        return sample

    def __len__(self):
        return len(self._dataset)

    def __reduce__(self):
        # Pickling (DataLoader workers) rebuilds the wrapper from the dataset with its transforms put back.
        dataset = copy(self._dataset)
        dataset.transform = self.transform
        dataset.transforms = self.transforms
        dataset.target_transform = self.target_transform
        return wrap_dataset_for_transforms_v2, (dataset, self._target_keys)


def raise_not_supported(description):
    """Refuses a dataset configuration the wrapper has no tv_tensor form for."""
    raise RuntimeError(f"{description} is currently not supported by this wrapper. If this would be helpful for you, "
                       "please open an issue at https://github.com/pytorch/vision/issues.")


def _identity(item):
    return item


def identity_wrapper_factory(dataset, target_keys):
    """Samples pass through unchanged."""
    return lambda idx, sample: sample


def pil_image_to_mask(pil_image):
    """A PIL segmentation image as a Mask."""
    return tv_tensors.Mask(pil_image)


def parse_target_keys(target_keys, *, available, default):
    """The set of target keys to return: ``default`` for None, ``available`` for "all", else the given keys."""
    if target_keys is None:
        target_keys = default
    if target_keys == "all":
        return available
    target_keys = set(target_keys)
    extra = target_keys - available
    if extra:
        raise ValueError(f"Target keys {sorted(extra)} are not available")
    return target_keys


def list_of_dicts_to_dict_of_lists(list_of_dicts):
    """[{k: v}, ...] -> {k: [v, ...]}."""
    dict_of_lists = defaultdict(list)
    for dct in list_of_dicts:
        for key, value in dct.items():
            dict_of_lists[key].append(value)
    return dict(dict_of_lists)


def wrap_target_by_type(target, *, target_types, type_wrappers):
    """Each item of a (possibly single) target wrapped by the wrapper of its target type."""
    items = target if isinstance(target, (tuple, list)) else [target]
    wrapped = tuple(type_wrappers.get(kind, _identity)(item) for kind, item in zip(target_types, items))
    return wrapped[0] if len(wrapped) == 1 else wrapped


def _xywh_boxes(boxes, canvas_size):
    return F.convert_bounding_box_format(tv_tensors.BoundingBoxes(boxes, format=_XYWH, canvas_size=canvas_size),
                                         new_format=_XYXY)


def classification_wrapper_factory(dataset, target_keys):
    """Classification samples are already what the v2 transforms take."""
    return identity_wrapper_factory(dataset, target_keys)


for dataset_cls in (datasets.Caltech256, datasets.CIFAR10, datasets.CIFAR100, datasets.ImageNet, datasets.MNIST,
                    datasets.FashionMNIST, datasets.GTSRB, datasets.DatasetFolder, datasets.ImageFolder,
                    datasets.Imagenette):
    WRAPPER_FACTORIES.register(dataset_cls)(classification_wrapper_factory)


def segmentation_wrapper_factory(dataset, target_keys):
    """(image, PIL mask) -> (image, Mask)."""
    return lambda idx, sample: (sample[0], pil_image_to_mask(sample[1]))


WRAPPER_FACTORIES.register(datasets.VOCSegmentation)(segmentation_wrapper_factory)


def video_classification_wrapper_factory(dataset, target_keys):
    """(video, audio, label) -> (Video, audio, label); only for TCHW clips."""
    if dataset.video_clips.output_format == "THWC":
        raise RuntimeError(f"{type(dataset).__name__} with `output_format='THWC'` is not supported by this wrapper, "
                           "since it is not compatible with the transformations. Please use `output_format='TCHW'` "
                           "instead.")
    return lambda idx, sample: (tv_tensors.Video(sample[0]), sample[1], sample[2])


for dataset_cls in (datasets.HMDB51, datasets.Kinetics, datasets.UCF101):
    WRAPPER_FACTORIES.register(dataset_cls)(video_classification_wrapper_factory)


@WRAPPER_FACTORIES.register(datasets.Caltech101)
def caltech101_wrapper_factory(dataset, target_keys):
    """Category targets pass through; outline annotations are refused."""
    if "annotation" in dataset.target_type:
        raise_not_supported("Caltech101 dataset with `target_type=['annotation', ...]`")
    return classification_wrapper_factory(dataset, target_keys)


def _coco_segmentation_to_mask(segmentation, *, canvas_size):
    from pycocotools import mask

    if isinstance(segmentation, dict):
        if not isinstance(segmentation["counts"], str):   # a string is already an encoded RLE
            segmentation = mask.frPyObjects(segmentation, *canvas_size)
    elif isinstance(segmentation, list):
        segmentation = mask.merge(mask.frPyObjects(segmentation, *canvas_size))
    else:
        raise ValueError(f"COCO segmentation expected to be a dict or a list, got {type(segmentation)}")
    return ember.from_numpy(mask.decode(segmentation))


@WRAPPER_FACTORIES.register(datasets.CocoDetection)
def coco_dectection_wrapper_factory(dataset, target_keys):
    """The annotation list as a dict of lists, with XYXY ``boxes``, ``masks`` (through pycocotools) and ``labels``;
    by default only image_id, boxes and labels."""
    target_keys = parse_target_keys(
        target_keys, default={"image_id", "boxes", "labels"},
        available={"segmentation", "area", "iscrowd", "image_id", "bbox", "category_id", "boxes", "masks", "labels"})

    def wrapper(idx, sample):
        image_id = dataset.ids[idx]
        image, target = sample
        if not target:
            return image, dict(image_id=image_id)
        canvas_size = tuple(F.get_size(image))
        batched = list_of_dicts_to_dict_of_lists(target)
        target = {}
        if "image_id" in target_keys:
            target["image_id"] = image_id
        if "boxes" in target_keys:
            target["boxes"] = _xywh_boxes(batched["bbox"], canvas_size)
        if "masks" in target_keys:
            target["masks"] = tv_tensors.Mask(ember.stack([_coco_segmentation_to_mask(s, canvas_size=canvas_size)
                                                           for s in batched["segmentation"]]))
        if "labels" in target_keys:
            target["labels"] = ember.tensor(batched["category_id"])
        for key in target_keys - {"image_id", "boxes", "masks", "labels"}:
            target[key] = batched[key]
        return image, target

    return wrapper


WRAPPER_FACTORIES.register(datasets.CocoCaptions)(identity_wrapper_factory)

VOC_DETECTION_CATEGORIES = ["__background__", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat",
                            "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
                            "sheep", "sofa", "train", "tvmonitor"]
VOC_DETECTION_CATEGORY_TO_IDX = {name: i for i, name in enumerate(VOC_DETECTION_CATEGORIES)}


@WRAPPER_FACTORIES.register(datasets.VOCDetection)
def voc_detection_wrapper_factory(dataset, target_keys):
    """XYXY ``boxes`` and ``labels`` (VOC category indices) of the annotation's objects; by default only those."""
    target_keys = parse_target_keys(target_keys, available={"annotation", "boxes", "labels"},
                                    default={"boxes", "labels"})

    def wrapper(idx, sample):
        image, target = sample
        batched = list_of_dicts_to_dict_of_lists(target["annotation"]["object"])
        if "annotation" not in target_keys:
            target = {}
        if "boxes" in target_keys:
            target["boxes"] = tv_tensors.BoundingBoxes(
                [[int(box[part]) for part in ("xmin", "ymin", "xmax", "ymax")] for box in batched["bndbox"]],
                format=_XYXY, canvas_size=(image.height, image.width))
        if "labels" in target_keys:
            target["labels"] = ember.tensor([VOC_DETECTION_CATEGORY_TO_IDX[name] for name in batched["name"]])
        return image, target

    return wrapper


@WRAPPER_FACTORIES.register(datasets.SBDataset)
def sbd_wrapper(dataset, target_keys):
    """Segmentation masks as Mask; boundaries are refused."""
    if dataset.mode == "boundaries":
        raise_not_supported("SBDataset with mode='boundaries'")
    return segmentation_wrapper_factory(dataset, target_keys)


@WRAPPER_FACTORIES.register(datasets.CelebA)
def celeba_wrapper_factory(dataset, target_keys):
    """``bbox`` targets as XYXY BoundingBoxes, identities pass through; attributes and landmarks are refused."""
    if any(target_type in dataset.target_type for target_type in ["attr", "landmarks"]):
        raise_not_supported("`CelebA` dataset with `target_type=['attr', 'landmarks', ...]`")

    def wrapper(idx, sample):
        image, target = sample

        def bbox(item):
            return _xywh_boxes(item, (image.height, image.width))
        return image, wrap_target_by_type(target, target_types=dataset.target_type, type_wrappers={"bbox": bbox})

    return wrapper


KITTI_CATEGORIES = ["Car", "Van", "Truck", "Pedestrian", "Person_sitting", "Cyclist", "Tram", "Misc", "DontCare"]
KITTI_CATEGORY_TO_IDX = {name: i for i, name in enumerate(KITTI_CATEGORIES)}


@WRAPPER_FACTORIES.register(datasets.Kitti)
def kitti_wrapper_factory(dataset, target_keys):
    """The label list as a dict of lists with XYXY ``boxes`` and ``labels``; by default only those two."""
    target_keys = parse_target_keys(
        target_keys, default={"boxes", "labels"},
        available={"type", "truncated", "occluded", "alpha", "bbox", "dimensions", "location", "rotation_y", "boxes",
                   "labels"})

    def wrapper(idx, sample):
        image, target = sample
        if target is None:
            return image, target
        batched = list_of_dicts_to_dict_of_lists(target)
        target = {}
        if "boxes" in target_keys:
            target["boxes"] = tv_tensors.BoundingBoxes(batched["bbox"], format=_XYXY,
                                                       canvas_size=(image.height, image.width))
        if "labels" in target_keys:
            target["labels"] = ember.tensor([KITTI_CATEGORY_TO_IDX[name] for name in batched["type"]])
        for key in target_keys - {"boxes", "labels"}:
            target[key] = batched[key]
        return image, target

    return wrapper


@WRAPPER_FACTORIES.register(datasets.OxfordIIITPet)
def oxford_iiit_pet_wrapper_factor(dataset, target_keys):
    """Segmentation trimaps as Mask; categories pass through."""
    def wrapper(idx, sample):
        image, target = sample
        if target is not None:
            target = wrap_target_by_type(target, target_types=dataset._target_types,
                                         type_wrappers={"segmentation": pil_image_to_mask})
        return image, target

    return wrapper


def _cityscapes_instances(mask):
    # ids of 1000 and above are class * 1000 + instance (cityscapesScripts' json2instanceImg)
    data = pil_image_to_mask(mask)
    masks, labels = [], []
    for id in data.unique():
        masks.append(data == id)
        labels.append(id // 1_000 if id >= 1_000 else id)
    return dict(masks=tv_tensors.Mask(ember.stack(masks)), labels=ember.stack(labels))


@WRAPPER_FACTORIES.register(datasets.Cityscapes)
def cityscapes_wrapper_factory(dataset, target_keys):
    """Semantic targets as Mask, instance targets as {masks: one Mask per id, labels}; polygon and color refused."""
    if any(target_type in dataset.target_type for target_type in ["polygon", "color"]):
        raise_not_supported("`Cityscapes` dataset with `target_type=['polygon', 'color', ...]`")

    def wrapper(idx, sample):
        image, target = sample
        return image, wrap_target_by_type(
            target, target_types=dataset.target_type,
            type_wrappers={"instance": _cityscapes_instances, "semantic": pil_image_to_mask})

    return wrapper


@WRAPPER_FACTORIES.register(datasets.WIDERFace)
def widerface_wrapper(dataset, target_keys):
    """The chosen target keys (all by default), ``bbox`` as XYXY BoundingBoxes."""
    target_keys = parse_target_keys(
        target_keys, default="all",
        available={"bbox", "blur", "expression", "illumination", "occlusion", "pose", "invalid"})

    def wrapper(idx, sample):
        image, target = sample
        if target is None:
            return image, target
        target = {key: target[key] for key in target_keys}
        if "bbox" in target_keys:
            target["bbox"] = _xywh_boxes(target["bbox"], (image.height, image.width))
        return image, target

    return wrapper
