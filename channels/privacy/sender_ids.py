"""Sender ids that do not carry a channel's user id: ``kakao:<keyed hash>`` instead of ``kakao:<botUserKey>``.

A KakaoTalk botUserKey identifies one person on Kakao for as long as they use the channel. Everything we keep
(transcripts, handoffs, Rasa's tracker, logs, the audit log) is filed under a keyed hash of it instead
(HMAC-SHA256, the first 32 hex digits: 128 bits), so a copy of the database or a log file cannot be joined
with Kakao's records, and without the key the hash cannot be recomputed from a guessed user key. The same
user always gets the same id (their form answers and history carry over); the key lives in
``BOKJI_PRIVACY__ID_KEY`` or ``<data_dir>/id_key`` (created once, mode 0600), apart from the console's
cookie key, so rotating that signs staff out without splitting every citizen's conversation. Only while the
optional Event API may push to a user is their botUserKey kept, sealed (Fernet) with a key derived from the
same one, so every web replica can read it and a copy of the database alone cannot.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from channels.auth.wiring import secret_key_file
from channels.settings import PrivacySettings

HASH_CHARS = 32


class SenderIds:
    """Turns channel user ids into pseudonymous sender ids with one server-side key."""

    def __init__(self, key: bytes) -> None:
        """Use ``key`` (at least 16 bytes) for every id."""
        if len(key) < 16:
            raise ValueError("the sender-id key must be at least 16 bytes")
        self._key = key

    @classmethod
    def from_settings(cls, settings: PrivacySettings, data_dir: Path) -> SenderIds:
        """The key from ``BOKJI_PRIVACY__ID_KEY``, else the one kept in ``<data_dir>/id_key``."""
        key = settings.id_key.get_secret_value() or secret_key_file(data_dir / "id_key")
        return cls(key.encode("utf-8"))

    def pseudonym(self, channel: str, user_id: str) -> str:
        """``<channel>:<hash>``: the same user id always gives the same sender id, and nothing gives it back."""
        digest = hmac.new(self._key, f"{channel}:{user_id}".encode(), hashlib.sha256).hexdigest()
        return f"{channel}:{digest[:HASH_CHARS]}"

    def kakao(self, bot_user_key: str) -> str:
        """The sender id of a KakaoTalk user (what Rasa, the transcripts and the console see)."""
        return self.pseudonym("kakao", bot_user_key)

    def seal(self, text: str) -> str:
        """``text`` encrypted and authenticated with a key derived from the id key (Fernet), for the database."""
        return self._fernet().encrypt(text.encode("utf-8")).decode("ascii")

    def unseal(self, token: str) -> str | None:
        """What :meth:`seal` encrypted; None when it was sealed with another key or altered."""
        try:
            return self._fernet().decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError):
            return None

    def _fernet(self) -> Fernet:
        derived = hmac.new(self._key, b"bokji:sealed-channel-ids", hashlib.sha256).digest()
        return Fernet(base64.urlsafe_b64encode(derived))
