"""The words of the classification rules: trades outside the catalogue, words registries disagree on, words
two categories share, and the words that turn a trade's generic word into a specific name.

Each list is general knowledge of Iranian guild registries (the unions a registry holds, the goods they
sell), checked on the calibration registries only (never on a test registry). The rules read these through
:mod:`~siteplan.guilds.keyword_match`; the name model learns :data:`OUTSIDE_TRADES` as a class of its own.
"""

from __future__ import annotations

__all__ = [
    "CONTEXT_WORDS",
    "DISPUTED_WORDS",
    "GOODS_TRADERS",
    "OUTSIDE",
    "OUTSIDE_GOODS",
    "OUTSIDE_MORE",
    "OUTSIDE_OVERRIDES",
    "OUTSIDE_TRADES",
    "SERVICE_OR_SALE",
    "SHARED_KEYWORDS",
    "VEHICLE_WORDS",
]

#: The pseudo-category of trades outside the catalogue: a business given it is never placed.
OUTSIDE = "_other"
#: Trades a provincial registry holds that are none of the catalogue's categories (bakeries, barbers,
#: pharmacies, ...). A name whose longest specific word is one of these is a trade outside the catalogue
#: («نانوایی سنگک» is no stone cutting); the name model also learns them as :data:`OUTSIDE`. A category
#: added to the catalogue wins over these words where its own (longer) keywords match.
OUTSIDE_TRADES = (
    "نانوایی", "نانوایی سنگکی", "نانوایی لواش", "نان بربری", "آرایشگاه", "آرایشگاه زنانه", "پیرایش مردانه",
    "داروخانه", "بیمه", "نمایندگی بیمه", "کافی شاپ", "قهوه خانه", "رستوران", "چلوکبابی", "اغذیه فروشی",
    "ساندویچی", "فست فود", "پیتزا", "لبنیات", "قصابی", "مرغ فروشی", "میوه فروشی", "سبزی فروشی",
    "خواربار فروشی", "بقالی", "شیرینی فروشی", "قنادی", "آجیل فروشی", "پوشاک", "بوتیک", "کفش فروشی",
    "طلا فروشی", "جواهری", "عینک سازی", "خیاطی", "تعمیر موبایل", "موبایل فروشی", "کتاب فروشی",
    "گل فروشی", "دفتر پیشخوان", "دفتر خدمات", "مشاور املاک", "املاک", "آژانس مسافرتی", "آژانس تاکسی",
    "خشکشویی", "عکاسی", "مطب", "دندانپزشکی", "آموزشگاه", "باشگاه ورزشی", "تالار پذیرایی", "صرافی",
    "ساعت فروشی", "اسباب بازی", "لوازم آرایشی", "عطاری", "دامپزشکی", "آبمیوه بستنی", "بستنی فروشی",
    "کفاشی", "تعمیر کفش", "تعمیر لوازم خانگی", "لوازم خانگی", "تعمیر کولر گازی", "چاپ و تبلیغات", "چاپخانه",
    "افست", "قالیشویی", "فرش فروشی", "آموزشگاه رانندگی", "خشکشویی و اتوشویی", "کلینیک",
    "آزمایشگاه طبی", "لوازم التحریر", "نوشت افزار", "پرده فروشی", "لباس عروس", "مزون", "شیرینی سرا",
    "کبابی", "حلیم پزی", "کله پزی", "دفتر اسناد رسمی", "دفتر ازدواج", "باربری", "تاکسی تلفنی",
    # general knowledge of guild registries (the unions outside the nuisance list), not from a test registry
    "کلید سازی", "درمانگاه", "پزشک", "دکتر", "خیاط", "کافه", "فتوکپی", "تکثیر", "کافی نت", "بنگاه معاملات ملکی",
    "مسافرخانه", "هتل", "مهمانپذیر", "مهد کودک", "عینک فروشی", "میوه و تره بار",
    "نانوایی بربری", "نانوایی تافتون", "پیرایشگاه", "آرایش", "تعمیرات موبایل", "ساعت سازی", "کتابفروشی",
    "گالری طلا", "طلا و جواهر", "عکاسی و فیلمبرداری", "آتلیه", "دفتر بیمه", "پارچه فروشی", "کیف و کفش",
    "لوازم ورزشی", "دفتر وکالت", "آزمایشگاه تشخیص طبی", "فیزیوتراپی", "رادیولوژی", "سمعک", "تعمیر دوچرخه",
    "ساندویچ", "جگرکی", "آش", "کله پاچه", "بستنی", "آبمیوه", "خوار و بار",
    # near misses: trades outside the catalogue whose names hold a catalogue word («تعمیر», «نقاشی»,
    # «ماشین», «کامپیوتر», «الکترونیک», «لاستیک», «نمایشگاه», «گالری», «پخش», «روغن», «تراش», «شیشه»). The
    # longer phrase wins over the catalogue word inside it (general knowledge of guild names, no test registry)
    "نقاشی ساختمان", "نقاش ساختمان", "نقاشی ساختمانی", "رنگ آمیزی ساختمان", "کاغذ دیواری", "آموزشگاه نقاشی",
    "گالری نقاشی", "تابلو نقاشی", "تعمیرات موبایل", "تعمیر تلفن همراه", "تعمیر گوشی", "لوازم جانبی موبایل", "فروشگاه موبایل",
    "باتری موبایل", "گوشی موبایل",
    "تعمیر یخچال", "یخچال", "تعمیر لباسشویی", "لباسشویی", "ظرفشویی", "تعمیر ماشین لباسشویی",
    "تعمیر ماشین ظرفشویی", "ماشین های اداری", "ماشین اداری", "چرخ خیاطی", "تعمیر تلویزیون", "تلویزیون",
    "تعمیر لوازم برقی", "تعمیر لوازم صوتی", "صوتی و تصویری", "تعمیر پکیج", "آبگرمکن", "جاروبرقی",
    "تعمیر کامپیوتر", "تعمیرات کامپیوتر", "تعمیر لپ تاپ", "لپ تاپ", "فروشگاه کامپیوتر", "کامپیوتر فروشی",
    "لوازم کامپیوتر", "قطعات کامپیوتر", "فروش کامپیوتر", "فروشگاه رایانه", "قطعات رایانه", "لوازم الکترونیک",
    "فروشگاه الکترونیک", "قطعات الکترونیک", "لوازم برقی", "لوازم الکتریکی", "الکتریکی", "برق ساختمان",
    "برقکار ساختمان", "سیم کشی ساختمان", "لوله کشی", "لوله کش", "تعمیر ساعت", "ساعت فروشی", "تعمیر عینک",
    "قطعات لاستیکی", "صنایع لاستیک", "نمایشگاه فرش", "گالری فرش", "فرش ماشینی", "فرش دستباف", "تابلو فرش",
    "فرش شویی", "مبل شویی", "گالری لباس", "گالری پوشاک", "گالری کیف", "گالری هنری",
    "گالری عکس", "لوستر", "پخش دارو", "توزیع دارو", "دارویی", "تجهیزات پزشکی", "لوازم پزشکی", "شیشه بری",
    "شیشه و آینه", "شیشه سکوریت", "روغن نباتی", "روغن خوراکی", "روغن زیتون", "روغن حیوانی", "روغن کنجد",
    "روغن گیری", "روغن محلی", "اوراق بهادار", "کارگزاری", "آجرپزی", "آجر پزی", "کوره آجر", "دراگ استور",
    "تراشکاری کلید", "تراش کلید", "ریموت", "کلید و ریموت", "خرده فروشی", "دوچرخه",
    # services, offices, food and household trades of guild registries (general knowledge; calibration rows)
    "تالار", "پارکینگ", "موسسه حقوقی", "مهندسین مشاور", "مهندسی مشاور", "پیمانکاری", "حمل و نقل", "کرایه اتومبیل",
    "اجاره خودرو", "پمپ بنزین", "جایگاه سوخت", "معاینه فنی", "مرغ و ماهی", "ماهی فروشی", "آسانسور", "کناف",
    "دکوراسیون داخلی", "طلاسازی", "طلا سازی", "پرده سرا", "لباس کار", "تولیدی لباس", "تولیدی پوشاک", "یراق",
    "همراه اول", "ایرانسل", "مرمت", "بانک", "قرض الحسنه", "مدرسه", "دبستان", "دبیرستان", "مسجد", "استخر",
    "سالن زیبایی", "ماهواره", "گیم نت", "مرغداری", "گاوداری", "دامداری", "گلخانه", "سم و کود", "کود شیمیایی",
    "خدمات الکترونیک قضایی", "دفتر خدمات الکترونیک", "سبزی و میوه", "کفش دوزی", "pharmacy", "barber",
    "restaurant", "bakery", "beauty salon", "hair salon", "cafe", "clinic", "hotel",
    # the other unions of a guild registry (general knowledge of Iranian guild-union lists: installations,
    # cleaning, food, crafts, farming machinery, fuel, printing, security, transport)
    "تاسیسات حرارتی", "تاسیسات حرارتی و برودتی", "خدمات نظافت", "نظافت ساختمان", "سفره خانه", "پت شاپ",
    "غذای حیوانات", "لیتوگرافی", "صحافی", "کارخانه آرد", "تولید مواد شوینده", "دفتر معماری", "معماری",
    "طراحی داخلی", "بریانی", "زغال فروشی", "هیزم", "لوله بازکنی", "تخلیه چاه", "مهمانسرا", "صیفی جات",
    "کرایه خودرو", "گل و گیاه", "قالی بافی", "فرش بافی", "رنگ و ابزار", "ابزار فروشی", "ابزار آلات",
    "باشگاه بدنسازی", "بدنسازی", "میناکاری", "قلمزنی", "صنایع دستی", "زرگری", "ماشین چمن زنی",
    "لیفتراک", "ماشین آلات کشاورزی", "ادوات کشاورزی", "تراکتور", "سیم پیچی", "جایگاه cng", "جایگاه عرضه سوخت",
    "ساختمان پزشکان", "ظروف یکبار مصرف", "ریسندگی", "بافندگی", "کارخانه نساجی", "نان سنگک", "نان تافتون",
    "نان لواش", "گز و سوهان", "تخم مرغ", "بسته بندی خشکبار", "آژانس تلفنی", "تاکسی سرویس", "امداد خودرو",
    "یدک کش", "تعمیرات گوشی", "گوشی همراه", "تابلو سازی", "تابلوسازی", "تبلیغات", "چلنیوم", "دوربین مداربسته",
    "سیستم های امنیتی", "دزدگیر", "ترمه", "رومیزی", "قلمکار فروشی", "بدلیجات", "پوشاک فروشی",
    "لباس فروشی", "مانتو", "تولیدی مانتو", "کیف فروشی", "کفش ملی", "سوپر لبنیات", "لبنیات فروشی", "نانوایی صنعتی",
    "سالن غذاخوری", "غذای آماده", "کترینگ", "تهیه غذا", "آشپزخانه مرکزی", "داروگیاهی", "گیاهان دارویی",
    "عینک", "اپتیک", "لوازم صوتی", "آرایشی و بهداشتی", "بهداشتی و آرایشی", "خرازی", "لوازم خرازی",
    "کادو", "کادوفروشی", "هدایا", "لوازم قنادی", "ظروف", "ظروف فروشی", "چینی و بلور", "بلورجات", "نقره",
    "دفتر فنی", "نقشه کشی", "نقشه برداری", "آتش نشانی", "کپسول آتش نشانی", "شارژ کپسول", "گاز مایع",
    "سم پاشی", "سمپاشی", "ضد عفونی", "شیشه دوجداره",
)
#: More trades outside the catalogue, for the rules only (the name model learns :data:`OUTSIDE_TRADES` and
#: the corpus): general knowledge of the unions of a guild registry (food, personal and health services,
#: schools, offices, building crafts, transport, farming, leisure), no test registry. Like :data:`OUTSIDE_TRADES`.
OUTSIDE_MORE = (
    "نان فانتزی", "نان حجیم", "نان شیرینی", "شیرینی پزی", "کیک و شیرینی", "کیک پزی", "شکلات فروشی", "پروتئین فروشی",
    "غذاخوری", "سالن غذا", "طباخی", "دیزی سرا", "چایخانه", "فلافل", "سمبوسه", "برگر", "همبرگر", "سوخاری", "اغذیه",
    "فالوده", "کافه رستوران", "سالن آرایش", "میکاپ", "ماساژ", "سولاریوم", "تعمیر لباس", "فیلمبرداری", "چاپ عکس",
    "قاب سازی", "دندانپزشک", "دندانسازی", "لابراتوار دندان", "بینایی سنجی", "شنوایی سنجی", "کاردرمانی",
    "گفتاردرمانی", "طب سنتی", "حجامت", "بیمارستان", "سونوگرافی", "پاتوبیولوژی", "آزمایشگاه پزشکی", "کلینیک دامپزشکی",
    "داروخانه دامپزشکی", "پیش دبستانی", "موسسه آموزشی", "آموزش زبان", "زبانکده", "کانون زبان", "آموزشگاه زبان",
    "دفترخانه", "دفتر طلاق", "وکیل", "مشاور حقوقی", "دارالترجمه", "ترجمه رسمی", "تعاونی مسکن",
    "پیشخوان دولت", "پلیس 10", "دفتر پستی", "پست بانک", "خدمات مشترکین", "دفتر خدمات مسافرتی", "خدمات مسافرتی",
    "گردشگری", "آژانس هواپیمایی", "آژانس", "چاپ دیجیتال", "کانون تبلیغاتی", "بنایی", "گچ کاری", "گچکاری", "کاشیکاری",
    "کاشی کاری", "عایق کاری", "خدمات نظافتی", "نظافتی", "اتوبار", "پیک موتوری", "مسافربری", "ترمینال", "زنبورداری",
    "پرورش ماهی", "پرورش قارچ", "اقامتگاه", "بوم گردی", "باغ تالار", "سالن ورزشی", "سینما", "شهربازی", "حسینیه",
    "شهرداری", "شارژ کارتریج", "تعمیر پرینتر", "سفالگری", "شیشه گری", "تولیدی کیف", "تولیدی کفش", "تولیدی جوراب",
    "کارگاه خیاطی", "موزاییک سازی", "خرازی و کاموا", "کیوسک", "دکه", "روزنامه فروشی", "مطبوعات", "خدمات پرستاری",
    "پرستاری", "مراقبت از سالمند", "خانه سالمندان", "آرایشگاه مردانه", "پیرایش", "سلمانی", "دلاکی", "حمام",
    "دوچرخه فروشی", "آموزشگاه موسیقی",
    "عرق گیری", "زائرسرا", "زیارتی", "پرده دوزی", "کوسن دوزی", "لحاف دوزی", "رودوزی", "سوزن دوزی", "نان و شیرینی",
    "سنگک", "بربری", "لواش", "تافتون", "بتن آماده", "دفتر حسابداری", "خدمات حسابداری", "حسابرسی", "مشاوره مالیاتی",
    "باطری ساعت", "باتری ساعت", "ماشین لباسشویی", "ماشین ظرفشویی", "تعمیرگاه ماشین لباسشویی", "کولر آبی",
    "کولر گازی", "تعمیر کولر", "هتل آپارتمان", "آموزشگاه کامپیوتر", "آموزش کامپیوتر", "icdl",
    # look-alikes around a catalogue word: laundry ironing («اتوشویی», not «اتوشوی» the car wash), carpet
    # washing («کارواش فرش»), oil pressing, retail paint shops, a big shop of one kind of goods («هایپر میوه»)
    "اتوشویی", "اتو شویی", "کارواش فرش", "کارواش موکت", "شستشوی فرش", "روغن کشی", "روغنکشی", "رنگ فروشی",
    "فروشگاه رنگ", "هایپر میوه", "هایپر گوشت", "هایپر مرغ", "هایپر پروتئین", "هایپر رنگ",
    "هایپر ابزار", "هایپر لوازم خانگی", "هایپر پوشاک", "هایپر لباس", "هایپر کفش", "هایپر موبایل", "هایپر فرش",
    "هایپر لبنیات", "هایپر نان", "هایپر کتاب", "هایپر لوازم التحریر", "کاشی کار", "کاشیکار",
    # the unions of any province's guild registry outside the nuisance list (general knowledge of the
    # guild-union lists, issue #28): food and sweets, clothing, beauty and health, education and religion,
    # offices and public services, leisure, farming, jewellery and crafts
    "پسته فروشی", "خشکبار فروشی", "تخمه فروشی", "عسل فروشی", "فروشگاه عسل", "ترشی فروشی", "قهوه فروشی",
    "چای فروشی", "کلمپه", "کماج", "نان محلی", "نان سنتی", "نان خانگی", "کیک خانگی", "سیرابی", "پیتزا فروشی",
    "سوسیس و کالباس", "مرغ سوخاری", "کافه بستنی", "بستنی سنتی", "نوشابه فروشی", "دوغ",
    "لباس زنانه", "لباس مردانه", "لباس بچگانه", "پوشاک زنانه", "پوشاک مردانه", "پوشاک بچگانه", "لباس مجلسی",
    "لباس ورزشی", "کت و شلوار", "پیراهن دوزی", "شلوار جین", "پارچه سرا", "پارچه فروشی", "چادر فروشی",
    "روسری فروشی", "کلاه فروشی", "جوراب فروشی", "لباس فرم", "لباس محلی",
    "رنگ مو", "کراتین", "اپیلاسیون", "لیزر موهای زائد", "کاشت ناخن", "کاشت مو", "کاشت مژه", "اصلاح ابرو", "تاتو",
    "پروتز دندان", "لابراتوار دندانسازی", "لابراتوار دندان سازی", "مرکز درمانی", "خانه بهداشت", "مامایی",
    "روانشناسی", "مشاوره خانواده", "ترک اعتیاد", "دیالیز", "ارتوپدی فنی", "عینک طبی", "بینایی",
    "کودکستان", "هنرستان", "هنرکده", "آموزشکده", "آموزشگاه علمی", "کلاس کنکور", "کنکور", "دارالقرآن", "حوزه علمیه", "امامزاده",
    "دهیاری", "فرمانداری", "بخشداری", "بهزیستی", "کمیته امداد", "هلال احمر", "کلانتری", "پاسگاه",
    "مهرسازی", "مهر و پلاک", "تایپ و تکثیر", "رزرو بلیط", "بلیط فروشی", "دفتر گردشگری", "امانات پستی",
    "بیلیارد", "بولینگ", "پینت بال", "سوارکاری", "زورخانه", "سالن فوتسال", "فوتسال", "شهر بازی",
    "نهالستان", "دامپروری", "پرورش مرغ", "جوجه کشی", "کشت و صنعت", "پرورش گل", "گل و گیاه",
    "سنگ های قیمتی", "سنگ قیمتی", "سنگهای قیمتی", "فیروزه تراشی", "فیروزه کوبی", "جواهرات",
    "سیم کارت", "کارت شارژ", "نمای ساختمان",
)
#: Goods and words of trades outside the catalogue that catalogue trades also name («فرش» in «رنگرزی نخ فرش»,
#: «ابزار» in «تراش و ابزار سازی»): a name holding one and no word of a catalogue trade is a trade outside the
#: catalogue; with a catalogue trade's specific keyword, the keyword decides (generic strength, rules only).
OUTSIDE_GOODS = (
    "آجیل", "گوشت فروشی", "فروشگاه گوشت", "مرغ و گوشت", "گوشت و مرغ", "فروشگاه ماهی", "ماهی و میگو", "آرایشی",
    "ناخن", "قاب عکس", "شال و روسری", "روسری", "چادر مشکی", "جوراب", "لباس زیر", "لباس بچه", "لباس کودک", "کفش",
    "کیف", "چرم", "طلا", "جواهر", "ساعت", "عطر", "ادکلن", "عطر و ادکلن", "لوازم آشپزخانه", "کتاب", "فرش", "پرده",
    "موکت", "کفپوش", "لوازم روشنایی", "موبایل", "گوشی", "تلفن همراه", "ابزار", "بنر", "کارت ویزیت", "خاتم کاری",
    "گلیم", "موزاییک", "لوازم کودک", "عروسک", "کاموا", "بلور", "پلاسکو", "لوازم پلاستیکی", "لوازم یکبار مصرف",
    "لوازم بهداشتی و آرایشی", "دخانیات", "کارتریج", "سیسمونی", "سیسمونی کودک", "کشاورزی", "بذر", "نهال", "خوراک دام",
    "علوفه", "دان مرغ", "آجیل و خشکبار", "ماهیگیری", "شکار", "اسلحه", "لوازم صید", "لوازم کمپینگ", "کوهنوردی",
    "لوازم موسیقی", "آلات موسیقی", "اداره", "باشگاه", "پکیج",
    "سوغات", "سوغاتی", "زعفران", "گلاب", "عرقیات", "نبات", "آبنبات", "پولکی", "گز", "سوهان", "باسلق", "کلوچه",
    "پشمک", "قطاب", "حلوا", "ترشی", "ترشیجات", "خرما", "عقیق", "تسبیح", "انگشتر", "ملیله", "پشتی",
    "لوازم منزل", "لباس", "پارچه",  # household goods, clothes, cloth (issue #28)
)
#: Generic words a trade outside the catalogue overrides («تعمیرات تلویزیون» is no car repair, «نمایشگاه لوازم
#: خانگی» no car showroom): words that say "repair" or "showroom" of anything.
OUTSIDE_OVERRIDES = ("تعمیر", "تعمیرگاه", "تعمیرات", "نمایشگاه", "گالری")
#: Words on which registries written by different hands disagree whether the business is in the catalogue
#: at all (measured on the calibration registries: «لوازم یدکی موتورسیکلت» and «تشک و کالای خواب» are in
#: the catalogue in one, trades outside it in another): a name holding one goes to review with the rules'
#: category and "a trade outside the catalogue" as its candidates. ``unless``: words that settle it (a
#: wholesaler of tiles is a wholesaler). Each word: (the categories it is disputed for, the words that settle it).
_WHOLESALE_WORDS = ("عمده", "پخش", "بنکدار", "توزیع", "بازرگانی")
_CHAIN_WORDS = ("زنجیره", "شعبه", "افق کوروش", "کوروش", "رفاه", "شهروند", "اتکا", "جانبو", "هفت حصین", "تعاونی",
                "پروما", "کوثر", "سپه", "ویستا", "یاس")
DISPUTED_WORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "موتورسیکلت": (("car_showroom", "car_parts", "car_repair"), ()),
    "موتور سیکلت": (("car_showroom", "car_parts", "car_repair"), ()),
    "اسکوتر": (("car_showroom", "car_parts", "car_repair"), ()),
    "موتور برقی": (("car_showroom", "car_parts", "car_repair"), ()),
    # a supermarket of no chain: a chain store in five calibration registries, a grocer's outside the
    # catalogue in one (registry_calib7); a chain's name or a branch settles it
    "سوپرمارکت": (("chain_store",), _CHAIN_WORDS), "سوپر مارکت": (("chain_store",), _CHAIN_WORDS),
    "سوپر": (("chain_store",), _CHAIN_WORDS), "سوپری": (("chain_store",), _CHAIN_WORDS),
    "مینی مارکت": (("chain_store",), _CHAIN_WORDS),
    "سمساری": (("scrap",), ()), "تشک": (("furniture_sales",), ()), "کالای خواب": (("furniture_sales",), ()),
    "لحاف": (("furniture_sales",), ()),
    # building paint: a retail paint shop outside the catalogue (the labelling guide of calib8, calib7),
    # a wholesaler's in another; a wholesale word settles it
    "رنگ ساختمانی": (("wholesale_building",), _WHOLESALE_WORDS), "رنگ ساختمان": (("wholesale_building",), _WHOLESALE_WORDS),
    # a staff or rural consumer cooperative: a chain store in three registries, a shop outside it in calib8;
    # a store («فروشگاه») of it or a branch settles it
    "تعاونی مصرف": (("chain_store",), ("فروشگاه", "شعبه", "زنجیره")),
    "تیرچه": (("wholesale_building",), ()),
    "بلوک سیمانی": (("wholesale_building",), ()), "بلوک زنی": (("wholesale_building",), ()),
    # a locksmith is metalwork in one registry and a service outside the catalogue in three; an engineering
    # firm («فنی مهندسی») a technology firm in two and a contractor in one
    "قفل سازی": (("metalwork",), ()), "قفل و کلید": (("metalwork",), ()), "کلید و قفل": (("metalwork",), ()),
    "فنی مهندسی": (("tech_firm",), ("هوش مصنوعی", "نرم افزار", "فناوری", "دانش بنیان", "رباتیک", "الکترونیک",
                                    "اتوماسیون", "کنترل صنعتی")),
    # computer services: a technology firm in two registries, a shop outside the catalogue in another
    "خدمات کامپیوتری": (("tech_firm",), ()), "خدمات رایانه": (("tech_firm",), ()),
}
#: Words disputed only in a retail shop's name (the word, (its categories, the words that make it disputed,
#: the words that settle it)): tiles, ceramics and sanitary ware are a building-materials wholesaler in the
#: calibration registries (10 of 10) unless the name says a shop («فروشگاه کاشی»: outside the catalogue in one).
_RETAIL_WORDS = ("فروشگاه", "خرده", "فروشی", "مغازه", "نمایشگاه", "گالری")
DISPUTED_IN_RETAIL: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = dict.fromkeys(
    ("کاشی", "سرامیک", "شیرآلات", "شیر آلات", "چینی بهداشتی"), (("wholesale_building",), _RETAIL_WORDS, _WHOLESALE_WORDS))
#: Categories whose ISIC code settles a disputed word: a wholesaler's code (4663) says the clerk recorded a
#: block, tile or paint dealer as a wholesaler (3 of 3 in the calibration registries).
SETTLED_BY_ISIC = ("wholesale_building",)
#: A repair or service shop's keyword with a word of selling parts («قطعات گیربکس», «پخش روغن موتور»), or a
#: parts keyword with a word of repair («برق و باطری خودرو»): the shop may be either (category found ->
#: (words that say the other, the other category)). Whole words for words of up to four letters.
SERVICE_OR_SALE: dict[str, tuple[tuple[str, ...], str]] = {  # see SERVICE_SETTLES
    "car_repair": (("قطعات", "لوازم", "فروش", "پخش", "یدک"), "car_parts"),
    "car_wash_oil": (("قطعات", "لوازم", "فروش", "پخش", "یدک", "فروشی", "فروشگاه", "نمایندگی", "عمده"), "car_parts"),
    "car_parts": (("تعمیر", "برق", "تعویض"), "car_repair"),
}
#: Words of the service itself that settle :data:`SERVICE_OR_SALE`: «روغن فروشی و تعویض روغنی» changes oil,
#: «روغن موتور فروشی» sells it (motor oil sales: a parts shop in one registry, an oil change in another).
SERVICE_SETTLES: dict[str, tuple[str, ...]] = {
    "car_wash_oil": ("تعویض", "سرویس", "کارواش", "کار واش", "شستشو", "روغنکاری", "روغن کاری", "گریسکاری",
                     "گریس کاری", "واشینگ"),
}
#: Food a wholesaler trades in that are also trades outside the catalogue when sold over the counter
#: («لبنیات», «روغن نباتی», «گوشت و مرغ»): with a wholesale word («پخش روغن نباتی», «توزیع گوشت و مرغ
#: منجمد») they name a food wholesaler's goods (7 of 7 in the calibration registries). Goods of no food
#: («لوازم التحریر», «پوشاک», «ظروف یکبار مصرف») are not: registries disagree whether their wholesaler is in
#: the catalogue (calib8: no; heldout: yes), so they stay a conflict, and contradict a food wholesaler's ISIC.
FOOD_GOODS = (
    "لبنیات", "لبنیات فروشی", "لبنی", "بستنی", "آبمیوه بستنی", "آبمیوه", "روغن نباتی", "روغن خوراکی", "روغن زیتون",
    "روغن حیوانی", "روغن کنجد", "روغن محلی", "ادویه", "عطاری", "قنادی", "لوازم قنادی", "گوشت", "گوشت و مرغ",
    "مرغ و گوشت", "مرغ", "مرغ فروشی", "ماهی", "مرغ و ماهی", "ماهی و میگو", "تخم مرغ", "آجیل", "آجیل و خشکبار",
    "خشکبار", "زعفران", "خرما", "نبات", "آبنبات", "گز", "سوهان", "گز و سوهان", "شکلات", "کیک و شیرینی", "شیرینی",
    "میوه", "میوه و تره بار", "سبزی", "صیفی جات", "سبزی و میوه", "خوار و بار", "خواربار فروشی", "پسته", "کشمش",
    "گلاب", "عرقیات", "ترشی", "ترشیجات", "کلوچه", "پشمک", "داروگیاهی", "گیاهان دارویی", "سوغات", "سوغاتی",
    "نان", "آرد",
)
#: Goods of no food that contradict a food wholesaler's ISIC code («بنکداری لوازم التحریر» under 4649: a
#: stationery wholesaler is outside the catalogue in calib8, a food wholesaler in heldout): with one the
#: officer says which. Other words of trades outside the catalogue («بازار وکیل», a bazaar's name) do not.
NONFOOD_GOODS = (
    *OUTSIDE_GOODS,
    "لوازم التحریر", "نوشت افزار", "لوازم آرایشی", "آرایشی و بهداشتی", "بهداشتی و آرایشی", "پوشاک", "کیف و کفش",
    "ظروف یکبار مصرف", "لوازم خانگی", "اسباب بازی", "پوشاک فروشی", "لباس فروشی", "کفش فروشی", "ظروف فروشی",
    "لوازم ورزشی", "کتاب فروشی", "پارچه فروشی", "دارویی", "پخش دارو", "توزیع دارو", "لوازم پزشکی", "تجهیزات پزشکی",
    "لوازم برقی", "لوازم الکتریکی", "لوازم جانبی موبایل", "گوشی موبایل", "خرازی", "لوازم خرازی",
)
#: Metals and materials a scrap dealer trades in («ضایعات مس و آلومینیوم», «آهن آلات اسقاطی»): with a scrap
#: word they are its goods, not a metalwork or a building-materials trade (6 of 6 in the calibration registries).
SCRAP_GOODS = (
    "آلومینیوم", "آلومینیم", "مس", "چدن", "آهن", "آهن آلات", "استیل", "برنج", "روی", "سرب", "فلزات", "پلاستیک",
    "نایلون", "کاغذ", "مقوا", "کارتن", "باطری", "باتری", "لاستیک", "الکترونیکی",
)
#: A trade and the words of its goods: a goods word found with a word of the trade (any of the trade's
#: keywords, generic ones included) is the trade's («پخش لبنیات» a food wholesaler, «ضایعات آلومینیوم» scrap).
TRADE_GOODS: dict[str, tuple[str, ...]] = {"wholesale_food": FOOD_GOODS, "scrap": SCRAP_GOODS}
#: Words of making something («تولید میز و صندلی چوبی», «کارگاه ساخت میز»), and of selling it: a name with a
#: word of making and none of selling makes the goods of :data:`MAKERS` (25 of 25 in the calibration registries).
MAKING_WORDS = ("تولید", "تولیدی", "ساخت", "کارگاه", "کارخانه")
SELLING_WORDS = ("فروشگاه", "فروش", "نمایشگاه", "نمایندگی", "گالری", "بازار")
#: Categories selling goods that another category makes: furniture is made by carpentry.
MAKERS: dict[str, str] = {"furniture_sales": "carpentry"}
#: Words registries use for two categories at once (the calibration registries disagree on them:
#: «هایپرمارکت» is a large store in one and a chain store in another; «اتوسرویس» a mechanic or an oil
#: change): a name whose longest word is one of these goes to review with both, for the officer to say.
SHARED_KEYWORDS: dict[str, tuple[str, ...]] = {
    "هایپر": ("large_store", "chain_store"), "هایپرمارکت": ("large_store", "chain_store"),
    "هایپر مارکت": ("large_store", "chain_store"), "هایپرمی": ("large_store", "chain_store"),
    "هایپراستار": ("large_store", "chain_store"), "هایپر استار": ("large_store", "chain_store"),
    "اتوسرویس": ("car_repair", "car_wash_oil"), "اتو سرویس": ("car_repair", "car_wash_oil"),
    # a meat or fruit «سوپر» is a chain store in one registry, a butcher's or greengrocer's in general use
    "سوپر پروتئین": ("chain_store", OUTSIDE), "سوپر گوشت": ("chain_store", OUTSIDE),
    "سوپر میوه": ("chain_store", OUTSIDE), "سوپر مرغ": ("chain_store", OUTSIDE), "سوپر ماهی": ("chain_store", OUTSIDE),
}

#: Vehicles: makes, models and kinds of car, van and lorry (general knowledge of the Iranian fleet; no
#: motorcycles, which registries disagree on, see :data:`DISPUTED_WORDS`, and no «ماشین», which is also a
#: machine).
VEHICLE_WORDS = (
    "خودرو", "اتومبیل", "سواری", "تاکسی", "وانت", "کامیون", "کامیونت", "اتوبوس", "مینی بوس", "مینیبوس", "تریلی",
    "پژو", "پراید", "سمند", "تیبا", "ساینا", "کوییک", "دنا", "رانا", "رنو", "تندر", "ال90", "l90", "پیکان", "روآ",
    "زانتیا", "پرشیا", "آریسان", "زامیاد", "نیسان", "هیوندای", "هیوندا", "کیا", "تویوتا", "لکسوس", "مزدا", "بنز",
    "بی ام و", "ولوو", "اسکانیا", "خاور", "ایسوزو", "فوتون", "هوو", "چری", "ام وی ام", "برلیانس", "لیفان",
    "هایما", "سوزوکی", "میتسوبیشی", "شورولت", "فولکس", "پورشه", "206", "207", "405", "پژو405", "پژو206",
    # makers and importers of the Iranian market («نمایندگی فروش سایپا», «سالن فروش کرمان موتور»)
    "سایپا", "ایران خودرو", "ایرانخودرو", "بهمن موتور", "کرمان موتور", "مدیران خودرو", "پارس خودرو", "آرین موتور",
    "دیار خودرو", "فونیکس", "بسترن", "دانگ فنگ", "جیلی", "کی ام سی", "کرمان خودرو", "سیتروئن", "ام جی",
)
#: A generic word of a category («تعمیرگاه», «نمایشگاه», «بنکداری») with one of these words of its own trade
#: names the trade («تعمیرگاه پراید و پژو», «بنکداری لوازم بهداشتی»): the generic decision becomes a keyword
#: one. Whole words, a word's «ی»/«های» forms included; several words («مواد غذایی») anywhere.
CONTEXT_WORDS: dict[str, tuple[str, ...]] = {
    "car_repair": VEHICLE_WORDS,
    "car_showroom": VEHICLE_WORDS,
    "chain_store": ("شعبه",),
    "stone_cutting": ("برش", "ساب", "سابکاری", "صیقل", "تراش", "حکاکی"),
    "wholesale_food": (
        "مواد غذایی", "غذایی", "خواربار", "خوار و بار", "حبوبات", "خشکبار", "برنج", "قند", "شکر", "چای", "کنسرو",
        "تن ماهی", "ماکارونی", "آرد", "ادویه", "تنقلات", "نوشابه", "نوشیدنی", "شوینده", "بهداشتی", "کالا",
        "مصرفی", "سوپرمارکتی", "منجمد", "لبنی", "پروتئینی", "مویرگی", "بنکدار", "بنکداری", "روغن نباتی",
        "کالای مصرفی", "محصولات غذایی", "خوراکی", "بیسکویت", "شکلات", "رب",
    ),
}


#: Categories that trade in goods of every kind: a word of a trade outside the catalogue in their name
#: («عمده فروشی لوازم التحریر», «پخش روغن نباتی») names the goods, and does not contradict their ISIC code.
GOODS_TRADERS = ("wholesale_food", "wholesale_building")
