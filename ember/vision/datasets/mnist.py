"""MNIST, FashionMNIST, KMNIST and EMNIST: IDX files under ``root/<ClassName>/raw``, as torchvision lays them out."""
import gzip
import os
import shutil
import string
from urllib.error import URLError

import numpy

import ember

from ..utils import _image_fromarray
from .utils import check_integrity, download_and_extract_archive, extract_archive, verify_str_arg
from .vision import _ImageArrays

__all__ = ["MNIST", "FashionMNIST", "KMNIST", "EMNIST", "read_image_file", "read_label_file"]

# IDX type codes (third byte of the magic number) to big-endian NumPy types.
_IDX_TYPES = {8: ">u1", 9: ">i1", 11: ">i2", 12: ">i4", 13: ">f4", 14: ">f8"}


def _read_bytes(path):
    """The bytes of ``path``, or of ``path + '.gz'`` decompressed when only the gzip file exists."""
    if not os.path.isfile(path) and os.path.isfile(path + ".gz"):
        with gzip.open(path + ".gz", "rb") as f:
            return f.read()
    with open(path, "rb") as f:
        return f.read()


def read_sn3_pascalvincent_array(path):
    """Parses an IDX ("SN3 Pascal Vincent") file into a NumPy array of native byte order."""
    data = _read_bytes(path)
    zero, type_code, ndim = int.from_bytes(data[0:2], "big"), data[2], data[3]
    if zero != 0 or type_code not in _IDX_TYPES or not 1 <= ndim <= 3:
        raise ValueError(f"{path} is not an IDX file (magic number {data[:4].hex()})")
    shape = tuple(int.from_bytes(data[4 * (i + 1):4 * (i + 2)], "big") for i in range(ndim))
    array = numpy.frombuffer(data, dtype=_IDX_TYPES[type_code], offset=4 * (ndim + 1))
    return array.astype(array.dtype.newbyteorder("="))[:int(numpy.prod(shape))].reshape(shape)


def read_label_file(path):
    """The labels of an IDX label file as an int64 tensor of shape (N,)."""
    x = read_sn3_pascalvincent_array(path)
    if x.dtype != numpy.uint8:
        raise TypeError(f"x should be of dtype ember.uint8 instead of {x.dtype}")
    if x.ndim != 1:
        raise ValueError(f"x should have 1 dimension instead of {x.ndim}")
    return ember.from_numpy(x.astype(numpy.int64))


def read_image_file(path):
    """The images of an IDX image file as a uint8 tensor of shape (N, H, W)."""
    x = read_sn3_pascalvincent_array(path)
    if x.dtype != numpy.uint8:
        raise TypeError(f"x should be of dtype ember.uint8 instead of {x.dtype}")
    if x.ndim != 3:
        raise ValueError(f"x should have 3 dimension instead of {x.ndim}")
    return ember.from_numpy(x)


def _raw_present(path):
    return check_integrity(path) or check_integrity(path + ".gz")


class MNIST(_ImageArrays):
    """The MNIST digits from ``root/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte`` (or ``.gz``).

    ``data`` is a uint8 tensor (N, 28, 28), ``targets`` an int64 tensor; samples are (PIL image of mode 'L', int).
    ``download=True`` fetches the files from the mirrors, checking their MD5, unless they are already present.
    """

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if download:
            self.download()
        if not self._check_exists():
            raise RuntimeError("Dataset not found. You can use download=True to download it")
        self.data, self.targets = self._load_data()

    @property
    def raw_folder(self):
        """The folder holding the IDX files: ``root/<ClassName>/raw``."""
        return os.path.join(self.root, self.__class__.__name__, "raw")

    @property
    def class_to_idx(self):
        """Class name to label index."""
        return {name: i for i, name in enumerate(self.classes)}

    def _split_files(self):
        prefix = "train" if self.train else "t10k"
        return (os.path.join(self.raw_folder, f"{prefix}-images-idx3-ubyte"),
                os.path.join(self.raw_folder, f"{prefix}-labels-idx1-ubyte"))

    def _load_data(self):
        images_file, labels_file = self._split_files()
        return read_image_file(images_file), read_label_file(labels_file)

    def _check_exists(self):
        return all(_raw_present(os.path.join(self.raw_folder, os.path.splitext(name)[0]))
                   for name, _ in self.resources)

    def download(self):
        """Downloads and decompresses the IDX files into ``raw_folder`` unless they are already there."""
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        for filename, md5 in self.resources:
            errors = []
            for mirror in self.mirrors:
                try:
                    download_and_extract_archive(f"{mirror}{filename}", download_root=self.raw_folder,
                                                 filename=filename, md5=md5)
                    break
                except (RuntimeError, URLError) as error:
                    errors.append(error)
            else:
                tried = "".join(f"Tried {mirror}, got:\n{error}\n" for mirror, error in zip(self.mirrors, errors))
                raise RuntimeError(f"Error downloading {filename}:\n{tried}")

    def _image(self, index):
        return _image_fromarray(self.data[index].numpy(), mode="L")

    def _target(self, index):
        return int(self.targets[index])

    def extra_repr(self):
        return f"Split: {'Train' if self.train is True else 'Test'}"


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST, laid out and read like :class:`MNIST` under ``root/FashionMNIST/raw``."""

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]


class KMNIST(MNIST):
    """Kuzushiji-MNIST, laid out and read like :class:`MNIST` under ``root/KMNIST/raw``."""

    mirrors = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
        ("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
        ("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
        ("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134"),
    ]
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]


class EMNIST(MNIST):
    """Extended MNIST: ``split`` is one of byclass, bymerge, balanced, letters, digits, mnist.

    Reads ``root/EMNIST/raw/emnist-<split>-{train,test}-{images-idx3,labels-idx1}-ubyte`` (or ``.gz``); downloading
    fetches NIST's ``gzip.zip`` and decompresses its ``gzip/*.gz`` members there.
    """

    url = "https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip"
    md5 = "58c8d27c78d21e728a6bc7b3cc06412e"
    splits = ("byclass", "bymerge", "balanced", "letters", "digits", "mnist")
    # Letters whose upper and lower case look alike are merged into one class.
    _merged_classes = {"c", "i", "j", "k", "l", "m", "o", "p", "s", "u", "v", "w", "x", "y", "z"}
    _all_classes = set(string.digits + string.ascii_letters)
    classes_split_dict = {
        "byclass": sorted(_all_classes),
        "bymerge": sorted(_all_classes - _merged_classes),
        "balanced": sorted(_all_classes - _merged_classes),
        "letters": ["N/A"] + list(string.ascii_lowercase),
        "digits": list(string.digits),
        "mnist": list(string.digits),
    }

    def __init__(self, root, split, **kwargs):
        self.split = verify_str_arg(split, "split", self.splits)
        super().__init__(root, **kwargs)
        self.classes = self.classes_split_dict[self.split]

    def _split_files(self):
        prefix = os.path.join(self.raw_folder, f"emnist-{self.split}-{'train' if self.train else 'test'}")
        return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"

    def _check_exists(self):
        return all(_raw_present(path) for path in self._split_files())

    def download(self):
        """Downloads ``gzip.zip`` and decompresses every split into ``raw_folder`` unless this split is there."""
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        download_and_extract_archive(self.url, download_root=self.raw_folder, md5=self.md5)
        gzip_folder = os.path.join(self.raw_folder, "gzip")
        for name in os.listdir(gzip_folder):
            if name.endswith(".gz"):
                extract_archive(os.path.join(gzip_folder, name), self.raw_folder)
        shutil.rmtree(gzip_folder)
