"""Lineage tests, and the helpers other lineage tests share (`spec`, `marquez`)."""
