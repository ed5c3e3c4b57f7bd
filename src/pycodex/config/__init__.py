"""Configuration (layer L1): CODEX_HOME, config.toml, profiles, `-c` overrides, .env, model
providers, resolved into one frozen Config.

Modules:

- `resolve`   `resolve_config`, the single function that decides precedence
- `model`     `Config` and `SandboxWorkspaceWrite`, the resolved values
- `providers` `ModelProviderInfo`, the built-in `openai` and `oss` providers, provider tables
- `overrides` `ConfigOverrides` (typed flags) and `parse_cli_override` (`-c key=value`)
- `files`     `find_codex_home`, `load_dotenv`, reading TOML with one-line errors
- `settings`  validation of every key pycodex reads
- `schema`    known keys and the unknown-key warnings
- `layers`    raw settings merged layer by layer with the source of every value
- `coerce`    typed accessors that report the file and key of a bad value
- `errors`    `ConfigError`
- `edit`      editing config.toml in place for the commands that write it (tomlkit, on use)

Nothing runs at import time: no environment reads, no file reads.
"""

from pycodex.config.errors import ConfigError
from pycodex.config.files import find_codex_home, load_dotenv
from pycodex.config.model import Config, SandboxWorkspaceWrite, WebSearchMode
from pycodex.config.overrides import ConfigOverrides, parse_cli_override
from pycodex.config.providers import (
    OPENAI_PROVIDER,
    OSS_PROVIDER,
    ModelProviderInfo,
    WireApi,
    builtin_providers,
)
from pycodex.config.resolve import resolve_config

__all__ = [
    "OPENAI_PROVIDER",
    "OSS_PROVIDER",
    "Config",
    "ConfigError",
    "ConfigOverrides",
    "ModelProviderInfo",
    "SandboxWorkspaceWrite",
    "WebSearchMode",
    "WireApi",
    "builtin_providers",
    "find_codex_home",
    "load_dotenv",
    "parse_cli_override",
    "resolve_config",
]
