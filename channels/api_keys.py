"""API keys of the public chat API (``/api/v1/chat``): integrations send ``Authorization: Bearer <key>``.

Keys come from ``BOKJI_API_KEYS`` as comma-separated ``name:key`` pairs. Each key's conversations are
filed under ``api:<name>:<session_id>``, so two integrations never read or continue each other's chats.
No keys configured: the endpoint is off and says so.
"""

from __future__ import annotations

import hmac
import re

from flask import request

from channels.api import ApiError

NAME = re.compile(r"^[A-Za-z0-9_-]{1,24}$")
MIN_KEY_CHARS = 16

DISABLED = "이 API는 아직 사용할 수 없어요. 운영 기관에 API 키 발급을 요청해 주세요."
REQUIRED = "API 키가 필요해요. 'Authorization: Bearer <API 키>' 헤더로 보내 주세요."
WRONG = "API 키가 올바르지 않아요. 발급받은 키를 확인해 주세요."


def parse_api_keys(value: str) -> dict[str, str]:
    """``name:key,name2:key2`` as a mapping of names to keys.

    Raises:
        ValueError: a malformed pair, a bad or repeated name, or a key shorter than 16 characters.
    """
    keys: dict[str, str] = {}
    for pair in (part.strip() for part in value.split(",")):
        if not pair:
            continue
        name, sep, key = pair.partition(":")
        if not sep or not NAME.match(name):
            raise ValueError("BOKJI_API_KEYS: each entry is name:key, the name 1-24 letters, digits, _ or -")
        if len(key) < MIN_KEY_CHARS or not key.isascii() or not key.isprintable():
            raise ValueError(f"BOKJI_API_KEYS: the key of {name!r} must be at least {MIN_KEY_CHARS} printable ASCII characters")
        if name in keys:
            raise ValueError(f"BOKJI_API_KEYS: the name {name!r} appears twice")
        keys[name] = key
    return keys


class ApiKeys:
    """The configured keys; tells which integration a request comes from."""

    def __init__(self, keys: dict[str, str]) -> None:
        """Keep ``name -> key``."""
        self._keys = {name: key.encode() for name, key in keys.items()}

    @property
    def enabled(self) -> bool:
        """Whether any key is configured."""
        return bool(self._keys)

    def identify(self, authorization: str | None) -> str | None:
        """The name of the integration whose key the ``Authorization`` header carries, or None."""
        scheme, _, presented = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            return None
        candidate = presented.strip().encode("utf-8", "surrogatepass")
        found = None
        for name, key in self._keys.items():  # every key compared, in constant time each
            if hmac.compare_digest(candidate, key):
                found = name
        return found

    def require(self) -> str:
        """The integration of this request.

        Raises:
            ApiError: 403 ``api_disabled`` when no keys are configured, 401 without a key or with a wrong one.
        """
        if not self.enabled:
            raise ApiError(403, "api_disabled", DISABLED)
        authorization = request.headers.get("Authorization")
        if not authorization:
            raise ApiError(401, "api_key_required", REQUIRED)
        name = self.identify(authorization)
        if name is None:
            raise ApiError(401, "invalid_api_key", WRONG)
        return name

    @staticmethod
    def sender(name: str, session_id: str) -> str:
        """The sender id of an integration's conversation (namespaced by its key's name)."""
        return f"api:{name}:{session_id}"
