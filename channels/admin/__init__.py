"""The knowledge admin: welfare teams keep the bot's FAQs and documents right from the browser.

``bp`` is registered in ``channels.app.create_app``; sign-in and roles come from ``channels.auth``.
"""

from channels.admin.blueprint import bp

__all__ = ["bp"]
