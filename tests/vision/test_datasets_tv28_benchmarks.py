"""torchvision 0.28's benchmark image datasets (Country211, FER2013, FGVCAircraft, Imagenette) on tiny files written
here in the real layouts, against torchvision's classes reading the same files."""
import csv
import io
import os
import tarfile
import urllib.request

import numpy
import pytest

import ember.vision.datasets as ED
from tests.vision import tv_oracle
from tests.vision.test_datasets import FakeURLs, md5, write

Image = pytest.importorskip("PIL.Image")


def _image(path, seed, size=(5, 4)):
    """An RGB image of random pixels at ``path``, saved losslessly whatever the extension."""
    pixels = numpy.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=numpy.uint8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(pixels).save(path, format="PNG")
    return pixels


def _same_samples(ours, theirs, expected=None):
    assert len(ours) == len(theirs) and repr(ours) == repr(theirs)
    for index in range(len(ours)):
        (a, x), (b, y) = ours[index], theirs[index]
        assert x == y and type(x) is type(y) and a.mode == b.mode and a.size == b.size
        numpy.testing.assert_array_equal(numpy.asarray(a), numpy.asarray(b))
        if expected is not None:
            numpy.testing.assert_array_equal(numpy.asarray(a), expected[index])


@pytest.mark.parametrize("split", ["train", "valid"])
def test_country211_as_torchvision(tmp_path, split):
    tv = tv_oracle.load()
    assert (ED.Country211._URL, ED.Country211._MD5) == (tv.datasets.Country211._URL, tv.datasets.Country211._MD5)
    pixels = {}
    for seed, name in enumerate(["train/FR/1.jpg", "train/AD/7.jpg", "train/AD/3.jpg", "valid/ZW/2.jpg"]):
        pixels[os.path.join(tmp_path, "country211", name)] = _image(str(tmp_path / "country211" / name), seed)
    ours, theirs = ED.Country211(str(tmp_path), split=split), tv.datasets.Country211(str(tmp_path), split=split)
    assert ours.samples == theirs.samples and ours.classes == theirs.classes and ours.root == str(tmp_path)
    _same_samples(ours, theirs, [pixels[path] for path, _ in ours.samples])
    with pytest.raises(ValueError, match="Unknown value 'val' for argument split"):
        ED.Country211(str(tmp_path), split="val")


def test_country211_download(tmp_path, monkeypatch):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        data = io.BytesIO()
        Image.fromarray(numpy.zeros((2, 2, 3), numpy.uint8)).save(data, format="PNG")
        info = tarfile.TarInfo("country211/test/JP/5.jpg")
        info.size = len(data.getvalue())
        tar.addfile(info, io.BytesIO(data.getvalue()))
    monkeypatch.setattr(ED.Country211, "_MD5", md5(buffer.getvalue()))
    fake = FakeURLs({ED.Country211._URL: buffer.getvalue()})
    monkeypatch.setattr(urllib.request, "urlopen", fake)
    ds = ED.Country211(str(tmp_path), split="test", download=True)
    assert fake.requested == ["https://openaipublic.azureedge.net/clip/data/country211.tgz"]
    assert ds.classes == ["JP"] and len(ds) == 1 and ds[0][1] == 0


# --- FER2013 ----------------------------------------------------------------------------------------------------------
def _fer_rows(n, seed):
    generator = numpy.random.default_rng(seed)
    faces = generator.integers(0, 256, (n, 48, 48), dtype=numpy.uint8)
    emotions = generator.integers(0, 7, n)
    return faces, emotions


def _csv_bytes(header, rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def _patch_fer(monkeypatch, tv, key, data):
    for cls in (ED.FER2013, tv.datasets.FER2013):
        name, _ = cls._RESOURCES[key]
        monkeypatch.setattr(cls, "_RESOURCES", {**cls._RESOURCES, key: (name, md5(data))})


@pytest.mark.parametrize("split", ["train", "test"])
def test_fer2013_split_files_as_torchvision(tmp_path, monkeypatch, split):
    tv = tv_oracle.load()
    assert ED.FER2013._RESOURCES == tv.datasets.FER2013._RESOURCES
    faces, emotions = _fer_rows(4, 0)
    pixel_strings = [" ".join(map(str, face.ravel())) for face in faces]
    if split == "train":
        data = _csv_bytes(["emotion", "pixels"], zip(emotions, pixel_strings))
    else:
        data = _csv_bytes(["pixels"], [[p] for p in pixel_strings])
    write(str(tmp_path / "fer2013" / f"{split}.csv"), data)
    _patch_fer(monkeypatch, tv, split, data)
    ours, theirs = ED.FER2013(str(tmp_path), split=split), tv.datasets.FER2013(str(tmp_path), split=split)
    _same_samples(ours, theirs, faces)
    assert [ours[i][1] for i in range(4)] == (emotions.tolist() if split == "train" else [None] * 4)


@pytest.mark.parametrize("key", ["fer", "icml"])
@pytest.mark.parametrize("split", ["train", "test"])
def test_fer2013_usage_filtered_files_as_torchvision(tmp_path, monkeypatch, key, split):
    tv = tv_oracle.load()
    faces, emotions = _fer_rows(6, 1)
    usages = ["Training", "PublicTest", "Training", "PrivateTest", "Other", "Training"]
    pixel_strings = [" ".join(map(str, face.ravel())) for face in faces]
    header = ["emotion", "pixels", "Usage"] if key == "fer" else ["emotion", " Usage", " pixels"]
    rows = ([[e, p, u] for e, p, u in zip(emotions, pixel_strings, usages)] if key == "fer"
            else [[e, u, p] for e, p, u in zip(emotions, pixel_strings, usages)])
    data = _csv_bytes(header, rows)
    name = ED.FER2013._RESOURCES[key][0]
    write(str(tmp_path / "fer2013" / name), data)
    _patch_fer(monkeypatch, tv, key, data)
    ours, theirs = ED.FER2013(str(tmp_path), split=split), tv.datasets.FER2013(str(tmp_path), split=split)
    kept = [0, 2, 5] if split == "train" else [1, 3]
    _same_samples(ours, theirs, faces[kept])
    assert [ours[i][1] for i in range(len(kept))] == emotions[kept].tolist()


def test_fer2013_missing_file_message(tmp_path):
    with pytest.raises(RuntimeError, match=r"^test.csv not found in .*fer2013 or corrupted. You can download it from "
                                           r"https://www.kaggle.com/"):
        ED.FER2013(str(tmp_path), split="test")


# --- FGVCAircraft -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("level", ["variant", "family", "manufacturer"])
def test_fgvc_aircraft_annotation_levels_as_torchvision(tmp_path, level):
    tv = tv_oracle.load()
    assert ED.FGVCAircraft._URL == tv.datasets.FGVCAircraft._URL
    data = tmp_path / "fgvc-aircraft-2013b" / "data"
    classes = {"variant": ["707-320", "A300B4", "DC-10"], "family": ["Boeing 707", "A300", "DC-10"],
               "manufacturer": ["Boeing", "Airbus", "McDonnell Douglas"]}
    labels = {"1025794": 0, "0056978": 2, "1340192": 1}
    for name, class_names in classes.items():
        file_name = {"variant": "variants.txt", "family": "families.txt", "manufacturer": "manufacturers.txt"}[name]
        write(str(data / file_name), ("\n".join(class_names) + "\n").encode())
        write(str(data / f"images_{name}_test.txt"),
              "".join(f"{image} {class_names[label]}\n" for image, label in labels.items()).encode())
    pixels = [_image(str(data / "images" / f"{image}.jpg"), seed) for seed, image in enumerate(labels)]
    ours = ED.FGVCAircraft(str(tmp_path), split="test", annotation_level=level)
    theirs = tv.datasets.FGVCAircraft(str(tmp_path), split="test", annotation_level=level)
    assert ours.classes == theirs.classes == classes[level] and ours._labels == theirs._labels == [0, 2, 1]
    _same_samples(ours, theirs, pixels)
    with pytest.raises(ValueError, match="Unknown value 'model' for argument annotation_level"):
        ED.FGVCAircraft(str(tmp_path), annotation_level="model")


# --- Imagenette -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("size,folder", [("full", "imagenette2"), ("160px", "imagenette2-160")])
def test_imagenette_as_torchvision(tmp_path, size, folder):
    tv = tv_oracle.load()
    assert ED.Imagenette._ARCHIVES == tv.datasets.Imagenette._ARCHIVES
    assert ED.Imagenette._WNID_TO_CLASS == tv.datasets.Imagenette._WNID_TO_CLASS
    names = ["n03888257/ILSVRC2012_val_00000001.JPEG", "n01440764/n01440764_10026.JPEG",
             "n01440764/n01440764_100.JPEG", "n01440764/notes.txt"]
    for seed, name in enumerate(names):
        _image(str(tmp_path / folder / "val" / name), seed)
    ours = ED.Imagenette(str(tmp_path), split="val", size=size)
    theirs = tv.datasets.Imagenette(str(tmp_path), split="val", size=size)
    assert ours.wnids == theirs.wnids == ["n01440764", "n03888257"] and ours.classes == theirs.classes
    assert ours.class_to_idx == theirs.class_to_idx and ours.class_to_idx["chute"] == 1
    assert ours._samples == theirs._samples and len(ours) == 3
    _same_samples(ours, theirs)
    with pytest.raises(RuntimeError, match="^Dataset not found. You can use download=True to download it.$"):
        ED.Imagenette(str(tmp_path), size="320px")
