"""The Trainer's batches and metrics: limited (batch_idx, batch) pairs, and what each step and epoch logged, put
into ``callback_metrics``, ``logged_metrics`` and ``progress_bar_metrics`` and written to the loggers on Lightning's
steps."""
from ._loop_parts import _limit, _scalar
from .trainer.states import TrainerFn


class _StepMetrics:
    """The Trainer's methods for batches and logged metrics (``Trainer`` inherits them)."""

    def _reset_metrics(self):
        """Each of fit, validate and test starts with no metrics, as in Lightning."""
        self.callback_metrics, self.logged_metrics, self.progress_bar_metrics = {}, {}, {}

    def _batches(self, loader, limit, action, start=0):
        """(batch_idx, batch) pairs up to the limit; from a resumed epoch's ``start`` on, a fresh pass over the
        loader numbered from ``start`` (Lightning's behaviour for dataloaders without saved state). As Lightning's
        prefetching data fetcher, the next batch is fetched before this one is given, and the profiler records each
        fetch as ``action`` (``[_TrainingEpochLoop].train_dataloader_next``, ``[_EvaluationLoop].val_next``, ...)."""
        total = _limit(loader, limit)
        pairs = enumerate(loader, start)
        pair = next(pairs, None)
        while pair is not None and pair[0] < total:
            with self.profiler.profile(action):
                current, pair = pair, next(pairs, None)
            yield current

    def _refresh_step_metrics(self):
        """Puts what this step logged into callback/logged/progress-bar metrics (the bar's as floats), so that hooks
        later in the step see it, as Lightning's metrics properties do; returns it."""
        step = self._results.step_metrics()
        for name, plain, value, prog_bar, logger in step:
            self.callback_metrics[name] = self.callback_metrics[plain] = value
            if prog_bar:
                self.progress_bar_metrics[name] = _scalar(value)
            if logger:
                self.logged_metrics[name] = value
        return step

    def _log_step(self, to_loggers=True):
        step = self._refresh_step_metrics()
        should_log = (self._batches_that_stepped + 1) % self.log_every_n_steps == 0 or self.should_stop
        to_log = {name: float(value) for name, _, value, _, logger in step if logger}
        if to_log and should_log and to_loggers:
            for logger in self._rank_zero_loggers():
                logger.log_metrics({**to_log, "epoch": self.current_epoch}, step=self._batches_that_stepped)
        self._results.end_step()

    def _epoch_end_metrics(self, results, stage, log=True):
        metrics = {}
        to_log = {}
        for name, plain, value, prog_bar, logger in results.epoch_metrics():
            metrics[name] = value
            self.callback_metrics[name] = self.callback_metrics[plain] = value
            if prog_bar:
                self.progress_bar_metrics[name] = _scalar(value)
            if logger:
                self.logged_metrics[name] = value
                to_log[name] = float(value)
        if to_log and log:
            step = (max(self._batches_that_stepped - 1, 0) if self.state.fn == TrainerFn.FITTING
                    else self._batches_that_stepped)
            for logger in self._rank_zero_loggers():
                logger.log_metrics({**to_log, "epoch": self.current_epoch}, step=step)
        return metrics
