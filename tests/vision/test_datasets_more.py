"""SVHN, STL10 (and the datasets after them) on tiny files written here in the real formats, against torchvision's
classes reading the same files (their checksums patched to the files' MD5s on both sides) and against NumPy."""
import io
import os
import shutil
import sys
import tarfile
import types
import urllib.request
import zipfile

import numpy
import pytest

import ember.vision.datasets as ED
from tests.vision import tv_oracle
from tests.vision.test_datasets import FakeURLs, md5, write

Image = pytest.importorskip("PIL.Image")
rng = numpy.random.default_rng(0)


def _same_samples(ours, theirs):
    assert len(ours) == len(theirs) and repr(ours) == repr(theirs)
    for index in range(len(ours)):
        (a, x), (b, y) = ours[index], theirs[index]
        assert x == y and a.mode == b.mode and a.size == b.size
        numpy.testing.assert_array_equal(numpy.asarray(a), numpy.asarray(b))


# --- SVHN -------------------------------------------------------------------------------------------------------------
def _svhn_mat(n):
    scipy_io = pytest.importorskip("scipy.io")
    images = rng.integers(0, 256, (32, 32, 3, n), dtype=numpy.uint8)
    labels = rng.integers(1, 11, (n, 1)).astype(numpy.uint8)
    buffer = io.BytesIO()
    scipy_io.savemat(buffer, {"X": images, "y": labels})
    return buffer.getvalue(), images, labels


def _patch_svhn(monkeypatch, cls, split, data):
    url, name, _ = cls.split_list[split]
    monkeypatch.setattr(cls, "split_list", {**cls.split_list, split: [url, name, md5(data)]})


@pytest.mark.parametrize("split", ["train", "test", "extra"])
def test_svhn_reads_the_mat_files_as_torchvision(tmp_path, monkeypatch, split):
    tv = tv_oracle.load()
    assert ED.SVHN.split_list == tv.datasets.SVHN.split_list
    data, images, labels = _svhn_mat(5)
    write(str(tmp_path / ED.SVHN.split_list[split][1]), data)
    _patch_svhn(monkeypatch, ED.SVHN, split, data)
    _patch_svhn(monkeypatch, tv.datasets.SVHN, split, data)
    ours, theirs = ED.SVHN(str(tmp_path), split=split), tv.datasets.SVHN(str(tmp_path), split=split)
    numpy.testing.assert_array_equal(ours.data, images.transpose(3, 2, 0, 1))
    numpy.testing.assert_array_equal(ours.labels, labels[:, 0] % 10)
    assert ours.labels.dtype == numpy.int64
    _same_samples(ours, theirs)


def test_svhn_split_checks_and_download(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="Unknown value 'valid' for argument split"):
        ED.SVHN(str(tmp_path), split="valid")
    with pytest.raises(RuntimeError, match="Dataset not found or corrupted"):
        ED.SVHN(str(tmp_path))
    data, _, labels = _svhn_mat(3)
    _patch_svhn(monkeypatch, ED.SVHN, "test", data)
    fake = FakeURLs({ED.SVHN.split_list["test"][0]: data})
    monkeypatch.setattr(urllib.request, "urlopen", fake)
    ds = ED.SVHN(str(tmp_path), split="test", download=True)
    assert fake.requested == ["http://ufldl.stanford.edu/housenumbers/test_32x32.mat"]
    assert [ds[i][1] for i in range(3)] == (labels[:, 0] % 10).tolist()


# --- STL10 ------------------------------------------------------------------------------------------------------------
def _stl10_files():
    counts = {"train_X.bin": 4, "unlabeled_X.bin": 2, "test_X.bin": 3}
    files = {name: rng.integers(0, 256, n * 3 * 96 * 96, dtype=numpy.uint8).tobytes() for name, n in counts.items()}
    files["train_y.bin"] = rng.integers(1, 11, 4, dtype=numpy.uint8).tobytes()
    files["test_y.bin"] = rng.integers(1, 11, 3, dtype=numpy.uint8).tobytes()
    files["fold_indices.txt"] = "".join(f"{i % 4} {(i + 1) % 4}\n" for i in range(10)).encode()
    files["class_names.txt"] = "".join(f"class{i}\n" for i in range(10)).encode()
    return files


def _patch_stl10(monkeypatch, cls, files):
    monkeypatch.setattr(cls, "train_list", [[name, md5(files[name])] for name, _ in cls.train_list])
    monkeypatch.setattr(cls, "test_list", [[name, md5(files[name])] for name, _ in cls.test_list])


@pytest.mark.parametrize("split,folds", [("train", None), ("train", 3), ("train+unlabeled", 1), ("unlabeled", None),
                                         ("test", None)])
def test_stl10_splits_and_folds_as_torchvision(tmp_path, monkeypatch, split, folds):
    tv = tv_oracle.load()
    for attribute in ("url", "filename", "tgz_md5", "train_list", "test_list", "base_folder", "splits"):
        assert getattr(ED.STL10, attribute) == getattr(tv.datasets.STL10, attribute)
    files = _stl10_files()
    for name, data in files.items():
        write(str(tmp_path / ED.STL10.base_folder / name), data)
    _patch_stl10(monkeypatch, ED.STL10, files)
    _patch_stl10(monkeypatch, tv.datasets.STL10, files)
    ours = ED.STL10(str(tmp_path), split=split, folds=folds)
    theirs = tv.datasets.STL10(str(tmp_path), split=split, folds=folds)
    numpy.testing.assert_array_equal(ours.data, theirs.data)
    numpy.testing.assert_array_equal(ours.labels, theirs.labels)
    assert ours.classes == theirs.classes == [f"class{i}" for i in range(10)]
    _same_samples(ours, theirs)
    if split == "test":   # column-major rows: pixel (row 0, column 1) of channel 0 is the 97th byte
        assert ours.data[0, 0, 0, 1] == files["test_X.bin"][96]


def test_stl10_fold_errors_and_download(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match=r"should be in the range \[0, 10\), but got 10"):
        ED.STL10(str(tmp_path), folds=10)
    with pytest.raises(ValueError, match="Expected type None or int"):
        ED.STL10(str(tmp_path), folds="1")
    files = _stl10_files()
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"{ED.STL10.base_folder}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    _patch_stl10(monkeypatch, ED.STL10, files)
    monkeypatch.setattr(ED.STL10, "tgz_md5", md5(archive.getvalue()))
    fake = FakeURLs({ED.STL10.url: archive.getvalue()})
    monkeypatch.setattr(urllib.request, "urlopen", fake)
    assert len(ED.STL10(str(tmp_path), split="test", download=True)) == 3
    assert len(ED.STL10(str(tmp_path), split="unlabeled", download=True)) == 2
    assert fake.requested == ["http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz"]


# --- CelebA -----------------------------------------------------------------------------------------------------------
ATTRIBUTES = [f"Attr_{i}" for i in range(40)]


def _celeba_files(n=6):
    names = [f"{i + 1:06d}.jpg" for i in range(n)]
    images = {}
    for name in names:
        buffer = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, (9, 7, 3), dtype=numpy.uint8)).save(buffer, "JPEG")
        images[name] = buffer.getvalue()
    attr = rng.choice([-1, 1], (n, 40))
    text = {
        "list_eval_partition.txt": "".join(f"{name} {i % 3}\n" for i, name in enumerate(names)),
        "identity_CelebA.txt": "".join(f"{name} {100 + i}\n" for i, name in enumerate(names)),
        "list_bbox_celeba.txt": f"{n}\nimage_id x_1 y_1 width height\n" + "".join(
            f"{name}    {i}  {2 * i} {30 + i} {40 + i}\n" for i, name in enumerate(names)),
        "list_landmarks_align_celeba.txt": f"{n}\n" + " ".join(f"p{k}" for k in range(10)) + "\n" + "".join(
            name + "".join(f" {v:4d}" for v in rng.integers(0, 99, 10)) + "\n" for name in names),
        "list_attr_celeba.txt": f"{n}\n" + " ".join(ATTRIBUTES) + " \n" + "".join(
            name + "".join(f" {v:2d}" for v in row) + "\n" for name, row in zip(names, attr)),
    }
    return {k: v.encode() for k, v in text.items()}, images, attr


def _patch_celeba(monkeypatch, cls, files):
    monkeypatch.setattr(cls, "file_list", [(i, md5(files[name]) if name in files else m, name)
                                           for i, m, name in cls.file_list])


def _write_celeba(root, files, images):
    for name, data in files.items():
        write(str(root / "celeba" / name), data)
    for name, data in images.items():
        write(str(root / "celeba" / "img_align_celeba" / name), data)


@pytest.mark.parametrize("split", ["train", "valid", "test", "all", "ALL"])
def test_celeba_reads_annotations_as_torchvision(tmp_path, monkeypatch, split):
    tv = tv_oracle.load()
    assert ED.CelebA.file_list == tv.datasets.CelebA.file_list
    files, images, attr = _celeba_files()
    _write_celeba(tmp_path, files, images)
    _patch_celeba(monkeypatch, ED.CelebA, files)
    _patch_celeba(monkeypatch, tv.datasets.CelebA, files)
    kinds = ["attr", "identity", "bbox", "landmarks"]
    ours = ED.CelebA(str(tmp_path), split=split, target_type=kinds)
    theirs = tv.datasets.CelebA(str(tmp_path), split=split, target_type=kinds)
    assert ours.filename == theirs.filename and ours.attr_names == theirs.attr_names == ATTRIBUTES + [""]
    for name in ("attr", "identity", "bbox", "landmarks_align"):
        numpy.testing.assert_array_equal(getattr(ours, name).numpy(), getattr(theirs, name).numpy())
    selected = [i for i in range(6) if split.lower() == "all" or i % 3 == ["train", "valid", "test"].index(split)]
    numpy.testing.assert_array_equal(ours.attr.numpy(), (attr[selected] + 1) // 2)
    assert len(ours) == len(theirs) == len(selected) and repr(ours) == repr(theirs)
    for index in range(len(ours)):
        (a, x), (b, y) = ours[index], theirs[index]
        numpy.testing.assert_array_equal(numpy.asarray(a), numpy.asarray(b))
        assert [t.numpy().tolist() for t in x] == [t.numpy().tolist() for t in y]


def test_celeba_targets_errors_and_download_through_gdown(tmp_path, monkeypatch):
    files, images, _ = _celeba_files()
    _patch_celeba(monkeypatch, ED.CelebA, files)
    with pytest.raises(RuntimeError, match="Dataset not found or corrupted"):
        ED.CelebA(str(tmp_path))
    with pytest.raises(RuntimeError, match="target_transform is specified but target_type is empty"):
        ED.CelebA(str(tmp_path), target_type=[], target_transform=int)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        for name, data in images.items():
            z.writestr(f"img_align_celeba/{name}", data)
    by_id = {i: files.get(name, archive.getvalue()) for i, _, name in ED.CelebA.file_list}
    requested = []

    def download(id, output, quiet, user_agent):
        requested.append(id)
        write(output, by_id[id])
    monkeypatch.setitem(sys.modules, "gdown", types.SimpleNamespace(download=download))
    monkeypatch.setattr(ED.CelebA, "file_list", [(i, md5(by_id[i]), name) for i, _, name in ED.CelebA.file_list])
    ds = ED.CelebA(str(tmp_path), split="all", target_type="identity", download=True)
    assert requested == [i for i, _, _ in ED.CelebA.file_list]
    assert ds[4][1].item() == 104 and ds[4][0].size == (7, 9)
    assert ED.CelebA(str(tmp_path), target_type=[])[0][1] is None
    with pytest.raises(ValueError, match='Target type "eyes" is not recognized.'):
        ED.CelebA(str(tmp_path), target_type="eyes")[0]
    monkeypatch.setitem(sys.modules, "gdown", None)
    with pytest.raises(RuntimeError, match="'gdown' is required"):
        ED.CelebA(str(tmp_path / "elsewhere"), download=True)


# --- PASCAL VOC -------------------------------------------------------------------------------------------------------
VOC_XML = """<annotation>
  <folder>VOC2012</folder><filename>{name}.jpg</filename>
  <size><width>7</width><height>5</height><depth>3</depth></size>
  <object><name>dog</name><difficult>0</difficult>
    <bndbox><xmin>1</xmin><ymin>2</ymin><xmax>5</xmax><ymax>4</ymax></bndbox></object>
  {extra}
</annotation>"""


def _voc_tree(root, base_dir, names, image_set):
    voc = root / base_dir
    for split_dir in ("Segmentation", "Main"):
        write(str(voc / "ImageSets" / split_dir / f"{image_set}.txt"), "".join(f"{n}\n" for n in names).encode())
    for i, name in enumerate(names):
        buffer = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, (5, 7, 3), dtype=numpy.uint8)).save(buffer, "JPEG")
        write(str(voc / "JPEGImages" / f"{name}.jpg"), buffer.getvalue())
        mask = Image.fromarray(rng.choice(numpy.array([0, 1, 15, 255], dtype=numpy.uint8), (5, 7)))
        mask = mask.convert("P")
        buffer = io.BytesIO()
        mask.save(buffer, "PNG")
        write(str(voc / "SegmentationClass" / f"{name}.png"), buffer.getvalue())
        extra = "<object><name>cat</name><part><name>head</name></part></object>" if i else ""
        write(str(voc / "Annotations" / f"{name}.xml"), VOC_XML.format(name=name, extra=extra).encode())


@pytest.mark.parametrize("year,image_set", [("2012", "train"), ("2011", "val"), ("2007", "test")])
def test_voc_segmentation_and_detection_as_torchvision(tmp_path, year, image_set):
    tv = tv_oracle.load()
    from torchvision.datasets import voc as tv_voc
    from ember.vision.datasets import voc as ours_voc
    assert ours_voc.DATASET_YEAR_DICT == tv_voc.DATASET_YEAR_DICT
    key = "2007-test" if image_set == "test" else year
    _voc_tree(tmp_path, ours_voc.DATASET_YEAR_DICT[key]["base_dir"], ["2008_000001", "2008_000002"], image_set)
    for name in ("VOCSegmentation", "VOCDetection"):
        ours = getattr(ED, name)(str(tmp_path), year=year, image_set=image_set)
        theirs = getattr(tv.datasets, name)(str(tmp_path), year=year, image_set=image_set)
        assert len(ours) == len(theirs) == 2 and repr(ours) == repr(theirs) and ours.targets == theirs.targets
        for index in range(2):
            (a, x), (b, y) = ours[index], theirs[index]
            numpy.testing.assert_array_equal(numpy.asarray(a), numpy.asarray(b))
            if name == "VOCSegmentation":
                assert x.mode == y.mode == "P"
                numpy.testing.assert_array_equal(numpy.asarray(x), numpy.asarray(y))
                b.close()
                y.close()
            else:
                assert x == y
    objects = ED.VOCDetection(str(tmp_path), year=year, image_set=image_set)[1][1]["annotation"]["object"]
    assert [o["name"] for o in objects] == ["dog", "cat"] and objects[0]["bndbox"]["xmax"] == "5"


def test_voc_arguments_and_download(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="Unknown value 'test' for argument image_set"):
        ED.VOCSegmentation(str(tmp_path), year="2012", image_set="test")
    with pytest.raises(ValueError, match="Unknown value '2013' for argument year"):
        ED.VOCDetection(str(tmp_path), year="2013")
    with pytest.raises(RuntimeError, match="Dataset not found or corrupted"):
        ED.VOCDetection(str(tmp_path))
    source = tmp_path / "source"
    _voc_tree(source, "VOCdevkit/VOC2012", ["a", "b", "c"], "trainval")
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        tar.add(str(source / "VOCdevkit"), arcname="VOCdevkit")
    from ember.vision.datasets import voc as ours_voc
    monkeypatch.setitem(ours_voc.DATASET_YEAR_DICT, "2012", {**ours_voc.DATASET_YEAR_DICT["2012"],
                                                             "md5": md5(archive.getvalue())})
    fake = FakeURLs({ours_voc.DATASET_YEAR_DICT["2012"]["url"]: archive.getvalue()})
    monkeypatch.setattr(urllib.request, "urlopen", fake)
    ds = ED.VOCSegmentation(str(tmp_path / "root"), image_set="trainval", download=True)
    assert len(ds) == 3 and ds[2][1].size == (7, 5)
    assert fake.requested == ["https://thor.robots.ox.ac.uk/pascal/VOC/voc2012/VOCtrainval_11-May-2012.tar"]


# --- ImageNet ---------------------------------------------------------------------------------------------------------
WNIDS = ["n01440764", "n01443537", "n01484850"]


def _tar(members, compression=""):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=f"w:{compression}") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _jpeg():
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (6, 5, 3), dtype=numpy.uint8)).save(buffer, "JPEG")
    return buffer.getvalue()


def _imagenet_archives():
    """The devkit (meta.mat with three leaf synsets and one parent, validation ground truth), the training tar of
    per-class tars and the flat validation tar, as ILSVRC2012 ships them."""
    scipy_io = pytest.importorskip("scipy.io")
    fields = ["ILSVRC2012_ID", "WNID", "words", "gloss", "num_children", "children", "wordnet_height",
              "num_train_images"]
    synsets = numpy.zeros((4, 1), dtype=[(f, object) for f in fields])
    rows = [(1, WNIDS[0], "tench, Tinca tinca", "a fish", 0), (2, WNIDS[1], "goldfish, Carassius auratus", "fish", 0),
            (3, "n09999999", "fish", "parent", 2), (4, WNIDS[2], "great white shark", "shark", 0)]
    for i, (idx, wnid, words, gloss, children) in enumerate(rows):
        synsets[i, 0] = (idx, wnid, words, gloss, children, numpy.zeros((1, 0)), 0, 10)
    meta = io.BytesIO()
    scipy_io.savemat(meta, {"synsets": synsets})
    truth = [4, 1, 2, 4, 1]
    devkit = _tar({"ILSVRC2012_devkit_t12/data/meta.mat": meta.getvalue(),
                   "ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_ground_truth.txt":
                       "".join(f"{t}\n" for t in truth).encode()}, "gz")
    train = _tar({f"{wnid}.tar": _tar({f"{wnid}_{k}.JPEG": _jpeg() for k in range(2)}) for wnid in WNIDS})
    val = _tar({f"ILSVRC2012_val_{k + 1:08d}.JPEG": _jpeg() for k in range(len(truth))})
    return {"devkit": devkit, "train": train, "val": val}, truth


def _place_imagenet(root, archives, modules, monkeypatch):
    for key, data in archives.items():
        write(str(root / modules[0].ARCHIVE_META[key][0]), data)
    for module in modules:
        monkeypatch.setattr(module, "ARCHIVE_META", {key: (name, md5(archives[key]))
                                                     for key, (name, _) in module.ARCHIVE_META.items()})


def test_imagenet_parses_the_archives_as_torchvision(tmp_path, monkeypatch):
    tv = tv_oracle.load()
    from torchvision.datasets import imagenet as tv_imagenet

    from ember.vision.datasets import imagenet as ours_imagenet
    assert ours_imagenet.ARCHIVE_META == tv_imagenet.ARCHIVE_META
    archives, truth = _imagenet_archives()
    mine, theirs = tmp_path / "mine", tmp_path / "theirs"
    _place_imagenet(mine, archives, [ours_imagenet, tv_imagenet], monkeypatch)
    _place_imagenet(theirs, archives, [ours_imagenet, tv_imagenet], monkeypatch)
    for split in ("val", "train"):
        ours = ED.ImageNet(str(mine), split=split)
        reference = tv.datasets.ImageNet(str(theirs), split=split)
        assert (ours.wnids, ours.classes, ours.class_to_idx) == (reference.wnids, reference.classes,
                                                                 reference.class_to_idx)
        assert [os.path.relpath(p, mine) for p, _ in ours.samples] == [os.path.relpath(p, theirs)
                                                                       for p, _ in reference.samples]
        assert ours.targets == reference.targets and repr(ours).replace(str(mine), "") == repr(reference).replace(
            str(theirs), "")
        numpy.testing.assert_array_equal(numpy.asarray(ours[0][0]), numpy.asarray(reference[0][0]))
    assert ours.classes[0] == ("tench", "Tinca tinca") and ours.class_to_idx["goldfish"] == 1
    val = ED.ImageNet(str(mine), split="val")
    assert [WNIDS.index(p.split(os.sep)[-2]) for p, _ in val.samples] == sorted(
        WNIDS.index({1: WNIDS[0], 2: WNIDS[1], 4: WNIDS[2]}[t]) for t in truth)
    # each reads the other's meta.bin (both are PyTorch's zip format)
    assert ours_imagenet.load_meta_file(str(theirs)) == tv_imagenet.load_meta_file(str(mine))


def test_imagenet_missing_archives_and_split(tmp_path):
    with pytest.raises(ValueError, match="Unknown value 'test' for argument split"):
        ED.ImageNet(str(tmp_path), split="test")
    with pytest.raises(RuntimeError, match="The archive ILSVRC2012_devkit_t12.tar.gz is not present in the root"):
        ED.ImageNet(str(tmp_path))


# --- Omniglot ---------------------------------------------------------------------------------------------------------
def _omniglot_zip(name):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        for alphabet in ("Greek", "Latin"):
            for character in ("character01", "character02"):
                for k in range(2):
                    buffer = io.BytesIO()
                    Image.fromarray(rng.integers(0, 2, (6, 6), dtype=bool)).save(buffer, "PNG")
                    z.writestr(f"{name}/{alphabet}/{character}/{alphabet}_{character}_{k}.png", buffer.getvalue())
    return archive.getvalue()


@pytest.mark.parametrize("background", [True, False])
def test_omniglot_as_torchvision_and_download(tmp_path, monkeypatch, background):
    tv = tv_oracle.load()
    for attribute in ("folder", "download_url_prefix", "zips_md5"):
        assert getattr(ED.Omniglot, attribute) == getattr(tv.datasets.Omniglot, attribute)
    name = "images_background" if background else "images_evaluation"
    data = _omniglot_zip(name)
    for cls in (ED.Omniglot, tv.datasets.Omniglot):
        monkeypatch.setattr(cls, "zips_md5", {**cls.zips_md5, name: md5(data)})
    fake = FakeURLs({f"https://raw.githubusercontent.com/brendenlake/omniglot/master/python/{name}.zip": data})
    monkeypatch.setattr(urllib.request, "urlopen", fake)
    ours = ED.Omniglot(str(tmp_path), background=background, download=True)
    assert len(fake.requested) == 1
    theirs = tv.datasets.Omniglot(str(tmp_path), background=background)
    assert ours._flat_character_images == theirs._flat_character_images and len(ours) == 8
    assert sorted({target for _, target in ours._flat_character_images}) == [0, 1, 2, 3]
    for index in range(len(ours)):
        (a, x), (b, y) = ours[index], theirs[index]
        assert x == y and a.mode == b.mode == "L"
        numpy.testing.assert_array_equal(numpy.asarray(a), numpy.asarray(b))
    assert ED.Omniglot(str(tmp_path), background=background, loader=lambda path: path)[0][0].endswith(".png")
    with pytest.raises(RuntimeError, match="Dataset not found or corrupted"):
        ED.Omniglot(str(tmp_path), background=not background)


# --- LSUN -------------------------------------------------------------------------------------------------------------
def _lsun_db(path, count):
    lmdb = pytest.importorskip("lmdb")
    path.parent.mkdir(parents=True, exist_ok=True)
    env = lmdb.open(str(path), map_size=1 << 22)
    with env.begin(write=True) as txn:
        for k in range(count):
            buffer = io.BytesIO()
            Image.fromarray(rng.integers(0, 256, (4, 6, 3), dtype=numpy.uint8)).save(buffer, "WEBP", lossless=True)
            txn.put(f"{k:040x}".encode(), buffer.getvalue())
    env.close()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")   # torchvision leaves its cache open
def test_lsun_reads_lmdb_databases_as_torchvision(tmp_path, monkeypatch):
    tv = tv_oracle.load()
    classes = ["bedroom_train", "tower_train"]
    for name, count in zip(classes, (3, 2)):
        _lsun_db(tmp_path / "mine" / f"{name}_lmdb", count)
    shutil.copytree(tmp_path / "mine", tmp_path / "theirs")   # lmdb opens one environment once per process
    monkeypatch.chdir(tmp_path)   # torchvision writes a key cache into the working directory
    ours = ED.LSUN(str(tmp_path / "mine"), classes=classes)
    theirs = tv.datasets.LSUN(str(tmp_path / "theirs"), classes=classes)
    assert len(ours) == len(theirs) == 5 and ours.indices == theirs.indices == [3, 5]
    assert repr(ours).replace("mine", "theirs") == repr(theirs)
    for index in range(5):
        (a, x), (b, y) = ours[index], theirs[index]
        assert x == y == (0 if index < 3 else 1) and a.mode == "RGB"
        numpy.testing.assert_array_equal(numpy.asarray(a), numpy.asarray(b))
    with pytest.raises(IndexError):
        ours[5]
    assert ED.LSUN._verify_classes("val")[0] == "bedroom_val" and ED.LSUN._verify_classes("test") == ["test"]
    with pytest.raises(ValueError, match="Unknown value 'kitchenette' for LSUN class"):
        ED.LSUN(str(tmp_path), classes=["kitchenette_train"])
    with pytest.raises(ValueError, match="Unknown value 'holdout' for postfix"):
        ED.LSUN(str(tmp_path), classes=["kitchen_holdout"])
    with pytest.raises(ValueError, match="Expected type str or Iterable"):
        ED.LSUN(str(tmp_path), classes=3)
