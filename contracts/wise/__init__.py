"""Contracts of the Wise PostgreSQL tables: point transactions and quotations."""
