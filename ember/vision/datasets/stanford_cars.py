"""Stanford Cars: 196 car models, annotations in MATLAB files read with scipy.io (an optional dependency)."""
import pathlib

from .folder import default_loader
from .utils import verify_str_arg
from .vision import VisionDataset

__all__ = ["StanfordCars"]


class StanfordCars(VisionDataset):
    """Stanford Cars' ``split`` (train or test) under ``root/stanford_cars`` (``devkit``, ``cars_<split>``): samples
    are (image as ``loader`` reads it, class index into ``classes`` from ``devkit/cars_meta.mat``). The files can no
    longer be downloaded from their source."""

    def __init__(self, root, split="train", transform=None, target_transform=None, download=False,
                 loader=default_loader):
        try:
            import scipy.io as sio
        except ImportError:
            raise RuntimeError("Scipy is not found. This dataset needs to have scipy installed: pip install scipy")
        super().__init__(root, transform=transform, target_transform=target_transform)
        self._split = verify_str_arg(split, "split", ("train", "test"))
        self._base_folder = pathlib.Path(root) / "stanford_cars"
        devkit = self._base_folder / "devkit"
        if self._split == "train":
            self._annotations_mat_path = devkit / "cars_train_annos.mat"
            self._images_base_path = self._base_folder / "cars_train"
        else:
            self._annotations_mat_path = self._base_folder / "cars_test_annos_withlabels.mat"
            self._images_base_path = self._base_folder / "cars_test"
        if download:
            self.download()
        if not self._check_exists():
            raise RuntimeError("Dataset not found.")
        annotations = sio.loadmat(self._annotations_mat_path, squeeze_me=True)["annotations"]
        # the files number classes from 1
        self._samples = [(str(self._images_base_path / a["fname"]), a["class"] - 1) for a in annotations]
        self.classes = sio.loadmat(str(devkit / "cars_meta.mat"), squeeze_me=True)["class_names"].tolist()
        self.class_to_idx = {cls: i for i, cls in enumerate(self.classes)}
        self.loader = loader

    def __len__(self):
        return len(self._samples)

    def __getitem__(self, idx):
        image_path, target = self._samples[idx]
        image = self.loader(image_path)
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def _check_exists(self):
        if not (self._base_folder / "devkit").is_dir():
            return False
        return self._annotations_mat_path.exists() and self._images_base_path.is_dir()

    def download(self):
        """Raises ValueError: the dataset's original URL is gone, as torchvision says."""
        raise ValueError("The original URL is broken so the StanfordCars dataset cannot be downloaded anymore.")
