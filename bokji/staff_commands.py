"""``bokji db upgrade`` and ``bokji user ...``: the staff database and accounts from the command line.

The first admin is created here (``bokji user add admin --name 관리자 --role admin``). Bad input (a taken or
unknown username, a weak password) exits with status 2 and one clear line, never a stack trace.
"""

from __future__ import annotations

import argparse
import functools
import getpass
import sys
import unicodedata
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from knowledge.settings import ProcessSettings

if TYPE_CHECKING:
    from channels.auth.accounts import AccountService, StaffAccount
    from channels.store.database import Database

ROLE_CHOICES = ("agent", "editor", "admin")
T = TypeVar("T")
Handler = Callable[[ProcessSettings, argparse.Namespace], int]


class CommandError(Exception):
    """Bad input: printed as one line, exit status 2."""


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``db`` and ``user`` on the ``bokji`` parser."""
    db = sub.add_parser("db", help="the staff database (accounts, transcripts, handoffs)")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply the database migrations (the web app also does this when it starts)").set_defaults(
        func=_db_upgrade
    )
    user = sub.add_parser("user", help="staff accounts: add, disable, enable, reset-password, list")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser("add", help="create an account (the password is asked for twice)")
    add.add_argument("username")
    add.add_argument("--name", required=True, help="the name colleagues and the audit log see, e.g. 김상담")
    add.add_argument(
        "--role", required=True, choices=ROLE_CHOICES, help="agent answers chats, editor keeps the knowledge, admin both"
    )
    add.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin (scripts)")
    add.set_defaults(func=_user_add)
    for name, func, text in (
        ("disable", _user_disable, "stop an account from signing in and sign it out everywhere"),
        ("enable", _user_enable, "let a disabled account sign in again"),
    ):
        cmd = user_sub.add_parser(name, help=text)
        cmd.add_argument("username")
        cmd.set_defaults(func=func)
    reset = user_sub.add_parser("reset-password", help="set a new password, unlock the account and end its sessions")
    reset.add_argument("username")
    reset.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin (scripts)")
    reset.set_defaults(func=_user_reset)
    user_sub.add_parser("list", help="every account with its role and state").set_defaults(func=_user_list)


def _guarded(handler: Handler) -> Handler:
    """Bad input and unreachable databases become one line on stderr (status 2 / 1), never a stack trace."""

    @functools.wraps(handler)
    def run(settings: ProcessSettings, args: argparse.Namespace) -> int:
        from pydantic import ValidationError
        from sqlalchemy.exc import SQLAlchemyError

        from channels.auth.accounts import AccountError

        prefix = "db" if args.command == "db" else "user"
        try:
            return handler(settings, args)
        except AccountError as exc:
            print(f"{prefix}: {exc.english}; nothing was changed", file=sys.stderr)  # noqa: T201
            return 2
        except CommandError as exc:
            print(f"{prefix}: {exc}", file=sys.stderr)  # noqa: T201
            return 2
        except ValidationError as exc:
            print(f"{prefix}: the settings are not valid: {exc.errors()[0].get('msg')}", file=sys.stderr)  # noqa: T201
            return 2
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            print(f"{prefix}: the database could not be used: {reason}", file=sys.stderr)  # noqa: T201
            return 1
        except (KeyboardInterrupt, EOFError):
            print(f"\n{prefix}: cancelled; nothing was changed", file=sys.stderr)  # noqa: T201
            return 130

    return run


@_guarded
def _db_upgrade(settings: ProcessSettings, args: argparse.Namespace) -> int:
    from sqlalchemy.engine import make_url

    database = _database()
    try:
        revision = database.upgrade()
    finally:
        database.dispose()
    print(f"db: {make_url(database.url).render_as_string(hide_password=True)} is at revision {revision}")  # noqa: T201
    return 0


@_guarded
def _user_add(settings: ProcessSettings, args: argparse.Namespace) -> int:
    def run(accounts: AccountService) -> StaffAccount:
        from channels.auth.accounts import clean_username

        clean_username(args.username)  # a bad username is told before the password is asked for
        password = _password(args.password_stdin)
        return accounts.add_user(args.username, args.name, args.role, password)

    account = _with_accounts(run)
    print(f"user: added {account.username} ({account.display_name}, {account.role})")  # noqa: T201
    return 0


@_guarded
def _user_disable(settings: ProcessSettings, args: argparse.Namespace) -> int:
    account = _with_accounts(lambda accounts: accounts.disable(args.username))
    print(f"user: disabled {account.username}; any open sign-in has ended")  # noqa: T201
    return 0


@_guarded
def _user_enable(settings: ProcessSettings, args: argparse.Namespace) -> int:
    account = _with_accounts(lambda accounts: accounts.enable(args.username))
    print(f"user: enabled {account.username}")  # noqa: T201
    return 0


@_guarded
def _user_reset(settings: ProcessSettings, args: argparse.Namespace) -> int:
    def run(accounts: AccountService) -> StaffAccount:
        accounts.get(args.username)  # an unknown user is told before the password is asked for
        return accounts.reset_password(args.username, _password(args.password_stdin))

    account = _with_accounts(run)
    print(f"user: new password set for {account.username}; the account is unlocked and signed out everywhere")  # noqa: T201
    return 0


@_guarded
def _user_list(settings: ProcessSettings, args: argparse.Namespace) -> int:
    from channels.store.models import utcnow

    accounts = _with_accounts(lambda accounts: accounts.list_users())
    if not accounts:
        print("user: no accounts yet; create the first admin with `bokji user add <username> --name <name> --role admin`")  # noqa: T201
        return 0
    now = utcnow()
    rows = [("USERNAME", "NAME", "ROLE", "STATE", "LAST SIGN-IN")]
    for a in accounts:
        state = "disabled" if not a.active else "locked" if a.locked_until and a.locked_until > now else "active"
        last = a.last_login_at.strftime("%Y-%m-%d %H:%M UTC") if a.last_login_at else "-"
        rows.append((a.username, a.display_name, a.role, state, last))
    widths = [max(_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell + " " * (width - _width(cell)) for cell, width in zip(row, widths)).rstrip())  # noqa: T201
    return 0


def _width(text: str) -> int:
    """Columns a terminal gives ``text`` (Hangul takes two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _database() -> Database:
    from channels.settings import AppSettings
    from channels.store.database import Database

    return Database(AppSettings().database())


def _with_accounts(work: Callable[[AccountService], T]) -> T:
    """Build the account service over a migrated database, run ``work`` with it, and close the database."""
    from channels.auth.accounts import AccountService
    from channels.settings import AppSettings
    from channels.store.database import Database

    settings = AppSettings()
    database = Database(settings.database())
    try:
        database.upgrade()  # zero set-up: the first `bokji user add` creates the schema
        return work(AccountService(database, settings.console))
    finally:
        database.dispose()


def _password(from_stdin: bool) -> str:
    """The new password: one line of stdin, or typed twice at a prompt that does not echo it."""
    from channels.auth.accounts import check_password

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password (at least 10 characters): ")
        check_password(password)
        if getpass.getpass("Password again: ") != password:
            raise CommandError("the two passwords differ; nothing was changed")
    check_password(password)
    return password
