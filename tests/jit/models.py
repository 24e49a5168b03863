"""Models built twice, in ember and in torch, with the same weights: the deployment tests' subjects."""
import numpy
import torch

import ember
import ember.nn.functional as F


def mlp(nn):
    return nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 4))


def cnn(nn, F=F):
    """The seeds' MNIST CNN (examples/mnist_cnn.py), for 1x12x12 inputs to stay fast."""
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 8, 3)
            self.conv2 = nn.Conv2d(8, 16, 3)
            self.dropout1 = nn.Dropout2d(0.25)
            self.dropout2 = nn.Dropout(0.5)
            self.fc1 = nn.Linear(16 * 4 * 4, 32)
            self.fc2 = nn.Linear(32, 10)

        def forward(self, x):
            x = F.relu(self.conv1(x))
            x = F.relu(self.conv2(x))
            x = F.max_pool2d(x, 2)
            x = self.dropout1(x)
            x = x.flatten(1)
            x = F.relu(self.fc1(x))
            x = self.dropout2(x)
            return F.log_softmax(self.fc2(x), dim=1)
    return Net()


def copy_weights(source, target):
    """Loads ember module ``source``'s state into torch module ``target``."""
    state = {k: torch.from_numpy(numpy.array(v.detach().numpy())) for k, v in source.state_dict().items()}
    target.load_state_dict(state)
    return target


def pair(builder):
    """(ember model, torch model) in eval mode with the same weights."""
    ember_model = builder(ember.nn).eval()
    torch_model = builder(torch.nn, torch.nn.functional) if builder is cnn else builder(torch.nn)
    return ember_model, copy_weights(ember_model, torch_model).eval()
