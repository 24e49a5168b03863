"""Seed 004's MLP (784-256-128-10) on Fashion-MNIST: batch 64, SGD lr 0.001 momentum 0.9, 2 epochs."""
import argparse

import ember as torch
from ember.utils.data import DataLoader
from ember.vision import datasets, transforms

from fashion_mnist import data_root


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(784, 256)
        self.fc2 = torch.nn.Linear(256, 128)
        self.fc3 = torch.nn.Linear(128, 10)

    def forward(self, x):
        x = x.view(-1, 784)
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    torch.manual_seed(0)
    root, download = data_root()
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    trainset = datasets.FashionMNIST(root, download=download, train=True, transform=transform)
    testset = datasets.FashionMNIST(root, download=download, train=False, transform=transform)
    trainloader = DataLoader(trainset, batch_size=64, shuffle=True)
    testloader = DataLoader(testset, batch_size=64, shuffle=False)

    net = Net()
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
    for epoch in range(args.epochs):
        running_loss = 0.0
        for i, (inputs, labels) in enumerate(trainloader):
            optimizer.zero_grad()
            loss = criterion(net(inputs), labels)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
            if i % 300 == 299:
                print(f"[{epoch + 1}, {i + 1:5d}] loss: {running_loss / 300:.3f}")
                running_loss = 0.0
    print("Finished Training")

    correct = total = 0
    with torch.no_grad():
        for images, labels in testloader:
            _, predicted = torch.max(net(images).data, 1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
    print(f"Accuracy of the network on the {total} test images: {100 * correct / total:.2f} %")


if __name__ == "__main__":
    main()
