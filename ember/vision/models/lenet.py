"""LeNet-5 (LeCun et al., 1998) for 1x28x28 images such as MNIST. torchvision has no LeNet; the layout is ours:

- ``features``:   0 Conv2d(1, 6, 5, padding=2), 1 ReLU, 2 MaxPool2d(2), 3 Conv2d(6, 16, 5), 4 ReLU, 5 MaxPool2d(2)
- ``classifier``: 0 Linear(400, 120), 1 ReLU, 2 Linear(120, 84), 3 ReLU, 4 Linear(84, num_classes)

ReLU and max pooling replace the paper's scaled tanh and trainable subsampling, as in most modern LeNets; the
padding on the first convolution turns a 28x28 input into the paper's 32x32 field. Layers keep PyTorch's default
initialisation. 61,706 parameters with ``num_classes=10``."""
from ... import flatten, nn
from ._api import register_model
from ._utils import handle_legacy_interface

__all__ = ["LeNet", "lenet5"]


class LeNet(nn.Module):
    """LeNet-5: two conv-ReLU-maxpool stages (``features``) and three linear layers (``classifier``)."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(kernel_size=2),
            nn.Conv2d(6, 16, kernel_size=5), nn.ReLU(inplace=True), nn.MaxPool2d(kernel_size=2),
        )
        self.classifier = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120), nn.ReLU(inplace=True),
            nn.Linear(120, 84), nn.ReLU(inplace=True),
            nn.Linear(84, num_classes),
        )

    def forward(self, x):
        return self.classifier(flatten(self.features(x), 1))


@register_model()
@handle_legacy_interface(weights=("pretrained", None))
def lenet5(*, weights=None, progress=True, **kwargs):
    """LeNet-5 for 1x28x28 inputs; ``kwargs`` go to :class:`LeNet`. There are no pretrained weights: ``weights``
    must be None."""
    if weights is not None:
        raise ValueError(f"No weights available for model lenet5 (got weights={weights!r})")
    return LeNet(**kwargs)
