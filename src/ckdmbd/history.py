"""A scenario's run with its simulated history in the output (``ckdmbd run --show-history``, issue 14).

A scenario's ``history`` (for example 9.5 years on dialysis before the seed case's parathyroidectomy) is simulated
but, by default, reported from t = 0 on. Here the output grid reaches back to the start of the history: one point
per output interval (at least daily) and, for every dialysis session of the history, its start and end (the pre-
and post-dialysis values a clinic measures); the run itself (t >= 0) keeps the same grid as
:func:`ckdmbd.scenario.run_scenario`, so its values are the same ones.
"""

from __future__ import annotations

import numpy as np

from ckdmbd import units
from ckdmbd.scenario import Scenario
from ckdmbd.sessions import session_output_times, sessions
from ckdmbd.simulation import Result, simulate


def output_times_with_history(sc: Scenario) -> np.ndarray:
    """The output grid from ``-history`` to ``duration``: the run's own grid for t >= 0, a coarser one before."""
    duration, history = sc.duration_h, sc.history_h
    interval = sc.output_interval_h
    n_out = int(np.floor(duration / interval + 1e-9)) + 1
    run = np.linspace(0.0, (n_out - 1) * interval, n_out)
    if run[-1] < duration - 1e-9:
        run = np.append(run, duration)
    past_step = max(interval, units.HOURS_PER_DAY)
    past = np.arange(-history, 0.0, past_step) if history > 0 else np.empty(0)
    past_sessions = [t for begin, end in sessions(sc.events) if end < 0 and begin >= -history for t in (begin, end)]
    times = np.concatenate([past, np.asarray(past_sessions, float), run,
                            session_output_times(sc.events, duration)])
    return np.unique(times)


def run_with_history(sc: Scenario, progress=None, **options) -> Result:
    """Simulate ``sc`` like :func:`ckdmbd.scenario.run_scenario`, with outputs from the start of its history."""
    if progress is not None:
        options.update(progress=progress, progress_chunk_h=(sc.duration_h + sc.history_h) / 50)
    return simulate(sc.configuration, sc.duration_h, sc.events, parameters=sc.parameter_overrides,
                    start_h=-sc.history_h, output_times_h=output_times_with_history(sc), **options)
