"""``bokji purge`` and ``bokji citizen export|delete``: the retention limit and one citizen's data on request.

Both write an audit entry with the system as the actor (``purged``, ``citizen_exported``, ``citizen_deleted``)
with counts, never message text. Bad input exits with status 2 and one line; nothing is changed then.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from knowledge.settings import ProcessSettings

if TYPE_CHECKING:
    from channels.privacy import CitizenData, TrackerEvents
    from channels.store.database import Database


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``purge`` and ``citizen`` on the ``bokji`` parser."""
    purge = sub.add_parser(
        "purge",
        help="delete conversations, ratings, ended handoffs and their notes, Kakao delivery records, live-update"
        " events and Rasa's tracker events older than BOKJI_PRIVACY__RETENTION_DAYS (default 180); the audit log is kept",
    )
    purge.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    purge.set_defaults(func=_purge)
    citizen = sub.add_parser("citizen", help="one citizen's conversation on their request: export or delete")
    citizen_sub = citizen.add_subparsers(dest="citizen_command", required=True)
    export = citizen_sub.add_parser("export", help="write the whole conversation as JSON (stdout or --output)")
    export.add_argument("sender_id", help="web:<session>, kakao:<hash> or a widget session id")
    export.add_argument("--output", type=Path, help="file to write (created with mode 0600)")
    export.set_defaults(func=_export)
    delete = citizen_sub.add_parser("delete", help="erase the conversation (not while a person handles it)")
    delete.add_argument("sender_id", help="web:<session>, kakao:<hash> or a widget session id")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation (scripts)")
    delete.set_defaults(func=_delete)


def _database() -> tuple[Database, int, TrackerEvents]:
    """The migrated staff database, the retention days and Rasa's tracker store."""
    from channels.privacy import TrackerEvents
    from channels.settings import AppSettings
    from channels.store.database import Database

    settings = AppSettings()
    database = Database(settings.database())
    database.upgrade()
    return database, settings.privacy.retention_days, TrackerEvents(settings.tracker_database())


def _citizen_data(database: Database, tracker: TrackerEvents) -> CitizenData:
    from channels.privacy import CitizenData

    return CitizenData(database, tracker)


def _purge(settings: ProcessSettings, args: argparse.Namespace) -> int:
    from channels.privacy import Retention

    database, days, tracker = _database()
    try:
        retention = Retention(database, days, tracker)
        counts = retention.purge(dry_run=args.dry_run)
    finally:
        database.dispose()
        tracker.dispose()
    verb = "would delete" if args.dry_run else "deleted"
    listed = ", ".join(f"{value} {name}" for name, value in counts.as_dict().items())
    print(f"purge: {verb} {listed} (older than {days} days, before {retention.cutoff():%Y-%m-%d %H:%M} UTC)")  # noqa: T201
    return 0


def _export(settings: ProcessSettings, args: argparse.Namespace) -> int:
    from channels.handoff import HandoffError
    from channels.privacy import parse_sender_id

    database, _, tracker = _database()
    try:
        sender_id = parse_sender_id(args.sender_id)
        data = _citizen_data(database, tracker).export(sender_id, None)
    except HandoffError as error:
        print(f"citizen: {_english(error.code)}; nothing was exported", file=sys.stderr)  # noqa: T201
        return 2
    finally:
        database.dispose()
        tracker.dispose()
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if args.output is None:
        print(text)  # noqa: T201
    else:
        args.output.touch(mode=0o600)
        args.output.write_text(text + "\n", encoding="utf-8")
        print(f"citizen: wrote {len(data['turns'])} turns and {len(data['handoffs'])} handoffs to {args.output}")  # noqa: T201
    return 0


def _delete(settings: ProcessSettings, args: argparse.Namespace) -> int:
    from channels.handoff import HandoffError
    from channels.privacy import parse_sender_id

    database, _, tracker = _database()
    try:
        sender_id = parse_sender_id(args.sender_id)
        service = _citizen_data(database, tracker)
        found = service.counts(sender_id)
        if found.empty:
            raise HandoffError(404, "unknown_sender", "")
        if not args.yes:
            if not sys.stdin.isatty():
                print("citizen: add --yes to delete without a prompt; nothing was deleted", file=sys.stderr)  # noqa: T201
                return 2
            answer = input(f"Delete {found.turns} turns and {found.handoffs} handoffs of {sender_id}? Type yes: ")
            if answer.strip().lower() != "yes":
                print("citizen: cancelled; nothing was deleted", file=sys.stderr)  # noqa: T201
                return 1
        deleted = service.delete(sender_id, None)
    except HandoffError as error:
        print(f"citizen: {_english(error.code)}; nothing was deleted", file=sys.stderr)  # noqa: T201
        return 2
    finally:
        database.dispose()
        tracker.dispose()
    listed = ", ".join(f"{value} {name}" for name, value in deleted.as_dict().items())
    print(f"citizen: deleted {listed} of {sender_id}")  # noqa: T201
    return 0


def _english(code: str) -> str:
    return {
        "invalid_sender": "not a sender id (web:<session>, kakao:<hash> or a widget session id)",
        "unknown_sender": "no conversation is stored under that sender id",
        "chat_active": "a person is handling this conversation (waiting or with an agent); close it first",
    }.get(code, code)
