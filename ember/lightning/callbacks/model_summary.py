"""ModelSummary: logs the model's summary table (``utilities.model_summary``) when fitting starts."""
import logging

from .callback import Callback

log = logging.getLogger(__name__)


class ModelSummary(Callback):
    """Logs the summary of the LightningModule's layers down to ``max_depth`` (0: none) at the start of fit; override
    ``summarize`` to show it another way (``summarize_kwargs`` are passed to it)."""

    def __init__(self, max_depth=1, **summarize_kwargs):
        self._max_depth = max_depth
        self._summarize_kwargs = summarize_kwargs

    @property
    def max_depth(self):
        return self._max_depth

    def on_fit_start(self, trainer, pl_module):
        if not self._max_depth:
            return
        from ..utilities.model_summary import summarize
        summary = summarize(pl_module, max_depth=self._max_depth)
        if trainer.is_global_zero:
            self.summarize(summary._get_summary_data(), summary.total_parameters, summary.trainable_parameters,
                           summary.model_size, summary.total_training_modes, total_flops=summary.total_flops,
                           **self._summarize_kwargs)

    @staticmethod
    def summarize(summary_data, total_parameters, trainable_parameters, model_size, total_training_modes, total_flops,
                  **summarize_kwargs):
        """Logs the table: ``summary_data`` is its (header, cells) columns, the rest the totals under it."""
        from ..utilities.model_summary import _format_summary_table
        table = _format_summary_table(total_parameters, trainable_parameters, model_size, total_training_modes,
                                      total_flops, *summary_data)
        log.info("\n" + table)
