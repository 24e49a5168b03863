"""grad_norm: each parameter's gradient norm and their total, ready for ``self.log_dict``."""


def grad_norm(module, norm_type, group_separator="/"):
    """The ``norm_type``-norm of each parameter's gradient (keys ``grad_{p}_norm/{name}``) and of all of them as one
    vector (``grad_{p}_norm_total``)."""
    import ember
    norm_type = float(norm_type)
    if norm_type <= 0:
        raise ValueError(f"`norm_type` must be a positive number or 'inf' (infinity norm). Got {norm_type}")
    norms = {f"grad_{norm_type}_norm{group_separator}{name}": p.grad.data.norm(norm_type)
             for name, p in module.named_parameters() if p.grad is not None}
    if norms:
        norms[f"grad_{norm_type}_norm_total"] = ember.tensor(list(norms.values())).norm(norm_type)
    return norms
