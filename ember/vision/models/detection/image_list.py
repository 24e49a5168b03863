"""ImageList: a batch of differently sized images padded into one tensor, with each image's own size."""


class ImageList:
    """``tensors`` (the padded batch) and ``image_sizes`` (each image's ``(height, width)`` before padding)."""

    def __init__(self, tensors, image_sizes):
        self.tensors = tensors
        self.image_sizes = image_sizes

    def to(self, device):
        """The same list with its tensor moved to ``device``."""
        return ImageList(self.tensors.to(device), self.image_sizes)
