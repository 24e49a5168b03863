"""Resuming from checkpoints saved mid-epoch (ModelCheckpoint(every_n_train_steps=...)) against real Lightning 2.6:
the same batch indices run after the restore, the same logged rows, metrics, step counts and final weights; also a
checkpoint saved at an epoch's last batch and one with gradient accumulation."""
import pathlib

import pytest

from .lightning_oracle import run_lightning
from .test_trainer_vs_lightning import (
    MODEL,
    TORCH_IMPORTS,
    assert_weights_close,
    csv_rows,
    run_ember,
    workdir,  # noqa: F401  (the fixture, shared)
)

RESUME = MODEL + """
import warnings


class Seen(pl.Callback):
    def __init__(self):
        self.batches = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.batches.append([trainer.current_epoch, batch_idx, trainer.global_step])


def resume(accumulate, every, step):
    tag = f"{accumulate}-{every}"
    first = Model()
    first.load_state_dict(model.state_dict())
    saver = ModelCheckpoint(dirpath=f"ckpt-{tag}", every_n_train_steps=every, save_top_k=-1, filename="{step}")
    pl.Trainer(max_epochs=3, callbacks=[saver], enable_progress_bar=False, enable_model_summary=False, logger=False,
               accumulate_grad_batches=accumulate, num_sanity_val_steps=0).fit(first, loader, loader)
    second, seen = Model(), Seen()
    trainer = pl.Trainer(max_epochs=3, callbacks=[seen], enable_progress_bar=False, enable_model_summary=False,
                         logger=CSVLogger(f"logs-{tag}"), log_every_n_steps=1, enable_checkpointing=False,
                         accumulate_grad_batches=accumulate, num_sanity_val_steps=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer.fit(second, loader, loader, ckpt_path=f"ckpt-{tag}/step={step}.ckpt")
    return {"seen": seen.batches, "weights": weights_of(second), "global_step": trainer.global_step,
            "current_epoch": trainer.current_epoch, "log_dir": os.path.relpath(trainer.log_dir),
            "callback_metrics": {k: float(v) for k, v in trainer.callback_metrics.items()},
            "lr": trainer.optimizers[0].param_groups[0]["lr"],
            "warned": any("ended before the epoch ended" in str(w.message) for w in caught)}


result = {"mid": resume(1, 3, 3), "last_batch": resume(1, 7, 7), "accumulated": resume(2, 3, 3)}
if os.path.exists("ember-ckpt-1-3"):   # the Lightning run: resume from ember's mid-epoch checkpoint too
    second, seen = Model(), Seen()
    pl.Trainer(max_epochs=3, callbacks=[seen], enable_progress_bar=False, enable_model_summary=False, logger=False,
               enable_checkpointing=False, num_sanity_val_steps=0).fit(second, loader, loader,
                                                                      ckpt_path="ember-ckpt-1-3/step=3.ckpt")
    result["from_ember"] = {"seen": seen.batches, "weights": weights_of(second)}
"""


@pytest.mark.timeout(1200)
def test_mid_epoch_resume_matches_lightning(workdir):  # noqa: F811
    ours = run_ember(RESUME, workdir)
    for case in ours.values():
        pathlib.Path(case["log_dir"]).rename(case["log_dir"] + "-ember")
    for folder in workdir.glob("ckpt-*"):
        folder.rename(workdir / f"ember-{folder.name}")
    theirs = run_lightning(TORCH_IMPORTS + RESUME + "\nprint(json.dumps(result))", workdir)
    assert ours["mid"]["seen"][0] == [0, 3, 3] and ours["mid"]["warned"]
    # real Lightning resumes ember's mid-epoch checkpoint where ember does
    assert theirs["from_ember"]["seen"] == ours["mid"]["seen"]
    assert_weights_close(theirs["from_ember"]["weights"], ours["mid"]["weights"])
    for name in ("mid", "last_batch", "accumulated"):
        mine, real = ours[name], theirs[name]
        for key in ("seen", "global_step", "current_epoch", "warned", "lr"):
            assert mine[key] == real[key], (name, key)
        assert mine["callback_metrics"].keys() == real["callback_metrics"].keys(), name
        for metric, value in real["callback_metrics"].items():
            assert mine["callback_metrics"][metric] == pytest.approx(value, rel=1e-4, abs=1e-6), (name, metric)
        assert_weights_close(mine["weights"], real["weights"])
        rows, real_rows = csv_rows(pathlib.Path(mine["log_dir"] + "-ember") / "metrics.csv"), csv_rows(
            pathlib.Path(real["log_dir"]) / "metrics.csv")
        assert [sorted(r) for r in rows] == [sorted(r) for r in real_rows], name
        for row, real_row in zip(rows, real_rows):
            for key, value in real_row.items():
                assert row[key] == pytest.approx(value, rel=1e-4, abs=1e-6), (name, key)
