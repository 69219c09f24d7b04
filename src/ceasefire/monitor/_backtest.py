"""Backtests: a sourced record replayed day by day, each day's nowcast scored against
what happened, beside two baselines.

On each date from the record's first observation to its last, the backtest issues the
nowcast as the ledger would have known it that day (the observations dated on or before
it; :func:`~._nowcast.match_record` on one ensemble over the priors, drawn once), and
scores it against the whole record with :func:`~._scores.score_forecast`. Beside it:

- **prior**: the ensemble over the priors, conditioned on nothing (the same every day);
- **naive**: "the pattern so far continues", one member: what was agreed by the date is
  carried out at the rate observed so far, and nothing more is agreed (no further
  extension, no agreement if none was made, no breach unless one was observed).

A forecast made on a date is compared with the others on the quantities still **open**
on that date (not settled by the record up to it): on a settled one the nowcast is
certain and right by construction. Forecasts are issued at the date itself, so the same
record, scenario, ensemble size and seed give the same backtest, byte for byte.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..scenario import Scenario
from ._compliance import compliance
from ._forecasts import ensemble_quantities
from ._model import Entry, Snapshot
from ._nowcast import NowcastError, dated_until, match_record
from ._scores import Forecast, Scores, observed_quantities, score_forecast

METHODS = ("nowcast", "prior", "naive")
FAN = (0.05, 0.25, 0.5, 0.75, 0.95)


@dataclass(frozen=True)
class BacktestDay:
    """One date of the replay: what the record showed, the three forecasts' scores
    over the quantities still open, and the fan of each count."""

    date: str
    observations: int
    settled: int
    kept: int
    note: str
    open_quantities: int
    brier: dict[str, float | None]
    crps: dict[str, float | None]
    focus_events: dict[str, dict[str, float]]
    focus_counts: dict[str, dict[str, float]]
    fans: dict[str, list[float]]


@dataclass(frozen=True)
class Backtest:
    scenario: str
    scenario_hash: str
    drawn: int
    seed: int
    realised: dict[str, int]
    days: list[BacktestDay]

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


def record_dates(entries: Sequence[Entry]) -> list[str]:
    """Every date from the record's first observation to its last."""
    dates = [e.observation.date for e in entries if e.observation is not None]
    if not dates:
        return []
    first, last = min(dates), max(dates)
    return [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def naive_forecast(
    scenario: Scenario,
    prior: Forecast,
    entries: Sequence[Entry],
    snapshot: Snapshot,
    date: str,
) -> Forecast:
    """'The pattern so far continues' on ``date``: one member, with the quantities of
    ``prior``. What was agreed by then (the terms and the extensions observed) is carried
    out at the rate observed so far (the holder's releases counted over those due so far,
    likewise the counter-releases), and nothing more is agreed."""
    agreement = scenario.agreement
    assert agreement is not None
    record = dated_until(entries, date)
    report = compliance(scenario, record, snapshot)
    events_seen, counts_seen, _, _ = observed_quantities(report, record, list(prior.events))
    holder, counter = report.holder, report.counter_party
    totals = report.totals
    obs = [e.observation for e in record if e.observation is not None]
    agreed_on = min(
        (o.date.isoformat() for o in obs if o.kind in ("terms", "pause_start")), default=None
    )
    starts = [o.date.isoformat() for o in obs if o.kind == "pause_start"]
    start = min(starts) if starts else agreement.start.isoformat()
    made = len(totals.extensions_observed)
    days = 0
    if agreed_on is not None:
        days = totals.pause_days_observed or agreement.initial_days
    begin = dt.date.fromisoformat(start)
    covered = {(begin + dt.timedelta(days=i)).isoformat() for i in range(days)}
    past = [d for d in report.days if d.pause_day is not None and d.date < date]
    rate_h = _rate(sum(d.counted for d in past), sum(d.due for d in past))
    rate_c = _rate(sum(d.counter_done for d in past), sum(d.counter_due for d in past))
    ahead = [d for d in report.days if d.date in covered]
    out_h = round(sum(d.due for d in ahead) * rate_h)
    out_c = round(sum(d.counter_due for d in ahead) * rate_c)
    events: dict[str, list[bool]] = {}
    for name in prior.events:
        kind, _, arg = name.partition(":")
        if name in events_seen:
            value = events_seen[name]
        elif kind == "pause_holds":
            value = arg in covered
        elif kind == "extensions_at_least":
            value = made >= int(arg)
        elif kind == "agreement_by":
            value = agreed_on is not None and agreed_on <= arg
        else:  # breach: none unless one was observed
            value = False
        events[name] = [value]
    counts = {
        f"released_total:{holder}": [counts_seen.get(f"released_total:{holder}", out_h)],
        f"released_total:{counter}": [counts_seen.get(f"released_total:{counter}", out_c)],
        "pause_days": [counts_seen.get("pause_days", days)],
        "extensions": [counts_seen.get("extensions", made)],
    }
    return Forecast.from_samples(
        scenario,
        events=events,
        counts={k: v for k, v in counts.items() if k in prior.counts},
        seeds=[],
        issued_at=date,
        source=f"naive on {date}: what was agreed is carried out at the rate so far",
        method="naive",
        members=1,
    )


def _rate(done: int, due: int) -> float:
    return done / due if due else 1.0


def backtest(
    scenario: Scenario,
    entries: Sequence[Entry],
    snapshot: Snapshot,
    *,
    n: int,
    seed: int,
    focus: Sequence[str] = (),
) -> Backtest:
    """Replay ``entries`` (the whole record, current versions) day by day against
    ``scenario``, with one ensemble of ``n`` episodes (``seed``) over its priors.
    ``focus``: event names whose probability and Brier score are kept for each day
    (besides ``extensions_at_least:2`` where the terms allow it)."""
    agreement = scenario.agreement
    if agreement is None:
        raise NowcastError("the scenario has no agreement: there is nothing to backtest")
    if n < 1:
        raise NowcastError("a backtest needs at least one episode")
    dates = record_dates(entries)
    if not dates:
        raise NowcastError("the record holds no observations: there is nothing to replay")
    from ..ensemble import run_ensemble

    result = run_ensemble(scenario, n, seed)
    events, counts = ensemble_quantities(scenario, result)
    full = compliance(scenario, entries, snapshot)
    prior = Forecast.from_samples(
        scenario, events=events, counts=counts, seeds=[], issued_at=dates[0],
        source=f"ensemble of {n} episodes over the priors", method="ensemble",
        seed=seed, members=n,
    )  # fmt: skip
    prior_scores = score_forecast(prior, full, entries)
    _, realised, _, _ = observed_quantities(full, entries, list(events))
    wanted = [*focus, *(["extensions_at_least:2"] if "extensions_at_least:2" in events else [])]
    days: list[BacktestDay] = []
    for date in dates:
        record = dated_until(entries, date)
        report = compliance(scenario, record, snapshot)
        seen_e, seen_c, _, _ = observed_quantities(report, record, list(events))
        settled = {*seen_e, *seen_c}
        made: dict[str, Forecast] = {"prior": prior}
        note = ""
        kept = 0
        try:
            keep, _ = match_record(events, counts, report, record, date=date, seed=seed)
            kept = int(keep.sum())
            made["nowcast"] = Forecast.from_samples(
                scenario,
                events={k: v[keep] for k, v in events.items()},
                counts={k: v[keep] for k, v in counts.items()},
                seeds=[], issued_at=date, method="nowcast", seed=seed, members=kept,
                source=f"nowcast on {date}: {kept} of {n} episodes match the record",
            )  # fmt: skip
        except NowcastError as exc:
            note = str(exc)
        made["naive"] = naive_forecast(scenario, prior, entries, snapshot, date)
        scored = {m: prior_scores if m == "prior" else score_forecast(f, full, entries)
                  for m, f in made.items()}  # fmt: skip
        days.append(_day(date, len(record), settled, kept, note, made, scored, wanted))
    return Backtest(
        scenario=scenario.name,
        scenario_hash=prior.scenario_hash,
        drawn=n,
        seed=seed,
        realised=dict(sorted(realised.items())),
        days=days,
    )


def _day(
    date: str,
    observations: int,
    settled: set[str],
    kept: int,
    note: str,
    made: dict[str, Forecast],
    scored: dict[str, Scores],
    wanted: Sequence[str],
) -> BacktestDay:
    brier: dict[str, float | None] = {}
    crps: dict[str, float | None] = {}
    focus_events: dict[str, dict[str, float]] = {}
    focus_counts: dict[str, dict[str, float]] = {}
    open_names: set[str] = set()
    for method in METHODS:
        if method not in scored:
            brier[method] = crps[method] = None
            continue
        rows = [r for r in scored[method].rows if r.quantity not in settled]
        open_names |= {r.quantity for r in rows}
        ev = [r.score for r in rows if r.kind == "event"]
        co = [r.score for r in rows if r.kind == "count"]
        brier[method] = float(np.mean(ev)) if ev else None
        crps[method] = float(np.mean(co)) if co else None
        for r in scored[method].rows:
            if r.kind == "event" and r.quantity in wanted:
                p = made[method].probability(r.quantity)
                focus_events.setdefault(r.quantity, {})[f"{method}_p"] = p
                focus_events[r.quantity][f"{method}_brier"] = r.score
            elif r.kind == "count":
                focus_counts.setdefault(r.quantity, {})[method] = r.score
    fans: dict[str, list[float]] = {}
    source = made.get("nowcast")
    if source is not None:
        for name, values in source.counts.items():
            arr = np.asarray(values)
            fans[name] = [float(np.quantile(arr, q, method="inverted_cdf")) for q in FAN]
    return BacktestDay(
        date=date,
        observations=observations,
        settled=len(settled),
        kept=kept,
        note=note,
        open_quantities=len(open_names),
        brier=brier,
        crps=crps,
        focus_events=focus_events,
        focus_counts=focus_counts,
        fans=fans,
    )
