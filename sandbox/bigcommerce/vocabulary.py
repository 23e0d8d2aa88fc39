"""Word lists for the sandbox data: a Seoul store with Korean and English-speaking customers.

Kept apart from `data.py` so the generator reads as logic, not as tables. Order matters: the
generator indexes these tuples with seeded draws, so reordering them changes every dataset.
"""

# (hangul, romanisation) pairs; the romanisation builds e-mail addresses.
KO_SURNAMES = (
    ("김", "kim"), ("이", "lee"), ("박", "park"), ("최", "choi"), ("정", "jung"), ("강", "kang"),
    ("조", "cho"), ("윤", "yoon"), ("장", "jang"), ("임", "lim"), ("한", "han"), ("오", "oh"),
)
KO_GIVEN = (
    ("민준", "minjun"), ("서연", "seoyeon"), ("지호", "jiho"), ("민지", "minji"),
    ("하은", "haeun"), ("도윤", "doyun"), ("서준", "seojun"), ("지우", "jiwoo"),
    ("예린", "yerin"), ("현우", "hyunwoo"), ("수빈", "subin"), ("유진", "yujin"),
)
EN_FIRST = ("James", "Emily", "Michael", "Sarah", "Daniel", "Olivia", "David", "Grace", "Ryan")
EN_LAST = ("Smith", "Johnson", "Brown", "Miller", "Davis", "Wilson", "Taylor", "Anderson")
KO_MAIL_DOMAINS = ("naver.com", "naver.com", "daum.net", "kakao.com", "gmail.com")
EN_MAIL_DOMAINS = ("gmail.com", "outlook.com", "example.com", "icloud.com")
COMPANIES = ("", "", "", "", "(주)한빛상사", "네오테크", "Blue Harbor LLC", "Seoul Craft Co.")

# Seoul district, a road in it (도로명 addresses) and a postal code of that district.
SEOUL_ROADS = (
    ("강남구", "테헤란로", "06236"), ("서초구", "서초대로", "06611"),
    ("송파구", "올림픽로", "05551"), ("마포구", "월드컵북로", "03925"),
    ("종로구", "세종대로", "03154"), ("중구", "을지로", "04524"),
    ("용산구", "한강대로", "04378"), ("성동구", "왕십리로", "04779"),
    ("영등포구", "여의대로", "07327"), ("관악구", "관악로", "08826"),
)
SEOUL_UNITS = ("", "", "3층", "101동 1203호", "5층 502호", "B1", "2층 201호")
US_ADDRESSES = (
    ("350 5th Ave", "New York", "New York", "10118"),
    ("1 Market St", "San Francisco", "California", "94105"),
    ("400 Broad St", "Seattle", "Washington", "98109"),
    ("200 S Grand Ave", "Los Angeles", "California", "90012"),
)
US_UNITS = ("", "", "Apt 4B", "Suite 200", "Unit 12")

PRODUCT_ADJECTIVES = (("프리미엄", "Premium"), ("유기농", "Organic"), ("핸드메이드", "Handmade"),
                      ("데일리", "Daily"), ("클래식", "Classic"))
PRODUCT_NOUNS = (("녹차 티백", "Green Tea Bags"), ("머그컵", "Ceramic Mug"), ("에코백", "Eco Bag"),
                 ("캔들", "Soy Candle"), ("텀블러", "Tumbler"), ("양말 세트", "Sock Set"),
                 ("가죽 지갑", "Leather Wallet"), ("무선 충전기", "Wireless Charger"))
BRANDS = {1: "Hanbit", 2: "Sori", 3: "Nordic Table", 4: "Daon"}
CATEGORY_IDS = (18, 19, 21, 23, 24, 27)
# (option_id, display name, values); a multi-variant product uses one option.
OPTIONS = (
    (101, "Size", ("S", "M", "L", "XL")),
    (102, "Color", ("Black", "White", "Navy", "Beige")),
)
# How each option shows: (v3 catalog option type, v2 order-line display_style, v2 line type).
OPTION_STYLES = {101: ("rectangles", "Rectangle", "Multiple choice"),
                 102: ("swatch", "Swatch", "Swatch")}
IMAGE_CDN = "https://cdn11.bigcommerce.com/s-sandbox"
ORIGINS = ("대한민국", "대한민국", "일본", "베트남")  # the products' 원산지 custom field

# Real v2 order statuses as (status_id, status, weight, payment_status).
ORDER_STATUSES = (
    (1, "Pending", 5, "pending"), (7, "Awaiting Payment", 5, "pending"),
    (11, "Awaiting Fulfillment", 10, "captured"), (9, "Awaiting Shipment", 8, "captured"),
    (3, "Partially Shipped", 2, "captured"), (2, "Shipped", 20, "captured"),
    (10, "Completed", 35, "captured"), (5, "Cancelled", 5, "void"), (4, "Refunded", 4, "refunded"),
    (14, "Partially Refunded", 2, "partially refunded"), (6, "Declined", 2, "declined"),
    (12, "Manual Verification Required", 1, "held for review"), (13, "Disputed", 1, "captured"),
)
PAYMENT_METHODS = ("Credit Card", "Credit Card", "Kakao Pay", "Naver Pay", "Bank Transfer")
ORDER_SOURCES = ("www", "www", "www", "mobile", "manual")
COUPONS = ("WELCOME10", "SPRING10", "VIP10")

METAFIELDS = (  # (namespace, key, candidate values)
    ("loyalty", "tier", ("bronze", "silver", "gold", "vip")),
    ("crm", "preferred_language", ("ko", "en")),
    ("crm", "marketing_consent", ("true", "false")),
    ("crm", "birth_month", tuple(str(m) for m in range(1, 13))),
)
PERMISSION_SETS = ("app_only", "read", "write", "read_and_sf_access", "write_and_sf_access")
# The API client id of the app that owns each namespace (`owner_client_id`): metafields are
# written by apps, and an app's `app_only` fields are private to it.
APP_CLIENT_IDS = {"loyalty": "k3x9q2m7v1p8d4t6s0w5r2y7h1z3n8c",
                  "crm": "a7d2f9h4k1m6p3r8t5v0x2z7b4e9g1j"}

# Where an order's IP comes from: IPv6 prefixes of Korean and US carriers (KT, SK Broadband;
# Comcast, AT&T), for the orders placed over IPv6.
IPV6_PREFIXES = {"KR": ("2001:e60", "2001:2d8"), "US": ("2601:0645", "2600:1700")}
LOCALES = {True: "ko-KR", False: "en-US"}  # by whether the shopper writes Korean
