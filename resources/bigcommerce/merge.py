"""Reading several page sources side by side: split an id or time range into parts, and merge
the parts' pages as they arrive. The quota is spent on requests, not on waiting for latency."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any


def split_range(low: int, high: int, parts: int) -> list[tuple[int, int]]:
    """`low..high` (both included) cut into at most `parts` ranges of equal width."""
    if high < low:
        return []
    step = max(1, -(-(high - low + 1) // parts))
    return [(lo, min(lo + step - 1, high)) for lo in range(low, high + 1, step)]


async def merge_pages(sources: list[AsyncIterator[list[Any]]]) -> AsyncIterator[list[Any]]:
    """Pages of several readers as they arrive; the first error cancels the rest."""
    queue: asyncio.Queue = asyncio.Queue(maxsize=2 * max(1, len(sources)))
    done = object()

    async def pump(source: AsyncIterator[list[Any]]) -> None:
        try:
            async for page in source:
                await queue.put(page)
        except BaseException as error:  # handed to the consumer, who raises it
            await queue.put(error)
            return
        await queue.put(done)

    tasks = [asyncio.create_task(pump(source)) for source in sources]
    try:
        remaining = len(tasks)
        while remaining:
            item = await queue.get()
            if item is done:
                remaining -= 1
            elif isinstance(item, BaseException):
                raise item
            else:
                yield item
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
