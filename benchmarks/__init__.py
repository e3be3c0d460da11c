"""Benchmarks of the simulator: throughput over loopback, scaling, memory, start-up and soaks.

`python -m benchmarks` prints the table; `docs/benchmarks.md` records the figures.
"""
