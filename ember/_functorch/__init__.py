"""``torch._functorch``: the modules of PyTorch's transform implementation that libraries import by path."""
