"""Benchmarks (make bench): not part of the product."""
