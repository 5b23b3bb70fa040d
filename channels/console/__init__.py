"""The staff console: the live queue, one chat at a time, canned responses and the audit log.

``bp`` is registered in ``channels.app.create_app``; sign-in and roles come from ``channels.auth``.
"""

from channels.console.blueprint import bp
from channels.console.canned import CannedResponses

__all__ = ["CannedResponses", "bp"]
