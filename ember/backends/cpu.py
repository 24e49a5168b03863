"""``backends.cpu``: what the CPU offers the vectorised kernels (NumPy's)."""


def get_cpu_capability():
    """"AVX512", "AVX2" or "DEFAULT": the widest x86 vector extension NumPy's kernels can use here."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:
        return "DEFAULT"
    return "AVX512" if features.get("AVX512F") else "AVX2" if features.get("AVX2") else "DEFAULT"
