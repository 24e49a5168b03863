"""Helpers for fx passes (``matcher_utils``: finding subgraphs that match a pattern graph)."""
