"""Resident id numbers (居民身份证号码, GB 11643-1999): 17 digits and a check character."""

from __future__ import annotations

import re

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")  # ASCII digits only (\d takes every script's digits)


def check_character(first17: str) -> str:
    """The check character of the first 17 digits: sum of digit x weight, mod 11, looked up in "10X98765432"."""
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def id_number_problem(value: str) -> str | None:
    """Why `value` is not a valid 18-character id number, in Chinese; None when it is valid.

    A lower-case x is accepted as X. The date of birth is not checked here: the check character
    catches a mistyped digit, which is the mistake made at a window.
    """
    number = value.strip().upper()
    if not _SHAPE.fullmatch(number):
        return "身份证号码应为 18 位：前 17 位为数字，最后一位为数字或 X"
    expected = check_character(number[:17])
    if number[17] != expected:
        return f"身份证号码校验位不正确（按前 17 位计算应为 {expected}），请核对后重新输入"
    return None
