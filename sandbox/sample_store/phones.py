"""Moroccan mobile numbers, and the many ways customers type them.

Numbers are drawn from a fixed list of mobile prefixes (06x / 07x ranges that
Google's libphonenumber metadata accepts as Moroccan mobiles), so the output
does not depend on the installed ``phonenumbers`` version.
"""

from __future__ import annotations

import random

import numpy as np

# Three-digit national prefixes (after the trunk 0) of Moroccan mobile ranges.
MOBILE_PREFIXES: tuple[str, ...] = tuple(
    [str(p) for p in range(600, 683)]
    + ["684"]
    + [str(p) for p in range(687, 700)]
    + [str(p) for p in range(700, 729)]
)


def draw_phone_codes(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` distinct codes of national numbers (see :func:`national_from_code`)."""
    space = len(MOBILE_PREFIXES) * 1_000_000
    draws = rng.integers(0, space, size=int(n * 1.1) + 16)
    _, first_index = np.unique(draws, return_index=True)
    unique_in_draw_order = draws[np.sort(first_index)]
    while len(unique_in_draw_order) < n:  # practically never: the space is 1.2e8
        extra = rng.integers(0, space, size=n)
        merged = np.concatenate([unique_in_draw_order, extra])
        _, first_index = np.unique(merged, return_index=True)
        unique_in_draw_order = merged[np.sort(first_index)]
    return unique_in_draw_order[:n].astype(np.int32)


def national_from_code(code: int) -> str:
    """The 9-digit national number (``6XXXXXXXX`` / ``7XXXXXXXX``) of a code."""
    return f"{MOBILE_PREFIXES[code // 1_000_000]}{code % 1_000_000:06d}"


def draw_national_numbers(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` distinct 9-digit national numbers."""
    return [national_from_code(code) for code in draw_phone_codes(rng, n).tolist()]


def e164(national: str) -> str:
    return "+212" + national


def wa_id(national: str) -> str:
    """WhatsApp user id: the E.164 number without '+'."""
    return "212" + national


def _pairs(national: str) -> str:
    rest = national[1:]
    return " ".join(rest[i : i + 2] for i in range(0, 8, 2))


# The ways one number shows up in storefront forms, for national "612345678".
PHONE_FORMATS: tuple[str, ...] = (
    "local",  # 0612345678
    "local_spaced",  # 06 12 34 56 78
    "intl_dashed",  # +212 6-12-34-56-78
    "intl_00",  # 00212612345678
    "intl_no_plus",  # 212612345678
    "e164",  # +212612345678
    "local_dotted",  # 06.12.34.56.78
    "intl_spaced",  # +212 6 12 34 56 78
)
FORMAT_WEIGHTS: tuple[float, ...] = (34, 18, 6, 7, 8, 15, 4, 8)


def format_phone(national: str, style: str) -> str:
    if style == "local":
        return "0" + national
    if style == "local_spaced":
        return "0" + national[0] + " " + _pairs(national)
    if style == "intl_dashed":
        rest = national[1:]
        return "+212 " + national[0] + "-" + "-".join(rest[i : i + 2] for i in range(0, 8, 2))
    if style == "intl_00":
        return "00212" + national
    if style == "intl_no_plus":
        return "212" + national
    if style == "e164":
        return "+212" + national
    if style == "local_dotted":
        rest = national[1:]
        return "0" + national[0] + "." + ".".join(rest[i : i + 2] for i in range(0, 8, 2))
    if style == "intl_spaced":
        return "+212 " + national[0] + " " + _pairs(national)
    raise ValueError(f"unknown phone style {style!r}")


def invalid_variant(national: str, rnd: random.Random) -> str:
    """A number as a customer mistyped it: never a valid Moroccan number."""
    kind = rnd.randrange(4)
    if kind == 0:
        return "0" + national[:-1]  # a digit missing: 061234567
    if kind == 1:
        return "0" + national + str(rnd.randrange(10))  # a digit too many
    if kind == 2:
        return "+212 " + national[:5]  # cut short
    return "0" + national[:4]  # a fragment
