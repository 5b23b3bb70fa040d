"""Personal data: pseudonymous sender ids, the retention purge, and one citizen's data exported or erased.

``SenderIds`` is built in ``channels.app.create_app``; ``Retention`` and ``CitizenData`` serve the console's
privacy page and the ``bokji purge`` / ``bokji citizen`` commands.
"""

from channels.privacy.citizen_data import CitizenData, Counts, parse_sender_id
from channels.privacy.retention import Retention
from channels.privacy.sender_ids import SenderIds
from channels.privacy.tracker import TrackerEvents

__all__ = ["CitizenData", "Counts", "Retention", "SenderIds", "TrackerEvents", "parse_sender_id"]
