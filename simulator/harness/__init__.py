"""The test harness: state export and import, seeds, fault rules and the request journal.

Pure Python over the core; the web layer exposes it as the `/_sim/` control API.
"""
