"""ember.lightning's Trainer against hand-written ember loops: resuming gives the uninterrupted run's weights, manual
optimization, DataModules, predict, epoch metrics as batch-size-weighted means, and Lightning's errors."""
import numpy
import pytest

import ember
import ember.lightning as pl
from ember import nn
from ember.lightning.callbacks import EarlyStopping, ModelCheckpoint
from ember.utils.data import DataLoader, TensorDataset


def make_data(n=50):
    ember.manual_seed(0)
    x = ember.randn(n, 4)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0.3).long()
    return TensorDataset(x, y)


class Classifier(pl.LightningModule):
    def __init__(self, lr=0.1):
        super().__init__()
        self.save_hyperparameters()
        ember.manual_seed(1)
        self.net = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
        self.losses = []

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = nn.functional.cross_entropy(self(x), y)
        self.losses.append((loss.item(), len(y)))
        self.log("loss", loss, on_epoch=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", nn.functional.cross_entropy(self(x), y))

    def predict_step(self, batch, batch_idx, dataloader_idx=0):
        return self(batch[0]).argmax(1)

    def configure_optimizers(self):
        optimizer = ember.optim.SGD(self.parameters(), lr=self.hparams.lr, momentum=0.9)
        return {"optimizer": optimizer, "lr_scheduler": ember.optim.lr_scheduler.StepLR(optimizer, 1, 0.7)}


def quiet_trainer(**kwargs):
    return pl.Trainer(enable_progress_bar=False, enable_model_summary=False, **kwargs)


def test_epoch_metric_is_the_batch_size_weighted_mean(tmp_path):
    model = Classifier()
    trainer = quiet_trainer(max_epochs=1, default_root_dir=tmp_path, logger=False, enable_checkpointing=False)
    trainer.fit(model, DataLoader(make_data(50), batch_size=16))   # batches of 16, 16, 16 and 2
    values, sizes = numpy.array(model.losses).T
    assert sizes.tolist() == [16, 16, 16, 2]
    assert trainer.callback_metrics["loss_epoch"].item() == pytest.approx((values * sizes).sum() / sizes.sum())
    assert trainer.callback_metrics["loss_step"].item() == pytest.approx(values[-1])
    assert trainer.global_step == 4


def test_training_matches_a_hand_written_loop(tmp_path):
    data = make_data()
    model = Classifier()
    trainer = quiet_trainer(max_epochs=3, logger=False, enable_checkpointing=False, accumulate_grad_batches=2,
                            gradient_clip_val=0.3, gradient_clip_algorithm="value", num_sanity_val_steps=0)
    trainer.fit(model, DataLoader(data, batch_size=8))

    reference = Classifier()
    optimizer = ember.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
    scheduler = ember.optim.lr_scheduler.StepLR(optimizer, 1, 0.7)
    batches = list(DataLoader(data, batch_size=8))
    for _ in range(3):
        for index, (x, y) in enumerate(batches):
            if index % 2 == 0:
                optimizer.zero_grad()
            (nn.functional.cross_entropy(reference(x), y) / 2).backward()
            if index % 2 == 1 or index == len(batches) - 1:
                nn.utils.clip_grad_value_(reference.parameters(), 0.3)
                optimizer.step()
        scheduler.step()
    for (name, ours), theirs in zip(model.state_dict().items(), reference.state_dict().values()):
        numpy.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-7, err_msg=name)
    assert trainer.global_step == 3 * 4


def test_resuming_from_a_checkpoint_gives_the_uninterrupted_weights(tmp_path):
    loader = DataLoader(make_data(), batch_size=10)
    full = Classifier()
    quiet_trainer(max_epochs=4, default_root_dir=tmp_path / "full").fit(full, loader, loader)

    first = Classifier()
    checkpoint = ModelCheckpoint(dirpath=tmp_path / "half", save_last=True)
    quiet_trainer(max_epochs=2, callbacks=[checkpoint], default_root_dir=tmp_path / "half").fit(first, loader, loader)
    assert checkpoint.last_model_path.endswith("last.ckpt")
    resumed = Classifier()
    trainer = quiet_trainer(max_epochs=4, default_root_dir=tmp_path / "half")
    trainer.fit(resumed, loader, loader, ckpt_path=checkpoint.last_model_path)
    assert trainer.current_epoch == 4 and trainer.global_step == 4 * 5
    assert trainer.optimizers[0].param_groups[0]["lr"] == pytest.approx(0.1 * 0.7 ** 4)
    for (name, ours), theirs in zip(resumed.state_dict().items(), full.state_dict().values()):
        numpy.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=name)


class TwoOptimizers(pl.LightningModule):
    def __init__(self):
        super().__init__()
        ember.manual_seed(2)
        self.a, self.b = nn.Linear(4, 1), nn.Linear(4, 1)
        self.automatic_optimization = False

    def training_step(self, batch, batch_idx):
        x, _ = batch
        first, second = self.optimizers()
        loss = self.a(x).pow(2).mean()
        first.zero_grad()
        self.manual_backward(loss)
        first.step()
        loss = (self.b(x) - 1).abs().mean()
        second.zero_grad()
        self.manual_backward(loss)
        second.step()

    def configure_optimizers(self):
        return [ember.optim.SGD(self.a.parameters(), lr=0.1), ember.optim.Adam(self.b.parameters(), lr=0.01)]


def test_manual_optimization_with_two_optimizers():
    data = make_data(20)
    model = TwoOptimizers()
    trainer = quiet_trainer(max_epochs=2, logger=False, enable_checkpointing=False)
    trainer.fit(model, DataLoader(data, batch_size=5))
    reference = TwoOptimizers()
    first = ember.optim.SGD(reference.a.parameters(), lr=0.1)
    second = ember.optim.Adam(reference.b.parameters(), lr=0.01)
    for _ in range(2):
        for x, _ in DataLoader(data, batch_size=5):
            first.zero_grad()
            reference.a(x).pow(2).mean().backward()
            first.step()
            second.zero_grad()
            (reference.b(x) - 1).abs().mean().backward()
            second.step()
    for ours, theirs in zip(model.parameters(), reference.parameters()):
        numpy.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6)
    assert trainer.global_step == 2 * 4 * 2   # each optimizer step counts, as in Lightning


@pytest.mark.parametrize("option, match", [
    (dict(accumulate_grad_batches=2), r"Automatic gradient accumulation is not supported for manual optimization"),
    (dict(gradient_clip_val=0.5), r"Remove `Trainer\(gradient_clip_val=0.5\)`"),
])
def test_manual_optimization_refuses_automatic_options(option, match):
    trainer = quiet_trainer(max_epochs=1, logger=False, enable_checkpointing=False, **option)
    with pytest.raises(ValueError, match=match):
        trainer.fit(TwoOptimizers(), DataLoader(make_data(20), batch_size=5))


class Data(pl.LightningDataModule):
    def __init__(self, batch_size=10):
        super().__init__()
        self.save_hyperparameters()
        self.stages = []

    def setup(self, stage):
        self.stages.append(stage)
        self.data = make_data()

    def train_dataloader(self):
        return DataLoader(self.data, batch_size=self.hparams.batch_size)

    def val_dataloader(self):
        return DataLoader(self.data, batch_size=self.hparams.batch_size)

    def predict_dataloader(self):
        return DataLoader(self.data, batch_size=self.hparams.batch_size)


def test_datamodule_predict_and_best_checkpoint(tmp_path):
    data, model = Data(batch_size=10), Classifier()
    checkpoint = ModelCheckpoint(monitor="val_loss", filename="{epoch}-{val_loss:.4f}")
    trainer = quiet_trainer(max_epochs=3, callbacks=[checkpoint], default_root_dir=tmp_path)
    trainer.fit(model, datamodule=data)
    assert data.stages == ["fit"]
    saved = ember.load(checkpoint.best_model_path)
    assert saved["datamodule_hyper_parameters"] == {"batch_size": 10} and saved["hyper_parameters"] == {"lr": 0.1}
    score = float(checkpoint.best_model_score)
    assert checkpoint.best_model_path.endswith(f"val_loss={score:.4f}.ckpt")
    predictions = trainer.predict(model, datamodule=data)
    assert len(predictions) == 5 and predictions[0].shape == (10,)
    expected = model(data.data.tensors[0][:10]).argmax(1)
    assert predictions[0].tolist() == expected.tolist()


def test_early_stopping_respects_min_epochs():
    class Flat(Classifier):
        def validation_step(self, batch, batch_idx):
            self.log("constant", 1.0)
    loader = DataLoader(make_data(), batch_size=25)
    stopper = EarlyStopping(monitor="constant", patience=1)
    trainer = quiet_trainer(max_epochs=10, min_epochs=4, callbacks=[stopper], logger=False,
                            enable_checkpointing=False)
    trainer.fit(Flat(), loader, loader)
    assert trainer.current_epoch == 4 and stopper.wait_count >= 1


@pytest.mark.parametrize("call, error, match", [
    (lambda: pl.Trainer(gpus=1), TypeError, "gpus"),
    (lambda: pl.Trainer(precision="8"), ValueError, "Precision '8' is invalid"),
    (lambda: pl.Trainer(accumulate_grad_batches=0), ValueError, "accumulate_grad_batches"),
    (lambda: ModelCheckpoint(save_top_k=3), ValueError, r"save_top_k=3, monitor=None\) is not a valid"),
    (lambda: pl.Trainer(gradient_clip_algorithm="max"), ValueError, "gradient_clip_algorithm"),
])
def test_errors_as_lightning(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_missing_monitored_metric_is_reported():
    loader = DataLoader(make_data(), batch_size=25)
    trainer = quiet_trainer(max_epochs=1, callbacks=[EarlyStopping(monitor="nope")], logger=False,
                            enable_checkpointing=False)
    with pytest.raises(RuntimeError, match="Early stopping conditioned on metric `nope` which is not available"):
        trainer.fit(Classifier(), loader, loader)


def test_plateau_scheduler_needs_a_monitor():
    class Plateau(Classifier):
        def configure_optimizers(self):
            optimizer = ember.optim.SGD(self.parameters(), lr=0.1)
            return [optimizer], [ember.optim.lr_scheduler.ReduceLROnPlateau(optimizer)]
    trainer = quiet_trainer(max_epochs=1, logger=False, enable_checkpointing=False)
    with pytest.raises(ValueError, match="must include a monitor when a `ReduceLROnPlateau`"):
        trainer.fit(Plateau(), DataLoader(make_data(), batch_size=25))


def test_mixed_precision_runs_on_autocast_or_says_what_is_missing():
    if not hasattr(ember, "autocast"):
        with pytest.raises(ValueError, match="needs ember.autocast"):
            pl.Trainer(precision="bf16-mixed")
        return
    model = Classifier()
    trainer = quiet_trainer(max_epochs=1, precision="bf16-mixed", logger=False, enable_checkpointing=False)
    trainer.fit(model, DataLoader(make_data(), batch_size=25))
    assert trainer.global_step == 2 and all(p.dtype == ember.float32 for p in model.parameters())


def test_module_helpers_lightning_programs_use(tmp_path):
    from ember.lightning.utilities import move_data_to_device
    from ember.lightning.utilities.rank_zero import LightningDeprecationWarning
    model = Classifier()
    model.example_input_array = ember.randn(2, 4)
    assert (model.on_gpu, model.global_rank, model.local_rank) == (False, 0, 0)
    expected = model(model.example_input_array)
    for method in ("script", "trace"):
        with pytest.warns(LightningDeprecationWarning, match="to_torchscript` has been deprecated in v2.7"):
            compiled = model.to_torchscript(file_path=tmp_path / f"{method}.pt", method=method)
        numpy.testing.assert_allclose(compiled(model.example_input_array).detach().numpy(),
                                      expected.detach().numpy(), rtol=1e-6)
        assert model.training and (tmp_path / f"{method}.pt").exists()
    batch = {"x": [ember.ones(2)], "y": (ember.zeros(1), 3)}
    moved = move_data_to_device(batch, ember.device("cpu"))
    assert moved.keys() == batch.keys() and isinstance(moved["y"], tuple) and moved["y"][1] == 3


def test_logging_a_torchmetrics_metric_object(monkeypatch):
    # Lightning logs a torchmetrics.Metric object by its last forward's value per step and its compute() per epoch,
    # then resets it; a stand-in torchmetrics module (the suite does not need torchmetrics) holds such a Metric
    import sys
    import types

    class Metric(nn.Module):
        def __init__(self):
            super().__init__()
            self.reset()

        def reset(self):
            self.total, self.count, self._forward_cache = 0.0, 0, None

        def update(self, values):
            self.total, self.count = self.total + values.sum().item(), self.count + values.numel()

        def compute(self):
            return ember.tensor(self.total / self.count)

        def forward(self, values):
            self.update(values)
            self._forward_cache = values.mean()
            return self._forward_cache

    module = types.ModuleType("torchmetrics.metric")
    module.Metric = Metric
    monkeypatch.setitem(sys.modules, "torchmetrics.metric", module)
    batches = [ember.tensor([float(i), float(i + 1)]) for i in range(3)]

    class Model(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(ember.ones(1))
            self.mean, self.updated, self.val_mean = Metric(), Metric(), Metric()

        def training_step(self, batch, batch_idx):
            values = batch[0] * self.w.detach() * (self.current_epoch + 1)
            self.mean(values)
            self.log("mean", self.mean, on_step=True, on_epoch=True)
            self.updated.update(values)   # no forward: no step value, only the epoch's compute()
            self.log("updated", self.updated, on_step=True, on_epoch=True)
            return (self.w * 0).sum()

        def validation_step(self, batch, batch_idx):
            self.val_mean.update(batch[0])
            self.log("val_mean", self.val_mean)

        def configure_optimizers(self):
            return ember.optim.SGD(self.parameters(), lr=0.1)

    seen = []

    class Record(pl.Callback):
        def on_train_batch_end(self, trainer, model, *args):
            seen.append({k: round(float(v), 4) for k, v in sorted(trainer.callback_metrics.items())})

        def on_train_epoch_end(self, trainer, model):
            seen.append(({k: round(float(v), 4) for k, v in sorted(trainer.callback_metrics.items())},
                         model.mean.count))

    loader = DataLoader(TensorDataset(ember.cat(batches)), batch_size=2)
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, callbacks=[Record()], num_sanity_val_steps=0)
    model = Model()
    trainer.fit(model, loader, loader)
    assert seen[0] == {"mean": 0.5, "mean_step": 0.5}
    assert seen[2] == {"mean": 2.5, "mean_step": 2.5}
    assert seen[3] == ({"mean": 1.5, "mean_epoch": 1.5, "mean_step": 2.5, "updated": 1.5, "updated_epoch": 1.5,
                        "val_mean": 1.5}, 6)
    # epoch 2 doubles the values; the metrics were reset after epoch 1, so its epoch mean is 3.0, not 2.25
    assert seen[7] == ({"mean": 3.0, "mean_epoch": 3.0, "mean_step": 5.0, "updated": 3.0, "updated_epoch": 3.0,
                        "val_mean": 1.5}, 6)
    assert model.mean.count == model.val_mean.count == 0
    assert trainer.validate(model, loader, verbose=False) == [{"val_mean": 1.5}]

    class Stray(Model):
        def training_step(self, batch, batch_idx):
            metric = Metric()   # not an attribute of the module: Lightning cannot name it
            metric(batch[0])
            self.log("stray", metric)
            return (self.w * 0).sum()

    from ember.lightning.utilities.exceptions import MisconfigurationException
    with pytest.raises(MisconfigurationException, match=r"metric_attribute=name\)` where `name` is one of "
                                                        r"\['mean', 'updated', 'val_mean'\]"):
        pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                   enable_model_summary=False).fit(Stray(), loader)
