"""Where the examples find Fashion-MNIST: a torchvision-style root holding the four IDX files, taken from Debian's
package (installed with apt-get when it is missing and we may) or else downloaded from the canonical mirror."""
import os
import shutil
import subprocess
import sys

DEBIAN_COPY = "/usr/share/datasets/fashion-mnist"   # apt-get install dataset-fashion-mnist
DEBIAN_PACKAGE = "dataset-fashion-mnist"
FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
         "t10k-labels-idx1-ubyte.gz")


def _have(folder):
    return all(os.path.exists(os.path.join(folder, name)) for name in FILES)


def _apt_install():
    """Installs Debian's package where apt-get exists and we are root; says what it does. True on success."""
    if shutil.which("apt-get") is None or not hasattr(os, "geteuid") or os.geteuid() != 0:
        return False
    print(f"Fashion-MNIST: installing Debian's {DEBIAN_PACKAGE} with apt-get ...", file=sys.stderr, flush=True)
    install = ["apt-get", "install", "-y", "-q", DEBIAN_PACKAGE]
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if subprocess.run(install, **quiet).returncode != 0:   # the package lists may never have been fetched
        subprocess.run(["apt-get", "update", "-q"], **quiet)
        subprocess.run(install, **quiet)
    return _have(DEBIAN_COPY)


def data_root(root="data"):
    """Returns ``(root, download)`` for ``datasets.FashionMNIST`` with the files in place: links Debian's copy into
    root/FashionMNIST/raw (installing it first where possible), or else downloads them; exits with what to do when
    neither works."""
    raw = os.path.join(root, "FashionMNIST", "raw")
    if _have(raw):
        return root, False
    if _have(DEBIAN_COPY) or _apt_install():
        os.makedirs(raw, exist_ok=True)
        for name in FILES:
            target = os.path.join(raw, name)
            if not os.path.lexists(target):
                os.symlink(os.path.join(DEBIAN_COPY, name), target)
        return root, False
    from ember.vision import datasets
    try:
        datasets.FashionMNIST(root, train=True, download=True)
    except RuntimeError as error:
        sys.exit(f"Could not get Fashion-MNIST.\n{error}\nInstall Debian's copy (apt-get install {DEBIAN_PACKAGE}) "
                 f"or put {', '.join(FILES)} into {os.path.abspath(raw)}.")
    return root, False


CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
