"""When a command or a patch needs the user's approval, and asking for it.

The policy (`approval_policy`) decides:

- `never`: nothing is asked. A command asking for escalation (`sandbox_permissions:
  "require_escalated"`) is refused with an error the model sees.
- `on-request`: commands run in the sandbox; one asking for escalation is put to the user.
- `on-failure` (legacy): commands run in the sandbox; when one fails there, the user may let it
  run again outside.
- `untrusted` (legacy): every command except a known-safe read-only one is put to the user.

A command whose words start with an allowed prefix (`PrefixRules`) runs without asking, outside
the sandbox when it asked for escalation. Rules and the known-safe list only ever match ONE
simple command (`simple_command`): `ls` + newline + `touch x`, `ls; rm x`, `ls $(rm x)` or
`ls > x` never match `ls`, and nothing can be remembered for them. Answers: approve once,
approve for this session (the proposed prefix), approve always (the prefix is persisted), deny,
abort (deny and interrupt the turn). The engine provides the `Approver`
(`ToolServices.approvals`) that carries questions to the user; without one (library use,
`exec`), anything that would be asked is denied.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import PurePath

from pycodex._records import dataclass
from pycodex.protocol import events as ev
from pycodex.protocol.ops import ReviewDecision
from pycodex.protocol.policies import AskForApproval, SandboxMode, SandboxPolicy
from pycodex.tools.base import ToolContext, ToolError
from pycodex.tools.rules import PrefixRules
from pycodex.tools.simple_command import SHELLS, SimpleCommand, command_words

ESCALATE = "require_escalated"
# Read-only programs `untrusted` lets run without asking, when their arguments cannot make them
# write or run something else (`_unsafe_arguments`).
KNOWN_SAFE = frozenset(
    {"cat", "cd", "echo", "false", "grep", "head", "ls", "nl", "pwd", "rg", "tail", "true",
     "wc", "which", "whoami", "stat", "file", "tree", "du", "df", "date", "uname", "git"}
)  # fmt: skip
SAFE_GIT = frozenset({"status", "log", "diff", "show", "branch", "rev-parse", "ls-files"})
# Programs that run (part of) their arguments as another command: never known safe, and a rule
# proposed for them covers the whole command line, never just the program.
RUNS_ITS_ARGUMENTS = frozenset(
    {"env", "xargs", "sudo", "doas", "su", "nohup", "timeout", "nice", "ionice", "stdbuf",
     "time", "command", "exec", "eval", "builtin", "setsid", "chroot", "unshare", "nsenter",
     "flock", "watch", "strace", "ltrace", "gdb", "parallel", "script", "busybox", "chrt",
     "taskset", "numactl", "firejail", "bwrap", "fakeroot", "find", "python", "python3",
     "perl", "ruby", "node", "php", "lua", "awk", "gawk", "sed", "make", "ssh", "docker"}
    | SHELLS
)  # fmt: skip
# Options that make a known-safe program write, or run another program.
_UNSAFE_OPTIONS = {
    # --pre and --hostname-bin run a program; -z/--search-zip run decompressors.
    "rg": ("--pre", "--hostname-bin", "--search-zip"),
    "date": ("--set",),
    "file": ("--compile",),
    "git": ("--output", "--ext-diff", "--textconv", "--open-files-in-pager"),
}
# The same as single letters, alone or in a cluster (`-iz`): rg -z, tree -o FILE (writes its
# listing there), date -s (sets the clock), file -C (writes a compiled magic file).
_UNSAFE_LETTERS = {"rg": "z", "tree": "o", "date": "s", "file": "C"}
_SAFE_GIT_BRANCH_FLAGS = frozenset(
    {"--list", "-l", "-a", "--all", "-r", "--remotes", "-v", "-vv", "--verbose",
     "--show-current", "--no-color"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ExecPermission:
    sandbox: SandboxPolicy
    # Set when the command ran outside the sandbox because the user or a rule allowed it.
    escalated: bool = False


def is_known_safe(argv: Sequence[str]) -> bool:
    """Whether `argv` is one simple command running a read-only program with arguments that
    keep it read-only (for `untrusted`, which asks about everything else)."""
    command = command_words(argv)
    if command is None or command.globbed:
        return False
    program = command.program
    if "/" in program and PurePath(program).parent not in _SYSTEM_BINARIES:
        return False  # a program of the workspace may be called `ls`
    name = PurePath(program).name
    if name not in KNOWN_SAFE or _unsafe_arguments(name, command.words[1:]):
        return False
    if name == "git":
        return _safe_git(command.words[1:])
    return True


_SYSTEM_BINARIES = frozenset(PurePath(d) for d in ("/bin", "/usr/bin", "/usr/local/bin"))


def _unsafe_arguments(name: str, args: Sequence[str]) -> bool:
    options = _UNSAFE_OPTIONS.get(name, ())
    letters = _UNSAFE_LETTERS.get(name, "")
    for arg in args:
        if any(arg == option or arg.startswith(option + "=") for option in options):
            return True
        cluster = arg[1:] if arg.startswith("-") and not arg.startswith("--") else ""
        if any(letter in cluster for letter in letters):
            return True
    # `date MMDDhhmm` sets the clock (as root).
    return name == "date" and any(arg.isdigit() for arg in args)


def _safe_git(args: Sequence[str]) -> bool:
    if not args or args[0] not in SAFE_GIT:
        return False  # options before the subcommand (`-c`, `-C`, ...) included
    if args[0] == "branch":
        return all(arg in _SAFE_GIT_BRANCH_FLAGS for arg in args[1:])
    return True


def proposed_prefix(
    command: SimpleCommand | None, suggested: Sequence[str] | None
) -> tuple[str, ...]:
    """The prefix an "always" / "for this session" answer would allow; empty when none may be
    saved (a script that is not one simple command).

    The model's suggestion is taken when it is a prefix of the command; a program that runs its
    arguments (`env`, `timeout`, `bash`, `python3 -c`, ...) is only ever allowed with its whole
    command line, and so is a command whose second word is an option.
    """
    if command is None:
        return ()
    words = command.words
    whole = PurePath(words[0]).name in RUNS_ITS_ARGUMENTS or (
        len(words) > 1 and words[1].startswith("-")
    )
    if suggested:
        wanted = tuple(suggested)
        if words[: len(wanted)] == wanted and (not whole or wanted == words):
            return wanted
    return words if whole else words[:2]


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
    command = command_words(argv)
    if rules is not None and command is not None and rules.allows(command.words):
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
    proposed = proposed_prefix(command, prefix_rule)
    await _ask_exec(context, argv, justification, proposed, wants_escalation)
    return ExecPermission(_full() if wants_escalation else context.sandbox_policy, wants_escalation)


async def retry_outside_sandbox(context: ToolContext, argv: Sequence[str], exit_code: int) -> bool:
    """`on-failure`: may this command, which failed in the sandbox, run again outside it?"""
    if context.approval_policy is not AskForApproval.ON_FAILURE or exit_code == 0:
        return False
    if context.sandbox_policy.mode is SandboxMode.DANGER_FULL_ACCESS:
        return False
    reason = (
        f"the command failed in the sandbox (exit code {exit_code}); run it without the sandbox?"
    )
    try:
        await _ask_exec(context, argv, reason, proposed_prefix(command_words(argv), None), True)
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
    if not proposed:
        return  # nothing can be remembered: this answer covers this one command
    if decision == "approved_for_session" and rules is not None:
        rules.allow_for_session(proposed)
    elif decision == "approved_always" and rules is not None:
        rules.allow_always(proposed)


async def patch_permission(
    context: ToolContext, changes: tuple[ev.FileChange, ...], reason: str
) -> None:
    """A patch writes outside the writable roots or into a protected path: ask (or refuse
    under `never`)."""
    if context.approval_policy is AskForApproval.NEVER:
        raise ToolError(f"{reason} The approval policy is `never`, so nobody can allow it.")
    await _decide(context, ev.PatchApprovalRequest(context.call_id, changes, reason))


async def _decide(
    context: ToolContext, request: ev.ExecApprovalRequest | ev.PatchApprovalRequest
) -> ReviewDecision:
    approver = context.services.approvals
    if approver is None:
        raise ToolError("this needs the user's approval, but no user can answer in this session")
    # "abort" also interrupts the turn; the approver (the engine) takes care of that.
    decision: ReviewDecision = await approver.ask(request)
    if decision in ("denied", "abort"):
        raise ToolError("the user did not allow this; do not try it again another way")
    return decision


def _rules(context: ToolContext) -> PrefixRules | None:
    return context.services.prefix_rules


def _full() -> SandboxPolicy:
    return SandboxPolicy.full_access()
