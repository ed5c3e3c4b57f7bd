"""`python -m pycodex` runs the command-line interface."""

from pycodex.cli.main import entry

entry()
