"""Civil time arithmetic shared by the reference parser and the table assembly (no time zones db)."""
from __future__ import annotations

US = 1_000_000
DAY_US = 86_400 * US


def days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(z: int) -> tuple[int, int, int]:
    z += 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return y + (m <= 2), m, d


def days_in_month(y: int, mo: int) -> int:
    if mo == 2 and y % 4 == 0 and (y % 100 != 0 or y % 400 == 0):
        return 29
    return (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[mo - 1]


def valid_civil(y: int, mo: int, d: int, h: int, mi: int, s: int) -> bool:
    """A date that exists (no Feb 31) and a time of day (a leap second allowed)."""
    return 1 <= mo <= 12 and 1 <= d <= days_in_month(y, mo) and h < 24 and mi < 60 and s < 61


def civil_us(y: int, mo: int, d: int, h: int, mi: int, s: int, frac_us: int = 0) -> int:
    return (days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s) * US + frac_us


def frac_to_us(digits: str) -> int:
    """Fractional-second digits to microseconds, truncating beyond six digits."""
    if not digits:
        return 0
    return int((digits + "000000")[:6])


def round_offset(seconds: int) -> int:
    """An observed local-minus-UTC difference rounded to a whole quarter hour, in -12h..+14h."""
    q = int(round(seconds / 900.0)) * 900
    while q > 14 * 3600:
        q -= 86_400
    while q < -12 * 3600:
        q += 86_400
    return q


def journal_date_us(ref_local_us: int, day: int, sod_us: int) -> int:
    """Local civil time of a journald `Mon DD hh:mm:ss` prefix, given a nearby local reference time.

    The month token is locale-dependent and the year is absent, so the date is the day-of-month
    `day` in the month of the reference, the month before or the month after, whichever is nearest.
    """
    ry, rm, rd = civil_from_days(ref_local_us // DAY_US)
    ref_day = ref_local_us // DAY_US
    best = None
    for dm in (-1, 0, 1):
        y, m = ry, rm + dm
        if m == 0:
            y, m = y - 1, 12
        elif m == 13:
            y, m = y + 1, 1
        dd = days_from_civil(y, m, day)
        if civil_from_days(dd)[2] != day:  # day does not exist in that month
            continue
        dist = abs(dd - ref_day)
        if best is None or dist < best[0]:
            best = (dist, dd)
    if best is None:
        return ref_day * DAY_US + sod_us
    return best[1] * DAY_US + sod_us


def _date_days(y: int, m: int, d: int) -> int | None:
    """Days since the epoch of a date that exists (None for Feb 30 or Feb 29 of a common year)."""
    dd = days_from_civil(y, m, d)
    return dd if civil_from_days(dd) == (y, m, d) else None


def journal_month_date_us(ref_local_us: int, month: int, day: int, sod_us: int) -> int:
    """Local civil time of a journald prefix whose month name is known: the year nearest the reference."""
    ref_day = ref_local_us // DAY_US
    ry = civil_from_days(ref_day)[0]
    best = None
    for y in (ry - 1, ry, ry + 1):
        dd = _date_days(y, month, day)
        if dd is not None and (best is None or abs(dd - ref_day) < best[0]):
            best = (abs(dd - ref_day), dd)
    if best is None:
        return journal_date_us(ref_local_us, day, sod_us)
    return best[1] * DAY_US + sod_us


def journal_hint_date_us(month: int, day: int, sod_us: int, year: int, mtime_local_us: int | None) -> int | None:
    """Local civil time of a journald prefix in a file with no absolute time to date it from.

    In `year` when it is given (non-zero); else the latest such date no later than the day after
    the file's modification time (a log is written before its file's mtime; the day of slack
    covers the unknown zone). None when neither is known or the date cannot exist.
    """
    if year:
        dd = _date_days(year, month, day)
        return None if dd is None else dd * DAY_US + sod_us
    if mtime_local_us is None:
        return None
    limit = mtime_local_us // DAY_US + 1
    y = civil_from_days(limit)[0]
    for yy in range(y, y - 8, -1):
        dd = _date_days(yy, month, day)
        if dd is not None and dd <= limit:
            return dd * DAY_US + sod_us
    return None
