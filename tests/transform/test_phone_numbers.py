"""Phone normalisation of the dbt Python model int_phone_numbers (phonenumbers, region MA)."""

from __future__ import annotations

import importlib.util

import pytest

from common.settings import DBT_PROJECT_DIR

_spec = importlib.util.spec_from_file_location(
    "int_phone_numbers", DBT_PROJECT_DIR / "models/intermediate/int_phone_numbers.py"
)
int_phone_numbers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(int_phone_numbers)


@pytest.mark.parametrize(
    "raw",
    [
        "0612345678",
        "06 12 34 56 78",
        "06-12-34-56-78",
        "+212 6-12-34-56-78",
        "+212612345678",
        "00212612345678",
        "00212 6 12 34 56 78",
        "212612345678",  # a WhatsApp wa_id
        "612345678",  # the leading 0 dropped
        " (+212) 612 345 678 ",
    ],
)
def test_every_way_of_writing_a_moroccan_mobile_gives_one_key(raw):
    assert int_phone_numbers._normalise(raw, "MA") == ("+212612345678", True, "MA")


def test_landlines_and_foreign_numbers_keep_their_country():
    assert int_phone_numbers._normalise("0522 22 33 44", "MA")[0] == "+212522223344"
    assert int_phone_numbers._normalise("+33 6 12 34 56 78", "MA") == ("+33612345678", True, "FR")


@pytest.mark.parametrize("raw", ["", "   ", None, "12345", "06123", "abc", "+212 1111"])
def test_invalid_numbers_have_no_key(raw):
    e164, valid, _ = int_phone_numbers._normalise(raw, "MA")
    assert e164 is None and valid is False


def test_the_default_region_is_a_setting():
    # The same local number means another country for a brand in Algeria.
    assert int_phone_numbers._normalise("0551234567", "DZ")[0] == "+213551234567"
