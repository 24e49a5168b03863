"""torchvision 0.28's detection datasets (Kitti, WIDERFace) on tiny trees written here in the real layouts, against
torchvision's classes reading the same files; downloads served by a fake urlopen."""
import io
import os
import urllib.request
import zipfile

import numpy
import pytest

import ember
import ember.vision.datasets as ED
from tests.vision import tv_oracle
from tests.vision.test_datasets import FakeURLs, write

Image = pytest.importorskip("PIL.Image")


def _image(path, seed, size=(6, 4)):
    pixels = numpy.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=numpy.uint8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(pixels).save(path, format="PNG")
    return pixels


def _same_image(a, b, pixels=None):
    assert a.mode == b.mode and a.size == b.size
    numpy.testing.assert_array_equal(numpy.asarray(a), numpy.asarray(b))
    if pixels is not None:
        numpy.testing.assert_array_equal(numpy.asarray(a), pixels)


# --- Kitti ------------------------------------------------------------------------------------------------------------
_KITTI_LABELS = {
    "000000": "Pedestrian 0.00 0 -0.20 712.40 143.00 810.73 307.92 1.89 0.48 1.20 1.84 1.47 8.41 0.01\n",
    "000007": ("Car 0.00 0 -1.56 564.62 174.59 616.43 224.74 1.61 1.66 3.20 -0.69 1.69 25.01 -1.59\n"
               "DontCare -1 -1 -10 800.38 163.67 825.45 184.07 -1 -1 -1 -1000 -1000 -1000 -10\n"),
}


@pytest.mark.parametrize("train", [True, False])
def test_kitti_images_and_labels_as_torchvision(tmp_path, train):
    tv = tv_oracle.load()
    assert (ED.Kitti.data_url, ED.Kitti.resources) == (tv.datasets.Kitti.data_url, tv.datasets.Kitti.resources)
    location = tmp_path / "Kitti" / "raw" / ("training" if train else "testing")
    pixels = {f"{stem}.png": _image(str(location / "image_2" / f"{stem}.png"), seed)
              for seed, stem in enumerate(_KITTI_LABELS)}
    if train:
        for stem, text in _KITTI_LABELS.items():
            write(str(location / "label_2" / f"{stem}.txt"), text.encode())
    ours, theirs = ED.Kitti(str(tmp_path), train=train), tv.datasets.Kitti(str(tmp_path), train=train)
    assert ours.images == theirs.images and ours.targets == theirs.targets and len(ours) == 2
    for index in range(2):
        (img, target), (tv_img, tv_target) = ours[index], theirs[index]
        _same_image(img, tv_img, pixels[os.path.basename(ours.images[index])])
        assert target == tv_target
    if train:
        img, car = ours[ours.images.index(str(location / "image_2" / "000007.png"))]
        img.close()   # opened lazily, as torchvision's
        assert car[0]["bbox"] == [564.62, 174.59, 616.43, 224.74] and car[1]["occluded"] == -1 and len(car) == 2


def test_kitti_download(tmp_path, monkeypatch):
    payloads = {}
    for name, member, data in (("data_object_image_2.zip", "training/image_2/000000.png", None),
                               ("data_object_label_2.zip", "training/label_2/000000.txt",
                                _KITTI_LABELS["000000"].encode())):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            if data is None:
                png = io.BytesIO()
                Image.fromarray(numpy.zeros((2, 3, 3), numpy.uint8)).save(png, format="PNG")
                data = png.getvalue()
            archive.writestr(member, data)
        payloads[ED.Kitti.data_url + name] = buffer.getvalue()
    fake = FakeURLs(payloads)
    monkeypatch.setattr(urllib.request, "urlopen", fake)
    with pytest.raises(RuntimeError, match="^Dataset not found. You may use download=True to download it.$"):
        ED.Kitti(str(tmp_path))
    ds = ED.Kitti(str(tmp_path), download=True)
    img, target = ds[0]
    img.close()
    assert fake.requested == list(payloads) and len(ds) == 1 and target[0]["type"] == "Pedestrian"


# --- WIDERFace --------------------------------------------------------------------------------------------------------
def _wider_root(root):
    base = os.path.join(root, "widerface")
    for folder in ("WIDER_train", "WIDER_val", "WIDER_test", "wider_face_split"):
        os.makedirs(os.path.join(base, folder), exist_ok=True)
    names = ["0--Parade/0_Parade_marchingband_1_849.jpg", "1--Handshaking/1_Handshaking_1_35.jpg",
             "2--Demonstration/2_Demonstration_3.jpg"]
    pixels = {}
    for split in ("train", "val", "test"):
        for seed, name in enumerate(names):
            pixels[split, name] = _image(os.path.join(base, f"WIDER_{split}", "images", name), seed)
    gt = (f"{names[0]}\n1\n449 330 122 149 0 0 0 0 0 0 \n"
          f"{names[1]}\n0\n0 0 0 0 0 0 0 0 0 0 \n"
          f"{names[2]}\n2\n78 221 7 8 2 0 0 0 0 0 \n78 238 14 17 2 1 1 2 0 1 \n")
    write(os.path.join(base, "wider_face_split", "wider_face_train_bbx_gt.txt"), gt.encode())
    write(os.path.join(base, "wider_face_split", "wider_face_val_bbx_gt.txt"), (gt + f"{names[0]}\n3\n").encode())
    write(os.path.join(base, "wider_face_split", "wider_face_test_filelist.txt"), ("\n".join(names) + "\n").encode())
    return pixels


@pytest.mark.parametrize("split", ["train", "val", "test"])
def test_widerface_annotations_as_torchvision(tmp_path, split):
    tv = tv_oracle.load()
    assert ED.WIDERFace.FILE_LIST == tv.datasets.WIDERFace.FILE_LIST
    assert ED.WIDERFace.ANNOTATIONS_FILE == tv.datasets.WIDERFace.ANNOTATIONS_FILE
    pixels = _wider_root(str(tmp_path))
    ours, theirs = ED.WIDERFace(str(tmp_path), split=split), tv.datasets.WIDERFace(str(tmp_path), split=split)
    assert len(ours) == len(theirs) == 3 and repr(ours) == repr(theirs)   # val's unfinished last block is dropped
    for index in range(3):
        assert ours.img_info[index]["img_path"] == theirs.img_info[index]["img_path"]
        (img, target), (tv_img, tv_target) = ours[index], theirs[index]
        name = os.path.relpath(ours.img_info[index]["img_path"], tmp_path / "widerface" / f"WIDER_{split}" / "images")
        _same_image(img, tv_img, pixels[split, name])
        if split == "test":
            assert target is None and tv_target is None
            continue
        assert sorted(target) == sorted(tv_target)
        for key, value in target.items():
            assert value.dtype == ember.int64
            numpy.testing.assert_array_equal(value.numpy(), tv_target[key].numpy())
    if split == "train":
        targets = [info["annotations"] for info in ours.img_info]
        numpy.testing.assert_array_equal(targets[2]["bbox"].numpy(), [[78, 221, 7, 8], [78, 238, 14, 17]])
        assert targets[2]["invalid"].tolist() == [0, 1] and targets[1]["bbox"].tolist() == [[0, 0, 0, 0]]


def test_widerface_missing_folders_and_split(tmp_path):
    with pytest.raises(ValueError, match="Unknown value 'valid' for argument split"):
        ED.WIDERFace(str(tmp_path), split="valid")
    with pytest.raises(RuntimeError, match="Dataset not found or corrupted. You can use download=True to download and "
                                           "prepare it"):
        ED.WIDERFace(str(tmp_path))
