"""torch.linalg: matrix and vector norms, inverses, decompositions and solvers."""
