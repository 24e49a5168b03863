"""Seed 004's transfer-learning loop: ResNet-50 minus its last layer, a new Linear(2048, 10), ImageFolder data,
SGD on the trainable parameters only, and a checkpoint (model and optimizer state) whenever accuracy improves.

Without ``--data`` it writes a small ImageFolder tree (train/, validation/, one folder per class) of Fashion-MNIST
images as PNG files and learns on that. ``--weights`` loads a ResNet-50 state_dict (for instance torchvision's
checkpoint) before the last layer is replaced; without it the backbone is trained from scratch.
"""
import argparse
import os

import ember as torch
import ember.nn as nn
import ember.optim as optim
from ember.utils.data import DataLoader
from ember.vision import datasets, models, transforms

from fashion_mnist import CLASSES, data_root


def write_image_folder(directory, per_class):
    """Saves ``per_class`` Fashion-MNIST images of each class as PNGs under directory/{train,validation}/<class>/."""
    root, download = data_root()
    for split, train in (("train", True), ("validation", False)):
        dataset = datasets.FashionMNIST(root, train=train, download=download)
        counts = [0] * len(CLASSES)
        for index in range(len(dataset)):
            image, label = dataset[index]
            if counts[label] < per_class:
                folder = os.path.join(directory, split, CLASSES[label].replace("/", "-"))
                os.makedirs(folder, exist_ok=True)
                image.save(os.path.join(folder, f"{index}.png"))
                counts[label] += 1
            if min(counts) == per_class:
                break


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="an ImageFolder root with train/ and validation/ (default: made here)")
    parser.add_argument("--weights", help="a ResNet-50 state_dict file to start from")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--per-class", type=int, default=10)
    args = parser.parse_args()
    cfg = {"lr": 0.001, "momentum": 0.9, "weight_decay": 1e-4, "num_workers": 2, "batch_size": 16,
           "epochs": args.epochs, "log_interval": 5}
    torch.manual_seed(0)
    data_dir = args.data or os.path.join("data", "fashion-mnist-folders")
    if not args.data and not os.path.isdir(os.path.join(data_dir, "train")):
        write_image_folder(data_dir, args.per_class)

    model_conv = models.resnet50()
    if args.weights:
        model_conv.load_state_dict(torch.load(args.weights))
        for parameter in model_conv.parameters():    # a pretrained backbone stays fixed
            parameter.requires_grad = False
    modules = list(model_conv.children())[:-1]       # delete the last layer
    features = nn.Sequential(*modules)
    classifier = nn.Linear(in_features=2048, out_features=len(CLASSES), bias=True)
    model_conv = nn.Sequential(features, nn.Flatten(), classifier)

    normalize = transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
    size = args.image_size
    train_dataset = datasets.ImageFolder(os.path.join(data_dir, "train"), transforms.Compose([
        transforms.Grayscale(3), transforms.RandomResizedCrop(size), transforms.RandomHorizontalFlip(),
        transforms.ToTensor(), normalize]))
    val_dataset = datasets.ImageFolder(os.path.join(data_dir, "validation"), transforms.Compose([
        transforms.Grayscale(3), transforms.Resize(size * 8 // 7), transforms.CenterCrop(size),
        transforms.ToTensor(), normalize]))
    train_loader = DataLoader(train_dataset, batch_size=cfg["batch_size"], shuffle=True,
                              num_workers=cfg["num_workers"])
    val_loader = DataLoader(val_dataset, batch_size=cfg["batch_size"], num_workers=cfg["num_workers"])

    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(filter(lambda p: p.requires_grad, model_conv.parameters()), lr=cfg["lr"],
                          momentum=cfg["momentum"], weight_decay=cfg["weight_decay"])
    best_acc = 0.0
    for epoch in range(cfg["epochs"]):
        model_conv.train()
        for batch_idx, (data, target) in enumerate(train_loader):
            optimizer.zero_grad()
            loss = criterion(model_conv(data), target)
            loss.backward()
            optimizer.step()
            if batch_idx % cfg["log_interval"] == 0:
                print(f"Train Epoch: {epoch} [{batch_idx * len(data)}/{len(train_loader.dataset)}]\t"
                      f"Loss: {loss.item():.6f}")
        model_conv.eval()
        correct = total = 0
        with torch.no_grad():
            for data, target in val_loader:
                pred = model_conv(data).argmax(dim=1, keepdim=True)
                correct += pred.eq(target.view_as(pred)).sum().item()
                total += len(data)
        acc = 100.0 * correct / total
        print(f"Validation set accuracy: {correct}/{total} ({acc:.2f}%)")
        if acc > best_acc:
            print("Saving..")
            state = {"model": model_conv.state_dict(), "acc": acc, "epoch": epoch,
                     "optimizer": optimizer.state_dict()}
            os.makedirs("checkpoint", exist_ok=True)
            torch.save(state, "./checkpoint/ckpt.pth")
            best_acc = acc
    print("Best Accuracy:", best_acc)
    restored = torch.load("./checkpoint/ckpt.pth")
    model_conv.load_state_dict(restored["model"])
    optimizer.load_state_dict(restored["optimizer"])
    print(f"Reloaded the checkpoint of epoch {restored['epoch']} (accuracy {restored['acc']:.2f}%)")


if __name__ == "__main__":
    main()
