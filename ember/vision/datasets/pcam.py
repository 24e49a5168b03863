"""PatchCamelyon (PCAM): 96x96 histopathology patches with metastasis labels, in HDF5 files read with h5py (an
optional dependency)."""
import pathlib

from ..utils import _pil_image
from .utils import download_file_from_google_drive, extract_archive, verify_str_arg
from .vision import VisionDataset

__all__ = ["PCAM"]


class PCAM(VisionDataset):
    """PCAM's ``split`` (train, test or val) from ``root/pcam/camelyonpatch_level_2_split_<split>_{x,y}.h5``:
    samples are (RGB PIL image, 0 or 1). Each item opens the files again, as torchvision does."""

    _FILES = {
        "train": {
            "images": ("camelyonpatch_level_2_split_train_x.h5", "1Ka0XfEMiwgCYPdTI-vv6eUElOBnKFKQ2",
                       "1571f514728f59376b705fc836ff4b63"),
            "targets": ("camelyonpatch_level_2_split_train_y.h5", "1269yhu3pZDP8UYFQs-NYs3FPwuK-nGSG",
                        "35c2d7259d906cfc8143347bb8e05be7"),
        },
        "test": {
            "images": ("camelyonpatch_level_2_split_test_x.h5", "1qV65ZqZvWzuIVthK8eVDhIwrbnsJdbg_",
                       "d8c2d60d490dbd479f8199bdfa0cf6ec"),
            "targets": ("camelyonpatch_level_2_split_test_y.h5", "17BHrSrwWKjYsOgTMmoqrIjDy6Fa2o_gP",
                        "60a7035772fbdb7f34eb86d4420cf66a"),
        },
        "val": {
            "images": ("camelyonpatch_level_2_split_valid_x.h5", "1hgshYGWK8V-eGRy8LToWJJgDU_rXWVJ3",
                       "d5b63470df7cfa627aeec8b9dc0c066e"),
            "targets": ("camelyonpatch_level_2_split_valid_y.h5", "1bH8ZRbhSVAhScTS0p9-ZzGnX91cHT3uO",
                        "2b85f58b927af9964a4c15b8f7e8f179"),
        },
    }

    def __init__(self, root, split="train", transform=None, target_transform=None, download=False):
        try:
            import h5py
        except ImportError:
            raise RuntimeError(
                "h5py is not found. This dataset needs to have h5py installed: please run pip install h5py")
        self.h5py = h5py
        self._split = verify_str_arg(split, "split", ("train", "test", "val"))
        super().__init__(root, transform=transform, target_transform=target_transform)
        self._base_folder = pathlib.Path(self.root) / "pcam"
        if download:
            self._download()
        if not self._check_exists():
            raise RuntimeError("Dataset not found. You can use download=True to download it")

    def __len__(self):
        with self.h5py.File(self._base_folder / self._FILES[self._split]["images"][0]) as images_data:
            return images_data["x"].shape[0]

    def __getitem__(self, idx):
        with self.h5py.File(self._base_folder / self._FILES[self._split]["images"][0]) as images_data:
            image = _pil_image().fromarray(images_data["x"][idx]).convert("RGB")
        with self.h5py.File(self._base_folder / self._FILES[self._split]["targets"][0]) as targets_data:
            target = int(targets_data["y"][idx, 0, 0, 0])   # stored (N, 1, 1, 1)
        if self.transform:
            image = self.transform(image)
        if self.target_transform:
            target = self.target_transform(target)
        return image, target

    def _check_exists(self):
        return all(self._base_folder.joinpath(self._FILES[self._split][key][0]).exists()
                   for key in ("images", "targets"))

    def _download(self):
        if self._check_exists():
            return
        for file_name, file_id, md5 in self._FILES[self._split].values():
            download_file_from_google_drive(file_id, str(self._base_folder), filename=file_name + ".gz", md5=md5)
            extract_archive(str(self._base_folder / (file_name + ".gz")))
