"""ImageNet 2012 (ILSVRC2012) from its three archives, parsed once into ``root/{train,val}/<wnid>/`` folders and a
``meta.bin`` written with ``ember.save`` (PyTorch's format: torchvision and ember read each other's)."""
import os
import shutil
import tempfile

import ember

from .folder import ImageFolder
from .utils import check_integrity, extract_archive, verify_str_arg

__all__ = ["ImageNet", "load_meta_file", "parse_devkit_archive", "parse_train_archive", "parse_val_archive"]

ARCHIVE_META = {
    "train": ("ILSVRC2012_img_train.tar", "1d675b47d978889d74fa0da5fadfb00e"),
    "val": ("ILSVRC2012_img_val.tar", "29b22e2961454d5413ddabcf34fc5622"),
    "devkit": ("ILSVRC2012_devkit_t12.tar.gz", "fa75699e90414af021442c21a62c3abf"),
}
META_FILE = "meta.bin"


class ImageNet(ImageFolder):
    """ImageNet's ``split`` ("train" or "val") as an ImageFolder of wnid folders; ``classes`` are each wnid's tuple
    of names, ``class_to_idx`` maps every name to its index. The archives are not downloadable (place them in
    ``root``); the first use extracts them."""

    def __init__(self, root, split="train", **kwargs):
        root = self.root = os.path.expanduser(root)
        self.split = verify_str_arg(split, "split", ("train", "val"))
        self.parse_archives()
        wnid_to_classes = load_meta_file(self.root)[0]
        super().__init__(self.split_folder, **kwargs)
        self.root = root
        self.wnids, self.wnid_to_idx = self.classes, self.class_to_idx
        self.classes = [wnid_to_classes[wnid] for wnid in self.wnids]
        self.class_to_idx = {name: idx for idx, names in enumerate(self.classes) for name in names}

    def parse_archives(self):
        """Writes ``meta.bin`` from the devkit and extracts this split's archive, unless done before."""
        if not check_integrity(os.path.join(self.root, META_FILE)):
            parse_devkit_archive(self.root)
        if not os.path.isdir(self.split_folder):
            (parse_train_archive if self.split == "train" else parse_val_archive)(self.root)

    @property
    def split_folder(self):
        return os.path.join(self.root, self.split)

    def extra_repr(self):
        return f"Split: {self.split}"


def load_meta_file(root, file=None):
    """(wnid -> class names, the validation images' wnids in file order) from ``root/meta.bin``."""
    path = os.path.join(root, file or META_FILE)
    if not check_integrity(path):
        raise RuntimeError(f"The meta file {path} is not present in the root directory or is corrupted. This file is "
                           "automatically created by the ImageNet dataset.")
    return ember.load(path, weights_only=True)


def _verify_archive(root, file, md5):
    if not check_integrity(os.path.join(root, file), md5):
        raise RuntimeError(f"The archive {file} is not present in the root directory or is corrupted. You need to "
                           f"download it externally and place it in {root}.")


def parse_devkit_archive(root, file=None):
    """Reads the devkit's ``meta.mat`` (leaf synsets: ILSVRC id, wnid, names) and validation ground truth into
    ``root/meta.bin``. Needs scipy."""
    try:
        from scipy import io as sio
    except ImportError as error:
        raise ImportError("ImageNet reads the devkit's MATLAB file with scipy: pip install scipy") from error
    file = file or ARCHIVE_META["devkit"][0]
    _verify_archive(root, file, ARCHIVE_META["devkit"][1])
    tmp_dir = tempfile.mkdtemp()
    try:
        extract_archive(os.path.join(root, file), tmp_dir)
        data = os.path.join(tmp_dir, "ILSVRC2012_devkit_t12", "data")
        synsets = sio.loadmat(os.path.join(data, "meta.mat"), squeeze_me=True)["synsets"]
        leaves = [s for s in synsets if s["num_children"] == 0]
        idx_to_wnid = {s["ILSVRC2012_ID"]: s["WNID"] for s in leaves}
        wnid_to_classes = {s["WNID"]: tuple(s["words"].split(", ")) for s in leaves}
        with open(os.path.join(data, "ILSVRC2012_validation_ground_truth.txt")) as f:
            val_wnids = [idx_to_wnid[int(line)] for line in f.readlines()]
        ember.save((wnid_to_classes, val_wnids), os.path.join(root, META_FILE))
    finally:
        shutil.rmtree(tmp_dir)


def parse_train_archive(root, file=None, folder="train"):
    """Extracts the training archive, then each class's inner tar into ``root/folder/<wnid>/``."""
    file = file or ARCHIVE_META["train"][0]
    _verify_archive(root, file, ARCHIVE_META["train"][1])
    train_root = os.path.join(root, folder)
    extract_archive(os.path.join(root, file), train_root)
    for archive in [os.path.join(train_root, name) for name in os.listdir(train_root)]:
        extract_archive(archive, os.path.splitext(archive)[0], remove_finished=True)


def parse_val_archive(root, file=None, wnids=None, folder="val"):
    """Extracts the validation archive and moves its images (in sorted order) into their ``<wnid>/`` folders."""
    file = file or ARCHIVE_META["val"][0]
    wnids = load_meta_file(root)[1] if wnids is None else wnids
    _verify_archive(root, file, ARCHIVE_META["val"][1])
    val_root = os.path.join(root, folder)
    extract_archive(os.path.join(root, file), val_root)
    images = sorted(os.path.join(val_root, image) for image in os.listdir(val_root))
    for wnid in set(wnids):
        os.mkdir(os.path.join(val_root, wnid))
    for wnid, image in zip(wnids, images):
        shutil.move(image, os.path.join(val_root, wnid, os.path.basename(image)))
