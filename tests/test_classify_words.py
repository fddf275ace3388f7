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


@pytest.mark.parametrize("name", ["تعمیرگاه برادران احمدی", "تعمیر جک و پمپ هیدرولیک صنعتی"])
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
    """A retail hardware shop's code (ISIC 4752) with a wholesaler's keyword: the officer says which."""
    assert _rule("آهن فروشی کریمی")[:2] == ("keyword", "wholesale_building")
    rule, cat, _, cands = _rule("آهن فروشی کریمی", "4752")
    assert (rule, cat, cands) == ("conflict", None, "_other;wholesale_building")
    # a code of the same group as the category's own (2512 metal tanks, metalwork's 2511) does not doubt it
    assert _rule("ساخت مخازن تحت فشار و تانکر", "2512")[:2] == ("keyword", "metalwork")
    assert _rule("تعمیرگاه پراید و پژو", "4520")[:2] == ("isic", "car_repair")  # a catalogue code decides


def test_a_wholesalers_goods_do_not_contradict_its_isic_code() -> None:
    assert _rule("عمده فروشی روغن نباتی", "4630")[:2] == ("isic", "wholesale_food")
    assert _rule("بنکدار بازار وکیل", "4630")[:2] == ("isic", "wholesale_food")  # a bazaar's name, no goods
    # goods of no food: a food wholesaler in one registry, outside the catalogue in another (calib8)
    assert _rule("بنکداری لوازم التحریر", "4649")[:2] == ("conflict", None)


@pytest.mark.parametrize("name, rule, code", [
    ("پخش روغن نباتی لادن", "keyword", "wholesale_food"),  # a food wholesaler's goods
    ("توزیع گوشت و مرغ منجمد", "keyword", "wholesale_food"),
    ("روغن نباتی لادن", "outside", None),  # the same goods over the counter
    ("بنکداری ظروف یکبار مصرف", "conflict", None),  # goods of no food: registries disagree
    ("ضایعات مس و آلومینیوم", "keyword", "scrap"),  # a scrap dealer's metals, no metalwork
    ("خرید و فروش آهنآلات اسقاطی", "keyword", "scrap"),
    ("تولیدی میز و صندلی چوبی سنتی", "keyword", "carpentry"),  # making furniture, not selling it
    ("فروش میز و صندلی", "keyword", "furniture_sales"),
    ("تعمیرگاه ماشین آلات کشاورزی و تراکتور", "outside", None),  # «ماشین» read in the longer word
    ("نمایندگی فروش مبلمان نظری", "keyword", "furniture_sales"),  # a sales agency of anything
    ("نمایندگی فروش سایپا کد ۱۱۰۸", "keyword", "car_showroom"),  # ... of a car maker
])
def test_goods_and_makers(name: str, rule: str, code: str | None) -> None:
    """A trade's goods words with a word of the trade are the trade's (issue #28)."""
    assert _rule(name)[:2] == (rule, code)


@pytest.mark.parametrize("name, isic, rule, code", [
    ("کاشی و سرامیک میلاد", None, "keyword", "wholesale_building"),  # a wholesaler in 10 of 10 rows
    ("فروشگاه کاشی و سرامیک نیما", None, "conflict", None),  # a shop: outside the catalogue in one hand's
    ("فروشگاه رنگ ساختمان آلوان", None, "conflict", None),  # a retail paint shop (the labelling guide)
    ("پخش عمده رنگ ساختمانی و چسب کاشی", None, "keyword", "wholesale_building"),
    ("تعاونی مصرف کارکنان", None, "conflict", None),  # a chain store in three hands', outside in calib8
    ("فروشگاه تعاونی مصرف کارکنان دولت", None, "keyword", "chain_store"),
    ("آجر و بلوک سیمانی زرند", "4663", "isic", "wholesale_building"),  # a wholesaler's code settles it
    ("روغن موتور فروشی ایرانول", None, "conflict", None),  # motor oil sold, or changed
    ("روغن فروشی و تعویض روغنی پرنیان", None, "keyword", "car_wash_oil"),
    ("سور مارکت شبانه روزی شهاب", "4719", "conflict", None),  # a supermarket's word under the large stores' code
])
def test_disputed_words_and_doubts(name: str, isic: str | None, rule: str, code: str | None) -> None:
    """Words registries disagree on go to review unless a word or the ISIC code settles them (issue #28)."""
    assert _rule(name, isic)[:2] == (rule, code)


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


@pytest.mark.parametrize("name, rule, code", [
    ("صافکری اکبر", "keyword", "car_body_paint"),  # a letter dropped
    ("جوشکری و آهنگری نو", "keyword", "metalwork"),
    ("ضایغات مرادی", "keyword", "scrap"),  # «غ» for «ع»: the same shape, other dots
    ("ضايعاات پلاستيك", "keyword", "scrap"),  # a letter doubled
    ("نمایشگاه اتومبیل حسینی", "keyword", "car_showroom"),  # «حسینی» is no «حسینیه»
    ("برادران حسینی", "unclassified", None),
    ("فوشگاه بزرگ شهر", "keyword", "large_store"),
    ("پرسکاری و قطعه سازی", "unclassified", None),  # «ک» for «ت» is no slip: not «پرستاری»
    ("برادران صادقی", "unclassified", None),  # names are not corrected into trades
])
def test_misspelt_trade_words_are_read(name: str, rule: str, code: str | None) -> None:
    """A clerk's slip (a letter dropped, added, swapped, or written for a look-alike) in a trade word is read
    as the word, in names where no keyword is found (issue #28)."""
    assert _rule(name)[:2] == (rule, code)


@pytest.mark.parametrize("name, rule, code, outside", [
    ("آموزشگاه تعمیر خودرو و جوشکاری", "outside", None, True),  # a school of a trade is a school
    ("هنرستان فنی نجاری", "outside", None, True),
    ("تعمیرات دوچرخه و لوازم یدکی", "outside", None, True),  # a bicycle shop, not a car trade
    ("فروشگاه بزرگ پوشاک و اسباب بازی", "keyword", "large_store", False),  # a department store of goods
    ("فروشگاه بزرگ مبلمان شهر", "conflict", None, False),  # two catalogue trades: still the officer's
    ("فروشگاه نور شعبه ۴", "keyword", "chain_store", False),  # a store's branch
    ("رفاه شعبه مرکزی", "keyword", "chain_store", False),
    ("فروشگاه نور", "unclassified", None, False),  # no branch: no chain
    ("شرکت پخش آریا", "keyword", "wholesale_food", False),  # a wholesaler of no named goods (ISIC 4690)
    ("عمده فروشی برادران نیکو", "keyword", "wholesale_food", False),
    ("عمده فروشی رنگ و رزین ساختمانی", "generic", "wholesale_food", False),  # goods named: not settled
])
def test_settling_rules(name: str, rule: str, code: str | None, outside: bool) -> None:
    """Names whose keywords leave them open, settled by general rules of guild registries (issue #28)."""
    r, cat, out, _ = _rule(name)
    assert (r, cat, out) == (rule, code, outside)


@pytest.mark.parametrize("name, isic, rule, code", [
    ("لوازم یدکی خودروهای چینی", "4520", "keyword", "car_parts"),  # car repair's code, a parts shop: division 45
    ("اوراقی خودرو صالح", "4520", "isic_primary", "car_repair"),  # scrap is of another division: not settled
])
def test_a_near_isic_code_of_the_names_division(name: str, isic: str, rule: str, code: str) -> None:
    assert _rule(name, isic)[:2] == (rule, code)


@pytest.mark.parametrize("name, rule, code, outside", [
    ("پسته فروشی ممتاز", "outside", None, True),
    ("رنگ مو و کراتین مهسا", "outside", None, True),
    ("لابراتوار پروتز دندان سپید", "outside", None, True),
    ("پارچه سرای نگین", "outside", None, True),
    ("فروشگاه لباس مردانه آریا", "outside", None, True),
    ("مبلمان فیروزه", "keyword", "furniture_sales", False),  # a business's name, not turquoise
    ("قیر و ایزوگام شرق", "keyword", "wholesale_building", False),
])
def test_more_unions_outside_the_catalogue(name: str, rule: str, code: str | None, outside: bool) -> None:
    r, cat, out, _ = _rule(name)
    assert (r, cat, out) == (rule, code, outside)
