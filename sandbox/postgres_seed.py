"""Deterministic, Seoul-flavoured seed data for the embedded `wise` PostgreSQL database.

Pure functions of `(size, seed, anchor)`: the same arguments always give the same rows, so tests
can compare what the server holds with what these functions return. Every timestamp lies in the
8 weeks before `anchor`, skewed so that about 10% of the rows were updated in its last 24 hours
(what an incremental extraction with `hours_lookback` picks up).
"""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

SEOUL = ZoneInfo("Asia/Seoul")
WINDOW = timedelta(weeks=8)
RECENT = timedelta(hours=24)
RECENT_SHARE = 0.10
KRW_PER_USD = 1350

POINT_TRANSACTION_COLUMNS = (
    "id", "customer_id", "order_id", "transaction_type", "points", "balance_after",
    "description", "created_at", "updated_at",
)
QUOTATION_COLUMNS = (
    "id", "quotation_number", "customer_id", "company_name", "contact_name", "contact_email",
    "contact_phone", "status", "currency_code", "total_amount", "items", "valid_until", "note",
    "created_at", "updated_at",
)

# (sku, name, list price in KRW)
CATALOGUE = (
    ("WS-DSK-1200", "원목 사무용 책상 1200", 289_000),
    ("WS-DSK-1600", "모션 데스크 1600 (전동 높이조절)", 649_000),
    ("WS-CHR-010", "메쉬 사무용 의자 에르고", 239_000),
    ("WS-CHR-020", "회의실 의자 4개 세트", 356_000),
    ("WS-CAB-300", "3단 서랍 캐비닛", 129_000),
    ("WS-LMP-050", "LED 스탠드 조명", 59_000),
    ("WS-MON-270", "27인치 QHD 모니터", 379_000),
    ("WS-ARM-100", "듀얼 모니터 암", 89_000),
    ("WS-PRT-500", "A3 복합기 레이저 프린터", 1_250_000),
    ("WS-PAP-A4B", "A4 복사용지 2500매 (1박스)", 27_500),
    ("WS-TNR-500", "프린터 토너 카트리지 (검정)", 98_000),
    ("WS-WBD-180", "화이트보드 1800 x 900", 145_000),
    ("WS-PRJ-400", "빔프로젝터 4000안시", 890_000),
    ("WS-CFE-200", "캡슐 커피머신 사무실용", 420_000),
    ("WS-WTR-010", "냉온정수기 렌탈 설치 키트", 185_000),
    ("WS-PAR-150", "사무실 파티션 1500 (패브릭)", 112_000),
    ("WS-KBD-001", "무선 키보드 마우스 세트", 45_900),
    ("WS-HDS-070", "노이즈캔슬링 헤드셋", 159_000),
)
COMPANIES = (
    ("(주)한빛오피스", "hanbitoffice.co.kr"), ("서울가구 주식회사", "seoulfurniture.kr"),
    ("마포디자인랩", "mapodesignlab.com"), ("(주)강남테크", "gangnamtech.co.kr"),
    ("성수스튜디오", "seongsu-studio.kr"), ("여의도파트너스 주식회사", "ydpartners.co.kr"),
    ("종로상사", "jongnotrading.co.kr"), ("판교소프트 주식회사", "pangyosoft.com"),
    ("Han River Consulting", "hanriver-consulting.com"), ("Seoul Global Academy", "sga.ac.kr"),
    ("(주)을지로인쇄", "euljiro-print.co.kr"), ("용산전자유통", "yongsan-elec.kr"),
    ("Itaewon Creative Co., Ltd.", "itaewoncreative.com"), ("(주)송파물류", "songpalogis.co.kr"),
    ("구로코워킹", "guro-cowork.kr"), ("동대문패션그룹", "ddmfashion.co.kr"),
)
SURNAMES = (("김", "kim"), ("이", "lee"), ("박", "park"), ("최", "choi"), ("정", "jung"),
            ("강", "kang"), ("조", "cho"), ("윤", "yoon"), ("장", "jang"), ("임", "lim"),
            ("한", "han"), ("오", "oh"), ("서", "seo"), ("신", "shin"), ("권", "kwon"))
GIVEN = (("민준", "minjun"), ("서연", "seoyeon"), ("지훈", "jihoon"), ("하은", "haeun"),
         ("도윤", "doyun"), ("수빈", "subin"), ("예준", "yejun"), ("지민", "jimin"),
         ("현우", "hyunwoo"), ("유진", "yujin"), ("승민", "seungmin"), ("다은", "daeun"))
ENGLISH = (("James", "Miller"), ("Emily", "Clark"), ("Daniel", "Brown"), ("Sophie", "Martin"),
           ("Michael", "Walker"), ("Hannah", "Wright"), ("Lucas", "Schmidt"), ("Olivia", "Reed"))
NOTES = (None, None, None, "부가세 별도", "납기 2주 이내 요청", "설치비 포함 견적",
         "샘플 1세트 무상 제공", "Volume discount applied", "분할 납품 가능 여부 확인 필요",
         "Delivery to Seoul office, 3F")


def _moment(rng: random.Random, anchor: datetime) -> datetime:
    """A whole-second instant in the window; RECENT_SHARE of them fall in the last 24 hours."""
    if rng.random() < RECENT_SHARE:
        seconds = rng.randint(1, int(RECENT.total_seconds()) - 1)
    else:
        seconds = rng.randint(int(RECENT.total_seconds()), int(WINDOW.total_seconds()))
    return anchor - timedelta(seconds=seconds)


def _created_before(rng: random.Random, updated_at: datetime, anchor: datetime,
                    max_age: timedelta) -> datetime:
    age = min(max_age, updated_at - (anchor - WINDOW))  # never before the window starts
    return updated_at - timedelta(seconds=rng.randint(0, int(age.total_seconds())))


def point_transactions(size: int, seed: int, anchor: datetime) -> list[tuple]:
    """About 3 * size ledger rows for customers 1..size; `balance_after` is the running sum of
    `points` per customer in (created_at, id) order and never goes negative."""
    rng = random.Random(f"point_transaction:{seed}")
    customers = range(1, size + 1)
    weights = [min(rng.paretovariate(1.3), 20.0) for _ in customers]  # a few heavy buyers
    drawn = []
    for index, customer_id in enumerate(rng.choices(customers, weights=weights, k=3 * size)):
        updated_at = _moment(rng, anchor)
        created_at = updated_at
        if rng.random() < 0.05:  # a later correction touched the row
            created_at = _created_before(rng, updated_at, anchor, timedelta(days=7))
        drawn.append((created_at, index, customer_id, updated_at))
    drawn.sort()

    balances: dict[int, int] = {}
    rows = []
    max_order = 100 + 4 * size  # BigCommerce order ids start at 100
    for row_id, (created_at, _, customer_id, updated_at) in enumerate(drawn, start=1):
        balance = balances.get(customer_id, 0)
        kind = "earn" if balance == 0 else rng.choices(
            ("earn", "redeem", "expire", "adjust"), weights=(55, 28, 7, 10))[0]
        order_id = None
        if kind == "earn":
            order_id = rng.randint(100, max_order)
            points = rng.randrange(100, 5001, 10)
            description = f"주문 #{order_id} 구매 적립 (결제금액의 1%)"
        elif kind == "redeem":
            order_id = rng.randint(100, max_order)
            points = -min(balance, rng.randrange(500, 10_001, 100))
            description = f"주문 #{order_id} 결제 시 포인트 사용"
        elif kind == "expire":
            points = -min(balance, rng.randrange(100, 3001, 100))
            description = "유효기간 만료 포인트 소멸"
        elif rng.random() < 0.6:
            points = rng.choice((500, 1000, 2000, 3000, 5000))
            description = rng.choice(("고객센터 보상 지급 (배송 지연)", "포토 리뷰 이벤트 적립"))
        else:
            points = -min(balance, rng.randrange(100, 2001, 100))
            description = "관리자 조정: 반품에 따른 적립 회수"
        balances[customer_id] = balance + points
        rows.append((row_id, customer_id, order_id, kind, points, balance + points, description,
                     created_at, updated_at))
    return rows


def _contact(rng: random.Random, domain: str) -> tuple[str, str]:
    if rng.random() < 0.75:
        (surname, sur_latin), (given, given_latin) = rng.choice(SURNAMES), rng.choice(GIVEN)
        return f"{surname}{given}", f"{given_latin}.{sur_latin}@{domain}"
    first, last = rng.choice(ENGLISH)
    return f"{first} {last}", f"{first.lower()}.{last.lower()}@{domain}"


def _items(rng: random.Random, currency: str) -> tuple[list[dict], Decimal]:
    items, total = [], Decimal(0)
    for sku, name, krw in rng.sample(CATALOGUE, rng.randint(1, 5)):
        quantity = rng.choice((1, 1, 2, 3, 4, 5, 10, 12, 20, 30, 50))
        discounted = krw * rng.choice((100, 100, 97, 95, 90)) // 100
        if currency == "KRW":
            unit_price: int | float = discounted // 100 * 100
            exact = Decimal(unit_price)
        else:
            cents = round(discounted * 100 / KRW_PER_USD)
            unit_price, exact = cents / 100, Decimal(cents) / 100
        items.append({"sku": sku, "name": name, "quantity": quantity, "unit_price": unit_price})
        total += quantity * exact
    return items, total.quantize(Decimal("0.0001"))


def quotations(size: int, seed: int, anchor: datetime) -> list[tuple]:
    """max(10, size // 5) B2B quotations; `total_amount` is exactly the sum of the items."""
    rng = random.Random(f"quotation:{seed}")
    drawn = []
    for index in range(max(10, size // 5)):
        updated_at = _moment(rng, anchor)
        created_at = _created_before(rng, updated_at, anchor, timedelta(days=14))
        drawn.append((created_at, index, updated_at))
    drawn.sort()

    today: date = anchor.astimezone(SEOUL).date()
    rows = []
    for row_id, (created_at, _, updated_at) in enumerate(drawn, start=1):
        created_local = created_at.astimezone(SEOUL)
        valid_until = created_local.date() + timedelta(days=rng.choice((14, 30, 30, 60)))
        if valid_until < today:
            status = rng.choices(("accepted", "rejected", "expired"), weights=(35, 20, 45))[0]
        else:
            status = rng.choices(("draft", "sent", "accepted", "rejected"),
                                 weights=(20, 45, 25, 10))[0]
        company, domain = rng.choice(COMPANIES)
        contact_name, contact_email = _contact(rng, domain)
        currency = "KRW" if rng.random() < 0.85 else "USD"
        items, total = _items(rng, currency)
        rows.append((
            row_id, f"Q-{created_local.year}-{row_id:06d}",
            rng.randint(1, size) if rng.random() < 0.65 else None,
            company, contact_name, contact_email,
            f"010-{rng.randint(2000, 9999)}-{rng.randint(0, 9999):04d}",
            status, currency, total, json.dumps(items, ensure_ascii=False), valid_until,
            rng.choice(NOTES), created_at, updated_at,
        ))
    return rows


def default_anchor() -> datetime:
    """Now in UTC, floored to the hour (stable within an hour, so reruns agree)."""
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
