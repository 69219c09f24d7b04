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
"""

from __future__ import annotations

from numba.extending import register_jitable

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
from ._rng import next_double
from ._state import (
    D_DAY,
    D_OUTCOME,
    D_ROUND,
    D_VIA,
    F_GIFT_A,
    F_UMAX_A,
    F_UMIN_A,
    N_BREAKDOWN,
    N_DEADLINE,
    N_EXPONENT,
    PL_FLOW_CATEGORIES,
    PL_FLOW_TO_HOLDER,
    PL_GRID_DAYS,
    PL_GRID_HEAD,
    PL_GRID_PER_DAY,
    PL_GRID_RATIO,
    PL_ISSUE_COLUMNS,
    PL_ISSUE_ORDER,
    PL_NEGOTIATORS,
    PL_ORDER,
    PL_REALS,
    PL_SIZES,
    PL_TALKS,
    PL_TEMPLATE,
    R_TOLERANCE,
    S_DAY,
    S_DEAL_FULL,
    S_DEALS,
    S_GIFT_A,
    S_LAST_A,
    S_ROUNDS,
    S_STALLED,
    S_TABLE_N,
    S_TABLE_VERSION,
    S_TABLED,
    S_TALKS,
    S_TALKS_START,
    S_VERSION,
    ST_DEAL_F,
    ST_DEAL_I,
    ST_FLOWS,
    ST_HOLD,
    ST_LOG_F,
    ST_LOG_I,
    ST_PARTY,
    ST_REACH,
    ST_RELAY,
    ST_RNG,
    ST_SD_ORDER,
    ST_SD_RANKED,
    ST_SF,
    ST_SI,
    ST_TB_GRID,
    ST_TB_POS,
    ST_TB_VAL,
    ST_WEIGHT,
    T_FIRST,
    T_MEDIATOR,
    T_SECOND,
    T_STALL_LIMIT,
    T_TEMPLATE,
    Z_DEALS,
    Arrays,
)
from ._table import build_table, nash, offer, sort_side, threshold

# How a session of talks ends (``talk_step``'s first value).
GOING_ON, DEAL, DEADLINE, BROKEN_OFF, NO_OUTCOMES = range(5)
VIA_OFFER, VIA_TEXT = 0, 1


@register_jitable
def open_talks(plan: Arrays, st: Arrays) -> None:
    """Talks open today: a fresh session, the first mover to act."""
    si = st[ST_SI]
    sf = st[ST_SF]
    si[S_TALKS] = 1
    si[S_TALKS_START] = si[S_DAY]
    si[S_STALLED] = 0
    si[S_TABLED] = 0
    si[S_ROUNDS] = 0
    for side in range(2):
        si[S_LAST_A + side] = -1
        si[S_GIFT_A + side] = 0
        sf[F_GIFT_A + side] = 0.0
    row = record(si, st[ST_LOG_I], st[ST_LOG_F], TALKS_OPEN, 0, 0, 0, 0, 0)
    if row >= 0:
        pf = st[ST_PARTY]
        for p in range(pf.shape[1]):
            st[ST_LOG_F][row, p] = pf[0, p]


@register_jitable
def table(plan: Arrays, st: Arrays) -> int:
    """The outcomes on the table today: rebuilt only when holdings, reach, values or
    pressure changed since it was last built. Returns how many there are."""
    si = st[ST_SI]
    if si[S_TABLE_VERSION] == si[S_VERSION]:
        return int(si[S_TABLE_N])
    talks = plan[PL_TALKS]
    n = build_table(
        st[ST_HOLD],
        st[ST_REACH],
        plan[PL_ORDER],
        st[ST_PARTY],
        st[ST_FLOWS],
        st[ST_WEIGHT],
        plan[PL_GRID_DAYS],
        plan[PL_GRID_PER_DAY],
        plan[PL_GRID_HEAD],
        plan[PL_GRID_RATIO],
        plan[PL_ISSUE_COLUMNS],
        plan[PL_ISSUE_ORDER],
        plan[PL_TEMPLATE],
        talks[T_TEMPLATE] == 1,
        plan[PL_FLOW_CATEGORIES],
        plan[PL_FLOW_TO_HOLDER],
        st[ST_TB_GRID],
        st[ST_TB_POS],
        st[ST_TB_VAL],
    )
    si[S_TABLE_VERSION] = si[S_VERSION]
    si[S_TABLE_N] = n
    if n > 0:
        val = st[ST_TB_VAL]
        sf = st[ST_SF]
        pf = st[ST_PARTY]
        for side in range(2):
            me = talks[T_FIRST + side]
            you = talks[T_SECOND - side]
            sort_side(val[me], val[you], n, st[ST_SD_ORDER][side], st[ST_SD_RANKED][side])
            low = val[me, 0]
            high = val[me, 0]
            for j in range(1, n):
                low = min(low, val[me, j])
                high = max(high, val[me, j])
            sf[F_UMIN_A + 2 * side] = max(low, pf[P_RESERVATION, me])
            sf[F_UMAX_A + 2 * side] = high
    return n


@register_jitable
def round_days(plan: Arrays, st: Arrays) -> int:
    return max(1, 2 * relay_delay(plan, st))


@register_jitable
def relay_delay(plan: Arrays, st: Arrays) -> int:
    m = plan[PL_TALKS][T_MEDIATOR]
    return st[ST_RELAY][m] if m >= 0 else 0


@register_jitable
def n_rounds(plan: Arrays, st: Arrays, party: int) -> int:
    return max(1, int(plan[PL_NEGOTIATORS][party, N_DEADLINE]) // round_days(plan, st))


@register_jitable
def aspiration_threshold(plan: Arrays, st: Arrays, side: int, k: int) -> tuple[float, float]:
    """A side's relative time in round k and the least value it accepts then."""
    me = plan[PL_TALKS][T_FIRST + side]
    t = (k + 1) / (n_rounds(plan, st, me) + 1)
    sf = st[ST_SF]
    lo = threshold(
        t,
        plan[PL_NEGOTIATORS][me, N_EXPONENT],
        sf[F_UMIN_A + 2 * side],
        sf[F_UMAX_A + 2 * side],
        plan[PL_REALS][R_TOLERANCE],
    )
    return t, lo


@register_jitable
def talk_step(plan: Arrays, st: Arrays) -> tuple[int, int, int, int]:
    """Play whatever of the talks falls on today: (how they end, by whom, the agreed
    outcome, via what); GOING_ON while they go on."""
    si = st[ST_SI]
    n = table(plan, st)
    if n == 0:
        return NO_OUTCOMES, -1, -1, -1
    days = round_days(plan, st)
    k = (si[S_DAY] - si[S_TALKS_START]) // days
    offset = (si[S_DAY] - si[S_TALKS_START]) % days
    second = relay_delay(plan, st) % days
    if offset == 0 or offset == second:
        si[S_ROUNDS] = k + 1
    if offset == 0:
        result = act(plan, st, 0, k)
        if result[0] != GOING_ON:
            return result
    if offset == second:
        result = act(plan, st, 1, k)
        if result[0] != GOING_ON:
            return result
        return check_stall(plan, st, k)
    return GOING_ON, -1, -1, -1


@register_jitable
def act(plan: Arrays, st: Arrays, side: int, k: int) -> tuple[int, int, int, int]:
    """One side's move in round k: leave at its deadline, break off, accept the last
    offer, or make its own."""
    si = st[ST_SI]
    talks = plan[PL_TALKS]
    me = talks[T_FIRST + side]
    other = talks[T_SECOND - side]
    log_i, log_f = st[ST_LOG_I], st[ST_LOG_F]
    if k >= n_rounds(plan, st, me):
        si[S_ROUNDS] = min(si[S_ROUNDS], k)  # the round it did not answer is not played
        record(si, log_i, log_f, TIMEOUT, me, 0, 0, 0, 0)
        return DEADLINE, me, -1, -1
    if next_double(st[ST_RNG]) < plan[PL_NEGOTIATORS][me, N_BREAKDOWN]:
        record(si, log_i, log_f, BREAKDOWN, me, 0, 0, 0, 0)
        return BROKEN_OFF, me, -1, -1
    t, lo = aspiration_threshold(plan, st, side, k)
    val = st[ST_TB_VAL]
    pos = st[ST_TB_POS]
    a, b = talks[T_FIRST], talks[T_SECOND]
    incoming = si[S_LAST_A + 1 - side]
    if incoming >= 0 and pos[incoming] >= 0:
        place = pos[incoming]
        if val[me, place] >= lo:
            row = record(si, log_i, log_f, ACCEPT_OFFER, me, other, incoming, 0, 0)
            if row >= 0:
                log_f[row, 0] = val[a, place]
                log_f[row, 1] = val[b, place]
                log_f[row, 2] = lo
            return DEAL, -1, place, VIA_OFFER
    n = si[S_TABLE_N]
    place = offer(st[ST_SD_RANKED][side], st[ST_SD_ORDER][side], n, lo)
    outcome = st[ST_TB_GRID][place]
    row = record(si, log_i, log_f, OFFER, me, other, outcome, k, 1 if incoming >= 0 else 0)
    if row >= 0:
        log_i[row, 7] = relay_delay(plan, st)
        log_f[row, 0] = val[a, place]
        log_f[row, 1] = val[b, place]
        log_f[row, 2] = t
        log_f[row, 3] = lo
    si[S_LAST_A + side] = outcome
    return GOING_ON, -1, -1, -1


@register_jitable
def check_stall(plan: Arrays, st: Arrays, k: int) -> tuple[int, int, int, int]:
    """Count the rounds without a concession; at the mediator's limit, its text."""
    si = st[ST_SI]
    sf = st[ST_SF]
    talks = plan[PL_TALKS]
    val = st[ST_TB_VAL]
    pos = st[ST_TB_POS]
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
    pf = st[ST_PARTY]
    n = si[S_TABLE_N]
    log_i, log_f = st[ST_LOG_I], st[ST_LOG_F]
    place = nash(val[a], val[b], n, pf[P_RESERVATION, a], pf[P_RESERVATION, b])
    if place < 0:
        record(si, log_i, log_f, TEXT, -1, 0, 0, 0, 0)
        return GOING_ON, -1, -1, -1
    outcome = st[ST_TB_GRID][place]
    row = record(si, log_i, log_f, TEXT, outcome, si[S_STALLED], 0, 0, 0)
    if row >= 0:
        log_f[row, 0] = val[a, place]
        log_f[row, 1] = val[b, place]
    vetoes = 0
    for side in range(2):
        me = talks[T_FIRST + side]
        lo = aspiration_threshold(plan, st, side, k)[1]
        accepts = val[me, place] >= lo
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


@register_jitable
def record_deal(plan: Arrays, st: Arrays, place: int, via: int) -> int:
    """Keep the deal on table place ``place`` (its day, round, outcome, values and each
    side's satisfaction); returns its outcome."""
    si = st[ST_SI]
    talks = plan[PL_TALKS]
    val = st[ST_TB_VAL]
    pf = st[ST_PARTY]
    n = si[S_TABLE_N]
    outcome = int(st[ST_TB_GRID][place])
    j = si[S_DEALS]
    si[S_DEALS] = j + 1
    if j >= plan[PL_SIZES][Z_DEALS]:
        si[S_DEAL_FULL] = 1
        return outcome
    deal_i, deal_f = st[ST_DEAL_I], st[ST_DEAL_F]
    deal_i[j, D_DAY] = si[S_DAY]
    deal_i[j, D_ROUND] = (si[S_DAY] - si[S_TALKS_START]) // round_days(plan, st)
    deal_i[j, D_OUTCOME] = outcome
    deal_i[j, D_VIA] = via
    for side in range(2):
        p = talks[T_FIRST + side]
        value = val[p, place]
        best = val[p, 0]
        for m in range(1, n):
            best = max(best, val[p, m])
        span = best - pf[P_RESERVATION, p]
        deal_f[j, side] = value
        deal_f[j, 2 + side] = (value - pf[P_RESERVATION, p]) / span if span > 0 else 0.0
    return outcome
