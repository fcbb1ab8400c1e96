"""Per-device benchmark: every profile's budget check side by side, as a table
and plots, written to docs/ with the date and the machine."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from assistant.benchmarks.machine import describe as describe_machine
from assistant.budget import BudgetReport, check_profile
from assistant.intents import IntentSet
from assistant.profiles import DeviceProfile


def benchmark(
    profiles: Sequence[DeviceProfile],
    intents: IntentSet,
    *,
    engine: str | None = None,
    say: Callable[[str], None] = lambda _: None,
    **options: Path | None,
) -> list[BudgetReport]:
    reports = []
    for profile in profiles:
        say(f"{profile.name}: measuring memory, latency and power")
        reports.append(check_profile(profile, intents, engine=engine, **options))  # type: ignore[arg-type]
    return reports


def markdown(reports: Sequence[BudgetReport], profiles: dict[str, DeviceProfile], command: str, image: str) -> str:
    machine = describe_machine()
    lines = [
        "# Device budgets",
        "",
        f"Measured {date.today().isoformat()} on {machine}, one thread, with `{command}`.",
        "Latency and energy on the device scale the CPU time measured here by the profile's `cpu_factor`;",
        "memory is resident memory of a fresh process per profile (component growth, then the peak after",
        "one whole command). Listening is the profile's mode, stepped down when over its power budget.",
        "",
        "| device | fits | peak MB | limit MB | recognize ms (here / device) | understand+reply ms (here / device) "
        "| wake word % of a core here | listening | standby mW (budget) | mJ per command | battery days |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for report in reports:
        profile = profiles[report.profile]
        stages = {s.name: s for s in report.stages}
        recognize, reply = stages["recognize"], stages["understand_and_reply"]
        wake_share = 100 * report.frame_cpu_ms["wake_word"] / profile.audio.frame_ms
        battery = "mains" if report.battery_days is None else f"{report.battery_days:.1f}"
        lines.append(
            f"| {report.profile} | {'yes' if report.ok else '**no**'} | {report.total_mb:.1f} | {report.limit_mb:g} "
            f"| {recognize.wall_ms:.0f} / {recognize.device_ms:.0f} | {reply.wall_ms:.1f} / {reply.device_ms:.0f} "
            f"| {wake_share:.2f} | {report.listening.mode} | {report.listening.standby_mw:.2f} "
            f"({profile.power.budget_mw:g}) | {report.energy_mj_per_command:.0f} | {battery} |"
        )
    lines += ["", "## Memory by component (MB)", ""]
    names = list(dict.fromkeys(c.name.split(" (")[0] for r in reports for c in r.components))
    lines += ["| device | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for report in reports:
        by_name = {c.name.split(" (")[0]: c.mb for c in report.components}
        cells = " | ".join(f"{by_name[n]:.1f}" if n in by_name else "-" for n in names)
        lines.append(f"| {report.profile} | {cells} |")
    advice = [(r.profile, line) for r in reports for line in r.advice()]
    if advice:
        lines += ["", "## Over a limit", ""] + [f"- {name}: {line}" for name, line in advice]
    adapted = [r for r in reports if "over the" in r.listening.reason]
    if adapted:
        lines += ["", "## Listening adapted to the power budget", ""]
        lines += [f"- {r.profile}: {r.listening.mode} ({r.listening.reason})" for r in adapted]
    lines += ["", f"![memory, standby power and battery per device]({image})", ""]
    return "\n".join(lines)


def plot(reports: Sequence[BudgetReport], profiles: dict[str, DeviceProfile], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r.profile for r in reports]
    figure, (memory, power) = plt.subplots(1, 2, figsize=(14, 5))
    bottoms = [0.0] * len(reports)
    components = list(dict.fromkeys(c.name.split(" (")[0] for r in reports for c in r.components))
    for component in components:
        sizes = [next((c.mb for c in r.components if c.name.startswith(component)), 0.0) for r in reports]
        memory.bar(names, sizes, bottom=bottoms, label=component)
        bottoms = [b + s for b, s in zip(bottoms, sizes, strict=True)]
    memory.scatter(names, [r.limit_mb for r in reports], marker="_", s=400, color="black", label="limit", zorder=3)
    memory.set_ylabel("MB resident")
    memory.set_title("Memory per component against the profile's limit")
    memory.legend(fontsize=7)
    memory.tick_params(axis="x", rotation=60)
    power.bar(names, [r.listening.standby_mw for r in reports], label="standby (chosen listening mode)")
    power.scatter(names, [profiles[n].power.budget_mw for n in names], marker="_", s=400, color="black",
                  label="budget", zorder=3)  # fmt: skip
    power.set_yscale("log")
    power.set_ylabel("mW")
    power.set_title("Standby power against the profile's budget")
    power.legend(fontsize=7)
    power.tick_params(axis="x", rotation=60)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
