"""Seed 004's transfer learning as a LightningModule: a ResNet backbone without its last layer (``children()[:-1]``),
frozen, feeding a new Linear head; ImageFolder data with train/ and validation/; ``pl.Trainer`` fits with the best
checkpoint kept by validation accuracy, then ``trainer.test(ckpt_path="best")[0]["test_accuracy"]``.

Without ``--data`` it writes a small ImageFolder tree of Fashion-MNIST images (as examples/transfer_learning.py does).
``--weights`` loads a state_dict into the backbone first (for instance torchvision's ResNet-50 checkpoint); without
it the frozen backbone keeps its random initialisation and only the head learns.
Usage: python examples/lightning_transfer.py [--arch resnet50] [--epochs 3] [--per-class 20] [--image-size 64]
"""
import argparse
import os

from transfer_learning import write_image_folder

import ember as torch
import ember.lightning as pl
from ember import nn
from ember.utils.data import DataLoader
from ember.vision import datasets, models, transforms


class TransferLearner(pl.LightningModule):
    """A frozen backbone's pooled features into a new trainable classifier."""

    def __init__(self, arch="resnet50", num_classes=10, lr=1e-3, weights=None):
        super().__init__()
        self.save_hyperparameters()
        backbone = getattr(models, arch)()
        if weights:
            backbone.load_state_dict(torch.load(weights))
        features = backbone.fc.in_features
        self.feature_extractor = nn.Sequential(*list(backbone.children())[:-1])
        self.feature_extractor.requires_grad_(False)
        self.classifier = nn.Linear(features, num_classes)

    def forward(self, x):
        self.feature_extractor.eval()   # frozen: BatchNorm keeps its statistics
        with torch.no_grad():
            representations = self.feature_extractor(x).flatten(1)
        return self.classifier(representations)

    def _accuracy(self, batch, stage):
        x, y = batch
        logits = self(x)
        loss = nn.functional.cross_entropy(logits, y)
        self.log(f"{stage}_loss", loss, prog_bar=stage == "train")
        self.log(f"{stage}_accuracy", (logits.argmax(1) == y).float().mean(), prog_bar=stage != "train")
        return loss

    def training_step(self, batch, batch_idx):
        return self._accuracy(batch, "train")

    def validation_step(self, batch, batch_idx):
        self._accuracy(batch, "val")

    def test_step(self, batch, batch_idx):
        self._accuracy(batch, "test")

    def configure_optimizers(self):
        return torch.optim.Adam(self.classifier.parameters(), lr=self.hparams.lr)


def loaders(data_dir, size, batch_size, workers):
    normalize = transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
    train = datasets.ImageFolder(os.path.join(data_dir, "train"), transforms.Compose([
        transforms.Grayscale(3), transforms.RandomResizedCrop(size, scale=(0.6, 1.0)),
        transforms.RandomHorizontalFlip(), transforms.ToTensor(), normalize]))
    val = datasets.ImageFolder(os.path.join(data_dir, "validation"), transforms.Compose([
        transforms.Grayscale(3), transforms.Resize(size), transforms.CenterCrop(size), transforms.ToTensor(),
        normalize]))
    return (DataLoader(train, batch_size=batch_size, shuffle=True, num_workers=workers),
            DataLoader(val, batch_size=batch_size, num_workers=workers))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="an ImageFolder root with train/ and validation/ (default: made here)")
    parser.add_argument("--weights", help="a state_dict file for the backbone")
    parser.add_argument("--arch", default="resnet50", help="an ember.vision.models ResNet (resnet18 ... resnet152)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--per-class", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--workers", type=int, default=0)
    args = parser.parse_args()
    pl.seed_everything(0)
    data_dir = args.data or os.path.join("data", f"fashion-mnist-folders-{args.per_class}")
    if not args.data and not os.path.isdir(os.path.join(data_dir, "train")):
        write_image_folder(data_dir, args.per_class)
    train_loader, val_loader = loaders(data_dir, args.image_size, args.batch_size, args.workers)

    model = TransferLearner(args.arch, len(train_loader.dataset.classes), args.lr, args.weights)
    checkpoint = pl.callbacks.ModelCheckpoint(monitor="val_accuracy", mode="max", filename="{epoch}-{val_accuracy:.2f}")
    trainer = pl.Trainer(max_epochs=args.epochs, callbacks=[checkpoint], enable_progress_bar=False,
                         default_root_dir="lightning_transfer")
    trainer.fit(model, train_loader, val_loader)
    print(f"best checkpoint: {checkpoint.best_model_path} (val_accuracy {float(checkpoint.best_model_score):.4f})")
    result = trainer.test(model, val_loader, ckpt_path="best", verbose=False)
    print(f"test_accuracy: {result[0]['test_accuracy']:.4f}")


if __name__ == "__main__":
    main()
