"""The grading harness of the container-internals labs (see README.md)."""
