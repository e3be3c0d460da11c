"""The HTTP shell: the Flask app, the `/_sim/` control API, the servers and `frontier-sim`."""
