"""Oxford 102 Flowers: 102 flower categories, labels and splits in MATLAB files read with scipy.io (an optional
dependency)."""
from pathlib import Path

from .folder import default_loader
from .utils import check_integrity, download_and_extract_archive, download_url, verify_str_arg
from .vision import _ImageFiles

__all__ = ["Flowers102"]


class Flowers102(_ImageFiles):
    """Oxford 102 Flowers' ``split`` (train, val or test) under ``root/flowers-102`` (``jpg``, ``imagelabels.mat``,
    ``setid.mat``): samples are (image as ``loader`` reads it, class index 0-101 into ``classes``)."""

    _download_url_prefix = "https://www.robots.ox.ac.uk/~vgg/data/flowers/102/"
    _file_dict = {  # filename, md5
        "image": ("102flowers.tgz", "52808999861908f626f3c1f4e79d11fa"),
        "label": ("imagelabels.mat", "e0620be6f572b9609742df49c70aed4d"),
        "setid": ("setid.mat", "a5357ecc9cb78c4bef273ce3793fc85c"),
    }
    _splits_map = {"train": "trnid", "val": "valid", "test": "tstid"}
    classes = [
        "pink primrose", "hard-leaved pocket orchid", "canterbury bells", "sweet pea", "english marigold", "tiger lily",
        "moon orchid", "bird of paradise", "monkshood", "globe thistle", "snapdragon", "colt's foot", "king protea",
        "spear thistle", "yellow iris", "globe-flower", "purple coneflower", "peruvian lily", "balloon flower",
        "giant white arum lily", "fire lily", "pincushion flower", "fritillary", "red ginger", "grape hyacinth",
        "corn poppy", "prince of wales feathers", "stemless gentian", "artichoke", "sweet william", "carnation",
        "garden phlox", "love in the mist", "mexican aster", "alpine sea holly", "ruby-lipped cattleya", "cape flower",
        "great masterwort", "siam tulip", "lenten rose", "barbeton daisy", "daffodil", "sword lily", "poinsettia",
        "bolero deep blue", "wallflower", "marigold", "buttercup", "oxeye daisy", "common dandelion", "petunia",
        "wild pansy", "primula", "sunflower", "pelargonium", "bishop of llandaff", "gaura", "geranium", "orange dahlia",
        "pink-yellow dahlia?", "cautleya spicata", "japanese anemone", "black-eyed susan", "silverbush",
        "californian poppy", "osteospermum", "spring crocus", "bearded iris", "windflower", "tree poppy", "gazania",
        "azalea", "water lily", "rose", "thorn apple", "morning glory", "passion flower", "lotus", "toad lily",
        "anthurium", "frangipani", "clematis", "hibiscus", "columbine", "desert-rose", "tree mallow", "magnolia",
        "cyclamen", "watercress", "canna lily", "hippeastrum", "bee balm", "ball moss", "foxglove", "bougainvillea",
        "camellia", "mallow", "mexican petunia", "bromelia", "blanket flower", "trumpet creeper", "blackberry lily",
    ]

    def __init__(self, root, split="train", transform=None, target_transform=None, download=False,
                 loader=default_loader):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self._split = verify_str_arg(split, "split", ("train", "val", "test"))
        self._base_folder = Path(self.root) / "flowers-102"
        self._images_folder = self._base_folder / "jpg"
        if download:
            self.download()
        if not self._check_integrity():
            raise RuntimeError("Dataset not found or corrupted. You can use download=True to download it")
        from scipy.io import loadmat

        set_ids = loadmat(self._base_folder / self._file_dict["setid"][0], squeeze_me=True)
        image_ids = set_ids[self._splits_map[self._split]].tolist()
        labels = loadmat(self._base_folder / self._file_dict["label"][0], squeeze_me=True)
        image_id_to_label = dict(enumerate((labels["labels"] - 1).tolist(), 1))   # image ids count from 1
        self._labels = [image_id_to_label[image_id] for image_id in image_ids]
        self._image_files = [self._images_folder / f"image_{image_id:05d}.jpg" for image_id in image_ids]
        self.loader = loader

    def extra_repr(self):
        return f"split={self._split}"

    def _check_integrity(self):
        if not self._images_folder.is_dir():
            return False
        return all(check_integrity(str(self._base_folder / filename), md5)
                   for filename, md5 in (self._file_dict["label"], self._file_dict["setid"]))

    def download(self):
        """Downloads the images archive and the two MATLAB files into ``root/flowers-102`` unless they are there."""
        if self._check_integrity():
            return
        download_and_extract_archive(f"{self._download_url_prefix}{self._file_dict['image'][0]}",
                                     str(self._base_folder), md5=self._file_dict["image"][1])
        for key in ["label", "setid"]:
            filename, md5 = self._file_dict[key]
            download_url(self._download_url_prefix + filename, str(self._base_folder), md5=md5)
