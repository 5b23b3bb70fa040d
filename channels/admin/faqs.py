"""FaqService: the FAQ lifecycle in the staff database (versions, review, publishing, rollback, locking).

The database is the source of truth; the search index is derived from it through the :class:`Publisher`.
Every save is a new ``faq_versions`` row; an entry is ``draft -> review -> published`` (admins approve, or the
author when ``AdminSettings.self_publish``); every change bumps ``lock_version`` so a stale save is refused
with both texts (the losing one kept as a draft version); every change writes an audit entry with before/after.
Publishing runs inside the database transaction: if the index write fails, nothing is changed.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from channels.admin.faq_fields import as_data, display, entry_of, normalize, problems_of
from channels.admin.faq_reminders import reminder_reasons
from channels.admin.faq_types import (
    FIELD_LABELS,
    FaqConflictError,
    FaqDetail,
    FaqError,
    FaqNotFoundError,
    FaqPermissionError,
    FaqRow,
    FaqStateError,
    FaqValidationError,
    FieldDiff,
    ImportResult,
    Reminders,
    VersionRow,
)
from channels.admin.publisher import Publisher
from channels.handoff import Actor
from channels.settings import AdminSettings
from channels.store.database import Database
from channels.store.models import FaqRecord, FaqVersion, StaffUser, utcnow
from knowledge.domain.faq import FaqEntry

Audit = Callable[[Actor | None, str, dict[str, Any]], None]
CONFLICT_NOTE = "충돌로 저장되지 않은 편집"
SYSTEM = "시스템"
EDITS = ("editor", "admin")


class FaqService:
    """Everything staff and commands do to FAQs; the admin's routes and ``bokji ingest`` call only this."""

    def __init__(self, database: Database, publisher: Publisher, settings: AdminSettings, audit: Audit) -> None:
        """Keep the parts; nothing is read or built here."""
        self.database = database
        self.publisher = publisher
        self.settings = settings
        self.audit = audit

    # -- reads ---------------------------------------------------------------------------------------
    def list(
        self,
        *,
        query: str = "",
        category: str = "",
        tenant: str = "",
        status: str = "",
        needs_review: bool | None = None,
        expiry: str = "",
        edited_by: int | None = None,
        program: str = "",
        today: date | None = None,
    ) -> builtins.list[FaqRow]:
        """Entries matching every filter given, newest change first (``expiry``: "expiring" | "expired")."""
        today = today or date.today()
        rows = []
        for row, data in self._rows_with_data():
            if category and data.get("category") != category:
                continue
            if tenant and data.get("tenant") != tenant:
                continue
            if status and row.status != status:
                continue
            if needs_review is not None and bool(data.get("needs_review")) != needs_review:
                continue
            if edited_by is not None and row.updated_by_id != edited_by:
                continue
            if expiry and not _expiry_matches(expiry, row.valid_until, today):
                continue
            haystack = " ".join([data["id"], data["question"], *data.get("alternatives", []), data.get("category", "")])
            if program and program.lower() not in haystack.lower():
                continue
            if query and query.lower() not in f"{haystack} {data['answer']}".lower():
                continue
            rows.append(row)
        return sorted(rows, key=lambda r: (r.updated_at, r.id), reverse=True)

    def categories(self) -> builtins.list[str]:
        """Categories in use (for the list's filter)."""
        return sorted({data.get("category", "") for _, data in self._rows_with_data()} - {""})

    def tenants(self) -> builtins.list[str]:
        """Tenants in use (for the list's filter)."""
        return sorted({data.get("tenant", "") for _, data in self._rows_with_data()} - {""})

    def get(self, entry_id: str) -> FaqDetail:
        """The entry's latest text, what is live, and its history."""
        getattr(self.publisher, "warm_up_in_background", lambda: None)()  # an approve may follow
        with self.database.session() as session:
            record = self._record(session, entry_id)
            return self._detail(session, record)

    def versions(self, entry_id: str) -> builtins.list[VersionRow]:
        """Every saved version, newest first."""
        with self.database.session() as session:
            self._record(session, entry_id)
            return self._version_rows(session, entry_id)

    def diff(self, entry_id: str, a: int, b: int) -> builtins.list[FieldDiff]:
        """Field by field, version ``a`` (before) against ``b`` (after), with Korean labels."""
        with self.database.session() as session:
            before = json.loads(self._version(session, entry_id, a).data)
            after = json.loads(self._version(session, entry_id, b).data)
        diffs = []
        for name, label in FIELD_LABELS.items():
            old, new = display(name, before), display(name, after)
            diffs.append(FieldDiff(field=name, label=label, before=old, after=new, changed=old != new))
        return diffs

    def reminders(self, today: date) -> Reminders:
        """Entries to re-check (unpublished ones are left out): see :mod:`channels.admin.faq_reminders`."""
        buckets: dict[str, builtins.list[FaqRow]] = {
            k: [] for k in ("earlier_year", "expired", "expiring", "needs_review", "yearly_figures")
        }
        reasons: dict[str, builtins.list[str]] = {}
        for row, data in sorted(self._rows_with_data(), key=lambda pair: pair[0].id):
            if row.status == "unpublished":
                continue
            found = reminder_reasons(data, today)
            for key, text in found:
                buckets[key].append(row)
                reasons.setdefault(row.id, []).append(text)
        return Reminders(**buckets, reasons=reasons)

    def export(self, *, latest: bool = False) -> builtins.list[FaqEntry]:
        """The published entries as FaqEntry, by id (``latest``: every entry's latest text instead)."""
        with self.database.session() as session:
            records = session.scalars(select(FaqRecord).order_by(FaqRecord.id)).all()
            entries = []
            for record in records:
                number = record.latest_version if latest else record.published_version
                if number is not None:
                    entries.append(FaqEntry.model_validate_json(self._version(session, record.id, number).data))
        return entries

    # -- changes -------------------------------------------------------------------------------------
    def save(self, actor: Actor, entry_id: str | None, data: dict[str, Any], lock_version: int | None) -> FaqDetail:
        """Save a new draft version (``entry_id`` None: a new entry, its id taken from ``data``)."""
        _require_editor(actor)
        # Someone is editing: have the index ready before they publish (a no-op for fakes and once ready).
        getattr(self.publisher, "warm_up_in_background", lambda: None)()
        fields = normalize({**data, "id": entry_id} if entry_id else data, date.today())
        problems = problems_of(fields)
        if problems:
            raise FaqValidationError(problems)
        mine = as_data(entry_of(fields))
        conflict: FaqConflictError | None = None
        with self.database.session() as session:
            record = session.get(FaqRecord, mine["id"], with_for_update=True)
            if entry_id is None and record is not None:
                raise FaqValidationError([("id", "같은 아이디의 항목이 이미 있습니다. 다른 아이디를 적어 주세요.")])
            if record is None:
                if entry_id is not None:
                    raise FaqNotFoundError("찾는 FAQ 항목이 없습니다.")
                record = FaqRecord(id=mine["id"], status="draft", lock_version=0, latest_version=0,
                                   created_at=utcnow(), updated_at=utcnow())  # fmt: skip
                session.add(record)
                before = None
            else:
                latest = self._version(session, record.id, record.latest_version)
                before = json.loads(latest.data)
                if lock_version != record.lock_version:
                    kept = self._add_version(session, record, mine, actor.id, "draft", CONFLICT_NOTE, latest=False)
                    conflict = FaqConflictError(mine, before, self._name(session, record.updated_by), kept.version)
            if conflict is None:
                self._add_version(session, record, mine, actor.id, "draft", "")
                record.status = "draft"
                self._touch(record, actor)
                detail = self._detail(session, record)
        if conflict is not None:
            self.audit(actor, "faq_conflict", {"entry": mine["id"], "before": conflict.theirs, "after": mine,
                                               "kept_as": conflict.kept_as})  # fmt: skip
            raise conflict
        self.audit(actor, "faq_create" if before is None else "faq_save", {"entry": mine["id"], "before": before, "after": mine})
        return detail

    def submit(self, actor: Actor, entry_id: str, lock_version: int) -> FaqDetail:
        """Send the latest draft for an admin's review."""
        _require_editor(actor)
        with self.database.session() as session:
            record, latest = self._locked(session, entry_id, lock_version)
            if latest.state != "draft":
                raise FaqStateError("작성 중인 버전만 검토를 요청할 수 있습니다. 내용을 고쳐 저장한 뒤 다시 요청해 주세요.")
            latest.state = "review"
            record.status = "review"
            self._touch(record, actor)
            detail = self._detail(session, record)
        self.audit(actor, "faq_submit", {"entry": entry_id, "version": latest.version,
                                         "before": {"status": "draft"}, "after": {"status": "review"}})  # fmt: skip
        return detail

    def approve(self, actor: Actor, entry_id: str, lock_version: int) -> FaqDetail:
        """Publish the latest version (admins; the author too when self-publishing is on)."""
        with self.database.session() as session:
            record, latest = self._locked(session, entry_id, lock_version)
            self._require_publisher(actor, latest.author_id)
            if latest.state not in ("draft", "review"):
                raise FaqStateError("게시할 새 버전이 없습니다.")
            before = self._published_data(session, record)
            after = json.loads(latest.data)
            self._publish_version(session, record, latest, actor)
            detail = self._detail(session, record)
        self.audit(actor, "faq_approve", {"entry": entry_id, "version": latest.version, "before": before, "after": after})
        return detail

    def reject(self, actor: Actor, entry_id: str, lock_version: int, reason: str) -> FaqDetail:
        """Send a version under review back to its author with a reason."""
        reason = reason.strip()
        if not reason:
            raise FaqValidationError([("reason", "반려 사유를 적어 주세요.")])
        with self.database.session() as session:
            record, latest = self._locked(session, entry_id, lock_version)
            self._require_publisher(actor, None)
            if latest.state != "review":
                raise FaqStateError("검토 대기 중인 버전만 반려할 수 있습니다.")
            latest.state = "rejected"
            latest.note = reason
            latest.reviewed_by, latest.reviewed_at = actor.id, utcnow()
            record.status = "draft"
            self._touch(record, actor)
            detail = self._detail(session, record)
        self.audit(actor, "faq_reject", {"entry": entry_id, "version": latest.version, "reason": reason,
                                         "before": {"status": "review"}, "after": {"status": "rejected"}})  # fmt: skip
        return detail

    def unpublish(self, actor: Actor, entry_id: str) -> FaqDetail:
        """Take the entry out of the bot's answers (its versions stay)."""
        with self.database.session() as session:
            record = self._record(session, entry_id, lock=True)
            self._require_publisher(actor, None)
            if record.published_version is None:
                raise FaqStateError("게시 중인 항목이 아닙니다.")
            before = self._published_data(session, record)
            self._version(session, entry_id, record.published_version).state = "superseded"
            record.published_version = None
            record.status = "unpublished"
            self._touch(record, actor)
            self.publisher.unpublish([entry_id])
            detail = self._detail(session, record)
        self.audit(actor, "faq_unpublish", {"entry": entry_id, "before": before, "after": None})
        return detail

    def rollback(self, actor: Actor, entry_id: str, to_version: int) -> FaqDetail:
        """Publish the text of an earlier version again, as a new version (admins, or self-publishing editors)."""
        with self.database.session() as session:
            record = self._record(session, entry_id, lock=True)
            self._require_publisher(actor, None)
            old = self._version(session, entry_id, to_version)
            data = json.loads(old.data)
            before = self._published_data(session, record)
            version = self._add_version(session, record, data, actor.id, "draft", f"버전 {to_version}(으)로 되돌림")
            self._publish_version(session, record, version, actor)
            detail = self._detail(session, record)
        self.audit(actor, "faq_rollback", {"entry": entry_id, "to_version": to_version, "before": before, "after": data})
        return detail

    def import_entries(
        self, actor: Actor | None, entries: Sequence[FaqEntry], publish: bool, *, note: str = "", from_files: bool = False
    ) -> ImportResult:
        """Create or update entries in one transaction (all or nothing); ``publish`` publishes them too.

        ``from_files`` (``bokji ingest``): entries staff have touched in the admin are left as they are
        (reported as ``skipped``), so re-running the seed import never undoes an edit, a rollback or an unpublish.
        """
        if actor is not None:
            _require_editor(actor)
            if publish:
                self._require_publisher(actor, actor.id)
        ids = [e.id for e in entries]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise FaqValidationError([("id", f"같은 아이디가 두 번 이상 나옵니다: {', '.join(dupes)}")])
        result = ImportResult()
        changes: builtins.list[dict[str, Any]] = []
        with self.database.session() as session:
            to_publish: builtins.list[FaqEntry] = []
            touched = self._staff_touched(session) if from_files else set()
            for entry in entries:
                data = as_data(entry)
                if entry.id in touched:
                    result.skipped.append(entry.id)
                    continue
                record = session.get(FaqRecord, entry.id, with_for_update=True)
                before = None
                if record is None:
                    record = FaqRecord(id=entry.id, status="draft", lock_version=0, latest_version=0,
                                       created_at=utcnow(), updated_at=utcnow())  # fmt: skip
                    session.add(record)
                    result.created.append(entry.id)
                else:
                    before = json.loads(self._version(session, entry.id, record.latest_version).data)
                if before == data:
                    result.unchanged.append(entry.id)
                    version = self._version(session, entry.id, record.latest_version)
                    if not publish or record.published_version == version.version:
                        continue
                else:
                    if before is not None:
                        result.updated.append(entry.id)
                    version = self._add_version(session, record, data, actor.id if actor else None, "draft", note)
                    record.status = "draft"
                    self._touch(record, actor)
                    changes.append({"entry": entry.id, "before": before, "after": data})
                if publish:
                    self._publish_version(session, record, version, actor, index=False)
                    to_publish.append(entry)
                    result.published.append(entry.id)
            if to_publish:
                self.publisher.publish(to_publish)
        for change in changes:
            self.audit(actor, "faq_import", {**change, "published": publish})
        return result

    def prune_imported(self, keep: Sequence[str]) -> builtins.list[str]:
        """Unpublish entries that only ever came from files (no staff edit) and are no longer in ``keep``.

        Entries anyone created or edited in the admin are never touched: the database, not the files, owns them.
        """
        keep_ids = set(keep)
        with self.database.session() as session:
            edited = self._staff_touched(session)
            records = session.scalars(select(FaqRecord).where(FaqRecord.published_version.is_not(None))).all()
            gone = [r for r in records if r.id not in keep_ids and r.id not in edited]
            for record in gone:
                self._version(session, record.id, record.published_version or 0).state = "superseded"
                record.published_version = None
                record.status = "unpublished"
                self._touch(record, None)
            if gone:
                self.publisher.unpublish([r.id for r in gone])
        for record in gone:
            self.audit(None, "faq_unpublish", {"entry": record.id, "reason": "파일에서 삭제됨", "before": {"status": "published"},
                                               "after": {"status": "unpublished"}})  # fmt: skip
        return [r.id for r in gone]

    def published_ids(self) -> builtins.list[str]:
        """Ids of the entries answering citizens now."""
        with self.database.session() as session:
            return list(session.scalars(select(FaqRecord.id).where(FaqRecord.published_version.is_not(None))).all())

    # -- internals -----------------------------------------------------------------------------------
    def _staff_touched(self, session: Session) -> set[str]:
        """Entries a person created, edited, reviewed, published or unpublished in the admin."""
        by_record = select(FaqRecord.id).where(FaqRecord.updated_by.is_not(None))
        by_version = select(FaqVersion.entry_id).where(FaqVersion.author_id.is_not(None) | FaqVersion.reviewed_by.is_not(None))
        return set(session.scalars(by_record).all()) | set(session.scalars(by_version).all())

    def _require_publisher(self, actor: Actor, author_id: int | None) -> None:
        if actor.role == "admin":
            return
        if self.settings.self_publish and actor.role == "editor" and (author_id is None or author_id == actor.id):
            return
        raise FaqPermissionError("게시와 반려는 관리자만 할 수 있습니다." if not self.settings.self_publish
                                 else "다른 사람이 쓴 버전은 관리자만 게시할 수 있습니다.")  # fmt: skip

    def _record(self, session: Session, entry_id: str, *, lock: bool = False) -> FaqRecord:
        record = session.get(FaqRecord, entry_id, with_for_update=lock)
        if record is None:
            raise FaqNotFoundError("찾는 FAQ 항목이 없습니다.")
        return record

    def _locked(self, session: Session, entry_id: str, lock_version: int) -> tuple[FaqRecord, FaqVersion]:
        record = self._record(session, entry_id, lock=True)
        latest = self._version(session, entry_id, record.latest_version)
        if lock_version != record.lock_version:
            raise FaqStateError(
                f"{self._name(session, record.updated_by)}님이 그 사이 이 항목을 바꿨습니다. 새로 고친 뒤 다시 해 주세요."
            )
        return record, latest

    def _version(self, session: Session, entry_id: str, number: int) -> FaqVersion:
        version = session.scalar(select(FaqVersion).where(FaqVersion.entry_id == entry_id, FaqVersion.version == number))
        if version is None:
            raise FaqNotFoundError(f"버전 {number}이(가) 없습니다.")
        return version

    def _add_version(self, session: Session, record: FaqRecord, data: dict[str, Any], author_id: int | None,
                     state: str, note: str, *, latest: bool = True) -> FaqVersion:  # fmt: skip
        """A new version numbered after every existing one; ``latest`` False keeps it out of the entry's text."""
        session.flush()
        top = session.scalar(select(func.max(FaqVersion.version)).where(FaqVersion.entry_id == record.id)) or 0
        version = FaqVersion(entry_id=record.id, version=top + 1, data=json.dumps(data, ensure_ascii=False),
                             state=state, author_id=author_id, created_at=utcnow(), note=note)  # fmt: skip
        session.add(version)
        if latest:  # a kept conflict draft changes neither the entry's text nor its lock: the winner saves on
            record.latest_version = version.version
            record.lock_version += 1
        session.flush()
        return version

    def _publish_version(self, session: Session, record: FaqRecord, version: FaqVersion, actor: Actor | None,
                         *, index: bool = True) -> None:  # fmt: skip
        if record.published_version is not None and record.published_version != version.version:
            self._version(session, record.id, record.published_version).state = "superseded"
        version.state = "published"
        version.reviewed_by, version.reviewed_at = (actor.id if actor else None), utcnow()
        record.published_version = version.version
        record.status = "published"
        self._touch(record, actor)
        session.flush()
        if index:  # inside the transaction: a failed index write leaves the database unchanged
            self.publisher.publish([FaqEntry.model_validate_json(version.data)])

    def _touch(self, record: FaqRecord, actor: Actor | None) -> None:
        record.updated_at = utcnow()
        record.updated_by = actor.id if actor else None
        if record.lock_version == 0:
            record.lock_version = 1

    def _published_data(self, session: Session, record: FaqRecord) -> dict[str, Any] | None:
        if record.published_version is None:
            return None
        return dict(json.loads(self._version(session, record.id, record.published_version).data))

    def _name(self, session: Session, user_id: int | None) -> str:
        if user_id is None:
            return SYSTEM
        return session.scalar(select(StaffUser.display_name).where(StaffUser.id == user_id)) or SYSTEM

    def _version_rows(self, session: Session, entry_id: str) -> builtins.list[VersionRow]:
        versions = session.scalars(
            select(FaqVersion).where(FaqVersion.entry_id == entry_id).order_by(FaqVersion.version.desc())
        ).all()
        return [VersionRow(version=v.version, state=v.state, author=self._name(session, v.author_id), author_id=v.author_id,
                           created_at=v.created_at, note=v.note or "",
                           reviewed_by=self._name(session, v.reviewed_by) if v.reviewed_by else "",
                           reviewed_at=v.reviewed_at, question=json.loads(v.data).get("question", ""))
                for v in versions]  # fmt: skip

    def _detail(self, session: Session, record: FaqRecord) -> FaqDetail:
        session.flush()
        latest = self._version(session, record.id, record.latest_version)
        return FaqDetail(id=record.id, entry=json.loads(latest.data), status=record.status, latest_state=latest.state,
                         lock_version=record.lock_version, published_version=record.published_version,
                         latest_version=record.latest_version, published=self._published_data(session, record),
                         versions=self._version_rows(session, record.id))  # fmt: skip

    def _rows_with_data(self) -> builtins.list[tuple[FaqRow, dict[str, Any]]]:
        with self.database.session() as session:
            found = session.execute(
                select(FaqRecord, FaqVersion, StaffUser.display_name)
                .join(FaqVersion, (FaqVersion.entry_id == FaqRecord.id) & (FaqVersion.version == FaqRecord.latest_version))
                .outerjoin(StaffUser, StaffUser.id == FaqRecord.updated_by)
            ).all()
        out = []
        for record, version, name in found:
            data = json.loads(version.data)
            until = date.fromisoformat(data["valid_until"]) if data.get("valid_until") else None
            row = FaqRow(id=record.id, question=data["question"], category=data.get("category", ""),
                         tenant=data.get("tenant", ""), status=record.status, latest_state=version.state,
                         live=record.published_version is not None, needs_review=bool(data.get("needs_review")),
                         valid_until=until, updated_at=record.updated_at, updated_by=name or SYSTEM,
                         updated_by_id=record.updated_by, lock_version=record.lock_version,
                         latest_version=record.latest_version, published_version=record.published_version)  # fmt: skip
            out.append((row, data))
        return out


def _require_editor(actor: Actor) -> None:
    if actor.role not in EDITS:
        raise FaqPermissionError("FAQ는 편집자와 관리자만 고칠 수 있습니다.")


def _expiry_matches(expiry: str, valid_until: date | None, today: date) -> bool:
    if valid_until is None:
        return False
    if expiry == "expired":
        return valid_until < today
    if expiry == "expiring":
        return today <= valid_until <= today + timedelta(days=30)
    return True


__all__ = [
    "CONFLICT_NOTE",
    "FaqConflictError",
    "FaqDetail",
    "FaqError",
    "FaqNotFoundError",
    "FaqPermissionError",
    "FaqRow",
    "FaqService",
    "FaqStateError",
    "FaqValidationError",
    "FieldDiff",
    "ImportResult",
    "Reminders",
    "VersionRow",
]
