"""Contracts of the BigCommerce tables: customers, metafields, orders, lines, products, stock."""
