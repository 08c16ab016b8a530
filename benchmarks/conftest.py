"""Benchmark session helpers: after the run, print each engine's time as a ratio to the others."""

from __future__ import annotations


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    session = getattr(config, "_benchmarksession", None)
    if session is None or not session.benchmarks:
        return
    from benchmarks.test_distribution_speed import summary_lines

    distribution = [bench for bench in session.benchmarks if "engine" in bench.extra_info]
    if distribution:
        terminalreporter.section("distribution at scale (median times, same run)")
        for line in summary_lines(distribution):
            terminalreporter.write_line(line)
    medians: dict[str, dict[str, float]] = {}
    for bench in session.benchmarks:
        if "engine" in bench.extra_info:
            continue
        engine = bench.name.split("[")[-1].rstrip("]").split("-")[-1]
        medians.setdefault(bench.group, {})[engine] = bench.stats.median
    terminalreporter.section("engine ratios (median times, same run)")
    for group, times in sorted(medians.items(), key=lambda item: str(item[0])):
        shipped = times.get("shipped")
        if not shipped:
            continue
        parts = [f"shipped {shipped * 1000:.1f} ms"]
        if "reference" in times:
            parts.append(f"reference/shipped = {times['reference'] / shipped:.1f}x")
        if "numpy" in times:
            parts.append(f"shipped/numpy = {shipped / times['numpy']:.2f}x")
        terminalreporter.write_line(f"{group}: " + "; ".join(parts))
