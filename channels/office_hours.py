"""When staff are on duty: weekly opening hours in the city's time zone, minus holidays.

The setting reads like a sign on a door: ``"mon-fri 09:00-18:00"`` or ``"mon-fri 09:00-18:00; sat 09:00-13:00"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
KOREAN_DAYS = "월화수목금토일"
_PART = re.compile(
    r"^\s*(?P<days>[a-z]{3}(?:-[a-z]{3})?(?:,[a-z]{3}(?:-[a-z]{3})?)*)\s+(?P<open>\d{1,2}:\d{2})-(?P<close>\d{1,2}:\d{2})\s*$"
)


class OfficeHoursError(ValueError):
    """The office hours setting cannot be read."""


@dataclass(frozen=True)
class OfficeHours:
    """Opening hours per weekday (Monday = 0) in ``zone``; ``holidays`` are closed all day."""

    windows: dict[int, tuple[tuple[time, time], ...]]
    zone: ZoneInfo
    holidays: frozenset[date] = frozenset()

    @classmethod
    def parse(cls, spec: str, zone: str = "Asia/Seoul", holidays: list[date] | None = None) -> OfficeHours:
        """Read ``"mon-fri 09:00-18:00; sat 09:00-13:00"``.

        Raises:
            OfficeHoursError: a part is not ``<days> HH:MM-HH:MM`` or closes before it opens.
        """
        windows: dict[int, list[tuple[time, time]]] = {}
        for part in filter(str.strip, spec.lower().split(";")):
            match = _PART.match(part)
            if match is None:
                raise OfficeHoursError(f"office hours: cannot read {part.strip()!r}; write e.g. 'mon-fri 09:00-18:00'")
            opens, closes = (time.fromisoformat(match[k].zfill(5)) for k in ("open", "close"))
            if closes <= opens:
                raise OfficeHoursError(f"office hours: {part.strip()!r} closes before it opens")
            for day in _days(match["days"]):
                windows.setdefault(day, []).append((opens, closes))
        return cls({d: tuple(sorted(w)) for d, w in windows.items()}, ZoneInfo(zone), frozenset(holidays or ()))

    def is_open(self, at: datetime) -> bool:
        """True when ``at`` (any zone) falls inside opening hours."""
        local = at.astimezone(self.zone)
        if local.date() in self.holidays:
            return False
        return any(opens <= local.time() < closes for opens, closes in self.windows.get(local.weekday(), ()))

    def next_opening(self, at: datetime) -> datetime | None:
        """The next moment staff come on duty after ``at`` (None when no hours are set)."""
        local = at.astimezone(self.zone)
        for offset in range(0, 400):
            day = local.date() + timedelta(days=offset)
            if day in self.holidays:
                continue
            for opens, _closes in self.windows.get(day.weekday(), ()):
                start = datetime.combine(day, opens, self.zone)
                if start > local:
                    return start
        return None

    def describe(self) -> str:
        """The hours in Korean, e.g. "평일 오전 9시~오후 6시"."""
        groups: dict[tuple[tuple[time, time], ...], list[int]] = {}
        for day, windows in sorted(self.windows.items()):
            groups.setdefault(windows, []).append(day)
        parts = []
        for windows, days in groups.items():
            label = "평일" if days == [0, 1, 2, 3, 4] else ", ".join(f"{KOREAN_DAYS[d]}요일" for d in days)
            parts.append(f"{label} " + ", ".join(f"{korean_time(o)}~{korean_time(c)}" for o, c in windows))
        return " / ".join(parts)


def korean_time(value: time) -> str:
    """09:00 as 오전 9시, 13:30 as 오후 1시 30분."""
    half = "오전" if value.hour < 12 else "오후"
    hour = value.hour % 12 or 12
    return f"{half} {hour}시" + (f" {value.minute}분" if value.minute else "")


def korean_moment(value: datetime, zone: ZoneInfo) -> str:
    """A moment as citizens read it: "12월 1일(화) 오전 9시"."""
    local = value.astimezone(zone)
    return f"{local.month}월 {local.day}일({KOREAN_DAYS[local.weekday()]}) {korean_time(local.time())}"


def _days(spec: str) -> list[int]:
    days: list[int] = []
    for item in spec.split(","):
        first, _, last = item.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise OfficeHoursError(f"office hours: unknown day in {spec!r}; use mon tue wed thu fri sat sun")
        start, end = DAYS.index(first), DAYS.index(last or first)
        days.extend(range(start, end + 1) if start <= end else [*range(start, 7), *range(0, end + 1)])
    return days
