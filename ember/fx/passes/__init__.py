"""Passes over fx graphs (``shape_prop``, ``split_module``, ``utils.matcher_utils``)."""
