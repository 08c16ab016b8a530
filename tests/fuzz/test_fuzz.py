"""Fuzzing deploysim's inputs: mutated shipped scenarios and metric files keep the contract (see
`tests/fuzz/harness.py`): exit 0 with a whole results folder, or exit 2 with a located message and
nothing written; never a traceback or a hang.

The default suite runs `DEPLOYSIM_FUZZ_CASES` cases (default 20) and replays every case of the corpus
(`tests/fuzz/corpus/*.json`: cases that once broke the contract). `scripts/fuzz` runs a large budget.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.harness import Case, contract_problems, random_case, run_case

CORPUS = sorted((Path(__file__).parent / "corpus").glob("*.json"))
CASES = int(os.environ.get("DEPLOYSIM_FUZZ_CASES", "20"))


def check(case: Case, tmp: Path) -> None:
    outcome = run_case(case, tmp)
    problems = contract_problems(case, outcome)
    assert not problems, (f"case {case.to_json()}\ncommand: deploysim {' '.join(outcome.command)}\n"
                          f"exit {outcome.exit_code}\n{outcome.output[-2000:]}\nproblems: {problems}")


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_corpus_case_keeps_the_contract(path, tmp_path):
    check(Case.from_json(path.read_text()), tmp_path)


@settings(max_examples=CASES, deadline=None, derandomize=os.environ.get("DEPLOYSIM_FUZZ_RANDOM") != "1",
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], database=None)
@given(rng=st.randoms(use_true_random=False))
def test_mutated_inputs_keep_the_contract(rng, tmp_path_factory):
    check(random_case(rng), tmp_path_factory.mktemp("case"))
