"""The model catalog: what pycodex knows about a model, looked up by the longest matching prefix.

The packaged `models.json` holds a `defaults` object and a list of `models` entries, each with a
`prefix` and any of the fields of `ModelInfo`. An optional `$CODEX_HOME/models.json` of the same
shape is laid over it (same prefix: its fields win; new prefix: a new entry). Lookup overlays, in
order, the defaults and every entry whose prefix starts the model slug, shortest first, so an entry
only has to list what differs from the broader one (`gpt-5-codex` refines `gpt-5`). Matching is
case-insensitive and also applied to the part after a `/`, so `Qwen/Qwen3-Coder-30B` matches
`qwen3-coder`.

Config keys (`model_context_window`, `model_auto_compact_token_limit`, `tool_output_token_limit`,
`model_reasoning_effort`, `model_reasoning_summary`, `model_verbosity`) win over the catalog.
Nothing here raises on bad data: a wrong value becomes a warning naming the file and key.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pycodex._records import dataclass

if TYPE_CHECKING:
    from pycodex.config import Config

ShellTool = Literal["exec_command", "shell_command", "shell"]
ApplyPatchTool = Literal["freeform", "function", "none"]

PACKAGED_CATALOG = "models.json"
USER_CATALOG = "models.json"
AUTO_COMPACT_PERCENT = 90

_REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max", "ultra")
_VERBOSITIES = ("low", "medium", "high")
# Upstream's `web_search_tool_type`: what a hosted web search may return to the model.
_WEB_SEARCH_TOOL_TYPES = ("text", "text_and_image")
_REASONING_SUMMARIES = ("auto", "concise", "detailed", "none")
_SHELL_TOOLS = ("exec_command", "shell_command", "shell")
_APPLY_PATCH_TOOLS = ("freeform", "function", "none")


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """Everything the engine, tools and compaction need to know about the model in use."""

    slug: str
    known: bool
    context_window: int
    auto_compact_token_limit: int
    effective_window_percent: int
    supports_reasoning: bool
    reasoning_effort: str | None
    reasoning_summary: str | None
    supports_verbosity: bool
    verbosity: str | None
    web_search_tool_type: str
    shell_tool: ShellTool
    apply_patch: ApplyPatchTool
    parallel_tool_calls: bool
    tool_output_token_limit: int
    # Upstream's flag for its own catalog models: deferred tool namespaces hide behind the
    # client-run `tool_search` tool (Responses only), and the hosted `web_search` tool is
    # offered by default (`web_search = "cached"`).
    supports_search_tool: bool
    # A packaged prompt name, or an absolute path when it came from the user's catalog.
    instructions_file: str | None
    # Only `shell_command` (one parameter, no login shell) and the `apply_patch` function: for
    # small models, which call a few simple tools reliably and get lost among many.
    minimal_tools: bool = False

    @property
    def effective_context_window(self) -> int:
        """The part of the window usable for input: the rest is left for the model's output."""
        return self.context_window * self.effective_window_percent // 100


# --- field validation ------------------------------------------------------------------------

Check = Callable[[Any], str | None]  # an error message, or None when the value is acceptable


def _positive_int(value: Any) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
    return None if ok else "expected a positive integer"


def _optional_positive_int(value: Any) -> str | None:
    return None if value is None else _positive_int(value)


def _percent(value: Any) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 100
    return None if ok else "expected an integer from 1 to 100"


def _boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else "expected true or false"


def _one_of(choices: tuple[str, ...], *, nullable: bool = False) -> Check:
    def check(value: Any) -> str | None:
        if (value is None and nullable) or value in choices:
            return None
        return "expected one of " + ", ".join(choices) + (" or null" if nullable else "")

    return check


def _optional_string(value: Any) -> str | None:
    return None if value is None or (isinstance(value, str) and value) else "expected a string"


_FIELDS: dict[str, Check] = {
    "context_window": _positive_int,
    "auto_compact_token_limit": _optional_positive_int,
    "effective_window_percent": _percent,
    "supports_reasoning": _boolean,
    "default_reasoning_effort": _one_of(_REASONING_EFFORTS, nullable=True),
    "default_reasoning_summary": _one_of(_REASONING_SUMMARIES, nullable=True),
    "supports_verbosity": _boolean,
    "default_verbosity": _one_of(_VERBOSITIES, nullable=True),
    "web_search_tool_type": _one_of(_WEB_SEARCH_TOOL_TYPES),
    "shell_tool": _one_of(_SHELL_TOOLS),
    "apply_patch": _one_of(_APPLY_PATCH_TOOLS),
    "parallel_tool_calls": _boolean,
    "tool_output_token_limit": _positive_int,
    "supports_search_tool": _boolean,
    "instructions_file": _optional_string,
    "minimal_tools": _boolean,
}

# Used when the packaged defaults object itself is damaged; kept equal to models.json.
_FALLBACK_DEFAULTS: dict[str, Any] = {
    "context_window": 128000,
    "auto_compact_token_limit": None,
    "effective_window_percent": 95,
    "supports_reasoning": False,
    "default_reasoning_effort": None,
    "default_reasoning_summary": None,
    "supports_verbosity": False,
    "default_verbosity": None,
    "web_search_tool_type": "text",
    "shell_tool": "shell_command",
    "apply_patch": "function",
    "parallel_tool_calls": False,
    "tool_output_token_limit": 10000,
    "supports_search_tool": False,
    "instructions_file": None,
    "minimal_tools": False,
}


# --- loading ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ModelCatalog:
    """The defaults and the prefix entries, already validated."""

    defaults: Mapping[str, Any]
    entries: Mapping[str, Mapping[str, Any]]  # lower-cased prefix -> fields

    def lookup(self, slug: str) -> tuple[dict[str, Any], bool]:
        """The merged fields for `slug` and whether any entry matched."""
        # `Qwen/Qwen3-Coder` matches `qwen` whole and `qwen3-coder` after the slash: use both.
        forms = {slug.lower(), slug.rsplit("/", 1)[-1].lower()}
        matched = {prefix for form in forms for prefix in self._matching_prefixes(form)}
        fields = dict(self.defaults)
        for prefix in sorted(matched, key=len):
            fields.update(self.entries[prefix])
        return fields, bool(matched)

    def _matching_prefixes(self, slug: str) -> list[str]:
        return [prefix for prefix in self.entries if slug.startswith(prefix)]

    def overlaid(self, other: ModelCatalog) -> ModelCatalog:
        entries = {prefix: dict(fields) for prefix, fields in self.entries.items()}
        for prefix, fields in other.entries.items():
            entries.setdefault(prefix, {}).update(fields)
        return ModelCatalog({**self.defaults, **other.defaults}, entries)


def load_packaged_catalog() -> tuple[ModelCatalog, list[str]]:
    text = Path(__file__).with_name(PACKAGED_CATALOG).read_text("utf-8")
    catalog, warnings = parse_catalog(json.loads(text), f"packaged {PACKAGED_CATALOG}")
    return ModelCatalog({**_FALLBACK_DEFAULTS, **catalog.defaults}, catalog.entries), warnings


def load_catalog_file(path: Path) -> tuple[ModelCatalog, list[str]]:
    """A user catalog; a missing file is an empty catalog, a broken one a warning."""
    empty = ModelCatalog({}, {})
    try:
        data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except FileNotFoundError:
        return empty, []
    except OSError as err:
        return empty, [f"could not read model catalog {path}: {err.strerror or err}"]
    except json.JSONDecodeError as err:
        return empty, [f"{path}: invalid JSON at line {err.lineno}: {err.msg}; file ignored"]
    catalog, warnings = parse_catalog(data, str(path))
    return _absolute_instruction_files(catalog, path.parent), warnings


def parse_catalog(data: Any, origin: str) -> tuple[ModelCatalog, list[str]]:
    """Validate a decoded catalog; bad fields and entries are dropped with a warning each."""
    if not isinstance(data, dict):
        return ModelCatalog({}, {}), [f"{origin}: expected a JSON object; file ignored"]
    warnings: list[str] = []
    defaults = _valid_fields(data.get("defaults", {}), f"{origin}: defaults", warnings)
    entries: dict[str, dict[str, Any]] = {}
    models = data.get("models", [])
    if not isinstance(models, list):
        warnings.append(f"{origin}: models: expected a list; entries ignored")
        models = []
    for index, raw in enumerate(models):
        where = f"{origin}: models[{index}]"
        prefix = raw.get("prefix") if isinstance(raw, dict) else None
        if not isinstance(prefix, str) or not prefix:
            warnings.append(f"{where}: missing string key 'prefix'; entry ignored")
            continue
        fields = {k: v for k, v in raw.items() if k != "prefix"}
        entries[prefix.lower()] = _valid_fields(fields, f"{where} ({prefix})", warnings)
    return ModelCatalog(defaults, entries), warnings


def _valid_fields(raw: Any, where: str, warnings: list[str]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        warnings.append(f"{where}: expected an object; ignored")
        return {}
    fields: dict[str, Any] = {}
    for key, value in raw.items():
        check = _FIELDS.get(key)
        if check is None:
            warnings.append(f"{where}: unknown key {key!r} ignored")
            continue
        problem = check(value)
        if problem is not None:
            warnings.append(f"{where}.{key}: {problem}, got {json.dumps(value)}; ignored")
            continue
        fields[key] = value
    return fields


def _absolute_instruction_files(catalog: ModelCatalog, base: Path) -> ModelCatalog:
    def fix(fields: Mapping[str, Any]) -> dict[str, Any]:
        name = fields.get("instructions_file")
        if isinstance(name, str):
            return {**fields, "instructions_file": str(base / Path(name).expanduser())}
        return dict(fields)

    entries = {prefix: fix(fields) for prefix, fields in catalog.entries.items()}
    return ModelCatalog(fix(catalog.defaults), entries)


# --- resolution ------------------------------------------------------------------------------


def resolve_model_info(
    config: Config, catalog: ModelCatalog | None = None
) -> tuple[ModelInfo, list[str]]:
    """The model's catalog facts with the config's overrides applied, and any warnings.

    Without `catalog`, the packaged catalog overlaid with `$CODEX_HOME/models.json` is used.
    """
    warnings: list[str] = []
    if catalog is None:
        catalog, warnings = load_catalog(config.codex_home)
    fields, known = catalog.lookup(config.model)
    if not known:
        warnings.append(
            f"model {config.model!r} is not in the model catalog; assuming a "
            f"{fields['context_window']}-token context window and no reasoning settings "
            "(set model_context_window, or add the model to $CODEX_HOME/models.json)"
        )
    window = config.model_context_window or fields["context_window"]
    info = ModelInfo(
        slug=config.model,
        known=known,
        context_window=window,
        auto_compact_token_limit=_auto_compact_limit(config, fields, window),
        effective_window_percent=fields["effective_window_percent"],
        supports_reasoning=fields["supports_reasoning"],
        reasoning_effort=_reasoning_effort(config, fields, known, warnings),
        reasoning_summary=_reasoning_summary(config, fields, known),
        supports_verbosity=fields["supports_verbosity"],
        verbosity=_verbosity(config, fields, known, warnings),
        web_search_tool_type=fields["web_search_tool_type"],
        shell_tool=fields["shell_tool"],
        apply_patch=fields["apply_patch"],
        parallel_tool_calls=fields["parallel_tool_calls"],
        tool_output_token_limit=config.tool_output_token_limit or fields["tool_output_token_limit"],
        supports_search_tool=fields["supports_search_tool"],
        instructions_file=fields["instructions_file"],
        minimal_tools=fields["minimal_tools"],
    )
    return info, warnings


def load_catalog(codex_home: Path) -> tuple[ModelCatalog, list[str]]:
    """The packaged catalog with the user's `$CODEX_HOME/models.json` laid over it."""
    packaged, warnings = load_packaged_catalog()
    user, user_warnings = load_catalog_file(codex_home / USER_CATALOG)
    return packaged.overlaid(user), warnings + user_warnings


def _auto_compact_limit(config: Config, fields: Mapping[str, Any], window: int) -> int:
    if config.model_auto_compact_token_limit is not None:
        return config.model_auto_compact_token_limit
    listed = fields["auto_compact_token_limit"]
    # A catalog limit made for the full window is meaningless once the window was shrunk.
    if isinstance(listed, int) and listed <= window:
        return listed
    return window * AUTO_COMPACT_PERCENT // 100


def _reasoning_effort(
    config: Config, fields: Mapping[str, Any], known: bool, warnings: list[str]
) -> str | None:
    chosen = config.model_reasoning_effort
    if chosen is None:
        return fields["default_reasoning_effort"] if fields["supports_reasoning"] else None
    if known and not fields["supports_reasoning"]:
        # The API rejects a reasoning block for such models; dropping it keeps the turn alive.
        warnings.append(
            f"model_reasoning_effort={chosen!r} ignored: {config.model} does not support reasoning"
        )
        return None
    return chosen


def _reasoning_summary(config: Config, fields: Mapping[str, Any], known: bool) -> str | None:
    if config.model_reasoning_summary is not None:
        return (
            None if known and not fields["supports_reasoning"] else config.model_reasoning_summary
        )
    return fields["default_reasoning_summary"] if fields["supports_reasoning"] else None


def _verbosity(
    config: Config, fields: Mapping[str, Any], known: bool, warnings: list[str]
) -> str | None:
    chosen = config.model_verbosity
    if chosen is None:
        return fields["default_verbosity"] if fields["supports_verbosity"] else None
    if known and not fields["supports_verbosity"]:
        warnings.append(f"model_verbosity={chosen!r} ignored: {config.model} does not support it")
        return None
    return chosen
