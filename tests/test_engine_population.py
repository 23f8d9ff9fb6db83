"""A population's members on the batched engine (population_backends.pinned_batch over simulate_many) have the
outcomes of their single runs (population.simulate_pinned) exactly: the same pre-dialysis values per session,
deposits, statuses and messages, a failing patient included; and the batch gives the same numbers on one thread,
on the threaded driver and in chunks."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from test_population_spec import BASE, DISTRIBUTIONS

import ckdmbd
from ckdmbd.population import simulate_pinned
from ckdmbd.population_backends import pinned_batch
from ckdmbd.simulation import SolverOptions


@pytest.fixture(scope="module")
def population(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pop")
    (folder / "base.toml").write_text(BASE, encoding="utf-8")
    text = f'[population]\nscenario = "base.toml"\nsize = 4\nseed = 3\n{DISTRIBUTIONS}'
    (folder / "spec.toml").write_text(text, encoding="utf-8")
    return ckdmbd.Population(folder / "spec.toml")


def _same(a, b) -> None:
    assert a[:2] == b[:2]
    assert (math.isnan(a[3]) and math.isnan(b[3])) or a[3] == b[3]
    assert list(a[2].columns) == list(b[2].columns)
    assert a[2].equals(b[2]), (a[2], b[2])


@pytest.mark.parametrize("threads", [1, 2])
def test_batched_members_equal_single_runs(population, threads):
    spec = population.spec
    samples = population.samples()
    volumes = [80.0, 80.0, 0.0, 80.0]  # patient 2: an empty exchangeable phosphate volume (fails), in the same batch
    samples = [{**values, "exchangeable_phosphate_volume": v} for values, v in zip(samples, volumes, strict=True)]
    options = SolverOptions.preset(spec.accuracy, specialised=True)
    batch = pinned_batch(spec.scenario, samples, options, threads)
    assert batch[2][0] == "failed" and batch[0][0] == batch[1][0] == batch[3][0] == "ok"
    for values, outcome in zip(samples, batch, strict=True):
        _same(outcome, simulate_pinned(spec.scenario, values, options))
    assert {"start_day", "pre_phosphate_mmol_L", "pre_pth_pmol_L"} <= set(batch[0][2].columns)
    assert len(batch[0][2]) == 3 and np.isfinite(batch[0][2].to_numpy()).all()


def test_population_runs_on_the_batch_and_one_by_one_alike(population, monkeypatch):
    import ckdmbd.population_backends as backends

    batched = population.run()
    monkeypatch.setattr(backends, "_batched", lambda simulate: False)  # every patient through simulate_pinned
    single = population.run()
    assert batched.patients.equals(single.patients) and batched.sessions.equals(single.sessions)


def test_a_task_of_one_patient_runs_on_the_batch_with_its_single_runs_outcome(population, monkeypatch):
    import ckdmbd.population_backends as backends

    spec = population.spec
    options = SolverOptions.preset(spec.accuracy, specialised=True)
    ok, failing = population.samples()[0], {**population.samples()[1], "exchangeable_phosphate_volume": 0.0}
    calls = []
    real = backends.pinned_batch
    monkeypatch.setattr(backends, "pinned_batch", lambda *a, **k: calls.append(len(a[1])) or real(*a, **k))
    for values in (ok, failing):
        (outcome,) = backends._simulate_chunk(simulate_pinned, spec.scenario, options, [values])
        _same(outcome, simulate_pinned(spec.scenario, values, options))
    assert calls == [1, 1]


@pytest.mark.parametrize(("n", "workers"), [(1000, 2), (200, 2), (37, 3), (7, 2), (1, 1), (9, 8)])
def test_tasks_cover_every_patient_in_order_and_shrink_at_the_end(n, workers):
    from ckdmbd.population_backends import MAX_CHUNK, chunk_bounds, chunk_size

    bounds = chunk_bounds(n, workers)
    assert bounds[0][0] == 0 and bounds[-1][1] == n
    assert all(a < b for a, b in bounds) and all(b == c for (_, b), (c, _) in itertools.pairwise(bounds))
    sizes = [b - a for a, b in bounds]
    assert max(sizes) == chunk_size(n, workers) <= MAX_CHUNK
    assert sizes == sorted(sizes, reverse=True) and sizes[-1] == 1  # the last tasks are the shortest
