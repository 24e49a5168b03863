"""Settings of ``compile`` (``torch._dynamo.config``)."""
recompile_limit = 8
"""Captures kept per compiled function; a call whose guards match none of them once the limit is reached runs
eagerly."""
