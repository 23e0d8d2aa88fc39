"""A dropped quotation CSV goes through write-audit-publish into the raw quotations table."""

from __future__ import annotations

import csv
import json

from automation.quotation_import import import_quotation_file
from resources.lineage import LineageResource
from resources.raw_zone import RawZoneResource
from tests.assets.support import zone_ref

COLUMNS = ["id", "quotation_number", "customer_id", "company_name", "contact_name",
           "contact_email", "contact_phone", "status", "currency_code", "total_amount", "items",
           "valid_until", "note", "created_at", "updated_at"]


def row(quotation_id: str, updated_at: str = "2026-11-26T03:00:00+00:00") -> dict:
    items = [{"sku": "WS-CHR-010", "name": "메쉬 의자", "quantity": 2, "unit_price": 239000}]
    return {"id": quotation_id, "quotation_number": f"Q-2026-90{quotation_id}",
            "customer_id": "7", "company_name": "(주)강남테크", "contact_name": "권도윤",
            "contact_email": "doyun@example.com", "contact_phone": "010-1234-5678",
            "status": "sent", "currency_code": "KRW", "total_amount": "478000.0000",
            "items": json.dumps(items, ensure_ascii=False), "valid_until": "2026-12-26",
            "note": "", "created_at": "2026-11-25T03:00:00+00:00", "updated_at": updated_at}


def test_good_rows_publish_and_a_bad_row_is_quarantined_with_its_rule(tmp_path):
    """30 good rows and one with a text id: 1 of 31 (3%) is under the quotation contract's 5%
    limit, so the bad row is quarantined with its rule and the rest published."""
    good = [str(9001 + n) for n in range(30)]
    path = tmp_path / "quotes.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        for quotation_id in good:
            writer.writerow(row(quotation_id))
        writer.writerow(row("Q9004"))  # an id that is not an integer
    raw_zone = RawZoneResource(root=str(tmp_path / "raw"), warehouse=str(tmp_path / "w.duckdb"))
    result = import_quotation_file.execute_in_process(
        run_config={"ops": {"import_quotation_csv": {"config": {"path": str(path)}}}},
        resources={"raw_zone": raw_zone,
                   "lineage": LineageResource(file_path=str(tmp_path / "events.jsonl"))},
    )
    assert result.success
    (materialization,) = result.asset_materializations_for_node("import_quotation_csv")
    assert materialization.asset_key.to_user_string() == "src_quotation"
    assert materialization.metadata["dagster/row_count"].value == 30
    assert materialization.metadata["rows_quarantined"].value == 1

    zone = raw_zone.zone()
    ref = zone_ref("src_quotation")
    with zone.reader([ref]) as db:
        published = db.execute("SELECT _pk, record->>'$.items[0].sku' FROM raw_wise.quotations "
                               "ORDER BY _pk").fetchall()
        rejected = db.execute("SELECT _rule, _column FROM quarantine.wise__quotations").fetchall()
    assert published == [(int(n), "WS-CHR-010") for n in good]
    assert rejected == [("primary_key_integer", "id")]
