"""BigCommerce REST API: an async, rate-limit-paced client and its Dagster resource."""

from resources.bigcommerce.client import BigCommerceClient, BigCommerceError, ClientStats, Page
from resources.bigcommerce.resource import BigCommerceResource

__all__ = ["BigCommerceClient", "BigCommerceError", "BigCommerceResource", "ClientStats", "Page"]
