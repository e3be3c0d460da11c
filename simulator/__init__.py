"""An in-memory simulator of Baseten's Frontier Gateway management API.

`create_app()` builds a Flask app with its own fresh store; `frontier-sim` serves one.
"""

from simulator.app import create_app

__all__ = ["create_app"]
