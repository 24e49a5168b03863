"""Seed 004's hyperparameter search with the Lightning Trainer on Fashion-MNIST: first the seed's grid over
learning rate x batch size x weight decay x optimizer (Adam, Adagrad), printed as a table sorted by validation
accuracy with the best configuration saved to best_config.json; then the same space as an Optuna study whose
pruning callback stops hopeless trials early. Between them, Tuner.lr_find on the best configuration (lr_find.png).
Usage: python examples/hparam_search.py [--epochs 2] [--limit 0.2]
"""
import argparse
import itertools
import json

import ember as torch
import ember.lightning as pl
from ember import nn
from ember.utils.data import DataLoader, Subset
from ember.vision import datasets, transforms

from fashion_mnist import data_root


class MLP(pl.LightningModule):
    def __init__(self, lr=1e-3, weight_decay=0.0, optimizer="Adam"):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = nn.functional.cross_entropy(self(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_accuracy", (self(x).argmax(1) == y).float().mean(), prog_bar=True)

    def configure_optimizers(self):
        optimizer = getattr(torch.optim, self.hparams.optimizer)
        return optimizer(self.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay)


def loaders(batch_size, fraction):
    root, download = data_root()
    to_tensor = transforms.ToTensor()
    train = datasets.FashionMNIST(root, train=True, download=download, transform=to_tensor)
    val = datasets.FashionMNIST(root, train=False, download=download, transform=to_tensor)
    train = Subset(train, range(int(len(train) * fraction)))
    val = Subset(val, range(int(len(val) * fraction)))
    return DataLoader(train, batch_size=batch_size, shuffle=True), DataLoader(val, batch_size=500)


def train(config, epochs, fraction, callbacks=()):
    torch.manual_seed(0)
    model = MLP(config["lr"], config["weight_decay"], config["optimizer"])
    train_loader, val_loader = loaders(config["batch_size"], fraction)
    trainer = pl.Trainer(max_epochs=epochs, callbacks=list(callbacks), logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0)
    trainer.fit(model, train_loader, val_loader)
    return float(trainer.callback_metrics["val_accuracy"]), trainer.current_epoch


def find_lr(config, fraction):
    """Tuner(trainer).lr_find for ``config``'s model: the suggested learning rate, the curve saved as lr_find.png."""
    from ember.lightning.tuner import Tuner
    torch.manual_seed(0)
    model = MLP(config["lr"], config["weight_decay"], config["optimizer"])
    train_loader, val_loader = loaders(config["batch_size"], fraction)
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False)
    finder = Tuner(trainer).lr_find(model, train_loader, val_loader, num_training=50)
    print(f"lr_find: suggested learning rate {finder.suggestion()} (the model's hparams.lr is now {model.hparams.lr})")
    try:
        import matplotlib
    except ImportError:
        print("matplotlib is not installed (pip install matplotlib): no lr_find.png")
        return
    matplotlib.use("Agg")
    finder.plot(suggest=True).savefig("lr_find.png")
    print("saved the smoothed loss against the learning rate to lr_find.png")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--limit", type=float, default=0.2, help="fraction of the data to use")
    parser.add_argument("--trials", type=int, default=8)
    args = parser.parse_args()

    grid = {"lr": [1e-3, 1e-2], "batch_size": [64, 128], "weight_decay": [0.0, 1e-4], "optimizer": ["Adam", "Adagrad"]}
    results = []
    for values in itertools.product(*grid.values()):
        config = dict(zip(grid, values))
        accuracy, _ = train(config, args.epochs, args.limit)
        results.append((accuracy, config))
    results.sort(key=lambda r: -r[0])
    print(f"{'val acc':>8}  {'lr':>7}  {'batch':>5}  {'wd':>7}  optimizer")
    for accuracy, c in results:
        print(f"{accuracy:8.4f}  {c['lr']:7.0e}  {c['batch_size']:5d}  {c['weight_decay']:7.0e}  {c['optimizer']}")
    best_accuracy, best = results[0]
    with open("best_config.json", "w") as file:
        json.dump({**best, "val_accuracy": best_accuracy}, file, indent=2)
    grid_epochs = len(results) * args.epochs
    print(f"grid: best {best_accuracy:.4f} with {best} after {grid_epochs} epochs; saved to best_config.json")
    find_lr(best, args.limit)

    try:
        import optuna
    except ImportError:
        print("Optuna is not installed (pip install optuna): skipping the study")
        return
    from ember.lightning.integration import PruningCallback
    spent = 0

    def objective(trial):
        nonlocal spent
        config = {name: trial.suggest_categorical(name, choices) for name, choices in grid.items()}
        try:
            accuracy, epochs = train(config, args.epochs, args.limit, [PruningCallback(trial, "val_accuracy")])
        except optuna.TrialPruned:
            spent += len(trial.storage.get_trial(trial._trial_id).intermediate_values)
            raise
        spent += epochs
        return accuracy

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0),
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=3))
    study.optimize(objective, n_trials=args.trials)
    pruned = sum(t.state == optuna.trial.TrialState.PRUNED for t in study.trials)
    print(f"optuna: best {study.best_value:.4f} with {study.best_params} after {spent} epochs "
          f"({pruned} of {len(study.trials)} trials pruned)")


if __name__ == "__main__":
    main()
