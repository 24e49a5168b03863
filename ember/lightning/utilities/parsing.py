"""AttributeDict: the dict type of ``hparams``; get_init_args and parse_class_init_keys read a constructor's
arguments."""


class AttributeDict(dict):
    """A dict whose keys also read and write as attributes (``hparams.lr``); prints one sorted ``"key": value``
    line per entry."""

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError as error:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{key}'") from error

    def __setattr__(self, key, value):
        self[key] = value

    def __delattr__(self, item):
        if item not in self:
            raise KeyError(item)
        del self[item]

    def __repr__(self):
        if not len(self):
            return ""
        max_key_length = max(len(str(k)) for k in self)
        tmp_name = "{:" + str(max_key_length + 3) + "s} {}"
        rows = [tmp_name.format(f'"{n}":', self[n]) for n in sorted(self.keys())]
        return "\n".join(rows)


def parse_class_init_keys(cls):
    """The names of ``cls.__init__``'s ``self``, ``*args`` and ``**kwargs`` parameters (None where it has none)."""
    import inspect
    params = list(inspect.signature(cls.__init__).parameters.values())

    def first(kind):
        return next((p.name for p in params if p.kind == kind), None)
    return params[0].name, first(inspect.Parameter.VAR_POSITIONAL), first(inspect.Parameter.VAR_KEYWORD)


def get_init_args(frame):
    """The arguments of the ``__init__`` running in ``frame`` (one of a class whose ``__init__`` names
    ``__class__``, as a ``super()`` call does), ``**kwargs`` spread out; ``{}`` for any other frame."""
    import inspect
    local_vars = inspect.getargvalues(frame).locals
    if "__class__" not in local_vars or frame.f_code.co_name != "__init__":
        return {}
    cls = local_vars["__class__"]
    self_var, args_var, kwargs_var = parse_class_init_keys(cls)
    excluded = {name for name in (self_var, args_var, kwargs_var) if name} | {"__class__", "frame", "frame_args"}
    local_args = {name: local_vars[name] for name in inspect.signature(cls.__init__).parameters}
    if kwargs_var:
        local_args.update(local_args.get(kwargs_var, {}))
    return {name: value for name, value in local_args.items() if name not in excluded}
