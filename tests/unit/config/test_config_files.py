"""CODEX_HOME discovery, the .env parser and TOML syntax errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pycodex.config import ConfigError, ConfigOverrides, find_codex_home, load_dotenv
from pycodex.config import resolve_config as resolve


def test_codex_home_from_env_must_exist(tmp_path: Path) -> None:
    assert find_codex_home({"CODEX_HOME": str(tmp_path)}) == tmp_path.resolve()
    missing = tmp_path / "nope"
    with pytest.raises(ConfigError) as caught:
        find_codex_home({"CODEX_HOME": str(missing)})
    assert str(caught.value) == f"config error: environment: CODEX_HOME: {missing} does not exist"


def test_codex_home_defaults_under_home_without_creating_it(tmp_path: Path) -> None:
    home = find_codex_home({"HOME": str(tmp_path)})
    assert home == tmp_path / ".codex"
    assert not home.exists()


def test_codex_home_that_is_a_file_is_rejected(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(ConfigError, match="is not a directory"):
        find_codex_home({"CODEX_HOME": str(a_file)})


def test_dotenv_syntax(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "\n".join(
            [
                "# a comment",
                "",
                "PLAIN=value",
                "export EXPORTED=yes",
                "  SPACED  =  padded value  ",
                "SINGLE='literal $HOME \\n'",
                'DOUBLE="line\\nbreak \\"quoted\\""',
                "COMMENTED=abc # trailing comment",
                "HASH=a#b",
                "EMPTY=",
                "not an assignment",
                "1BAD=ignored",
            ]
        )
    )
    assert load_dotenv(env_file) == {
        "PLAIN": "value",
        "EXPORTED": "yes",
        "SPACED": "padded value",
        "SINGLE": "literal $HOME \\n",
        "DOUBLE": 'line\nbreak "quoted"',
        "COMMENTED": "abc",
        "HASH": "a#b",
        "EMPTY": "",
    }


def test_dotenv_ignores_codex_keys(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("CODEX_HOME=/elsewhere\ncodex_api_key=x\nOPENAI_API_KEY=sk-file\n")
    assert load_dotenv(env_file) == {"OPENAI_API_KEY": "sk-file"}


def test_dotenv_missing_file_is_empty(tmp_path: Path) -> None:
    assert load_dotenv(tmp_path / ".env") == {}


def test_dotenv_values_reach_config_env_but_process_env_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    (home / ".env").write_text("OPENAI_API_KEY=sk-file\nEXTRA=from-file\nCODEX_API_KEY=sk-c\n")
    config = resolve(ConfigOverrides(), env={"OPENAI_API_KEY": "sk-env"}, codex_home=home)
    assert config.env["OPENAI_API_KEY"] == "sk-env"
    assert config.env["EXTRA"] == "from-file"
    assert "CODEX_API_KEY" not in config.env
    assert config.model_provider.api_key(config.env) == "sk-env"


def test_env_is_kept_out_of_repr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = resolve(ConfigOverrides(), env={"OPENAI_API_KEY": "sk-secret"}, codex_home=tmp_path)
    assert "sk-secret" not in repr(config)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('model = "a"\n\nx = = 3\n', "invalid TOML at line 3, column 5: invalid value"),
        ("[a]\n[a]\n", "invalid TOML at line 2, column 3: cannot declare ('a',) twice"),
        ('model = "unterminated', "invalid TOML at end of file: unterminated string"),
    ],
)
def test_toml_syntax_errors_are_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, expected: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.toml").write_text(text)
    with pytest.raises(ConfigError) as caught:
        resolve(ConfigOverrides(), env={}, codex_home=tmp_path)
    assert str(caught.value) == f"config error: {tmp_path / 'config.toml'}: {expected}"
    assert caught.value.file == tmp_path / "config.toml"
    assert "\n" not in str(caught.value)


def test_import_reads_and_creates_nothing(tmp_path: Path) -> None:
    """Importing the package must not touch CODEX_HOME: a bad CODEX_HOME only fails on use."""
    script = (
        "import pycodex.config as c\n"
        "try:\n"
        "    c.find_codex_home({'CODEX_HOME': '" + str(tmp_path / "missing") + "'})\n"
        "except c.ConfigError as e:\n"
        "    print(e)\n"
    )
    env = {"HOME": str(tmp_path), "CODEX_HOME": str(tmp_path / "missing"), "PATH": "/usr/bin"}
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == (
        f"config error: environment: CODEX_HOME: {tmp_path / 'missing'} does not exist"
    )
    assert result.stderr == ""
    assert list(tmp_path.iterdir()) == []
