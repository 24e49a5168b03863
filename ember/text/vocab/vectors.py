"""Pretrained word vectors from their text formats (GloVe, fastText .vec, word2vec text), cached as .pt files
(torchtext.vocab.Vectors, GloVe, FastText)."""
import gzip
import os
import tarfile
import urllib.request
import zipfile

import ember

__all__ = ["Vectors", "GloVe", "FastText"]


class Vectors:
    """Vectors read from ``name`` (a path, or a file name in ``cache``; downloaded from ``url`` when missing):
    one "token v1 ... vd" line each, a "count dim" header skipped; ``itos``, ``stoi``, ``vectors`` (N, dim),
    ``dim``. Unknown tokens get ``unk_init`` of a zero vector."""

    def __init__(self, name, cache=None, url=None, unk_init=None, max_vectors=None):
        cache = ".vector_cache" if cache is None else os.fspath(cache)
        self.itos, self.stoi, self.vectors, self.dim = None, None, None, None
        self.unk_init = unk_init if unk_init is not None else ember.Tensor.zero_
        self.cache(os.fspath(name), cache, url=url, max_vectors=max_vectors)

    def __getitem__(self, token):
        if token in self.stoi:
            return self.vectors[self.stoi[token]]
        return self.unk_init(ember.zeros(self.dim))

    def __len__(self):
        return len(self.vectors)

    def __contains__(self, token):
        return token in self.stoi

    def cache(self, name, cache, url=None, max_vectors=None):
        """Loads the .pt cache of ``name`` or builds it from the text file (downloading ``url`` when needed)."""
        if os.path.isfile(name):
            path = name
            suffix = f"_{max_vectors}.pt" if max_vectors else ".pt"
            path_pt = os.path.join(cache, os.path.basename(name)) + suffix
        else:
            path = os.path.join(cache, name)
            path_pt = path + (f"_{max_vectors}.pt" if max_vectors else ".pt")
        if not os.path.isfile(path_pt):
            if not os.path.isfile(path) and url:
                _download_and_extract(url, cache)
            if not os.path.isfile(path):
                raise RuntimeError(f"no vectors found at {path}")
            self.itos, self.vectors, self.dim = _read_text_vectors(path, max_vectors)
            self.stoi = {word: i for i, word in enumerate(self.itos)}
            os.makedirs(cache, exist_ok=True)
            ember.save([self.itos, self.stoi, self.vectors, self.dim], path_pt)
        else:
            self.itos, self.stoi, self.vectors, self.dim = ember.load(path_pt)

    def get_vecs_by_tokens(self, tokens, lower_case_backup=False):
        """The vectors of ``tokens`` stacked (N, dim) (one token: its vector); ``lower_case_backup`` falls back to
        the lower-cased token when a token is missing."""
        single = not isinstance(tokens, list)
        tokens = [tokens] if single else tokens
        if lower_case_backup:
            vectors = [self[token] if token in self.stoi else self[token.lower()] for token in tokens]
        else:
            vectors = [self[token] for token in tokens]
        stacked = ember.stack(vectors)
        return stacked[0] if single else stacked


def _read_text_vectors(path, max_vectors):
    itos, rows, dim = [], [], None
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf8", errors="replace") as lines:
        for line in lines:
            if max_vectors is not None and len(itos) >= max_vectors:
                break
            entries = line.rstrip().split(" ")
            word, values = entries[0], entries[1:]
            if dim is None and len(values) > 1:
                dim = len(values)
            elif len(values) == 1:   # a "count dim" header, or a word without a vector
                continue
            elif len(values) != dim:
                raise RuntimeError(f"Vector for token {word} has {len(values)} dimensions, but previously read vectors "
                                   f"have {dim} dimensions. All vectors must have the same number of dimensions.")
            rows.append([float(v) for v in values])
            itos.append(word)
    vectors = ember.tensor(rows, dtype=ember.float32).view(-1, dim or 0)
    return itos, vectors, dim


def _download_and_extract(url, cache):
    os.makedirs(cache, exist_ok=True)
    destination = os.path.join(cache, os.path.basename(url))
    if not os.path.isfile(destination):
        with urllib.request.urlopen(url) as response, open(destination + ".partial", "wb") as out:
            while chunk := response.read(1 << 20):
                out.write(chunk)
        os.replace(destination + ".partial", destination)
    if destination.endswith(".zip"):
        with zipfile.ZipFile(destination) as archive:
            archive.extractall(cache)
    elif destination.endswith((".tar.gz", ".tgz")):
        with tarfile.open(destination, "r:gz") as archive:
            archive.extractall(cache, filter="data")


class GloVe(Vectors):
    """GloVe vectors (Pennington et al.): ``name`` "6B", "42B", "840B" or "twitter.27B" and ``dim``."""

    url = {"42B": "http://nlp.stanford.edu/data/glove.42B.300d.zip",
           "840B": "http://nlp.stanford.edu/data/glove.840B.300d.zip",
           "twitter.27B": "http://nlp.stanford.edu/data/glove.twitter.27B.zip",
           "6B": "http://nlp.stanford.edu/data/glove.6B.zip"}

    def __init__(self, name="840B", dim=300, **kwargs):
        url = self.url[name]
        super().__init__(f"glove.{name}.{dim}d.txt", url=url, **kwargs)


class FastText(Vectors):
    """fastText Wikipedia vectors (Bojanowski et al.) for ``language``."""

    url_base = "https://dl.fbaipublicfiles.com/fasttext/vectors-wiki/wiki.{}.vec"

    def __init__(self, language="en", **kwargs):
        url = self.url_base.format(language)
        super().__init__(os.path.basename(url), url=url, **kwargs)
