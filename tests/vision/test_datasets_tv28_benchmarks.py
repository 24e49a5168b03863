"""torchvision 0.28's benchmark image datasets (Country211, FER2013, FGVCAircraft, Imagenette) on tiny files written
here in the real layouts, against torchvision's classes reading the same files."""
import csv
import json
import io
import os
import sys
import tarfile
import types
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


# --- StanfordCars -----------------------------------------------------------------------------------------------------
def _cars_annotations(path, rows):
    scipy_io = pytest.importorskip("scipy.io")
    dtype = [("bbox_x1", "O"), ("bbox_y1", "O"), ("bbox_x2", "O"), ("bbox_y2", "O"), ("class", "O"), ("fname", "O")]
    records = numpy.array([(1, 2, 30, 40, numpy.array([[label]], numpy.uint8), name) for name, label in rows],
                          dtype=dtype)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    scipy_io.savemat(path, {"annotations": records.reshape(1, -1)})


@pytest.mark.parametrize("split", ["train", "test"])
def test_stanford_cars_reads_the_mat_annotations_as_torchvision(tmp_path, split):
    scipy_io = pytest.importorskip("scipy.io")
    tv = tv_oracle.load()
    base = tmp_path / "stanford_cars"
    names = numpy.array(["AM General Hummer SUV 2000", "Acura RL Sedan 2012", "Aston Martin V8 Vantage Coupe 2012"],
                        dtype=object)
    os.makedirs(base / "devkit")
    scipy_io.savemat(str(base / "devkit" / "cars_meta.mat"), {"class_names": names.reshape(1, -1)})
    rows = [("00003.jpg", 3), ("00001.jpg", 1), ("00002.jpg", 1)]
    annotations = base / ("devkit/cars_train_annos.mat" if split == "train" else "cars_test_annos_withlabels.mat")
    _cars_annotations(str(annotations), rows)
    folder = base / f"cars_{split}"
    pixels = [_image(str(folder / name), seed) for seed, (name, _) in enumerate(rows)]
    ours, theirs = ED.StanfordCars(str(tmp_path), split=split), tv.datasets.StanfordCars(str(tmp_path), split=split)
    assert ours.classes == theirs.classes == names.tolist() and ours.class_to_idx == theirs.class_to_idx
    assert [(p, int(t)) for p, t in ours._samples] == [(str(folder / n), label - 1) for n, label in rows]
    assert [(p, int(t)) for p, t in ours._samples] == [(p, int(t)) for p, t in theirs._samples]
    for index in range(3):
        (img, target), (tv_img, tv_target) = ours[index], theirs[index]
        assert target == tv_target == rows[index][1] - 1
        numpy.testing.assert_array_equal(numpy.asarray(img), pixels[index])
        numpy.testing.assert_array_equal(numpy.asarray(img), numpy.asarray(tv_img))
    with pytest.raises(ValueError, match="The original URL is broken"):
        ED.StanfordCars(str(tmp_path), download=True)
    with pytest.raises(RuntimeError, match="^Dataset not found.$"):
        ED.StanfordCars(str(tmp_path / "elsewhere"))


# --- SUN397, RenderedSST2, CLEVR --------------------------------------------------------------------------------------
def test_sun397_as_torchvision(tmp_path):
    tv = tv_oracle.load()
    assert (ED.SUN397._DATASET_URL, ED.SUN397._DATASET_MD5) == (tv.datasets.SUN397._DATASET_URL,
                                                                 tv.datasets.SUN397._DATASET_MD5)
    data = tmp_path / "SUN397"
    write(str(data / "ClassName.txt"), b"/a/abbey\n/b/bakery/shop\n/b/beach\n")
    names = ["a/abbey/sun_aaa.jpg", "b/bakery/shop/sun_bbb.jpg", "b/beach/sun_ccc.jpg", "b/beach/sun_ddd.jpg"]
    pixels = {str(data / name): _image(str(data / name), seed) for seed, name in enumerate(names)}
    _image(str(data / "b" / "beach" / "thumb_ccc.jpg"), 9)   # not sun_*.jpg: left out
    ours, theirs = ED.SUN397(str(tmp_path)), tv.datasets.SUN397(str(tmp_path))
    assert ours.classes == theirs.classes == ["abbey", "bakery/shop", "beach"]
    assert ours._image_files == theirs._image_files and ours._labels == theirs._labels and len(ours) == 4
    _same_samples(ours, theirs, [pixels[str(path)] for path in ours._image_files])


@pytest.mark.parametrize("split,folder", [("train", "train"), ("val", "valid")])
def test_rendered_sst2_as_torchvision(tmp_path, split, folder):
    tv = tv_oracle.load()
    assert (ED.RenderedSST2._URL, ED.RenderedSST2._MD5) == (tv.datasets.RenderedSST2._URL,
                                                            tv.datasets.RenderedSST2._MD5)
    base = tmp_path / "rendered-sst2" / folder
    for seed, name in enumerate(["positive/3.png", "negative/10.png", "negative/2.png", "positive/notes.txt"]):
        _image(str(base / name), seed)
    ours, theirs = ED.RenderedSST2(str(tmp_path), split=split), tv.datasets.RenderedSST2(str(tmp_path), split=split)
    assert ours._samples == theirs._samples and [t for _, t in ours._samples] == [0, 0, 1]
    _same_samples(ours, theirs)
    with pytest.raises(RuntimeError, match="Dataset not found"):
        ED.RenderedSST2(str(tmp_path), split="test")


@pytest.mark.parametrize("split", ["val", "test"])
def test_clevr_classification_counts_objects_as_torchvision(tmp_path, split):
    tv = tv_oracle.load()
    assert (ED.CLEVRClassification._URL, ED.CLEVRClassification._MD5) == (tv.datasets.CLEVRClassification._URL,
                                                                           tv.datasets.CLEVRClassification._MD5)
    data = tmp_path / "clevr" / "CLEVR_v1.0"
    files = [f"CLEVR_{split}_00000{i}.png" for i in (2, 0, 1)]
    for seed, name in enumerate(files):
        _image(str(data / "images" / split / name), seed)
    scenes = {"scenes": [{"image_filename": name, "objects": [{"shape": "cube"}] * (i + 3)}
                         for i, name in enumerate(files)]}
    if split != "test":
        write(str(data / "scenes" / f"CLEVR_{split}_scenes.json"), json.dumps(scenes).encode())
    ours = ED.CLEVRClassification(str(tmp_path), split=split)
    theirs = tv.datasets.CLEVRClassification(str(tmp_path), split=split)
    assert ours._image_files == theirs._image_files and ours._labels == theirs._labels
    assert ours._labels == ([4, 5, 3] if split == "val" else [None] * 3)
    _same_samples(ours, theirs)


# --- Places365 --------------------------------------------------------------------------------------------------------
def _places_root(root, monkeypatch, tv):
    files = {"categories_places365.txt": b"/a/airfield 0\n/a/abbey 1\n/b/bakery/shop 2\n",
             "places365_val.txt": b"Places365_val_00000002.jpg 2\nPlaces365_val_00000001.jpg 0\n",
             "places365_test.txt": b"Places365_test_00000001.jpg\n",
             "places365_train_standard.txt": b"/a/abbey/00000001.jpg 1\n/b/bakery/shop/00000003.jpg 2\n"}
    for name, data in files.items():
        write(os.path.join(root, name), data)
    for cls in (ED.Places365, tv.datasets.Places365):
        monkeypatch.setattr(cls, "_CATEGORIES_META", ("categories_places365.txt",
                                                      md5(files["categories_places365.txt"])))
        monkeypatch.setattr(cls, "_FILE_LIST_META", {**cls._FILE_LIST_META, **{
            split: (name, md5(files[name])) for split, name in (("val", "places365_val.txt"),
                                                                ("test", "places365_test.txt"),
                                                                ("train-standard", "places365_train_standard.txt"))}})
    pixels = {}
    for seed, name in enumerate(["val_256/Places365_val_00000002.jpg", "val_256/Places365_val_00000001.jpg",
                                 "test_large/Places365_test_00000001.jpg",
                                 "data_large_standard/a/abbey/00000001.jpg",
                                 "data_large_standard/b/bakery/shop/00000003.jpg"]):
        pixels[os.path.join(root, name)] = _image(os.path.join(root, name), seed)
    return pixels


@pytest.mark.parametrize("split,small", [("val", True), ("test", False), ("train-standard", False)])
def test_places365_lists_as_torchvision(tmp_path, monkeypatch, split, small):
    tv = tv_oracle.load()
    for key in ("_SPLITS", "_BASE_URL", "_DEVKIT_META", "_IMAGES_META"):
        assert getattr(ED.Places365, key) == getattr(tv.datasets.Places365, key)
    pixels = _places_root(str(tmp_path), monkeypatch, tv)
    ours = ED.Places365(str(tmp_path), split=split, small=small)
    theirs = tv.datasets.Places365(str(tmp_path), split=split, small=small)
    assert ours.classes == theirs.classes == ["/a/abbey", "/a/airfield", "/b/bakery/shop"]
    assert ours.class_to_idx == theirs.class_to_idx and ours.imgs == theirs.imgs and ours.targets == theirs.targets
    _same_samples(ours, theirs, [pixels[file] for file, _ in ours.imgs])
    assert ours.targets == {"val": [2, 0], "test": [None], "train-standard": [1, 2]}[split]


def test_places365_missing_lists(tmp_path):
    with pytest.raises(RuntimeError, match=r"^The file .*categories_places365.txt does not exist or is corrupted. "
                                           "You can set download=True to download it.$"):
        ED.Places365(str(tmp_path), split="val")
    with pytest.raises(ValueError, match="Unknown value 'train' for argument split"):
        ED.Places365(str(tmp_path), split="train")


# --- INaturalist ------------------------------------------------------------------------------------------------------
_INAT_2021 = ["00000_Animalia_Chordata_Aves_Passeriformes_Corvidae_Corvus_corax",
              "00001_Animalia_Chordata_Aves_Passeriformes_Paridae_Parus_major",
              "00002_Plantae_Tracheophyta_Magnoliopsida_Rosales_Rosaceae_Rosa_canina"]


@pytest.mark.parametrize("target_type", ["full", ["family", "kingdom", "full"]])
def test_inaturalist_2021_taxonomy_as_torchvision(tmp_path, target_type):
    tv = tv_oracle.load()
    from ember.vision.datasets import inaturalist
    assert inaturalist.DATASET_URLS == tv.datasets.inaturalist.DATASET_URLS
    assert inaturalist.DATASET_MD5 == tv.datasets.inaturalist.DATASET_MD5
    for seed, folder in enumerate(_INAT_2021):
        for n in range(seed + 1):
            _image(str(tmp_path / "2021_valid" / folder / f"img{n}.jpg"), seed * 10 + n)
    kwargs = {"version": "2021_valid", "target_type": target_type, "loader": lambda p: Image.open(p).convert("RGB")}
    ours, theirs = ED.INaturalist(str(tmp_path), **kwargs), tv.datasets.INaturalist(str(tmp_path), **kwargs)
    assert ours.all_categories == theirs.all_categories and ours.categories_index == theirs.categories_index
    assert ours.categories_map == theirs.categories_map and ours.index == theirs.index and len(ours) == 6
    _same_samples(ours, theirs)
    assert ours.categories_index["family"] == {"Corvidae": 0, "Paridae": 1, "Rosaceae": 2}
    assert ours.category_name("kingdom", 1) == theirs.category_name("kingdom", 1) == "Plantae"
    with pytest.raises(ValueError, match="Invalid category id 7 for genus"):
        ours.category_name("genus", 7)


@pytest.mark.parametrize("version", ["2017", "2019"])
def test_inaturalist_pre2021_super_categories_as_torchvision(tmp_path, version):
    tv = tv_oracle.load()
    folders = {"2017": ["Aves/Corvus corax", "Aves/Parus major", "Plantae/Rosa canina"],
               "2019": ["Aves/2", "Aves/0", "Plantae/1"]}[version]
    for seed, folder in enumerate(folders):
        _image(str(tmp_path / version / folder / "a.jpg"), seed)
    kwargs = {"version": version, "target_type": ["super", "full"]}
    ours, theirs = ED.INaturalist(str(tmp_path), **kwargs), tv.datasets.INaturalist(str(tmp_path), **kwargs)
    assert ours.all_categories == theirs.all_categories and ours.categories_map == theirs.categories_map
    for index in range(3):
        (img, target), (tv_img, tv_target) = ours[index], theirs[index]
        assert target == tv_target
        numpy.testing.assert_array_equal(numpy.asarray(img), numpy.asarray(tv_img))
        img.close()
        tv_img.close()
    assert ours.categories_index == {"super": {"Aves": 0, "Plantae": 1}}


def test_inaturalist_folder_errors(tmp_path):
    os.makedirs(tmp_path / "2021_train" / "00000_Animalia_Chordata")
    with pytest.raises(RuntimeError, match="Unexpected category name 00000_Animalia_Chordata, wrong number of pieces"):
        ED.INaturalist(str(tmp_path))
    os.makedirs(tmp_path / "2018" / "Aves" / "0")
    os.makedirs(tmp_path / "2018" / "Aves" / "2")
    with pytest.raises(RuntimeError, match="^Missing category 1$"):
        ED.INaturalist(str(tmp_path), version="2018")
    with pytest.raises(ValueError, match="Unknown value 'genus' for argument target_type"):
        ED.INaturalist(str(tmp_path), version="2018", target_type="genus")


# --- PCAM -------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("split", ["train", "val"])
def test_pcam_reads_the_hdf5_files_as_torchvision(tmp_path, split):
    h5py = pytest.importorskip("h5py")
    tv = tv_oracle.load()
    assert ED.PCAM._FILES == tv.datasets.PCAM._FILES
    images = numpy.random.default_rng(3).integers(0, 256, (4, 96, 96, 3), dtype=numpy.uint8)
    labels = numpy.array([1, 0, 0, 1], numpy.uint8).reshape(4, 1, 1, 1)
    os.makedirs(tmp_path / "pcam")
    with h5py.File(tmp_path / "pcam" / ED.PCAM._FILES[split]["images"][0], "w") as f:
        f["x"] = images
    with h5py.File(tmp_path / "pcam" / ED.PCAM._FILES[split]["targets"][0], "w") as f:
        f["y"] = labels
    ours, theirs = ED.PCAM(str(tmp_path), split=split), tv.datasets.PCAM(str(tmp_path), split=split)
    _same_samples(ours, theirs, images)
    assert [ours[i][1] for i in range(4)] == [1, 0, 0, 1]


def test_pcam_without_h5py_or_files(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(RuntimeError, match="h5py is not found. This dataset needs to have h5py installed"):
        ED.PCAM(str(tmp_path))
    monkeypatch.setitem(sys.modules, "h5py", types.ModuleType("h5py"))
    with pytest.raises(RuntimeError, match="^Dataset not found. You can use download=True to download it$"):
        ED.PCAM(str(tmp_path), split="test")
