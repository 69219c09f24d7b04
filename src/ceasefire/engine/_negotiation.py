"""The talks, round by round (kernel functions).

A round: the first mover responds to the other side's last offer (accepts it, or makes
its own), the offer travels through the mediator (its relay delay), the other side
responds (accepts, or counters), and its counter travels back. With a relay delay of d
days a round takes 2d days (one day at least). Each side's relative time in round k is
t = (k + 1) / (n + 1), n being the rounds that fit in its deadline. Before each act the
side may break off the talks (one draw).

After ``stall_limit_rounds`` rounds in a row in which neither side conceded (neither
offer gave the other side more than that side's previous offer did), the mediator
tables one compromise text: the outcome maximising the product of both sides' gains
over their reservation values. Each side accepts it at its current aspiration or
vetoes it.

A side with a discount factor d (``Negotiator.discount``) values an outcome of value u
at D * u in round k, D = d**k (per round) or d**t (per unit of relative time). As
NegMAS's time-based negotiators do, its thresholds come from the range of its values as
of round 0 (D there: 1 per round, d**(1 / (n + 1)) per unit of time; the least raised to
its reservation value, which is not discounted); it accepts an outcome if D * u reaches
its threshold lo, and offers as if at the threshold lo / D on its undiscounted values
(above every value: its best).
"""

from __future__ import annotations

import numpy as np

from ._jit import inline
from ._log import (
    ACCEPT_OFFER,
    BREAKDOWN,
    OFFER,
    TALKS_OPEN,
    TEXT,
    TEXT_ANSWER,
    TIMEOUT,
    record,
)
from ._plan import P_RESERVATION
from ._rng import chance
from ._state import (
    D_DAY,
    D_OUTCOME,
    D_ROUND,
    D_VIA,
    F_GIFT_A,
    F_HIGH_A,
    F_LOW_A,
    F_UMAX_A,
    F_UMIN_A,
    N_BREAKDOWN,
    N_DEADLINE,
    N_DISCOUNT,
    N_DISCOUNT_TIME,
    N_EXPONENT,
    R_TOLERANCE,
    S_DAY,
    S_DEAL_FULL,
    S_DEALS,
    S_GIFT_A,
    S_ISSUES_KNOWN,
    S_KEEP,
    S_LAST_A,
    S_N_ROUNDS_A,
    S_ROUND_DAYS,
    S_ROUNDS,
    S_SECOND_DAY,
    S_STALLED,
    S_TABLE_N,
    S_TABLE_VERSION,
    S_TABLED,
    S_TALKS,
    S_TALKS_START,
    S_VERSION,
    T_FIRST,
    T_MEDIATOR,
    T_SECOND,
    T_STALL_LIMIT,
    T_TEMPLATE,
    Z_DEALS,
    PlanArrays,
    State,
)
from ._table import (
    DAY_TERMS,
    add_day_values,
    build_table,
    index_side,
    inputs_changed,
    keep_table,
    nash,
    offer,
    offer_in_order,
    restore_table,
    same_base,
    threshold,
)

# How a session of talks ends (``talk_step``'s first value).
GOING_ON, DEAL, DEADLINE, BROKEN_OFF, NO_OUTCOMES = range(5)
VIA_OFFER, VIA_TEXT = 0, 1


@inline
def open_talks(plan: PlanArrays, st: State) -> None:
    """Talks open today: a fresh session, the first mover to act."""
    si = st.si
    sf = st.sf
    si[S_TALKS] = 1
    si[S_TALKS_START] = si[S_DAY]
    si[S_STALLED] = 0
    si[S_TABLED] = 0
    si[S_ROUNDS] = 0
    days = max(1, 2 * relay_delay(plan, st))
    si[S_ROUND_DAYS] = days
    si[S_SECOND_DAY] = relay_delay(plan, st) % days
    for side in range(2):
        deadline = int(plan.negotiators[plan.talks[T_FIRST + side], N_DEADLINE])
        si[S_N_ROUNDS_A + side] = max(1, deadline // days)
        si[S_LAST_A + side] = -1
        si[S_GIFT_A + side] = 0
        sf[F_GIFT_A + side] = 0.0
    row = record(si, st.log_i, st.log_f, TALKS_OPEN, 0, 0, 0, 0, 0)
    if row >= 0:
        pf = st.party
        for p in range(pf.shape[1]):
            st.log_f[row, p] = pf[0, p]


@inline
def table(plan: PlanArrays, st: State) -> int:
    """The outcomes on the table today: built again only when holdings, reach, values
    or pressure changed since it was last built (in this episode or, on the same state,
    an earlier one). An episode's first table is kept: a later episode on the same
    state whose holdings, reach, flow values and weights are the same (the ensemble
    runs episodes in the order of the priors that decide them) takes it back and adds
    its own days' term, instead of building it again. Returns how many there are."""
    si = st.si
    if si[S_TABLE_VERSION] == si[S_VERSION]:
        return int(si[S_TABLE_N])
    si[S_TABLE_VERSION] = si[S_VERSION]
    sf = st.sf
    talks = plan.talks
    key = st.tb_key_i
    if inputs_changed(key, st.tb_key_f, st.hold, st.reach, st.party, st.flows, st.weight):
        kept = st.kp_key_i
        if same_base(kept, st.kp_key_f, st.hold, st.reach, st.flows, st.weight, DAY_TERMS):
            n = restore_table(
                kept,
                st.kp_val,
                st.kp_place,
                st.kp_days,
                st.tb_val,
                st.tb_grid,
                st.tb_pos,
                st.tb_days,
            )
        else:
            n = build_table(
                st.hold,
                st.reach,
                plan.order,
                st.party,
                st.flows,
                st.weight,
                plan.grid_days,
                plan.grid_combo,
                plan.combo_captives,
                plan.combo_head,
                plan.grid_ratio_h,
                plan.flow_x,
                plan.issue_columns,
                plan.issue_order,
                plan.template,
                talks[T_TEMPLATE] == 1,
                plan.flow_categories,
                plan.flow_to_holder,
                st.tb_grid,
                st.tb_pos,
                st.tb_val,
                st.tb_work,
                st.tb_reach,
                st.tb_issue,
                si[S_ISSUES_KNOWN] == 1,
                st.tb_moved,
                st.tb_days,
                st.tb_combo,
            )
            si[S_ISSUES_KNOWN] = 1
            if si[S_KEEP] == 1:
                keep_table(
                    n,
                    key,
                    st.tb_key_f,
                    st.tb_val,
                    st.tb_grid,
                    st.tb_pos,
                    st.tb_days,
                    kept,
                    st.kp_key_f,
                    st.kp_val,
                    st.kp_place,
                    st.kp_days,
                )
        si[S_KEEP] = 0
        add_day_values(st.tb_val, st.tb_days, n, st.party)
        key[1] = n
        for side in range(2):
            if n > 0:
                sf[F_HIGH_A + side] = index_side(
                    st.tb_val[talks[T_FIRST + side]],
                    n,
                    st.sd_members[side],
                    st.sd_start[side],
                    st.sd_values[side],
                    st.sd_ranked[side],
                    sf,
                    F_LOW_A + 2 * side,
                    st.sd_bucket[side],
                    st.tb_bucket,
                )
    n = int(key[1])
    si[S_TABLE_N] = n
    if n > 0:
        pf = st.party
        for side in range(2):
            me = talks[T_FIRST + side]
            sf[F_UMIN_A + 2 * side] = max(sf[F_LOW_A + 2 * side], pf[P_RESERVATION, me])
            sf[F_UMAX_A + 2 * side] = sf[F_HIGH_A + side]
    return n


@inline
def relay_delay(plan: PlanArrays, st: State) -> int:
    m = plan.talks[T_MEDIATOR]
    return st.relay[m] if m >= 0 else 0


@inline
def aspiration_threshold(plan: PlanArrays, st: State, side: int, k: int) -> tuple[float, float]:
    """A side's relative time in round k and the least value it accepts then."""
    me = plan.talks[T_FIRST + side]
    n = st.si[S_N_ROUNDS_A + side]
    t = (k + 1) / (n + 1)
    sf = st.sf
    umin, umax = sf[F_UMIN_A + 2 * side], sf[F_UMAX_A + 2 * side]
    d0 = discount(plan, st, side, 0)
    if d0 != 1.0:  # discounted per unit of time: the range of values as of round 0
        umin = max(d0 * sf[F_LOW_A + 2 * side], st.party[P_RESERVATION, me])
        umax = d0 * sf[F_HIGH_A + side]
    lo = threshold(
        aspiration(st, side, k, t, plan.negotiators[me, N_EXPONENT]),
        umin,
        umax,
        plan.reals[R_TOLERANCE],
    )
    return t, lo


@inline
def discount(plan: PlanArrays, st: State, side: int, k: int) -> float:
    """What a side's value of an agreement in round k is multiplied by: 1 without a
    discount factor d, else d**k (per round) or d**t, t = (k + 1) / (n + 1) its relative
    time (per unit of time)."""
    me = plan.talks[T_FIRST + side]
    d = plan.negotiators[me, N_DISCOUNT]
    if d == 1.0:
        return 1.0
    if plan.negotiators[me, N_DISCOUNT_TIME] == 1.0:
        n = st.si[S_N_ROUNDS_A + side]
        return float(d ** ((k + 1) / (n + 1)))
    return float(d ** float(k))


@inline
def aspiration(st: State, side: int, k: int, t: float, exponent: float) -> float:
    """``1 - t**e``, worked out once per round for as long as the talks have as many
    rounds (across episodes on the same state too)."""
    known = st.aspiration[side]
    n = st.si[S_N_ROUNDS_A + side]
    if st.aspiration_rounds[side] != n:
        st.aspiration_rounds[side] = n
        for j in range(known.size):
            known[j] = np.nan
    if k >= known.size:
        return float(1.0 - t**exponent)
    if np.isnan(known[k]):
        known[k] = 1.0 - t**exponent
    return float(known[k])


@inline
def talk_step(plan: PlanArrays, st: State) -> tuple[int, int, int, int]:
    """Play whatever of the talks falls on today: (how they end, by whom, the agreed
    outcome, via what); GOING_ON while they go on."""
    si = st.si
    n = table(plan, st)
    if n == 0:
        return NO_OUTCOMES, -1, -1, -1
    days = si[S_ROUND_DAYS]
    elapsed = si[S_DAY] - si[S_TALKS_START]
    k, offset = (elapsed, 0) if days == 1 else (elapsed // days, elapsed % days)
    second = si[S_SECOND_DAY]
    if offset == 0 or offset == second:
        si[S_ROUNDS] = k + 1
    # The first mover acts on the round's first day, the other side when the relay
    # brings the offer (the same day without a delay); then the mediator's check.
    for side in range(2):
        if offset == (0 if side == 0 else second):
            result = act(plan, st, side, k)
            if result[0] != GOING_ON:
                return result
            if side == 1:
                return check_stall(plan, st, k)
    return GOING_ON, -1, -1, -1


@inline
def act(plan: PlanArrays, st: State, side: int, k: int) -> tuple[int, int, int, int]:
    """One side's move in round k: leave at its deadline, break off, accept the last
    offer, or make its own."""
    si = st.si
    talks = plan.talks
    me = talks[T_FIRST + side]
    other = talks[T_SECOND - side]
    log_i, log_f = st.log_i, st.log_f
    if k >= si[S_N_ROUNDS_A + side]:
        si[S_ROUNDS] = min(si[S_ROUNDS], k)  # the round it did not answer is not played
        record(si, log_i, log_f, TIMEOUT, me, 0, 0, 0, 0)
        return DEADLINE, me, -1, -1
    if chance(st, plan.negotiators[me, N_BREAKDOWN]):
        record(si, log_i, log_f, BREAKDOWN, me, 0, 0, 0, 0)
        return BROKEN_OFF, me, -1, -1
    t, lo = aspiration_threshold(plan, st, side, k)
    d = discount(plan, st, side, k)
    val = st.tb_val
    pos = st.tb_pos
    a, b = talks[T_FIRST], talks[T_SECOND]
    incoming = si[S_LAST_A + 1 - side]
    if incoming >= 0 and pos[incoming] >= 0:
        place = pos[incoming]
        if d * val[me, place] >= lo:
            row = record(si, log_i, log_f, ACCEPT_OFFER, me, other, incoming, 0, 0)
            if row >= 0:
                log_f[row, 0] = val[a, place]
                log_f[row, 1] = val[b, place]
                log_f[row, 2] = lo / d
            return DEAL, -1, place, VIA_OFFER
    if d != 1.0:  # the threshold on the undiscounted values
        lo = lo / d
    n = si[S_TABLE_N]
    members, start, values = st.sd_members[side], st.sd_start[side], st.sd_values[side]
    ranked, of_rank, slot = st.sd_ranked[side], st.sd_bucket[side], F_LOW_A + 2 * side
    if plan.tie_rank.shape[1] > 0:  # tie_break: negmas
        rank = plan.tie_rank[me]
        place = offer_in_order(
            val[me], n, members, start, values, ranked, of_rank, st.sf, slot, lo, rank, st.tb_grid
        )
    else:
        place = offer(
            val[me], val[other], n, members, start, values, ranked, of_rank, st.sf, slot, lo
        )
    outcome = st.tb_grid[place]
    row = record(si, log_i, log_f, OFFER, me, other, outcome, k, 1 if incoming >= 0 else 0)
    if row >= 0:
        log_i[row, 7] = relay_delay(plan, st)
        log_f[row, 0] = val[a, place]
        log_f[row, 1] = val[b, place]
        log_f[row, 2] = t
        log_f[row, 3] = lo
    si[S_LAST_A + side] = outcome
    return GOING_ON, -1, -1, -1


@inline
def check_stall(plan: PlanArrays, st: State, k: int) -> tuple[int, int, int, int]:
    """Count the rounds without a concession; at the mediator's limit, its text."""
    si = st.si
    sf = st.sf
    talks = plan.talks
    if talks[T_STALL_LIMIT] < 0 or talks[T_MEDIATOR] < 0:  # no text to table
        return GOING_ON, -1, -1, -1
    val = st.tb_val
    pos = st.tb_pos
    conceded = False
    for side in range(2):
        outcome = si[S_LAST_A + side]
        if outcome < 0 or pos[outcome] < 0:
            continue
        gift = val[talks[T_SECOND - side], pos[outcome]]
        if si[S_GIFT_A + side] == 1 and gift > sf[F_GIFT_A + side] + 1e-12:
            conceded = True
        sf[F_GIFT_A + side] = gift
        si[S_GIFT_A + side] = 1
    si[S_STALLED] = 0 if conceded or k == 0 else si[S_STALLED] + 1
    limit = talks[T_STALL_LIMIT]
    if limit < 0 or si[S_TABLED] == 1 or si[S_STALLED] < limit or talks[T_MEDIATOR] < 0:
        return GOING_ON, -1, -1, -1
    si[S_TABLED] = 1
    a, b = talks[T_FIRST], talks[T_SECOND]
    pf = st.party
    n = si[S_TABLE_N]
    log_i, log_f = st.log_i, st.log_f
    place = nash(val[a], val[b], n, pf[P_RESERVATION, a], pf[P_RESERVATION, b])
    if place < 0:
        record(si, log_i, log_f, TEXT, -1, 0, 0, 0, 0)
        return GOING_ON, -1, -1, -1
    outcome = st.tb_grid[place]
    row = record(si, log_i, log_f, TEXT, outcome, si[S_STALLED], 0, 0, 0)
    if row >= 0:
        log_f[row, 0] = val[a, place]
        log_f[row, 1] = val[b, place]
    vetoes = 0
    for side in range(2):
        me = talks[T_FIRST + side]
        lo = aspiration_threshold(plan, st, side, k)[1]
        d = discount(plan, st, side, k)
        accepts = d * val[me, place] >= lo
        lo = lo / d
        if not accepts:
            vetoes += 1
        row = record(si, log_i, log_f, TEXT_ANSWER, me, 1 if accepts else 0, 0, 0, 0)
        if row >= 0:
            log_f[row, 0] = val[a, place]
            log_f[row, 1] = val[b, place]
            log_f[row, 2] = lo
    if vetoes:
        return GOING_ON, -1, -1, -1
    return DEAL, -1, place, VIA_TEXT


@inline
def record_deal(plan: PlanArrays, st: State, place: int, via: int) -> int:
    """Keep the deal on table place ``place`` (its day, round, outcome, values and each
    side's satisfaction); returns its outcome."""
    si = st.si
    talks = plan.talks
    val = st.tb_val
    pf = st.party
    outcome = int(st.tb_grid[place])
    j = si[S_DEALS]
    si[S_DEALS] = j + 1
    if j >= plan.sizes[Z_DEALS]:
        si[S_DEAL_FULL] = 1
        return outcome
    deal_i, deal_f = st.deal_i, st.deal_f
    deal_i[j, D_DAY] = si[S_DAY]
    deal_i[j, D_ROUND] = (si[S_DAY] - si[S_TALKS_START]) // si[S_ROUND_DAYS]
    deal_i[j, D_OUTCOME] = outcome
    deal_i[j, D_VIA] = via
    for side in range(2):
        p = talks[T_FIRST + side]
        value = val[p, place]
        span = st.sf[F_HIGH_A + side] - pf[P_RESERVATION, p]  # its best on the table
        deal_f[j, side] = value
        deal_f[j, 2 + side] = (value - pf[P_RESERVATION, p]) / span if span > 0 else 0.0
    return outcome
