"""An episode's state: a few flat arrays with named slots.

``si`` holds the integer scalars (slots ``S_*``), ``sf`` the real ones (``F_*``); the
other arrays are the holdings, the reach of each custody, each party's values, the
batches still due, the hand-overs waiting for verification, the agreement in force and
the table of the talks. :func:`new_state` makes them for one episode from the plan and
that episode's parameters.
"""

from __future__ import annotations

from typing import Any

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
) = range(37)
N_SI = 37

# Real scalars (sf).
F_GIFT_A, F_GIFT_B, F_UMIN_A, F_UMAX_A, F_UMIN_B, F_UMAX_B = range(6)
N_SF = 6

NO_AGREEMENT = -2  # S_AGREEMENT: none; -1: the scenario's; k >= 0: the deal on outcome k
SCENARIO_AGREEMENT = -1

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
) = range(13)

# The plan, as the kernel's tuple of arrays (``_episode.plan_arrays``).
(
    PL_ORDER,
    PL_EVENTS,
    PL_EVENT_CHANGE,
    PL_SIDE,
    PL_AGREEMENT,
    PL_DUE,
    PL_TALKS,
    PL_NEGOTIATORS,
    PL_GRID_DAYS,
    PL_GRID_PER_DAY,
    PL_GRID_HEAD,
    PL_GRID_RATIO,
    PL_ISSUE_COLUMNS,
    PL_ISSUE_ORDER,
    PL_TEMPLATE,
    PL_FLOW_CATEGORIES,
    PL_FLOW_TO_HOLDER,
    PL_REALS,
    PL_SIZES,
    PL_REACH,
) = range(20)
# PL_REALS: acceptance tolerance. PL_SIZES: days, room for extensions and for deals
# (an episode with more marks S_DEAL_FULL / counts on), uses Python >= 3.12's
# compensated sum (1) or not (0), room for the batches due. PL_REACH: each custody's
# reach on the first day.
R_TOLERANCE = 0
Z_DAYS, Z_EXTENSIONS, Z_DEALS, Z_NEUMAIER, Z_DUE = range(5)
# PL_TALKS columns.
T_FIRST, T_SECOND, T_MEDIATOR, T_STALL_LIMIT, T_START, T_RESTART, T_TEMPLATE = range(7)
# PL_NEGOTIATORS columns.
N_EXPONENT, N_DEADLINE, N_BREAKDOWN = range(3)

# One episode's state, as the kernel's tuple of arrays (``_episode.new_state``).
(
    ST_SI,
    ST_SF,
    ST_HOLD,
    ST_REACH,
    ST_PARTY,
    ST_FLOWS,
    ST_WEIGHT,
    ST_RELAY,
    ST_COST,
    ST_DUE,
    ST_PENDING_DAY,
    ST_PENDING,
    ST_AG,
    ST_AGF,
    ST_TB_GRID,
    ST_TB_POS,
    ST_TB_VAL,
    ST_SD_ORDER,
    ST_SD_RANKED,
    ST_RELEASED,
    ST_SIDE_RELEASED,
    ST_EXTENSIONS,
    ST_DEAL_I,
    ST_DEAL_F,
    ST_RNG,
    ST_LOG_I,
    ST_LOG_F,
    ST_WORK,
    ST_WORK2,
) = range(29)
# ST_DEAL_I columns: day, round, outcome, via (0 offer, 1 mediator text). ST_DEAL_F:
# value of the first mover, of the other side, their satisfactions.
D_DAY, D_ROUND, D_OUTCOME, D_VIA = range(4)

Arrays = tuple[Any, ...]  # the plan's or an episode's tuple of arrays
I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
U64 = NDArray[np.uint64]
