"""``lightning.pytorch.trainer.states``: what the Trainer is doing: the entry point (``TrainerFn``), whether it
runs or has stopped (``TrainerStatus``) and the loop running now (``RunningStage``), together in ``TrainerState``."""
from dataclasses import dataclass
from typing import Optional

from ..utilities.enums import LightningEnum


class TrainerStatus(LightningEnum):
    """Whether the Trainer is being created, running, or has finished or been interrupted."""

    INITIALIZING = "initializing"
    RUNNING = "running"
    FINISHED = "finished"
    INTERRUPTED = "interrupted"

    @property
    def stopped(self):
        """Whether the run has ended (finished or interrupted)."""
        return self in (self.FINISHED, self.INTERRUPTED)


class TrainerFn(LightningEnum):
    """The Trainer's entry point being run: fit, validate, test or predict."""

    FITTING = "fit"
    VALIDATING = "validate"
    TESTING = "test"
    PREDICTING = "predict"


class RunningStage(LightningEnum):
    """The loop running now: fit runs the sanity check, training and validation; the others their own loop."""

    TRAINING = "train"
    SANITY_CHECKING = "sanity_check"
    VALIDATING = "validate"
    TESTING = "test"
    PREDICTING = "predict"

    @property
    def evaluating(self):
        """Whether this stage evaluates (validation, test or the sanity check)."""
        return self in (self.VALIDATING, self.TESTING, self.SANITY_CHECKING)

    @property
    def dataloader_prefix(self):
        """The prefix of this stage's dataloader hook (``val`` for validation and the sanity check)."""
        if self in (self.VALIDATING, self.SANITY_CHECKING):
            return "val"
        return self.value


@dataclass
class TrainerState:
    """The Trainer's status, entry point (``fn``) and running stage."""

    status: TrainerStatus = TrainerStatus.INITIALIZING
    fn: Optional[TrainerFn] = None
    stage: Optional[RunningStage] = None

    @property
    def finished(self):
        """Whether the last run finished normally."""
        return self.status == TrainerStatus.FINISHED

    @property
    def stopped(self):
        """Whether the last run has ended (finished or interrupted)."""
        return self.status.stopped
