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
    return _problem(value, "身份证号码", _SHAPE, "前 17 位为数字，最后一位为数字或 X", check_character)


def _problem(value: str, what: str, shape: re.Pattern, chars: str, check) -> str | None:
    """An 18-character number with a check character (upper-cased first): what is wrong, or None."""
    number = value.strip().upper()
    if not shape.fullmatch(number):
        return f"{what}应为 18 位：{chars}"
    expected = check(number[:17])
    if number[17] != expected:
        return f"{what}校验位不正确（按前 17 位计算应为 {expected}），请核对后重新输入"
    return None


# 统一社会信用代码 (GB 32100-2015): the number of a company or other organisation applying. 18 characters
# of 0-9 and the capitals without I, O, Z, S, V; the last is a check character over the first 17.
CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_SHAPE = re.compile(rf"^[{CREDIT_CHARS}]{{18}}$")


def credit_check_character(first17: str) -> str:
    """The check character: 31 - (sum of value x weight mod 31), the value 31 written as 0."""
    total = sum(CREDIT_CHARS.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARS[(31 - total % 31) % 31]


def credit_code_problem(value: str) -> str | None:
    """Why `value` is not a valid 统一社会信用代码, in Chinese; None when it is valid (lower case accepted)."""
    chars = "数字或大写字母（不含 I、O、Z、S、V）"
    return _problem(value, "统一社会信用代码", _CREDIT_SHAPE, chars, credit_check_character)
