"""``torch.distributed.checkpoint.stateful``: objects ``save``/``load`` call ``state_dict()``/``load_state_dict()``
on (a model, an optimizer, an application's own state)."""
from typing import Any, Protocol, TypeVar, runtime_checkable

__all__ = ["Stateful", "StatefulT"]


@runtime_checkable
class Stateful(Protocol):
    """Stateful protocol for objects that can be checkpointed and restored."""

    def state_dict(self) -> dict[str, Any]:
        """Objects should return their state_dict representation as a dictionary."""
        ...

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the object's state from the provided state_dict."""
        ...


StatefulT = TypeVar("StatefulT", bound=Stateful)
