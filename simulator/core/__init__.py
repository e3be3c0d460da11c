"""The Gateway's rules in plain Python: no Flask, no I/O beyond reading openapi.yaml."""
