"""One episode on the kernel: its plan and state as arrays, run with the log on.

:func:`plan_arrays` turns a :class:`~._plan.Plan` into the kernel's tuple of arrays;
:func:`new_state` (a kernel function too, so that a compiled ensemble makes each
episode's state itself) gives one episode's state; :func:`run_logged` runs a single
episode as plain Python with the event log on, growing the log until it fits.
"""

from __future__ import annotations

import sys

import numpy as np
from numpy.typing import NDArray

from ._jit import allocating, inline
from ._kernel import run_episode
from ._log import new_log
from ._plan import AG_CATS, AG_DAYS, AG_NB, AG_NX, P_REFUSAL, Params, Plan
from ._rng import SEED_WORK
from ._state import (
    F64,
    F_KEPT,
    I64,
    N_SF,
    N_SI,
    NO_AGREEMENT,
    S_AGREEMENT,
    S_END_BY,
    S_END_DAY,
    S_END_REASON,
    S_HELD_ON,
    S_ISSUES_KNOWN,
    S_KEEP,
    S_LAST_A,
    S_LAST_B,
    S_LOG_FULL,
    S_NEXT_PHASE,
    S_NEXT_TALKS,
    S_PAUSE_END,
    S_PAUSE_START,
    S_TABLE_VERSION,
    SCENARIO_AGREEMENT,
    T_START,
    Z_DAYS,
    Z_DEALS,
    Z_DUE,
    Z_EXTENSIONS,
    PlanArrays,
    State,
)


def plan_arrays(plan: Plan, extensions: int, deals: int) -> PlanArrays:
    """The kernel's plan: the plan's arrays, with room for ``extensions`` extensions
    and ``deals`` deals an episode."""
    s = plan.scenario
    reach = np.zeros(len(plan.custodies), dtype=np.int64)
    for g in s.groups:
        reach[plan.custodies.index(g.id)] = int(g.reachable)
    longest = max(
        [plan.initial_due.size, *plan.grid_days.astype(np.int64).tolist(), 0]
        + [int(d) for d in plan.phases[:, AG_DAYS].tolist()]  # each written phase's days
    )
    sizes = np.array(
        [
            plan.n_days,
            extensions,
            deals,
            int(sys.version_info >= (3, 12)),
            plan.n_days + longest + 1,
        ],
        dtype=np.int64,
    )
    return PlanArrays(
        plan.custody_order,
        plan.events,
        plan.event_change,
        plan.side,
        plan.agreement,
        plan.initial_due,
        plan.talks,
        plan.negotiators,
        plan.grid_days,
        plan.grid_per_day,
        plan.grid_head,
        plan.grid_ratio,
        plan.issue_columns,
        plan.issue_order,
        plan.template,
        plan.flow_categories,
        plan.flow_to_holder,
        np.array([plan.tolerance]),
        sizes,
        reach,
        len(plan.mediators),
        *_combinations(plan),
        plan.handovers,
        plan.handover_counter,
        plan.groups,
        plan.group_rate,
        plan.xdated,
        plan.postpone,
        plan.obligations,
        plan.tie_rank,
        plan.phases,
    )


def _combinations(plan: Plan) -> tuple[I64, F64, I64, F64, I64]:
    """What the table's outcomes share: the captives they ask for and the category
    that goes first decide what the holder releases, the same for every outcome of
    that combination (``grid_combo[g]``: outcome g's; ``combo_captives``,
    ``combo_head``); the template's ratios by its categories (``[j, g]``); for each
    flow category, its place among the exchange categories (-1: none)."""
    t = plan.template
    n_c = len(plan.categories)
    holder_cats = t[AG_CATS : AG_CATS + t[AG_NB]]
    exchange_cats = t[AG_CATS + n_c : AG_CATS + n_c + t[AG_NX]].tolist()
    captives = plan.grid_days * plan.grid_per_day
    keys = np.stack([captives, plan.grid_head.astype(np.float64)])
    unique, combo = np.unique(keys, axis=1, return_inverse=True)
    ratios = np.ascontiguousarray(plan.grid_ratio[:, holder_cats].T)
    flow_x = [exchange_cats.index(c) if c in exchange_cats else -1 for c in plan.flow_categories]
    return (
        combo.reshape(-1).astype(np.int64),
        np.ascontiguousarray(unique[0]),
        unique[1].astype(np.int64),
        ratios,
        np.array(flow_x, dtype=np.int64),
    )


@allocating
def new_state(plan: PlanArrays, n_p: int, n_c: int, log_i: I64, log_f: F64) -> State:
    """Room for one episode's state (``_state.State``), ``n_p`` parties and
    ``n_c`` categories; :func:`reset_state` fills it for an episode. A log of no rows
    switches the log off."""
    sizes = plan.sizes
    n_days = sizes[Z_DAYS]
    n_g = max(1, plan.grid_days.size)
    n_k = plan.reach.size
    return State(
        np.zeros(N_SI, dtype=np.int64),
        np.zeros(N_SF),
        np.zeros((n_p, n_c, n_k), dtype=np.int64),
        np.zeros(n_k, dtype=np.int64),
        np.zeros((5, n_p)),
        np.zeros((2, n_p, n_c)),
        np.zeros((n_p, plan.issue_columns.shape[1])),
        np.zeros(plan.mediators, dtype=np.int64),
        np.zeros(n_p),
        np.zeros(sizes[Z_DUE], dtype=np.int64),
        np.full(n_days + 1, -1, dtype=np.int64),
        np.zeros((n_days + 1, n_c), dtype=np.int64),
        np.zeros(AG_CATS + 3 * n_c, dtype=np.int64),
        np.zeros(1 + n_p),
        np.zeros(n_g, dtype=np.int64),
        np.zeros(n_g, dtype=np.int64),
        np.zeros((n_p, n_g)),
        np.zeros((2, n_g), dtype=np.int64),
        np.zeros((2, n_g + 1), dtype=np.int64),
        np.zeros((2, n_g)),
        np.zeros((2, n_g + 1), dtype=np.int64),
        np.zeros((2, n_g), dtype=np.int64),
        np.zeros((n_p, n_c), dtype=np.int64),
        np.zeros(n_c, dtype=np.int64),
        np.zeros(sizes[Z_EXTENSIONS], dtype=np.int64),
        np.zeros((sizes[Z_DEALS], 4), dtype=np.int64),
        np.zeros((sizes[Z_DEALS], 4)),
        np.zeros(4, dtype=np.uint64),
        log_i,
        log_f,
        np.zeros(n_c + 1, dtype=np.int64),
        np.zeros(n_c + 1, dtype=np.int64),
        np.zeros(n_c + 1, dtype=np.int64),
        np.zeros(SEED_WORK, dtype=np.uint64),
        np.zeros((n_p + 3, max(n_c, n_p, plan.flow_categories.size, 1))),
        np.zeros(max(n_c, 1), dtype=np.int64),
        np.zeros((n_p, plan.grid_days.size)),
        np.zeros((plan.flow_categories.size, plan.grid_days.size)),
        np.zeros(plan.grid_days.size),
        np.zeros((plan.combo_captives.size, n_c + 1)),
        np.zeros(2 + n_p * n_c * n_k + n_k, dtype=np.int64),
        np.zeros(2 * n_p + 2 * n_p * n_c + n_p * plan.issue_columns.shape[1]),
        np.full((2, n_days + 1), np.nan),
        np.full(2, -1, dtype=np.int64),
        np.zeros(plan.handovers.shape[0], dtype=np.int64),
        np.zeros(plan.xdated.shape[0], dtype=np.int64),
        np.full(n_days + 1, -1, dtype=np.int64),
        np.zeros(n_days + 1, dtype=np.int64),
        np.zeros((n_p, n_c, n_k), dtype=np.int64),
        np.zeros(n_c + 1, dtype=np.int64),
        np.zeros(n_g, dtype=np.int64),
        np.zeros(2 + n_p * n_c * n_k + n_k, dtype=np.int64),
        np.zeros(2 * n_p + 2 * n_p * n_c + n_p * plan.issue_columns.shape[1]),
        np.zeros((n_p, n_g)),
        np.zeros((2, n_g), dtype=np.int64),
        np.zeros(n_g),
    )


@inline
def reset_state(
    plan: PlanArrays,
    st: State,
    hold: I64,
    relay: I64,
    party: F64,
    flows: F64,
    weight: F64,
    delay: float,
) -> None:
    """Set ``st`` to the first morning of an episode with these parameters (its random
    stream, ``st.rng``, is set by the caller)."""
    si = st.si
    # The issues' values of the outcomes outlive an episode while the weights are the
    # same (no prior on them): the next episode's tables need not compute them again.
    same = True
    for p in range(st.weight.shape[0]):
        for j in range(st.weight.shape[1]):
            same = same and st.weight[p, j] == weight[p, j]
    known = si[S_ISSUES_KNOWN] if same else 0
    si[:] = 0
    si[S_ISSUES_KNOWN] = known
    si[S_PAUSE_START] = -1
    si[S_PAUSE_END] = -1
    si[S_END_REASON] = -1
    si[S_END_BY] = -1
    si[S_END_DAY] = -1
    si[S_LAST_A] = -1
    si[S_LAST_B] = -1
    si[S_TABLE_VERSION] = -1
    si[S_NEXT_TALKS] = plan.talks[T_START]
    si[S_NEXT_PHASE] = -1
    si[S_HELD_ON] = -1
    si[S_KEEP] = 1
    st.sf[:F_KEPT] = 0.0
    # Element by element: compiled without the runtime, an array copied onto another
    # may not make the temporary copy numba's slice assignment may need.
    n_p, n_c, n_k = st.hold.shape
    for p in range(n_p):
        for c in range(n_c):
            for k in range(n_k):
                st.hold[p, c, k] = hold[p, c, k]
            for t in range(2):
                st.flows[t, p, c] = flows[t, p, c]
        for j in range(st.party.shape[0]):
            st.party[j, p] = party[j, p]
        for j in range(st.weight.shape[1]):
            st.weight[p, j] = weight[p, j]
    for k in range(n_k):
        st.reach[k] = plan.reach[k]
    for m in range(st.relay.size):
        st.relay[m] = relay[m]
    st.cost[:] = 0.0
    st.pending_day[:] = -1
    st.pending_h[:] = -1
    st.pending_moved[:] = 0
    for h in range(st.handover_day.size):
        st.handover_day[h] = plan.handovers[h, 0]
    for r in range(st.xdated_day.size):
        st.xdated_day[r] = plan.xdated[r, 0]
    st.released[:] = 0
    st.side_released[:] = 0
    st.extensions[:] = -1
    st.deal_i[:] = -1
    st.deal_f[:] = np.nan
    ag, agf = st.ag, st.agf
    ag[:] = 0
    agf[:] = 0.0
    scenario_agreement = plan.agreement
    if scenario_agreement.size > 0:
        si[S_AGREEMENT] = SCENARIO_AGREEMENT
        for j in range(scenario_agreement.size):
            ag[j] = scenario_agreement[j]
        agf[0] = delay
        for p in range(n_p):
            agf[1 + p] = party[P_REFUSAL, p]
    else:
        si[S_AGREEMENT] = NO_AGREEMENT


def first_morning(plan: Plan, arrays: PlanArrays, params: Params, log_i: I64, log_f: F64) -> State:
    """A new state on the first morning of the episode of ``params`` row 0."""
    st = new_state(arrays, len(plan.parties), len(plan.categories), log_i, log_f)
    reset_state(
        arrays,
        st,
        params.holdings[0],
        params.relay_delay[0],
        params.party[0],
        params.flows[0],
        params.issue_weight[0],
        float(params.delay_probability[0]),
    )
    return st


def run_logged(plan: Plan, params: Params, rng_state: NDArray[np.uint64]) -> State:
    """Run the episode of ``params`` row 0 as plain Python, with the event log on."""
    arrays = plan_arrays(plan, extensions=plan.n_days + 1, deals=plan.n_days + 1)
    rows = 64 * plan.n_days + 256
    while True:
        log_i, log_f = new_log(rows, len(plan.categories), len(plan.parties))
        st = first_morning(plan, arrays, params, log_i, log_f)
        st.rng[:] = rng_state
        with np.errstate(over="ignore"):  # the stream's 64-bit arithmetic wraps
            run_episode(arrays, st)
        if not st.si[S_LOG_FULL]:
            return st
        rows *= 4
