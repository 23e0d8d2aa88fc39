"""`python3 run.py publish-classified TABLE`: backfill the held values of fields now classified.

A field the contract did not name was held back from every batch that carried it
(`checks.drift`). After a steward adds it to the contract, new batches publish it; this puts
the values held from earlier batches back into their published records
(`resources.raw_zone.classified`), so the table's history has the field too. Safe to rerun.
"""

from __future__ import annotations

import sys

from contracts import contract_for
from resources.environment import DataDir
from resources.raw_zone import RawZone, TableRef
from resources.raw_zone.classified import publish_classified


def run(data: DataDir, table: str, fields: list[str]) -> int:
    source, _, name = table.partition(".")
    try:
        contract = contract_for(source, name)
    except KeyError as error:
        print(error.args[0], file=sys.stderr)
        return 2
    ref = TableRef(contract.source, contract.table)
    zone = RawZone(data.raw, data.warehouse)
    held = zone.unclassified_fields(ref)
    wanted = set(fields) or held
    unclassified = sorted(wanted - contract.record_fields)
    if fields and unclassified:
        print(f"{table}: {', '.join(unclassified)} not in the contract yet: classify first "
              f"(add a column to contracts/{source}/{name}.py)", file=sys.stderr)
        return 1
    chosen = sorted((wanted & contract.record_fields) & held)
    if not chosen:
        waiting = ", ".join(sorted(held - contract.record_fields)) or "none"
        print(f"{table}: no classified field is held (still unclassified: {waiting})")
        return 0
    released = publish_classified(zone.paths, ref, chosen)
    for field in chosen:
        print(f"{table}.{field}: {released.values.get(field, 0)} values published")
    print(f"{len(released.batches)} batches rewritten"
          + (f"; {released.unpublished} values stay held with blocked batches"
             if released.unpublished else ""))
    return 0
