"""torchvision 0.28's wrap_dataset_for_transforms_v2 on the detection and segmentation datasets (trees written by the
datasets' own tests), against torchvision's wrapper of torchvision's datasets reading the same files, with v2
transforms applied to the wrapped samples on both sides."""
import pickle
import sys
import types

import numpy
import pytest

import ember
import ember.vision.datasets as ED
import ember.vision.transforms.v2 as EV2
from tests.vision import tv_oracle
from tests.vision.test_datasets import write_mnist
from tests.vision.test_datasets_more import _celeba_files, _patch_celeba, _voc_tree, _write_celeba
from tests.vision.test_datasets_tv28 import _cityscapes_tree, _coco_files, _sbd_root, _StandInCOCO
from tests.vision.test_datasets_tv28_detection import _KITTI_LABELS, _image, _wider_root

Image = pytest.importorskip("PIL.Image")


def _same(a, b):
    """``a`` (ember's) equals ``b`` (torchvision's): tv_tensor classes and metadata, values, nesting."""
    if isinstance(b, dict):
        assert isinstance(a, dict) and sorted(a) == sorted(b)
        for key in b:
            _same(a[key], b[key])
    elif isinstance(b, (tuple, list)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif type(b).__module__.startswith("PIL"):
        assert a.mode == b.mode and a.size == b.size
        numpy.testing.assert_array_equal(numpy.asarray(a), numpy.asarray(b))
    elif hasattr(b, "numpy"):   # a torch tensor or tv_tensor
        assert ember.is_tensor(a) and type(a).__name__ == type(b).__name__
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
        if hasattr(b, "canvas_size"):
            assert a.format.name == b.format.name and tuple(a.canvas_size) == tuple(b.canvas_size)
        numpy.testing.assert_array_equal(a.numpy(), b.numpy())
    else:
        assert a == b


def _wrapped(tv, ours, theirs, target_keys=None):
    a = ED.wrap_dataset_for_transforms_v2(ours, target_keys=target_keys)
    b = tv.datasets.wrap_dataset_for_transforms_v2(theirs, target_keys=target_keys)
    assert type(a).__name__ == type(b).__name__ == f"Wrapped{type(ours).__name__}"
    assert isinstance(a, type(ours)) and len(a) == len(b) == len(ours)
    for index in range(len(a)):
        _same(a[index], b[index])
    return a, b


def _same_error(tv, make, target_keys=None):
    """Both wrappers refuse (their datasets made by ``make(datasets module)``) with the same error."""
    with pytest.raises(Exception) as theirs:
        tv.datasets.wrap_dataset_for_transforms_v2(make(tv.datasets), target_keys=target_keys)
    with pytest.raises(theirs.type) as ours:
        ED.wrap_dataset_for_transforms_v2(make(ED), target_keys=target_keys)
    assert str(ours.value) == str(theirs.value)


def _flip_pipelines(tv):
    """Flip then resize to 8 x 10, for ember's and torchvision's v2."""
    from torchvision.transforms import v2

    def pipeline(v2):
        return v2.Compose([v2.ToImage(), v2.RandomHorizontalFlip(p=1), v2.Resize((8, 10))])
    return pipeline(EV2), pipeline(v2)


@pytest.mark.parametrize("target_keys", [None, "all", ["annotation", "labels"], ("boxes",)])
def test_voc_detection_boxes_and_labels_as_torchvision(tmp_path, target_keys):
    tv = tv_oracle.load()
    _voc_tree(tmp_path, "VOCdevkit/VOC2012", ["2008_000001", "2008_000002"], "train")
    a, _ = _wrapped(tv, ED.VOCDetection(str(tmp_path)), tv.datasets.VOCDetection(str(tmp_path)), target_keys)
    image, target = a[1]
    if target_keys is None:
        assert sorted(target) == ["boxes", "labels"]
        assert target["boxes"].tolist() == [[1, 2, 5, 4]]   # the cat has no bndbox
        assert target["labels"].tolist() == [12, 8]   # dog, cat in VOC's category order
        assert tuple(target["boxes"].canvas_size) == (5, 7)


def test_voc_transforms_apply_to_the_wrapped_boxes_and_masks_as_torchvision(tmp_path):
    tv = tv_oracle.load()
    _voc_tree(tmp_path, "VOCdevkit/VOC2012", ["2008_000001"], "train")
    ours_t, theirs_t = _flip_pipelines(tv)
    a, _ = _wrapped(tv, ED.VOCDetection(str(tmp_path), transforms=ours_t),
                    tv.datasets.VOCDetection(str(tmp_path), transforms=theirs_t))
    image, target = a[0]
    assert image.shape == (3, 8, 10) and target["boxes"].tolist() == [[2.0, 3.0, 8.0, 6.0]]   # 7 - x, then 10/7
    a, _ = _wrapped(tv, ED.VOCSegmentation(str(tmp_path), transforms=ours_t),
                    tv.datasets.VOCSegmentation(str(tmp_path), transforms=theirs_t))
    assert type(a[0][1]).__name__ == "Mask" and a[0][1].shape == (1, 8, 10)
    _same_error(tv, lambda D: D.VOCDetection(str(tmp_path)), target_keys=["boxes", "masks", "area"])


@pytest.mark.parametrize("target_keys", [None, "all", ["type", "boxes", "alpha"]])
def test_kitti_dict_of_lists_as_torchvision(tmp_path, target_keys):
    tv = tv_oracle.load()
    location = tmp_path / "Kitti" / "raw" / "training"
    for seed, (stem, text) in enumerate(_KITTI_LABELS.items()):
        _image(str(location / "image_2" / f"{stem}.png"), seed)
        (location / "label_2").mkdir(parents=True, exist_ok=True)
        (location / "label_2" / f"{stem}.txt").write_text(text)
        _image(str(tmp_path / "Kitti" / "raw" / "testing" / "image_2" / f"{stem}.png"), seed)
    a, _ = _wrapped(tv, ED.Kitti(str(tmp_path)), tv.datasets.Kitti(str(tmp_path)), target_keys)
    if target_keys is None:
        image, target = a[a.images.index(str(location / "image_2" / "000007.png"))]
        image.close()
        assert target["labels"].tolist() == [0, 8] and target["boxes"].format.name == "XYXY"
    _wrapped(tv, ED.Kitti(str(tmp_path), train=False), tv.datasets.Kitti(str(tmp_path), train=False), target_keys)


@pytest.mark.parametrize("split,target_keys", [("train", None), ("val", ["bbox", "invalid"]), ("train", ["pose"]),
                                               ("test", None)])
def test_widerface_xyxy_boxes_as_torchvision(tmp_path, split, target_keys):
    tv = tv_oracle.load()
    _wider_root(str(tmp_path))
    ours_t, theirs_t = _flip_pipelines(tv)
    a, _ = _wrapped(tv, ED.WIDERFace(str(tmp_path), split=split), tv.datasets.WIDERFace(str(tmp_path), split=split),
                    target_keys)
    if split == "train" and target_keys is None:
        image, target = a[2]
        image.close()
        assert target["bbox"].tolist() == [[78, 221, 85, 229], [78, 238, 92, 255]]   # x, y, x + w, y + h
    _wrapped(tv, ED.WIDERFace(str(tmp_path), split=split, transform=ours_t),
             tv.datasets.WIDERFace(str(tmp_path), split=split, transform=theirs_t), target_keys)
    _same_error(tv, lambda D: D.WIDERFace(str(tmp_path), split=split), target_keys=["bbox", "boxes"])


@pytest.mark.parametrize("target_type", ["bbox", ["identity", "bbox"], "identity"])
def test_celeba_bbox_targets_as_torchvision(tmp_path, monkeypatch, target_type):
    tv = tv_oracle.load()
    files, images, _ = _celeba_files()
    _write_celeba(tmp_path, files, images)
    _patch_celeba(monkeypatch, ED.CelebA, files)
    _patch_celeba(monkeypatch, tv.datasets.CelebA, files)
    a, _ = _wrapped(tv, ED.CelebA(str(tmp_path), target_type=target_type),
                    tv.datasets.CelebA(str(tmp_path), target_type=target_type))
    if target_type == "bbox":
        image, target = a[1]
        assert target.tolist() == [[3, 6, 3 + 33, 6 + 43]] and tuple(target.canvas_size) == (9, 7)
    _same_error(tv, lambda D: D.CelebA(str(tmp_path), target_type=["bbox", "landmarks"]))
    _same_error(tv, lambda D: D.CelebA(str(tmp_path), target_type="bbox"), target_keys=["bbox"])


def test_oxford_iiit_pet_segmentation_as_mask_as_torchvision(tmp_path):
    tv = tv_oracle.load()
    base = tmp_path / "oxford-iiit-pet"
    (base / "annotations" / "trimaps").mkdir(parents=True)
    rows = [("great_pyrenees_3", 2, 2), ("Abyssinian_1", 1, 1)]
    (base / "annotations" / "trainval.txt").write_text("".join(f"{i} {label} {b} 1\n" for i, label, b in rows))
    for seed, (image_id, _, _) in enumerate(rows):
        _image(str(base / "images" / f"{image_id}.jpg"), seed, size=(5, 4))
        trimap = numpy.random.default_rng(seed).integers(1, 4, (4, 5), dtype=numpy.uint8)
        Image.fromarray(trimap).save(base / "annotations" / "trimaps" / f"{image_id}.png")
    for target_types in (["segmentation", "category"], "category", "segmentation", []):
        a, _ = _wrapped(tv, ED.OxfordIIITPet(str(tmp_path), target_types=target_types),
                        tv.datasets.OxfordIIITPet(str(tmp_path), target_types=target_types))
    ours_t, theirs_t = _flip_pipelines(tv)
    a, _ = _wrapped(tv, ED.OxfordIIITPet(str(tmp_path), target_types="segmentation", transforms=ours_t),
                    tv.datasets.OxfordIIITPet(str(tmp_path), target_types="segmentation", transforms=theirs_t))
    assert type(a[0][1]).__name__ == "Mask" and a[0][1].shape == (1, 8, 10)


@pytest.mark.parametrize("target_type", ["instance", "semantic", ["semantic", "instance"]])
def test_cityscapes_instances_and_semantic_masks_as_torchvision(tmp_path, target_type):
    tv = tv_oracle.load()
    _cityscapes_tree(str(tmp_path))
    for path in (tmp_path / "gtFine" / "val").glob("*/*_instanceIds.png"):   # 8-bit: torch has no uint16 >= on CPU
        ids = numpy.asarray(Image.open(path)) // 1000
        Image.fromarray(ids.astype(numpy.uint8)).save(path)
    a, _ = _wrapped(tv, ED.Cityscapes(str(tmp_path), split="val", target_type=target_type),
                    tv.datasets.Cityscapes(str(tmp_path), split="val", target_type=target_type))
    _same_error(tv, lambda D: D.Cityscapes(str(tmp_path), split="val", target_type=["semantic", "polygon"]))


def test_cityscapes_16_bit_instance_ids_split_into_class_labels(tmp_path):
    _cityscapes_tree(str(tmp_path))
    wrapped = ED.wrap_dataset_for_transforms_v2(ED.Cityscapes(str(tmp_path), split="val", target_type="instance"))
    for index, path in enumerate(wrapped.targets):
        ids = numpy.asarray(Image.open(path[0]))
        assert ids.dtype == numpy.uint16 and ids.max() >= 1000   # class * 1000 + instance, as Cityscapes stores them
        image, target = wrapped[index]
        image.close()
        values = numpy.unique(ids)
        numpy.testing.assert_array_equal(target["masks"].numpy(), (ids[None] == values[:, None, None])[:, None])
        numpy.testing.assert_array_equal(target["labels"].numpy(), numpy.where(values >= 1000, values // 1000, values))
        assert type(target["masks"]).__name__ == "Mask"


def test_sbd_segmentation_and_refused_boundaries_as_torchvision(tmp_path):
    tv = tv_oracle.load()
    _sbd_root(str(tmp_path))
    _wrapped(tv, ED.SBDataset(str(tmp_path), mode="segmentation"),
             tv.datasets.SBDataset(str(tmp_path), mode="segmentation"))
    _same_error(tv, lambda D: D.SBDataset(str(tmp_path), mode="boundaries"))


def _stand_in_pycocotools(monkeypatch):
    stand_in = types.ModuleType("pycocotools")
    stand_in.coco = types.SimpleNamespace(COCO=_StandInCOCO)
    monkeypatch.setitem(sys.modules, "pycocotools", stand_in)
    monkeypatch.setitem(sys.modules, "pycocotools.coco", stand_in.coco)


@pytest.mark.parametrize("target_keys", [None, ["image_id", "boxes", "labels", "bbox", "area", "iscrowd"]])
def test_coco_detection_dict_of_lists_as_torchvision(tmp_path, monkeypatch, target_keys):
    tv = tv_oracle.load()
    root, ann_file, _ = _coco_files(tmp_path)
    _stand_in_pycocotools(monkeypatch)
    a, _ = _wrapped(tv, ED.CocoDetection(root, ann_file), tv.datasets.CocoDetection(root, ann_file), target_keys)
    assert a[1][1] == {"image_id": 9}   # no annotations
    image, target = a[2]
    assert target["image_id"] == 42 and target["labels"].tolist() == [1, 2]
    assert target["boxes"].tolist() == [[0.5, 1.0, 2.5, 3.5], [1.0, 1.0, 2.0, 2.0]]
    assert tuple(target["boxes"].canvas_size) == (4, 5)
    ours_t, theirs_t = _flip_pipelines(tv)
    _wrapped(tv, ED.CocoDetection(root, ann_file, transforms=ours_t),
             tv.datasets.CocoDetection(root, ann_file, transforms=theirs_t), target_keys)
    _wrapped(tv, ED.CocoCaptions(root, ann_file), tv.datasets.CocoCaptions(root, ann_file))


@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")   # pycocotools' decode
def test_coco_detection_masks_as_torchvision_with_pycocotools(tmp_path):
    pytest.importorskip("pycocotools.coco")
    tv = tv_oracle.load()
    root, ann_file, _ = _coco_files(tmp_path)
    a, _ = _wrapped(tv, ED.CocoDetection(root, ann_file), tv.datasets.CocoDetection(root, ann_file), "all")
    assert type(a[2][1]["masks"]).__name__ == "Mask" and a[2][1]["masks"].shape == (2, 4, 5)


def test_caltech101_categories_pass_through_and_annotations_refused_as_torchvision(tmp_path):
    tv = tv_oracle.load()
    for category, n in {"BACKGROUND_Google": 1, "Faces": 2, "ant": 1}.items():
        for number in range(1, n + 1):
            _image(str(tmp_path / "caltech101" / "101_ObjectCategories" / category / f"image_{number:04d}.jpg"), number)
    _wrapped(tv, ED.Caltech101(str(tmp_path)), tv.datasets.Caltech101(str(tmp_path)))
    _same_error(tv, lambda D: D.Caltech101(str(tmp_path), target_type=["category", "annotation"]))
    _same_error(tv, lambda D: D.Caltech101(str(tmp_path)), target_keys=["category"])


def _ucf101_pair(tv, root, output_format):
    """UCF101 on empty .avi files with a given clip index, clips drawn by a stand-in decoder on each side."""
    paths = []
    for cls in ("Archery", "Biking"):
        for g in range(2):
            path = root / "videos" / cls / f"v_{cls}_g0{g}_c01.avi"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"")
            paths.append(str(path))
    (root / "notes").mkdir(exist_ok=True)
    (root / "notes" / "trainlist01.txt").write_text("Archery/v_Archery_g00_c01.avi 1\nBiking/v_Biking_g01_c01.avi 2\n")
    pair = []
    for lib, mod in ((ember, ED), (pytest.importorskip("torch"), tv.datasets)):
        metadata = {"video_paths": sorted(paths), "video_fps": [10.0] * 4, "video_pts": [lib.arange(6)] * 4}
        dataset = mod.UCF101(str(root / "videos"), str(root / "notes"), 4, 2, _precomputed_metadata=metadata,
                             output_format=output_format, **({"num_workers": 0} if mod is ED else {}))
        frames = numpy.random.default_rng(0).integers(0, 256, (4, 3, 5, 6), dtype=numpy.uint8)

        def get_clip(idx, lib=lib, dataset=dataset):
            video_idx, _ = dataset.video_clips.get_clip_location(idx)
            return lib.from_numpy(frames + idx), lib.zeros(1, 0), {"video_fps": 10.0}, video_idx
        dataset.video_clips.get_clip = get_clip
        pair.append(dataset)
    return pair


def test_video_clips_as_video_tv_tensors_as_torchvision(tmp_path):
    tv = tv_oracle.load()
    from torchvision.transforms import v2
    ours, theirs = _ucf101_pair(tv, tmp_path, "TCHW")
    ours.transform, theirs.transform = EV2.RandomHorizontalFlip(p=1), v2.RandomHorizontalFlip(p=1)
    a, _ = _wrapped(tv, ours, theirs)
    video, audio, label = a[1]
    assert type(video).__name__ == "Video" and video.shape == (4, 3, 5, 6) and audio.shape == (1, 0)
    _same_error(tv, lambda D: _ucf101_pair(tv, tmp_path, "THWC")[0 if D is ED else 1])


def test_classification_datasets_pass_through_and_refusals_as_torchvision(tmp_path):
    tv = tv_oracle.load()
    write_mnist(str(tmp_path / "MNIST" / "raw"))
    a, b = _wrapped(tv, ED.MNIST(str(tmp_path), transform=EV2.ToImage()),
                    tv.datasets.MNIST(str(tmp_path), transform=tv.transforms.v2.ToImage()))
    assert a.classes == b.classes and type(a[0][0]).__name__ == "Image" and a.transform is not None
    _wrapped(tv, ED.MNIST(str(tmp_path), train=False), tv.datasets.MNIST(str(tmp_path), train=False))
    _same_error(tv, lambda D: D.MNIST(str(tmp_path)), target_keys="all")
    _same_error(tv, lambda D: D.MNIST(str(tmp_path)), target_keys=[1])
    _same_error(tv, lambda D: D.FakeData(size=2))
    _same_error(tv, lambda D: type("MyData", (D.VisionDataset,), {})(str(tmp_path)))
    _same_error(tv, lambda D: [1, 2])


def test_wrapped_dataset_pickles_with_its_transforms(tmp_path):
    tv_oracle.load()
    write_mnist(str(tmp_path / "MNIST" / "raw"))
    dataset = ED.MNIST(str(tmp_path), transform=EV2.ToImage(), target_transform=str)
    wrapped = ED.wrap_dataset_for_transforms_v2(dataset)
    assert dataset.transform is None and dataset.transforms is None   # taken over by the wrapper
    copy = pickle.loads(pickle.dumps(wrapped))
    assert type(copy).__name__ == "WrappedMNIST" and copy._dataset.transform is None
    image, label = copy[3]
    assert type(image).__name__ == "Image" and label == str(wrapped[3][1]) and label == str(int(dataset[3][1]))
    numpy.testing.assert_array_equal(image.numpy(), wrapped[3][0].numpy())
