"""`to_json` renders every extracted record, with orjson for speed: it must write what the
standard library wrote (the raw zone's records are compared and parsed by that text), and fall
back to it wherever orjson would write something else or refuse."""

import json
from collections import OrderedDict
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest

from assets.records import RecordShape, _encode, parse_record, to_json


def standard(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_encode)


SEOUL = timezone(timedelta(hours=9))

SAME_TEXT = {
    "an order as v2 sends it": {
        "id": 7, "status": "Shipped", "total_inc_tax": "10.5000", "is_deleted": False,
        "billing_address": {"city": "서울", "zip": None}, "coupons": [], "products": [1, 2],
    },
    "unicode and escapes": {"name": "Zoë\u2028\x00\x1f\x7f/\"\\ 김"},
    "exact money and times": {"amount": Decimal("12.3400"), "at": datetime(2026, 1, 2, 3, 4, 5,
                              678, tzinfo=SEOUL), "utc": datetime(2026, 1, 2, tzinfo=UTC),
                              "naive": datetime(2026, 1, 2), "day": date(2026, 1, 2),
                              "clock": time(12, 30, 1, 5)},
    "numbers": {"int": 2**63 - 1, "neg": -(2**63), "float": 0.1, "big": 1e16, "zero": -0.0},
    "a dict subclass": OrderedDict([("b", 1), ("a", [1.5, {"c": None}])]),
    "a tuple": {"pair": (1, "two")},
    "nan": {"rate": float("nan")},
    "infinity in a nested subclass": OrderedDict([("x", [{"y": float("-inf")}])]),
    "an integer beyond 64 bits": {"id": 2**70},
    "a float subclass": {"price": type("Float64", (float,), {})(1.5)},
    "a key that is not a string": {1: "one", None: "none"},
    "an unpaired surrogate": {"name": "broken \ud800 text"},
    "an object json cannot name": {"id": 1, "other": object.__new__(type("Thing", (), {
        "__str__": lambda self: "thing"}))},
}


@pytest.mark.parametrize("value", SAME_TEXT.values(), ids=SAME_TEXT.keys())
def test_the_text_is_the_standard_librarys(value):
    assert to_json(value) == standard(value)


def test_non_finite_floats_keep_their_spelling():
    # orjson alone would write null: the value would be lost, silently.
    assert to_json({"rate": float("nan"), "cap": float("inf")}) == '{"rate":NaN,"cap":Infinity}'


def test_a_small_exponent_reads_back_equal():
    value = {"tiny": 1e-7, "tinier": 2.5e-300}
    assert json.loads(to_json(value)) == json.loads(standard(value)) == value


def test_parse_record_stages_the_same_text():
    record = {"id": 5, "date_modified": "Tue, 20 Nov 2012 00:00:00 +0000", "note": "é"}
    parsed = parse_record(record, RecordShape("id"))
    assert parsed.pk == 5 and parsed.json == standard(record)
