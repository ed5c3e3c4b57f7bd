"""Request params parsed into typed records; anything malformed is a -32602 naming the field.

Unknown members are ignored (clients send fields of newer protocol versions). `null` means
"not given", as the SDK omits nulls anyway.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pycodex._records import dataclass
from pycodex.frontends.app_server.rpc import invalid_params
from pycodex.protocol.ops import ImageInput, ImageUrlInput, InputItem, TextInput
from pycodex.protocol.policies import AskForApproval, SandboxMode, SandboxPolicy

REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")
REASONING_SUMMARIES = ("auto", "concise", "detailed", "none")
APPROVAL_POLICIES = {
    "untrusted": AskForApproval.UNTRUSTED,
    "on-failure": AskForApproval.ON_FAILURE,
    "on-request": AskForApproval.ON_REQUEST,
    "never": AskForApproval.NEVER,
}
SANDBOX_MODES = {mode.value: mode for mode in SandboxMode}


class Params:
    """Typed reads of one request's params."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw

    def optional(self, key: str, kind: type | tuple[type, ...], what: str) -> Any:
        value = self.raw.get(key)
        if value is None:
            return None
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
            raise invalid_params(f"`{key}` must be {what}")
        return value

    def string(self, key: str) -> str:
        value = self.optional(key, str, "a string")
        if value is None:
            raise invalid_params(f"`{key}` is required")
        return str(value)

    def opt_string(self, key: str) -> str | None:
        value = self.optional(key, str, "a string")
        return None if value is None else str(value)

    def opt_bool(self, key: str) -> bool | None:
        value = self.optional(key, bool, "true or false")
        return None if value is None else bool(value)

    def opt_int(self, key: str) -> int | None:
        value = self.optional(key, int, "an integer")
        if value is not None and value < 0:
            raise invalid_params(f"`{key}` must not be negative")
        return None if value is None else int(value)

    def opt_object(self, key: str) -> dict[str, Any] | None:
        value = self.optional(key, dict, "an object")
        return None if value is None else dict(value)

    def opt_strings(self, key: str) -> list[str] | None:
        value = self.raw.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise invalid_params(f"`{key}` must be a string or a list of strings")
        return list(value)

    def opt_choice(self, key: str, choices: tuple[str, ...]) -> str | None:
        value = self.opt_string(key)
        if value is not None and value not in choices:
            raise invalid_params(f"`{key}` must be one of {', '.join(choices)}; got {value!r}")
        return value

    def approval_policy(self) -> AskForApproval | None:
        value = self.raw.get("approvalPolicy")
        if value is None:
            return None
        if isinstance(value, dict):  # `{granular: {...}}`: per-kind choices; ask when unsure
            return AskForApproval.ON_REQUEST
        if not isinstance(value, str) or value not in APPROVAL_POLICIES:
            choices = ", ".join(APPROVAL_POLICIES)
            raise invalid_params(f"`approvalPolicy` must be one of {choices}; got {value!r}")
        return APPROVAL_POLICIES[value]

    def sandbox_mode(self) -> SandboxMode | None:
        value = self.opt_choice("sandbox", tuple(SANDBOX_MODES))
        return None if value is None else SANDBOX_MODES[value]


@dataclass(frozen=True)
class ThreadSettings:
    """What thread/start, resume and fork may set for the thread."""

    approval_policy: AskForApproval | None = None
    approvals_reviewer: str | None = None
    base_instructions: str | None = None
    developer_instructions: str | None = None
    config: dict[str, Any] | None = None
    cwd: str | None = None
    model: str | None = None
    model_provider: str | None = None
    sandbox: SandboxMode | None = None
    ephemeral: bool | None = None


def thread_settings(params: Params) -> ThreadSettings:
    return ThreadSettings(
        approval_policy=params.approval_policy(),
        approvals_reviewer=params.opt_string("approvalsReviewer"),
        base_instructions=params.opt_string("baseInstructions"),
        developer_instructions=params.opt_string("developerInstructions"),
        config=params.opt_object("config"),
        cwd=params.opt_string("cwd"),
        model=params.opt_string("model"),
        model_provider=params.opt_string("modelProvider"),
        sandbox=params.sandbox_mode(),
        ephemeral=params.opt_bool("ephemeral"),
    )


@dataclass(frozen=True)
class ListQuery:
    archived: bool = False
    cursor: int = 0
    cwd: list[str] | None = None
    limit: int = 50
    model_providers: list[str] | None = None
    search_term: str | None = None
    source_kinds: list[str] | None = None
    ascending: bool = False
    sort_key: str = "created_at"


def list_query(params: Params) -> ListQuery:
    cursor = params.opt_string("cursor")
    if cursor is not None and not cursor.isdigit():
        raise invalid_params("`cursor` is not a cursor this server returned")
    limit = params.opt_int("limit")
    sort_key = params.opt_choice("sortKey", ("created_at", "updated_at", "recency_at"))
    return ListQuery(
        archived=bool(params.opt_bool("archived")),
        cursor=int(cursor or 0),
        cwd=params.opt_strings("cwd"),
        limit=limit if limit else 50,
        model_providers=params.opt_strings("modelProviders") or None,
        search_term=params.opt_string("searchTerm"),
        source_kinds=params.opt_strings("sourceKinds") or None,
        ascending=params.opt_choice("sortDirection", ("asc", "desc")) == "asc",
        sort_key=sort_key or "created_at",
    )


@dataclass(frozen=True)
class TurnSettings:
    """The per-turn overrides of turn/start (they stay for later turns, as upstream)."""

    output_schema: dict[str, Any] | None = None
    approval_policy: AskForApproval | None = None
    approvals_reviewer: str | None = None
    cwd: Path | None = None
    effort: str | None = None
    model: str | None = None
    summary: str | None = None
    sandbox_policy: dict[str, Any] | None = None


def turn_settings(params: Params) -> TurnSettings:
    if params.raw.get("toolOutput") is not None:
        raise invalid_params("`toolOutput` (external messages) is not supported by pycodex")
    cwd = params.opt_string("cwd")
    if cwd is not None and not Path(cwd).is_dir():
        raise invalid_params(f"`cwd`: {cwd} is not a directory")
    schema = params.raw.get("outputSchema")
    if schema is not None and not isinstance(schema, dict):
        raise invalid_params("`outputSchema` must be a JSON Schema object")
    return TurnSettings(
        output_schema=schema,
        approval_policy=params.approval_policy(),
        approvals_reviewer=params.opt_string("approvalsReviewer"),
        cwd=Path(cwd).absolute() if cwd is not None else None,
        effort=params.opt_choice("effort", REASONING_EFFORTS),
        model=params.opt_string("model"),
        summary=params.opt_choice("summary", REASONING_SUMMARIES),
        sandbox_policy=params.opt_object("sandboxPolicy"),
    )


def sandbox_policy(raw: dict[str, Any], cwd: Path, extra_roots: tuple[Path, ...]) -> SandboxPolicy:
    """A turn's `sandboxPolicy` (`{type: readOnly | workspaceWrite | dangerFullAccess, ...}`)."""
    kind = raw.get("type")
    network = raw.get("networkAccess") is True
    if kind == "dangerFullAccess":
        return SandboxPolicy.full_access()
    if kind == "readOnly":
        return SandboxPolicy(SandboxMode.READ_ONLY, network_access=network)
    if kind == "workspaceWrite":
        roots = raw.get("writableRoots") or []
        if not isinstance(roots, list) or not all(isinstance(r, str) for r in roots):
            raise invalid_params("`sandboxPolicy.writableRoots` must be a list of paths")
        return SandboxPolicy(
            SandboxMode.WORKSPACE_WRITE,
            writable_roots=tuple(dict.fromkeys((cwd, *extra_roots, *map(Path, roots)))),
            network_access=network,
            exclude_tmpdir_env_var=raw.get("excludeTmpdirEnvVar") is True,
            exclude_slash_tmp=raw.get("excludeSlashTmp") is True,
        )
    raise invalid_params(
        "`sandboxPolicy.type` must be readOnly, workspaceWrite or dangerFullAccess"
    )


def user_input(params: Params, key: str = "input") -> tuple[tuple[InputItem, ...], list[Any]]:
    """The turn's input as engine input items, and as the protocol echoes it back."""
    raw = params.raw.get(key)
    if not isinstance(raw, list) or not raw:
        raise invalid_params(f"`{key}` must be a non-empty list of input items")
    items: list[InputItem] = []
    echoed: list[Any] = []
    for entry in raw:
        item = _input_item(entry)
        items.append(item)
        echoed.append(_echo(entry, item))
    return tuple(items), echoed


def _input_item(entry: Any) -> InputItem:
    kind = entry.get("type") if isinstance(entry, dict) else None
    if kind == "text" and isinstance(entry.get("text"), str):
        return TextInput(entry["text"])
    if kind == "image" and isinstance(entry.get("url"), str):
        return ImageUrlInput(entry["url"])
    if kind == "localImage" and isinstance(entry.get("path"), str):
        path = Path(entry["path"])
        if not path.is_file():
            raise invalid_params(f"`localImage`: {path} is not a readable file")
        return ImageInput(path)
    if kind in ("skill", "mention", "audio", "localAudio", "fileId"):
        raise invalid_params(f"input items of type {kind!r} are not supported by pycodex")
    raise invalid_params(f"bad input item {entry!r}: expected text, image or localImage")


def _echo(entry: dict[str, Any], item: InputItem) -> dict[str, Any]:
    if isinstance(item, TextInput):
        return {
            "type": "text",
            "text": item.text,
            "text_elements": entry.get("text_elements") or [],
        }
    if isinstance(item, ImageUrlInput):
        return {"type": "image", "url": item.url}
    return {"type": "localImage", "path": str(item.path)}
