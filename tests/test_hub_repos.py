"""ember.hub.load/list/help against torch.hub's: entrypoints of a hubconf.py from a local folder, and from a GitHub
repository archive served by a fake urlopen (no network) into each library's own cache: the default ref, the cache
and its message, validation of the ref, the trust prompt and list, and archives that try to escape the cache."""
import builtins
import io
import json
import zipfile

import pytest
import torch
import torch.hub

import ember
import ember.hub
from tests.test_hub import FakeResponse

HUBCONF = '''
dependencies = ["json"]
CONSTANT = 3


def entry(*args, **kwargs):
    """Returns what it was given."""
    return args, kwargs


def _private():
    return None
'''


class Response(FakeResponse):
    """test_hub's fake response, with the headers GitHub's API answers are decoded by."""

    class headers:
        @staticmethod
        def get_content_charset(default):
            return default


def _archive(files, top="owner-repo-abc123/"):
    """GitHub's zipball of ``files`` (name -> text), under its one top folder."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(top, "")
        for name, text in files.items():
            archive.writestr(top + name if not name.startswith("..") else name, text)
    return buffer.getvalue()


def serve(monkeypatch, module, archive, requests, has_main=True):
    """Routes ``module``'s urlopen to GitHub's answers for one repository with a ``main`` branch."""
    from urllib.error import HTTPError

    def urlopen(request, *args, **kwargs):
        url = request.full_url if hasattr(request, "full_url") else request
        requests.append(url)
        if url.endswith("/tree/main/"):
            if not has_main:
                raise HTTPError(url, 404, "Not Found", {}, None)
            return Response(b"")
        if "/zipball/" in url:
            return Response(archive)
        if url.startswith("https://api.github.com/") and url.endswith("page=1") and "/branches" in url:
            return Response(json.dumps([{"name": "main", "commit": {"sha": "abc123"}},
                                        {"name": "master", "commit": {"sha": "def456"}}]).encode())
        if url.startswith("https://api.github.com/"):
            return Response(b"[]")
        raise HTTPError(url, 404, "Not Found", {}, None)
    monkeypatch.setattr(module, "urlopen", urlopen)


@pytest.fixture
def caches(tmp_path, monkeypatch):
    """A hub folder per library, each library's urlopen faked; returns the folders."""
    folders = {}
    for lib, module in ((ember, ember.hub), (torch, torch.hub)):
        folders[lib] = tmp_path / lib.__name__
        monkeypatch.setattr(module, "_hub_dir", str(folders[lib]))
    return folders


def test_local_entrypoints_and_errors_match_torch(tmp_path):
    (tmp_path / "hubconf.py").write_text(HUBCONF)
    folder = str(tmp_path)
    for hub in (ember.hub, torch.hub):
        assert hub.load(folder, "entry", 1, 2, source="LOCAL", k=3) == ((1, 2), {"k": 3})
    for model, error in (("nope", RuntimeError), ("CONSTANT", RuntimeError), ("_private", None), (3, ValueError)):
        outcomes = []
        for hub in (ember.hub, torch.hub):
            try:
                outcomes.append(("returned", hub.load(folder, model, source="local")))
            except Exception as caught:
                outcomes.append((type(caught), str(caught)))
        assert outcomes[0] == outcomes[1] and (error is None or outcomes[0][0] is error), outcomes
    for hub in (ember.hub, torch.hub):
        with pytest.raises(ValueError, match='Unknown source: "svn". Allowed values: "github" | "local".'):
            hub.load(folder, "entry", source="svn")
    (tmp_path / "hubconf.py").write_text(HUBCONF.replace('["json"]', '["json", "not_a_real_package_xyz"]'))
    for hub in (ember.hub, torch.hub):
        with pytest.raises(RuntimeError, match="Missing dependencies: not_a_real_package_xyz"):
            hub.load(folder, "entry", source="local")


def test_github_repository_cache_and_entrypoints_match_torch(caches, monkeypatch, capsys):
    archive = _archive({"hubconf.py": HUBCONF, "helper.py": "VALUE = 1\n"})
    seen = {}
    for lib, hub in ((ember, ember.hub), (torch, torch.hub)):
        requests = seen[lib] = []
        serve(monkeypatch, hub, archive, requests)
        assert hub.list("owner/repo", trust_repo=True) == ["entry"]
        assert hub.help("owner/repo", "entry") == "Returns what it was given."
        assert hub.load("owner/repo", "entry", 5, trust_repo="check", verbose=False) == ((5,), {})
        folder = caches[lib]
        assert sorted(p.name for p in folder.iterdir()) == ["owner_repo_main", "trusted_list"]
        assert (folder / "trusted_list").read_text() == "owner_repo\n"
        assert (folder / "owner_repo_main" / "helper.py").read_text() == "VALUE = 1\n"
    assert [u.replace("zipball", "z") for u in seen[ember]] == [u.replace("zipball", "z") for u in seen[torch]]
    assert sum("/zipball/main" in u for u in seen[ember]) == 1   # downloaded once, then the cache
    err = capsys.readouterr().err
    assert err.count("Using cache found in") == 2   # help's in each library; load with verbose=False is quiet


def test_default_ref_validation_and_reload(caches, monkeypatch):
    archive = _archive({"hubconf.py": HUBCONF})
    for lib, hub in ((ember, ember.hub), (torch, torch.hub)):
        requests = []
        serve(monkeypatch, hub, archive, requests, has_main=False)
        assert hub.load("owner/repo", "entry", trust_repo=True) == ((), {})   # master: no main branch
        assert (caches[lib] / "owner_repo_master").is_dir()
        with pytest.raises(ValueError, match="Cannot find v9 in https://github.com/owner/repo. If it's a commit from "
                                             "a forked repo, please call hub.load"):
            hub.load("owner/repo:v9", "entry", trust_repo=True)
        assert hub.load("owner/repo:v9", "entry", trust_repo=True, skip_validation=True) == ((), {})
        assert hub.load("owner/repo:def4", "entry", trust_repo=True) == ((), {})   # a commit prefix of a branch
        before = sum("/zipball/" in u for u in requests)
        hub.load("owner/repo:v9", "entry", trust_repo=True, skip_validation=True, force_reload=True)
        assert sum("/zipball/" in u for u in requests) == before + 1


@pytest.mark.parametrize("answer,outcome", [("y", None), ("", "Untrusted repository."),
                                            ("maybe", "Unrecognized response maybe.")])
def test_trust_prompt_matches_torch(caches, monkeypatch, answer, outcome):
    archive = _archive({"hubconf.py": HUBCONF})
    prompts = []
    monkeypatch.setattr(builtins, "input", lambda text: prompts.append(text) or answer)
    for lib, hub in ((ember, ember.hub), (torch, torch.hub)):
        serve(monkeypatch, hub, archive, [])
        if outcome is None:
            assert hub.load("stranger/repo", "entry") == ((), {})
            assert (caches[lib] / "trusted_list").read_text() == "stranger_repo\n"
            assert hub.load("stranger/repo", "entry") == ((), {})   # trusted now: no second prompt
        else:
            with pytest.raises((ValueError, Exception), match=outcome):
                hub.load("stranger/repo", "entry")
            assert not (caches[lib] / "owner_repo_main").exists()
        hub.load("pytorch/repo", "entry")   # PyTorch's own organisations are trusted
    assert len(prompts) == 2 and prompts[0] == prompts[1]
    assert prompts[0].startswith("The repository stranger_repo does not belong to the list of trusted repositories")


def test_an_archive_escaping_the_cache_is_refused(caches, monkeypatch):
    for name, message in (("../evil.py", "Archive entry contains directory traversal"),):
        archive = _archive({"hubconf.py": HUBCONF, name: "raise SystemExit"})
        for lib, hub in ((ember, ember.hub), (torch, torch.hub)):
            serve(monkeypatch, hub, archive, [])
            with pytest.raises(ValueError, match=message):
                hub.load("owner/repo", "entry", trust_repo=True)
            assert not (caches[lib].parent / "evil.py").exists()
