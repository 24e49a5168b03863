"""Mixed-precision training of the seeds' CNN on Fashion-MNIST: ``autocast`` + ``GradScaler``, one epoch.

Convolutions and linear layers run in 16 bits (bfloat16 on the CPU, float16 on a GPU), the loss in float32; the
scaler multiplies the loss so that small 16-bit gradients do not flush to zero, skips steps whose gradients
overflowed and adapts the scale. ``--fp32`` trains the same model in float32 for comparison.
"""
import argparse
import time

import ember as torch
import ember.nn.functional as F
from ember.utils.data import DataLoader
from ember.vision import datasets, transforms

from fashion_mnist import data_root
from mnist_cnn import Net


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=0, help="train on this many batches per epoch (0: all)")
    parser.add_argument("--fp32", action="store_true", help="train without autocast, in float32")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    root, download = data_root()
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    trainloader = DataLoader(datasets.FashionMNIST(root, train=True, download=download, transform=transform),
                             batch_size=100, shuffle=True)
    testloader = DataLoader(datasets.FashionMNIST(root, train=False, download=download, transform=transform),
                            batch_size=100)

    device_type = "cuda" if torch.cuda.is_available() else "cpu"
    amp_dtype = torch.float16 if device_type == "cuda" else torch.bfloat16
    use_amp = not args.fp32
    model = Net().to(device_type)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    scaler = torch.amp.GradScaler(device_type, enabled=use_amp)
    start = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        running_loss, batches, skipped = 0.0, 0, 0
        for i, (inputs, labels) in enumerate(trainloader):
            if args.limit and i == args.limit:
                break
            inputs, labels = inputs.to(device_type), labels.to(device_type)
            optimizer.zero_grad()
            with torch.autocast(device_type, dtype=amp_dtype, enabled=use_amp):
                loss = F.nll_loss(model(inputs), labels)      # nll_loss runs in float32 under autocast
            scaler.scale(loss).backward()
            scale = scaler.get_scale()
            scaler.step(optimizer)                            # skipped when a gradient is inf/NaN
            scaler.update()
            skipped += scaler.get_scale() < scale
            running_loss, batches = running_loss + loss.item(), batches + 1
        print(f"Epoch: {epoch + 1} loss: {running_loss / batches:.3f} skipped steps: {skipped} "
              f"scale: {scaler.get_scale():g}")

    model.eval()
    correct = total = 0
    with torch.no_grad(), torch.autocast(device_type, dtype=amp_dtype, enabled=use_amp):
        for images, labels in testloader:
            images, labels = images.to(device_type), labels.to(device_type)
            predicted = model(images).argmax(1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
    precision = "float32" if args.fp32 else f"autocast {str(amp_dtype).split('.')[-1]}"
    print(f"{precision}, seed {args.seed}: accuracy on the {total} test images: {100 * correct / total:.2f} % "
          f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
