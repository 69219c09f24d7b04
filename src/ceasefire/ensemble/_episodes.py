"""An ensemble's episodes on the compiled kernel, batch by batch.

Episode ``i`` of an ensemble with seed ``s`` is the engine's episode on draw ``i`` of
the priors with the stream ``SeedSequence(s, spawn_key=(i, 1))``: exactly
``run_draw(scenario, s, i)``, the kernel being the same functions, compiled
(``_compiled``). A batch:

1. draws each episode's uniforms for the priors (stream ``(i, 0)``, one per prior in
   file order) and maps them through the priors' quantile functions (``_draws``);
2. sets each episode's parameters: the scenario's numbers, with every prior's target
   replaced by its draw (as ``with_values`` does to the scenario);
3. runs the episodes in parallel and keeps what each gave.

:class:`Batches` holds what is the same for every batch (picklable, so that the
``processes`` and ``ray`` backends can run batches anywhere).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..engine import (
    P_FIGHTING_DAY,
    P_PAUSE_DAY,
    P_PRESSURE,
    P_REFUSAL,
    P_RESERVATION,
    Params,
    Plan,
    build_plan,
    plan_arrays,
    point_params,
    seed_words,
)
from ..engine import slots as S
from ..scenario import (
    DelayProbabilityPrior,
    HoldingPrior,
    IssueWeightPrior,
    PressurePrior,
    RefusalProbabilityPrior,
    RelayDelayPrior,
    ReservationPrior,
    Scenario,
    ValuePrior,
)
from . import _compiled as C
from ._draws import quantile

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
U64 = NDArray[np.uint64]

BATCH_SIZE = 50_000
# Room for the deals of an episode before a batch is run again with more.
DEALS = 4
TERMS = ("receive", "give")


class Batches:
    """The scenario prepared once for every batch of its ensemble."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        plan = self.plan = build_plan(scenario)
        self.parties = plan.parties
        self.talks = scenario.negotiation is not None
        a = scenario.agreement
        t = scenario.negotiation.template if scenario.negotiation is not None else None
        columns: list[tuple[str, str]] = []
        if a is not None:
            columns += [(a.batches.releaser, c) for c in a.batches.categories]
            columns += [(a.exchange.releaser, c) for c in a.exchange.categories]
        if t is not None:
            columns += [(t.batches_releaser, c) for c in t.categories]
            columns += [(t.exchange_releaser, c) for c in t.exchange_categories]
        self.release_columns = tuple(dict.fromkeys(columns))
        side: list[str] = []
        for sc in scenario.side_channels:
            for r in sc.releases:
                if r.category not in side:
                    side.append(r.category)
        self.side_categories = tuple(sorted(side))
        self.width = _extension_width(scenario, plan)
        pi = {p: i for i, p in enumerate(plan.parties)}
        ci = {c: i for i, c in enumerate(plan.categories)}
        self.released_party = np.array([pi[p] for p, _ in self.release_columns], dtype=np.int64)
        self.released_category = np.array([ci[c] for _, c in self.release_columns], dtype=np.int64)
        self.side_index = np.array([ci[c] for c in self.side_categories], dtype=np.int64)
        # The kernel's plan for each room of extensions and deals, made once.
        self._arrays: dict[tuple[int, int], S.PlanArrays] = {}
        self._point: Params | None = None
        # The parameter arrays the priors write into, reused from batch to batch (each
        # batch's are read by its kernel call only): no fresh pages to fault in each time.
        self._drawn: dict[str, NDArray[Any]] = {}

    def __getstate__(self) -> dict[str, Any]:
        # What a batch elsewhere needs; the caches are rebuilt there.
        return {**self.__dict__, "_arrays": {}, "_point": None, "_drawn": {}}

    def point(self, count: int) -> Params:
        """The scenario's own numbers for ``count`` episodes: views of rows made once
        (at the largest batch yet), not to be written."""
        if self._point is None or len(self._point) < count:
            self._point = point_params(self.plan, count)
        p = self._point
        return Params(
            holdings=p.holdings[:count],
            relay_delay=p.relay_delay[:count],
            party=p.party[:count],
            flows=p.flows[:count],
            issue_weight=p.issue_weight[:count],
            delay_probability=p.delay_probability[:count],
        )

    def params(self, drawn: list[NDArray[Any]], count: int) -> Params:
        """The parameters of ``count`` episodes whose priors drew ``drawn[j]``: the
        scenario's numbers, each array a prior writes into copied first."""
        plan, s = self.plan, self.scenario
        point = self.point(count)
        out = Params(**{name: getattr(point, name) for name in _PARAMS})
        for name in {name for prior in s.priors for name in _WRITES[type(prior)]}:
            source = getattr(point, name)
            room = self._drawn.get(name)
            if room is None or room.shape[0] < count:
                room = self._drawn[name] = np.empty_like(source)
            setattr(out, name, room[:count])
            np.copyto(room[:count], source)
        pi = {p: i for i, p in enumerate(plan.parties)}
        ci = {c: i for i, c in enumerate(plan.categories)}
        ki = {k: i for i, k in enumerate(plan.custodies)}
        mi = {m: i for i, m in enumerate(plan.mediators)}
        issues = {k: i for i, k in enumerate(plan.issues)}
        for prior, values in zip(s.priors, drawn, strict=True):
            if isinstance(prior, HoldingPrior):
                # Every holding of the key takes the drawn count.
                times = sum(
                    1
                    for h in s.holdings
                    if (h.holder, h.category, h.custody)
                    == (prior.holder, prior.category, prior.custody)
                )
                if times:
                    h, c, k = pi[prior.holder], ci[prior.category], ki[prior.custody]
                    out.holdings[:, h, c, k] = values.astype(np.int64) * times
            elif isinstance(prior, RelayDelayPrior):
                out.relay_delay[:, mi[prior.mediator]] = values.astype(np.int64)
            elif isinstance(prior, PressurePrior):
                out.party[:, P_PRESSURE, pi[prior.party]] = values
            elif isinstance(prior, ReservationPrior):
                out.party[:, P_RESERVATION, pi[prior.party]] = values
            elif isinstance(prior, IssueWeightPrior):
                out.issue_weight[:, pi[prior.party], issues[prior.issue]] = values
            elif isinstance(prior, ValuePrior):
                p = pi[prior.party]
                if prior.term in TERMS and prior.category is not None:
                    out.flows[:, TERMS.index(prior.term), p, ci[prior.category]] = values
                elif prior.term == "pause_day":
                    out.party[:, P_PAUSE_DAY, p] = values
                elif prior.term == "fighting_day":
                    out.party[:, P_FIGHTING_DAY, p] = values
            elif isinstance(prior, DelayProbabilityPrior):
                out.delay_probability[:] = values
            elif isinstance(prior, RefusalProbabilityPrior):
                out.party[:, P_REFUSAL, pi[prior.party]] = values
        return out

    def run(
        self,
        seed: int,
        indices: U64,
        uniforms: F64 | None = None,
    ) -> dict[str, NDArray[Any]]:
        """The episodes ``indices`` (their episode streams), drawing their priors from
        their prior streams, or from ``uniforms[:, j]`` when given (a design of
        experiments)."""
        s = self.scenario
        words = seed_words(seed)
        count = indices.size
        if uniforms is None:
            if s.priors and count:
                with C.quiet_compiler():
                    uniforms = C.prior_uniforms(words, indices, len(s.priors))
            else:
                uniforms = np.zeros((count, len(s.priors)))
        drawn = [quantile(p.distribution, uniforms[:, j]) for j, p in enumerate(s.priors)]
        priors = np.zeros((count, len(s.priors)))
        for j, values in enumerate(drawn):
            priors[:, j] = values
        params = self.params(drawn, count)
        order = self.order(drawn, count)
        width = self.width if not self.talks else 4
        deals = DEALS if self.talks else 0
        while True:
            out = self._simulate(words, indices, params, width, deals, order)
            more_ext = int(out["n_extensions"].max(initial=0))
            more_deals = int(out["n_deals"].max(initial=0))
            if more_ext <= width and more_deals <= deals:
                break
            width, deals = max(width, more_ext), max(deals, more_deals)
        del out["n_extensions"], out["n_deals"]
        out["priors"] = priors
        return out

    def order(self, drawn: list[NDArray[Any]], count: int) -> NDArray[np.int64]:
        """The order the kernel takes the episodes in (their results do not depend on
        it): with talks, sorted by the draws of the priors the table of outcomes is
        built from (holdings, flow values, issue weights), so that episodes with the
        same table follow one another and it is built once (``engine.table``)."""
        keys = [
            values
            for prior, values in zip(self.scenario.priors, drawn, strict=True)
            if isinstance(prior, HoldingPrior | IssueWeightPrior)
            or (isinstance(prior, ValuePrior) and prior.term in TERMS)
        ]
        if not self.talks or not keys:
            return np.arange(count, dtype=np.int64)
        return np.lexsort(keys).astype(np.int64)

    def _simulate(
        self,
        words: U64,
        indices: U64,
        params: Params,
        width: int,
        deals: int,
        order: NDArray[np.int64],
    ) -> dict[str, NDArray[Any]]:
        count = indices.size
        arrays = self._arrays.get((width, deals))
        if arrays is None:
            arrays = self._arrays[width, deals] = plan_arrays(self.plan, width, deals)
        results = np.zeros((count, C.N_RESULTS), dtype=np.int64)
        extensions = np.full((count, width), -1, dtype=np.int64)
        released = np.zeros((count, self.released_party.size), dtype=np.int64)
        side = np.zeros((count, self.side_index.size), dtype=np.int64)
        deal_i = np.full((count, deals, 4), -1, dtype=np.int64)
        deal_f = np.full((count, deals, 2), np.nan)
        if count:
            with C.quiet_compiler():
                C.simulate(
                    arrays,
                    words,
                    indices,
                    params.holdings,
                    params.relay_delay,
                    params.party,
                    params.flows,
                    params.issue_weight,
                    params.delay_probability,
                    self.released_party,
                    self.released_category,
                    self.side_index,
                    results,
                    extensions,
                    released,
                    side,
                    deal_i,
                    deal_f,
                    order,
                    max(1, min(count, 64)),
                )
        n_ext = results[:, C.R_EXTENSIONS]
        n_deals = results[:, C.R_DEALS]
        if self.talks:
            used = int(n_ext.max(initial=0))
            extensions = extensions[:, :used]
            used = int(n_deals.max(initial=0))
            deal_i, deal_f = deal_i[:, :used], deal_f[:, :used]
        out: dict[str, NDArray[Any]] = {
            "pause_days": results[:, C.R_PAUSE_DAYS],
            "fighting_days": results[:, C.R_FIGHTING_DAYS],
            "extensions": extensions,
            "released": released,
            "side_channel": side,
            "end_reason": results[:, C.R_END_REASON],
            "end_day": results[:, C.R_END_DAY],
            "ended_by": results[:, C.R_ENDED_BY],
            "pause_start_day": results[:, C.R_PAUSE_START],
            "pause_end_day": results[:, C.R_PAUSE_END],
            "breaches": results[:, C.R_BREACHES],
            "delays": results[:, C.R_DELAYS],
            "n_extensions": n_ext,
            "n_deals": n_deals,
        }
        if self.talks:
            out |= {
                "agreement_day": deal_i[:, :, S.D_DAY],
                "agreement_round": deal_i[:, :, S.D_ROUND],
                "agreement_outcome": deal_i[:, :, S.D_OUTCOME],
                "agreement_via": deal_i[:, :, S.D_VIA],
                "agreement_values": deal_f,
                "talk_rounds": results[:, C.R_TALK_ROUNDS],
            }
        return out


# The parameter arrays, and the one each kind of prior writes into.
_PARAMS = ("holdings", "relay_delay", "party", "flows", "issue_weight", "delay_probability")
_WRITES: dict[type, tuple[str, ...]] = {
    HoldingPrior: ("holdings",),
    RelayDelayPrior: ("relay_delay",),
    PressurePrior: ("party",),
    ReservationPrior: ("party",),
    RefusalProbabilityPrior: ("party",),
    IssueWeightPrior: ("issue_weight",),
    ValuePrior: ("party", "flows"),
    DelayProbabilityPrior: ("delay_probability",),
}


def _extension_width(scenario: Scenario, plan: Plan) -> int:
    """Room for an execution-mode episode's extensions: one a day at most, after the
    initial days, within the cap on total days."""
    a = scenario.agreement
    if a is None:
        return 1
    start_day = (a.start - scenario.calendar.start).days
    width = max(1, plan.n_days - start_day - a.initial_days + 1)
    rule = a.extension
    if rule is not None and rule.max_total_days is not None:
        width = max(1, min(width, (rule.max_total_days - a.initial_days) // rule.step_days))
    return width


def run_batch(batches: Batches, seed: int, first: int, count: int) -> dict[str, NDArray[Any]]:
    """Episodes ``first..first+count-1``: the unit a backend runs, here or elsewhere."""
    return batches.run(seed, np.arange(first, first + count, dtype=np.uint64))
