"""The monitoring page's work: the ledger (the ``--db`` the app was started with) as
known on a date, compliance with a scenario's agreement day by day, and observations
added, corrected or retracted from forms (the ledger is append-only: a correction or a
retraction is a new entry, the history stays).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from markupsafe import Markup
from pydantic import ValidationError

from ceasefire.monitor import (
    KINDS,
    RELIABILITY,
    SOURCE_KINDS,
    Entry,
    MonitorError,
    Observation,
    Scores,
    Source,
    StoreError,
    compliance,
    due_done_charts,
    ensemble_forecast,
    open_store,
    score_forecast,
)
from ceasefire.scenario import Problem, Scenario

# The forecast beside the ledger: an ensemble over the scenario's priors, as
# `ceasefire monitor forecast` makes it by default.
FORECAST_EPISODES = 1000
FORECAST_SEED = 0
FIELDS = (
    "date",
    "kind",
    "from_party",
    "to_party",
    "channel",
    "category",
    "count",
    "note",
    "source_text",
    "source_kind",
    "reliability",
)


class FormError(Exception):
    """A form was refused; ``problems`` say which field and why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def _problem(field: str, message: str) -> Problem:
    return Problem("form", None, None, field, message)


def parse_as_of(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise FormError(
            [_problem("as_of", f"not a date: {text!r:.40}; write YYYY-MM-DD")]
        ) from None


def ledger_view(db: Path, scenario: Scenario, as_of: dt.date | None) -> dict[str, Any]:
    """The observations as known on ``as_of`` (end of that day, UTC; None: now), and the
    compliance report of ``scenario``'s agreement against them."""
    with open_store(db) as store:
        snapshot, current = store.view(as_of=as_of)
        categories = sorted(store.categories())
    report = None
    if scenario.agreement is not None:
        report = compliance(
            scenario, current, snapshot, as_of=None if as_of is None else as_of.isoformat()
        )
    charts = [] if report is None else due_done_charts(report)
    return {
        "snapshot": snapshot,
        "observations": current,
        "report": report,
        # (id, spec as JSON text, static SVG drawn by ceasefire.outputs: escaped there)
        "due_done": [(i, json.dumps(spec), Markup(svg)) for i, spec, svg in charts if spec],
        "categories": categories,
        "kinds": KINDS,
        "source_kinds": SOURCE_KINDS,
        "reliability": RELIABILITY,
    }


def forecast_scores(db: Path, scenario: Scenario, as_of: dt.date | None) -> Scores | None:
    """A forecast made now from ``scenario`` (an ensemble of ``FORECAST_EPISODES``
    episodes over its priors, seed ``FORECAST_SEED``) scored against the observations as
    known on ``as_of``; None without an agreement."""
    if scenario.agreement is None:
        return None
    with open_store(db) as store:
        snapshot, current = store.view(as_of=as_of)
    report = compliance(
        scenario, current, snapshot, as_of=None if as_of is None else as_of.isoformat()
    )
    issued = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    made = ensemble_forecast(scenario, FORECAST_EPISODES, FORECAST_SEED, issued_at=issued)
    return score_forecast(made, report, current)


def warm_up() -> None:
    """Import the scoring package (seconds, once) before the first forecast asks for it."""
    import scoringrules  # noqa: F401


def _refused(exc: ValidationError) -> FormError:
    problems = []
    for error in exc.errors(include_url=False):
        field = ".".join(str(p) for p in error["loc"])
        field = {"source.text": "source_text", "source.kind": "source_kind"}.get(field, field)
        problems.append(_problem(field, str(error["msg"])))
    return FormError(problems)


def _observation(data: dict[str, Any], form: Mapping[str, str]) -> Observation:
    """``data`` (an observation's fields) with the non-blank fields of ``form`` applied."""
    given = {k: form[k].strip() for k in FIELDS if form.get(k, "").strip()}
    for key in ("date", "kind", "from_party", "to_party", "channel", "note"):
        if key in given:
            data[key] = given[key]
    if "category" in given or "count" in given:
        counts = data.get("counts") or [{}]
        if len(counts) != 1 and "category" not in given:
            raise FormError([_problem("category", "give the category: there are several counts")])
        count: Any = given.get("count", counts[0].get("count"))
        if isinstance(count, str):
            try:
                count = int(count)
            except ValueError:
                raise FormError([_problem("count", f"not a whole number: {count!r:.40}")]) from None
        data["counts"] = [
            {"category": given.get("category", counts[0].get("category")), "count": count}
        ]
    source = dict(data.get("source") or {})
    if "source_text" in given or "source_kind" in given or "reliability" in given:
        text = str(given.get("source_text") or source.get("text") or "")
        kind = str(given.get("source_kind") or source.get("kind") or "")
        try:
            data["source"] = Source.from_text(
                text, kind, given.get("reliability", source.get("reliability"))
            ).model_dump(mode="json")
        except ValidationError as exc:
            raise _refused(exc) from None
    try:
        return Observation.model_validate(data)
    except ValidationError as exc:
        raise _refused(exc) from None


def _reason(form: Mapping[str, str]) -> str:
    reason = form.get("reason", "").strip()
    if not reason:
        raise FormError([_problem("reason", "give the reason (it is kept with the entry)")])
    return reason


def _expect(form: Mapping[str, str]) -> int | None:
    text = form.get("expect", "").strip()
    return int(text) if text.isdigit() else None


def add(db: Path, form: Mapping[str, str]) -> Entry:
    """Record a new observation from the form."""
    for key in ("date", "kind", "category", "count", "source_text", "source_kind"):
        if not form.get(key, "").strip():
            raise FormError([_problem(key, "required")])
    observation = _observation({"channel": "deal"}, form)
    return _write(
        db,
        lambda store: store.record(
            [observation], origin="add", description="added in ceasefire serve"
        )[0],
    )


def correct(db: Path, form: Mapping[str, str]) -> Entry:
    """Record a new version of an observation: the form's non-blank fields replace the
    current version's."""
    obs_id = form.get("obs_id", "").strip()
    reason = _reason(form)

    def work(store: Any) -> Entry:
        head = store.history(obs_id)[-1]
        if head.observation is None:
            raise FormError([_problem("obs_id", f"{obs_id} is retracted; add it anew instead")])
        data = head.observation.model_dump(mode="json")
        observation = _observation(data, form)
        entry: Entry = store.correct(obs_id, observation, reason, expect=_expect(form))
        return entry

    return _write(db, work)


def retract(db: Path, form: Mapping[str, str]) -> Entry:
    """Withdraw an observation (a new entry; its history stays)."""
    obs_id = form.get("obs_id", "").strip()
    reason = _reason(form)
    return _write(db, lambda store: store.retract(obs_id, reason, expect=_expect(form)))


def _write(db: Path, work: Any) -> Entry:
    try:
        with open_store(db) as store:
            entry: Entry = work(store)
            return entry
    except MonitorError as exc:
        raise FormError(exc.problems) from None
    except StoreError as exc:
        raise FormError([_problem("", str(exc))]) from None
