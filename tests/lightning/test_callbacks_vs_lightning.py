"""Lightning's other callbacks (GradientAccumulationScheduler, LambdaCallback, Timer, StochasticWeightAveraging,
BasePredictionWriter, OnExceptionCheckpoint) run by ember.lightning and by real PyTorch Lightning 2.x on the same
program: steps taken, weights, checkpoint contents, files written and errors agree."""
import json

import pytest

from .lightning_oracle import run_lightning
from .test_trainer_vs_lightning import EMBER_IMPORTS, MODEL, TORCH_IMPORTS, assert_weights_close, make_data

EMBER_CALLBACKS = EMBER_IMPORTS + """
from ember.lightning.callbacks import (BasePredictionWriter, Checkpoint, DeviceStatsMonitor, EMAWeightAveraging,
                                       GradientAccumulationScheduler, LambdaCallback, ModelPruning, SpikeDetection,
                                       OnExceptionCheckpoint, StochasticWeightAveraging, Timer, WeightAveraging)
"""

TORCH_CALLBACKS = TORCH_IMPORTS + """
from pytorch_lightning.callbacks import (BasePredictionWriter, Checkpoint, DeviceStatsMonitor, EMAWeightAveraging,
                                         GradientAccumulationScheduler, LambdaCallback, ModelPruning, SpikeDetection,
                                         OnExceptionCheckpoint, StochasticWeightAveraging, Timer, WeightAveraging)
"""

QUIET = """
def quiet_trainer(**kwargs):
    options = dict(enable_progress_bar=False, enable_model_summary=False, logger=False, num_sanity_val_steps=0,
                   accelerator="cpu", devices=1)
    options.update(kwargs)
    return pl.Trainer(**options)


def error_of(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except Exception as error:
        return [type(error).__name__, str(error)]
    return None
"""


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """The data and starting weights of test_trainer_vs_lightning's programs, in the working directory."""
    make_data(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def compare(program, workdir, check):
    """Runs ``program`` under ember and under Lightning; ``check(ours, theirs)`` compares the two results."""
    namespace = {}
    exec(compile(EMBER_CALLBACKS + program, "program", "exec"), namespace)
    ours = json.loads(json.dumps(namespace["result"]))
    theirs = run_lightning(TORCH_CALLBACKS + program + "\nprint(json.dumps(result))", workdir)
    check(ours, theirs)


ACCUMULATION = MODEL + QUIET + """
class Steps(pl.Callback):
    def __init__(self):
        self.steps = []

    def on_before_optimizer_step(self, trainer, pl_module, optimizer):
        self.steps.append([trainer.current_epoch, trainer.global_step, trainer.accumulate_grad_batches])


calls = []
hooks = LambdaCallback(setup=lambda trainer, module, stage: calls.append(["setup", stage]),
                       on_train_epoch_start=lambda trainer, module: calls.append(["epoch", trainer.current_epoch]),
                       on_train_batch_end=lambda trainer, module, outputs, batch, batch_idx: calls.append(
                           ["batch", batch_idx, round(float(outputs["loss"]), 5)]),
                       on_fit_end=lambda trainer, module: calls.append(["fit_end"]))
schedule = {1: 2, 2: 3}
scheduler = GradientAccumulationScheduler(scheduling=schedule)
steps = Steps()
trainer = quiet_trainer(max_epochs=3, callbacks=[scheduler, steps, hooks], enable_checkpointing=False)
trainer.fit(model, loader)
result = {"steps": steps.steps, "global_step": trainer.global_step, "weights": weights_of(model), "calls": calls,
          "schedule": {str(k): v for k, v in schedule.items()}, "epochs": scheduler.epochs,
          "factor": [scheduler.get_accumulate_grad_batches(e) for e in range(4)],
          "errors": [error_of(GradientAccumulationScheduler, {}), error_of(GradientAccumulationScheduler, {-1: 2}),
                     error_of(GradientAccumulationScheduler, {0: 0}), error_of(GradientAccumulationScheduler, {0.5: 2}),
                     error_of(quiet_trainer(max_epochs=1, accumulate_grad_batches=2, enable_checkpointing=False,
                                            callbacks=[GradientAccumulationScheduler({1: 2})]).fit, Model(), loader)]}
"""


def test_gradient_accumulation_scheduler_and_lambda_callback_match_lightning(workdir):
    def check(ours, theirs):
        for key in ("steps", "global_step", "calls", "schedule", "epochs", "factor", "errors"):
            assert ours[key] == theirs[key], key
        assert_weights_close(ours["weights"], theirs["weights"])
    compare(ACCUMULATION, workdir, check)


TIMER = MODEL + QUIET + """
import datetime
timer = Timer(duration="00:00:00:00")
trainer = quiet_trainer(max_epochs=2, callbacks=[timer], default_root_dir="timer")
trainer.fit(model, loader)
stopped = {"global_step": trainer.global_step, "epoch": trainer.current_epoch,
           "elapsed_nonnegative": timer.time_elapsed() >= 0, "remaining": timer.time_remaining() <= 0}
timer = Timer(duration=dict(days=1), interval="epoch")
trainer = quiet_trainer(max_epochs=2, callbacks=[timer], default_root_dir="timer")
trainer.fit(model, loader, loader)
trainer.test(model, loader, verbose=False)
checkpoint = torch.load(trainer.checkpoint_callback.best_model_path, weights_only=False)
timed = pl.Trainer(max_time={"minutes": 5}, logger=False, accelerator="cpu")
both = pl.Trainer(max_time="00:00:01:00", callbacks=[Timer()], logger=False, accelerator="cpu")
result = {"stopped": stopped, "steps": trainer.global_step,
          "states": sorted(checkpoint["callbacks"]), "timer_keys": sorted(checkpoint["callbacks"]["Timer"]),
          "stages": sorted(checkpoint["callbacks"]["Timer"]["time_elapsed"]),
          "times": [timer.start_time("train") is not None, timer.end_time("validate") is not None,
                    timer.end_time("test") is not None, timer.start_time("predict") is None,
                    0 < timer.time_remaining() < 86400, timer.time_elapsed("predict") == 0],
          "default_callbacks": [type(c).__name__ for c in timed.callbacks],
          "timer_duration": [c._duration for c in timed.callbacks if isinstance(c, Timer)],
          "both": [type(c).__name__ for c in both.callbacks],
          "errors": [error_of(Timer, duration="1:00:00"), error_of(Timer, duration="00:01:00:00", interval="batch")]}
"""


def test_timer_matches_lightning(workdir):
    def check(ours, theirs):
        for key in ("stopped", "steps", "states", "timer_keys", "stages", "times", "default_callbacks",
                    "timer_duration", "both"):
            assert ours[key] == theirs[key], key
        assert ours["errors"][0] == theirs["errors"][0]
        # the choices' order comes from a set in Lightning
        assert ours["errors"][1][1].split(":")[0] == theirs["errors"][1][1].split(":")[0]
        assert sorted(ours["errors"][1][1].split(":")[1].strip().split(", ")) == ["epoch", "step"]
    compare(TIMER, workdir, check)


SWA = MODEL + QUIET + """
class Normed(Model):
    def __init__(self):
        super().__init__()
        self.norm = nn.BatchNorm1d(3)

    def forward(self, x):
        return self.norm(self.net(x))


result = {}
for name, net, start, strategy in (("plain", Model(), 2, "cos"), ("fraction", Model(), 0.5, "linear"),
                                   ("batchnorm", Normed(), 2, "cos")):
    net.net.load_state_dict(model.net.state_dict())
    swa = StochasticWeightAveraging(swa_lrs=0.05, swa_epoch_start=start, annealing_epochs=2,
                                    annealing_strategy=strategy)
    lrs = LambdaCallback(on_train_epoch_end=lambda trainer, module: seen.append(
        trainer.optimizers[0].param_groups[0]["lr"]))
    seen = []
    trainer = quiet_trainer(max_epochs=4, callbacks=[swa, lrs], default_root_dir=name)
    trainer.fit(net, loader)
    state = torch.load(trainer.checkpoint_callback.best_model_path, weights_only=False)["callbacks"][
        "StochasticWeightAveraging"]
    result[name] = {"weights": weights_of(net), "lrs": seen, "epoch": trainer.current_epoch,
                    "global_step": trainer.global_step, "max_epochs": trainer.max_epochs,
                    "n_averaged": state["n_averaged"], "latest": state["latest_update_epoch"],
                    "state_keys": sorted(state), "scheduler": sorted(state["scheduler_state"]),
                    "average": sorted(state["average_model_state"]),
                    "schedulers": [type(c.scheduler).__name__ for c in trainer.lr_scheduler_configs]}
result["errors"] = [error_of(StochasticWeightAveraging, swa_lrs=0.1, swa_epoch_start=0),
                    error_of(StochasticWeightAveraging, swa_lrs=0.1, swa_epoch_start=1.5),
                    error_of(StochasticWeightAveraging, swa_lrs=1),
                    error_of(StochasticWeightAveraging, swa_lrs=[0.1, -0.1]),
                    error_of(StochasticWeightAveraging, swa_lrs=0.1, avg_fn=3),
                    error_of(StochasticWeightAveraging, swa_lrs=0.1, device=3)]
"""


def test_stochastic_weight_averaging_matches_lightning(workdir):
    def check(ours, theirs):
        assert ours["errors"] == theirs["errors"]
        for name in ("plain", "fraction", "batchnorm"):
            mine, real = ours[name], theirs[name]
            for key in ("epoch", "global_step", "max_epochs", "n_averaged", "latest", "state_keys", "scheduler",
                        "average", "schedulers"):
                assert mine[key] == real[key], (name, key)
            assert mine["lrs"] == pytest.approx(real["lrs"], rel=1e-6), name
            assert_weights_close(mine["weights"], real["weights"])
    compare(SWA, workdir, check)


WRITER = MODEL + QUIET + """
import os


class Writer(BasePredictionWriter):
    def write_on_batch_end(self, trainer, pl_module, prediction, batch_indices, batch, batch_idx, dataloader_idx):
        torch.save({"prediction": prediction, "indices": batch_indices},
                   os.path.join("predictions", f"{self.interval.value}-{dataloader_idx}-{batch_idx}.pt"))

    def write_on_epoch_end(self, trainer, pl_module, predictions, batch_indices):
        torch.save({"predictions": predictions, "indices": batch_indices},
                   os.path.join("predictions", f"{self.interval.value}-epoch.pt"))


class Predictor(Model):
    def predict_step(self, batch, batch_idx, dataloader_idx=0):
        return self(batch[0]).argmax(1)


os.makedirs("predictions", exist_ok=True)
net = Predictor()
net.load_state_dict(model.state_dict())
def shuffled():
    return DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, generator=torch.Generator().manual_seed(3))


returned = {}
for interval, loaders, keep in (("batch", loader, None), ("epoch", [loader, shuffled()], False),
                                ("batch_and_epoch", shuffled(), True)):
    out = quiet_trainer(callbacks=[Writer(interval)]).predict(net, loaders, return_predictions=keep)
    returned[interval] = None if out is None else len(out)
files = {}
for name in sorted(os.listdir("predictions")):
    saved = torch.load(os.path.join("predictions", name), weights_only=False)
    files[name] = json.loads(json.dumps(saved, default=lambda t: t.tolist()))
result = {"files": files, "returned": returned, "error": error_of(Writer, "step")}
"""


def test_prediction_writer_matches_lightning(workdir):
    def check(ours, theirs):
        assert sorted(ours["files"]) == sorted(theirs["files"])
        for name, saved in theirs["files"].items():
            assert ours["files"][name] == saved, name
        assert ours == theirs
    compare(WRITER, workdir, check)


EXCEPTION = MODEL + QUIET + """
import os


class Failing(Model):
    def training_step(self, batch, batch_idx):
        if self.current_epoch == 1 and batch_idx == 2:
            raise RuntimeError("boom")
        return super().training_step(batch, batch_idx)


seen = []
saver = OnExceptionCheckpoint("saved")
net = Failing()
net.load_state_dict(model.state_dict())
trainer = quiet_trainer(max_epochs=3, callbacks=[saver, LambdaCallback(
    on_exception=lambda trainer, module, error: seen.append(repr(error)))], default_root_dir="run")
error = error_of(trainer.fit, net, loader)
saved = torch.load(saver.ckpt_path, weights_only=False)
finished = quiet_trainer(max_epochs=1, callbacks=[OnExceptionCheckpoint("saved")])
finished.fit(Model(), loader)
result = {"error": error, "seen": seen, "interrupted": trainer.interrupted, "path": saver.ckpt_path,
          "keys": sorted(saved), "epoch": saved["epoch"], "global_step": saved["global_step"],
          "callbacks": [type(c).__name__ for c in trainer.callbacks],
          "checkpoint_callbacks": [type(c).__name__ for c in trainer.checkpoint_callbacks],
          "exists_after_success": os.path.exists(saver.ckpt_path),
          "empty": error_of(OnExceptionCheckpoint, ".", filename=""),
          "is_checkpoint": isinstance(saver, Checkpoint)}
"""


def test_on_exception_checkpoint_matches_lightning(workdir):
    def check(ours, theirs):
        assert ours == theirs
    compare(EXCEPTION, workdir, check)


PRUNING = MODEL + QUIET + """
prune = torch.nn.utils.prune

result = {}
for name, kwargs in (("global", dict(pruning_fn="l1_unstructured", amount=0.3)),
                     ("local", dict(pruning_fn="ln_structured", pruning_dim=0, pruning_norm=1, amount=1,
                                    use_global_unstructured=False, use_lottery_ticket_hypothesis=False,
                                    parameter_names=["weight"], verbose=1)),
                     ("scheduled", dict(pruning_fn=prune.L1Unstructured, amount=lambda epoch: 0.25 * (epoch % 2),
                                        make_pruning_permanent=False, prune_on_train_epoch_end=False))):
    net = Model()
    net.load_state_dict(model.state_dict())
    pruning = ModelPruning(**kwargs)
    trainer = quiet_trainer(max_epochs=3, callbacks=[pruning], default_root_dir=name)
    trainer.fit(net, loader, loader)
    saved = torch.load(trainer.checkpoint_callback.best_model_path, weights_only=False)["state_dict"]
    result[name] = {"weights": {k: v.detach().numpy().tolist() for k, v in net.state_dict().items()},
                    "saved": {k: v.numpy().tolist() for k, v in saved.items()},
                    "zeros": {k: int((v == 0).sum()) for k, v in net.state_dict().items()},
                    "pruned": [[type(m).__name__, p] for m, p in pruning._parameters_to_prune]}
result["errors"] = [error_of(ModelPruning, "l1_unstructured", parameter_names=["gamma"]),
                    error_of(ModelPruning, "l2_unstructured"),
                    error_of(ModelPruning, "ln_structured", use_global_unstructured=False),
                    error_of(ModelPruning, "ln_structured", use_global_unstructured=False, pruning_dim=0),
                    error_of(ModelPruning, "random_structured", pruning_dim=0),
                    error_of(ModelPruning, prune.L1Unstructured, use_global_unstructured=False),
                    error_of(ModelPruning, "l1_unstructured", amount="half"),
                    error_of(ModelPruning, "l1_unstructured", verbose=3),
                    error_of(quiet_trainer(max_epochs=1, callbacks=[ModelPruning(
                        "l1_unstructured", parameters_to_prune=[(nn.Linear(2, 2), "weight")])]).fit, Model(), loader)]
"""


def test_model_pruning_matches_lightning(workdir):
    def check(ours, theirs):
        assert ours["errors"][:4] == theirs["errors"][:4]
        # the pruning method's class and module reprs name each library's module
        for mine, real in zip(ours["errors"][4:], theirs["errors"][4:]):
            assert mine[0] == real[0] and mine[1].replace("ember.", "torch.") == real[1]
        for name in ("global", "local", "scheduled"):
            mine, real = ours[name], theirs[name]
            assert mine["zeros"] == real["zeros"] and mine["pruned"] == real["pruned"], name
            assert_weights_close(mine["weights"], real["weights"])
            assert_weights_close(mine["saved"], real["saved"])
    compare(PRUNING, workdir, check)


AVERAGING = MODEL + QUIET + """
class EveryEpoch(WeightAveraging):
    def should_update(self, step_idx=None, epoch_idx=None):
        return epoch_idx is not None


class Normed(Model):
    def __init__(self):
        super().__init__()
        self.norm = nn.BatchNorm1d(3)

    def forward(self, x):
        return self.norm(self.net(x))


result = {}
for name, make in (("ema", lambda: EMAWeightAveraging(decay=0.8, update_every_n_steps=2, update_starting_at_step=1)),
                   ("epochs", lambda: EveryEpoch()), ("ema_epochs", lambda: EMAWeightAveraging(
                       decay=0.5, update_every_n_steps=0, update_starting_at_epoch=1))):
    net = Normed()
    net.net.load_state_dict(model.net.state_dict())
    averaging = make()
    trainer = quiet_trainer(max_epochs=3, callbacks=[averaging], default_root_dir=name)
    trainer.fit(net, loader, loader)
    path = trainer.checkpoint_callback.best_model_path
    saved = torch.load(path, weights_only=False)
    result[name] = {"weights": weights_of(net), "val_loss": float(trainer.callback_metrics["val_loss"]),
                    "keys": sorted(saved), "saved": {k: v.numpy().tolist() for k, v in saved["state_dict"].items()},
                    "current": {k: v.numpy().tolist() for k, v in saved["current_model_state"].items()},
                    "averaging": {k: v.numpy().tolist() for k, v in saved["averaging_state"].items()},
                    "state": saved["callbacks"][type(averaging).__name__]}
    if name == "ema":   # resume from the checkpoint: both the average and the module's own weights come back
        resumed = Normed()
        trainer = quiet_trainer(max_epochs=4, callbacks=[make()], default_root_dir="resumed")
        trainer.fit(resumed, loader, loader, ckpt_path=path)
        result["resumed"] = weights_of(resumed)
"""


def test_weight_averaging_matches_lightning(workdir):
    def check(ours, theirs):
        for name in ("ema", "epochs", "ema_epochs"):
            mine, real = ours[name], theirs[name]
            assert mine["keys"] == real["keys"] and mine["state"] == real["state"], name
            assert mine["val_loss"] == pytest.approx(real["val_loss"], rel=1e-5), name
            for key in ("weights", "saved", "current", "averaging"):
                assert_weights_close(mine[key], real[key])
        assert_weights_close(ours["resumed"], theirs["resumed"])
    compare(AVERAGING, workdir, check)


SPIKE = MODEL + QUIET + """
import os


class Spiking(Model):
    def __init__(self, at, factor):
        super().__init__()
        self.at, self.factor = at, factor

    def training_step(self, batch, batch_idx):
        loss = super().training_step(batch, batch_idx)
        return loss * self.factor if batch_idx == self.at else loss


result = {}
for name, at, factor, kwargs in (("spike", 4, 100.0, {}), ("nan", 3, float("nan"), dict(window=2)),
                                 ("none", 5, 1.5, dict(rtol=None, atol=5.0, warmup=2)),
                                 ("max", 2, 0.01, dict(mode="max", exclude_batches_path="spikes"))):
    net = Spiking(at, factor)
    net.load_state_dict(model.state_dict())
    detector = SpikeDetection(**kwargs)
    seen = []
    trainer = quiet_trainer(max_epochs=1, callbacks=[detector, LambdaCallback(
        on_exception=lambda trainer, module, error: seen.append(type(error).__name__))],
        default_root_dir=name, enable_checkpointing=False)
    error = error_of(trainer.fit, net, loader)
    path = detector.exclude_batches_path
    state = detector.state_dict()
    state["bad_batches_path"] = os.path.relpath(state["bad_batches_path"])
    written = None
    if os.path.exists(path):
        with open(path) as file:
            written = json.load(file)
    result[name] = {"error": error, "seen": seen, "bad": detector.bad_batches, "path": os.path.relpath(path),
                    "file": written,
                    "state": {k: round(v, 5) if isinstance(v, float) else v for k, v in state.items()}}
"""


def test_spike_detection_matches_lightning(workdir):
    def check(ours, theirs):
        assert ours == theirs
    compare(SPIKE, workdir, check)


DEVICE_STATS = MODEL + QUIET + """
import csv


class Recorder(CSVLogger):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = []

    def log_metrics(self, metrics, step=None):
        self.calls.append([sorted(metrics), step])
        super().log_metrics(metrics, step)


result = {}
for name, kwargs in (("default", {}), ("off", dict(cpu_stats=False))):
    recorder = Recorder("logs", name=name)
    trainer = quiet_trainer(max_epochs=2, callbacks=[DeviceStatsMonitor(**kwargs)], logger=recorder,
                            log_every_n_steps=3, limit_train_batches=5, limit_val_batches=2,
                            enable_checkpointing=False)
    trainer.fit(Model(), loader, loader)
    trainer.test(Model(), loader, verbose=False)
    trainer.validate(Model(), loader, verbose=False)
    result[name] = recorder.calls
result["error"] = error_of(quiet_trainer(callbacks=[DeviceStatsMonitor()], max_epochs=1).fit, Model(), loader)
"""


def test_device_stats_monitor_matches_lightning(workdir):
    def check(ours, theirs):
        for name in ("default", "off"):
            short = [[sorted({k.split("/")[0] for k in keys}), step] for keys, step in theirs[name]]
            assert [[sorted({k.split("/")[0] for k in keys}), step] for keys, step in ours[name]] == short, short
        assert ours == theirs
    compare(DEVICE_STATS, workdir, check)


SUMMARY = MODEL + QUIET + """
seen = []


class Recording(SummaryCallback):
    @staticmethod
    def summarize(summary_data, total_parameters, trainable_parameters, model_size, total_training_modes,
                  total_flops, **kwargs):
        seen.append([summary_data, total_parameters, trainable_parameters, round(model_size, 6),
                     total_training_modes, total_flops, kwargs])


model.example_input_array = x[:2]
quiet_trainer(max_epochs=1, callbacks=[Recording(max_depth=2, header_style="bold")],
              enable_checkpointing=False, enable_model_summary=True).fit(model, loader)
result = {"seen": seen, "rich": error_of(RichModelSummary) if RICH_MISSING else None}
"""


def test_model_summary_hook_and_rich_summary_match_lightning(workdir):
    """An overridden ``ModelSummary.summarize`` gets Lightning's arguments; RichModelSummary needs rich."""
    def check(ours, theirs):
        assert len(ours["seen"]) == 1 and ours["seen"][0][-1] == {"header_style": "bold"}
        assert ours == theirs
    import importlib.util
    prefix = f"RICH_MISSING = {importlib.util.find_spec('rich') is None}\n"
    namespace = {}
    exec(compile(EMBER_CALLBACKS + "from ember.lightning.callbacks import ModelSummary as SummaryCallback, "
                 "RichModelSummary\n" + prefix + SUMMARY, "program", "exec"), namespace)
    ours = json.loads(json.dumps(namespace["result"]))
    theirs = run_lightning(TORCH_CALLBACKS + "from pytorch_lightning.callbacks import ModelSummary as SummaryCallback, "
                           "RichModelSummary\n" + prefix + SUMMARY + "\nprint(json.dumps(result))", workdir)
    check(ours, theirs)


INTERRUPT = MODEL + QUIET + """
import signal
import sys


class Interrupted(Model):
    def training_step(self, batch, batch_idx):
        if batch_idx == 2:
            raise KeyboardInterrupt
        return super().training_step(batch, batch_idx)


# Python's own Ctrl+C handling, as in a terminal (a job started in the background inherits SIGINT ignored)
signal.signal(signal.SIGINT, signal.default_int_handler)
seen = []
handler = signal.getsignal(signal.SIGINT)
trainer = quiet_trainer(max_epochs=1, enable_checkpointing=False, callbacks=[LambdaCallback(
    on_exception=lambda trainer, module, error: seen.append([type(error).__name__, trainer.global_step,
                                                             signal.getsignal(signal.SIGINT) == signal.SIG_IGN]))])
try:
    trainer.fit(Interrupted(), loader)
    code = None
except SystemExit as exit:
    code = exit.code
ignored = signal.getsignal(signal.SIGINT) == signal.SIG_IGN
signal.signal(signal.SIGINT, handler)
result = {"code": code, "seen": seen, "interrupted": trainer.interrupted, "ignored": ignored}
"""


def test_keyboard_interrupt_shuts_down_as_lightning(workdir):
    """Ctrl+C in fit: the callbacks' on_exception (SIGINT ignored while shutting down, its handler back after),
    exit status 1."""
    def check(ours, theirs):
        assert ours == theirs == {"code": 1, "seen": [["KeyboardInterrupt", 2, True]], "interrupted": True,
                                  "ignored": False}
    compare(INTERRUPT, workdir, check)
