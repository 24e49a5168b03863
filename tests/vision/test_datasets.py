"""ember.vision.datasets on tiny files made here: values against NumPy and against torchvision reading the same
files; downloads served by a fake ``urllib.request.urlopen``."""
import gzip
import hashlib
import io
import os
import pickle
import tarfile
import urllib.error
import urllib.request
import zipfile

import numpy
import pytest

import ember
import ember.vision.datasets as ED
import ember.vision.transforms as ET
from tests.vision import tv_oracle

Image = pytest.importorskip("PIL.Image")

FASHION_MNIST = "/usr/share/datasets/fashion-mnist"
_IDX_CODES = {numpy.dtype("uint8"): 8, numpy.dtype("int8"): 9, numpy.dtype("int16"): 11,
              numpy.dtype("int32"): 12, numpy.dtype("float32"): 13, numpy.dtype("float64"): 14}


def idx_bytes(array):
    header = bytes([0, 0, _IDX_CODES[array.dtype], array.ndim])
    header += b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write(path, data, compress=False):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with (gzip.open if compress else open)(path, "wb") as f:
        f.write(data)
    return path


def md5(data):
    return hashlib.md5(data).hexdigest()


def mnist_arrays(seed, n):
    rng = numpy.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=numpy.uint8), rng.integers(0, 10, n, dtype=numpy.uint8)


def write_mnist(raw, prefixes=("train", "t10k"), compress=False, sizes=(5, 3)):
    """IDX files under ``raw`` for each prefix; returns {prefix: (images, labels)}."""
    written = {}
    for seed, (prefix, n) in enumerate(zip(prefixes, sizes)):
        images, labels = mnist_arrays(seed, n)
        suffix = ".gz" if compress else ""
        write(os.path.join(raw, f"{prefix}-images-idx3-ubyte{suffix}"), idx_bytes(images), compress)
        write(os.path.join(raw, f"{prefix}-labels-idx1-ubyte{suffix}"), idx_bytes(labels), compress)
        written[prefix] = images, labels
    return written


@pytest.mark.parametrize("cls", ["MNIST", "FashionMNIST", "KMNIST"])
@pytest.mark.parametrize("compress", [False, True])
def test_mnist_family_reads_raw_idx_files(tmp_path, cls, compress):
    written = write_mnist(tmp_path / cls / "raw", compress=compress)
    for train, prefix in ((True, "train"), (False, "t10k")):
        images, labels = written[prefix]
        ds = getattr(ED, cls)(str(tmp_path), train=train)
        assert len(ds) == len(images)
        assert ds.data.dtype == ember.uint8 and ds.targets.dtype == ember.int64
        numpy.testing.assert_array_equal(ds.data.numpy(), images)
        numpy.testing.assert_array_equal(ds.targets.numpy(), labels)
        img, target = ds[1]
        assert isinstance(img, Image.Image) and img.mode == "L" and img.size == (28, 28)
        numpy.testing.assert_array_equal(numpy.asarray(img), images[1])
        assert type(target) is int and target == labels[1]
        assert ds.class_to_idx == {c: i for i, c in enumerate(ds.classes)}


def test_mnist_matches_torchvision(tmp_path):
    tv = tv_oracle.load()
    write_mnist(tmp_path / "MNIST" / "raw")
    for name in ("MNIST", "FashionMNIST", "KMNIST"):
        assert getattr(ED, name).classes == getattr(tv.datasets, name).classes
        assert getattr(ED, name).resources == getattr(tv.datasets, name).resources
        assert getattr(ED, name).mirrors == getattr(tv.datasets, name).mirrors
    ours = ED.MNIST(str(tmp_path), train=False, transform=ET.ToTensor(), target_transform=abs)
    theirs = tv.datasets.MNIST(str(tmp_path), train=False, transform=tv.transforms.ToTensor(),
                               target_transform=abs)
    numpy.testing.assert_array_equal(ours.data.numpy(), theirs.data.numpy())
    numpy.testing.assert_array_equal(ours.targets.numpy(), theirs.targets.numpy())
    for index in range(len(theirs)):
        (x, y), (tx, ty) = ours[index], theirs[index]
        numpy.testing.assert_array_equal(x.numpy(), tx.numpy())
        assert y == ty
    assert repr(ours).replace("ember.vision", "torchvision") == repr(theirs).replace("torchvision.transforms.", "")


def test_mnist_missing_files(tmp_path):
    with pytest.raises(RuntimeError, match="^Dataset not found. You can use download=True to download it$"):
        ED.MNIST(str(tmp_path))
    write_mnist(tmp_path / "MNIST" / "raw", prefixes=("train",), sizes=(2,))
    with pytest.raises(RuntimeError, match="Dataset not found"):
        ED.MNIST(str(tmp_path), train=True)  # the test files are missing, as torchvision requires all four


def test_idx_parsing_errors(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    write_mnist(raw)
    write(str(raw / "train-images-idx3-ubyte"), idx_bytes(numpy.zeros((2, 28, 28), numpy.int16)))
    with pytest.raises(TypeError, match="should be of dtype ember.uint8 instead of int16"):
        ED.MNIST(str(tmp_path))
    write(str(raw / "train-images-idx3-ubyte"), idx_bytes(numpy.zeros((2, 28), numpy.uint8)))
    with pytest.raises(ValueError, match="x should have 3 dimension instead of 2"):
        ED.MNIST(str(tmp_path))
    write(str(raw / "train-images-idx3-ubyte"), b"\x01\x02\x08\x03" + bytes(12))
    with pytest.raises(ValueError, match="not an IDX file"):
        ED.MNIST(str(tmp_path))


def test_idx_types_and_big_endian(tmp_path):
    from ember.vision.datasets.mnist import read_sn3_pascalvincent_array
    for dtype in ("int8", "int16", "int32", "float32", "float64"):
        array = (numpy.arange(24).reshape(2, 3, 4) - 7).astype(dtype) * 3
        path = write(str(tmp_path / f"x-{dtype}"), idx_bytes(array))
        parsed = read_sn3_pascalvincent_array(path)
        assert parsed.dtype == numpy.dtype(dtype) and parsed.dtype.isnative
        numpy.testing.assert_array_equal(parsed, array)


def test_emnist_splits(tmp_path):
    tv = tv_oracle.load()
    images, labels = mnist_arrays(3, 4)
    raw = tmp_path / "EMNIST" / "raw"
    write(str(raw / "emnist-letters-test-images-idx3-ubyte.gz"), idx_bytes(images), compress=True)
    write(str(raw / "emnist-letters-test-labels-idx1-ubyte.gz"), idx_bytes(labels), compress=True)
    ds = ED.EMNIST(str(tmp_path), split="letters", train=False)
    numpy.testing.assert_array_equal(ds.data.numpy(), images)
    assert ds.classes == ["N/A"] + list("abcdefghijklmnopqrstuvwxyz")
    assert ED.EMNIST.classes_split_dict == tv.datasets.EMNIST.classes_split_dict
    with pytest.raises(RuntimeError, match="Dataset not found"):
        ED.EMNIST(str(tmp_path), split="letters", train=True)
    with pytest.raises(ValueError) as ours:
        ED.EMNIST(str(tmp_path), split="kanji")
    with pytest.raises(ValueError) as theirs:
        tv.datasets.EMNIST(str(tmp_path), split="kanji")
    assert str(ours.value) == str(theirs.value)


class FakeURLs:
    """Stands in for urllib.request.urlopen: serves ``files`` by URL, records the requests."""

    def __init__(self, files):
        self.files = files
        self.requested = []

    def __call__(self, request):
        url = request.full_url
        self.requested.append(url)
        assert request.get_header("User-agent") == "pytorch/vision"
        if url not in self.files:
            raise urllib.error.URLError(f"no route to {url}")
        return io.BytesIO(self.files[url])


def gz(data):
    return gzip.compress(data, mtime=0)


def mnist_downloads(mirror):
    train_images, train_labels = mnist_arrays(0, 4)
    test_images, test_labels = mnist_arrays(1, 2)
    payloads = {"train-images-idx3-ubyte.gz": gz(idx_bytes(train_images)),
                "train-labels-idx1-ubyte.gz": gz(idx_bytes(train_labels)),
                "t10k-images-idx3-ubyte.gz": gz(idx_bytes(test_images)),
                "t10k-labels-idx1-ubyte.gz": gz(idx_bytes(test_labels))}
    resources = [(name, md5(data)) for name, data in payloads.items()]
    return {mirror + name: data for name, data in payloads.items()}, resources, train_images


def test_mnist_download(tmp_path, monkeypatch):
    files, resources, train_images = mnist_downloads(ED.MNIST.mirrors[0])
    monkeypatch.setattr(ED.MNIST, "resources", resources)
    fake = FakeURLs(files)
    monkeypatch.setattr(urllib.request, "urlopen", fake)
    ds = ED.MNIST(str(tmp_path), download=True)
    assert sorted(fake.requested) == sorted(files)
    assert fake.requested[0] == "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz"
    numpy.testing.assert_array_equal(ds.data.numpy(), train_images)
    assert os.path.isfile(tmp_path / "MNIST" / "raw" / "t10k-labels-idx1-ubyte")
    fake.requested.clear()
    ED.MNIST(str(tmp_path), train=False, download=True)
    assert fake.requested == []  # present files are not fetched again


def test_mnist_download_falls_back_to_the_next_mirror(tmp_path, monkeypatch):
    files, resources, train_images = mnist_downloads(ED.MNIST.mirrors[1])
    monkeypatch.setattr(ED.MNIST, "resources", resources)
    fake = FakeURLs(files)
    monkeypatch.setattr(urllib.request, "urlopen", fake)
    ds = ED.MNIST(str(tmp_path), download=True)
    numpy.testing.assert_array_equal(ds.data.numpy(), train_images)
    assert fake.requested[:3] == ["https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz",
                                  "http://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz",
                                  "http://yann.lecun.com/exdb/mnist/train-images-idx3-ubyte.gz"]


def test_mnist_download_checksum_mismatch(tmp_path, monkeypatch):
    files, resources, _ = mnist_downloads(ED.FashionMNIST.mirrors[0])
    files = {url: data + b"corrupted" for url, data in files.items()}
    monkeypatch.setattr(ED.FashionMNIST, "resources", resources)
    monkeypatch.setattr(urllib.request, "urlopen", FakeURLs(files))
    with pytest.raises(RuntimeError) as error:
        ED.FashionMNIST(str(tmp_path), download=True)
    assert str(error.value) == (
        "Error downloading train-images-idx3-ubyte.gz:\n"
        "Tried http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/, got:\nFile not found or corrupted.\n")


def test_emnist_download(tmp_path, monkeypatch):
    images, labels = mnist_arrays(5, 3)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("gzip/emnist-digits-train-images-idx3-ubyte.gz", gz(idx_bytes(images)))
        z.writestr("gzip/emnist-digits-train-labels-idx1-ubyte.gz", gz(idx_bytes(labels)))
        z.writestr("gzip/README", b"not a gzip member")
    monkeypatch.setattr(ED.EMNIST, "md5", md5(archive.getvalue()))
    monkeypatch.setattr(urllib.request, "urlopen", FakeURLs({ED.EMNIST.url: archive.getvalue()}))
    ds = ED.EMNIST(str(tmp_path), split="digits", download=True)
    numpy.testing.assert_array_equal(ds.targets.numpy(), labels)
    assert sorted(os.listdir(tmp_path / "EMNIST" / "raw")) == [
        "emnist-digits-train-images-idx3-ubyte", "emnist-digits-train-labels-idx1-ubyte", "gzip.zip"]


def cifar_files(cls, n_per_batch=3):
    """The pickled batches and meta of a tiny CIFAR, as {name: bytes}, plus all training rows and labels."""
    rng = numpy.random.default_rng(11)
    label_key = "labels" if cls.meta["key"] == "label_names" else "fine_labels"
    n_classes = 10 if label_key == "labels" else 100
    files, train_rows, train_labels = {}, [], []
    for name, _ in cls.train_list + cls.test_list:
        rows = rng.integers(0, 256, (n_per_batch, 3072), dtype=numpy.uint8)
        labels = rng.integers(0, n_classes, n_per_batch).tolist()
        files[name] = pickle.dumps({"data": rows, label_key: labels, "batch_label": name})
        if [name, _] in cls.train_list:
            train_rows.append(rows)
            train_labels += labels
    names = [f"class{i}" for i in range(n_classes)]
    files[cls.meta["filename"]] = pickle.dumps({cls.meta["key"]: names})
    return files, numpy.vstack(train_rows), train_labels


def patch_cifar_checksums(monkeypatch, cls, files):
    monkeypatch.setattr(cls, "train_list", [[name, md5(files[name])] for name, _ in cls.train_list])
    monkeypatch.setattr(cls, "test_list", [[name, md5(files[name])] for name, _ in cls.test_list])
    monkeypatch.setattr(cls, "meta", {**cls.meta, "md5": md5(files[cls.meta["filename"]])})


@pytest.mark.parametrize("name", ["CIFAR10", "CIFAR100"])
def test_cifar(tmp_path, monkeypatch, name):
    tv = tv_oracle.load()
    ours_cls, theirs_cls = getattr(ED, name), getattr(tv.datasets, name)
    for attribute in ("url", "filename", "tgz_md5", "train_list", "test_list", "meta", "base_folder"):
        assert getattr(ours_cls, attribute) == getattr(theirs_cls, attribute)
    files, rows, labels = cifar_files(ours_cls)
    for file_name, data in files.items():
        write(str(tmp_path / ours_cls.base_folder / file_name), data)
    patch_cifar_checksums(monkeypatch, ours_cls, files)
    patch_cifar_checksums(monkeypatch, theirs_cls, files)
    ds = ours_cls(str(tmp_path))
    expected = rows.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    numpy.testing.assert_array_equal(ds.data, expected)
    assert ds.targets == labels and len(ds) == len(labels)
    img, target = ds[2]
    assert img.mode == "RGB" and img.size == (32, 32) and target == labels[2]
    numpy.testing.assert_array_equal(numpy.asarray(img), expected[2])
    theirs = theirs_cls(str(tmp_path), train=False)
    ours = ours_cls(str(tmp_path), train=False)
    numpy.testing.assert_array_equal(ours.data, theirs.data)
    assert (ours.targets, ours.classes, ours.class_to_idx) == (theirs.targets, theirs.classes, theirs.class_to_idx)
    assert repr(ours) == repr(theirs)


def test_cifar_missing_or_corrupted(tmp_path, monkeypatch):
    with pytest.raises(RuntimeError, match="^Dataset not found or corrupted. You can use download=True"):
        ED.CIFAR10(str(tmp_path))
    files, _, _ = cifar_files(ED.CIFAR10)
    for file_name, data in files.items():
        write(str(tmp_path / ED.CIFAR10.base_folder / file_name), data)
    patch_cifar_checksums(monkeypatch, ED.CIFAR10, files)
    write(str(tmp_path / ED.CIFAR10.base_folder / "data_batch_2"), b"truncated")
    with pytest.raises(RuntimeError, match="Dataset not found or corrupted"):
        ED.CIFAR10(str(tmp_path))


def test_cifar_download(tmp_path, monkeypatch):
    files, rows, _ = cifar_files(ED.CIFAR100)
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        for file_name, data in files.items():
            info = tarfile.TarInfo(f"{ED.CIFAR100.base_folder}/{file_name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    patch_cifar_checksums(monkeypatch, ED.CIFAR100, files)
    monkeypatch.setattr(ED.CIFAR100, "tgz_md5", md5(archive.getvalue()))
    fake = FakeURLs({ED.CIFAR100.url: archive.getvalue()})
    monkeypatch.setattr(urllib.request, "urlopen", fake)
    ds = ED.CIFAR100(str(tmp_path), download=True)
    numpy.testing.assert_array_equal(ds.data.reshape(len(ds), -1), rows.reshape(-1, 3, 1024).transpose(0, 2, 1)
                                     .reshape(len(ds), -1))
    assert fake.requested == ["https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"]
    ED.CIFAR100(str(tmp_path), download=True)
    assert len(fake.requested) == 1

    monkeypatch.setattr(ED.CIFAR10, "tgz_md5", "0" * 32)
    monkeypatch.setattr(urllib.request, "urlopen", FakeURLs({ED.CIFAR10.url: archive.getvalue()}))
    with pytest.raises(RuntimeError, match="^File not found or corrupted.$"):
        ED.CIFAR10(str(tmp_path / "other"), download=True)


def make_image_tree(root):
    """root/cat (2 images, one nested), root/dog (1 image and a text file), root/empty (nothing)."""
    rng = numpy.random.default_rng(5)
    arrays = {}
    for rel in ("cat/b.png", "cat/deep/a.PNG", "dog/x.bmp"):
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        arrays[rel] = rng.integers(0, 256, (4, 5, 3), dtype=numpy.uint8)
        Image.fromarray(arrays[rel]).save(path)
    write(os.path.join(root, "dog", "notes.txt"), b"not an image")
    os.makedirs(os.path.join(root, "empty"))
    return arrays


def test_image_folder_matches_torchvision(tmp_path):
    tv = tv_oracle.load()
    arrays = make_image_tree(str(tmp_path))
    ours = ED.ImageFolder(str(tmp_path), allow_empty=True)
    theirs = tv.datasets.ImageFolder(str(tmp_path), allow_empty=True)
    assert ours.classes == theirs.classes == ["cat", "dog", "empty"]
    assert ours.class_to_idx == theirs.class_to_idx
    assert ours.samples == theirs.samples == ours.imgs
    assert ours.targets == theirs.targets == [0, 0, 1]
    for index, (path, _) in enumerate(ours.samples):
        img, target = ours[index]
        assert img.mode == "RGB" and target == ours.targets[index]
        numpy.testing.assert_array_equal(numpy.asarray(img), arrays[os.path.relpath(path, tmp_path)])
    assert repr(ours) == repr(theirs)
    with pytest.raises(FileNotFoundError) as ours_error:
        ED.ImageFolder(str(tmp_path))
    with pytest.raises(FileNotFoundError) as theirs_error:
        tv.datasets.ImageFolder(str(tmp_path))
    assert str(ours_error.value) == str(theirs_error.value)


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def test_dataset_folder(tmp_path):
    make_image_tree(str(tmp_path))
    texts = ED.DatasetFolder(str(tmp_path), loader=read_bytes, extensions=(".txt",),
                             allow_empty=True, transform=len, target_transform=str)
    assert texts.samples == [(os.path.join(str(tmp_path), "dog", "notes.txt"), 1)]
    assert texts[0] == (len(b"not an image"), "1")
    only_cat = ED.DatasetFolder(str(tmp_path), loader=str, is_valid_file=lambda p: "cat" in p, allow_empty=True)
    assert only_cat.targets == [0, 0] and only_cat.extensions is None

    class TwoClasses(ED.DatasetFolder):
        def find_classes(self, directory):
            return ["dog", "cat"], {"dog": 0, "cat": 1}

    custom = TwoClasses(str(tmp_path), loader=str, extensions=ED.folder.IMG_EXTENSIONS)
    assert custom.targets == [1, 1, 0] and custom.classes == ["dog", "cat"]
    with pytest.raises(ValueError, match="Both extensions and is_valid_file cannot be None or not None"):
        ED.DatasetFolder(str(tmp_path), loader=str)
    with pytest.raises(ValueError, match="class_to_idx parameter cannot be None"):
        ED.DatasetFolder.make_dataset(str(tmp_path), None, extensions=".png")
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder"):
        ED.ImageFolder(str(tmp_path / "cat" / "deep"))


def test_fake_data():
    ds = ED.FakeData(size=5, image_size=(3, 6, 7), num_classes=4, transform=ET.ToTensor(), random_offset=2)
    ember.manual_seed(123)
    first = ds[3]
    after = ember.rand(3)
    ember.manual_seed(123)
    numpy.testing.assert_array_equal(ember.rand(3).numpy(), after.numpy())  # the global generator is untouched
    again = ds[3]
    numpy.testing.assert_array_equal(first[0].numpy(), again[0].numpy())
    assert first[0].shape == (3, 6, 7) and first[1] == again[1] and 0 <= first[1] < 4 and type(first[1]) is int
    assert not numpy.array_equal(ds[0][0].numpy(), first[0].numpy())
    assert len(ds) == 5 and ED.FakeData(size=2, image_size=(1, 3, 3))[0][0].mode == "L"
    with pytest.raises(IndexError, match="FakeData index out of range"):
        ds[5]


def test_vision_dataset_transforms_argument():
    with pytest.raises(ValueError, match="Only transforms or transform/target_transform"):
        ED.VisionDataset("root", transforms=lambda x, y: (x, y), transform=len)
    assert ED.VisionDataset("~/data").root == os.path.expanduser("~/data")


def test_mnist_through_dataloader(tmp_path):
    import ember.utils.data as data
    written = write_mnist(tmp_path / "MNIST" / "raw", sizes=(6, 2))
    ds = ED.MNIST(str(tmp_path), transform=ET.Compose([ET.ToTensor(), ET.Normalize((0.5,), (0.5,))]))
    images, labels = next(iter(data.DataLoader(ds, batch_size=4)))
    assert images.shape == (4, 1, 28, 28) and images.dtype == ember.float32 and labels.dtype == ember.int64
    numpy.testing.assert_allclose(images.numpy()[:, 0], written["train"][0][:4] / 127.5 - 1, atol=1e-6)
    numpy.testing.assert_array_equal(labels.numpy(), written["train"][1][:4])


@pytest.mark.skipif(not os.path.isdir(FASHION_MNIST), reason="Debian's fashion-mnist package is not installed")
def test_real_fashion_mnist(tmp_path):
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for name in os.listdir(FASHION_MNIST):
        os.symlink(os.path.join(FASHION_MNIST, name), raw / name)
    test = ED.FashionMNIST(str(tmp_path), train=False, download=True)  # present files: nothing to download
    assert test.data.shape == (10000, 28, 28)
    numpy.testing.assert_array_equal(numpy.bincount(test.targets.numpy()), [1000] * 10)
    img, target = test[0]
    assert img.mode == "L" and test.classes[target] == "Ankle boot"
    train = ED.FashionMNIST(str(tmp_path))
    assert len(train) == 60000 and 60 < float(train.data[:1000].float().mean()) < 90
