"""The waiting benchmark's table and its verdict on the goals (bench_waiting.py, one connection)."""

from __future__ import annotations

from typing import Any

LABELS = {
    "amazon": ("amazon", "poll"),
    "ours-poll": ("ours", "poll (shared)"),
    "ours-push": ("ours", "push"),
    "ours-run": ("ours", "poll (run)"),
}


def fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table(results: list[dict[str, Any]]) -> str:
    header = (
        "| impl | mode | N | memory/wait (KiB) | CPU s/min | Bedrock req/min | delay p50 (s) | delay p95 (s) "
        "| fired | note |"
    )
    rows = [header, "|" + "---|" * 10]
    for r in results:
        impl, mode = LABELS[r["impl"]]
        notes = []
        if r["missed"]:
            notes.append(f"{r['missed']} ended jobs not noticed in 3 intervals + 10 s")
        if r["ended"] < r["n"]:
            notes.append(f"{r['n'] - r['ended']} jobs not ended")
        if r["completions_in_window"]:
            notes.append(f"{r['completions_in_window']} fired in the steady window")
        if r["sqs_receives"]:
            notes.append(f"{r['sqs_receives_per_min']:.0f} SQS receives/min")
        rows.append(
            f"| {impl} | {mode} | {r['n']} | {fmt(r['mem_per_wait_kb'])} | {fmt(r['cpu_per_min'], 2)} "
            f"| {fmt(r['requests_per_min'])} | {fmt(r['delay_p50'], 2)} | {fmt(r['delay_p95'], 2)} "
            f"| {r['fired']}/{r['n']} | {'; '.join(notes)} |"
        )
    return "\n".join(rows)


def goals(results: list[dict[str, Any]], interval: float) -> list[str]:
    n = max(r["n"] for r in results)
    by_impl = {r["impl"]: r for r in results if r["n"] == n}
    amazon = by_impl.get("amazon")
    lines = [f"Goals at N={n} (poll interval {interval:g} s):"]

    def verdict(name: str, value: float | None, limit: float, unit: str) -> None:
        if value is None:
            lines.append(f"- {name}: not measured")
            return
        met = value <= limit
        gap = "" if met else f", missed by {value - limit:.2f}{unit} ({value / limit:.1f}x the limit)"
        lines.append(
            f"- {name}: {value:.2f}{unit} vs limit {limit:.2f}{unit}: {'MET' if met else 'MISSED'}{gap}"
        )

    for impl in ("ours-poll", "ours-push"):
        ours = by_impl.get(impl)
        if ours is None or amazon is None:
            continue
        label = " ".join(LABELS[impl])
        verdict(
            f"memory per wait, {label} <= 1/10 of amazon's {amazon['mem_per_wait_kb']:.0f} KiB",
            ours["mem_per_wait_kb"],
            amazon["mem_per_wait_kb"] / 10,
            " KiB",
        )
        verdict(
            f"Bedrock requests/min, {label} <= 1/20 of amazon's {amazon['requests_per_min']:.0f}",
            ours["requests_per_min"],
            amazon["requests_per_min"] / 20,
            "",
        )
    if "ours-poll" in by_impl:
        verdict("completion noticed, polling, p50", by_impl["ours-poll"]["delay_p50"], interval / 2 + 1, " s")
    if "ours-push" in by_impl:
        verdict("completion noticed, push, p95", by_impl["ours-push"]["delay_p95"], 2.0, " s")
    return lines
