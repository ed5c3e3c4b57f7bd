"""Rules and the known-safe list only ever match ONE simple command.

`ls` + newline + `touch /x` must not pass for `ls`: a saved rule or the known-safe list would
otherwise run the second command outside the sandbox (escalation) or without asking
(`untrusted`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pycodex.tools.approvals import is_known_safe, proposed_prefix
from pycodex.tools.rules import PrefixRules
from pycodex.tools.simple_command import SimpleCommand, command_words, parse_simple_command

NOT_SIMPLE = {
    "newline": "ls\ntouch /x",
    "carriage-return": "ls\rtouch /x",
    "semicolon": "ls; touch /x",
    "background": "ls & touch /x",
    "pipe": "ls | sh",
    "and": "ls && touch /x",
    "or": "ls || touch /x",
    "command-substitution": "ls $(touch /x)",
    "backticks": "ls `touch /x`",
    "process-substitution": "cat <(touch /x)",
    "redirect-out": "ls > /x",
    "redirect-append": "ls >> /x",
    "redirect-in": "cat < /etc/shadow",
    "variable": "ls $HOME",
    "braced-variable": "ls ${HOME}",
    "ansi-c-quote": "ls $'\\x41'",
    "double-quoted-substitution": 'ls "$(touch /x)"',
    "double-quoted-backticks": 'ls "`touch /x`"',
    "subshell": "(ls)",
    "group": "{ ls; }",
    "brace-expansion": "ls {a,b}",
    "comment": "ls # ; touch /x",
    "assignment": "LD_PRELOAD=/tmp/evil.so ls",
    "keyword": "time touch /x",
    "coproc": "coproc touch /x",
    "open-single-quote": "ls 'a",
    "open-double-quote": 'ls "a',
    "trailing-backslash": "ls \\",
    "escaped-newline": "ls \\\ntouch /x",
    "empty": "   ",
}


@pytest.mark.parametrize("script", NOT_SIMPLE.values(), ids=NOT_SIMPLE.keys())
def test_scripts_that_are_not_one_simple_command(script: str) -> None:
    assert parse_simple_command(script) is None
    assert command_words(["bash", "-lc", script]) is None
    assert not is_known_safe(["bash", "-lc", script])
    # Nothing to match a rule against: `exec_permission` only consults rules with words.


@pytest.mark.parametrize(
    ("script", "words"),
    [
        ("ls -la", ("ls", "-la")),
        ("  git   status  ", ("git", "status")),
        ("grep 'a b' \"c d\" e\\ f", ("grep", "a b", "c d", "e f")),
        ('echo "say \\"hi\\""', ("echo", 'say "hi"')),
        ("echo 'it''s'", ("echo", "its")),
        ("cat ~/notes.txt", ("cat", "~/notes.txt")),
        ("npm run build:prod --if-present", ("npm", "run", "build:prod", "--if-present")),
    ],
)
def test_simple_commands_are_split_as_the_shell_would(script: str, words: tuple[str, ...]) -> None:
    assert parse_simple_command(script) == SimpleCommand(words)


def test_globs_are_kept_literally_and_flagged() -> None:
    assert parse_simple_command("ls *.py") == SimpleCommand(("ls", "*.py"), globbed=True)
    assert parse_simple_command("ls '*.py'") == SimpleCommand(("ls", "*.py"), globbed=False)


def test_argv_forms() -> None:
    assert command_words(["ls", "-l"]) == SimpleCommand(("ls", "-l"))
    assert command_words(["/bin/bash", "-c", "ls -l"]) == SimpleCommand(("ls", "-l"))
    assert command_words(["bash", "build.sh"]) == SimpleCommand(("bash", "build.sh"))
    # Other shell invocations with options hide what they run.
    assert command_words(["bash", "-e", "-c", "ls"]) is None
    assert command_words(["sh", "-x", "build.sh"]) is None
    assert command_words([]) is None


def test_a_saved_ls_rule_does_not_cover_a_second_line() -> None:
    rules = PrefixRules(persisted=[("ls",)])
    simple = command_words(["bash", "-lc", "ls -la"])
    assert simple is not None and rules.allows(simple.words)
    assert command_words(["bash", "-lc", "ls\ntouch /x"]) is None


SAFE = ["ls -la", "cat a.txt", "git status", "git log --oneline -5", "git branch --list",
        "rg -n pattern src", "date +%s", "tree -L 2", "wc -l README.md"]  # fmt: skip
UNSAFE = {
    "env-runs-its-argument": "env touch /x",
    "env-alone": "env",
    "xargs": "xargs rm",
    "find-exec": "find . -exec rm {} +",
    "sudo": "sudo ls",
    "nohup": "nohup ls",
    "timeout": "timeout 5 touch /x",
    "bash-c": "bash -c ls",
    "rg-pre": "rg --pre=sh pattern",
    "rg-pre-separate": "rg --pre sh pattern",
    "rg-search-zip": "rg -z pattern",
    "rg-search-zip-cluster": "rg -iz pattern",
    "rg-hostname-bin": "rg --hostname-bin=/tmp/x pattern",
    "tree-output": "tree -o out.txt",
    "date-set": "date -s 2020-01-01",
    "date-positional": "date 010100002020",
    "file-compile": "file -C -m magic",
    "git-output": "git log --output=/tmp/x",
    "git-ext-diff": "git diff --ext-diff",
    "git-config-option": "git -c core.pager=evil log",
    "git-branch-create": "git branch evil",
    "git-branch-delete": "git branch -D main",
    "git-push": "git push",
    "glob": "cat *",
    "workspace-binary": "./ls",
    "tmp-binary": "/tmp/ls",
    "touch": "touch x",
}


@pytest.mark.parametrize("script", SAFE)
def test_known_safe_read_only_commands(script: str) -> None:
    assert is_known_safe(["bash", "-lc", script])


@pytest.mark.parametrize("script", UNSAFE.values(), ids=UNSAFE.keys())
def test_commands_that_run_or_write_something_are_not_known_safe(script: str) -> None:
    assert not is_known_safe(["bash", "-lc", script])


def test_system_paths_to_safe_programs_are_still_safe() -> None:
    assert is_known_safe(["/usr/bin/ls", "-l"])


@pytest.mark.parametrize(
    ("script", "suggested", "expected"),
    [
        ("npm run build", None, ("npm", "run")),
        ("npm run build", ["npm"], ("npm",)),
        ("npm run build", ["yarn"], ("npm", "run")),  # not a prefix of the command: ignored
        ("ls -la", None, ("ls", "-la")),  # an option second: the whole command
        ("git -c core.pager=x log", None, ("git", "-c", "core.pager=x", "log")),
        ("timeout 5 make", None, ("timeout", "5", "make")),
        ("timeout 5 make", ["timeout"], ("timeout", "5", "make")),
        ("python3 -c print", ["python3"], ("python3", "-c", "print")),
        ("ls\ntouch /x", ["ls"], ()),
    ],
)
def test_proposed_prefixes(
    script: str, suggested: list[str] | None, expected: tuple[str, ...]
) -> None:
    command = command_words(["bash", "-lc", script])
    assert proposed_prefix(command, suggested) == expected


def test_an_empty_prefix_is_never_stored(tmp_path: Path) -> None:
    rules = PrefixRules(codex_home=tmp_path)
    rules.allow_for_session(())
    rules.allow_always(())
    assert rules.session == [] and rules.persisted == []
    assert not (tmp_path / "rules").exists()
    assert not rules.allows(("touch", "/x"))
