"""``backends.cudnn``: the flags PyTorch programs set; ember has no cuDNN, so they change nothing."""
benchmark = False
deterministic = False
enabled = True
allow_tf32 = True


def is_available():
    """False: ember does not use cuDNN."""
    return False


def version():
    """None: no cuDNN library is loaded."""
    return None
