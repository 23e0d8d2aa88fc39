"""Formats shared by several contracts, named so a steward can read the rule they enforce."""

# One @, something on each side, a dot in the domain, no spaces: what a mailbox must look like.
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
# ISO-8601 with a time zone, as the v3 API sends it (2026-10-04T03:33:59Z).
ISO_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$"
# Money as the v2 API sends it: a decimal string with exactly four decimals.
MONEY_4DP = r"^-?\d+\.\d{4}$"
# ISO 4217 currency codes the store trades in.
CURRENCIES = ["KRW", "USD"]
