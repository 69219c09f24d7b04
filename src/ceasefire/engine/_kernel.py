"""The episode kernel: one episode, day by day. Every rule of the dynamics is here once.

Longer than most modules (about 700 lines) on purpose: the day loop and every rule of
a pause, in the order of the loop, so that they read top to bottom as the specification
does; the talks' rules are in ``_negotiation`` and ``_table``.

Read :func:`run_episode` first: it is the whole day loop. Once nothing but fighting
can happen any more (``quiet``), the rest of the horizon is days of fighting
(``fight_out``). Until then, each day:

1. dated events change holdings, custody, values or pressure (``apply_events``);
2. on the agreement's start date the pause begins (``start_pause``);
3. talks open on their date, while no pause holds or where the talks may go on during
   one (``open_talks``);
4. the day is a day of pause or of fighting (``record_day``); the agreement's
   obligations beyond captives fall due (``obligations``);
5. side channels make the releases dated that day (``side_channels``);
6. while the agreement is in force, its dated hand-overs of the day, each with its own
   composition (``dated_handovers``); else, during a pause, the day's batch is asked
   for: the holder releases captives of the eligible categories in its reach, or the
   day is a breach (``ask_for_batch``); during talks, the day's acts (``talk``, in
   ``_negotiation``), during a pause too where the talks may go on during one: an outcome
   agreed then is the next phase;
7. hand-overs the mediator has verified bring the counter-releases, by the terms or by
   the hand-over's own (``verify_handovers``); then the counter-releases the terms fix
   on the day (``dated_counter_releases``); a postponement moves either to its later
   day;
8. on the last paid-for day, the extension rule: the holder offers the next batch it is
   able and willing to give, the other side accepts if it values the extension above
   resuming fighting; otherwise the phase is over (``phase_over``): the next phase
   agreed in talks takes over, or the pause holds on while talks on it go on (a
   continuation clause, ``hold_on``), or it ends; a one-off exchange ends when its last
   hand-over is made (``exchange_done``).

The functions are plain Python over the flat state of ``_state`` (arrays with named
slots). A single run calls them as they are, with the event log on (``_episode``); an
ensemble calls the same functions compiled by numba, many episodes in parallel, with
the log off (``ceasefire.ensemble``). Random draws come only from the episode's own
stream, in a fixed order: per pause day one for a delayed hand-over and ``1 +
cure_attempts`` for the batch (when it can be made; with dated hand-overs, the same on
each hand-over's day only), as many for each verified hand-over with counter-releases
due and for each dated counter-release, one per act of the talks.
"""

from __future__ import annotations

import numpy as np

from ._custody import allocate, eligible, in_reach, take
from ._jit import inline, kernel
from ._log import (
    AGREEMENT,
    BREACH,
    COUNTER_RELEASE,
    CURED,
    DELAY,
    EPISODE_END,
    EVENT,
    EXTENSION,
    EXTENSION_ACCEPT,
    EXTENSION_DECLINE,
    EXTENSION_OFFER,
    FLOW,
    HOLDS_ON,
    IN_FORCE,
    OBLIGATION_DUE,
    PAIRS,
    PAUSE_END,
    PHASE_DECISION,
    PHASE_END,
    POSTPONED,
    REFUSAL,
    RELEASE_BATCH,
    SIDE_RELEASE,
    SIDE_SHORTFALL,
    TALKS_END,
    VERIFIED,
    WRITTEN_PHASE,
    record,
)
from ._negotiation import DEAL, GOING_ON, open_talks, record_deal, talk_step
from ._plan import (
    AG_BSPLIT,
    AG_CATS,
    AG_CONDITIONAL,
    AG_CURES,
    AG_DATED,
    AG_DAYS,
    AG_HAS_EXT,
    AG_HOLD_LIMIT,
    AG_HOLD_ON,
    AG_HOLDER,
    AG_LIMIT_DAYS,
    AG_MAX_DAYS,
    AG_MEDIATOR,
    AG_NB,
    AG_NX,
    AG_ONE_OFF,
    AG_OTHER,
    AG_PER_STEP,
    AG_PROPOSER,
    AG_START,
    AG_STEP_DAYS,
    AG_TERMS,
    AG_TOTAL,
    AG_XSPLIT,
    EV_CUSTODY,
    EV_DELAY,
    EV_HOLDINGS,
    EV_PRESSURE,
    EV_VALUE,
    P_FIGHTING_DAY,
    P_PAUSE_DAY,
    P_PRESSURE,
    PROPOSED_BY_HOLDER,
    PROPOSED_BY_OTHER,
    TERM_FIGHTING_DAY,
    TERM_GIVE,
    TERM_PAUSE_DAY,
    TERM_RECEIVE,
)
from ._rng import chance, owe
from ._state import (
    END_AGREED,
    END_BREACH,
    END_CAP,
    END_COMPLETED,
    END_DECLINED,
    END_HELD_ON_ENDED,
    END_HORIZON,
    END_NO_AGREEMENT,
    END_NO_ELIGIBLE,
    END_NOT_STARTED,
    END_TALKS_DEADLINE,
    END_TALKS_ONGOING,
    F64,
    I64,
    NO_AGREEMENT,
    S_AGREEMENT,
    S_BREACHES,
    S_DAY,
    S_DEALS,
    S_DELAYS,
    S_DUE_HEAD,
    S_DUE_LEN,
    S_END_BY,
    S_END_DAY,
    S_END_REASON,
    S_EXTENSIONS,
    S_FIGHTING_DAYS,
    S_GRANTED,
    S_HELD,
    S_HELD_ON,
    S_IN_FORCE,
    S_NEXT_PHASE,
    S_NEXT_TALKS,
    S_PAUSE,
    S_PAUSE_DAYS,
    S_PAUSE_END,
    S_PAUSE_START,
    S_PENDING,
    S_ROUNDS,
    S_STARTED,
    S_TALK_ROUNDS,
    S_TALKS,
    S_VERSION,
    SCENARIO_AGREEMENT,
    T_DURING,
    T_MEDIATOR,
    T_RESTART,
    T_START,
    T_TEMPLATE,
    Z_DAYS,
    Z_NEUMAIER,
    PlanArrays,
    State,
)

# Ledger flows and modes (FLOW records).
FIGHTING, PAUSE = 0, 1
DAY_FLOW, RELEASE_FLOW, COUNTER_FLOW, SIDE_FLOW, OBLIGATION_FLOW = range(5)
DEAL_CHANNEL, NO_CHANNEL = -2, -1
# Breach details, and what a party refuses.
SHORT_BATCH, SHORT_COUNTER, REFUSED = range(3)
BATCH, COUNTER = 0, 1
# The extension rule's answer when the pause is extended (else an END_* reason).
EXTENDED = -1


@inline
def run_episode(plan: PlanArrays, st: State) -> None:
    """The day loop. Inlined into the ensemble's loop over episodes: a call would pass
    every array of the plan and the state, one by one, for each episode."""
    si = st.si
    for day in range(plan.sizes[Z_DAYS]):
        si[S_DAY] = day
        if quiet(plan, st):
            fight_out(plan, st)
            break
        apply_events(plan, st)
        if si[S_AGREEMENT] != NO_AGREEMENT and day == st.ag[AG_START] and si[S_STARTED] == 0:
            start_pause(plan, st)
        if (
            si[S_TALKS] == 0
            and day == si[S_NEXT_TALKS]
            and (si[S_PAUSE] == 0 or plan.talks[T_DURING] == 1)
        ):
            open_talks(plan, st)
        record_day(plan, st)
        obligations(plan, st)
        side_channels(plan, st)
        if si[S_IN_FORCE] == 1 and st.ag[AG_DATED] == 1:
            dated_handovers(plan, st)
        elif si[S_PAUSE] == 1 and si[S_HELD_ON] < 0:
            ask_for_batch(plan, st)
        if si[S_TALKS] == 1 and (si[S_PAUSE] == 0 or plan.talks[T_DURING] == 1):
            talk(plan, st)
        verify_handovers(plan, st)
        dated_counter_releases(plan, st)
        if si[S_PAUSE] == 1 and si[S_DUE_LEN] == 0:
            end_of_period(plan, st)
        elif si[S_IN_FORCE] == 1 and st.ag[AG_ONE_OFF] == 1 and exchange_done(plan, st):
            end_pause(plan, st, END_COMPLETED, -1, 0, 0, 0)
    finish(plan, st)


# -- the rules of a day, in the order of the loop ------------------------------------


@inline
def quiet(plan: PlanArrays, st: State) -> bool:
    """Whether nothing but fighting can happen from today on: no pause or talks on, none
    to come (no agreement waiting for its start, no talks to open), no hand-over waiting
    for its verification, no dated event or side channel ahead."""
    si = st.si
    day = si[S_DAY]
    if si[S_PAUSE] == 1 or si[S_IN_FORCE] == 1 or si[S_TALKS] == 1 or si[S_NEXT_TALKS] >= day:
        return False
    if si[S_AGREEMENT] != NO_AGREEMENT and si[S_STARTED] == 0 and st.ag[AG_START] >= day:
        return False
    for v in range(si[S_PENDING]):
        if st.pending_day[v] >= day:
            return False
    events, side = plan.events, plan.side
    for j in range(events.shape[0]):
        if events[j, 0] >= day:
            return False
    for j in range(side.shape[0]):  # noqa: SIM110 - a loop numba compiles
        if side[j, 0] >= day and side[j, 5] == 0:
            return False
    return True


@inline
def fight_out(plan: PlanArrays, st: State) -> None:
    """The rest of the horizon when it is quiet: days of fighting, each recorded. With the
    log off and no pressure on either side such a day only counts."""
    si = st.si
    days = plan.sizes[Z_DAYS]
    if st.log_i.shape[0] == 0 and no_pressure(st):
        si[S_FIGHTING_DAYS] += days - si[S_DAY]
        si[S_DAY] = days - 1
        return
    for day in range(si[S_DAY], days):
        si[S_DAY] = day
        record_day(plan, st)


@inline
def no_pressure(st: State) -> bool:
    """Whether a day of fighting costs neither side anything (its pressure is 0)."""
    pf = st.party
    for p in range(pf.shape[1]):  # noqa: SIM110 - a loop numba compiles
        if pf[P_PRESSURE, p] != 0.0:
            return False
    return True


@inline
def apply_events(plan: PlanArrays, st: State) -> None:
    """The day's dated events, in the scenario's order."""
    si = st.si
    events, change = plan.events, plan.event_change
    hold, pf, flows = st.hold, st.party, st.flows
    for j in range(events.shape[0]):
        if events[j, 0] != si[S_DAY]:
            continue
        kind, a, b, c = events[j, 1], events[j, 2], events[j, 3], events[j, 4]
        if kind == EV_HOLDINGS:
            before = hold[a, b, c]
            hold[a, b, c] = max(0, before + events[j, 5])
            log(st, EVENT, j, hold[a, b, c] - before, 0, 0, 0)
        elif kind == EV_CUSTODY:
            st.reach[a] = b
            log(st, EVENT, j, 0, 0, 0, 0)
        elif kind == EV_VALUE:
            if c == TERM_RECEIVE and b >= 0:
                flows[0, a, b] += change[j]
            elif c == TERM_GIVE and b >= 0:
                flows[1, a, b] += change[j]
            elif c == TERM_PAUSE_DAY:
                pf[P_PAUSE_DAY, a] += change[j]
            elif c == TERM_FIGHTING_DAY:
                pf[P_FIGHTING_DAY, a] += change[j]
            log(st, EVENT, j, 0, 0, 0, 0)
        elif kind == EV_PRESSURE:
            pf[P_PRESSURE, a] += change[j]
            row = log(st, EVENT, j, 0, 0, 0, 0)
            if row >= 0:
                st.log_f[row, 0] = pf[P_PRESSURE, a]
        elif kind == EV_DELAY:
            si[S_DELAYS] += 1
            log(st, DELAY, j, a, 0, 0, 0)
        if kind != EV_DELAY:
            si[S_VERSION] += 1


@inline
def start_pause(plan: PlanArrays, st: State) -> None:
    """The agreement comes into force: the pause begins with its initial batches."""
    si, ag, due = st.si, st.ag, st.due
    if si[S_AGREEMENT] < NO_AGREEMENT:
        load_written(plan, st)
    si[S_STARTED] = 1
    si[S_IN_FORCE] = 1
    if ag[AG_ONE_OFF] == 1:  # a one-off exchange: its hand-overs, without a pause
        log(st, IN_FORCE, si[S_AGREEMENT], 0, 0, 0, 0)
        return
    si[S_PAUSE] = 1
    si[S_GRANTED] = ag[AG_DAYS]
    si[S_HELD] = 0
    si[S_HELD_ON] = -1
    si[S_DUE_HEAD] = 0
    if si[S_AGREEMENT] == SCENARIO_AGREEMENT:
        initial = plan.due
        for j in range(initial.size):
            due[j] = initial[j]
        si[S_DUE_LEN] = initial.size
    elif si[S_AGREEMENT] < NO_AGREEMENT:  # a phase written in the agreement: its batches
        row = plan.phases[NO_AGREEMENT - 1 - si[S_AGREEMENT]]
        for j in range(ag[AG_DAYS]):
            due[j] = row[ag.size + j]
        si[S_DUE_LEN] = ag[AG_DAYS]
    else:
        per_day = int(plan.grid_per_day[si[S_AGREEMENT]])
        for j in range(ag[AG_DAYS]):
            due[j] = per_day
        si[S_DUE_LEN] = ag[AG_DAYS]
    if si[S_PAUSE_START] < 0:  # the summary names the first pause's start
        si[S_PAUSE_START] = si[S_DAY]
    log(st, IN_FORCE, si[S_AGREEMENT], 0, 0, 0, 0)


@inline
def record_day(plan: PlanArrays, st: State) -> None:
    """A day of pause or of fighting; each day of fighting costs each party its pressure."""
    si = st.si
    if si[S_PAUSE] == 1:
        si[S_HELD] += 1
        si[S_PAUSE_DAYS] += 1
        si[S_PAUSE_END] = si[S_DAY]
        flow(st, PAUSE, DAY_FLOW, NO_CHANNEL, -1, -1, -1, 1)
    else:
        si[S_FIGHTING_DAYS] += 1
        pf, cost = st.party, st.cost
        for p in range(cost.size):
            cost[p] += pf[P_PRESSURE, p]
        flow(st, FIGHTING, DAY_FLOW, NO_CHANNEL, -1, -1, -1, 1)


@inline
def obligations(plan: PlanArrays, st: State) -> None:
    """Obligations beyond captives: each day of the pause the counted ones are owed (a
    ledger row each, from the party owing to the other); a dated one's day is marked."""
    si = st.si
    owed = plan.obligations
    if owed.shape[0] == 0 or si[S_IN_FORCE] == 0 or not written(si):
        return
    for o in range(owed.shape[0]):
        party, per_day = owed[o, 0], owed[o, 1]
        if per_day > 0 and si[S_PAUSE] == 1:
            flow(st, PAUSE, OBLIGATION_FLOW, DEAL_CHANNEL, party, 1 - party, owed[o, 3], per_day)
        if owed[o, 2] == si[S_DAY]:
            log(st, OBLIGATION_DUE, o, party, 0, 0, 0)


@kernel
def obligation_values(plan: PlanArrays, st: State, party: int, days: int) -> float:
    """What ``days`` more of the pause's counted obligations are worth to ``party``: what
    it receives at its receive value, less what it owes at its give value."""
    owed = plan.obligations
    total = 0.0
    for o in range(owed.shape[0]):
        units = days * owed[o, 1]
        if units > 0:
            if owed[o, 0] == party:
                total -= units * st.flows[1, party, owed[o, 3]]
            else:
                total += units * st.flows[0, party, owed[o, 3]]
    return total


@inline
def side_channels(plan: PlanArrays, st: State) -> None:
    """Releases through side channels dated today, as far as they are in reach."""
    si = st.si
    side = plan.side
    hold, reach, order = st.hold, st.reach, plan.order
    for j in range(side.shape[0]):
        if side[j, 0] != si[S_DAY] or (side[j, 5] == 1 and si[S_PAUSE] == 0):
            continue
        releaser, category, count = side[j, 2], side[j, 3], side[j, 4]
        made = min(count, in_reach(hold, reach, order, releaser, category))
        if made:
            take(hold, reach, order, releaser, category, made)
            st.side_released[category] += made
            si[S_VERSION] += 1
            mode = PAUSE if si[S_PAUSE] == 1 else FIGHTING
            flow(st, mode, SIDE_FLOW, side[j, 1], releaser, -1, category, made)
            log(st, SIDE_RELEASE, j, made, 0, 0, 0)
        if made < count:
            log(st, SIDE_SHORTFALL, j, made, 0, 0, 0)


@inline
def ask_for_batch(plan: PlanArrays, st: State) -> None:
    """The day's batch: a drawn delay, then a breach if the holder has fewer eligible
    captives in reach than due, else its refusal draws (and cures); the batch is taken
    in the order of the eligible categories and waits for the mediator's verification."""
    si, ag = st.si, st.ag
    hold, reach, order = st.hold, st.reach, plan.order
    due = st.due[si[S_DUE_HEAD]]
    si[S_DUE_HEAD] += 1
    si[S_DUE_LEN] -= 1
    holder, other = ag[AG_HOLDER], ag[AG_OTHER]
    cats, nb = ag[AG_CATS:], ag[AG_NB]
    delayed = chance(st, st.agf[0])
    have = eligible(hold, reach, order, holder, cats, nb)
    if have < due:
        breach(plan, st, holder, SHORT_BATCH, have, due)
        return
    if not willing(plan, st, holder, BATCH):
        return
    if delayed:
        si[S_DELAYS] += 1
        log(st, DELAY, -1, holder, 0, 0, 0)
    batch = st.work
    allocate(hold, reach, order, holder, cats, nb, due, False, batch, st.work3)
    for j in range(nb):
        if batch[j]:
            take(hold, reach, order, holder, cats[j], batch[j])
            st.released[holder, cats[j]] += batch[j]
            flow(st, PAUSE, RELEASE_FLOW, DEAL_CHANNEL, holder, other, cats[j], batch[j])
    si[S_VERSION] += 1
    row = log(st, RELEASE_BATCH, holder, other, due, 0, 0)
    pairs(st, row, cats, batch, nb)
    if row >= 0:
        flow_values(plan, st, row, other, cats, batch, nb, holder, cats, batch, nb)
    await_verification(st, cats, batch, nb, -1)


@inline
def verify_handovers(plan: PlanArrays, st: State) -> None:
    """Hand-overs verified today bring their counter-releases (by the terms, or by the
    hand-over's own), after the same eligibility check and refusal draws for the other
    side; a postponement of the other side's releases moves them to its later day."""
    si, ag = st.si, st.ag
    if si[S_AGREEMENT] == NO_AGREEMENT:
        return
    other = ag[AG_OTHER]
    cats, nb = ag[AG_CATS:], ag[AG_NB]
    pending, released = st.pending, st.work
    for v in range(si[S_PENDING]):
        if st.pending_day[v] != si[S_DAY]:
            continue
        total = 0
        for j in range(nb):
            released[j] = pending[v, cats[j]]
            total += released[j]
        if st.pending_moved[v] == 0:
            row = log(st, VERIFIED, total, 0, 0, 0, 0)
            pairs(st, row, cats, released, nb)
        until = postponement(plan.postpone, si[S_DAY], other)
        if until >= 0:
            st.pending_day[v] = until
            st.pending_moved[v] = 1
            log(st, POSTPONED, other, COUNTER, st.pending_h[v], until, 0)
            continue
        st.pending_day[v] = -1
        h = st.pending_h[v]
        if h >= 0 and plan.handover_counter[h, 0] == 1:
            due = fixed_counter(plan, st, plan.handover_counter[h])
        else:
            due = counter_by_terms(plan, st, released)
        if due <= 0 or not willing(plan, st, other, COUNTER):
            continue
        counter_release(plan, st, due, 0)


@inline
def dated_counter_releases(plan: PlanArrays, st: State) -> None:
    """The counter-releases the scenario's terms fix on today's date (tied to no
    hand-over), while its agreement is in force: the eligibility check and refusal
    draws as for any counter-release; a postponement moves them to its later day."""
    si = st.si
    xdated = plan.xdated
    if si[S_IN_FORCE] == 0 or not written(si):
        return
    other = st.ag[AG_OTHER]
    for r in range(xdated.shape[0]):
        if st.xdated_day[r] != si[S_DAY]:
            continue
        until = postponement(plan.postpone, si[S_DAY], other)
        if until >= 0:
            st.xdated_day[r] = until
            log(st, POSTPONED, other, COUNTER, -2 - r, until, 0)
            continue
        due = fixed_counter(plan, st, xdated[r])
        if due > 0 and willing(plan, st, other, COUNTER):
            counter_release(plan, st, due, 1)
        if si[S_IN_FORCE] == 0:
            return


@inline
def counter_by_terms(plan: PlanArrays, st: State, released: I64) -> int:
    """The counter-releases the terms owe for ``released`` (``released[j]`` of the j-th
    batch category), worked out into ``st.counter`` on a copy of the other side's
    holdings (``st.hold2``): the ratios, drawn from the exchange's categories together,
    then (the scenario's own agreement) each list of the per-category terms, each on
    what the lists before it left. Their total; -1 after a breach (a list with fewer in
    reach than it owes)."""
    ag = st.ag
    other = ag[AG_OTHER]
    n_c = st.hold.shape[1]
    cats, nb = ag[AG_CATS:], ag[AG_NB]
    ratio = ag[AG_CATS + 2 * n_c :]
    start_counter(st, other)
    due = 0
    for j in range(nb):
        due += ratio[cats[j]] * released[j]
    total = draw_list(plan, st, ag[AG_CATS + n_c :], ag[AG_NX], due, ag[AG_XSPLIT] == 1)
    if total < 0 or ag[AG_TERMS] == 0:
        return total
    groups, rate = plan.groups, plan.group_rate
    for g in range(groups.shape[0]):
        owed = 0.0
        for j in range(nb):
            owed += rate[g, cats[j]] * released[j]
        got = draw_list(
            plan, st, groups[g, 2:], groups[g, 1], int(np.floor(owed + 0.5)), groups[g, 0] == 1
        )
        if got < 0:
            return -1
        total += got
    return total


@kernel
def fixed_counter(plan: PlanArrays, st: State, counts: I64) -> int:
    """Counter-releases of fixed counts (``counts[1 + c]`` of category c), worked out into
    ``st.counter``: their total; -1 after a breach (a category with fewer in reach)."""
    ag = st.ag
    other = ag[AG_OTHER]
    n_c = st.hold.shape[1]
    xcats, nx = ag[AG_CATS + n_c :], ag[AG_NX]
    hold2, reach, order = st.hold2, st.reach, plan.order
    start_counter(st, other)
    due, have, short = 0, 0, False
    for j in range(nx):
        c = xcats[j]
        k = counts[1 + c]
        if k:
            there = in_reach(hold2, reach, order, other, c)
            due += k
            have += min(there, k)
            short = short or there < k
    if short:
        breach(plan, st, other, SHORT_COUNTER, have, due)
        return -1
    for j in range(nx):
        c = xcats[j]
        k = counts[1 + c]
        if k:
            take(hold2, reach, order, other, c, k)
            st.counter[c] = k
    return due


@inline
def start_counter(st: State, other: int) -> None:
    """A counter-release is worked out from scratch, on a copy of the holdings."""
    hold, hold2 = st.hold, st.hold2
    for c in range(hold.shape[1]):
        st.counter[c] = 0
        for k in range(hold.shape[2]):
            hold2[other, c, k] = hold[other, c, k]


@inline
def draw_list(plan: PlanArrays, st: State, cats: I64, n: int, due: int, proportional: bool) -> int:
    """``due`` counter-releases from the categories ``cats[:n]`` (in order, or in
    proportion to what is in reach), on the copy of the holdings, into ``st.counter``;
    ``due``, or -1 after a breach (fewer in reach)."""
    other = st.ag[AG_OTHER]
    hold2, reach, order = st.hold2, st.reach, plan.order
    have = eligible(hold2, reach, order, other, cats, n)
    if have < due:
        breach(plan, st, other, SHORT_COUNTER, have, due)
        return -1
    if due == 0:
        return 0
    drawn = st.work2
    allocate(hold2, reach, order, other, cats, n, due, proportional, drawn, st.work3)
    for j in range(n):
        if drawn[j]:
            take(hold2, reach, order, other, cats[j], drawn[j])
            st.counter[cats[j]] += drawn[j]
    return due


@inline
def counter_release(plan: PlanArrays, st: State, due: int, dated: int) -> None:
    """The counter-releases worked out (``st.counter``) are made: taken from the other
    side's holdings, in the order of the exchange's categories, to the holder."""
    si, ag = st.si, st.ag
    holder, other = ag[AG_HOLDER], ag[AG_OTHER]
    hold, reach, order = st.hold, st.reach, plan.order
    n_c = hold.shape[1]
    xcats, nx = ag[AG_CATS + n_c :], ag[AG_NX]
    counter = st.work2
    mode = PAUSE if si[S_PAUSE] == 1 else FIGHTING
    for j in range(nx):
        counter[j] = st.counter[xcats[j]]
        if counter[j]:
            take(hold, reach, order, other, xcats[j], counter[j])
            st.released[other, xcats[j]] += counter[j]
            flow(st, mode, COUNTER_FLOW, DEAL_CHANNEL, other, holder, xcats[j], counter[j])
    si[S_VERSION] += 1
    row = log(st, COUNTER_RELEASE, other, holder, due, dated, 0)
    pairs(st, row, xcats, counter, nx)
    if row >= 0:
        flow_values(plan, st, row, holder, xcats, counter, nx, other, xcats, counter, nx)


@inline
def postponement(moves: I64, day: int, party: int) -> int:
    """The day to which ``party``'s releases due on ``day`` are postponed (-1: none),
    by the postponements ``moves`` (``plan.postpone``)."""
    for j in range(moves.shape[0]):
        if moves[j, 0] == party and moves[j, 1] == day:
            return int(moves[j, 2])
    return -1


@inline
def dated_handovers(plan: PlanArrays, st: State) -> None:
    """The dated hand-overs of today (a day of the pause passes either way), each made
    unless the holder's releases of the day are postponed."""
    si = st.si
    if si[S_PAUSE] == 1 and si[S_HELD_ON] < 0:
        si[S_DUE_HEAD] += 1
        si[S_DUE_LEN] -= 1
    holder = st.ag[AG_HOLDER]
    for h in range(plan.handovers.shape[0]):
        if st.handover_day[h] != si[S_DAY]:
            continue
        until = postponement(plan.postpone, si[S_DAY], holder)
        if until >= 0:
            st.handover_day[h] = until
            log(st, POSTPONED, holder, BATCH, h, until, 0)
            continue
        hand_over(plan, st, h)
        if si[S_IN_FORCE] == 0:
            return


@kernel
def hand_over(plan: PlanArrays, st: State, h: int) -> None:
    """Dated hand-over ``h``: a drawn delay, then a breach if the holder has fewer of a
    category in reach than the hand-over names, else its refusal draws (and cures);
    its captives, in the order named, wait for the mediator's verification."""
    si, ag = st.si, st.ag
    hold, reach, order = st.hold, st.reach, plan.order
    holder, other = ag[AG_HOLDER], ag[AG_OTHER]
    row_h = plan.handovers[h]
    n = row_h[1]
    cats, batch = st.tb_reach, st.work
    delayed = chance(st, st.agf[0])
    due, have, short = 0, 0, False
    for j in range(n):
        cats[j], batch[j] = row_h[2 + 2 * j], row_h[3 + 2 * j]
        there = in_reach(hold, reach, order, holder, cats[j])
        due += batch[j]
        have += min(there, batch[j])
        short = short or there < batch[j]
    if short:
        breach(plan, st, holder, SHORT_BATCH, have, due)
        return
    if not willing(plan, st, holder, BATCH):
        return
    if delayed:
        si[S_DELAYS] += 1
        log(st, DELAY, -1, holder, 0, 0, 0)
    mode = PAUSE if si[S_PAUSE] == 1 else FIGHTING
    for j in range(n):
        take(hold, reach, order, holder, cats[j], batch[j])
        st.released[holder, cats[j]] += batch[j]
        flow(st, mode, RELEASE_FLOW, DEAL_CHANNEL, holder, other, cats[j], batch[j])
    si[S_VERSION] += 1
    row = log(st, RELEASE_BATCH, holder, other, due, h + 1, 0)
    pairs(st, row, cats, batch, n)
    if row >= 0:
        flow_values(plan, st, row, other, cats, batch, n, holder, cats, batch, n)
    await_verification(st, cats, batch, n, h)


@inline
def await_verification(st: State, cats: I64, batch: I64, n: int, h: int) -> None:
    """A hand-over (``batch[j]`` of ``cats[j]``; ``h`` the dated hand-over, -1 a daily
    batch) waits for the mediator's verification: its relay delay."""
    si, ag = st.si, st.ag
    v = si[S_PENDING]
    si[S_PENDING] = v + 1
    st.pending_day[v] = si[S_DAY] + (st.relay[ag[AG_MEDIATOR]] if ag[AG_MEDIATOR] >= 0 else 0)
    st.pending_h[v] = h
    pending = st.pending
    for c in range(pending.shape[1]):
        pending[v, c] = 0
    for j in range(n):
        pending[v, cats[j]] += batch[j]


@inline
def exchange_done(plan: PlanArrays, st: State) -> bool:
    """Whether a one-off exchange has made its last hand-over and dated release."""
    day = st.si[S_DAY]
    for h in range(st.handover_day.size):
        if st.handover_day[h] > day:
            return False
    for r in range(st.xdated_day.size):  # noqa: SIM110 - a loop numba compiles
        if st.xdated_day[r] > day:
            return False
    return True


@inline
def willing(plan: PlanArrays, st: State, party: int, what: int) -> bool:
    """Draw whether ``party`` refuses; the mediator may re-request (a cure). The
    ``1 + cure_attempts`` draws are made whatever they decide."""
    p = st.agf[1 + party]
    cures = st.ag[AG_CURES]
    if not chance(st, p):
        owe(st, cures)
        return True
    log(st, REFUSAL, party, what, 0, 0, 0)
    for attempt in range(cures):
        if not chance(st, p):
            log(st, CURED, party, what, attempt + 2, 0, 0)
            owe(st, cures - attempt - 1)
            return True
    breach(plan, st, party, REFUSED, what, 0)
    return False


@inline
def end_of_period(plan: PlanArrays, st: State) -> None:
    """The last paid-for day: the extension rule, with both sides' values; if there is no
    extension, the phase is over."""
    if st.si[S_HELD_ON] >= 0:
        hold_on(plan, st)
        return
    reason, by, x, y = extension(plan, st)
    if reason != EXTENDED:
        phase_over(plan, st, reason, by, x, y, 0)


@inline
def extension(plan: PlanArrays, st: State) -> tuple[int, int, int, int]:
    """The extension rule: the holder offers whole steps of its eligible captives in
    reach, within the per-extension limit and the cap on total days; the pause is
    extended if both sides value that above fighting (``extension_agreed``). Returns
    ``EXTENDED``, or why the phase is over: the reason, by whom, and its two details."""
    si, ag = st.si, st.ag
    if ag[AG_HAS_EXT] == 0:
        return END_COMPLETED, -1, 0, 0
    hold, reach, order = st.hold, st.reach, plan.order
    holder = ag[AG_HOLDER]
    cats, nb = ag[AG_CATS:], ag[AG_NB]
    step_days, per_step = ag[AG_STEP_DAYS], ag[AG_PER_STEP]
    # What the holder is able to give: whole steps of eligible captives in reach,
    # within the per-extension limit and the cap on total days.
    have = eligible(hold, reach, order, holder, cats, nb)
    steps = have // per_step
    if ag[AG_LIMIT_DAYS] >= 0:
        steps = min(steps, ag[AG_LIMIT_DAYS] // step_days)
    if ag[AG_MAX_DAYS] >= 0:
        room = (ag[AG_MAX_DAYS] - si[S_GRANTED]) // step_days
        if room <= 0:
            return END_CAP, -1, ag[AG_MAX_DAYS], 0
        steps = min(steps, room)
    if steps == 0:
        return END_NO_ELIGIBLE, holder, have, per_step
    days, count = steps * step_days, steps * per_step
    value_h, value_o, fight_h, fight_o = going_on(plan, st, ag, count, days)
    party, how = extension_agreed(st, count, days, value_h, value_o, fight_h, fight_o)
    if party >= 0:
        return END_DECLINED, party, how, 0
    si[S_GRANTED] += days
    split_batches(st.due, count, days, ag[AG_BSPLIT] == 1)
    si[S_DUE_HEAD] = 0
    si[S_DUE_LEN] = days
    n = si[S_EXTENSIONS]
    si[S_EXTENSIONS] = n + 1
    if n < st.extensions.size:
        st.extensions[n] = days
    log(st, EXTENSION, days, si[S_GRANTED], count, 0, 0)
    return EXTENDED, -1, 0, 0


@inline
def going_on(
    plan: PlanArrays, st: State, terms: I64, count: int, days: int
) -> tuple[float, float, float, float]:
    """Both sides' values of going on for ``days`` more under ``terms`` (an agreement
    vector: the one in force, or a written phase's), the holder releasing ``count`` of
    its eligible captives in reach (``st.work``) and the other side the counter-releases
    at the terms' ratios (``st.work2``), against those days of fighting: the holder's
    value, the other's, the holder's value of fighting, the other's. The holder receives
    the counter-releases and gives the batch; the other side the reverse. Each values the
    days at its pause-day value and its pressure, and the obligations they bring as
    priced."""
    hold, reach, order = st.hold, st.reach, plan.order
    holder, other = terms[AG_HOLDER], terms[AG_OTHER]
    n_c = hold.shape[1]
    cats, nb = terms[AG_CATS:], terms[AG_NB]
    xcats, nx = terms[AG_CATS + n_c :], terms[AG_NX]
    ratio = terms[AG_CATS + 2 * n_c :]
    batch, counter = st.work, st.work2
    allocate(hold, reach, order, holder, cats, nb, count, False, batch, st.work3)
    counter_due = 0
    for j in range(nb):
        counter_due += ratio[cats[j]] * batch[j]
    counter_due = min(counter_due, eligible(hold, reach, order, other, xcats, nx))
    allocate(
        hold, reach, order, other, xcats, nx, counter_due, terms[AG_XSPLIT] == 1, counter, st.work3
    )
    pf = st.party
    neumaier = plan.sizes[Z_NEUMAIER] == 1
    value_h = (
        of_flows(st.flows, neumaier, holder, xcats, counter, nx, cats, batch, nb)
        + days * pf[P_PAUSE_DAY, holder]
    ) + days * pf[P_PRESSURE, holder]
    value_o = (
        of_flows(st.flows, neumaier, other, cats, batch, nb, xcats, counter, nx)
        + days * pf[P_PAUSE_DAY, other]
    ) + days * pf[P_PRESSURE, other]
    if plan.obligations.shape[0] > 0:
        value_h += obligation_values(plan, st, holder, days)
        value_o += obligation_values(plan, st, other, days)
    fight_h = days * pf[P_FIGHTING_DAY, holder]
    fight_o = days * pf[P_FIGHTING_DAY, other]
    return value_h, value_o, fight_h, fight_o


@inline
def extension_agreed(
    st: State,
    count: int,
    days: int,
    value_h: float,
    value_o: float,
    fight_h: float,
    fight_o: float,
) -> tuple[int, int]:
    """The extension of ``count`` captives (``st.work``) for ``days``: proposed by the
    holder (the default) and answered by the other side; proposed by the other side and
    answered by the holder; or proposed by a mediator and answered by the holder, then
    the other side. A party proposes, or accepts, only an extension it values above
    fighting; otherwise it declines (:func:`decline`). Returns -1 and 0 if agreed, else
    the party that declined and how."""
    ag = st.ag
    holder, other = ag[AG_HOLDER], ag[AG_OTHER]
    cats, nb = ag[AG_CATS:], ag[AG_NB]
    proposer = ag[AG_PROPOSER]
    answer = 0 if proposer == PROPOSED_BY_HOLDER else 1
    if proposer == PROPOSED_BY_HOLDER and value_h <= fight_h:
        return decline(st, holder, 0, days, 0, value_h, value_o, fight_h, fight_o)
    if proposer == PROPOSED_BY_OTHER and value_o <= fight_o:
        return decline(st, other, 1, days, 2, value_h, value_o, fight_h, fight_o)
    by = 0 if proposer == PROPOSED_BY_HOLDER else (1 if proposer == PROPOSED_BY_OTHER else 2)
    row = log(st, EXTENSION_OFFER, count, days, by + max(proposer, 0), 0, 0)
    pairs(st, row, cats, st.work, nb)
    extension_values(st, row, value_h, value_o, fight_h, fight_o)
    if proposer != PROPOSED_BY_HOLDER and value_h <= fight_h:
        return decline(st, holder, 0, days, 1, value_h, value_o, fight_h, fight_o)
    if proposer != PROPOSED_BY_OTHER and value_o <= fight_o:
        return decline(st, other, 1, days, answer, value_h, value_o, fight_h, fight_o)
    extension_values(
        st, log(st, EXTENSION_ACCEPT, 0, 0, 0, 0, 0), value_h, value_o, fight_h, fight_o
    )
    return -1, 0


@inline
def decline(
    st: State,
    party: int,
    side: int,
    days: int,
    how: int,
    value_h: float,
    value_o: float,
    fight_h: float,
    fight_o: float,
) -> tuple[int, int]:
    """``party`` (``side`` 0: the holder, 1: the other side) declines: it makes no offer
    (``how`` 0), answers a proposal no (1) or proposes none (2). Returns the party and
    the phase's end detail."""
    extension_values(
        st, log(st, EXTENSION_DECLINE, side, days, how, 0, 0), value_h, value_o, fight_h, fight_o
    )
    return party, side + how if side == 0 else max(1, how)


@inline
def phase_over(plan: PlanArrays, st: State, reason: int, by: int, x: int, y: int, z: int) -> None:
    """The phase's days are over (its terms completed, capped or not extended): the next
    phase agreed in talks during the pause takes over; or, under a continuation clause,
    the pause holds on while the talks go on; or the pause ends."""
    si = st.si
    k = next_written(plan, si)
    if k >= 0:
        written_phase(plan, st, k, reason, by, x, y, z)
    elif si[S_NEXT_PHASE] >= 0:
        next_phase(plan, st)
    elif st.ag[AG_HOLD_ON] == 1 and si[S_TALKS] == 1:
        si[S_HELD_ON] = 0
        log(st, HOLDS_ON, reason, by, st.ag[AG_HOLD_LIMIT], 0, 0)
    else:
        end_pause(plan, st, reason, by, x, y, z)


@inline
def hold_on(plan: PlanArrays, st: State) -> None:
    """A day the pause held on after its phase: it ends once the talks have ended
    without agreeing the next phase, or at the clause's limit; held on for a written
    phase's date, at the limit only (unless that phase begins tomorrow)."""
    si = st.si
    si[S_HELD_ON] += 1
    limit = st.ag[AG_HOLD_LIMIT]
    waiting = si[S_STARTED] == 0
    at_limit = limit >= 0 and si[S_HELD_ON] >= limit
    if waiting:
        at_limit = at_limit and st.ag[AG_START] > si[S_DAY] + 1
    if (si[S_TALKS] == 0 and not waiting) or at_limit:
        end_pause(
            plan, st, END_HELD_ON_ENDED, -1, si[S_HELD_ON], int(si[S_TALKS] == 1 or waiting), 0
        )


@inline
def written(si: I64) -> bool:
    """Whether the agreement in force is the scenario's text: its first phase, or a
    phase written in it (not one agreed in talks)."""
    now = int(si[S_AGREEMENT])
    return now == SCENARIO_AGREEMENT or now < NO_AGREEMENT


@inline
def next_written(plan: PlanArrays, si: I64) -> int:
    """The row of ``plan.phases`` of the phase written after the one in force (-1: none,
    or the agreement in force is not the scenario's text)."""
    now = si[S_AGREEMENT]
    k = 0 if now == SCENARIO_AGREEMENT else NO_AGREEMENT - now
    if (now == SCENARIO_AGREEMENT or now < NO_AGREEMENT) and k < plan.phases.shape[0]:
        return k
    return -1


@kernel
def written_phase(
    plan: PlanArrays, st: State, k: int, reason: int, by: int, x: int, y: int, z: int
) -> None:
    """The phase written in row ``k`` of ``plan.phases`` follows the one whose days are
    over: from tomorrow, the pause going on, when it starts after the previous one (or
    its date has come); on a later date, the pause holding on until then under the
    continuation clause, or else ending (fighting until the date). Until it starts, the
    terms of the phase before it stay in force for that phase's hand-overs still to be
    verified (``load_written``)."""
    si, ag = st.si, st.ag
    if plan.phases[k, AG_CONDITIONAL] == 1:
        party = phase_declined(plan, st, k)
        if party >= 0:
            end_pause(plan, st, END_DECLINED, party, 3, k + 2, 0)
            return
    day = si[S_DAY]
    date = plan.phases[k, AG_START]
    begins = day + 1 if date <= day + 1 else date
    mode = 0 if begins == day + 1 else (1 if ag[AG_HOLD_ON] == 1 else 2)
    if mode == 2:
        end_pause(plan, st, reason, by, x, y, z)
    log(st, WRITTEN_PHASE, k + 2, begins, mode, ag[AG_HOLD_LIMIT], reason)
    ag[AG_START] = begins  # its terms replace the phase's own when it starts
    si[S_AGREEMENT] = NO_AGREEMENT - 1 - k
    si[S_STARTED] = 0
    si[S_IN_FORCE] = 0
    if mode == 0:
        si[S_PAUSE] = 0
        si[S_HELD_ON] = -1
    elif mode == 1:
        si[S_HELD_ON] = 0


@kernel
def phase_declined(plan: PlanArrays, st: State, k: int) -> int:
    """A conditional written phase (row ``k``): each side values going on to it as an
    extension is valued (its captives, drawn from the eligible categories in reach, the
    counter-releases at its ratios, its days at the pause-day value and pressure, the
    obligations they bring) against its days of fighting. The party that values it no
    higher than fighting (the holder first), or -1: both go on."""
    row = plan.phases[k]
    holder, other = row[AG_HOLDER], row[AG_OTHER]
    days = row[AG_DAYS]
    count = min(
        row[AG_TOTAL], eligible(st.hold, st.reach, plan.order, holder, row[AG_CATS:], row[AG_NB])
    )
    value_h, value_o, fight_h, fight_o = going_on(plan, st, row, count, days)
    party = holder if value_h <= fight_h else (other if value_o <= fight_o else -1)
    side = 0 if party == holder else (1 if party == other else -1)
    row_log = log(st, PHASE_DECISION, k + 2, side, count, days, 0)
    extension_values(st, row_log, value_h, value_o, fight_h, fight_o)
    return party


@inline
def load_written(plan: PlanArrays, st: State) -> None:
    """The terms of the written phase coming into force today replace those in force."""
    ag = st.ag
    row = plan.phases[NO_AGREEMENT - 1 - st.si[S_AGREEMENT]]
    for j in range(ag.size):
        if j != AG_START:
            ag[j] = row[j]


@kernel
def next_phase(plan: PlanArrays, st: State) -> None:
    """The next phase, agreed in talks during the pause, takes over from the current
    one: in force from tomorrow, the pause going on without a day of fighting."""
    si = st.si
    outcome = si[S_NEXT_PHASE]
    si[S_NEXT_PHASE] = -1
    si[S_HELD_ON] = -1
    log(st, PHASE_END, outcome, 0, 0, 0, 0)
    agreement_from(plan, st, outcome)
    st.ag[AG_START] = si[S_DAY] + 1
    si[S_AGREEMENT] = outcome
    si[S_STARTED] = 0
    si[S_PAUSE] = 0
    si[S_IN_FORCE] = 0


@inline
def breach(plan: PlanArrays, st: State, party: int, detail: int, x: int, y: int) -> None:
    """A batch or counter-release not made: recorded, and the pause ends."""
    si = st.si
    si[S_BREACHES] += 1
    log(st, BREACH, party, detail, x, y, 0)
    if si[S_PAUSE] == 1:
        end_pause(plan, st, END_BREACH, party, detail, x, y)


@inline
def end_pause(plan: PlanArrays, st: State, reason: int, by: int, x: int, y: int, z: int) -> None:
    """The pause ends: fighting resumes the next day; talks may restart."""
    si = st.si
    si[S_PAUSE] = 0
    si[S_IN_FORCE] = 0
    si[S_HELD_ON] = -1
    set_ending(si, reason, by)
    log(st, PAUSE_END, reason, by, x, y, z)
    talks = plan.talks
    if talks[T_START] >= 0 and si[S_TALKS] == 0:
        si[S_NEXT_TALKS] = after(si, talks[T_RESTART])
    if si[S_NEXT_PHASE] >= 0 and si[S_STARTED] == 1 and next_written(plan, si) < 0:
        # agreed during the pause: it comes into force as agreed (after the written
        # phases, if any are still to come or waiting for their date)
        outcome = si[S_NEXT_PHASE]
        si[S_NEXT_PHASE] = -1
        agreement_from(plan, st, outcome)
        si[S_AGREEMENT] = outcome
        si[S_STARTED] = 0


@inline
def talk(plan: PlanArrays, st: State) -> None:
    """The day's acts of the talks; when they end, with or without an agreement."""
    si = st.si
    code, by, place, via = talk_step(plan, st)
    if code == GOING_ON:
        return
    si[S_TALK_ROUNDS] += si[S_ROUNDS]
    si[S_TALKS] = 0
    talks = plan.talks
    if code != DEAL:
        set_ending(si, END_TALKS_DEADLINE + code - 2, by)
        log(st, TALKS_END, code, by, 0, 0, 0)
        si[S_NEXT_TALKS] = after(si, talks[T_RESTART])
        return
    outcome = record_deal(plan, st, place, via)
    j = si[S_DEALS] - 1
    row = log(st, AGREEMENT, outcome, via, talks[T_TEMPLATE], si[S_PAUSE], 0)
    if row >= 0:
        for k in range(4):
            st.log_f[row, k] = st.deal_f[j, k]
    if talks[T_TEMPLATE] == 0:
        set_ending(si, END_AGREED, -1)
        return
    if si[S_PAUSE] == 1:  # agreed during the pause: the next phase
        si[S_NEXT_PHASE] = outcome
        if si[S_HELD_ON] >= 0 and si[S_STARTED] == 1:
            next_phase(plan, st)
        return
    agreement_from(plan, st, outcome)
    si[S_AGREEMENT] = outcome
    si[S_STARTED] = 0


@inline
def agreement_from(plan: PlanArrays, st: State, outcome: int) -> None:
    """The execution terms of the agreed outcome, from the template
    (:func:`terms_from`)."""
    template = plan.template
    mediator = plan.talks[T_MEDIATOR]
    if mediator < 0:
        mediator = 0 if st.relay.size > 0 else -1
    terms_from(
        st.ag,
        st.agf,
        template,
        plan.grid_ratio[outcome],
        int(plan.grid_days[outcome]),
        st.si[S_DAY] + template[AG_START],
        plan.grid_head[outcome],
        mediator,
        st.hold.shape[1],
    )


@kernel
def terms_from(
    ag: I64,
    agf: F64,
    template: I64,
    ratio: F64,
    days: int,
    start: int,
    head: int,
    mediator: int,
    n_c: int,
) -> None:
    """An agreement vector ``ag`` (and its reals ``agf``) from the template: ``days`` of
    pause from day ``start``, category ``head`` first (-1: the template's order), the
    ratios ``ratio`` by category. A call of its own that takes only these arrays: a call
    with the plan and the state passes some 700 machine words."""
    for j in range(ag.size):
        ag[j] = template[j]
    ag[AG_MEDIATOR] = mediator
    ag[AG_DAYS] = days
    ag[AG_START] = start
    if head >= 0:  # the first category first, then the template's order
        nb = 1
        ag[AG_CATS] = head
        for j in range(template[AG_NB]):
            c = template[AG_CATS + j]
            if c != head:
                ag[AG_CATS + nb] = c
                nb += 1
        ag[AG_NB] = nb
    for c in range(n_c):
        ag[AG_CATS + 2 * n_c + c] = int(ratio[c])
    for j in range(agf.size):
        agf[j] = 0.0


@inline
def finish(plan: PlanArrays, st: State) -> None:
    """The horizon: why the episode ended, if nothing ended it before."""
    si = st.si
    if si[S_PAUSE] == 1:
        set_ending(si, END_HORIZON, -1)
    elif si[S_TALKS] == 1:
        set_ending(si, END_TALKS_ONGOING, -1)
    if si[S_END_REASON] < 0:
        set_ending(si, END_NO_AGREEMENT if si[S_AGREEMENT] == NO_AGREEMENT else END_NOT_STARTED, -1)
    log(st, EPISODE_END, si[S_END_REASON], 0, 0, 0, 0)


# -- helpers ---------------------------------------------------------------------------


@inline
def set_ending(si: I64, reason: int, by: int) -> None:
    si[S_END_REASON] = reason
    si[S_END_BY] = by
    si[S_END_DAY] = si[S_DAY]


@inline
def after(si: I64, days: int) -> int:
    """The day ``days`` from today (one at least); -1 for never."""
    return -1 if days < 0 else si[S_DAY] + max(1, days)


@kernel
def split_batches(due: I64, total: int, days: int, even: bool) -> None:
    """Split ``total`` over ``days`` daily batches (``_schedule.split_batches``)."""
    if even:
        base, extra = total // days, total % days
        for i in range(days):
            due[i] = base + (1 if i < extra else 0)
        return
    per_day = -(-total // days)
    left = total
    for i in range(days):
        due[i] = min(per_day, left)
        left -= due[i]


@kernel
def of_flows(
    flows: F64,
    neumaier: bool,
    party: int,
    got: I64,
    got_n: I64,
    n_got: int,
    gave: I64,
    gave_n: I64,
    n_gave: int,
) -> float:
    """A party's value of receiving and giving these counts (categories ``got[j]``,
    counts ``got_n[j]``), summed as Python's built-in ``sum`` does (compensated where
    ``neumaier``: Python 3.12 and later)."""
    gain, c = 0.0, 0.0
    for j in range(n_got):
        gain, c = add(gain, c, flows[0, party, got[j]] * got_n[j], neumaier)
    gain = total(gain, c, neumaier)
    cost, c = 0.0, 0.0
    for j in range(n_gave):
        cost, c = add(cost, c, flows[1, party, gave[j]] * gave_n[j], neumaier)
    return gain - total(cost, c, neumaier)


@inline
def add(total: float, c: float, x: float, neumaier: bool) -> tuple[float, float]:
    t = total + x
    if neumaier:
        c += (total - t) + x if abs(total) >= abs(x) else (x - t) + total
    return t, c


@inline
def total(total: float, c: float, neumaier: bool) -> float:
    if neumaier and c != 0 and np.isfinite(c):
        return total + c
    return total


@kernel
def flow_values(
    plan: PlanArrays,
    st: State,
    row: int,
    to: int,
    got: I64,
    got_n: I64,
    n_got: int,
    by: int,
    gave: I64,
    gave_n: I64,
    n_gave: int,
) -> None:
    """Each party's value of a release (``to`` receives, ``by`` gives), into log row
    ``row`` (the caller calls only with the log on: ``row >= 0``)."""
    empty = got[:0]
    neumaier = plan.sizes[Z_NEUMAIER] == 1
    for p in range(st.cost.size):
        g = n_got if p == to else 0
        v = n_gave if p == by else 0
        st.log_f[row, p] = of_flows(
            st.flows, neumaier, p, got if g else empty, got_n, g, gave if v else empty, gave_n, v
        )


@inline
def extension_values(
    st: State, row: int, value_h: float, value_o: float, fight_h: float, fight_o: float
) -> None:
    if row >= 0:
        f = st.log_f
        f[row, 0], f[row, 1], f[row, 2], f[row, 3] = value_h, value_o, fight_h, fight_o


@inline
def log(st: State, kind: int, a0: int, a1: int, a2: int, a3: int, a4: int) -> int:
    return record(st.si, st.log_i, st.log_f, kind, a0, a1, a2, a3, a4)


@inline
def pairs(st: State, row: int, cats: I64, counts: I64, n: int) -> None:
    """(category, count) pairs of the non-zero counts, in order, into the log."""
    if row < 0:
        return
    log_i = st.log_i
    k = PAIRS
    for j in range(n):
        if counts[j]:
            log_i[row, k] = cats[j]
            log_i[row, k + 1] = counts[j]
            k += 2


@inline
def flow(
    st: State, mode: int, what: int, channel: int, src: int, dst: int, category: int, count: int
) -> None:
    """A ledger row."""
    row = log(st, FLOW, mode, what, channel, src, dst)
    if row >= 0:
        st.log_i[row, 7] = category
        st.log_i[row, 8] = count
