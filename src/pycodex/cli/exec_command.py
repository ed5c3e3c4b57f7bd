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
        prompt = read_prompt(args.prompt)
        items = _input_items(prompt, args)
    except (UsageError, ConfigError) as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    for warning in config.warnings:
        sys.stderr.write(f"warning: {warning}\n")
    if not config.model_provider.managed:
        return _finish(args, _run(args, config, prompt, items))
    # pycodex's own local model server: installed and started on first use (docs/local.md).
    from pycodex.cli.local_managed import ModelChoiceError, prepare_managed_model
    from pycodex.local.errors import LocalModelError

    try:
        config, lease = prepare_managed_model(config, args.model)
    except ModelChoiceError as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    except LocalModelError as err:
        sys.stderr.write(f"error: {err}\n")
        return 1
    with lease:
        outcome = _run(args, config, prompt, items)
    return _finish(args, outcome)


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
    if any((directory / ".git").exists() for directory in (cwd, *cwd.parents)):
        return
    raise UsageError(
        f"{cwd} is not inside a git repository; pass --skip-git-repo-check to run here anyway"
    )


def read_prompt(prompt: str | None) -> str:
    """The prompt from argv, stdin (`-` or none), or argv plus a piped `<stdin>` block."""
    if prompt is not None and prompt != "-":
        if sys.stdin is None or sys.stdin.isatty():
            return prompt
        extra = _read_stdin()
        return f"{prompt}\n\n<stdin>\n{extra}\n</stdin>" if extra.strip() else prompt
    if sys.stdin is None or sys.stdin.isatty():
        raise UsageError("no prompt given: pass one as an argument or pipe it on stdin")
    text = _read_stdin()
    if not text.strip():
        raise UsageError("no prompt given: stdin was empty")
    return text


def _read_stdin() -> str:
    sys.stderr.write("Reading additional input from stdin...\n")
    sys.stderr.flush()
    return sys.stdin.buffer.read().decode("utf-8", "replace")


def _input_items(prompt: str, args: ExecArgs) -> tuple[InputItem, ...]:
    for image in args.images:
        if not image.is_file():
            raise UsageError(f"--image: {image} is not a readable file")
    return (*(ImageInput(path) for path in args.images), TextInput(prompt))


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
    if outcome.error is not None:
        return outcome.exit_code
    if not args.json and outcome.last_message is not None:
        sys.stdout.write(outcome.last_message + "\n")
        sys.stdout.flush()
    if args.output_last_message is not None and outcome.last_message is not None:
        try:
            args.output_last_message.write_text(outcome.last_message, encoding="utf-8")
        except OSError as err:
            sys.stderr.write(f"error: cannot write {args.output_last_message}: {err.strerror}\n")
            return 1
    return 0
