"""One episode on the kernel: its plan and state as arrays, run with the log on.

:func:`plan_arrays` turns a :class:`~._plan.Plan` into the kernel's tuple of arrays;
:func:`new_state` (a kernel function too, so that a compiled ensemble makes each
episode's state itself) gives one episode's state; :func:`run_logged` runs a single
episode as plain Python with the event log on, growing the log until it fits.
"""

from __future__ import annotations

import sys

import numpy as np
from numba.extending import register_jitable
from numpy.typing import NDArray

from ._kernel import run_episode
from ._log import new_log
from ._plan import AG_CATS, Params, Plan
from ._state import (
    F64,
    I64,
    N_SF,
    N_SI,
    NO_AGREEMENT,
    PL_AGREEMENT,
    PL_GRID_DAYS,
    PL_REACH,
    PL_SIZES,
    PL_TALKS,
    S_AGREEMENT,
    S_END_BY,
    S_END_DAY,
    S_END_REASON,
    S_LAST_A,
    S_LAST_B,
    S_LOG_FULL,
    S_NEXT_TALKS,
    S_PAUSE_END,
    S_PAUSE_START,
    S_TABLE_VERSION,
    SCENARIO_AGREEMENT,
    T_START,
    U64,
    Z_DAYS,
    Z_DEALS,
    Z_DUE,
    Z_EXTENSIONS,
    Arrays,
)


def plan_arrays(plan: Plan, extensions: int, deals: int) -> Arrays:
    """The kernel's tuple of the plan's arrays (the order of ``_state.PL_*``), with room
    for ``extensions`` extensions and ``deals`` deals an episode."""
    s = plan.scenario
    reach = np.zeros(len(plan.custodies), dtype=np.int64)
    for g in s.groups:
        reach[plan.custodies.index(g.id)] = int(g.reachable)
    longest = max([plan.initial_due.size, *plan.grid_days.astype(np.int64).tolist(), 0])
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
    return (
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
    )


@register_jitable
def new_state(
    plan: Arrays,
    hold: I64,
    relay: I64,
    party: F64,
    flows: F64,
    weight: F64,
    delay: float,
    rng: U64,
    log_i: I64,
    log_f: F64,
) -> Arrays:
    """One episode's state (the order of ``_state.ST_*``) from its parameters."""
    sizes = plan[PL_SIZES]
    n_days = sizes[Z_DAYS]
    n_p, n_c = hold.shape[0], hold.shape[1]
    n_g = max(1, plan[PL_GRID_DAYS].size)
    si = np.zeros(N_SI, dtype=np.int64)
    si[S_PAUSE_START] = -1
    si[S_PAUSE_END] = -1
    si[S_END_REASON] = -1
    si[S_END_BY] = -1
    si[S_END_DAY] = -1
    si[S_LAST_A] = -1
    si[S_LAST_B] = -1
    si[S_TABLE_VERSION] = -1
    si[S_NEXT_TALKS] = plan[PL_TALKS][T_START]
    scenario_agreement = plan[PL_AGREEMENT]
    ag = np.zeros(AG_CATS + 3 * n_c, dtype=np.int64)
    agf = np.zeros(1 + n_p)
    if scenario_agreement.size > 0:
        si[S_AGREEMENT] = SCENARIO_AGREEMENT
        ag[: scenario_agreement.size] = scenario_agreement
        agf[0] = delay
        agf[1:] = party[4]
    else:
        si[S_AGREEMENT] = NO_AGREEMENT
    return (
        si,
        np.zeros(N_SF),
        hold.copy(),
        plan[PL_REACH].copy(),
        party.copy(),
        flows.copy(),
        weight,
        relay,
        np.zeros(n_p),
        np.zeros(sizes[Z_DUE], dtype=np.int64),
        np.full(n_days + 1, -1, dtype=np.int64),
        np.zeros((n_days + 1, n_c), dtype=np.int64),
        ag,
        agf,
        np.zeros(n_g, dtype=np.int64),
        np.zeros(n_g, dtype=np.int64),
        np.zeros((n_p, n_g)),
        np.zeros((2, n_g), dtype=np.int64),
        np.zeros((2, n_g)),
        np.zeros((n_p, n_c), dtype=np.int64),
        np.zeros(n_c, dtype=np.int64),
        np.zeros(sizes[Z_EXTENSIONS], dtype=np.int64),
        np.full((sizes[Z_DEALS], 4), -1, dtype=np.int64),
        np.zeros((sizes[Z_DEALS], 4)),
        rng,
        log_i,
        log_f,
        np.zeros(n_c + 1, dtype=np.int64),
        np.zeros(n_c + 1, dtype=np.int64),
    )


def run_logged(plan: Plan, params: Params, rng_state: NDArray[np.uint64]) -> Arrays:
    """Run the episode of ``params`` row 0 as plain Python, with the event log on."""
    arrays = plan_arrays(plan, extensions=plan.n_days + 1, deals=plan.n_days + 1)
    rows = 64 * plan.n_days + 256
    while True:
        log_i, log_f = new_log(rows, len(plan.categories), len(plan.parties))
        st = new_state(
            arrays,
            params.holdings[0],
            params.relay_delay[0],
            params.party[0],
            params.flows[0],
            params.issue_weight[0],
            float(params.delay_probability[0]),
            rng_state.copy(),
            log_i,
            log_f,
        )
        with np.errstate(over="ignore"):  # the stream's 64-bit arithmetic wraps
            run_episode(arrays, st)
        if not st[0][S_LOG_FULL]:
            return st
        rows *= 4
