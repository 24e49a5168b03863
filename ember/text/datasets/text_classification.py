"""AG_NEWS and IMDB: (label, text) pairs, read from torchtext's cache layout under ``root``."""
import csv
import os

from ._base import DEFAULT_ROOT, TextIterable, ensure_extracted, ensure_file, splits

__all__ = ["AG_NEWS", "IMDB"]

AG_NEWS_URL = {"train": "https://raw.githubusercontent.com/mhjabreel/CharCnn_Keras/master/data/ag_news_csv/train.csv",
               "test": "https://raw.githubusercontent.com/mhjabreel/CharCnn_Keras/master/data/ag_news_csv/test.csv"}
AG_NEWS_MD5 = {"train": "b1a00f826fdfbd249f79597b59e1dc12", "test": "d52ea96a97a2d943681189a97654912d"}
AG_NEWS_NUM_LINES = {"train": 120000, "test": 7600}

IMDB_URL = "http://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
IMDB_MD5 = "7c2ac02c03563afcf9b574c7e56c153a"
IMDB_NUM_LINES = {"train": 25000, "test": 25000}


def AG_NEWS(root=DEFAULT_ROOT, split=("train", "test")):
    """AG News topic classification: (label 1-4, title and description joined by a space) from
    ``root/AG_NEWS/<split>.csv`` (downloaded and MD5-checked when missing)."""
    root = os.path.join(os.fspath(root), "AG_NEWS")

    def make(name):
        path = os.path.join(root, name + ".csv")

        def read():
            ensure_file(path, AG_NEWS_URL[name], AG_NEWS_MD5[name])
            with open(path, encoding="utf-8", newline="") as f:
                for row in csv.reader(f):
                    yield int(row[0]), " ".join(row[1:])
        return TextIterable(read, AG_NEWS_NUM_LINES[name])
    return splits("AG_NEWS", split, ("train", "test"), make)


def IMDB(root=DEFAULT_ROOT, split=("train", "test")):
    """IMDB movie-review sentiment: (label 1 = neg, 2 = pos, review text) from the extracted
    ``root/IMDB/aclImdb/<split>/{neg,pos}/*.txt`` (downloaded and MD5-checked when missing)."""
    root = os.path.join(os.fspath(root), "IMDB")

    def make(name):
        folder = os.path.join(root, "aclImdb", name)

        def read():
            ensure_extracted(os.path.join(root, "aclImdb_v1.tar.gz"), IMDB_URL, IMDB_MD5, folder)
            for label, sentiment in ((1, "neg"), (2, "pos")):
                directory = os.path.join(folder, sentiment)
                for filename in sorted(os.listdir(directory)):
                    if filename.endswith(".txt"):
                        with open(os.path.join(directory, filename), encoding="utf-8") as f:
                            yield label, f.read()
        return TextIterable(read, IMDB_NUM_LINES[name])
    return splits("IMDB", split, ("train", "test"), make)
