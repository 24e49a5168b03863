"""The evaluation presets attached to pretrained weights (``weights.transforms()``), as torchvision's."""
import ember
from ember import Tensor, nn

from . import functional as F
from .functional import InterpolationMode

__all__ = ["ObjectDetection", "ImageClassification", "VideoClassification", "SemanticSegmentation", "OpticalFlow"]


class ObjectDetection(nn.Module):
    """Images as float tensors in [0, 1] (PIL images or tensors of any integer or float dtype)."""

    def forward(self, img):
        """The image as a float tensor."""
        if not isinstance(img, Tensor):
            img = F.pil_to_tensor(img)
        return F.convert_image_dtype(img, ember.float)

    def __repr__(self):
        return self.__class__.__name__ + "()"

    def describe(self):
        """What the preset does, in words (torchvision's documentation string)."""
        return ("Accepts ``PIL.Image``, batched ``(B, C, H, W)`` and single ``(C, H, W)`` image ``torch.Tensor`` "
                "objects. The images are rescaled to ``[0.0, 1.0]``.")


class ImageClassification(nn.Module):
    """Resize to ``resize_size``, center-crop ``crop_size``, scale to [0, 1] floats and normalize with ``mean`` and
    ``std``; takes PIL images and (batched) image tensors."""

    def __init__(self, *, crop_size, resize_size=256, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225),
                 interpolation=InterpolationMode.BILINEAR, antialias=True):
        super().__init__()
        self.crop_size = [crop_size]
        self.resize_size = [resize_size]
        self.mean = list(mean)
        self.std = list(std)
        self.interpolation = interpolation
        self.antialias = antialias

    def forward(self, img):
        """The preprocessed image as a float tensor."""
        img = F.resize(img, self.resize_size, interpolation=self.interpolation, antialias=self.antialias)
        img = F.center_crop(img, self.crop_size)
        if not isinstance(img, Tensor):
            img = F.pil_to_tensor(img)
        img = F.convert_image_dtype(img, ember.float)
        return F.normalize(img, mean=self.mean, std=self.std)

    def __repr__(self):
        return (f"{self.__class__.__name__}(\n    crop_size={self.crop_size}\n    resize_size={self.resize_size}\n"
                f"    mean={self.mean}\n    std={self.std}\n    interpolation={self.interpolation}\n)")

    def describe(self):
        """What the preset does, in words (torchvision's documentation string)."""
        return ("Accepts ``PIL.Image``, batched ``(B, C, H, W)`` and single ``(C, H, W)`` image ``torch.Tensor`` "
                f"objects. The images are resized to ``resize_size={self.resize_size}`` using "
                f"``interpolation={self.interpolation}``, followed by a central crop of ``crop_size={self.crop_size}"
                "``. Finally the values are first rescaled to ``[0.0, 1.0]`` and then normalized using "
                f"``mean={self.mean}`` and ``std={self.std}``.")


class VideoClassification(nn.Module):
    """Frames ``(..., T, C, H, W)`` resized to ``resize_size`` (without antialiasing, as the video weights were
    trained), center-cropped to ``crop_size``, scaled to [0, 1] floats, normalized and permuted to ``(..., C, T, H,
    W)``."""

    def __init__(self, *, crop_size, resize_size, mean=(0.43216, 0.394666, 0.37645), std=(0.22803, 0.22145, 0.216989),
                 interpolation=InterpolationMode.BILINEAR):
        super().__init__()
        self.crop_size = list(crop_size)
        self.resize_size = list(resize_size)
        self.mean = list(mean)
        self.std = list(std)
        self.interpolation = interpolation

    def forward(self, vid):
        """The preprocessed clip(s) as a float tensor, channels before time."""
        single = vid.ndim < 5
        if single:
            vid = vid.unsqueeze(dim=0)
        n, t, c = vid.shape[:3]
        vid = vid.view(-1, c, *vid.shape[3:])
        vid = F.resize(vid, self.resize_size, interpolation=self.interpolation, antialias=False)
        vid = F.center_crop(vid, self.crop_size)
        vid = F.normalize(F.convert_image_dtype(vid, ember.float), mean=self.mean, std=self.std)
        vid = vid.view(n, t, c, *self.crop_size).permute(0, 2, 1, 3, 4)
        return vid.squeeze(dim=0) if single else vid

    def __repr__(self):
        return (f"{self.__class__.__name__}(\n    crop_size={self.crop_size}\n    resize_size={self.resize_size}\n"
                f"    mean={self.mean}\n    std={self.std}\n    interpolation={self.interpolation}\n)")

    def describe(self):
        """What the preset does, in words (torchvision's documentation string)."""
        return ("Accepts batched ``(B, T, C, H, W)`` and single ``(T, C, H, W)`` video frame ``torch.Tensor`` objects. "
                f"The frames are resized to ``resize_size={self.resize_size}`` using ``interpolation="
                f"{self.interpolation}``, followed by a central crop of ``crop_size={self.crop_size}``. Finally the "
                "values are first rescaled to ``[0.0, 1.0]`` and then normalized using "
                f"``mean={self.mean}`` and ``std={self.std}``. Finally the output dimensions are permuted to "
                "``(..., C, T, H, W)`` tensors.")


class SemanticSegmentation(nn.Module):
    """Resize to ``resize_size`` (None: keep the size), scale to [0, 1] floats and normalize with ``mean`` and ``std``;
    takes PIL images and (batched) image tensors."""

    def __init__(self, *, resize_size, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225),
                 interpolation=InterpolationMode.BILINEAR, antialias=True):
        super().__init__()
        self.resize_size = [resize_size] if resize_size is not None else None
        self.mean = list(mean)
        self.std = list(std)
        self.interpolation = interpolation
        self.antialias = antialias

    def forward(self, img):
        """The preprocessed image as a float tensor."""
        if isinstance(self.resize_size, list):
            img = F.resize(img, self.resize_size, interpolation=self.interpolation, antialias=self.antialias)
        if not isinstance(img, Tensor):
            img = F.pil_to_tensor(img)
        img = F.convert_image_dtype(img, ember.float)
        return F.normalize(img, mean=self.mean, std=self.std)

    def __repr__(self):
        return (f"{self.__class__.__name__}(\n    resize_size={self.resize_size}\n    mean={self.mean}\n"
                f"    std={self.std}\n    interpolation={self.interpolation}\n)")

    def describe(self):
        """What the preset does, in words (torchvision's documentation string)."""
        return ("Accepts ``PIL.Image``, batched ``(B, C, H, W)`` and single ``(C, H, W)`` image ``torch.Tensor`` "
                f"objects. The images are resized to ``resize_size={self.resize_size}`` using "
                f"``interpolation={self.interpolation}``. Finally the values are first rescaled to ``[0.0, 1.0]`` and "
                f"then normalized using ``mean={self.mean}`` and ``std={self.std}``.")


class OpticalFlow(nn.Module):
    """An image pair as contiguous float tensors in [-1, 1]."""

    def forward(self, img1, img2):
        """Both images scaled to [-1, 1]."""
        images = []
        for img in (img1, img2):
            if not isinstance(img, Tensor):
                img = F.pil_to_tensor(img)
            img = F.convert_image_dtype(img, ember.float)
            images.append(F.normalize(img, mean=[0.5, 0.5, 0.5], std=[0.5, 0.5, 0.5]).contiguous())
        return tuple(images)

    def __repr__(self):
        return self.__class__.__name__ + "()"

    def describe(self):
        """What the preset does, in words (torchvision's documentation string)."""
        return ("Accepts ``PIL.Image``, batched ``(B, C, H, W)`` and single ``(C, H, W)`` image ``torch.Tensor`` "
                "objects. The images are rescaled to ``[-1.0, 1.0]``.")
