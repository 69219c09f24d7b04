"""An episode's state: a few flat arrays with named slots.

``si`` holds the integer scalars (slots ``S_*``), ``sf`` the real ones (``F_*``); the
other arrays are the holdings, the reach of each custody, each party's values, the
batches still due, the hand-overs waiting for verification, the agreement in force and
the table of the talks. :func:`new_state` makes them for one episode from the plan and
that episode's parameters.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

# Integer scalars (si).
(
    S_DAY,
    S_PAUSE,
    S_GRANTED,
    S_HELD,
    S_PAUSE_START,
    S_PAUSE_END,
    S_PAUSE_DAYS,
    S_FIGHTING_DAYS,
    S_STARTED,
    S_AGREEMENT,
    S_END_REASON,
    S_END_BY,
    S_END_DAY,
    S_DELAYS,
    S_BREACHES,
    S_TALKS,
    S_TALKS_START,
    S_NEXT_TALKS,
    S_TALK_ROUNDS,
    S_DEALS,
    S_STALLED,
    S_TABLED,
    S_ROUNDS,
    S_DUE_HEAD,
    S_DUE_LEN,
    S_PENDING,
    S_EXTENSIONS,
    S_LOG_N,
    S_LOG_FULL,
    S_VERSION,
    S_TABLE_VERSION,
    S_TABLE_N,
    S_LAST_A,
    S_LAST_B,
    S_GIFT_A,
    S_GIFT_B,
    S_DEAL_FULL,
    S_ISSUES_KNOWN,  # tb_issue holds the issues' values for today's weights
    S_ROUND_DAYS,  # days a round of the talks takes (set when they open)
    S_SECOND_DAY,  # the day of a round on which the second mover acts
    S_N_ROUNDS_A,  # rounds that fit in the first mover's deadline
    S_N_ROUNDS_B,  # and in the second mover's
    S_IN_FORCE,  # the agreement is being carried out (its pause, or its one-off exchange)
    S_NEXT_PHASE,  # the outcome agreed in talks during the pause, for the next phase (-1)
    S_HELD_ON,  # days the pause has held on after its phase, while talks go on (-1: none)
    S_KEEP,  # 1 until the episode's first table: that one is kept (``_negotiation.table``)
    S_OWED,  # draws owed to the random stream, taken before its next draw (``_rng.owe``)
) = range(47)
N_SI = 47

# Real scalars (sf). Those from F_KEPT on describe the table and outlive an episode
# with it (``_negotiation.table``).
(
    F_GIFT_A,
    F_GIFT_B,
    F_UMIN_A,
    F_UMAX_A,
    F_UMIN_B,
    F_UMAX_B,
    F_LOW_A,  # the least value on the table for the first mover (its side index)
    F_SCALE_A,  # buckets per unit of value in the first mover's side index
    F_LOW_B,
    F_SCALE_B,
    F_HIGH_A,  # the greatest value on the table for the first mover
    F_HIGH_B,
) = range(12)
N_SF = 12
F_KEPT = F_LOW_A

NO_AGREEMENT = -2  # S_AGREEMENT: none; -1: the scenario's; k >= 0: the deal on outcome k;
SCENARIO_AGREEMENT = -1  # -3 - k: the phase written in row k of Plan.phases (phase k + 2)

# End reasons, in the order of END_REASONS (``_records``).
(
    END_NO_ELIGIBLE,
    END_CAP,
    END_DECLINED,
    END_COMPLETED,
    END_BREACH,
    END_HORIZON,
    END_NO_AGREEMENT,
    END_NOT_STARTED,
    END_AGREED,
    END_TALKS_DEADLINE,
    END_TALKS_BREAKDOWN,
    END_TALKS_NO_OUTCOMES,
    END_TALKS_ONGOING,
    END_HELD_ON_ENDED,
) = range(14)


# Plan.reals: acceptance tolerance. Plan.sizes: days, room for extensions and for deals
# (an episode with more marks S_DEAL_FULL / counts on), uses Python >= 3.12's
# compensated sum (1) or not (0), room for the batches due. Plan.reach: each custody's
# reach on the first day. Plan.mediators: how many mediators there are.
R_TOLERANCE = 0
Z_DAYS, Z_EXTENSIONS, Z_DEALS, Z_NEUMAIER, Z_DUE = range(5)
# Plan.talks columns.
T_FIRST, T_SECOND, T_MEDIATOR, T_STALL_LIMIT, T_START, T_RESTART, T_TEMPLATE, T_DURING = range(8)
# Plan.negotiators columns: the discount factor (1: none) and whether it is per unit of
# relative time (1) or per round (0).
N_EXPONENT, N_DEADLINE, N_BREAKDOWN, N_DISCOUNT, N_DISCOUNT_TIME = range(5)


# State.deal_i columns: day, round, outcome, via (0 offer, 1 mediator text). State.deal_f:
# value of the first mover, of the other side, their satisfactions.
D_DAY, D_ROUND, D_OUTCOME, D_VIA = range(4)

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
U64 = NDArray[np.uint64]


# -- the plan and the state as two named tuples of arrays -----------------------------
#
# A kernel function takes the plan and the state as two named tuples of arrays. Run as
# Python they are ordinary named tuples; compiled, numba's typed named tuples with the
# same fields. Tuples hold no reference count of their own, so code compiled without
# numba's runtime (the ensemble's episode loop, ``_jit``) reads and writes their arrays
# with no reference counting at all; what changes during an episode is in the arrays
# (the scalars in ``si`` and ``sf``), never a field replaced.


class PlanArrays(NamedTuple):
    """The plan's arrays (``_episode.plan_arrays``): what every episode reads."""

    order: I64
    events: I64
    event_change: F64
    side: I64
    agreement: I64
    due: I64
    talks: I64
    negotiators: F64
    grid_days: F64
    grid_per_day: F64
    grid_head: I64
    grid_ratio: F64
    issue_columns: F64
    issue_order: I64
    template: I64
    flow_categories: I64
    flow_to_holder: I64
    reals: F64
    sizes: I64
    reach: I64
    mediators: int
    grid_combo: I64  # [outcome]: its combination of captives and first category
    combo_captives: F64  # [combination]: the captives it asks for
    combo_head: I64  # [combination]: its first category (-1: the template's order)
    grid_ratio_h: F64  # [j, outcome]: its ratio for the template's j-th category
    flow_x: I64  # [flow]: its place among the template's exchange categories (-1: none)
    handovers: I64  # [h, (day, pairs, (category, count)...)]: dated hand-overs, in order
    handover_counter: I64  # [h, (has its own, count by category...)]: their own counter
    groups: I64  # [g, (split, n, categories...)]: counter-release lists of the terms
    group_rate: F64  # [g, category released]: counter-releases per captive, from list g
    xdated: I64  # [r, (day, count by category...)]: counter-releases fixed on dates
    postpone: I64  # [j, (party, from day, until day, event)]: postponements
    obligations: I64  # [o, (party, per day, by day, category)]: obligations beyond captives
    tie_rank: I64  # [party, outcome]: NegMAS's tie order (tie_break: negmas), else no columns
    phases: I64  # [k, (agreement vector, batches due...)]: the phases written after the first


class State(NamedTuple):
    """One episode's state (``_episode.new_state``)."""

    si: I64
    sf: F64
    hold: I64
    reach: I64
    party: F64
    flows: F64
    weight: F64
    relay: I64
    cost: F64
    due: I64
    pending_day: I64
    pending: I64
    ag: I64
    agf: F64
    tb_grid: I64
    tb_pos: I64
    tb_val: F64
    sd_members: I64  # [side, j]: table places by bucket of own value
    sd_start: I64  # [side, b]: where bucket b of own value starts in sd_members
    sd_values: F64  # [side, j]: the own value of sd_members[side, j]
    sd_ranked: I64  # [side, b]: 1 if bucket b is ranked (sorted, its values in sd_values)
    sd_bucket: I64  # [side, j]: the bucket of sd_members[side, j]
    released: I64
    side_released: I64
    extensions: I64
    deal_i: I64
    deal_f: F64
    rng: U64
    log_i: I64
    log_f: F64
    work: I64  # scratch: a batch by category
    work2: I64  # scratch: a counter-release by category
    work3: I64  # scratch: remainders of a proportional split
    seed_work: U64  # scratch: seeding a stream
    tb_work: F64  # scratch: building the table (per party, then per category)
    tb_reach: I64  # scratch: building the table (the other side's reach)
    tb_issue: F64  # [p, g]: party p's value of outcome g's issues (kept while the weights are)
    tb_moved: F64  # scratch: [flow, m] what the m-th outcome on the table moves
    tb_days: F64  # scratch: [m] the m-th outcome's pause days
    tb_combo: F64  # scratch: [combination, c] the holder's release; [k, n_c]: 1 if feasible
    tb_key_i: I64  # the table was last built: [0] 1 if ever, [1] its size; from holdings, reach
    tb_key_f: F64  # and each party's day values, pressure, flow values and issue weights
    aspiration: F64  # [side, k]: a side's aspiration in round k (NaN: not yet worked out)
    aspiration_rounds: I64  # [side]: the rounds of the talks ``aspiration`` is for (-1: none)
    handover_day: I64  # [h]: the day dated hand-over h is due (postponements move it)
    xdated_day: I64  # [r]: the day dated counter-release r is due
    pending_h: I64  # [v]: the dated hand-over a verification is for (-1: a daily batch)
    pending_moved: I64  # [v]: 1 once verified, its counter-releases postponed
    hold2: I64  # scratch: the counter-releaser's holdings while its releases are worked out
    counter: I64  # scratch: a counter-release by category
    tb_bucket: I64  # scratch: [m] the m-th outcome's bucket in a side index
    kp_key_i: I64  # the kept table (an episode's first): its inputs, as tb_key_i
    kp_key_f: F64  # and as tb_key_f
    kp_val: F64  # [p, m]: party p's value of its m-th outcome, but the days' term
    kp_place: I64  # [0, m]: its m-th outcome; [1, g]: outcome g's place on it (-1: none)
    kp_days: F64  # [m]: its m-th outcome's pause days
