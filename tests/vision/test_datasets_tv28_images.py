"""More of torchvision 0.28's image datasets (Moving MNIST, SEMEION, ...) on tiny files written here in the real
formats, against torchvision's classes reading the same files; downloads served by a fake urlopen."""
import io
import json
import os
import urllib.request
import zipfile

import numpy
import pytest

import ember
import ember.vision.datasets as ED
from tests.vision import tv_oracle
from tests.vision.test_datasets import FakeURLs, md5, write

Image = pytest.importorskip("PIL.Image")
rng = numpy.random.default_rng(1)


def _same_samples(ours, theirs):
    assert len(ours) == len(theirs) and repr(ours) == repr(theirs)
    for index in range(len(ours)):
        (a, x), (b, y) = ours[index], theirs[index]
        assert x == y and type(x) is type(y) and a.mode == b.mode and a.size == b.size
        numpy.testing.assert_array_equal(numpy.asarray(a), numpy.asarray(b))


# --- MovingMNIST ------------------------------------------------------------------------------------------------------
def _npy(array):
    buffer = io.BytesIO()
    numpy.save(buffer, array)
    return buffer.getvalue()


@pytest.mark.parametrize("split,ratio", [(None, 10), ("train", 3), ("test", 19)])
def test_moving_mnist_splits_frames_as_torchvision(tmp_path, split, ratio):
    tv = tv_oracle.load()
    assert ED.MovingMNIST._URL == tv.datasets.MovingMNIST._URL
    frames = rng.integers(0, 256, (20, 4, 64, 64), dtype=numpy.uint8)
    write(str(tmp_path / "MovingMNIST" / "mnist_test_seq.npy"), _npy(frames))
    def drop_first(video):
        return video[1:]
    ours = ED.MovingMNIST(str(tmp_path), split=split, split_ratio=ratio, transform=drop_first)
    theirs = tv.datasets.MovingMNIST(str(tmp_path), split=split, split_ratio=ratio, transform=drop_first)
    kept = {None: frames, "train": frames[:ratio], "test": frames[ratio:]}[split]
    assert ours.data.dtype == ember.uint8 and tuple(ours.data.shape) == (4, len(kept), 1, 64, 64)
    numpy.testing.assert_array_equal(ours.data.numpy(), kept.swapaxes(0, 1)[:, :, None])
    numpy.testing.assert_array_equal(ours.data.numpy(), theirs.data.numpy())
    assert len(ours) == len(theirs) == 4 and repr(ours) == repr(theirs)
    numpy.testing.assert_array_equal(ours[2].numpy(), theirs[2].numpy())


def test_moving_mnist_arguments_and_download(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="Unknown value 'val' for argument split"):
        ED.MovingMNIST(str(tmp_path), split="val")
    with pytest.raises(TypeError, match="`split_ratio` should be an integer, but got <class 'float'>"):
        ED.MovingMNIST(str(tmp_path), split_ratio=2.0)
    with pytest.raises(ValueError, match=r"`split_ratio` should be `1 <= split_ratio <= 19`, but got 20 instead."):
        ED.MovingMNIST(str(tmp_path), split_ratio=20)
    with pytest.raises(RuntimeError, match="^Dataset not found. You can use download=True to download it.$"):
        ED.MovingMNIST(str(tmp_path))
    data = _npy(rng.integers(0, 256, (20, 2, 64, 64), dtype=numpy.uint8))
    fake = FakeURLs({ED.MovingMNIST._URL: data})
    monkeypatch.setattr(urllib.request, "urlopen", fake)
    with pytest.raises(RuntimeError, match="File not found or corrupted"):   # torchvision's MD5, not this file's
        ED.MovingMNIST(str(tmp_path), download=True)
    assert fake.requested == ["http://www.cs.toronto.edu/~nitish/unsupervised_video/mnist_test_seq.npy"]


# --- SEMEION ----------------------------------------------------------------------------------------------------------
def _semeion_text(n):
    pixels = rng.integers(0, 2, (n, 256)).astype(float)
    labels = rng.integers(0, 10, n)
    onehot = numpy.eye(10)[labels]
    lines = [" ".join(f"{v:.4f}" for v in row) + " " for row in numpy.concatenate([pixels, onehot], axis=1)]
    return ("\n".join(lines) + "\n").encode(), pixels, labels


def test_semeion_as_torchvision_and_download(tmp_path, monkeypatch):
    tv = tv_oracle.load()
    assert (ED.SEMEION.url, ED.SEMEION.md5_checksum) == (tv.datasets.SEMEION.url, tv.datasets.SEMEION.md5_checksum)
    data, pixels, labels = _semeion_text(6)
    for cls in (ED.SEMEION, tv.datasets.SEMEION):
        monkeypatch.setattr(cls, "md5_checksum", md5(data))
    fake = FakeURLs({ED.SEMEION.url: data})
    monkeypatch.setattr(urllib.request, "urlopen", fake)
    ours = ED.SEMEION(str(tmp_path))
    assert fake.requested == [ED.SEMEION.url]
    theirs = tv.datasets.SEMEION(str(tmp_path), download=False)
    numpy.testing.assert_array_equal(ours.data, (pixels * 255).astype(numpy.uint8).reshape(-1, 16, 16))
    numpy.testing.assert_array_equal(ours.labels, labels)
    _same_samples(ours, theirs)
    write(str(tmp_path / "semeion.data"), data + b"\n0 1\n")
    with pytest.raises(RuntimeError, match="Dataset not found or corrupted"):
        ED.SEMEION(str(tmp_path), download=False)


# --- image-folder style datasets: Food101, DTD, GTSRB, EuroSAT --------------------------------------------------------
def _image(path, seed, size=(5, 4), format="PNG"):
    """An RGB image of random pixels at ``path``, saved losslessly whatever the extension."""
    pixels = numpy.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=numpy.uint8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(pixels).save(path, format=format)
    return pixels


def _check_against(ours, theirs, expected_files):
    """Same samples as torchvision; each image is the file the test wrote for it."""
    _same_samples(ours, theirs)
    for index, pixels in enumerate(expected_files):
        numpy.testing.assert_array_equal(numpy.asarray(ours[index][0]), pixels)


@pytest.mark.parametrize("split", ["train", "test"])
def test_food101_reads_the_meta_json_as_torchvision(tmp_path, split):
    tv = tv_oracle.load()
    assert (ED.Food101._URL, ED.Food101._MD5) == (tv.datasets.Food101._URL, tv.datasets.Food101._MD5)
    base = tmp_path / "food-101"
    meta = {"train": {"waffles": ["waffles/11", "waffles/3"], "apple_pie": ["apple_pie/7"]},
            "test": {"sushi": ["sushi/1"], "apple_pie": ["apple_pie/2", "apple_pie/9"]}}
    pixels = {}
    for split_name, classes in meta.items():
        write(str(base / "meta" / f"{split_name}.json"), json.dumps(classes).encode())
        for paths in classes.values():
            for path in paths:
                pixels[path] = _image(str(base / "images" / f"{path}.jpg"), len(pixels))
    ours, theirs = ED.Food101(str(tmp_path), split=split), tv.datasets.Food101(str(tmp_path), split=split)
    assert ours.classes == theirs.classes == sorted(meta[split]) and ours.class_to_idx == theirs.class_to_idx
    assert ours._labels == theirs._labels and ours._image_files == theirs._image_files
    _check_against(ours, theirs, [pixels[p] for paths in meta[split].values() for p in paths])
    with pytest.raises(ValueError, match="Unknown value 'val' for argument split"):
        ED.Food101(str(tmp_path), split="val")


@pytest.mark.parametrize("split,partition", [("train", 1), ("test", 10)])
def test_dtd_reads_the_partition_lists_as_torchvision(tmp_path, split, partition):
    tv = tv_oracle.load()
    assert (ED.DTD._URL, ED.DTD._MD5) == (tv.datasets.DTD._URL, tv.datasets.DTD._MD5)
    data = tmp_path / "dtd" / "dtd"
    lists = {("train", 1): ["striped/striped_0001.jpg", "banded/banded_0004.jpg", "striped/striped_0002.jpg"],
             ("test", 10): ["zigzagged/zigzagged_0101.jpg"]}
    pixels = {}
    for (split_name, number), names in lists.items():
        write(str(data / "labels" / f"{split_name}{number}.txt"), ("\n".join(names) + "\n").encode())
        for seed, name in enumerate(names):
            pixels[name] = _image(str(data / "images" / name), seed + number)
    ours = ED.DTD(str(tmp_path), split=split, partition=partition)
    theirs = tv.datasets.DTD(str(tmp_path), split=split, partition=partition)
    assert ours.classes == theirs.classes and ours._labels == theirs._labels
    _check_against(ours, theirs, [pixels[name] for name in lists[split, partition]])
    with pytest.raises(ValueError, match="Parameter 'partition' should be an integer with `1 <= partition <= 10`"):
        ED.DTD(str(tmp_path), partition=12.5)


def test_gtsrb_train_folders_and_test_csv_as_torchvision(tmp_path):
    tv = tv_oracle.load()
    base = tmp_path / "gtsrb" / "GTSRB"
    train = {"00000/00000_00000.ppm": 0, "00000/00000_00001.ppm": 0, "00002/00001_00000.ppm": 1}
    train_pixels = [_image(str(base / "Training" / name), seed, format="PPM") for seed, name in enumerate(train)]
    _image(str(base / "Training" / "00000" / "GT-00000.csv.png"), 9)   # not a .ppm: left out
    test_pixels = [_image(str(base / "Final_Test" / "Images" / f"0000{i}.ppm"), 20 + i, format="PPM")
                   for i in range(3)]
    write(str(tmp_path / "gtsrb" / "GT-final_test.csv"),
          b"Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId\n"
          b"00002.ppm;5;4;0;0;4;3;16\n00000.ppm;5;4;0;0;4;3; 1\n00001.ppm;5;4;0;0;4;3;42\n")
    ours, theirs = ED.GTSRB(str(tmp_path)), tv.datasets.GTSRB(str(tmp_path))
    assert ours._samples == theirs._samples and [t for _, t in ours._samples] == [0, 0, 1]
    _check_against(ours, theirs, train_pixels)
    ours, theirs = ED.GTSRB(str(tmp_path), split="test"), tv.datasets.GTSRB(str(tmp_path), split="test")
    assert [t for _, t in ours._samples] == [16, 1, 42]
    _check_against(ours, theirs, [test_pixels[2], test_pixels[0], test_pixels[1]])


def test_gtsrb_download_fetches_the_test_images_and_labels(tmp_path, monkeypatch):
    images, labels = io.BytesIO(), io.BytesIO()
    with zipfile.ZipFile(images, "w") as archive:
        buffer = io.BytesIO()
        Image.fromarray(numpy.full((4, 5, 3), 7, numpy.uint8)).save(buffer, format="PPM")
        archive.writestr("GTSRB/Final_Test/Images/00000.ppm", buffer.getvalue())
    with zipfile.ZipFile(labels, "w") as archive:
        archive.writestr("GT-final_test.csv", "Filename;ClassId\n00000.ppm;5\n")
    base = "https://sid.erda.dk/public/archives/daaeac0d7ce1152aea9b61d9f1e19370/"
    fake = FakeURLs({base + "GTSRB_Final_Test_Images.zip": images.getvalue(),
                     base + "GTSRB_Final_Test_GT.zip": labels.getvalue()})
    monkeypatch.setattr(urllib.request, "urlopen", fake)
    from ember.vision.datasets import utils
    real_download_url = utils.download_url
    monkeypatch.setattr(utils, "download_url", lambda url, root, filename=None, md5=None:   # MD5s of these zips
                        real_download_url(url, root, filename, None))
    with pytest.raises(RuntimeError, match="Dataset not found"):
        ED.GTSRB(str(tmp_path), split="test")
    ds = ED.GTSRB(str(tmp_path), split="test", download=True)
    assert fake.requested == [base + "GTSRB_Final_Test_Images.zip", base + "GTSRB_Final_Test_GT.zip"]
    assert len(ds) == 1 and ds[0][1] == 5 and numpy.asarray(ds[0][0]).max() == 7


def test_eurosat_as_an_image_folder_as_torchvision(tmp_path):
    tv = tv_oracle.load()
    folder = tmp_path / "eurosat" / "2750"
    names = ["River/River_1.jpg", "Forest/Forest_2.jpg", "Forest/Forest_1.jpg", "AnnualCrop/AnnualCrop_9.jpg"]
    pixels = {name: _image(str(folder / name), seed) for seed, name in enumerate(names)}
    ours, theirs = ED.EuroSAT(str(tmp_path)), tv.datasets.EuroSAT(str(tmp_path))
    assert ours.classes == theirs.classes == ["AnnualCrop", "Forest", "River"]
    assert ours.samples == theirs.samples and ours.root == str(tmp_path)
    _check_against(ours, theirs, [pixels[os.path.relpath(path, folder)] for path, _ in ours.samples])
    with pytest.raises(RuntimeError, match="Dataset not found"):
        ED.EuroSAT(str(tmp_path / "elsewhere"))


# --- Caltech 101 / 256 ------------------------------------------------------------------------------------------------
def _contour_mat(path, seed):
    scipy_io = pytest.importorskip("scipy.io")
    contour = numpy.random.default_rng(seed).uniform(0, 50, (2, 7))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    scipy_io.savemat(path, {"obj_contour": contour, "box_coord": numpy.array([[1, 2, 3, 4]])})
    return contour


@pytest.mark.parametrize("target_type", ["category", ["annotation", "category"]])
def test_caltech101_categories_and_annotations_as_torchvision(tmp_path, target_type):
    tv = tv_oracle.load()
    images = tmp_path / "caltech101" / "101_ObjectCategories"
    counts = {"BACKGROUND_Google": 1, "Faces": 2, "airplanes": 1, "ant": 3}
    pixels, contours = [], []
    for category, n in counts.items():
        for number in range(1, n + 1):
            seed = len(pixels)
            array = _image(str(images / category / f"image_{number:04d}.jpg"), seed)
            if category != "BACKGROUND_Google":
                pixels.append(array)
                folder = {"Faces": "Faces_2", "airplanes": "Airplanes_Side_2"}.get(category, category)
                contours.append(_contour_mat(str(tmp_path / "caltech101" / "Annotations" / folder /
                                                 f"annotation_{number:04d}.mat"), seed))
    ours = ED.Caltech101(str(tmp_path), target_type=target_type)
    theirs = tv.datasets.Caltech101(str(tmp_path), target_type=target_type)
    assert ours.categories == theirs.categories == ["Faces", "airplanes", "ant"]
    assert ours.y == theirs.y == [0, 0, 1, 2, 2, 2] and ours.index == theirs.index and repr(ours) == repr(theirs)
    for index in range(len(ours)):
        (img, target), (tv_img, tv_target) = ours[index], theirs[index]
        numpy.testing.assert_array_equal(numpy.asarray(img), pixels[index])
        numpy.testing.assert_array_equal(numpy.asarray(img), numpy.asarray(tv_img))
        if isinstance(target_type, list):
            numpy.testing.assert_array_equal(target[0], contours[index])
            numpy.testing.assert_array_equal(target[0], tv_target[0])
            assert target[1] == tv_target[1] == ours.y[index]
        else:
            assert target == tv_target == ours.y[index]
    with pytest.raises(ValueError, match="Unknown value 'box' for argument target_type"):
        ED.Caltech101(str(tmp_path), target_type=["category", "box"])


def test_caltech256_as_torchvision_and_missing(tmp_path):
    tv = tv_oracle.load()
    with pytest.raises(RuntimeError, match="Dataset not found or corrupted"):
        ED.Caltech256(str(tmp_path))
    images = tmp_path / "caltech256" / "256_ObjectCategories"
    pixels = []
    for number, (category, n) in enumerate([("001.ak47", 2), ("002.american-flag", 1), ("003.backpack", 2)], 1):
        for index in range(1, n + 1):
            pixels.append(_image(str(images / category / f"{number:03d}_{index:04d}.jpg"), len(pixels)))
    write(str(images / "002.american-flag" / "RENAME2"), b"not an image")   # only .jpg files count
    ours, theirs = ED.Caltech256(str(tmp_path)), tv.datasets.Caltech256(str(tmp_path))
    assert ours.y == theirs.y == [0, 0, 1, 2, 2] and ours.index == theirs.index == [1, 2, 1, 1, 2]
    _check_against(ours, theirs, pixels)


# --- Oxford-IIIT Pet --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("target_types", ["category", ["segmentation", "binary-category", "category"], []])
def test_oxford_iiit_pet_as_torchvision(tmp_path, target_types):
    tv = tv_oracle.load()
    assert ED.OxfordIIITPet._RESOURCES == tv.datasets.OxfordIIITPet._RESOURCES
    base = tmp_path / "oxford-iiit-pet"
    rows = [("great_pyrenees_3", 2, 2), ("Abyssinian_1", 1, 1), ("great_pyrenees_12", 2, 2), ("Bombay_7", 3, 1)]
    write(str(base / "annotations" / "trainval.txt"),
          "".join(f"{image_id} {label} {binary} 1\n" for image_id, label, binary in rows).encode())
    pixels = {image_id: _image(str(base / "images" / f"{image_id}.jpg"), seed)
              for seed, (image_id, _, _) in enumerate(rows)}
    for seed, (image_id, _, _) in enumerate(rows):
        trimap = numpy.random.default_rng(seed).integers(1, 4, (4, 5), dtype=numpy.uint8)
        os.makedirs(base / "annotations" / "trimaps", exist_ok=True)
        Image.fromarray(trimap).save(base / "annotations" / "trimaps" / f"{image_id}.png")
    ours = ED.OxfordIIITPet(str(tmp_path), target_types=target_types)
    theirs = tv.datasets.OxfordIIITPet(str(tmp_path), target_types=target_types)
    assert ours.classes == theirs.classes == ["Abyssinian", "Great Pyrenees", "Bombay"]
    assert ours.class_to_idx == theirs.class_to_idx and ours._bin_labels == theirs._bin_labels == [1, 0, 1, 0]
    for index, (image_id, _, _) in enumerate(rows):
        (img, target), (tv_img, tv_target) = ours[index], theirs[index]
        numpy.testing.assert_array_equal(numpy.asarray(img), pixels[image_id])
        numpy.testing.assert_array_equal(numpy.asarray(img), numpy.asarray(tv_img))
        if isinstance(target, tuple):
            numpy.testing.assert_array_equal(numpy.asarray(target[0]), numpy.asarray(tv_target[0]))
            assert target[1:] == tv_target[1:]
        else:
            assert target == tv_target
    with pytest.raises(ValueError, match="Unknown value 'val' for argument split"):
        ED.OxfordIIITPet(str(tmp_path), split="val")


# --- LFW --------------------------------------------------------------------------------------------------------------
def _lfw_root(root, monkeypatch, tv):
    """lfw-py with a stand-in archive (its MD5 patched in), the people/pairs lists, names and funneled images."""
    base = os.path.join(root, "lfw-py")
    files = {
        "lfw-funneled.tgz": b"stand-in archive",
        "lfw-names.txt": b"Aaron_Eckhart\t1\nAbel_Pacheco\t2\nZico\t1\n",
        "people.txt": b"2\n2\nAbel_Pacheco\t2\nZico\t1\n1\nAaron_Eckhart\t1\n",
        "peopleDevTrain.txt": b"1\nAbel_Pacheco\t2\n",
        "pairs.txt": b"1\t1\nAbel_Pacheco\t1\t2\nAaron_Eckhart\t1\tZico\t1\n",
        "pairsDevTest.txt": b"1\nAbel_Pacheco\t2\t1\nZico\t1\tAbel_Pacheco\t2\n",
    }
    for name, data in files.items():
        write(os.path.join(base, name), data)
    sums = {name: md5(data) for name, data in files.items() if name != "lfw-funneled.tgz"}
    for cls in (ED.LFWPeople, ED.LFWPairs, tv.datasets.LFWPeople, tv.datasets.LFWPairs):
        monkeypatch.setattr(cls, "checksums", {**cls.checksums, **sums})
        monkeypatch.setattr(cls, "file_dict", {**cls.file_dict, "funneled": ("lfw_funneled", "lfw-funneled.tgz",
                                                                           md5(files["lfw-funneled.tgz"]))})
    pixels = {}
    for seed, (identity, number) in enumerate([("Aaron_Eckhart", 1), ("Abel_Pacheco", 1), ("Abel_Pacheco", 2),
                                               ("Zico", 1)]):
        path = os.path.join(base, "lfw_funneled", identity, f"{identity}_{number:04d}.jpg")
        pixels[path] = _image(path, seed)
    return pixels


@pytest.mark.parametrize("split", ["10fold", "train"])
def test_lfw_people_as_torchvision(tmp_path, monkeypatch, split):
    tv = tv_oracle.load()
    pixels = _lfw_root(str(tmp_path), monkeypatch, tv)
    ours, theirs = ED.LFWPeople(str(tmp_path), split=split), tv.datasets.LFWPeople(str(tmp_path), split=split)
    assert ours.class_to_idx == theirs.class_to_idx == {"Aaron_Eckhart": 0, "Abel_Pacheco": 1, "Zico": 2}
    assert ours.data == theirs.data and ours.targets == theirs.targets
    assert ours.targets == ([1, 1, 2, 0] if split == "10fold" else [1, 1])
    _check_against(ours, theirs, [pixels[path] for path in ours.data])


@pytest.mark.parametrize("split", ["10fold", "test"])
def test_lfw_pairs_as_torchvision(tmp_path, monkeypatch, split):
    tv = tv_oracle.load()
    pixels = _lfw_root(str(tmp_path), monkeypatch, tv)
    ours, theirs = ED.LFWPairs(str(tmp_path), split=split), tv.datasets.LFWPairs(str(tmp_path), split=split)
    assert ours.pair_names == theirs.pair_names and ours.data == theirs.data
    assert ours.targets == theirs.targets == [1, 0]
    assert repr(ours) == repr(theirs)
    for index in range(2):
        a1, a2, target = ours[index]
        b1, b2, tv_target = theirs[index]
        assert target == tv_target
        for ours_img, their_img, path in zip((a1, a2), (b1, b2), ours.data[index]):
            numpy.testing.assert_array_equal(numpy.asarray(ours_img), numpy.asarray(their_img))
            numpy.testing.assert_array_equal(numpy.asarray(ours_img), pixels[path])


def test_lfw_download_refused_and_arguments(tmp_path):
    with pytest.raises(ValueError, match="^LFW dataset is no longer available for automatic download.Please"):
        ED.LFWPeople(str(tmp_path), download=True)
    with pytest.raises(ValueError, match="Unknown value 'aligned' for argument image_set"):
        ED.LFWPairs(str(tmp_path), image_set="aligned")
    with pytest.raises(RuntimeError, match="Dataset not found or corrupted"):
        ED.LFWPairs(str(tmp_path), image_set="Original")


# --- Flowers102 -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("split", ["train", "val", "test"])
def test_flowers102_reads_the_mat_files_as_torchvision(tmp_path, monkeypatch, split):
    scipy_io = pytest.importorskip("scipy.io")
    tv = tv_oracle.load()
    assert ED.Flowers102.classes == tv.datasets.Flowers102.classes and len(ED.Flowers102.classes) == 102
    assert ED.Flowers102._file_dict["image"] == tv.datasets.Flowers102._file_dict["image"]
    base = tmp_path / "flowers-102"
    labels = numpy.array([[77, 1, 102, 5, 5, 9]], dtype=numpy.uint8)   # labels of images 1-6, counted from 1
    set_ids = {"trnid": numpy.array([[4, 1]], numpy.uint16), "valid": numpy.array([[6, 2, 3]], numpy.uint16),
               "tstid": numpy.array([[5, 6]], numpy.uint16)}   # squeezed: a split needs two images
    os.makedirs(base)
    scipy_io.savemat(str(base / "imagelabels.mat"), {"labels": labels})
    scipy_io.savemat(str(base / "setid.mat"), set_ids)
    pixels = {i: _image(str(base / "jpg" / f"image_{i:05d}.jpg"), i) for i in range(1, 7)}
    sums = {key: (name, md5((base / name).read_bytes())) for key, name in (("label", "imagelabels.mat"),
                                                                           ("setid", "setid.mat"))}
    for cls in (ED.Flowers102, tv.datasets.Flowers102):
        monkeypatch.setattr(cls, "_file_dict", {**cls._file_dict, **sums})
    ours, theirs = ED.Flowers102(str(tmp_path), split=split), tv.datasets.Flowers102(str(tmp_path), split=split)
    ids = set_ids[{"train": "trnid", "val": "valid", "test": "tstid"}[split]][0].tolist()
    assert ours._labels == theirs._labels == [int(labels[0, i - 1]) - 1 for i in ids]
    assert ours._image_files == theirs._image_files
    _check_against(ours, theirs, [pixels[i] for i in ids])
    (base / "setid.mat").write_bytes(b"changed")
    with pytest.raises(RuntimeError, match="Dataset not found or corrupted"):
        ED.Flowers102(str(tmp_path), split=split)
