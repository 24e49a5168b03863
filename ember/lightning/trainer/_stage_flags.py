"""The Trainer's stage flags (``training``, ``validating``, ...), each true while ``trainer.state.stage`` is its
stage; setting one True makes it the stage, setting it False clears the stage if it was this one, as Lightning's."""
from .states import RunningStage, TrainerStatus


def _stage_flag(stage, doc):
    def get(self):
        return self.state.stage == stage

    def set(self, value):
        if value:
            self.state.stage = stage
        elif self.state.stage == stage:
            self.state.stage = None

    return property(get, set, doc=doc)


class _StageFlags:
    """A mixin: the flags derived from ``self.state``."""

    training = _stage_flag(RunningStage.TRAINING, "Whether the training loop is running.")
    sanity_checking = _stage_flag(RunningStage.SANITY_CHECKING, "Whether fit's sanity check is running.")
    validating = _stage_flag(RunningStage.VALIDATING, "Whether a validation loop (of fit or validate) is running.")
    testing = _stage_flag(RunningStage.TESTING, "Whether the test loop is running.")
    predicting = _stage_flag(RunningStage.PREDICTING, "Whether the predict loop is running.")

    @property
    def evaluating(self):
        """Whether a validation, test or sanity-check loop is running."""
        return self.state.stage is not None and self.state.stage.evaluating

    @property
    def interrupted(self):
        """Whether the last fit, validate, test or predict was stopped by an exception."""
        return self.state.status == TrainerStatus.INTERRUPTED
