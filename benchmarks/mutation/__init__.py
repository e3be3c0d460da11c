"""Mutation testing of the simulator against the conformance suite: `python -m
benchmarks.mutation`."""
