"""Processes (layer L1): spawning commands, PTY sessions, timeouts, output caps and
sandbox wrapping.

- `sandbox`: the seam every spawn goes through before a command runs (`prepare_command`).
- `env`: the environment a command sees, from `[shell_environment_policy]`.
- `truncate`: token estimates and head+tail truncation of command output.
- `capture`, `fdio`, `spawn`: bounded output buffers, non-blocking descriptor I/O, and starting a
  child in its own process group (pipes or a pseudo-terminal) and killing that group.
- `process`: one-shot commands with a timeout (`run_command`).
- `session`, `unified`: the long-lived sessions behind the `exec_command` and `write_stdin` tools
  (`ProcessManager`, `format_exec_output`).

Imports only the standard library and `pycodex.protocol`.
"""
