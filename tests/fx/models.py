"""The same small models written once for torch and once for ember (``build(lib)``), for tracing side by side."""
from typing import Optional, Tuple

import torch

import ember

from . import helpers


def leaf_fn(x, n):
    """Traced as one node: ``len`` of a Proxy's shape would fail inside a trace."""
    return x * len(x.shape) + n


torch.fx.wrap("leaf_fn")
ember.fx.wrap("leaf_fn")


def build(lib):
    """A namespace of model classes written on ``lib`` (``torch`` or ``ember``)."""
    nn, F = lib.nn, lib.nn.functional

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(8, 16), nn.Linear(16, 4)
            self.act = F.silu   # a function kept as an attribute

        def forward(self, x):
            return self.fc2(self.act(lib.relu(self.fc1(x)))).softmax(dim=-1)

    class CNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, padding=1)
            self.bn = nn.BatchNorm2d(4)
            self.head = nn.Sequential(nn.Flatten(), nn.Linear(4 * 4 * 4, 5))

        def forward(self, x):
            y = F.max_pool2d(F.relu(self.bn(self.conv(x))), 2)
            y = y + y.mean(dim=(2, 3), keepdim=True)
            return self.head(y), y.shape[0]

    class ControlFlow(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 4)

        def forward(self, x, flag=True, scale=None):
            if flag:
                x = self.lin(x)
            if scale is None:
                x = x * 2
            return lib.cat([x, -x], dim=1)

    class Constants(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(lib.ones(3))
            self.register_buffer("b", lib.arange(3.0))
            self.c = lib.full((3,), 0.5)

        def forward(self, x):
            y = (x + self.c) * self.w - self.b + lib.tensor([1.0, 2.0, 3.0])
            return y[:, 1:].sum(1), y.transpose(0, 1).reshape(-1)

    class TensorOperands(nn.Module):
        """Concrete tensors with a Proxy operand: torch records them as method calls of the tensor."""

        def __init__(self):
            super().__init__()
            self.c = lib.linspace(-1.0, 1.0, 3)

        def forward(self, x):
            y = self.c * x + lib.ones(3) - x + self.c.add(x, alpha=2) + 2 ** x
            return y + (self.c < x) + self.c.__rsub__(x + 3)

    class Containers(nn.Module):
        """A submodule called twice, ModuleList and ModuleDict, a keyword call, a nested parameter read."""

        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 3)
            self.blocks = nn.ModuleList([nn.Linear(3, 3), nn.Tanh()])
            self.heads = nn.ModuleDict({"a": nn.Linear(3, 2), "b": nn.Identity()})

        def forward(self, x):
            y = self.lin(self.lin(x))
            for block in self.blocks:
                y = block(input=y)
            return self.heads["a"](y) + self.blocks[0].bias[:2], self.heads["b"](y)

    class Annotated(nn.Module):
        def forward(self, x: lib.Tensor, n: int = 2, y: Optional[lib.Tensor] = None) -> Tuple[lib.Tensor, int]:
            return x * n, n

    class Wrapped(nn.Module):
        def forward(self, x):
            gate = helpers.gate_torch if lib is torch else helpers.gate_ember
            return leaf_fn(gate(lib.sigmoid(x)), 3)

    class BasicBlock(nn.Module):
        def __init__(self, inplanes, planes, stride=1, downsample=None):
            super().__init__()
            self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample = downsample

        def forward(self, x):
            identity = x
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            if self.downsample is not None:
                identity = self.downsample(x)
            out += identity
            return self.relu(out)

    class ResNet(nn.Module):
        """torchvision's ResNet-18 layout (module names and forward), as ember.vision's resnet18 has it."""

        def __init__(self, num_classes=1000):
            super().__init__()
            self.inplanes = 64
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            self.layer1 = self._make_layer(64, 1)
            self.layer2 = self._make_layer(128, 2)
            self.layer3 = self._make_layer(256, 2)
            self.layer4 = self._make_layer(512, 2)
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(512, num_classes)

        def _make_layer(self, planes, stride):
            downsample = None
            if stride != 1 or self.inplanes != planes:
                downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes, 1, stride, bias=False),
                                           nn.BatchNorm2d(planes))
            layers = [BasicBlock(self.inplanes, planes, stride, downsample), BasicBlock(planes, planes)]
            self.inplanes = planes
            return nn.Sequential(*layers)

        def _forward_impl(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            x = lib.flatten(self.avgpool(x), 1)
            return self.fc(x)

        def forward(self, x):
            return self._forward_impl(x)

    return dict(MLP=MLP, CNN=CNN, ControlFlow=ControlFlow, Constants=Constants, Wrapped=Wrapped, ResNet=ResNet,
                TensorOperands=TensorOperands, Annotated=Annotated,
                Containers=Containers)


TORCH, EMBER = build(torch), build(ember)


def copy_weights(torch_model, ember_model):
    """Loads the torch model's parameters and buffers into the ember model (same state_dict keys)."""
    state = {k: ember.tensor(v.detach().numpy()) for k, v in torch_model.state_dict().items()}
    ember_model.load_state_dict(state)
    for name, value in vars(torch_model).items():   # plain tensor attributes
        if isinstance(value, torch.Tensor):
            setattr(ember_model, name, ember.tensor(value.numpy()))
    return ember_model


def pair(name, *args, **kwargs):
    """The torch model ``name`` and an ember one with the same weights."""
    torch.manual_seed(0)
    t = TORCH[name](*args, **kwargs)
    return t, copy_weights(t, EMBER[name](*args, **kwargs))


def as_torch_text(text):
    """ember's printed form with torch's package root, to compare with torch.fx's."""
    return text.replace("ember.", "torch.")
