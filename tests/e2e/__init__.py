"""End-to-end tests: a real `frontier-sim` over a loopback socket."""
