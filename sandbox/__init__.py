"""Embedded stand-ins for the external systems the platform talks to (offline by default)."""
