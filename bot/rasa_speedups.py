"""Rasa 3.6 internals that cost more than the turn they serve, replaced by equivalent cheaper code.

Rasa imports ``bot.components`` when it loads the model (the pipeline names ``bot.components.kiwi_tokenizer``),
and that package installs these, so every ``rasa run`` gets them: ``make run``, the Dockerfile and compose.

- ``RemoteAction._validate_action_result`` calls ``jsonschema.validate`` on every action server reply, and
  ``jsonschema.validate`` first checks the (constant) response schema against the Draft 2020-12 meta-schema.
  With jsonschema 4.17 that meta-check is about half of Rasa's CPU per turn under load (py-spy, see
  README "Speed under load"). Here the schema is checked once and its validator kept; each reply is still
  validated in full and a bad reply raises the same ``ValidationError`` with Rasa's message.
- Rasa's SQL tracker store on SQLite (the embedded default) commits every turn with a full fsync in SQLite's
  rollback-journal mode, on Rasa's event loop, so every conversation waits for every commit. Its connections are
  switched to WAL with ``synchronous=NORMAL`` (SQLite's recommended pair): a commit no longer waits for the disk, and
  a crash of Rasa or of the web app loses nothing; only a power cut can lose the last turns' dialogue state (the
  transcript, in the web app's own database, keeps full syncs). PostgreSQL connections are left alone.
"""

from __future__ import annotations

from typing import Any

_INSTALLED = "_bokji_cached_validator"


def install() -> None:
    """Install both fixes (idempotent)."""
    _install_cached_validator()
    _install_sqlite_pragmas()


def _install_sqlite_pragmas() -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    if event.contains(Engine, "connect", _sqlite_wal):
        return
    event.listen(Engine, "connect", _sqlite_wal)


def _sqlite_wal(dbapi_connection: Any, _record: Any) -> None:
    """WAL and synchronous=NORMAL on every SQLite connection Rasa's engines open (a no-op for other databases)."""
    import sqlite3

    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _install_cached_validator() -> None:
    """Replace ``RemoteAction._validate_action_result`` with one that reuses a checked validator (idempotent)."""
    from jsonschema import validators
    from jsonschema.exceptions import best_match
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    if getattr(RemoteAction._validate_action_result, _INSTALLED, False):
        return
    spec = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(spec)
    cls.check_schema(spec)
    validator = cls(spec)

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        error = best_match(validator.iter_errors(result))
        if error is None:
            return True
        error.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error

    setattr(_validate_action_result, _INSTALLED, True)
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
