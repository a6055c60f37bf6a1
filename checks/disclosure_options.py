"""Validate, at the edge, the options the disclosure / staleness / classification / services checks read.

ARCHITECTURE.md: configuration is validated at the edge with messages that name the file, the key
and what is expected. The CLI calls `validate_options(check_options)` before crawling, so a bad
code table or yearly-rules file costs the user one clear message, not a crawl and a traceback.
Defines no Check.
"""

from __future__ import annotations

from typing import Any

from checks.classification import load_code_tables
from checks.staleness import load_series


class OptionError(ValueError):
    """One bilingual message naming the option (and file) at fault."""


def _positive_int(options: dict[str, Any], key: str, *, allow_zero: bool = False) -> None:
    if key not in options or options[key] is None:
        return
    value = options[key]
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    if number is None or isinstance(value, bool) or number < (0 if allow_zero else 1) or str(number) != str(value).strip():
        kind = "非負整數 / a non-negative integer" if allow_zero else "正整數 / a positive integer"
        raise OptionError(f"{key} 必須是{kind}，得到 / got {value!r}")


def validate_options(options: dict[str, Any]) -> None:
    """Raise OptionError (a ValueError) when an option these checks read cannot be used."""
    _positive_int(options, "stale_days")
    _positive_int(options, "notice_grace_days", allow_zero=True)
    threshold = options.get("title_mismatch_threshold")
    if threshold is not None:
        try:
            ok = 0.0 <= float(threshold) <= 1.0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise OptionError(f"title_mismatch_threshold 必須介於 0 與 1 / must be between 0 and 1, got {threshold!r}")
    try:
        load_code_tables(options.get("code_tables"))
        load_series(options.get("annual_documents"))
    except ValueError as exc:
        raise OptionError(str(exc)) from exc
