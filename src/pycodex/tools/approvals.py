"""When a command or a patch needs the user's approval, and asking for it.

The policy (`approval_policy`) decides:

- `never`: nothing is asked. A command asking for escalation (`sandbox_permissions:
  "require_escalated"`) is refused with an error the model sees.
- `on-request`: commands run in the sandbox; one asking for escalation is put to the user.
- `on-failure` (legacy): commands run in the sandbox; when one fails there, the user may let it
  run again outside.
- `untrusted` (legacy): every command except a known-safe read-only one is put to the user.

A command whose argv starts with an allowed prefix (`PrefixRules`) runs without asking, outside
the sandbox when it asked for escalation. Answers: approve once, approve for this session (the
proposed prefix), approve always (the prefix is persisted), deny, abort (deny and interrupt the
turn). The engine provides the `Approver` that carries questions to the user; without one
(library use, `exec`), anything that would be asked is denied.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from pycodex._records import dataclass
from pycodex.protocol import events as ev
from pycodex.protocol.ops import ReviewDecision
from pycodex.protocol.policies import AskForApproval, SandboxMode, SandboxPolicy
from pycodex.tools.base import ToolContext, ToolError
from pycodex.tools.rules import PrefixRules

ESCALATE = "require_escalated"
# Read-only programs `untrusted` lets run without asking (with arguments that cannot write).
KNOWN_SAFE = frozenset(
    {"cat", "cd", "echo", "false", "grep", "head", "ls", "nl", "pwd", "rg", "tail", "true",
     "wc", "which", "whoami", "stat", "file", "tree", "du", "df", "env", "date", "uname"}
)  # fmt: skip
SAFE_GIT = frozenset({"status", "log", "diff", "show", "branch", "rev-parse", "ls-files"})
_SHELL_OPERATORS = ("&&", "||", ";", "|", ">", "<", "`", "$(")


class Approver(Protocol):
    async def ask(self, request: ev.ApprovalRequest) -> ReviewDecision: ...


@dataclass(frozen=True, slots=True)
class ExecPermission:
    sandbox: SandboxPolicy
    # Set when the command ran outside the sandbox because the user or a rule allowed it.
    escalated: bool = False


def script_argv(argv: Sequence[str]) -> list[str]:
    """The program argv a `bash -lc 'script'` stands for, when the script is one simple command."""
    if (
        len(argv) == 3
        and argv[1] in ("-c", "-lc")
        and not any(op in argv[2] for op in _SHELL_OPERATORS)
    ):
        try:
            return shlex.split(argv[2])
        except ValueError:
            return list(argv)
    return list(argv)


def is_known_safe(argv: Sequence[str]) -> bool:
    command = script_argv(argv)
    if not command:
        return False
    program = Path(command[0]).name
    if program == "git":
        return len(command) > 1 and command[1] in SAFE_GIT
    return program in KNOWN_SAFE


async def exec_permission(
    context: ToolContext,
    argv: Sequence[str],
    *,
    sandbox_permissions: str | None,
    justification: str | None,
    prefix_rule: Sequence[str] | None,
) -> ExecPermission:
    """How to run this command, asking the user when the policy says so; raises ToolError when
    it must not run."""
    policy = context.approval_policy
    wants_escalation = sandbox_permissions == ESCALATE
    rules = _rules(context)
    command = script_argv(argv)
    if rules is not None and rules.allows(command):
        return ExecPermission(
            _full() if wants_escalation else context.sandbox_policy, wants_escalation
        )
    if (
        context.sandbox_policy.mode is SandboxMode.DANGER_FULL_ACCESS
        and policy is not AskForApproval.UNTRUSTED
    ):
        return ExecPermission(context.sandbox_policy)
    if wants_escalation and policy is AskForApproval.NEVER:
        raise ToolError(
            "escalation refused: the approval policy is `never`, so commands cannot run outside "
            "the sandbox; find a way to do this inside it, or tell the user what is needed"
        )
    asking = wants_escalation or (policy is AskForApproval.UNTRUSTED and not is_known_safe(argv))
    if not asking:
        return ExecPermission(context.sandbox_policy)
    proposed = (
        tuple(prefix_rule) if prefix_rule else tuple(command[:2] if len(command) > 1 else command)
    )
    await _ask_exec(context, argv, justification, proposed, wants_escalation)
    return ExecPermission(_full() if wants_escalation else context.sandbox_policy, wants_escalation)


async def retry_outside_sandbox(context: ToolContext, argv: Sequence[str], exit_code: int) -> bool:
    """`on-failure`: may this command, which failed in the sandbox, run again outside it?"""
    if context.approval_policy is not AskForApproval.ON_FAILURE or exit_code == 0:
        return False
    if context.sandbox_policy.mode is SandboxMode.DANGER_FULL_ACCESS:
        return False
    command = script_argv(argv)
    reason = (
        f"the command failed in the sandbox (exit code {exit_code}); run it without the sandbox?"
    )
    try:
        await _ask_exec(context, argv, reason, tuple(command[:2]), True)
    except ToolError:
        return False
    return True


async def _ask_exec(
    context: ToolContext,
    argv: Sequence[str],
    reason: str | None,
    proposed: tuple[str, ...],
    escalated: bool,
) -> None:
    request = ev.ExecApprovalRequest(
        call_id=context.call_id,
        command=shlex.join(argv),
        cwd=context.cwd,
        reason=reason,
        proposed_prefix=proposed,
        escalated=escalated,
    )
    decision = await _decide(context, request)
    rules = _rules(context)
    if decision == "approved_for_session" and rules is not None:
        rules.allow_for_session(proposed)
    elif decision == "approved_always" and rules is not None:
        rules.allow_always(proposed)


async def patch_permission(
    context: ToolContext, changes: tuple[ev.FileChange, ...], reason: str
) -> None:
    """A patch writes outside the writable roots: ask (or refuse under `never`)."""
    if context.approval_policy is AskForApproval.NEVER:
        raise ToolError(f"{reason}; the approval policy is `never`, so nobody can allow it")
    await _decide(context, ev.PatchApprovalRequest(context.call_id, changes, reason))


async def _decide(
    context: ToolContext, request: ev.ExecApprovalRequest | ev.PatchApprovalRequest
) -> ReviewDecision:
    approver = context.services.get("approvals")
    if approver is None:
        raise ToolError("this needs the user's approval, but no user can answer in this session")
    # "abort" also interrupts the turn; the approver (the engine) takes care of that.
    decision: ReviewDecision = await approver.ask(request)
    if decision in ("denied", "abort"):
        raise ToolError("the user did not allow this; do not try it again another way")
    return decision


def _rules(context: ToolContext) -> PrefixRules | None:
    rules = context.services.get("prefix_rules")
    return rules if isinstance(rules, PrefixRules) else None


def _full() -> SandboxPolicy:
    return SandboxPolicy.full_access()
