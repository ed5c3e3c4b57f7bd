"""`pycodex exec`: resolve the configuration, run one turn, print it as text or JSONL.

Exit codes: 0 when the turn succeeded, 1 when it failed, 2 for usage and configuration errors.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from pycodex.cli.exec_args import ExecArgs, UsageError, parse_exec_args
from pycodex.cli.exec_session import ExecOutcome, run_exec_session
from pycodex.cli.local_provider import (
    check_api_key,
    local_overrides,
    wants_served_model,
    with_served_model,
)
from pycodex.cli.std_streams import (
    EXIT_STDOUT_CLOSED,
    StdoutClosedError,
    report_stdout_closed,
    write_stdout,
)
from pycodex.client.factory import ModelListError
from pycodex.config import Config, ConfigError, ConfigOverrides, parse_cli_override, resolve_config
from pycodex.protocol.ops import ImageInput, InputItem, TextInput
from pycodex.protocol.policies import AskForApproval, SandboxMode


def run_exec_command(argv: list[str]) -> int:
    try:
        args = parse_exec_args(argv)
        config = _resolve(args)
        _check_git_repo(args, config.cwd)
        check_api_key(config)  # a missing key is an error before any input
        _check_output_file(args.output_last_message)
        _check_images(args.images)
        prompt = read_prompt(args.prompt, resume=args.resume)
    except (UsageError, ConfigError) as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    for warning in config.warnings:
        sys.stderr.write(f"warning: {warning}\n")
    items: tuple[InputItem, ...] = (*(ImageInput(path) for path in args.images), TextInput(prompt))
    if not config.model_provider.managed:
        return _finish(args, _run(args, config, prompt, items))
    # pycodex's own local model server: installed and started on first use (docs/local.md).
    from pycodex.cli.local_managed import run_with_managed_model

    return run_with_managed_model(
        config, args.model, lambda managed: _finish(args, _run(args, managed, prompt, items))
    )


def _check_output_file(path: Path | None) -> None:
    """`-o FILE` must be writable before the model is paid for; it is only written at the end."""
    if path is None:
        return
    parent = path.parent
    if not parent.is_dir():
        raise UsageError(f"--output-last-message: directory {parent} does not exist")
    if path.is_dir():
        raise UsageError(f"--output-last-message: {path} is a directory")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UsageError(f"--output-last-message: {path} is not writable")


def _resolve(args: ExecArgs) -> Config:
    sandbox = SandboxMode(args.sandbox) if args.sandbox else None
    approval: AskForApproval | None = None
    if args.full_auto:
        sandbox = sandbox or SandboxMode.WORKSPACE_WRITE
    if args.yolo:
        sandbox, approval = SandboxMode.DANGER_FULL_ACCESS, AskForApproval.NEVER
    overrides = [parse_cli_override(raw) for raw in args.config]
    if not any(key == "approval_policy" for key, _ in overrides) and approval is None:
        # exec has nobody to ask: its default policy is `never`, unless configured otherwise.
        overrides.insert(0, ("approval_policy", "never"))
    # Before the user's own `-c` pairs, so those refine what the local-server flags set up.
    overrides[:0] = local_overrides(args, os.environ)
    return resolve_config(
        ConfigOverrides(
            model=args.model,
            profile=args.profile,
            cwd=args.cd,
            approval_policy=approval,
            sandbox_mode=sandbox,
            additional_writable_roots=args.add_dirs,
            ephemeral=args.ephemeral,
            output_schema=_load_schema(args.output_schema),
            bypass_hook_trust=args.bypass_hook_trust,
            cli_overrides=overrides,
        ),
        env=os.environ,
    )


def _load_schema(path: Path | None) -> dict[str, object] | None:
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise UsageError(f"--output-schema: cannot read {path}: {err.strerror}") from None
    except ValueError as err:
        raise UsageError(f"--output-schema: {path} is not valid JSON: {err}") from None
    if not isinstance(data, dict):
        raise UsageError(f"--output-schema: {path} must contain a JSON object")
    return data


def _check_git_repo(args: ExecArgs, cwd: Path) -> None:
    if args.skip_git_repo_check:
        return
    from pycodex.context.agents_md import find_project_root

    if find_project_root(cwd, (".git",)) is not None:  # honours GIT_CEILING_DIRECTORIES
        return
    raise UsageError(
        f"{cwd} is not inside a git repository; pass --skip-git-repo-check to run here anyway"
    )


def read_prompt(prompt: str | None, *, resume: bool = False) -> str:
    """The prompt, as upstream resolves it.

    From argv; with piped stdin also (except for `exec resume`), stdin appended as a `<stdin>`
    block. `-` reads the prompt from stdin, no prompt reads it from piped stdin.
    """
    if prompt is not None and prompt != "-":
        if resume or sys.stdin is None or sys.stdin.isatty():
            return prompt
        extra = _read_stdin("Reading additional input from stdin...")
        if not extra.strip():
            return prompt
        closing = "</stdin>" if extra.endswith("\n") else "\n</stdin>"
        return f"{prompt}\n\n<stdin>\n{extra}{closing}"
    if sys.stdin is None or (prompt is None and sys.stdin.isatty()):
        raise UsageError("no prompt given: pass one as an argument or pipe it on stdin")
    text = _read_stdin("Reading prompt from stdin..." if prompt is None else None)
    if not text.strip():
        raise UsageError("no prompt given: stdin was empty")
    return text


def _read_stdin(notice: str | None) -> str:
    if notice is not None:
        sys.stderr.write(notice + "\n")
        sys.stderr.flush()
    return sys.stdin.buffer.read().decode("utf-8", "replace")


def _check_images(images: tuple[Path, ...]) -> None:
    for image in images:
        if not image.is_file() or not os.access(image, os.R_OK):
            raise UsageError(f"--image: {image} is not a readable file")


def _run(args: ExecArgs, config: Config, prompt: str, items: tuple[InputItem, ...]) -> ExecOutcome:
    async def main() -> ExecOutcome:
        loop = asyncio.get_running_loop()
        interrupted = asyncio.Event()
        loop.add_signal_handler(signal.SIGINT, interrupted.set)
        try:
            chosen = await _local_model(args, config)
            if chosen is None:
                return ExecOutcome(2, None, "no model")
            return await run_exec_session(args, chosen, prompt, items, interrupted)
        finally:
            loop.remove_signal_handler(signal.SIGINT)

    return asyncio.run(main())


async def _local_model(args: ExecArgs, config: Config) -> Config | None:
    """The config with the model a local server serves (see `local_provider`); None on error."""
    if not wants_served_model(args) or config.model_provider.managed:
        return config
    try:
        return await with_served_model(config)
    except (ModelListError, ConfigError) as err:
        sys.stderr.write(
            f"error: cannot choose a model for provider '{config.model_provider_id}': {err}; "
            "pass one with -m MODEL\n"
        )
        return None


def _finish(args: ExecArgs, outcome: ExecOutcome) -> int:
    if outcome.exit_code == EXIT_STDOUT_CLOSED:
        return report_stdout_closed()
    if outcome.error is not None:
        return outcome.exit_code
    if not args.json and outcome.last_message is not None:
        try:
            write_stdout(outcome.last_message + "\n")
        except StdoutClosedError:
            return report_stdout_closed()
    if args.output_last_message is not None and outcome.last_message is not None:
        try:
            args.output_last_message.write_text(outcome.last_message, encoding="utf-8")
        except OSError as err:
            sys.stderr.write(f"error: cannot write {args.output_last_message}: {err.strerror}\n")
            return 1
    return 0
