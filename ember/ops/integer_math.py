"""Finite differences and integration along a dim: diff, trapezoid (trapz) and cumulative_trapezoid; and the
Vandermonde matrix vander."""
