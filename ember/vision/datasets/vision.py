"""VisionDataset: the base of the image datasets (root, transform, target_transform, repr)."""
import os

from ember.utils.data import Dataset

from .utils import check_integrity, download_and_extract_archive

__all__ = ["VisionDataset", "StandardTransform"]


class StandardTransform:
    """Applies ``transform`` to the input and ``target_transform`` to the target of a sample."""

    def __init__(self, transform=None, target_transform=None):
        self.transform = transform
        self.target_transform = target_transform

    def __call__(self, input, target):
        if self.transform is not None:
            input = self.transform(input)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return input, target

    def __repr__(self):
        body = [self.__class__.__name__]
        if self.transform is not None:
            body += _indented_repr(self.transform, "Transform: ")
        if self.target_transform is not None:
            body += _indented_repr(self.target_transform, "Target transform: ")
        return "\n".join(body)


def _indented_repr(transform, head):
    lines = repr(transform).splitlines()
    return [f"{head}{lines[0]}"] + [" " * len(head) + line for line in lines[1:]]


class VisionDataset(Dataset):
    """Base class of the image datasets; subclasses define ``__getitem__`` and ``__len__``.

    ``transforms`` (applied to input and target together) excludes ``transform``/``target_transform``.
    """

    _repr_indent = 4

    def __init__(self, root=None, transforms=None, transform=None, target_transform=None):
        if isinstance(root, str):
            root = os.path.expanduser(root)
        self.root = root
        has_separate_transform = transform is not None or target_transform is not None
        if transforms is not None and has_separate_transform:
            raise ValueError("Only transforms or transform/target_transform can be passed as argument")
        self.transform = transform
        self.target_transform = target_transform
        if has_separate_transform:
            transforms = StandardTransform(transform, target_transform)
        self.transforms = transforms

    def __repr__(self):
        body = [f"Number of datapoints: {self.__len__()}"]
        if self.root is not None:
            body.append(f"Root location: {self.root}")
        body += self.extra_repr().splitlines()
        if self.transforms is not None:
            body += [repr(self.transforms)]
        return "\n".join(["Dataset " + self.__class__.__name__] + [" " * self._repr_indent + line for line in body])

    def extra_repr(self):
        """Extra lines for ``repr`` (the split, for instance)."""
        return ""


class _ImageArrays(VisionDataset):
    """Images held in one array ``self.data`` with their targets, as torchvision's MNIST, CIFAR, SVHN, STL10, USPS
    and SEMEION: sample ``index`` is ``(self._image(index), self._target(index))``, each transformed."""

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        img, target = self._image(index), self._target(index)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target


class _ArchivedImageArrays(_ImageArrays):
    """Image arrays from one archive (``url``, ``filename``, ``tgz_md5``) extracted under ``root/base_folder``, whose
    files ``train_list + test_list`` are checked by MD5, as torchvision's CIFAR and STL10."""

    def _check_integrity(self):
        return all(check_integrity(os.path.join(self.root, self.base_folder, name), md5)
                   for name, md5 in self.train_list + self.test_list)

    def download(self):
        """Downloads and extracts the archive into ``root`` unless its files are already there and intact."""
        if self._check_integrity():
            return
        download_and_extract_archive(self.url, self.root, filename=self.filename, md5=self.tgz_md5)


class _ImageFiles(VisionDataset):
    """A dataset of image files and their class labels (``self._image_files``, ``self._labels``, read by
    ``self.loader``), as several of torchvision's datasets are: the sample is ``(image, label)``, transformed."""

    def __len__(self):
        return len(self._image_files)

    def __getitem__(self, idx):
        image_file, label = self._image_files[idx], self._labels[idx]
        image = self.loader(image_file)
        if self.transform:
            image = self.transform(image)
        if self.target_transform:
            label = self.target_transform(label)
        return image, label
