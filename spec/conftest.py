# The graded cases need the lab plugin: options (--submission, --backend,
# --visibility), the `lab` fixture, outcome recording.
pytest_plugins = ["harness.plugin"]
