"""The rules' vocabulary (issue #28): word forms, a trade's generic word with a word of its trade, the ISIC code
of a trade outside the catalogue, supermarkets registries disagree on, goods of trades outside the catalogue."""

from __future__ import annotations

import pandas as pd
import pytest

from siteplan.guilds.catalogue import Catalogue, classify, load_catalogue

_CAT: list[Catalogue] = []


def _rule(name: str, isic: str | None = None) -> tuple[str, str | None, bool, str]:
    """(class_rule, category, outside, candidates) of one name by the rules alone."""
    _CAT[:] = _CAT or [load_catalogue()]
    out = classify(pd.DataFrame({"biz_id": ["1"], "name": [name], "isic": [isic]}), _CAT[0])
    r = out.iloc[0]
    return r["class_rule"], r["category"], bool(r["class_outside"]), r["class_candidates"]


@pytest.mark.parametrize("name, code", [
    ("مبل ساز احمدی", "carpentry"),  # the agent noun of «مبل سازی»
    ("سنگتراش کریمی", "stone_cutting"),  # of «سنگتراشی»
    ("پنچرگیر شبانه روزی", "car_repair"),  # of «پنچرگیری»
    ("تعمیرگاه اتوموبیل", "car_repair"),  # «اتوموبیل» folded to «اتومبیل»
    ("اتاق رنگ وصافکاری پرنیان", "car_body_paint"),  # «و» written joined to the next word
])
def test_word_forms_match_by_normalisation(name: str, code: str) -> None:
    """Word forms are matched by rules on the keyword, not by listing every form."""
    rule, cat, _, _ = _rule(name)
    assert (rule, cat) == ("keyword", code)


@pytest.mark.parametrize("name, code", [
    ("تعمیرگاه پراید و پژو", "car_repair"),
    ("تعمیرگاه تخصصی تویوتا و لکسوس", "car_repair"),
    ("بنکداری لوازم بهداشتی", "wholesale_food"),
    ("حبوبات و خشکبار عمده", "wholesale_food"),
    ("برش و ساب سنگ صالح", "stone_cutting"),
])
def test_a_generic_word_with_a_word_of_its_trade_decides(name: str, code: str) -> None:
    """«تعمیرگاه» alone may repair anything; with a make of car it is a car repairer."""
    assert _rule(name)[:2] == ("keyword", code)


@pytest.mark.parametrize("name", ["تعمیرگاه برادران احمدی", "تعمیر جک و پمپ هیدرولیک صنعتی", "پخش البرز"])
def test_a_generic_word_alone_stays_generic(name: str) -> None:
    assert _rule(name)[0] == "generic"


@pytest.mark.parametrize("name, rule, code", [
    ("بازیافت پلاستیک سبز", "keyword", "scrap"),  # «لاستیک» (tyres) is not in «پلاستیک»
    ("تعمیر سپر و قطعات پلاستیکی بدنه", "keyword", "car_body_paint"),
    ("آزمایشگاه تشخیص طبی پاستور", "outside", None),  # «استور» is not in «پاستور»
])
def test_keywords_match_from_the_start_of_a_word(name: str, rule: str, code: str | None) -> None:
    assert _rule(name)[:2] == (rule, code)


def test_an_isic_code_outside_the_catalogue_doubts_the_names_keyword() -> None:
    """A retail paint shop (ISIC 4752) named with a wholesaler's keyword: the officer says which."""
    assert _rule("فروشگاه رنگ ساختمانی کریمی")[:2] == ("keyword", "wholesale_building")
    rule, cat, _, cands = _rule("فروشگاه رنگ ساختمانی کریمی", "4752")
    assert (rule, cat, cands) == ("conflict", None, "_other;wholesale_building")
    assert _rule("تعمیرگاه پراید و پژو", "4520")[:2] == ("isic", "car_repair")  # a catalogue code decides


def test_a_wholesalers_goods_do_not_contradict_its_isic_code() -> None:
    assert _rule("عمده فروشی لوازم التحریر", "4649")[:2] == ("isic", "wholesale_food")


@pytest.mark.parametrize("name, isic, rule, code", [
    ("سوپرمارکت حسن", None, "conflict", None),  # a chain store in five registries, outside in one
    ("سوپرمارکت پرنیان", "4711", "conflict", None),
    ("سوپرمارکت زنجیره ای سپاهان", None, "keyword", "chain_store"),  # a chain settles it
    ("سوپرمارکت افق کوروش شعبه ۱۲", None, "keyword", "chain_store"),
])
def test_supermarkets_of_no_chain_go_to_review(name: str, isic: str | None, rule: str, code: str | None) -> None:
    assert _rule(name, isic)[:2] == (rule, code)


@pytest.mark.parametrize("name, rule, code, outside", [
    ("آموزشگاه زبان سفیر", "outside", None, True),
    ("بیمارستان امام رضا", "outside", None, True),
    ("فروشگاه کیف و کفش ملی", "outside", None, True),
    ("زعفران و سوغات مشهد", "outside", None, True),
    ("رنگرزی نخ فرش استاد اکبر", "keyword", "textile_dyeing", False),  # goods: the trade's keyword decides
    ("اتو گالری زعفرانیه", "keyword", "car_showroom", False),
    ("تراش و فرز و ابزار سازی", "keyword", "metalwork", False),
])
def test_trades_and_goods_outside_the_catalogue(name: str, rule: str, code: str | None, outside: bool) -> None:
    r, cat, out, _ = _rule(name)
    assert (r, cat, out) == (rule, code, outside)
