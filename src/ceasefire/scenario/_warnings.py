"""What may be intended but is probably not: warnings that `ceasefire check` prints.

A warning names a clause that has no effect, or a default the file leaves implicit, at
its own field path (the loader adds line and column). A file with warnings still loads
and runs: each warning says what the engine does with it.
"""

from __future__ import annotations

from ._models import Scenario

Loc = tuple[str | int, ...]
Warning_ = tuple[Loc, str]


def scenario_warnings(s: Scenario) -> list[Warning_]:
    """Every warning for ``s``, in file order."""
    out: list[Warning_] = _side_channels(s)
    a = s.agreement
    if a is None:
        return out
    released = set(a.batches.categories)
    if a.batches.dated is not None:
        released = {c for h in a.batches.dated for c in h.releases}
    for phase in a.phases:
        if phase.exchange is None:  # the phase follows the agreement's exchange
            dated = phase.batches.dated
            released |= (
                {c for h in dated for c in h.releases} if dated else set(phase.batches.categories)
            )
    out += _phases(s)
    for c in a.exchange.ratios:
        if c not in released:
            out.append(
                (
                    ("agreement", "exchange", "ratios", c),
                    f"a ratio for {c!r}, which the agreement never releases: it has no effect",
                )
            )
    moved = released | set(a.exchange.categories) | {o.id for o in a.obligations}
    for sc in s.side_channels:
        moved |= {r.category for r in sc.releases}
    n = s.negotiation
    if n is not None and n.template is not None:
        moved |= set(n.template.categories) | set(n.template.exchange_categories)
        moved |= {str(v) for i in n.issues if i.kind == "first_category" for v in i.domain()}
    holder, other = a.batches.releaser, a.exchange.releaser
    for p, pv in s.values.parties.items():
        for term in ("receive", "give"):
            for c in getattr(pv, term):
                if c not in moved:
                    out.append(
                        (
                            ("values", "parties", p, term, c),
                            f"a value for {c!r}, which nothing in this scenario moves: "
                            "it has no effect",
                        )
                    )
    deal = [(holder, other, c) for c in released] + [
        (other, holder, c) for c in a.exchange.categories
    ]
    for giver, taker, c in deal:
        for party, term in ((taker, "receive"), (giver, "give")):
            priced = s.values.parties.get(party)
            if priced is not None and c not in getattr(priced, term):
                out.append(
                    (
                        ("values", "parties", party, term),
                        f"{c!r} is released under the deal but {party!r} does not price it "
                        f"under `{term}`: it is worth 0 to {party!r} (the default); write "
                        f"`{c}: 0` to say so",
                    )
                )
    return out


def _phases(s: Scenario) -> list[Warning_]:
    """Written phases whose dated hand-overs an extension of the phase before them could
    overtake (a phase extended past the next one's start moves that start, not the
    dates), and a continuation clause that nothing can make hold."""
    a = s.agreement
    assert a is not None
    out: list[Warning_] = []
    rules = [a.extension, *(p.extension for p in a.phases)]
    for k, p in enumerate(a.phases):
        if rules[k] is not None and p.batches.dated is not None:
            out.append(
                (
                    ("agreement", "phases", k, "batches", "dated"),
                    f"phase {k + 1} has an extension rule: if it is extended past a date of "
                    f"phase {k + 2}'s hand-overs, phase {k + 2} starts the day after it ends "
                    "and a hand-over dated before then is not made",
                )
            )
    talks = s.negotiation is not None and s.negotiation.during_pause
    dated = any(p.start != "after_previous" for p in a.phases)
    if a.continuation is not None and a.phases and not talks and not dated:
        out.append(
            (
                ("agreement", "continuation"),
                "every written phase starts the day after the previous one and no talks go "
                "on during the pause: the continuation clause has no effect",
            )
        )
    return out


def _side_channels(s: Scenario) -> list[Warning_]:
    """Side-channel releases that cannot be made: of a category the releaser holds none
    of (no holding, and no event that adds one), or, where the channel requires the
    pause, dated outside the initial pause (unless extensions may reach it)."""
    out: list[Warning_] = []
    held = {(h.holder, h.category) for h in s.holdings if h.count > 0}
    held |= {(e.holder, e.category) for e in s.events if e.kind == "holdings" and e.change > 0}
    a = s.agreement
    for i, sc in enumerate(s.side_channels):
        for j, r in enumerate(sc.releases):
            at: Loc = ("side_channels", i, "releases", j)
            if (sc.releaser, r.category) not in held:
                out.append(
                    (
                        (*at, "category"),
                        f"{sc.releaser!r} holds no {r.category!r}: this release cannot be "
                        "made (it will show as a shortfall)",
                    )
                )
            if sc.requires_pause and a is not None and a.kind == "pause":
                last = a.phase_windows()[-1][1]
                if (r.date < a.start or r.date > last) and (
                    r.date < a.start or a.extension is None
                ):
                    out.append(
                        (
                            (*at, "date"),
                            f"{r.date} is outside the pause ({a.start} to {last}) and the "
                            "channel requires the pause: this release is made only if a "
                            "pause holds that day",
                        )
                    )
    return out
