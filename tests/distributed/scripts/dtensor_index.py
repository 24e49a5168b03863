"""One program on DTensor through indexing (``x[key]``, ``narrow``, ``index_select``, ``gather``,
``take_along_dim``, ``scatter``, ``scatter_add``, ``index_put``, ``index_fill``, ``masked_fill``), triangles and
diagonals, scans (``cumsum``, ``cumprod``, ``logcumsumexp``, ``cummax``, ``cummin``), sorts and selections
(``sort``, ``argsort``, ``msort``, ``topk``, ``kthvalue``, ``max``/``min``/``median``/``mode`` along a dim,
``argmax``), ``flip``/``roll``, the in-place forms (``x[index] = v``, ``index_put_``, ``scatter_``,
``scatter_add_``, ``index_fill_``, ``masked_fill_``: kept placements or torch's refusal) and a convolution of
partial values, run on ember (under mpiexec) or on torch (gloo): for inputs sharded on each dim, replicated or
partial, the output placements, whole values, errors, and x's whole gradient for the loss sum(output * weights).
Each rank writes its results to OUT_DIR/<library>-<rank>.json.

    python dtensor_index.py ember|torch OUT_DIR
"""
import sys

from _beside_torch import LIBRARY, finish, record, start_mesh, torch

if LIBRARY == "torch":
    from torch.distributed.tensor import DTensor, Partial, Replicate, Shard, distribute_tensor
else:
    from ember.distributed.tensor import DTensor, Partial, Replicate, Shard, distribute_tensor

F = torch.nn.functional
rank, world, mesh = start_mesh()
R, S0, S1, S2 = Replicate(), Shard(0), Shard(1), Shard(2)
LAYOUTS = (S0, S1, S2, R, Partial())
torch.manual_seed(0)
x = torch.randn(6, 4, 5, dtype=torch.float64)


def laid(tensor, placement, grad=False):
    """``tensor`` as a DTensor laid out by ``placement`` (Partial: rank r holds (r + 1) / (1 + ... + world) of
    it), a leaf needing grad where asked."""
    if placement.is_partial():
        share = tensor * (rank + 1) / sum(range(1, world + 1))
        made = DTensor.from_local(share, mesh, [placement])
        return made.detach().requires_grad_() if grad else made
    made = distribute_tensor(tensor, mesh, [placement])
    return made.requires_grad_() if grad else made


def weights_for(shape):
    return torch.linspace(-1, 1, torch.Size(shape).numel(), dtype=torch.float64).reshape(shape)


def seen(value):
    """A DTensor's placements, global shape and whole value."""
    return [str(value.placements), list(value.shape), value.full_tensor().tolist()]


def first(result):
    return result[0] if isinstance(result, tuple) else result


def case(op, placement, operands, grad):
    """``op`` of x laid out by ``placement`` and of ``operands`` ((tensor, placement) pairs) as DTensors: each
    output seen and, unless x is partial, x's whole gradient for the loss sum(first output * weights) (torch: of
    the plain tensors, as its DTensor lacks some backward strategies: cumprod's, cummax's, index_put's)."""
    leaf = laid(x, placement, grad)
    result = op(leaf, *(laid(t, p) for t, p in operands))
    if isinstance(result, str) or result is None:   # (the type of an error the op raised)
        return result
    shown = [seen(o) for o in (result if isinstance(result, tuple) else (result,))]
    if not grad or placement.is_partial():
        return shown
    if LIBRARY == "torch":
        whole = x.clone().requires_grad_()
        out = first(op(whole, *(t for t, _ in operands)))
        (out * weights_for(out.shape)).sum().backward()
        return shown + [whole.grad.tolist()]
    out = first(result)
    (out.full_tensor() * weights_for(out.shape)).sum().backward()
    return shown + [leaf.grad.full_tensor().tolist()]


def each_layout(name, op, operands=(), layouts=LAYOUTS, grad=True):
    """Records ``case`` for x laid out by each of ``layouts``."""
    for placement in layouts:
        record(f"{name} {placement}", lambda: case(op, placement, operands, grad))


def assign(target, key, value):
    target[key] = value


def type_of_error(call):
    try:
        call()
    except Exception as error:   # compared by type: the messages name each library's internals
        return type(error).__name__


index = torch.tensor([4, 0, 3, 3])
index2 = torch.tensor([[1, 0], [2, 2], [0, 3]])
for ip in (R, S0):
    i4, i2 = (index, ip), (index2, ip)
    each_layout(f"getitem_tensor {ip}", lambda d, i: d[i], [i4])
    each_layout(f"getitem_tensor_dim1 {ip}", lambda d, i: d[:, i], [i2])
    each_layout(f"getitem_two_tensors {ip}", lambda d, i, j: d[i, :, j], [i2, (index2 + 1, ip)])
    each_layout(f"getitem_int_tensor {ip}", lambda d, i: d[1, i], [(index % 4, ip)])
    each_layout(f"index_select0 {ip}", lambda d, i: torch.index_select(d, 0, i), [i4])
    each_layout(f"index_select2 {ip}", lambda d, i: d.index_select(2, i), [i4])
    each_layout(f"masked_fill {ip}", lambda d, m: d.masked_fill(m, 0.5), [(x > 0, ip)])
    each_layout(f"getitem_bool {ip}", lambda d: type_of_error(lambda: d[laid(x > 0, ip)]), grad=False)
for ip in (R, S0):
    each_layout(f"index_fill {ip}", lambda d, i: d.index_fill(1, i, -2.0), [(index[:2] % 4, ip)])
    each_layout(f"index_fill_tensor {ip}", lambda d, i, v: torch.index_fill(d, 2, i, v),
                [(index[:2], ip), (torch.tensor(1.5, dtype=torch.float64), R)])
source = torch.randn(6, 2, 5, dtype=torch.float64)
for sp in (R, S0, S2, Partial()):   # (torch's DTensor stops on a sharded index here)
    each_layout(f"index_add {sp}", lambda d, i, v: d.index_add(1, i, v, alpha=2.0), [(index[:2] % 4, R), (source, sp)])
    each_layout(f"index_copy {sp}", lambda d, i, v: torch.index_copy(d, 1, i, v), [(index[:2] % 4, R), (source, sp)])
for name, op in (("diff", lambda d: torch.diff(d, dim=1)), ("diff_twice", lambda d: d.diff(2, 0)),
                 ("rot90", lambda d: torch.rot90(d, 1, (1, 2))), ("rot90_twice", lambda d: d.rot90(2, (0, 2))),
                 ("rot90_back", lambda d: torch.rot90(d, -1))):
    each_layout(name, op)
for name in ("tril", "triu", "diagonal", "diag_embed"):
    each_layout(name, lambda d: getattr(torch, name)(d))
for name, key in (("int", 1), ("slice", slice(1, 4)), ("slice_dim1", (slice(None), slice(1, 3))),
                  ("step", slice(None, None, 2)), ("ellipsis", (Ellipsis, 2)), ("none", (None, slice(None), 0)),
                  ("full", (slice(None), slice(None))), ("negative", (-1, slice(-3, None)))):
    each_layout(f"getitem_{name}", lambda d: d[key])
each_layout("narrow", lambda d: d.narrow(1, 1, 2))
each_layout("narrow_negative", lambda d: torch.narrow(d, 2, -3, 2))
each_layout("getitem_plain_tensor", lambda d: type_of_error(lambda: d[index]), grad=False)
each_layout("masked_fill_plain_mask", lambda d: d.masked_fill(x > 0, 1.0), grad=False)
each_layout("getitem_list", lambda d: type_of_error(lambda: d[[0, 2]]), grad=False)
each_layout("plain_getitem_dtensor_index", lambda d, i: type_of_error(lambda: x[i]), [(index, R)], grad=False)
each_layout("plain_setitem_dtensor_index", lambda d, i: type_of_error(lambda: assign(x.clone(), i, 1.0)),
            [(index, R)], grad=False)

row = torch.tensor([[[3, 0, 1, 2, 0]], [[1, 1, 0, 3, 2]]]).repeat(3, 1, 1)   # (6, 1, 5): size 1 on dim 1
full_index = torch.randint(0, 4, (6, 4, 5))
src = torch.randn(6, 4, 5, dtype=torch.float64)
for ip in (R, S0, S2):
    each_layout(f"gather_row {ip}", lambda d, i: torch.gather(d, 1, i), [(row, ip)])
    each_layout(f"gather {ip}", lambda d, i: d.gather(1, i), [(full_index, ip)])
    each_layout(f"scatter {ip}", lambda d, i, s: d.scatter(1, i, s), [(full_index, ip), (src, ip)])
    each_layout(f"scatter_value {ip}", lambda d, i: torch.scatter(d, 2, i, 2.5), [(full_index, ip)])
    each_layout(f"scatter_add {ip}", lambda d, i, s: d.scatter_add(1, i, s), [(full_index, ip), (src, ip)])
each_layout("take_along_dim", lambda d, i: torch.take_along_dim(d, i, 1), [(row, R)])
each_layout("take_along_dim_broadcast", lambda d, i: torch.take_along_dim(d, i, 1), [(row[:1, :, :1].clone(), R)])
each_layout("take_along_dim_flat", lambda d, i: torch.take_along_dim(d, i), [(torch.tensor([7, 0, 100]), R)],
            layouts=(S0, R, Partial()))   # (a flattened uneven shard is refused)
values = torch.randn(2, 4, 5, dtype=torch.float64)
for ip, vp in ((R, R), (R, S1), (R, S2), (S0, R), (R, Partial())):
    each_layout(f"index_put {ip} {vp}", lambda d, i, v: d.index_put((i,), v), [(index[:2], ip), (values, vp)])
    each_layout(f"index_put_accumulate {ip} {vp}", lambda d, i, v: torch.index_put(d, (i,), v, accumulate=True),
                [(index[:2], ip), (values, vp)])
each_layout("index_put_two", lambda d, i, j, v: d.index_put((i, j), v), [(index[:2], R), (index[2:] % 4, R),
                                                                         (values[:, 0].clone(), S1)])

for dim in (0, 1, -1):   # (torch's scans keep a shard of a dim named by a negative number: its values are wrong)
    for name in ("cumsum", "cumprod", "logcumsumexp", "cummax", "cummin"):
        each_layout(f"{name} {dim % 3}", lambda d: getattr(torch, name)(d, dim % 3))
    each_layout(f"sort {dim}", lambda d: torch.sort(d, dim, descending=True))
    each_layout(f"argsort {dim}", lambda d: d.argsort(dim), grad=False)
    each_layout(f"topk {dim}", lambda d: torch.topk(d, 2, dim))
    each_layout(f"kthvalue {dim}", lambda d: torch.kthvalue(d, 2, dim))
    each_layout(f"max_dim {dim}", lambda d: d.max(dim))
    each_layout(f"min_dim_keepdim {dim}", lambda d: torch.min(d, dim, keepdim=True))
    each_layout(f"median_dim {dim}", lambda d: d.median(dim))
    each_layout(f"argmax {dim}", lambda d: d.argmax(dim), grad=False)
    each_layout(f"flip {dim}", lambda d: torch.flip(d, (dim,)))
    each_layout(f"roll {dim}", lambda d: d.roll(2, dim))
each_layout("max_other", lambda d, o: torch.max(d, o), [(x.flip(0), R)])
each_layout("min_other", lambda d, o: d.min(o), [(x.flip(1), R)])
each_layout("unbind", lambda d: d.unbind(1), layouts=(S0, S2, R, Partial()))
each_layout("unbind_sharded_dim", lambda d: type_of_error(lambda: d.unbind(1)), layouts=(S1,), grad=False)
each_layout("sort_default", lambda d: d.sort())
each_layout("msort", lambda d: torch.msort(d))
each_layout("mode", lambda d: torch.mode(d, 1))
each_layout("argmax_all", lambda d: torch.argmax(d), grad=False)
each_layout("flip_method", lambda d: d.flip(0, 2))
each_layout("fliplr", lambda d: torch.fliplr(d))
each_layout("roll_flat", lambda d: torch.roll(d, 3))
each_layout("roll_dims", lambda d: torch.roll(d, (1, -1), (0, 2)))



def in_place(op, placement, operands):
    """In-place ``op`` on x laid out by ``placement`` (the other DTensors laid out as ``operands`` say): x's
    placements and whole value after it, and whether ``op`` returned x itself."""
    target = laid(x.clone(), placement)   # (torch's replicated DTensor shares x's storage)
    try:
        returned = op(target, *(laid(t, p) for t, p in operands))
    except RuntimeError as error:   # (torch's message goes on with its propagator's internals)
        return [type(error).__name__, str(error).split("\n\n")[0]]
    return [str(target.placements), target.full_tensor().tolist(), returned is target or returned is None]


def each_in_place(name, op, operands=(), layouts=LAYOUTS):
    for placement in layouts:
        record(f"{name} {placement}", lambda: type_of_error(lambda: op(laid(x.clone(), placement), *(
            laid(t, p) for t, p in operands))) if name.endswith("error") else in_place(op, placement, operands))


zeros_index = torch.zeros(6, 4, 5, dtype=torch.long)
each_in_place("setitem_int_error", lambda d: assign(d, 1, 0.0))
each_in_place("setitem_slice_error", lambda d: assign(d, (slice(None), slice(1, 3)), 1.0))
each_in_place("masked_select_error", lambda d, m: torch.masked_select(d, m), [(x > 0, R)])
for ip in (R, S0):
    each_in_place(f"setitem_tensor {ip}", lambda d, i: assign(d, i, 3.0), [(index[:2], ip)])
    each_in_place(f"setitem_tensor_value {ip}", lambda d, i, v: assign(d, i, v), [(index[:2], ip), (values, R)])
    each_in_place(f"index_put_ {ip}", lambda d, i, v: d.index_put_((i,), v, accumulate=True),
                  [(index[:2], ip), (values, R)])
    each_in_place(f"scatter_ {ip}", lambda d, i, v: d.scatter_(1, i, v), [(full_index, ip), (src, ip)])
    each_in_place(f"scatter_value_ {ip}", lambda d, i: d.scatter_(2, i, -1.0), [(full_index, ip)])
    each_in_place(f"masked_fill_ {ip}", lambda d, m: d.masked_fill_(m, 0.25), [(x > 0, ip)])
for ip in (R, S0):
    each_in_place(f"index_fill_ {ip}", lambda d, i: d.index_fill_(1, i, 7.0), [(index[:2] % 4, ip)])
each_in_place("scatter_add_", lambda d, i, v: d.scatter_add_(1, i, v), [(zeros_index, R), (src, R)],
              layouts=(S0, S2, R))   # (torch's of an input it gathers loses the sums)

filters = torch.randn(3, 4, 3, dtype=torch.float64)
for placement in (S0, R, Partial()):   # (torch gathers a partial input unless another operand is sharded; its values
    record(f"conv1d {placement}",      # of a partial input are its local share's, so only the placement is compared)
           lambda: str(F.conv1d(laid(x, placement), laid(filters, R)).placements))
finish(sys.argv[2])
