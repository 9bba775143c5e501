"""Exporting tables safely.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or
carriage return before one) as a formula: a headline such as ``=HYPERLINK(...)`` in a
scraped corpus would become a live link or worse. Exported text cells that start so are
prefixed with a single quote (OWASP's advice), which spreadsheets show as plain text.
Numbers are left as numbers.

Dates are written one way everywhere (JSON, CSV): ISO 8601 to the second,
``2022-06-11T00:57:56``, in UTC without a zone suffix (the index stores UTC).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pandas as pd

__all__ = ["iso_date", "neutralise", "to_csv"]

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """A text cell made safe for spreadsheets; other values unchanged."""
    if isinstance(value, str) and value.startswith(_TRIGGERS):
        return "'" + value
    return value


def iso_date(value: object) -> str | None:
    """A date or datetime as ``YYYY-MM-DDTHH:MM:SS`` (None for missing)."""
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return value.replace(tzinfo=None, microsecond=0).isoformat()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day).isoformat()
    return str(value)


def to_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` as UTF-8 CSV with formula-like text cells neutralised."""
    path = Path(path)
    safe = df.copy()
    for col in safe.columns:
        if pd.api.types.is_datetime64_any_dtype(safe[col]):
            safe[col] = safe[col].map(iso_date)
        elif safe[col].dtype == object or pd.api.types.is_string_dtype(safe[col]):
            safe[col] = safe[col].map(neutralise)
    safe.columns = [str(neutralise(str(c))) for c in safe.columns]
    safe.to_csv(path, index=False, encoding="utf-8")
    return path
