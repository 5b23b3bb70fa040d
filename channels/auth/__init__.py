"""Staff accounts and sign-in, shared by the console and the knowledge admin.

``init_auth`` wires it into the app; staff routes use ``roles_required`` and ``current_actor``.
"""

from channels.auth.accounts import AccountError, AccountService, StaffAccount, check_password
from channels.auth.guard import current_actor, current_session_token_hash, roles_required, safe_next
from channels.auth.wiring import init_auth

__all__ = [
    "AccountError",
    "AccountService",
    "StaffAccount",
    "check_password",
    "current_actor",
    "current_session_token_hash",
    "init_auth",
    "roles_required",
    "safe_next",
]
