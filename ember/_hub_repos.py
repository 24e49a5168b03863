"""``ember.hub.load``, ``list`` and ``help``: entrypoints of a repository's ``hubconf.py``, from a local folder or a
GitHub repository downloaded into the hub cache (``get_dir()/<owner>_<repo>_<ref>``), as ``torch.hub`` does.

Loading runs the repository's code, so a GitHub repository must be trusted first (``trust_repo``): listed in
``get_dir()/trusted_list``, already in the cache, owned by PyTorch's own organisations, or confirmed at a prompt.
Archives are extracted only where every entry stays inside the cache folder.
"""
import contextlib
import json
import os
import re
import shutil
import sys

from . import hub as _hub

_TRUSTED_REPO_OWNERS = ("facebookresearch", "facebookincubator", "pytorch", "fairinternal")
_ENV_GITHUB_TOKEN = "GITHUB_TOKEN"
_DEPENDENCIES = "dependencies"
_HUBCONF = "hubconf.py"
_PATH_SEPARATORS = re.compile(r"[/\\]")


def load(repo_or_dir, model, *args, source="github", trust_repo="check", force_reload=False, verbose=True,
         skip_validation=False, **kwargs):
    """Calls the entrypoint ``model`` of ``hubconf.py`` in a GitHub repository ("owner/repo[:ref]") or, with
    ``source="local"``, a local folder, with ``args`` and ``kwargs``; returns what it returns."""
    source = source.lower()
    if source not in ("github", "local"):
        raise ValueError(f'Unknown source: "{source}". Allowed values: "github" | "local".')
    if source == "github":
        repo_or_dir = _get_cache_or_reload(repo_or_dir, force_reload, trust_repo, verbose, skip_validation)
    with _on_sys_path(repo_or_dir):
        entry = _entrypoint(_import_hubconf(repo_or_dir), model)
        return entry(*args, **kwargs)


def list(github, force_reload=False, skip_validation=False, trust_repo="check", verbose=True):  # noqa: A001
    """The names of the callable entrypoints in the GitHub repository's ``hubconf.py``."""
    repo_dir = _get_cache_or_reload(github, force_reload, trust_repo, verbose, skip_validation)
    with _on_sys_path(repo_dir):
        hubconf = _import_hubconf(repo_dir)
    return [name for name in dir(hubconf) if callable(getattr(hubconf, name)) and not name.startswith("_")]


def help(github, model, force_reload=False, skip_validation=False, trust_repo="check"):  # noqa: A001
    """The docstring of the entrypoint ``model`` in the GitHub repository's ``hubconf.py``."""
    repo_dir = _get_cache_or_reload(github, force_reload, trust_repo, True, skip_validation)
    with _on_sys_path(repo_dir):
        hubconf = _import_hubconf(repo_dir)
    return _entrypoint(hubconf, model).__doc__


@contextlib.contextmanager
def _on_sys_path(path):
    sys.path.insert(0, path)
    try:
        yield
    finally:
        sys.path.remove(path)


def _import_hubconf(folder):
    """The folder's ``hubconf.py``, executed as a fresh module."""
    import importlib.util
    path = os.path.join(folder, _HUBCONF)
    spec = importlib.util.spec_from_file_location(_HUBCONF, path)
    if spec is None or spec.loader is None:
        raise AssertionError(f"failed to load spec from {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _entrypoint(hubconf, model):
    """The callable ``model`` of a loaded hubconf, once the packages its ``dependencies`` name are found."""
    if not isinstance(model, str):
        raise ValueError("Invalid input: model should be a string of function name")
    import importlib.util
    missing = [name for name in getattr(hubconf, _DEPENDENCIES, None) or () if importlib.util.find_spec(name) is None]
    if missing:
        raise RuntimeError(f"Missing dependencies: {', '.join(missing)}")
    entry = getattr(hubconf, model, None) if model in dir(hubconf) else None
    if entry is None or not callable(entry):
        raise RuntimeError(f"Cannot find callable {model} in hubconf")
    return entry


def _parse_repo_info(github):
    """(owner, repo, ref) of "owner/repo[:ref]"; without a ref, ``main`` where the repository has it, else ``master``
    (offline: whichever the cache holds)."""
    from urllib.error import HTTPError, URLError
    repo_info, ref = github.split(":") if ":" in github else (github, None)
    owner, name = repo_info.split("/")
    if ref is None:
        try:
            with _hub.urlopen(f"https://github.com/{owner}/{name}/tree/main/"):
                ref = "main"
        except HTTPError as error:
            if error.code != 404:
                raise
            ref = "master"
        except URLError as error:
            ref = next((r for r in ("main", "master") if os.path.exists(f"{_hub.get_dir()}/{owner}_{name}_{r}")), None)
            if ref is None:
                raise RuntimeError("It looks like there is no internet connection and the repo could not be found in "
                                   f"the cache ({_hub.get_dir()})") from error
    return owner, name, ref


def _get_cache_or_reload(github, force_reload, trust_repo, verbose, skip_validation):
    """The cached folder of the repository, downloaded (and its ref checked against the original repository unless
    ``skip_validation``) when missing or ``force_reload``; the repository must be trusted."""
    hub_dir = _hub.get_dir()
    os.makedirs(hub_dir, exist_ok=True)
    owner, name, ref = _parse_repo_info(github)
    ref_name = ref.replace("/", "_")   # GitHub allows "/" in branch names
    owner_name_ref = "_".join([owner, name, ref_name])
    repo_dir = os.path.join(hub_dir, owner_name_ref)
    _check_repo_is_trusted(owner, name, owner_name_ref, trust_repo)
    if not force_reload and os.path.exists(repo_dir):
        if verbose:
            sys.stderr.write(f"Using cache found in {repo_dir}\n")
        return repo_dir
    if not skip_validation:
        _validate_not_a_forked_repo(owner, name, ref)
    archive = os.path.join(hub_dir, ref_name + ".zip")
    _remove_if_exists(archive)
    _download_archive(owner, name, ref, archive)
    import zipfile
    with zipfile.ZipFile(archive) as opened:
        extracted = os.path.join(hub_dir, opened.infolist()[0].filename)
        _remove_if_exists(extracted)
        _safe_extract(opened, hub_dir)
    _remove_if_exists(archive)
    _remove_if_exists(repo_dir)
    shutil.move(extracted, repo_dir)
    return repo_dir


def _download_archive(owner, name, ref, archive):
    """The repository at ``ref`` as GitHub's zip archive; a ref that is both a tag and a branch is taken as the
    branch, with a warning (GitHub answers 300)."""
    from urllib.error import HTTPError
    url = f"https://github.com/{owner}/{name}/zipball/{ref}"
    sys.stdout.write(f'Downloading: "{url}" to {archive}\n')
    try:
        _hub.download_url_to_file(url, archive, progress=False)
    except HTTPError as error:
        if error.code != 300:
            raise
        import warnings
        warnings.warn(f"The ref {ref} is ambiguous. Perhaps it is both a tag and a branch in the repo? Torchhub will "
                      "now assume that it's a branch. You can disambiguate tags and branches by explicitly passing "
                      "refs/heads/branch_name or refs/tags/tag_name as the ref. That might require using "
                      "skip_validation=True.", stacklevel=4)
        url = f"https://github.com/{owner}/{name}/zipball/refs/heads/{ref}"
        _hub.download_url_to_file(url, archive, progress=False)


def _validate_not_a_forked_repo(owner, name, ref):
    """Raises unless ``ref`` is a branch or tag name, or a commit prefix of one, of the repository itself (GitHub's
    API; ``GITHUB_TOKEN`` is sent when set)."""
    from urllib.error import HTTPError
    from urllib.request import Request
    headers = {"Accept": "application/vnd.github.v3+json"}
    token = os.environ.get(_ENV_GITHUB_TOKEN)
    if token is not None:
        headers["Authorization"] = f"token {token}"
    for prefix in (f"https://api.github.com/repos/{owner}/{name}/branches",
                   f"https://api.github.com/repos/{owner}/{name}/tags"):
        page = 0
        while True:
            page += 1
            url = f"{prefix}?per_page=100&page={page}"
            try:
                response = json.loads(_read_url(Request(url, headers=headers)))
            except HTTPError:   # the token may lack the permission: once more without it
                headers.pop("Authorization", None)
                response = json.loads(_read_url(Request(url, headers=headers)))
            if not response:
                break
            if any(item["name"] == ref or item["commit"]["sha"].startswith(ref) for item in response):
                return
    raise ValueError(f"Cannot find {ref} in https://github.com/{owner}/{name}. If it's a commit from a forked repo, "
                     "please call hub.load() with forked repo directly.")


def _read_url(request):
    with _hub.urlopen(request) as response:
        return response.read().decode(response.headers.get_content_charset("utf-8"))


def _check_repo_is_trusted(owner, name, owner_name_ref, trust_repo):
    """Asks at a prompt (``trust_repo=False``, or ``"check"`` for a repository not yet trusted) whether to trust the
    repository; a trusted one is added to ``get_dir()/trusted_list``."""
    hub_dir = _hub.get_dir()
    path = os.path.join(hub_dir, "trusted_list")
    if not os.path.exists(path):
        open(path, "a").close()
    with open(path) as f:
        trusted = tuple(line.strip() for line in f)
    owner_name = "_".join([owner, name])
    cached = next(os.walk(hub_dir))[1]   # a repository downloaded before the list existed counts as trusted
    is_trusted = owner_name in trusted or owner_name_ref in cached or owner in _TRUSTED_REPO_OWNERS
    if trust_repo is False or trust_repo == "check" and not is_trusted:
        response = input(f"The repository {owner_name} does not belong to the list of trusted repositories and as "
                         "such cannot be downloaded. Do you trust this repository and wish to add it to the trusted "
                         "list of repositories (y/N)?")
        if response.lower() in ("y", "yes"):
            if is_trusted:
                print("The repository is already trusted.")
        elif response.lower() in ("n", "no", ""):
            raise Exception("Untrusted repository.")
        else:
            raise ValueError(f"Unrecognized response {response}.")
    if not is_trusted:
        with open(path, "a") as f:
            f.write(owner_name + "\n")


def _safe_extract(archive, folder):
    """Extracts every entry of the opened zip ``archive`` into ``folder``, refusing absolute paths and any entry
    that would land outside it (zip slip)."""
    from pathlib import Path
    root = Path(folder).resolve(strict=False)
    for member in archive.infolist():
        name = os.path.normpath(member.filename)
        if name.startswith(("/", "\\")) or len(name) >= 2 and name[1] == ":" and name[0].isalpha():
            raise ValueError(f"Archive entry has absolute path: {member.filename}")
        if ".." in re.split(_PATH_SEPARATORS, name):
            raise ValueError(f"Archive entry contains directory traversal: {member.filename}")
        if not (root / name).resolve(strict=False).is_relative_to(root):
            raise ValueError(f"Archive entry escapes target directory: {member.filename}")
        archive.extract(member, root)


def _remove_if_exists(path):
    if os.path.isfile(path):
        os.remove(path)
    elif os.path.exists(path):
        shutil.rmtree(path)
