"""``torch.compiler.set_stance``: how compiled callables behave for a while (capture as usual, run eagerly, run
eagerly or fail instead of capturing again, run the first call eagerly), set by a call, a ``with`` block or a
decorator."""
import functools

STANCES = ("default", "force_eager", "eager_on_recompile", "fail_on_recompile", "eager_then_compile",
           "aot_eager_then_compile")
current = {"stance": "default"}


class set_stance:
    """Sets the compiler's stance now (a call), for a ``with`` block, or for each call of a decorated function.
    ``force_backend`` names a backend for the default stance (ember has one capture mechanism for all);
    ``skip_guard_eval_unsafe`` is accepted, and guards are still evaluated (always safe)."""

    def __init__(self, stance="default", *, skip_guard_eval_unsafe=False, force_backend=None):
        from ._api import is_compiling
        if is_compiling():
            raise RuntimeError("set_stance cannot be called inside a torch.compile region")
        if stance not in STANCES:
            raise RuntimeError(f"invalid torch.compile stance '{stance}'")
        if force_backend is not None and stance != "default":
            raise RuntimeError("non-default stance cannot have force_backend set")
        self.stance, self.force_backend = stance, force_backend
        self.previous, current["stance"] = current["stance"], stance

    def __enter__(self):
        current["stance"] = self.stance

    def __exit__(self, *exc_info):
        current["stance"] = self.previous
        return False

    def __call__(self, function):
        current["stance"] = self.previous   # as a decorator it applies inside the calls only

        @functools.wraps(function)
        def with_stance(*args, **kwargs):
            with set_stance(self.stance, force_backend=self.force_backend):
                return function(*args, **kwargs)
        return with_stance


def recompile_refused(function):
    """Raises ``fail_on_recompile``'s error for ``function``."""
    code = getattr(function, "__code__", None)
    where = (f"filename: '{code.co_filename}', function name: '{code.co_name}', line number: {code.co_firstlineno}"
             if code is not None else f"function: {function!r}")
    raise RuntimeError(f"Detected recompile when torch.compile stance is 'fail_on_recompile'. {where}")
