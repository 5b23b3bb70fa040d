"""Staff accounts: passwords (argon2), lockout after repeated failures, and server-side sign-in sessions.

A sign-in is a random token: the browser keeps it in the signed Flask session cookie, the database keeps
only its sha256 (``StaffSession``). Signing out, disabling an account or resetting its password deletes the
rows, so the browser is signed out on its very next request. Every change here writes an audit entry.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from channels.settings import ConsoleSettings
from channels.store.database import Database
from channels.store.models import ROLES, AuditEntry, StaffSession, StaffUser, utcnow

MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 256
PRESENCE_EVERY_S = 20  # last_seen_at is written at most this often per session
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
ROLE_LABELS = {"agent": "상담원", "editor": "지식 편집자", "admin": "관리자"}


class AccountError(Exception):
    """Bad input to an account operation: ``message`` is Korean (staff screens), ``english`` for the CLI."""

    def __init__(self, code: str, message: str, english: str) -> None:
        """Keep a stable code and both messages."""
        super().__init__(english)
        self.code, self.message, self.english = code, message, english


@dataclass(frozen=True)
class StaffAccount:
    """An account as screens and commands show it (never the password hash)."""

    id: int
    username: str
    display_name: str
    role: str
    active: bool
    locked_until: datetime | None
    last_login_at: datetime | None


@dataclass(frozen=True)
class SignedIn:
    """A browser's valid sign-in: who it is, and the hash of its session token."""

    user_id: int
    username: str
    display_name: str
    role: str
    token_hash: str


@dataclass(frozen=True)
class SignInResult:
    """The outcome of a password check: a token on success, else why not (``wrong``, ``locked``, ``disabled``)."""

    token: str | None = None
    account: StaffAccount | None = None
    refused: str | None = None
    locked_minutes: int = 0


def token_hash(token: str) -> str:
    """What the database keeps of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


def check_password(password: str) -> None:
    """The password policy: at least 10 characters (a passphrase is best), at most 256."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_CHARS or not password.strip():
        raise AccountError(
            "weak_password",
            f"비밀번호는 {MIN_PASSWORD_CHARS}자 이상이어야 해요. 외우기 쉬운 긴 문장을 추천해요.",
            f"the password must be at least {MIN_PASSWORD_CHARS} characters long (a passphrase is best)",
        )
    if len(password) > MAX_PASSWORD_CHARS:
        raise AccountError(
            "weak_password",
            f"비밀번호는 {MAX_PASSWORD_CHARS}자까지 쓸 수 있어요.",
            f"the password may be at most {MAX_PASSWORD_CHARS} characters long",
        )


class AccountService:
    """Accounts, password checks with lockout, and sign-in sessions (build once; pass it down)."""

    def __init__(self, database: Database, settings: ConsoleSettings | None = None) -> None:
        """Use ``database``; lockout and session lengths come from ``settings``."""
        self.database = database
        self.settings = settings or ConsoleSettings()
        self.hasher = PasswordHasher()
        self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))

    # --- accounts ---------------------------------------------------------------------------------------

    def add_user(self, username: str, display_name: str, role: str, password: str, actor_id: int | None = None) -> StaffAccount:
        """Create an account; refuses a taken username, an unknown role or a weak password."""
        username = clean_username(username)
        display_name = (display_name or "").strip()
        if not 1 <= len(display_name) <= 64:
            raise AccountError("invalid_name", "이름은 1~64자로 입력해 주세요.", "the display name must be 1-64 characters")
        if role not in ROLES:
            raise AccountError(
                "invalid_role", f"역할은 {', '.join(ROLES)} 중 하나여야 해요.", f"the role must be one of {', '.join(ROLES)}"
            )
        check_password(password)
        password_hash = self.hasher.hash(password)
        with self.database.session() as session:
            if session.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
                raise AccountError("duplicate_user", f"'{username}' 아이디는 이미 있어요.", f"user {username!r} already exists")
            user = StaffUser(username=username, display_name=display_name, role=role, password_hash=password_hash,
                             active=True, failed_logins=0, created_at=utcnow())  # fmt: skip
            session.add(user)
            session.flush()
            _audit(session, actor_id, "user_added", {"username": username, "role": role})
            return _account(user)

    def disable(self, username: str, actor_id: int | None = None) -> StaffAccount:
        """Stop an account from signing in and sign it out everywhere at once."""
        with self.database.session() as session:
            user = self._user(session, username)
            user.active = False
            session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
            _audit(session, actor_id, "user_disabled", {"username": user.username})
            return _account(user)

    def enable(self, username: str, actor_id: int | None = None) -> StaffAccount:
        """Let a disabled account sign in again."""
        with self.database.session() as session:
            user = self._user(session, username)
            user.active = True
            _audit(session, actor_id, "user_enabled", {"username": user.username})
            return _account(user)

    def reset_password(self, username: str, password: str, actor_id: int | None = None) -> StaffAccount:
        """Set a new password, unlock the account and end its sessions."""
        check_password(password)
        password_hash = self.hasher.hash(password)
        with self.database.session() as session:
            user = self._user(session, username)
            user.password_hash, user.failed_logins, user.locked_until = password_hash, 0, None
            session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
            _audit(session, actor_id, "password_reset", {"username": user.username})
            return _account(user)

    def list_users(self) -> list[StaffAccount]:
        """Every account, by username."""
        with self.database.session() as session:
            return [_account(u) for u in session.scalars(select(StaffUser).order_by(StaffUser.username))]

    def get(self, username: str) -> StaffAccount:
        """One account (``AccountError`` when there is none)."""
        with self.database.session() as session:
            return _account(self._user(session, username))

    # --- signing in -------------------------------------------------------------------------------------

    def authenticate(self, username: str, password: str, now: datetime | None = None) -> SignInResult:
        """Check a password; on success open a session and return its token (shown to nobody but the browser)."""
        now = now or utcnow()
        name = (username or "").strip().lower()
        password = password if isinstance(password, str) else ""
        with self.database.session() as session:
            user = session.scalars(select(StaffUser).where(StaffUser.username == name)).first()
            if user is None:
                self._verify(self._dummy_hash, password)  # the same work as a real check: no timing hint
                _audit(session, None, "sign_in_failed", {"username": name[:64], "why": "unknown_user"})
                return SignInResult(refused="wrong")
            if user.locked_until is not None and user.locked_until > now:
                _audit(session, None, "sign_in_failed", {"username": name, "why": "locked"})
                return SignInResult(refused="locked", locked_minutes=_minutes_left(user.locked_until, now))
            if not self._verify(user.password_hash, password):
                return self._failed(session, user, now)
            if not user.active:
                _audit(session, None, "sign_in_failed", {"username": name, "why": "disabled"})
                return SignInResult(refused="disabled")
            if self.hasher.check_needs_rehash(user.password_hash):
                user.password_hash = self.hasher.hash(password)
            user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
            session.execute(delete(StaffSession).where(StaffSession.expires_at <= now))  # housekeeping
            token = secrets.token_urlsafe(32)
            expires = now + timedelta(hours=self.settings.session_hours)
            session.add(StaffSession(token_hash=token_hash(token), user_id=user.id, created_at=now, last_seen_at=now,
                                     expires_at=expires))  # fmt: skip
            _audit(session, user.id, "signed_in", {"username": name})
            return SignInResult(token=token, account=_account(user))

    def lookup(self, token: str, now: datetime | None = None) -> SignedIn | None:
        """The sign-in behind a browser's token, if it is still valid; refreshes presence now and then."""
        now = now or utcnow()
        digest = token_hash(token)
        with self.database.session() as session:
            row = session.execute(
                select(StaffSession, StaffUser).join(StaffUser, StaffUser.id == StaffSession.user_id)
                .where(StaffSession.token_hash == digest)
            ).first()  # fmt: skip
            if row is None:
                return None
            staff_session, user = row
            if staff_session.expires_at <= now or not user.active:
                session.delete(staff_session)
                return None
            if staff_session.last_seen_at <= now - timedelta(seconds=PRESENCE_EVERY_S):
                staff_session.last_seen_at = now
            return SignedIn(user.id, user.username, user.display_name, user.role, digest)

    def touch(self, digest: str, now: datetime | None = None) -> bool:
        """Mark a session as seen now (long live streams call this); False when it has ended or expired."""
        now = now or utcnow()
        with self.database.session() as session:
            result = session.execute(
                update(StaffSession).where(StaffSession.token_hash == digest, StaffSession.expires_at > now,
                    StaffSession.user_id.in_(select(StaffUser.id).where(StaffUser.active.is_(True))))
                .values(last_seen_at=now)
            )  # fmt: skip
            return bool(getattr(result, "rowcount", 0))

    def sign_out(self, digest: str) -> None:
        """End one sign-in (the browser's next request is anonymous)."""
        with self.database.session() as session:
            staff_session = session.get(StaffSession, digest)
            if staff_session is not None:
                _audit(session, staff_session.user_id, "signed_out", {})
                session.delete(staff_session)

    # --- internals --------------------------------------------------------------------------------------

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def _failed(self, session: Session, user: StaffUser, now: datetime) -> SignInResult:
        """A wrong password: count it (in the database, so concurrent attempts add up) and lock at the limit."""
        session.execute(update(StaffUser).where(StaffUser.id == user.id).values(failed_logins=StaffUser.failed_logins + 1))
        session.refresh(user)
        _audit(session, None, "sign_in_failed", {"username": user.username, "why": "wrong_password"})
        if user.failed_logins < self.settings.lockout_attempts:
            return SignInResult(refused="wrong")
        user.failed_logins, user.locked_until = 0, now + timedelta(minutes=self.settings.lockout_minutes)
        _audit(session, None, "locked", {"username": user.username, "minutes": self.settings.lockout_minutes})
        return SignInResult(refused="locked", locked_minutes=_minutes_left(user.locked_until, now))

    def _user(self, session: Session, username: str) -> StaffUser:
        name = (username or "").strip().lower()
        user = session.scalars(select(StaffUser).where(StaffUser.username == name)).first()
        if user is None:
            raise AccountError("unknown_user", f"'{name}' 아이디를 찾을 수 없어요.", f"no user {name!r}")
        return user


def clean_username(username: str) -> str:
    """A username as stored (trimmed, lower case), or ``AccountError`` when it cannot be one."""
    name = (username or "").strip().lower()
    if not _USERNAME.match(name):
        raise AccountError(
            "invalid_username",
            "아이디는 영문 소문자, 숫자, . _ - 로 된 2~64자여야 해요.",
            "the username must be 2-64 characters of lowercase letters, digits, '.', '_' or '-'",
        )
    return name


def _minutes_left(until: datetime, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds() / 60))


def _account(user: StaffUser) -> StaffAccount:
    return StaffAccount(user.id, user.username, user.display_name, user.role, bool(user.active), user.locked_until,
                        user.last_login_at)  # fmt: skip


def _audit(session: Session, actor_id: int | None, action: str, detail: dict[str, Any]) -> None:
    session.add(AuditEntry(at=utcnow(), actor_id=actor_id, action=action, detail=json.dumps(detail, ensure_ascii=False)))
