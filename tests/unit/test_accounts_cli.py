"""``bokji db upgrade`` and ``bokji user ...`` as an operator runs them, then signing in with the result."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bokji.cli import main
from channels.app import create_app
from channels.settings import AppSettings
from tests.unit.fakes import ScriptedRasa
from tests.unit.staff_support import sign_in


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BOKJI_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("BOKJI_DATABASE_URL", raising=False)
    return tmp_path


def run(monkeypatch: pytest.MonkeyPatch, *argv: str, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(list(argv))


def add(monkeypatch: pytest.MonkeyPatch, username: str = "admin", password: str = "correct-horse-9", role: str = "admin") -> int:
    return run(
        monkeypatch, "user", "add", username, "--name", "관리자", "--role", role, "--password-stdin", stdin=password + "\n"
    )


def test_db_upgrade_prints_the_revision(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    assert run(monkeypatch, "db", "upgrade") == 0
    out = capsys.readouterr().out
    assert str(data_dir / "conversations.sqlite3") in out and "is at revision 0" in out


def test_first_admin_added_on_the_command_line_can_sign_in(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    assert add(monkeypatch) == 0
    app = create_app(AppSettings(data_dir=data_dir), engine=ScriptedRasa())
    client = app.test_client()
    sign_in(client, "admin")
    assert "관리자" in client.get("/console/account").get_data(as_text=True)


def test_password_typed_twice_at_the_prompt(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    typed = iter(["correct-horse-9", "correct-horse-8"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))
    assert run(monkeypatch, "user", "add", "kim", "--name", "김상담", "--role", "agent") == 2
    assert "the two passwords differ" in capsys.readouterr().err
    typed = iter(["correct-horse-9", "correct-horse-9"])
    assert run(monkeypatch, "user", "add", "kim", "--name", "김상담", "--role", "agent") == 0
    assert "added kim (김상담, agent)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "stdin", "error"),
    [
        (
            ["user", "add", "admin", "--name", "다른 관리자", "--role", "admin", "--password-stdin"],
            "another-pass-1",
            "already exists",
        ),
        (["user", "add", "kim", "--name", "김상담", "--role", "agent", "--password-stdin"], "short", "at least 10 characters"),
        (["user", "add", "bad name", "--name", "x", "--role", "agent", "--password-stdin"], "another-pass-1", "username must be"),
        (["user", "disable", "nobody"], "", "no user 'nobody'"),
        (["user", "enable", "nobody"], "", "no user 'nobody'"),
        (["user", "reset-password", "nobody", "--password-stdin"], "another-pass-1", "no user 'nobody'"),
        (["user", "reset-password", "admin", "--password-stdin"], "short", "at least 10 characters"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str], stdin: str, error: str
) -> None:
    assert add(monkeypatch) == 0
    capsys.readouterr()
    assert run(monkeypatch, *argv, stdin=stdin + "\n") == 2
    err = capsys.readouterr().err
    assert error in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert run(monkeypatch, "user", "list") == 0
    listing = capsys.readouterr().out.splitlines()
    assert len(listing) == 2 and listing[1].split()[:2] == ["admin", "관리자"]


def test_unknown_role_is_refused_by_the_parser(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        run(monkeypatch, "user", "add", "kim", "--name", "김", "--role", "boss", "--password-stdin", stdin="correct-horse-9\n")
    assert exit_.value.code == 2 and "invalid choice: 'boss'" in capsys.readouterr().err


def test_disable_enable_reset_and_list(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    assert add(monkeypatch) == 0
    assert add(monkeypatch, "kim", role="agent") == 0
    app = create_app(AppSettings(data_dir=data_dir), engine=ScriptedRasa())
    client = app.test_client()
    sign_in(client, "kim")
    assert run(monkeypatch, "user", "disable", "kim") == 0
    assert client.get("/console/account").status_code == 302  # signed out at once
    capsys.readouterr()
    assert run(monkeypatch, "user", "list") == 0
    assert [line.split()[3] for line in capsys.readouterr().out.splitlines()[1:]] == ["active", "disabled"]
    assert run(monkeypatch, "user", "enable", "kim") == 0
    assert run(monkeypatch, "user", "reset-password", "kim", "--password-stdin", stdin="a-new-password-2\n") == 0
    with pytest.raises(AssertionError):
        sign_in(app.test_client(), "kim")  # the old password no longer works
    sign_in(app.test_client(), "kim", "a-new-password-2")


def test_an_empty_list_says_how_to_start(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(monkeypatch, "user", "list") == 0
    assert "bokji user add" in capsys.readouterr().out


def test_an_unreachable_database_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BOKJI_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    assert run(monkeypatch, "user", "list") == 1
    err = capsys.readouterr().err
    assert err.startswith("user: the database could not be used") and "Traceback" not in err
