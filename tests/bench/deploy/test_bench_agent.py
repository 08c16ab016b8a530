"""The pull agent's rollout buckets and its attempt limit (no root)."""

from bench.deploy import agent, pull


def test_bucket_is_stable_and_rollout_is_monotone() -> None:
    hosts = [f"h{i}" for i in range(1, 201)]
    assert [agent.bucket(h) for h in hosts] == [agent.bucket(h) for h in hosts]
    chosen = [sum(agent.selected(h, p) for h in hosts) for p in (0, 10, 25, 50, 75, 100)]
    assert chosen[0] == 0 and chosen[-1] == 200 and chosen == sorted(chosen)


def test_a_host_that_used_its_attempts_is_settled() -> None:
    failed = lambda attempts: {"state": "failed", "attempts": attempts}  # noqa: E731
    assert not pull.settled(failed(agent.MAX_ATTEMPTS - 1)) and pull.settled(failed(agent.MAX_ATTEMPTS))
    assert pull.settled({"state": "skipped", "attempts": 0}) and not pull.settled(None)
