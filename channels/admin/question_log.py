"""The record of "what would the bot answer?" tests (``question_tests``): who asked what, and what came back."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from channels.store.database import Database
from channels.store.models import QuestionTest, StaffUser, utcnow


@dataclass(frozen=True)
class QuestionTestRow:
    """One kept test."""

    id: int
    question: str
    result: dict[str, Any]
    asked_by: str
    asked_at: datetime

    @property
    def mode(self) -> str:
        """The mode the bot would answer in (``generated`` where the model would write it)."""
        return str(self.result.get("bot_mode") or self.result.get("answer", {}).get("mode", ""))


class QuestionLog:
    """Tests are appended and listed, newest first; they are never changed."""

    def __init__(self, database: Database) -> None:
        """Use the staff database."""
        self.database = database

    def add(self, question: str, result: dict[str, Any], asked_by: int | None) -> int:
        """Keep one test (``question`` already masked); returns its id."""
        with self.database.session() as session:
            row = QuestionTest(
                question=question, result=json.dumps(result, ensure_ascii=False), asked_by=asked_by, asked_at=utcnow()
            )
            session.add(row)
            session.flush()
            return row.id

    def get(self, test_id: int) -> QuestionTestRow | None:
        """One test, or None."""
        rows = self._rows(select(QuestionTest, StaffUser.display_name).where(QuestionTest.id == test_id))
        return rows[0] if rows else None

    def recent(self, limit: int = 50) -> list[QuestionTestRow]:
        """The latest tests, newest first."""
        return self._rows(
            select(QuestionTest, StaffUser.display_name)
            .order_by(QuestionTest.asked_at.desc(), QuestionTest.id.desc())
            .limit(limit)
        )

    def _rows(self, query: Any) -> list[QuestionTestRow]:
        query = query.outerjoin(StaffUser, StaffUser.id == QuestionTest.asked_by)
        with self.database.session() as session:
            found = session.execute(query).all()
        return [
            QuestionTestRow(test.id, test.question, _parse(test.result), name or "알 수 없음", test.asked_at)
            for test, name in found
        ]


def _parse(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
