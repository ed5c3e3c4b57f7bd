"""The `pycodex exec` command line (CONTRACTS.md section 1), parsed into `ExecArgs`.

Errors are one line and exit code 2. Flags scripts pass that upstream dropped (`--full-auto`,
`--experimental-json`) are accepted.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import NoReturn

from pycodex._records import dataclass, field


class UsageError(Exception):
    """A bad command line; the message is one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `pycodex exec --help`)")


@dataclass(frozen=True)
class ExecArgs:
    prompt: str | None
    json: bool = False
    output_last_message: Path | None = None
    output_schema: Path | None = None
    images: tuple[Path, ...] = ()
    model: str | None = None
    profile: str | None = None
    sandbox: str | None = None
    full_auto: bool = False
    yolo: bool = False
    bypass_hook_trust: bool = False
    cd: Path | None = None
    add_dirs: tuple[Path, ...] = ()
    skip_git_repo_check: bool = False
    ephemeral: bool = False
    config: tuple[str, ...] = ()
    color: str = "auto"
    oss: bool = False
    local_provider: str | None = None
    vllm_endpoint: str | None = None
    resume: bool = False
    resume_last: bool = False
    resume_id: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def _build_parser() -> _Parser:
    p = _Parser(
        prog="pycodex exec",
        description="Run the agent non-interactively: progress on stderr, the final message on "
        "stdout (or JSONL events with --json). `pycodex exec resume <id>|--last [PROMPT]` "
        "continues a recorded session.",
    )
    p.add_argument(
        "positionals", nargs="*", metavar="PROMPT", help="the prompt; - or none reads stdin"
    )
    p.add_argument(
        "--json",
        "--experimental-json",
        dest="json",
        action="store_true",
        help="print the events as JSON lines on stdout",
    )
    p.add_argument(
        "-o",
        "--output-last-message",
        type=Path,
        metavar="FILE",
        help="also write the final message to FILE, on success",
    )
    p.add_argument(
        "--output-schema",
        type=Path,
        metavar="FILE",
        help="a JSON Schema the final message must follow",
    )
    p.add_argument(
        "-i",
        "--image",
        action="append",
        default=[],
        metavar="FILE",
        help="attach images to the prompt (repeatable, A,B)",
    )
    p.add_argument("-m", "--model", help="the model to use")
    p.add_argument("-p", "--profile", help="a config profile from $CODEX_HOME")
    p.add_argument(
        "-s",
        "--sandbox",
        choices=["read-only", "workspace-write", "danger-full-access"],
        metavar="MODE",
        help="read-only, workspace-write or danger-full-access",
    )
    p.add_argument(
        "--full-auto", action="store_true", help="legacy alias: --sandbox workspace-write"
    )
    p.add_argument(
        "--dangerously-bypass-approvals-and-sandbox",
        "--yolo",
        dest="yolo",
        action="store_true",
        help="no sandbox, no approvals (for isolated machines)",
    )
    p.add_argument(
        "--dangerously-bypass-hook-trust",
        dest="bypass_hook_trust",
        action="store_true",
        help="run enabled hooks even when they are not trusted (see `pycodex hooks`)",
    )
    p.add_argument("-C", "--cd", type=Path, metavar="DIR", help="the working directory")
    p.add_argument(
        "--add-dir",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help="another writable directory (repeatable)",
    )
    p.add_argument(
        "--skip-git-repo-check",
        action="store_true",
        help="run even outside a git repository",
    )
    p.add_argument("--ephemeral", action="store_true", help="write no session file")
    p.add_argument(
        "-c",
        "--config",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set a config key (dotted; the value is TOML or text)",
    )
    p.add_argument(
        "--color",
        choices=["always", "never", "auto"],
        default="auto",
        metavar="WHEN",
        help="colour stderr: always, never or auto (default)",
    )
    p.add_argument("--oss", action="store_true", help="use a local Chat Completions server")
    p.add_argument(
        "--local-provider",
        metavar="NAME",
        help="ollama, lmstudio, vllm, llamacpp or a provider id",
    )
    p.add_argument("--vllm-endpoint", metavar="URL", help="a vLLM server, e.g. http://host:8000/v1")
    p.add_argument("--last", action="store_true", help="with `resume`: the newest session")
    # Passed by the TypeScript SDK; recorded, no behaviour attached.
    p.add_argument(
        "--thread-source", metavar="SOURCE", help="passed by the TypeScript SDK; no effect"
    )
    p.add_argument("--include-plan-tool", action="store_true", help=argparse.SUPPRESS)
    return p  # fmt: skip


def parse_exec_args(argv: list[str]) -> ExecArgs:
    ns = _build_parser().parse_intermixed_args(argv)
    positionals: list[str] = ns.positionals
    resume = bool(positionals) and positionals[0] == "resume"
    resume_id: str | None = None
    if resume:
        positionals = positionals[1:]
        if not ns.last and positionals:
            resume_id, positionals = positionals[0], positionals[1:]
        if not ns.last and resume_id is None:
            raise UsageError("`exec resume` needs a SESSION_ID or --last")
    elif ns.last:
        raise UsageError("--last is only valid with `exec resume`")
    if len(positionals) > 1:
        raise UsageError(f"unexpected argument {positionals[1]!r}; quote the prompt")
    _check_url("--vllm-endpoint", ns.vllm_endpoint)
    images = tuple(Path(part) for value in ns.image for part in value.split(",") if part)
    extra = {"thread_source": ns.thread_source} if ns.thread_source else {}
    return ExecArgs(
        prompt=positionals[0] if positionals else None,
        json=ns.json,
        output_last_message=ns.output_last_message,
        output_schema=ns.output_schema,
        images=images,
        model=ns.model,
        profile=ns.profile,
        sandbox=ns.sandbox,
        full_auto=ns.full_auto,
        yolo=ns.yolo,
        bypass_hook_trust=ns.bypass_hook_trust,
        cd=ns.cd,
        add_dirs=tuple(ns.add_dir),
        skip_git_repo_check=ns.skip_git_repo_check,
        ephemeral=ns.ephemeral,
        config=tuple(ns.config),
        color=ns.color,
        oss=ns.oss,
        local_provider=ns.local_provider,
        vllm_endpoint=ns.vllm_endpoint,
        resume=resume,
        resume_last=ns.last,
        resume_id=resume_id,
        extra=extra,
    )


def _check_url(flag: str, value: str | None) -> None:
    if value is not None and not value.startswith(("http://", "https://")):
        raise UsageError(f"{flag} expects an http:// or https:// URL, got {value!r}")


def exec_help() -> str:
    return _build_parser().format_help()
