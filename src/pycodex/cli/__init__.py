"""Command-line entry points (layer L5): argument parsing and wiring only."""
