"""Where the examples find Fashion-MNIST: a torchvision-style root, linked to Debian's copy when installed."""
import os

DEBIAN_COPY = "/usr/share/datasets/fashion-mnist"   # apt-get install dataset-fashion-mnist


def data_root(root="data"):
    """Returns ``(root, download)`` for ``datasets.FashionMNIST``; links Debian's files into root/FashionMNIST/raw."""
    raw = os.path.join(root, "FashionMNIST", "raw")
    if not os.path.isdir(DEBIAN_COPY):
        return root, True                            # no local copy: fetch from the canonical mirrors
    os.makedirs(raw, exist_ok=True)
    for name in os.listdir(DEBIAN_COPY):
        target = os.path.join(raw, name)
        if name.endswith(".gz") and not os.path.lexists(target):
            os.symlink(os.path.join(DEBIAN_COPY, name), target)
    return root, False


CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
