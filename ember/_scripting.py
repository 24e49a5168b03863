"""Whether ``jit.script`` is compiling the calling code: kept below ``nn`` so that eager-only fast paths there can
step aside for the compiler (``jit`` sets it; ``jit.is_scripting`` reads it)."""
import contextvars

scripting = contextvars.ContextVar("ember_jit_scripting", default=False)


def is_scripting():
    """True while ``jit.script`` compiles the calling code."""
    return scripting.get()
