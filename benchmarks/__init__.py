"""Benchmarks, run as `python -m benchmarks.<name>`; not shipped with the product."""
