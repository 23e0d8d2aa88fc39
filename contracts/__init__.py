"""One contract per source table (Pandera models with owners, PII classes and rules)."""
