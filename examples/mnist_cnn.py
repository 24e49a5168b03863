"""Seed 002's CNN on Fashion-MNIST: batch 100, SGD lr 0.01 momentum 0.9, 1 epoch, then the test accuracy.

As printed, the seed's convolutions keep 28x28 (padding=1), so 64*14*14 = 12544 features reach Linear(9216, 128)
and PyTorch (and ember) stop with "mat1 and mat2 shapes cannot be multiplied (100x12544 and 9216x128)". This version
uses unpadded convolutions (28 -> 26 -> 24, pooled to 12: 64*12*12 = 9216), as PyTorch's own MNIST example does,
and plain Dropout on the flat features (Dropout2d on 2-D input is deprecated).
"""
import argparse

import ember as torch
import ember.nn as nn
import ember.nn.functional as F
from ember.utils.data import DataLoader
from ember.vision import datasets, transforms

from fashion_mnist import CLASSES, data_root

try:
    from tqdm import tqdm
except ImportError:            # the progress bar is optional
    def tqdm(iterable, **_):
        return iterable


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, kernel_size=3, stride=1)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=3, stride=1)
        self.dropout1 = nn.Dropout2d(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = self.dropout2(x)
        return F.log_softmax(self.fc2(x), dim=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--limit", type=int, default=0, help="train on this many batches per epoch (0: all)")
    args = parser.parse_args()
    torch.manual_seed(0)
    root, download = data_root()
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    trainset = datasets.FashionMNIST(root, train=True, download=download, transform=transform)
    testset = datasets.FashionMNIST(root, train=False, download=download, transform=transform)
    trainloader = DataLoader(trainset, batch_size=100, shuffle=True)
    testloader = DataLoader(testset, batch_size=100, shuffle=False)

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = Net().to(device)
    criterion = nn.NLLLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    for epoch in range(args.epochs):
        model.train()
        running_loss, batches = 0.0, 0
        progress = tqdm(trainloader, desc=f"epoch {epoch + 1}", total=args.limit or len(trainloader))
        for i, (inputs, labels) in enumerate(progress):
            if args.limit and i == args.limit:
                break
            inputs, labels = inputs.to(device), labels.to(device)
            optimizer.zero_grad()
            loss = criterion(model(inputs), labels)
            loss.backward()
            optimizer.step()
            running_loss, batches = running_loss + loss.item(), batches + 1
            if hasattr(progress, "set_postfix"):
                progress.set_postfix(loss=f"{running_loss / batches:.3f}")
        print(f"Epoch: {epoch + 1} loss: {running_loss / batches:.3f}")

    model.eval()
    correct = total = 0
    with torch.no_grad():
        for images, labels in testloader:
            images, labels = images.to(device), labels.to(device)
            _, predicted = torch.max(model(images).data, 1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
    print(f"Accuracy of the network on the {total} test images: {100 * correct / total:.2f} %")
    print("Predicted:", ", ".join(CLASSES[int(p)] for p in predicted[:10]))


if __name__ == "__main__":
    main()
