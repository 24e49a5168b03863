"""AttributeDict: the dict type of ``hparams``."""


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
