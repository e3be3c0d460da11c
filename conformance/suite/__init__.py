"""The pytest modules a run hands to pytest; the plugin parametrizes them with checks."""
