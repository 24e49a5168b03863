"""torch.distributed.checkpoint.state_dict on FullyShardedDataParallel (FSDP1) models, 2 ranks: one program
(scripts/fsdp_state_dict.py) run on ember under mpiexec and on torch's gloo must record the same full state dicts,
DCP round trips, broadcast loads and continued training; the full state dicts must also be those of the same
training in one process on plain torch, and the default (sharded) options give ShardedTensors as torch's."""
import pytest

from .launch import assert_same_results, results_beside_torch

torch = pytest.importorskip("torch")
pytest.importorskip("torch.distributed")

RANKS = 2
CONFIGS = {"flat": lambda params: torch.optim.Adam(params, lr=0.01),
           "orig": lambda params: torch.optim.SGD(params, lr=0.1, momentum=0.9)}


def reference(config, steps):
    """The script's training in one process on plain torch: each step's loss is the ranks' mean (FSDP averages
    their gradients); returns each rank's losses and the model and optimizer after ``steps`` steps."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Tanh(), torch.nn.Linear(5, 4), torch.nn.Tanh(),
                                torch.nn.Linear(4, 2))
    opt = CONFIGS[config](model.parameters())
    losses = [[] for _ in range(RANKS)]
    for step in range(steps):
        opt.zero_grad()
        per_rank = []
        for rank in range(RANKS):
            torch.manual_seed(100 + 10 * step + rank)
            per_rank.append(model(torch.randn(3, 6)).square().sum())
            losses[rank].append(per_rank[-1].item())
        torch.stack(per_rank).mean().backward()
        opt.step()
    return losses, model, opt


def as_dicts(pairs):
    """The script's key-value lists (plain()) back to dicts, for comparing regardless of order."""
    if isinstance(pairs, list) and pairs and all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str)
                                                 and not p[0].startswith("torch.") for p in pairs):
        return {k: as_dicts(v) for k, v in pairs}
    return [as_dicts(v) for v in pairs] if isinstance(pairs, list) else pairs


def close(mine, theirs):
    if isinstance(theirs, dict):
        return isinstance(mine, dict) and mine.keys() == theirs.keys() and all(close(mine[k], theirs[k])
                                                                               for k in theirs)
    if isinstance(theirs, list):
        return isinstance(mine, list) and len(mine) == len(theirs) and all(map(close, mine, theirs))
    if isinstance(theirs, float):
        return mine == pytest.approx(theirs, rel=1e-5, abs=1e-6)
    return mine == theirs


def plain(value):
    if isinstance(value, torch.Tensor):
        return [str(value.dtype), list(value.shape), value.tolist()]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def named_optim_state(model, opt):
    """``opt``'s state dict keyed by parameter names, as get_optimizer_state_dict gives it."""
    names = {id(p): n for n, p in model.named_parameters()}
    state = {names[id(p)]: s for p, s in opt.state.items()}
    groups = [{**{k: v for k, v in g.items() if k != "params"}, "params": [names[id(p)] for p in g["params"]]}
              for g in opt.param_groups]
    return {"state": plain(state), "param_groups": plain(groups)}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return results_beside_torch("fsdp_state_dict.py", RANKS, tmp_path_factory.mktemp("fsdp_state_dict"))


def test_matches_torch_fsdp(results):
    ours, theirs = results
    ours = [{k: v for k, v in rank.items() if not k.endswith(("_sharded", "_offloaded"))} for rank in ours]
    theirs = [{k: v for k, v in rank.items() if not k.endswith("_sharded")} for rank in theirs]
    assert_same_results(ours, theirs)


@pytest.mark.parametrize("config", CONFIGS)
def test_full_state_dicts_are_the_single_process_training(results, config):
    ours, _ = results
    losses, model, opt = reference(config, 2)
    for rank in range(RANKS):
        assert close(ours[rank][f"{config}_losses"], losses[rank])
        assert close(as_dicts(ours[rank][f"{config}_model_full"]), plain(model.state_dict()))
        assert list(as_dicts(ours[rank][f"{config}_model_full"])) == list(model.state_dict())
        optim = as_dicts(ours[rank][f"{config}_optim_full"])
        expected = named_optim_state(model, opt)
        assert close(optim["state"], expected["state"])
        groups = [{**g, "params": sorted(g["params"])} for g in optim["param_groups"]]
        assert close(groups, [{**g, "params": sorted(g["params"])} for g in expected["param_groups"]])
    # with cpu_offload only rank 0 gets the state dicts
    assert ours[0][f"{config}_offloaded"] == [ours[0][f"{config}_model_full"], ours[0][f"{config}_optim_full"]]
    assert ours[1][f"{config}_offloaded"] == [[], []]


@pytest.mark.parametrize("config", CONFIGS)
def test_loaded_models_train_on_identically(results, config):
    ours, _ = results
    losses, model, opt = reference(config, 4)
    for rank in range(RANKS):
        mine = ours[rank]
        full = [mine[f"{config}_model_full"], mine[f"{config}_optim_full"]]
        assert mine[f"{config}_loaded"] == full and mine[f"{config}_broadcast"] == full
        assert mine[f"{config}_set"] == "<All keys matched successfully>"
        for name in ("resumed", "broadcast_resumed"):
            assert mine[f"{config}_{name}_losses"] == mine[f"{config}_continued_losses"]
            assert mine[f"{config}_{name}_state"] == mine[f"{config}_continued_state"]
        assert close(mine[f"{config}_continued_losses"], losses[rank][2:])
        assert close(as_dicts(mine[f"{config}_continued_state"][0]), plain(model.state_dict()))


def test_default_options_give_sharded_tensors(results):
    ours, theirs = results
    for mine, torchs in zip(ours, theirs):
        for config in CONFIGS:
            assert mine[f"{config}_sharded"] == torchs[f"{config}_sharded"] == ["ShardedTensor"]
