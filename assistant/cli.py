"""The front door: `assistant COMMAND ...`. Argument parsing and output only;
the work happens in the modules each command calls."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant import __version__
from assistant.errors import AssistantError
from assistant.intents import DEFAULT_INTENTS_DIR, IntentSet, load_intents
from assistant.profiles import DEFAULT_PROFILES_DIR, DeviceProfile, load_profiles

log = logging.getLogger("assistant")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except AssistantError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assistant", description="Offline voice commands for watches and appliances.")
    parser.add_argument("--version", action="version", version=f"assistant {__version__}")
    parser.add_argument(
        "--intents", type=Path, default=DEFAULT_INTENTS_DIR, help="intent definitions folder (default: %(default)s)"
    )
    parser.add_argument(
        "--profiles", type=Path, default=DEFAULT_PROFILES_DIR, help="device profiles folder (default: %(default)s)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debugging detail")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    intents = commands.add_parser("intents", help="list the domains and intents a device understands")
    intents.add_argument("--device", help="only what this device profile enables")
    intents.add_argument("--json", action="store_true", help="print JSON")
    intents.set_defaults(run=_run_intents)

    profiles = commands.add_parser("profiles", help="list device profiles, or show one")
    profiles.add_argument("--json", action="store_true", help="print JSON")
    profiles.set_defaults(run=_run_profiles)
    profile_commands = profiles.add_subparsers(title="profile commands", metavar="SUBCOMMAND")
    show = profile_commands.add_parser("show", help="every setting of one profile")
    show.add_argument("name", help="profile name, e.g. smartwatch")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(run=_run_profile_show)

    data = commands.add_parser("data", help="training data tools")
    data_commands = data.add_subparsers(title="data commands", metavar="SUBCOMMAND")
    generate = data_commands.add_parser("generate", help="generate the synthetic command corpus")
    generate.add_argument(
        "--out", type=Path, required=True, help="output folder (train.jsonl, validation.jsonl, summary.json)"
    )
    generate.add_argument("--device", help="only this device's domains; other devices' commands become negatives")
    generate.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    generate.add_argument("--size", type=int, default=200_000, help="number of unique examples (default: %(default)s)")
    generate.add_argument("--json", action="store_true", help="print the summary as JSON")
    generate.set_defaults(run=_run_generate)
    data.set_defaults(run=lambda args: _usage(data))
    return parser


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _load(args: argparse.Namespace) -> tuple[IntentSet, dict[str, DeviceProfile]]:
    intents = load_intents(args.intents)
    return intents, load_profiles(intents, args.profiles)


def _profile(profiles: dict[str, DeviceProfile], name: str) -> DeviceProfile:
    if name not in profiles:
        raise AssistantError(f"unknown device {name!r} (profiles: {', '.join(sorted(profiles))})")
    return profiles[name]


def _run_intents(args: argparse.Namespace) -> int:
    intents = load_intents(args.intents)
    if args.device:
        intents = intents.restricted_to(_profile(load_profiles(intents, args.profiles), args.device).domains)
    listing: dict[str, list[dict[str, Any]]] = {
        "domains": [
            {
                "name": domain.name,
                "intents": [
                    {
                        "name": intent.name,
                        "slots": [
                            {"name": s.name, "type": s.type.name, "required": s.required} for s in intent.slots.values()
                        ],
                        "confirm": intent.confirm,
                    }
                    for intent in domain.intents
                ],
            }
            for domain in intents.domains
        ]
    }
    if args.json:
        _print_json(listing)
        return 0
    for domain in listing["domains"]:
        print(f"{domain['name']}")
        for intent in domain["intents"]:
            slots = ", ".join(f"{s['name']}:{s['type']}{'' if s['required'] else '?'}" for s in intent["slots"])
            flag = "  (confirm)" if intent["confirm"] else ""
            print(f"  {intent['name']:<36} {slots}{flag}")
    print(f"\n{len(listing['domains'])} domains, {len(intents.intents)} intents")
    return 0


def _run_profiles(args: argparse.Namespace) -> int:
    _, profiles = _load(args)
    summaries = [profile.summary() for profile in profiles.values()]
    if args.json:
        _print_json({"profiles": summaries})
        return 0
    header = f"{'name':<16} {'memory MB':>9} {'power mW':>9} {'listening':<13} {'recognizer':<18} {'cpu x':>6}  domains"
    print(header)
    print("-" * len(header))
    for s in summaries:
        print(
            f"{s['name']:<16} {s['memory_limit_mb']:>9g} {s['power_budget_mw']:>9g} {s['listening']:<13} "
            f"{s['recognizer']:<18} {s['cpu_factor']:>6g}  {', '.join(s['domains'])}"
        )
    return 0


def _run_profile_show(args: argparse.Namespace) -> int:
    _, profiles = _load(args)
    profile = _profile(profiles, args.name).to_dict()
    if args.json:
        _print_json(profile)
        return 0
    for key, value in profile.items():
        if isinstance(value, dict):
            print(f"{key}:")
            for sub_key, sub_value in value.items():
                print(f"  {sub_key}: {sub_value}")
        else:
            print(f"{key}: {', '.join(value) if isinstance(value, list) else value}")
    return 0


def _run_generate(args: argparse.Namespace) -> int:
    from assistant.datagen import CorpusGenerator, write_corpus

    intents = load_intents(args.intents)
    other = None
    if args.device:
        profile = _profile(load_profiles(intents, args.profiles), args.device)
        enabled = set(profile.domains)
        other = (
            intents.restricted_to(d for d in intents.domain_names() if d not in enabled)
            if len(enabled) < len(intents.domains)
            else None
        )
        intents = intents.restricted_to(profile.domains)
    if args.size < 1:
        raise AssistantError(f"--size must be at least 1, got {args.size}")
    started = time.perf_counter()
    generator = CorpusGenerator(intents, seed=args.seed, other_device=other)
    show_progress = sys.stderr.isatty() and not args.json

    def progress(done: int, total: int) -> None:
        if show_progress:
            print(f"\rgenerating: {done:>8,} / {total:,} examples", end="", file=sys.stderr, flush=True)

    corpus = generator.generate(args.size, progress)
    if show_progress:
        print(file=sys.stderr)
    summary = write_corpus(corpus, args.out, intents, args.device)
    summary["seconds"] = round(time.perf_counter() - started, 1)
    if args.json:
        _print_json(summary)
        return 0
    _print_generation_summary(summary, args.out)
    return 0


def _print_generation_summary(summary: dict[str, Any], out: Path) -> None:
    print(f"{'intent':<36} {'train':>8} {'validation':>10}")
    for name, counts in summary["per_intent"].items():
        print(f"{name:<36} {counts.get('train', 0):>8,} {counts.get('validation', 0):>10,}")
    splits = summary["splits"]
    print(f"{'total':<36} {splits['train']:>8,} {splits['validation']:>10,}")
    print(f"\n{summary['examples']:,} unique examples in {summary['seconds']} s -> {out}")
    print("variants: " + ", ".join(f"{k} {v:,}" for k, v in sorted(summary["variants"].items())))
    if summary["exhausted_intents"]:
        print(f"intents whose templates ran out of new sentences: {', '.join(summary['exhausted_intents'])}")
    if summary["collision_count"]:
        print(f"warning: {summary['collision_count']} sentences were produced by two intents (see summary.json)")


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))
