"""How a number of captives is split into daily batches."""

from __future__ import annotations

from ..scenario import Agreement


def split_batches(total: int, days: int, rule: str) -> list[int]:
    """Split ``total`` over ``days`` daily batches.

    ``front_loaded``: ceil(total / days) each day, the remainder on the last days
    (50 over 4 gives 13, 13, 13, 11). ``even``: as equal as possible, the larger
    batches first (50 over 4 gives 13, 13, 12, 12).
    """
    if days <= 0:
        raise ValueError("days must be positive")
    if rule == "even":
        base, extra = divmod(total, days)
        return [base + (1 if i < extra else 0) for i in range(days)]
    per_day = -(-total // days)
    out = []
    left = total
    for _ in range(days):
        out.append(min(per_day, left))
        left -= out[-1]
    return out


def initial_batches(agreement: Agreement) -> list[int]:
    """The batches due on the initial days: with dated hand-overs (version 2) none is
    due by the day (each pause day still passes), so all are 0."""
    b = agreement.batches
    if b.dated is not None:
        return [0] * agreement.initial_days
    if b.daily is not None:
        return list(b.daily)
    assert b.total is not None
    return split_batches(b.total, agreement.initial_days, b.split)
