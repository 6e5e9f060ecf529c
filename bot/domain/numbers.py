"""Numbers people type: ASCII digits only, bounded before they are converted.

`str.isdigit()` and `int()` accept digits of every script (`፩`, `٣`) and numbers of any size; a command
takes neither, so every number a user types is read here.
"""

from __future__ import annotations

import re

from bot.domain.names import shown

# Go's int64: aws-node reads its integer settings with strconv.Atoi on a 64-bit platform.
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
_ASCII_INT = re.compile(r"[+-]?[0-9]+", re.ASCII)
_ASCII_DIGITS = re.compile(r"[0-9]+", re.ASCII)


class InvalidNumber(ValueError):
    """A number that cannot be used; the message is fit for the user."""


def ascii_digits(value: str) -> bool:
    return _ASCII_DIGITS.fullmatch(value) is not None


def bounded_int(value: str, low: int, high: int, what: str) -> int:
    """A whole number in ASCII digits between low and high; the length is checked before int() runs."""
    text = value.strip()
    if not ascii_digits(text):
        raise InvalidNumber(f"{what} wants a number in digits 0-9 (got `{shown(text, 20)}`)")
    if len(text.lstrip("0")) > len(str(high)) or not low <= int(text) <= high:
        raise InvalidNumber(f"{what} must be between {low} and {high} (got `{shown(text, 20)}`)")
    return int(text)


def int64_problem(value: str) -> str | None:
    """Why an integer-looking value cannot be a Go int64 (None when it is not an integer, or fits)."""
    text = value.strip()
    if _ASCII_INT.fullmatch(text) is None:
        return None
    if len(text.lstrip("+-").lstrip("0")) > 19 or not INT64_MIN <= int(text) <= INT64_MAX:
        return f"`{shown(text, 24)}` is beyond a 64-bit integer (at most {INT64_MAX})"
    return None
