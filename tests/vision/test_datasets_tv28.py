"""Datasets torchvision 0.28 has beyond the first ones (QMNIST, USPS, ...), on tiny files written here in the real
formats, against torchvision's classes reading the same files and against NumPy; downloads served by a fake urlopen."""
import bz2
import io
import json
import lzma
import os
import shutil
import sys
import tarfile
import types
import urllib.request
import zipfile

import numpy
import pytest

import ember
import ember.vision.datasets as ED
from tests.vision import tv_oracle
from tests.vision.test_datasets import FakeURLs, gz, idx_bytes, md5, write

Image = pytest.importorskip("PIL.Image")
rng = numpy.random.default_rng(0)


def _same_samples(ours, theirs, indices=None):
    assert len(ours) == len(theirs)
    for index in range(len(ours)) if indices is None else indices:
        (a, x), (b, y) = ours[index], theirs[index]
        if hasattr(y, "numpy"):
            numpy.testing.assert_array_equal(x.numpy(), y.numpy())
        else:
            assert x == y and type(x) is type(y)
        assert a.mode == b.mode and a.size == b.size
        numpy.testing.assert_array_equal(numpy.asarray(a), numpy.asarray(b))


# --- QMNIST -----------------------------------------------------------------------------------------------------------
def _qmnist_arrays(n):
    images = rng.integers(0, 256, (n, 28, 28), dtype=numpy.uint8)
    labels = rng.integers(-5, 70000, (n, 8)).astype(numpy.int32)
    labels[:, 0] = rng.integers(0, 10, n)
    return images, labels


def _write_qmnist(raw, name, n):
    images, labels = _qmnist_arrays(n)
    stem = {"train": "qmnist-train", "test": "qmnist-test", "nist": "xnist"}[name]
    write(os.path.join(raw, f"{stem}-images-idx3-ubyte"), idx_bytes(images))
    write(os.path.join(raw, f"{stem}-labels-idx2-int"), idx_bytes(labels))
    return images, labels


@pytest.mark.parametrize("what,compat", [("train", True), ("nist", False), (None, False)])
def test_qmnist_reads_the_idx_files_as_torchvision(tmp_path, what, compat):
    tv = tv_oracle.load()
    assert ED.QMNIST.resources == tv.datasets.QMNIST.resources and ED.QMNIST.classes == tv.datasets.QMNIST.classes
    raw = tmp_path / "QMNIST" / "raw"
    images, labels = _write_qmnist(raw, what or "test", 6)
    kwargs = {"what": what} if what else {"train": False}
    ours = ED.QMNIST(str(tmp_path), compat=compat, **kwargs)
    theirs = tv.datasets.QMNIST(str(tmp_path), compat=compat, **kwargs)
    assert ours.data.dtype == ember.uint8 and ours.targets.dtype == ember.int64 and tuple(ours.targets.shape) == (6, 8)
    numpy.testing.assert_array_equal(ours.data.numpy(), images)
    numpy.testing.assert_array_equal(ours.targets.numpy(), labels)
    _same_samples(ours, theirs)
    assert repr(ours) == repr(theirs) and ours.what == (what or "test")
    if not compat:
        assert isinstance(ours[0][1], ember.Tensor) and ours[0][1].tolist() == labels[0].tolist()


def test_qmnist_test10k_and_test50k_split_the_test_file(tmp_path):
    tv = tv_oracle.load()
    images, labels = _write_qmnist(tmp_path / "QMNIST" / "raw", "test", 10003)
    for what, rows in (("test10k", slice(0, 10000)), ("test50k", slice(10000, None))):
        ours, theirs = ED.QMNIST(str(tmp_path), what=what), tv.datasets.QMNIST(str(tmp_path), what=what)
        numpy.testing.assert_array_equal(ours.data.numpy(), images[rows])
        numpy.testing.assert_array_equal(ours.targets.numpy(), labels[rows])
        _same_samples(ours, theirs, indices=[0, len(theirs) - 1])


def test_qmnist_errors_and_download(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="Unknown value 'val' for argument what"):
        ED.QMNIST(str(tmp_path), what="val")
    with pytest.raises(RuntimeError, match="^Dataset not found. You can use download=True to download it$"):
        ED.QMNIST(str(tmp_path))
    raw = tmp_path / "QMNIST" / "raw"
    write(str(raw / "qmnist-train-images-idx3-ubyte"), idx_bytes(numpy.zeros((2, 28, 28), numpy.uint8)))
    write(str(raw / "qmnist-train-labels-idx2-int"), idx_bytes(numpy.zeros(2, numpy.int32)))
    with pytest.raises(ValueError, match="targets should have 2 dimensions instead of 1"):
        ED.QMNIST(str(tmp_path))
    images, labels = _qmnist_arrays(3)
    payloads = {"xnist-images-idx3-ubyte.xz": lzma.compress(idx_bytes(images)),
                "xnist-labels-idx2-int.xz": lzma.compress(idx_bytes(labels))}
    base = "https://raw.githubusercontent.com/facebookresearch/qmnist/master/"
    monkeypatch.setattr(ED.QMNIST, "resources", {**ED.QMNIST.resources,
                                                 "nist": [(base + k, md5(v)) for k, v in payloads.items()]})
    fake = FakeURLs({base + k: v for k, v in payloads.items()})
    monkeypatch.setattr(urllib.request, "urlopen", fake)
    ds = ED.QMNIST(str(tmp_path), what="nist", download=True, compat=False)
    assert fake.requested == [base + k for k in payloads]
    numpy.testing.assert_array_equal(ds.targets.numpy(), labels)
    fake.requested.clear()
    ED.QMNIST(str(tmp_path), what="nist", download=True)
    assert fake.requested == []


def test_qmnist_downloads_gzip_files(tmp_path, monkeypatch):
    images, labels = _qmnist_arrays(2)
    payloads = {"qmnist-train-images-idx3-ubyte.gz": gz(idx_bytes(images)),
                "qmnist-train-labels-idx2-int.gz": gz(idx_bytes(labels))}
    base = "https://raw.githubusercontent.com/facebookresearch/qmnist/master/"
    monkeypatch.setattr(ED.QMNIST, "resources", {**ED.QMNIST.resources,
                                                 "train": [(base + k, md5(v)) for k, v in payloads.items()]})
    monkeypatch.setattr(urllib.request, "urlopen", FakeURLs({base + k: v for k, v in payloads.items()}))
    ds = ED.QMNIST(str(tmp_path), download=True)
    numpy.testing.assert_array_equal(ds.data.numpy(), images)
    assert [ds[i][1] for i in range(2)] == labels[:, 0].tolist()


# --- USPS -------------------------------------------------------------------------------------------------------------
def _usps_bz2(n):
    values = rng.uniform(-1, 1, (n, 256)).round(6)
    values[0, :3] = (-1, 1, 0)
    labels = rng.integers(1, 11, n)
    lines = [f"{label} " + " ".join(f"{i + 1}:{v:.6f}" for i, v in enumerate(row))
             for label, row in zip(labels, values)]
    return bz2.compress(("\n".join(lines) + "\n").encode()), values, labels


@pytest.mark.parametrize("train", [True, False])
def test_usps_reads_the_libsvm_files_as_torchvision(tmp_path, train):
    tv = tv_oracle.load()
    assert ED.USPS.split_list == tv.datasets.USPS.split_list
    data, values, labels = _usps_bz2(5)
    write(str(tmp_path / ("usps.bz2" if train else "usps.t.bz2")), data)
    ours, theirs = ED.USPS(str(tmp_path), train=train), tv.datasets.USPS(str(tmp_path), train=train)
    expected = ((values.astype(numpy.float32) + 1) / 2 * 255).astype(numpy.uint8).reshape(-1, 16, 16)
    numpy.testing.assert_array_equal(ours.data, expected)
    assert ours.data[0, 0, :3].tolist() == [0, 255, 127] and ours.targets == (labels - 1).tolist()
    _same_samples(ours, theirs)
    assert repr(ours) == repr(theirs)


def test_usps_missing_file_and_download(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError):
        ED.USPS(str(tmp_path))
    data, _, labels = _usps_bz2(3)
    url = ED.USPS.split_list["test"][0]
    monkeypatch.setattr(ED.USPS, "split_list", {**ED.USPS.split_list, "test": [url, "usps.t.bz2", md5(data)]})
    fake = FakeURLs({url: data})
    monkeypatch.setattr(urllib.request, "urlopen", fake)
    ds = ED.USPS(str(tmp_path), train=False, download=True, target_transform=str)
    assert fake.requested == ["https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets/multiclass/usps.t.bz2"]
    assert [ds[i][1] for i in range(3)] == [str(v - 1) for v in labels]
    monkeypatch.setattr(ED.USPS, "split_list", {**ED.USPS.split_list, "train": [url, "usps.bz2", "0" * 32]})
    with pytest.raises(RuntimeError, match="File not found or corrupted"):
        ED.USPS(str(tmp_path), download=True)


# --- COCO -------------------------------------------------------------------------------------------------------------
def _png(path, size, seed):
    pixels = numpy.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=numpy.uint8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(pixels).save(path, format="PNG")  # lossless whatever the name says
    return pixels


def _coco_files(tmp_path):
    """Three images (ids out of order, one without annotations) and an instances+captions annotation file."""
    images = [{"id": 42, "file_name": "b.png", "width": 5, "height": 4},
              {"id": 7, "file_name": "sub/a.png", "width": 3, "height": 6},
              {"id": 9, "file_name": "c.png", "width": 2, "height": 2}]
    annotations = [
        {"id": 1, "image_id": 42, "category_id": 1, "bbox": [0.5, 1.0, 2.0, 2.5], "area": 5.0, "iscrowd": 0,
         "segmentation": [[0.5, 1.0, 2.5, 1.0, 2.5, 3.5]], "caption": "a red square"},
        {"id": 2, "image_id": 7, "category_id": 2, "bbox": [0, 0, 1, 1], "area": 1.0, "iscrowd": 0,
         "segmentation": [[0, 0, 1, 0, 1, 1]], "caption": "two birds"},
        {"id": 3, "image_id": 42, "category_id": 2, "bbox": [1, 1, 1, 1], "area": 1.0, "iscrowd": 0,
         "segmentation": [[1, 1, 2, 1, 2, 2]], "caption": "noise on a grid"},
    ]
    pixels = {image["id"]: _png(str(tmp_path / "images" / image["file_name"]), (image["width"], image["height"]),
                                image["id"]) for image in images}
    ann_file = tmp_path / "annotations.json"
    ann_file.write_text(json.dumps({"images": images, "annotations": annotations,
                                    "categories": [{"id": 1, "name": "square"}, {"id": 2, "name": "bird"}]}))
    return str(tmp_path / "images"), str(ann_file), pixels


def _coco_through(cls, root, ann_file, pixels, tv_cls):
    ours, theirs = cls(root, ann_file), tv_cls(root, ann_file)
    assert ours.ids == [7, 9, 42] == theirs.ids and len(ours) == 3
    for index, image_id in enumerate(ours.ids):
        (img, target), (tv_img, tv_target) = ours[index], theirs[index]
        assert img.mode == "RGB" and target == tv_target
        numpy.testing.assert_array_equal(numpy.asarray(img), pixels[image_id])
        numpy.testing.assert_array_equal(numpy.asarray(img), numpy.asarray(tv_img))
    with pytest.raises(ValueError, match="Index must be of type integer, got <class 'numpy.int64'> instead"):
        ours[numpy.int64(0)]
    return ours


def test_coco_detection_and_captions_as_torchvision_with_pycocotools(tmp_path):
    pytest.importorskip("pycocotools.coco")
    tv = tv_oracle.load()
    root, ann_file, pixels = _coco_files(tmp_path)
    detection = _coco_through(ED.CocoDetection, root, ann_file, pixels, tv.datasets.CocoDetection)
    assert [a["id"] for a in detection[2][1]] == [1, 3] and detection[1][1] == []
    captions = _coco_through(ED.CocoCaptions, root, ann_file, pixels, tv.datasets.CocoCaptions)
    assert captions[0][1] == ["two birds"] and captions[2][1] == ["a red square", "noise on a grid"]


class _StandInCOCO:
    """The part of pycocotools.coco.COCO the datasets use, for the run without pycocotools."""

    def __init__(self, ann_file):
        with open(ann_file) as f:
            dataset = json.load(f)
        self.imgs = {image["id"]: image for image in dataset["images"]}
        self.anns = {ann["id"]: ann for ann in dataset["annotations"]}

    def loadImgs(self, id):
        return [self.imgs[id]]

    def getAnnIds(self, id):
        return [ann_id for ann_id, ann in self.anns.items() if ann["image_id"] == id]

    def loadAnns(self, ids):
        return [self.anns[i] for i in ids]


def test_coco_through_the_coco_api_and_without_pycocotools(tmp_path, monkeypatch):
    tv = tv_oracle.load()
    root, ann_file, pixels = _coco_files(tmp_path)
    monkeypatch.setitem(sys.modules, "pycocotools", None)
    monkeypatch.setitem(sys.modules, "pycocotools.coco", None)
    with pytest.raises(ImportError, match="pycocotools"):
        ED.CocoDetection(root, ann_file)
    stand_in = types.ModuleType("pycocotools")
    stand_in.coco = types.SimpleNamespace(COCO=_StandInCOCO)
    monkeypatch.setitem(sys.modules, "pycocotools", stand_in)
    monkeypatch.setitem(sys.modules, "pycocotools.coco", stand_in.coco)
    _coco_through(ED.CocoDetection, root, ann_file, pixels, tv.datasets.CocoDetection)
    captions = _coco_through(ED.CocoCaptions, root, ann_file, pixels, tv.datasets.CocoCaptions)
    flip = tv.transforms.functional.hflip
    transformed = ED.CocoCaptions(root, ann_file, transform=flip, target_transform=len)
    img, target = transformed[2]
    assert target == 2
    numpy.testing.assert_array_equal(numpy.asarray(img), pixels[42][:, ::-1])
    assert repr(captions) == repr(tv.datasets.CocoCaptions(root, ann_file))


# --- Flickr -----------------------------------------------------------------------------------------------------------
_FLICKR8K_PAGE = """<html><body><h1>Flickr 8k</h1><p>not in the table</p>
<table>
<tr><td><a href="http://www.flickr.com/photos/u/1001/">http://www.flickr.com/photos/u/1001/</a></td></tr>
<tr><td><ul><li>A dog runs .</li><li> Two dogs play in the snow . </li></ul></td></tr>
<tr><td>Image Not Found</td></tr>
<tr><td><ul><li>dropped: its image was not found</li></ul></td></tr>
<tr><td><a href="http://www.flickr.com/photos/v/0999/">http://www.flickr.com/photos/v/0999/</a></td></tr>
<tr><td><ul><li>A child on a swing .</li></ul></td></tr>
</table></body></html>
"""


def test_flickr8k_parses_the_caption_page_as_torchvision(tmp_path):
    tv = tv_oracle.load()
    pixels = {name: _png(str(tmp_path / "img" / name), (4, 3), seed)
              for seed, name in enumerate(["1001_abc.jpg", "0999_x.jpg"])}
    (tmp_path / "captions.html").write_text(_FLICKR8K_PAGE)
    root, ann = str(tmp_path / "img"), str(tmp_path / "captions.html")
    ours, theirs = ED.Flickr8k(root, ann), tv.datasets.Flickr8k(root, ann)
    assert ours.annotations == theirs.annotations == {
        os.path.join(root, "1001_abc.jpg"): ["A dog runs .", "Two dogs play in the snow ."],
        os.path.join(root, "0999_x.jpg"): ["A child on a swing ."]}
    assert ours.ids == theirs.ids == sorted(ours.annotations)
    for index in range(2):
        (img, target), (tv_img, tv_target) = ours[index], theirs[index]
        assert target == tv_target and img.mode == "RGB"
        numpy.testing.assert_array_equal(numpy.asarray(img), pixels[os.path.basename(ours.ids[index])])
        numpy.testing.assert_array_equal(numpy.asarray(img), numpy.asarray(tv_img))
    assert repr(ours) == repr(theirs)


def test_flickr30k_reads_the_token_file_as_torchvision(tmp_path):
    tv = tv_oracle.load()
    pixels = {name: _png(str(tmp_path / name), (3, 2), seed) for seed, name in enumerate(["20.jpg", "10.jpg"])}
    (tmp_path / "results.token").write_text(
        "20.jpg#0\tA man .\n20.jpg#1\tA man with a hat .\n10.jpg#0\tSnow on a roof .\n")
    root, ann = str(tmp_path), str(tmp_path / "results.token")
    loader = lambda path: numpy.asarray(Image.open(path))  # noqa: E731
    ours = ED.Flickr30k(root, ann, loader=loader, target_transform=tuple)
    theirs = tv.datasets.Flickr30k(root, ann, loader=loader, target_transform=tuple)
    assert ours.ids == theirs.ids == ["10.jpg", "20.jpg"] and dict(ours.annotations) == dict(theirs.annotations)
    for index in range(2):
        assert ours[index][1] == theirs[index][1]
        numpy.testing.assert_array_equal(ours[index][0], pixels[ours.ids[index]])
    assert ours[1][1] == ("A man .", "A man with a hat .") and len(ours) == 2


# --- SBU --------------------------------------------------------------------------------------------------------------
_SBU_URLS = ["http://static.flickr.com/1/111_a.jpg", "http://static.flickr.com/2/222_b.jpg",
             "http://static.flickr.com/3/333_c.jpg"]
_SBU_CAPTIONS = ["a boat on the lake ", "gone from flickr", "the old bridge at night"]


def _sbu_tarball():
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, lines in (("urls", _SBU_URLS), ("captions", _SBU_CAPTIONS)):
            data = ("\n".join(lines) + "\n").encode()
            info = tarfile.TarInfo(f"dataset/SBU_captioned_photo_dataset_{name}.txt")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _png_bytes(seed):
    buffer = io.BytesIO()
    pixels = numpy.random.default_rng(seed).integers(0, 256, (3, 4, 3), dtype=numpy.uint8)
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue(), pixels


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")   # torchvision leaves the lists open
def test_sbu_lists_the_present_photos_as_torchvision(tmp_path, monkeypatch):
    tv = tv_oracle.load()
    assert (ED.SBU.url, ED.SBU.filename, ED.SBU.md5_checksum) == (tv.datasets.SBU.url, tv.datasets.SBU.filename,
                                                                  tv.datasets.SBU.md5_checksum)
    tarball = _sbu_tarball()
    write(str(tmp_path / ED.SBU.filename), tarball)
    with tarfile.open(tmp_path / ED.SBU.filename) as tar:
        tar.extractall(tmp_path, filter="data")
    pixels = {}
    for seed, url in ((0, _SBU_URLS[0]), (2, _SBU_URLS[2])):
        data, pixels[os.path.basename(url)] = _png_bytes(seed)
        write(str(tmp_path / "dataset" / os.path.basename(url)), data)
    for cls in (ED.SBU, tv.datasets.SBU):
        monkeypatch.setattr(cls, "md5_checksum", md5(tarball))
    ours, theirs = ED.SBU(str(tmp_path), download=False), tv.datasets.SBU(str(tmp_path), download=False)
    assert ours.photos == theirs.photos == ["111_a.jpg", "333_c.jpg"]
    assert ours.captions == theirs.captions == ["a boat on the lake", "the old bridge at night"]
    _same_samples(ours, theirs)
    numpy.testing.assert_array_equal(numpy.asarray(ours[1][0]), pixels["333_c.jpg"])
    monkeypatch.setattr(ED.SBU, "md5_checksum", "0" * 32)
    with pytest.raises(RuntimeError, match="Dataset not found or corrupted"):
        ED.SBU(str(tmp_path), download=False)


def test_sbu_download_fetches_the_tarball_then_each_photo(tmp_path, monkeypatch):
    tarball = _sbu_tarball()
    monkeypatch.setattr(ED.SBU, "md5_checksum", md5(tarball))
    photo, pixels = _png_bytes(5)
    fake = FakeURLs({ED.SBU.url: tarball, _SBU_URLS[1]: photo})
    monkeypatch.setattr(urllib.request, "urlopen", fake)
    ds = ED.SBU(str(tmp_path))
    assert fake.requested == [ED.SBU.url] + _SBU_URLS
    assert len(ds) == 1 and ds[0][1] == "gone from flickr"
    numpy.testing.assert_array_equal(numpy.asarray(ds[0][0]), pixels)
    fake.requested.clear()
    ED.SBU(str(tmp_path))
    assert fake.requested == []


# --- PhotoTour --------------------------------------------------------------------------------------------------------
def _phototour_folder(folder):
    """Two grayscale BMP sheets (4 and 2 patches), the point ids of 6 patches and a matches file."""
    sheets = {"patches0001.bmp": (128, 128), "patches0000.bmp": (128, 64)}
    patches = {}
    for seed, (name, (width, height)) in enumerate(sheets.items()):
        pixels = numpy.random.default_rng(seed).integers(0, 256, (height, width), dtype=numpy.uint8)
        os.makedirs(folder, exist_ok=True)
        Image.fromarray(pixels).save(os.path.join(folder, name))
        patches[name] = [pixels[y:y + 64, x:x + 64] for y in range(0, height, 64) for x in range(0, width, 64)]
    ids = [10, 10, 11, 12, 12, 13]
    with open(os.path.join(folder, "info.txt"), "w") as f:
        f.writelines(f"{i} 0\n" for i in ids)
    pairs = [(0, 1), (2, 3), (3, 4), (4, 0)]
    with open(os.path.join(folder, "m50_100000_100000_0.txt"), "w") as f:
        f.writelines(f"{a} {ids[a]} 0 {b} {ids[b]} 0 0\n" for a, b in pairs)
    expected = numpy.stack(patches["patches0000.bmp"] + patches["patches0001.bmp"])
    return expected, numpy.array(ids), numpy.array([[a, b, int(ids[a] == ids[b])] for a, b in pairs])


@pytest.mark.filterwarnings("ignore:Image.Image.getdata is deprecated:DeprecationWarning")   # torchvision's reader
def test_phototour_patches_and_cache_as_torchvision(tmp_path, monkeypatch):
    tv = tv_oracle.load()
    for key in ("urls", "means", "stds", "lens", "image_ext", "info_file", "matches_files"):
        assert getattr(ED.PhotoTour, key) == getattr(tv.datasets.PhotoTour, key)
    expected, ids, matches = _phototour_folder(str(tmp_path / "a" / "yosemite"))
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    for cls in (ED.PhotoTour, tv.datasets.PhotoTour):
        monkeypatch.setattr(cls, "lens", {**cls.lens, "yosemite": 5})   # the first five patches of six
    ours = ED.PhotoTour(str(tmp_path / "a"), "yosemite")
    theirs = tv.datasets.PhotoTour(str(tmp_path / "b"), "yosemite")
    assert ours.data.dtype == ember.uint8 and ours.labels.dtype == ember.int64 and ours.matches.dtype == ember.int64
    numpy.testing.assert_array_equal(ours.data.numpy(), expected[:5])
    numpy.testing.assert_array_equal(ours.labels.numpy(), ids)
    numpy.testing.assert_array_equal(ours.matches.numpy(), matches)
    assert (ours.mean, ours.std) == (0.4844, 0.1818) and repr(ours).replace("/a", "/b") == repr(theirs)
    for index in range(5):
        numpy.testing.assert_array_equal(ours[index].numpy(), theirs[index].numpy())
    # each reads the other's cache file
    across = [(ED.PhotoTour(str(tmp_path / "b"), "yosemite", train=False, transform=lambda x: x.sum()),
               tv.datasets.PhotoTour(str(tmp_path / "a"), "yosemite", train=False, transform=lambda x: x.sum()))]
    for ours_test, theirs_test in across:
        assert len(ours_test) == len(theirs_test) == 4
        for index in range(4):
            assert [int(v) for v in ours_test[index]] == [int(v) for v in theirs_test[index]]
        assert int(ours_test[2][2]) == 1 and int(ours_test[1][0]) == int(expected[2].sum())


def test_phototour_download_unzips_into_the_name_folder(tmp_path, monkeypatch):
    expected, _, matches = _phototour_folder(str(tmp_path / "src"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in os.listdir(tmp_path / "src"):
            archive.write(tmp_path / "src" / name, name)
    url, filename, _ = ED.PhotoTour.urls["liberty"]
    monkeypatch.setattr(ED.PhotoTour, "urls", {**ED.PhotoTour.urls, "liberty": [url, filename, md5(buffer.getvalue())]})
    fake = FakeURLs({url: buffer.getvalue()})
    monkeypatch.setattr(urllib.request, "urlopen", fake)
    root = tmp_path / "root"
    ds = ED.PhotoTour(str(root), "liberty", download=True)
    assert fake.requested == ["http://icvl.ee.ic.ac.uk/vbalnt/liberty.zip"]
    assert not (root / "liberty.zip").exists() and (root / "liberty.pt").is_file()
    numpy.testing.assert_array_equal(ds.data.numpy(), expected)
    fake.requested.clear()
    ED.PhotoTour(str(root), "liberty", download=True, train=False)
    assert fake.requested == []


# --- SBDataset --------------------------------------------------------------------------------------------------------
def _sbd_mat(path, height, width, seed):
    """A ``cls/*.mat`` file as SBD stores it: struct GTcls with a uint8 Segmentation and 20 sparse Boundaries."""
    scipy_io, scipy_sparse = pytest.importorskip("scipy.io"), pytest.importorskip("scipy.sparse")
    generator = numpy.random.default_rng(seed)
    segmentation = generator.integers(0, 21, (height, width), dtype=numpy.uint8)
    boundaries = (generator.random((20, height, width)) < 0.2).astype(numpy.uint8)
    cells = numpy.empty((20, 1), dtype=object)
    for i in range(20):
        cells[i, 0] = scipy_sparse.csc_matrix(boundaries[i])
    os.makedirs(os.path.dirname(path), exist_ok=True)
    scipy_io.savemat(path, {"GTcls": {"Segmentation": segmentation, "Boundaries": cells,
                                      "CategoriesPresent": numpy.unique(segmentation)}})
    return segmentation, boundaries


def _sbd_root(root):
    expected = {}
    for seed, name in enumerate(["2008_000002", "2008_000003", "2009_000001"]):
        _png(os.path.join(root, "img", name + ".jpg"), (5, 4), seed)
        expected[name] = _sbd_mat(os.path.join(root, "cls", name + ".mat"), 4, 5, seed)
    for split, names in (("train", ["2008_000003", "2008_000002"]), ("val", ["2009_000001"]),
                         ("train_noval", ["2008_000002"])):
        write(os.path.join(root, split + ".txt"), ("\n".join(names) + "\n").encode())
    return expected


@pytest.mark.parametrize("image_set", ["train", "val"])
@pytest.mark.parametrize("mode", ["segmentation", "boundaries"])
def test_sbdataset_reads_the_mat_files_as_torchvision(tmp_path, image_set, mode):
    tv = tv_oracle.load()
    for key in ("url", "md5", "filename", "voc_train_url", "voc_split_filename", "voc_split_md5"):
        assert getattr(ED.SBDataset, key) == getattr(tv.datasets.SBDataset, key)
    expected = _sbd_root(str(tmp_path))
    ours = ED.SBDataset(str(tmp_path), image_set=image_set, mode=mode)
    theirs = tv.datasets.SBDataset(str(tmp_path), image_set=image_set, mode=mode)
    assert len(ours) == len(theirs) and ours.images == theirs.images and repr(ours) == repr(theirs)
    for index, path in enumerate(ours.images):
        (img, target), (tv_img, tv_target) = ours[index], theirs[index]
        numpy.testing.assert_array_equal(numpy.asarray(img), numpy.asarray(tv_img))
        segmentation, boundaries = expected[os.path.basename(path)[:-4]]
        if mode == "segmentation":
            assert target.mode == tv_target.mode == "L"
            numpy.testing.assert_array_equal(numpy.asarray(target), segmentation)
        else:
            assert target.shape == (20, 4, 5) and target.dtype == tv_target.dtype
            numpy.testing.assert_array_equal(target, boundaries)
        numpy.testing.assert_array_equal(numpy.asarray(target), numpy.asarray(tv_target))


def test_sbdataset_arguments_and_download(tmp_path, monkeypatch):
    pytest.importorskip("scipy.io")
    with pytest.raises(ValueError, match="Unknown value 'test' for argument image_set"):
        ED.SBDataset(str(tmp_path), image_set="test")
    with pytest.raises(ValueError, match="Unknown value 'edges' for argument mode"):
        ED.SBDataset(str(tmp_path), mode="edges")
    _sbd_root(str(tmp_path / "src" / "benchmark_RELEASE" / "dataset"))
    os.makedirs(tmp_path / "src" / "benchmark_RELEASE" / "dataset" / "inst")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(tmp_path / "src" / "benchmark_RELEASE", "benchmark_RELEASE")
    split = b"2008_000003\n"
    monkeypatch.setattr(ED.SBDataset, "md5", md5(buffer.getvalue()))
    monkeypatch.setattr(ED.SBDataset, "voc_split_md5", md5(split))
    fake = FakeURLs({ED.SBDataset.url: buffer.getvalue(), ED.SBDataset.voc_train_url: split})
    monkeypatch.setattr(urllib.request, "urlopen", fake)
    ds = ED.SBDataset(str(tmp_path / "sbd"), image_set="train_noval", mode="segmentation", download=True)
    assert fake.requested == [ED.SBDataset.url, "https://www.cs.cornell.edu/~bharathh/train_noval.txt"]
    assert [os.path.basename(p) for p in ds.images] == ["2008_000003.jpg"] and ds[0][1].size == (5, 4)
    monkeypatch.setitem(sys.modules, "scipy.io", None)
    with pytest.raises(RuntimeError, match="Scipy is not found"):
        ED.SBDataset(str(tmp_path / "sbd"))


# --- Cityscapes -------------------------------------------------------------------------------------------------------
def _cityscapes_tree(root, mode="gtFine", split="val"):
    """Two cities, three images, each with instance, semantic, color and polygon targets."""
    for seed, (city, stem) in enumerate([("aachen", "aachen_000000_000019"), ("bochum", "bochum_000000_000313"),
                                         ("bochum", "bochum_000000_001097")]):
        _png(os.path.join(root, "leftImg8bit", split, city, f"{stem}_leftImg8bit.png"), (6, 4), seed)
        target_dir = os.path.join(root, mode, split, city)
        os.makedirs(target_dir, exist_ok=True)
        ids = numpy.random.default_rng(seed).integers(0, 34, (4, 6), dtype=numpy.uint8)
        Image.fromarray(ids).save(os.path.join(target_dir, f"{stem}_{mode}_labelIds.png"))
        instances = ids.astype(numpy.uint16) * 1000 + 7   # 16-bit, as Cityscapes stores them
        Image.fromarray(instances).save(os.path.join(target_dir, f"{stem}_{mode}_instanceIds.png"))
        _png(os.path.join(target_dir, f"{stem}_{mode}_color.png"), (6, 4), seed + 10)
        polygons = {"imgHeight": 4, "imgWidth": 6, "objects": [{"label": "car", "polygon": [[0, 0], [5, 0], [5, 3]]}]}
        with open(os.path.join(target_dir, f"{stem}_{mode}_polygons.json"), "w") as f:
            json.dump(polygons, f)


def _same_targets(a, b):
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b)
        for x, y in zip(a, b):
            _same_targets(x, y)
    elif isinstance(a, dict):
        assert a == b
    else:
        assert a.mode == b.mode and a.size == b.size
        numpy.testing.assert_array_equal(numpy.asarray(a), numpy.asarray(b))


@pytest.mark.parametrize("target_type", ["instance", "semantic", "color", "polygon", ["semantic", "polygon", "color"]])
def test_cityscapes_fine_as_torchvision(tmp_path, target_type):
    tv = tv_oracle.load()
    assert ED.Cityscapes.classes == tv.datasets.Cityscapes.classes
    _cityscapes_tree(str(tmp_path))
    ours = ED.Cityscapes(str(tmp_path), split="val", target_type=target_type)
    theirs = tv.datasets.Cityscapes(str(tmp_path), split="val", target_type=target_type)
    assert ours.images == theirs.images and ours.targets == theirs.targets and len(ours) == 3
    assert repr(ours) == repr(theirs)
    for index in range(3):
        (img, target), (tv_img, tv_target) = ours[index], theirs[index]
        numpy.testing.assert_array_equal(numpy.asarray(img), numpy.asarray(tv_img))
        _same_targets(target, tv_target)


def test_cityscapes_coarse_from_the_zips_and_argument_errors(tmp_path):
    tv = tv_oracle.load()
    _cityscapes_tree(str(tmp_path / "src"), mode="gtCoarse", split="train_extra")
    for zip_name, folder in (("leftImg8bit_trainextra.zip", "leftImg8bit"), ("gtCoarse.zip", "gtCoarse")):
        with zipfile.ZipFile(tmp_path / zip_name, "w") as archive:
            for directory, _, files in os.walk(tmp_path / "src" / folder):
                for name in files:
                    path = os.path.join(directory, name)
                    archive.write(path, os.path.relpath(path, tmp_path / "src"))
    ours = ED.Cityscapes(str(tmp_path), split="train_extra", mode="coarse", target_type=["instance", "color"])
    theirs = tv.datasets.Cityscapes(str(tmp_path), split="train_extra", mode="coarse",
                                    target_type=["instance", "color"])
    assert (tmp_path / "gtCoarse" / "train_extra" / "aachen").is_dir() and ours.mode == "gtCoarse"
    assert ours.images == theirs.images and len(ours) == 3
    for index in range(3):
        _same_targets(ours[index], theirs[index])
    with pytest.raises(ValueError, match=r"^Unknown value 'test' for argument split if mode is 'coarse'. "
                                         r"Valid values are \{'train', 'train_extra', 'val'\}.$"):
        ED.Cityscapes(str(tmp_path), split="test", mode="coarse")
    with pytest.raises(ValueError, match="Unknown value 'medium' for argument mode"):
        ED.Cityscapes(str(tmp_path), mode="medium")
    with pytest.raises(ValueError, match="Unknown value 'depth' for argument target_type"):
        ED.Cityscapes(str(tmp_path), split="train_extra", mode="coarse", target_type=["color", "depth"])
    with pytest.raises(RuntimeError, match="^Dataset not found or incomplete. Please make sure all required folders"):
        ED.Cityscapes(str(tmp_path), split="val")
