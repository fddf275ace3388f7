from hypothesis import given
from hypothesis import strategies as st

from siteplan.common.textnorm import (
    has_persian,
    normalize,
    normalize_compact,
    parse_number,
    to_ascii_digits,
)


def test_letter_variants_fold():
    assert normalize("تعميرگاه مكانيكي") == normalize("تعمیرگاه مکانیکی")
    assert normalize("كاشان") == "کاشان"


def test_zwnj_and_spaces():
    assert normalize("صاف\u200cکاری") == "صاف کاری"
    assert normalize_compact("صاف\u200cکاری") == normalize_compact("صافکاری") == normalize_compact("صاف کاری")
    assert normalize("  a\u00a0\u00a0b ") == "a b"


def test_digits():
    assert to_ascii_digits("پلاک ۱۲ و ٣٤") == "پلاک 12 و 34"
    assert parse_number("۱۲٫۵") == 12.5
    assert parse_number("۱٬۲۰۰") == 1200.0
    assert parse_number("1,234") == 1234.0
    assert parse_number("") is None and parse_number("abc") is None and parse_number(None) is None


def test_has_persian():
    assert has_persian("اصفهان") and not has_persian("Isfahan")


@given(st.text())
def test_normalize_is_idempotent(s):
    assert normalize(normalize(s)) == normalize(s)


def test_normalize_remembers_short_names_only():
    """A run normalizes each name several times: short strings are remembered (the same answer, once
    computed), a long hostile string is not kept in memory."""
    from siteplan.common import textnorm

    textnorm._normalized.cache_clear()
    short = "تعميرگاه  مكانيكي ۱۲"
    assert textnorm.normalize(short) == textnorm.normalize(short) == textnorm._normalize_str(short)
    assert textnorm._normalized.cache_info().hits == 1
    long = "ك" * (textnorm._MEMO_CHARS + 1)
    assert textnorm.normalize(long) == "ک" * (textnorm._MEMO_CHARS + 1)
    assert textnorm._normalized.cache_info().currsize == 1
    assert textnorm.normalize(None) == textnorm.normalize(float("nan")) == ""
    assert textnorm.normalize(12) == "12"
