"""Dates: one parser for every place that reads a date, and one stored form.

The rule, everywhere: **a date with a zone or offset is converted to UTC; every date is
then kept naive (no tzinfo) and means UTC.** A date without a zone is taken as UTC already.
Stored and exported dates are always written by :func:`to_iso` as ``YYYY-MM-DDTHH:MM:SS``
(seconds precision, no zone, no fraction), so a column of them is read uniformly with
``pd.to_datetime(series, format=DATE_FORMAT)``.

Forms understood by :func:`parse_date`: ISO 8601 with or without fractions and zones
(``2022-06-11T00:57:56``, ``2022-05-31T13:24:30.615Z``, ``2022-06-11T02:57:56+02:00``),
plain dates (``2022-06-11``, ``2022/06/11``), RFC 2822 (``Mon, 09 Jan 2022 10:00:00 GMT``)
and written dates (``9 January 2022``, ``June 9, 2022``). Query bounds
(:func:`parse_date_bound`) also take partial forms: ``2022``, ``2022-06``, ``20220601``.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, time
from email.utils import parsedate_to_datetime

from dateutil import parser as _dateparser

__all__ = ["DATE_FORMAT", "MAX_YEAR", "MIN_YEAR", "parse_date", "parse_date_bound", "to_iso"]

DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"
"""The one form dates are stored and exported in (naive UTC, seconds precision)."""
MIN_YEAR = 1800
"""Dates before this year are refused as garbage."""
MAX_YEAR = 2200
"""Dates after this year are refused as garbage."""

_DEFAULT_DT = datetime(2000, 1, 1)
_RFC2822 = re.compile(r"^\s*([A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}\s+\d{1,2}:\d{2}")
_HAS_YEAR = re.compile(r"(?<!\d)\d{4}(?!\d)|^\d{8}")
_HAS_TIME = re.compile(r"\d{1,2}:\d{2}")
_BOUND_FORMS = "write 2022, 2022-06, 2022-06-01 (or 20220601) or 2022-06-01T12:00:00"


def _short(value: object) -> str:
    return repr(str(value)[:40])


def _checked(dt: datetime, value: object) -> datetime:
    """Convert to naive UTC and check the year is plausible."""
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    if not MIN_YEAR <= dt.year <= MAX_YEAR:
        raise ValueError(f"date out of range ({MIN_YEAR}-{MAX_YEAR}): {_short(value)}")
    return dt


def parse_date(value: object) -> datetime | None:
    """Parse a date in any common news form to a naive UTC datetime.

    Parameters
    ----------
    value : object
        A string, ``datetime``/``date`` (pandas ``Timestamp`` included), ``None`` or NaN.

    Returns
    -------
    datetime or None
        Naive, in UTC (zoned values are converted; unzoned ones are taken as UTC).
        ``None`` for a missing value (``None``, NaN, empty or blank string).

    Raises
    ------
    ValueError
        With a one-line message quoting the value, when it is not a date (bare numbers,
        words, impossible dates, years outside ``MIN_YEAR``..``MAX_YEAR``).
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        if value != value:  # NaT
            return None
        return _checked(datetime.fromisoformat(value.isoformat()), value)
    if isinstance(value, date):
        return _checked(datetime.combine(value, time()), value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value != value:  # NaN
            return None
        raise ValueError(f"a bare number is not a date: {value!r}")
    s = " ".join(str(value).split())
    if not s:
        return None
    try:
        return _checked(datetime.fromisoformat(s), s)
    except ValueError as exc:
        if "out of range (" in str(exc):
            raise
    if _RFC2822.match(s):
        try:
            return _checked(parsedate_to_datetime(s), s)
        except (TypeError, ValueError, IndexError):
            pass
    if not _HAS_YEAR.search(s) or not re.search(r"[A-Za-z]{3}|\d{1,4}[-/. ]\d{1,2}", s):
        raise ValueError(f"not a date: {_short(s)}")
    try:
        dt = _dateparser.parse(s, default=_DEFAULT_DT)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"not a date: {_short(s)}") from exc
    return _checked(dt, s)


def parse_date_bound(text: str, *, end: bool) -> datetime:
    """Parse one end of a date range, widening partial dates.

    Parameters
    ----------
    text : str
        ``2022``, ``2022-06`` / ``202206``, ``2022-06-01`` / ``20220601``, or any form
        :func:`parse_date` reads (a form with a time of day is taken exactly).
    end : bool
        ``False`` for a lower bound (the first second of the year, month or day),
        ``True`` for an upper bound (the last second of it), so ``2022-06`` as both
        bounds covers all of June.

    Returns
    -------
    datetime
        Naive UTC, seconds precision.

    Raises
    ------
    ValueError
        One line naming the accepted forms, when ``text`` is empty or not a date.
    """
    s = str(text).strip()
    m = re.fullmatch(r"(\d{4})(?:-?(\d{2}))?(?:-?(\d{2}))?", s)
    if m and (m.group(3) is None or m.group(2) is not None):
        year, month, day = int(m.group(1)), m.group(2), m.group(3)
        try:
            if month is None:
                lo, hi = datetime(year, 1, 1), datetime(year, 12, 31)
            elif day is None:
                mon = int(month)
                lo = datetime(year, mon, 1)
                hi = datetime(year, mon, calendar.monthrange(year, mon)[1])
            else:
                lo = hi = datetime(year, int(month), int(day))
            _checked(lo, s)
        except ValueError:
            raise ValueError(f"not a date: {_short(s)}; {_BOUND_FORMS}") from None
        return hi.replace(hour=23, minute=59, second=59) if end else lo
    if re.fullmatch(r"\d+", s):
        raise ValueError(f"not a date: {_short(s)}; {_BOUND_FORMS}")
    try:
        dt = parse_date(s)
    except ValueError:
        dt = None
    if dt is None:
        raise ValueError(f"not a date: {_short(s)}; {_BOUND_FORMS}")
    dt = dt.replace(microsecond=0)
    if end and not _HAS_TIME.search(s):
        dt = dt.replace(hour=23, minute=59, second=59)
    return dt


def to_iso(dt: datetime | None) -> str | None:
    """Write a date in the stored form ``YYYY-MM-DDTHH:MM:SS`` (naive UTC, no fraction).

    Parameters
    ----------
    dt : datetime or None
        A naive UTC datetime (as :func:`parse_date` returns); a zoned one is converted.

    Returns
    -------
    str or None
        ``None`` for ``None``.
    """
    if dt is None:
        return None
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return dt.strftime(DATE_FORMAT)
