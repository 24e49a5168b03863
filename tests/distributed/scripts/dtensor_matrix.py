"""One program on DTensor's matrix products, split/merge views and row-wise ops (layer_norm, softmax), run on ember
(under mpiexec) or on torch (gloo): the output placements PyTorch's strategies pick for each operand layout, the
whole values, and the operands' gradients. Each rank writes its results to OUT_DIR/<library>-<rank>.json.

    python dtensor_matrix.py ember|torch OUT_DIR
"""
import sys

from _beside_torch import LIBRARY, finish, record, start_mesh, torch

if LIBRARY == "torch":
    from torch.distributed.tensor import DTensor, Partial, Replicate, Shard, distribute_tensor
else:
    from ember.distributed.tensor import DTensor, Partial, Replicate, Shard, distribute_tensor

nn, F = torch.nn, torch.nn.functional
rank, world, mesh = start_mesh()
torch.manual_seed(0)


def seen(value):
    """A DTensor's placements, global shape and whole value (partial ones reduced)."""
    if isinstance(value, DTensor):
        return [str(value.placements), list(value.shape), value.full_tensor().tolist()]
    return value


def leaf(tensor, placement):
    return distribute_tensor(tensor, mesh, [placement]).requires_grad_()


def product(name, op, tensors, placements, grad=True):
    """``op`` on the tensors laid out by ``placements``: its result, and each operand's gradient's whole value
    for the loss sum(result * weights) (without ``grad``: the result only, no operand needing grad)."""
    def run():
        operands = [leaf(t, p) if grad else distribute_tensor(t, mesh, [p]) for t, p in zip(tensors, placements)]
        result = op(*operands)
        if not grad:
            return [seen(result)]
        weights = distribute_tensor(torch.linspace(-1, 1, result.numel()).reshape(result.shape), mesh,
                                    [Replicate()])
        (result * weights).sum().full_tensor().backward()
        return [seen(result)] + [o.grad.full_tensor().tolist() for o in operands]
    record(name, run)


R, S0, S1, S2 = Replicate(), Shard(0), Shard(1), Shard(2)
a, b = torch.randn(6, 4, dtype=torch.float64), torch.randn(4, 8, dtype=torch.float64)
for pa in (R, S0, S1):
    for pb in (R, S0, S1):
        product(f"mm_{pa}_{pb}", lambda x, y: torch.mm(x, y), [a, b], [pa, pb])
        product(f"matmul_op_{pa}_{pb}", lambda x, y: x @ y, [a, b], [pa, pb])
bias = torch.randn(8, dtype=torch.float64)
for pa, pb in ((S1, S0), (S0, R), (R, S1), (R, R)):
    product(f"addmm_{pa}_{pb}", lambda c, x, y: torch.addmm(c, x, y, beta=0.5, alpha=2.0), [bias, a, b],
            [R, pa, pb])
batch1, batch2 = torch.randn(4, 3, 6, dtype=torch.float64), torch.randn(4, 6, 2, dtype=torch.float64)
for pa, pb in ((S0, S0), (S2, S1), (R, S2), (S1, R), (S0, R)):
    product(f"bmm_{pa}_{pb}", lambda x, y: torch.bmm(x, y), [batch1, batch2], [pa, pb])
    product(f"baddbmm_{pa}_{pb}", lambda c, x, y: torch.baddbmm(c, x, y, alpha=0.5), [torch.randn(3, 2).double(),
                                                                                        batch1, batch2], [R, pa, pb])
product("matmul_3d_2d", lambda x, y: torch.matmul(x, y), [batch1, torch.randn(6, 5).double()], [S0, S1])
product("matmul_3d_2d_batch", lambda x, y: torch.matmul(x, y), [batch1, torch.randn(6, 5).double()], [S0, R])
product("matmul_vec", lambda x, y: torch.matmul(x, y), [a, torch.randn(4).double()], [S1, S0])
# matmul folds a 3-D (or more) operand's batch dims into rows against a matrix or vector, as PyTorch's when the
# other needs grad or the fold is a view (a second operand folded transposed); otherwise a batched product
batch3, matrix, vector = torch.randn(4, 3, 6).double(), torch.randn(6, 5).double(), torch.randn(6).double()
for grad in (True, False):
    for pa, pb in ((S1, R), (S2, S0), (S1, S1), (S0, S0), (R, S1)):
        product(f"matmul_fold_{pa}_{pb}_{grad}", torch.matmul, [batch3, matrix], [pa, pb], grad)
    for pa, pb in ((S1, S0), (S0, R), (R, S0)):
        product(f"matmul_fold_vector_{pa}_{pb}_{grad}", torch.matmul, [batch3, vector], [pa, pb], grad)
    for pa, pb in ((S0, S0), (S1, S1), (R, S2), (S1, R)):
        product(f"matmul_fold_second_{pa}_{pb}_{grad}", torch.matmul, [torch.randn(5, 3).double(), batch3],
                [pa, pb], grad)
        product(f"matmul_fold_second_vector_{pa}_{pb}_{grad}", torch.matmul, [torch.randn(3).double(), batch3],
                [S0 if pa != R else R, pb], grad)
    product(f"matmul_transposed_{grad}", lambda x, y: torch.matmul(x.transpose(0, 1), y),
            [torch.randn(3, 4, 6).double(), matrix], [S0, R], grad)
    for pa, pb in ((S0, S0), (S1, R), (R, S2), (S2, S1)):
        product(f"matmul_batched_{pa}_{pb}_{grad}", torch.matmul, [batch1, batch2], [pa, pb], grad)
    for pa, pb in ((S1, S1), (S0, R), (S2, S2), (S1, S0)):
        product(f"matmul_4d_{pa}_{pb}_{grad}", torch.matmul, [torch.randn(2, 4, 3, 6).double(),
                                                             torch.randn(4, 6, 2).double()], [pa, pb], grad)
    product(f"matmul_batch_of_one_{grad}", torch.matmul, [torch.randn(1, 3, 6).double(), batch2], [S1, S0], grad)
product("dot", lambda x, y: torch.dot(x, y), [torch.randn(6).double(), torch.randn(6).double()], [S0, S0])
x3, weight = torch.randn(2, 4, 6, dtype=torch.float64), torch.randn(8, 6, dtype=torch.float64)
for px, pw, pb in ((R, S0, S0), (S2, S1, R), (S1, R, R), (S0, R, R), (R, R, R), (S0, S1, R)):
    product(f"linear_{px}_{pw}_{pb}", lambda *t: F.linear(*t), [x3, weight, bias], [px, pw, pb])
product("linear_no_bias", lambda *t: F.linear(*t), [x3, weight], [S2, S1])
product("linear_2d", lambda *t: F.linear(*t), [a[:, :4].clone(), torch.randn(8, 4).double(), bias], [R, S0, S0])
product("broadcast_add", lambda t, c: t + c, [a, bias[:4].clone()], [S0, R])   # the replicated one's grad sums


def partial_operand(op):
    """A product with a Partial(op) operand: it stays partial, the replicated bias becomes its share."""
    local = (a * (rank + 1)).requires_grad_()
    x = DTensor.from_local(local, mesh, [Partial(op)])
    c, w = leaf(bias, R), leaf(b, R)
    out = torch.addmm(c, x, w)
    (out.full_tensor() * torch.linspace(-1, 1, 48).reshape(6, 8)).sum().backward()
    return [seen(out), local.grad.tolist(), c.grad.full_tensor().tolist(), w.grad.full_tensor().tolist()]


for op in ("sum", "avg"):
    record(f"addmm_partial_{op}", lambda: partial_operand(op))
for equation, shapes, placements in (("ij,jk->ik", [(6, 4), (4, 8)], [S1, S0]), ("ij,jk", [(6, 4), (4, 8)], [S0, R]),
                                     ("bij,bjk->bik", [(4, 3, 6), (4, 6, 2)], [S0, S0]),
                                     ("bhqd,bhkd->bhqk", [(2, 4, 3, 6), (2, 4, 5, 6)], [S1, S1]),
                                     ("ij,kj->ik", [(6, 4), (8, 4)], [R, S0]), ("i,j->ij", [(6,), (4,)], [S0, R])):
    product(f"einsum_{equation}_{placements}", lambda x, y: torch.einsum(equation, x, y),
            [torch.randn(*shape, dtype=torch.float64) for shape in shapes], placements)
record("mixed", lambda: seen(torch.mm(leaf(a, S0), b)))



def embedding_case(ids_placement, weight_placement, rows):
    """A lookup: its output's placements (PyTorch's _MaskPartial for a row-sharded table), its whole value, and
    the table's gradient's whole value."""
    table = leaf(torch.cos(torch.arange(rows * 4.0)).reshape(rows, 4), weight_placement)
    ids = distribute_tensor((torch.arange(12).reshape(3, 4) * 5) % rows, mesh, [ids_placement])
    out = F.embedding(ids, table)
    whole = out.full_tensor()   # (once: PyTorch's MaskPartial gives its mask up on its first reduction)
    (whole * torch.arange(48.0).reshape(3, 4, 4).sin()).sum().backward()
    return [[repr(p) for p in out.placements], whole.tolist(), table.grad.full_tensor().tolist()]


for ids_placement, weight_placement, rows in ((R, S0, 8), (R, S0, 7), (R, S0, 4), (R, S0, 1), (R, S1, 7), (S0, R, 7),
                                             (S1, R, 5), (R, R, 7)):
    record(f"embedding_{ids_placement}_{weight_placement}_{rows}",
           lambda: embedding_case(ids_placement, weight_placement, rows))

# concatenation: shards of other dims kept, the concatenated dim gathered
c1, c2 = torch.randn(4, 6, dtype=torch.float64), torch.randn(4, 2, dtype=torch.float64)
for p1, p2, dim in ((S0, S0, 1), (S0, R, 1), (R, S0, -1), (S1, S1, 1), (S1, R, 0), (R, R, 1)):
    product(f"cat_{p1}_{p2}_{dim}", lambda x, y: torch.cat([x, y], dim=dim), [c1, c2 if dim else c1 * 2], [p1, p2])
product("cat_three", lambda x, y, z: torch.cat((x, y, z), 1), [c1, c2, c2 * 2], [S0, R, S0])

# views splitting and merging a sharded dim (evenly sharded), and those that keep it
for shape, placement, new in (((4, 6), S0, (2, 2, 6)), ((4, 6), S0, (2, 12)), ((2, 4, 6), S0, (8, 6)),
                              ((2, 4, 6), S2, (2, 4, 2, 3)), ((8, 6), S0, (2, 4, 6)), ((6, 4), S0, (2, 3, 4)),
                              ((4, 6), S1, (4, 2, 3))):
    product(f"view_{shape}_{placement}_{new}", lambda t: t.view(*new), [torch.randn(*shape).double()], [placement])
    product(f"reshape_{shape}_{placement}_{new}", lambda t: t.reshape(new), [torch.randn(*shape).double()],
            [placement])


def first_line(call):
    """call()'s error: its type and first line (PyTorch appends the propagation's details)."""
    try:
        return seen(call())
    except RuntimeError as error:
        return [type(error).__name__, str(error).splitlines()[0]]


record("view_uneven", lambda: first_line(lambda: leaf(torch.randn(3, 4), S0).view(12)))

# strided shards: a dim sharded after the one it merges with, as PyTorch lays it out (rows of every group), kept
# through elementwise ops, products and transposes, split back to a Shard or gathered
cube = torch.randn(2, 4, 6, dtype=torch.float64)
for name, op in (("flatten", lambda t: t.view(8, 6)), ("flatten_all", lambda t: t.reshape(48)),
                 ("round_trip", lambda t: (t.view(8, 6) * 2).view(2, 4, 6)),
                 ("transposed", lambda t: t.view(8, 6).t()), ("unsqueezed", lambda t: t.flatten(0, 1).unsqueeze(0)),
                 ("to_shard", lambda t: t.view(8, 6).redistribute(mesh, [S1])),
                 ("to_replicate", lambda t: t.view(8, 6).redistribute(mesh, [R])),
                 ("sum", lambda t: t.view(8, 6).sum(0)), ("softmax", lambda t: t.view(8, 6).softmax(-1))):
    product(f"strided_{name}", op, [cube], [S1])
product("strided_linear", lambda t, w: F.linear(t.reshape(8, 6), w), [cube, weight], [S1, R])
product("strided_mean_other", lambda t: t.view(8, 6).mean(1), [cube], [S1])
product("strided_uneven_last", lambda t: (t.view(10, 6) + 1).view(2, 5, 6), [torch.randn(2, 5, 6).double()], [S1])
record("strided_uneven_inner", lambda: first_line(lambda: leaf(torch.randn(2, 5, 6), S1).view(60)))
x_odd = torch.randn(3, 5, 6, dtype=torch.float64)
for px, pw in ((S1, R), (S1, S0), (S1, S1), (S2, S0)):
    product(f"linear_odd_{px}_{pw}", lambda *t: F.linear(*t), [x_odd, weight, bias], [px, pw, R])
record("linear_uneven_batch", lambda: first_line(lambda: F.linear(leaf(x_odd, S0), leaf(weight, R))))

# row-wise ops over an unsharded dim keep the shards; over a sharded one they gather first
norm_weight, norm_bias = torch.randn(6, dtype=torch.float64), torch.randn(6, dtype=torch.float64)
for px in (S0, S1, S2, R):
    product(f"layer_norm_{px}", lambda t, w, c: F.layer_norm(t, (6,), w, c), [x3, norm_weight, norm_bias],
            [px, R, R])
    if px != S2:   # (PyTorch's rms_norm over a sharded dim fails inside its decomposition)
        product(f"rms_norm_{px}", lambda t, w: F.rms_norm(t, (6,), w, eps=1e-6), [x3, norm_weight], [px, R])
    product(f"softmax_{px}", lambda t: t.softmax(-1), [x3], [px])
    product(f"log_softmax_{px}", lambda t: F.log_softmax(t, dim=1), [x3], [px])

# activation modules run their function through the DTensor's rules (shards kept, whole values and gradients);
# PyTorch lacks logsigmoid's, softshrink's and hardshrink's backward rules, which ember's pointwise rule covers
for module in (nn.Tanh(), nn.Sigmoid(), nn.Softsign(), nn.Tanhshrink()):
    product(f"module_{type(module).__name__}", module, [x3], [S1])


def dropped(module):
    """Dropout on a sequence-sharded DTensor of ones: placements kept, values and gradients 0 or 1 / (1 - p) (each
    rank draws its own mask, so only these are compared)."""
    ones = leaf(torch.ones(8, 6, 32), S1)   # 24 channels, 768 elements on each rank: some of each kind drop
    out = module(ones)
    out.sum().full_tensor().backward()
    return [str(out.placements), sorted(set(out.to_local().flatten().tolist())),
            sorted(set(ones.grad.to_local().flatten().tolist()))]


for module in (nn.Dropout(0.5), nn.Dropout(0.5).eval(), nn.Dropout1d(0.5), nn.AlphaDropout(0.0)):
    record(f"dropout_{module}_{module.training}", lambda: dropped(module))


def dropped_in_place():
    with torch.no_grad():
        ones = distribute_tensor(torch.ones(4, 6, 8), mesh, [S1])
        F.dropout(ones, 0.5, inplace=True)
    return [str(ones.placements), sorted(set(ones.to_local().flatten().tolist()))]


record("dropout_in_place", dropped_in_place)
finish(sys.argv[2])
