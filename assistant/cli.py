"""The front door: `assistant COMMAND ...`. Argument parsing and output only;
the work happens in the modules each command calls."""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from assistant import __version__
from assistant.errors import AssistantError
from assistant.intents import DEFAULT_INTENTS_DIR, IntentSet, load_intents
from assistant.profiles import DEFAULT_PROFILES_DIR, LISTENING_MODES, DeviceProfile, load_profiles

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
    check = profile_commands.add_parser(
        "check", help="measure memory, latency and power of a profile's components; exit 1 when over its limits"
    )
    check.add_argument("name", help="profile name")
    check.add_argument("--engine", choices=("vosk", "pocketsphinx"), help="recognizer (default: the profile's)")
    check.add_argument("--push-to-talk", action="store_true", help="measure without the wake word")
    check.add_argument("--model", type=Path, help="intent model directory (default: the shipped model)")
    check.add_argument("--json", action="store_true", help="print JSON")
    check.set_defaults(run=_run_profile_check)

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

    parse = commands.add_parser("parse", help="understand one command: intent, typed slots and reply")
    parse.add_argument("text", nargs="?", help='the command, e.g. "set a timer for 25 minutes"')
    parse.add_argument("--file", type=Path, help="parse every line of this file instead (- for standard input)")
    parse.add_argument("--device", default="smart_speaker", help="device profile (default: %(default)s)")
    parse.add_argument("--model", type=Path, help="model directory (default: the shipped model)")
    parse.add_argument("--variant", help="model variant (default: the device profile's)")
    parse.add_argument("--json", action="store_true", help="print JSON")
    parse.set_defaults(run=_run_parse)

    evaluate = commands.add_parser("eval", help="score the intent model on a labelled data set")
    evaluate.add_argument("--device", default="smart_speaker", help="device profile (default: %(default)s)")
    evaluate.add_argument("--dataset", type=Path, required=True, help="file or folder of labelled commands")
    evaluate.add_argument(
        "--format", required=True,
        choices=("synthetic", "jsonl", "hwu64", "slurp", "clinc", "home_assistant", "coffee"),
        help="coffee: recordings (labels.json + wav/) through the recognizer, then the model",
    )  # fmt: skip
    evaluate.add_argument("--snr", type=float, metavar="DB", help="coffee: mix noise/kitchen.wav in at this SNR")
    evaluate.add_argument("--engine", choices=("vosk", "pocketsphinx"), help="coffee: recognizer (default: profile)")
    evaluate.add_argument(
        "--split",
        help="synthetic: train|validation; home_assistant: train|validation|all; clinc: train|val (default: held-out)",
    )
    evaluate.add_argument("--model", type=Path, help="model directory (default: the shipped model)")
    evaluate.add_argument("--variant", help="model variant (default: the device profile's)")
    evaluate.add_argument("--errors", type=int, default=0, metavar="N", help="also print N mistakes")
    evaluate.add_argument("--json", action="store_true", help="print JSON")
    evaluate.set_defaults(run=_run_eval)

    bench = commands.add_parser("bench", help="benchmarks that print tables and write docs/")
    bench.add_argument(
        "what",
        nargs="?",
        choices=("nlu", "wake", "asr", "soak"),
        help="nlu: our model against TF-IDF and hassil baselines; wake: wake word false accepts, rejects, CPU; "
        "asr: speech recognizer exact transcripts and real-time factor; soak: minutes of speech and faults "
        "through the daemon; none, with --device or --all: memory, latency, energy and battery per device",
    )
    bench.add_argument(
        "--all", action="store_true", help="budgets, asr: every profile (else --device; asr: five devices)"
    )
    bench.add_argument(
        "--engine", choices=("vosk", "pocketsphinx"), help="devices, soak: recognizer (default: the profile's)"
    )
    bench.add_argument(
        "--model", type=Path, help="intent model directory (default: the shipped model); wake: models/wake"
    )
    bench.add_argument("--data", type=Path, help="public corpora folder (default: $ASSISTANT_DATA or ../shared/data)")
    bench.add_argument(
        "--out",
        type=Path,
        help="markdown report (default: docs/benchmarks.md; wake: docs/wakeword.md; soak: docs/soak.md)",
    )
    bench.add_argument("--phrase", action="append", help="wake: only this phrase (repeatable; default: every model)")
    bench.add_argument("--hours", type=float, default=1.0, help="wake: hours of negative speech (default: %(default)s)")
    bench.add_argument("--cache", type=Path, help="wake: feature cache (default: ~/.cache/assistant/wakeword)")
    bench.add_argument(
        "--device", action="append", help="asr, budgets, soak: this device (repeatable; asr: five; soak: coffee_maker)"
    )
    bench.add_argument("--commands", type=int, default=60, help="asr: espeak-ng commands per device (default: 60)")
    bench.add_argument(
        "--seed", type=int, default=1000, help="asr: device i's commands use seed + i; another seed is a held-out set"
    )
    bench.add_argument("--minutes", type=float, default=30.0, help="soak: minutes of audio (default: %(default)s)")
    bench.add_argument("--json", action="store_true", help="print JSON")
    bench.set_defaults(run=_run_bench)

    transcribe = commands.add_parser("transcribe", help="speech to text: run a device's recognizer on a WAV file")
    transcribe.add_argument("file", type=Path, help="a WAV file (any rate and channels; converted to 16 kHz mono)")
    transcribe.add_argument("--device", default="smartwatch", help="device profile (default: %(default)s)")
    transcribe.add_argument(
        "--engine", choices=("vosk", "pocketsphinx"), help="recognizer (default: the profile's; see the README)"
    )
    transcribe.add_argument("--mode", choices=("grammar", "open"), help="grammar or open vocabulary (default: profile)")
    transcribe.add_argument("--json", action="store_true", help='print {"text", "alternatives", "engine", "rtf"}')
    transcribe.set_defaults(run=_run_transcribe)

    models = commands.add_parser("models", help="speech models: list the known ones, download one")
    model_commands = models.add_subparsers(title="models commands", metavar="SUBCOMMAND")
    models_list = model_commands.add_parser("list", help="known models and whether each is installed")
    models_list.add_argument("--dir", type=Path, help="models folder (default: $ASSISTANT_MODELS_DIR or ~/.local/...)")
    models_list.add_argument("--json", action="store_true", help="print JSON")
    models_list.set_defaults(run=_run_models_list)
    models_download = model_commands.add_parser("download", help="download, verify and install a known model")
    models_download.add_argument("name", help="a known model, e.g. vosk-small-en-us (see `assistant models list`)")
    models_download.add_argument("--dir", type=Path, help="models folder (default: as for `models list`)")
    models_download.add_argument("--url", help="download from this address instead (a mirror); the checksum stays")
    models_download.add_argument("--force", action="store_true", help="reinstall over an installed model")
    models_download.set_defaults(run=_run_models_download)
    models.set_defaults(run=lambda args: _usage(models))

    wakeword = commands.add_parser("wakeword", help="wake word models: train one for a phrase, or run one on audio")
    wakeword_commands = wakeword.add_subparsers(title="wakeword commands", metavar="SUBCOMMAND")
    wake_train = wakeword_commands.add_parser(
        "train", help="train a wake phrase from synthesized speech, offline (needs the [train] extra)"
    )
    wake_train.add_argument("phrase", help='the wake phrase, e.g. "hey fridge"')
    wake_train.add_argument("--out", type=Path, required=True, help="model directory to write (head.tflite, wake.json)")
    wake_train.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    wake_train.add_argument(
        "--data", type=Path, help="public corpora folder (default: $ASSISTANT_DATA or ../shared/data)"
    )
    wake_train.add_argument("--cache", type=Path, help="feature cache (default: ~/.cache/assistant/wakeword)")
    wake_train.add_argument("--positives", type=int, help="distinct renders of the phrase (default: the plan's)")
    wake_train.add_argument("--epochs", type=int, help="training epochs (default: the plan's)")
    wake_train.add_argument("--tiny", action="store_true", help="seconds of data: for tests and smoke runs only")
    wake_train.add_argument("--json", action="store_true", help="print wake.json when done")
    wake_train.set_defaults(run=_run_wakeword_train)
    wake_detect = wakeword_commands.add_parser("detect", help="run a wake word model over a WAV file, stdin or the mic")
    wake_detect.add_argument("source", help="a WAV file, - for raw 16 kHz int16 on stdin, or mic")
    which = wake_detect.add_mutually_exclusive_group()
    which.add_argument("--phrase", help="a shipped phrase (default: the device's wake phrase)")
    which.add_argument("--model", type=Path, help="a model directory from `assistant wakeword train`")
    wake_detect.add_argument("--device", default="smartwatch", help="device profile (default: %(default)s)")
    wake_detect.add_argument("--threshold", type=float, help="score to fire at (default: the model's)")
    wake_detect.add_argument("--scores", action="store_true", help="print every frame's score, not only detections")
    wake_detect.add_argument("--json", action="store_true", help="print JSON lines")
    wake_detect.set_defaults(run=_run_wakeword_detect)
    wakeword.set_defaults(run=lambda args: _usage(wakeword))

    train = commands.add_parser("train", help="train the intent model (needs the [train] extra)")
    scope = train.add_mutually_exclusive_group()
    scope.add_argument("--device", help="only this device's domains")
    scope.add_argument("--all", action="store_true", help="every domain (the default; the shipped model)")
    train.add_argument(
        "--out", type=Path, required=True, help="model directory to write (resumes if it has checkpoints)"
    )
    train.add_argument("--steps", type=int, help="training steps (default: the shipped model's)")
    train.add_argument("--size", type=int, help="synthetic corpus size (default: the shipped model's)")
    train.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    train.add_argument(
        "--hold-out",
        action="store_true",
        help="keep a fifth of each intent's templates out of training and score on them, to measure "
        "how the model reads phrasings nobody wrote (default: it learns every template)",
    )
    train.add_argument(
        "--home-assistant-data",
        action=argparse.BooleanOptionalAction,
        help="train on the training templates of Home Assistant's sentences too (default: on, as the shipped "
        "model; docs/model.md)",
    )
    train.add_argument("--data", type=Path, help="public corpora folder (default: $ASSISTANT_DATA or ../shared/data)")
    train.add_argument("--tiny", action="store_true", help="a very small, fast model, for tests and smoke runs")
    train.add_argument("--json", action="store_true", help="print model.json when done")
    train.set_defaults(run=_run_train)

    simulate = commands.add_parser("simulate", help="talk to a simulated device (interactive, one turn, or a script)")
    simulate.add_argument("--device", help="device profile (a script names its own)")
    turn = simulate.add_mutually_exclusive_group()
    turn.add_argument("--say", metavar="TEXT", help="one turn from text")
    turn.add_argument("--audio", type=Path, metavar="FILE.wav", help="one turn from a recording, via the recognizer")
    turn.add_argument("--tts", metavar="TEXT", help="one turn: TEXT synthesized with espeak-ng, then recognized")
    turn.add_argument(
        "--script", type=Path, nargs="+", metavar="FILE.yaml", help="scripted conversations; exit 1 if a turn fails"
    )
    simulate.add_argument("--speak", action="store_true", help="read replies aloud with espeak-ng")
    simulate.add_argument("--engine", choices=("vosk", "pocketsphinx"), help="recognizer for --audio/--tts")
    simulate.add_argument("--model", type=Path, help="intent model directory (default: the shipped model)")
    simulate.add_argument("--variant", help="model variant (default: the profile's)")
    simulate.add_argument("--json", action="store_true", help="one JSON object per turn")
    simulate.set_defaults(run=_run_simulate)

    listen = commands.add_parser("listen", help="the voice loop: wake word, command, reply (microphone, WAV or stdin)")
    listen.add_argument("--device", required=True, help="device profile")
    listen.add_argument(
        "--input", default="mic", help="mic, mic:DEVICE, FILE.wav, or - for raw 16 kHz 16-bit mono PCM on stdin"
    )
    listen.add_argument("--push-to-talk", action="store_true", help="no wake word: every command is taken")
    listen.add_argument(
        "--listening", choices=LISTENING_MODES, help="how to listen (default: chosen by the profile's power budget)"
    )
    listen.add_argument(
        "--ignore-limits", action="store_true", help="run even over the profile's memory limit (for development)"
    )
    listen.add_argument("--engine", choices=("vosk", "pocketsphinx"), help="recognizer (default: the profile's)")
    listen.add_argument("--model", type=Path, help="intent model directory (default: the shipped model)")
    listen.add_argument("--json", action="store_true", help="one JSON event a line")
    listen.set_defaults(run=_run_listen)

    daemon = commands.add_parser(
        "daemon", help="run as a service: voice loop, event socket, Wyoming and Hermes (SIGHUP reloads)"
    )
    daemon.add_argument("--config", type=Path, help="daemon settings, YAML (see examples/daemon.yaml)")
    daemon.add_argument("--device", help="device profile (overrides the config's)")
    daemon.add_argument("--input", help="mic, mic:DEVICE, FILE.wav, or - for raw 16 kHz 16-bit mono PCM on stdin")
    daemon.add_argument("--push-to-talk", action="store_true", default=None, help="no wake word: every command")
    daemon.add_argument(
        "--listening", choices=LISTENING_MODES, help="how to listen (default: chosen by the profile's power budget)"
    )
    daemon.add_argument(
        "--ignore-limits", action="store_true", default=None, help="run even over the profile's memory limit"
    )
    daemon.add_argument("--engine", choices=("vosk", "pocketsphinx"), help="recognizer (default: the profile's)")
    daemon.add_argument("--model", type=Path, help="intent model directory (default: the shipped model)")
    daemon.add_argument("--socket", type=Path, help="serve events and commands on this Unix socket")
    daemon.add_argument("--wyoming", metavar="URI", help="serve Wyoming at URI, e.g. tcp://127.0.0.1:10800")
    daemon.add_argument("--no-stdout", action="store_true", default=None, help="no JSON events on stdout")
    daemon.add_argument("--check", action="store_true", help="validate the configuration and exit (0 fine, 2 not)")
    daemon.add_argument("--json", action="store_true", help="--check: print the report as JSON")
    daemon.set_defaults(run=_run_daemon)
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


def _device_view(intents: IntentSet, args: argparse.Namespace) -> IntentSet:
    """Only the domains that `--device` enables."""
    return intents.restricted_to(_profile(load_profiles(intents, args.profiles), args.device).domains)


def _run_intents(args: argparse.Namespace) -> int:
    intents = load_intents(args.intents)
    if args.device:
        intents = _device_view(intents, args)
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


def _run_profile_check(args: argparse.Namespace) -> int:
    from assistant.budget import check_profile

    intents, profiles = _load(args)
    profile = _profile(profiles, args.name)
    report = check_profile(
        profile, intents, model_dir=args.model, engine=args.engine, push_to_talk=args.push_to_talk,
        intents_dir=args.intents, profiles_dir=args.profiles,
    )  # fmt: skip
    data = report.to_dict()
    if args.json:
        _print_json(data)
        return 0 if report.ok else 1
    print(f"{profile.name}: {'fits' if report.ok else 'DOES NOT FIT'}")
    for component in report.components:
        print(f"  {component.name:<45} {component.mb:7.1f} MB")
    print(f"  {'process peak':<45} {report.total_mb:7.1f} MB   (limit {report.limit_mb:g} MB)")
    for stage, ms in data["latency_ms"].items():
        print(f"  latency {stage:<37} {ms['here']:7.1f} ms here, {ms['device']:7.1f} ms on the device")
    listening = report.listening
    print(f"  listening: {listening.mode}, {listening.standby_mw:.2f} mW standby ({listening.reason})")
    print(f"  energy per command: {report.energy_mj_per_command:.1f} mJ", end="")
    print(f"; battery: {report.battery_days:.1f} days" if report.battery_days is not None else " (mains powered)")
    for line in report.advice():
        print(f"  ! {line}")
    return 0 if report.ok else 1


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


def _load_model(args: argparse.Namespace) -> tuple[Any, IntentSet, DeviceProfile]:
    from assistant.nlu.runtime import DEFAULT_MODEL_DIR, IntentModel

    intents, profiles = _load(args)
    profile = _profile(profiles, args.device)
    model = IntentModel.load(intents, args.model or DEFAULT_MODEL_DIR, args.variant or profile.model_variant)
    return model, intents.restricted_to(profile.domains), profile


def _run_parse(args: argparse.Namespace) -> int:
    from assistant.nlu.replies import compose_reply

    if (args.text is None) == (args.file is None):
        raise AssistantError("give either a command or --file")
    model, device_intents, _ = _load_model(args)
    allowed = {intent.name for intent in device_intents.intents}
    if args.file is None:
        texts = [args.text]
    else:
        lines = sys.stdin.read() if str(args.file) == "-" else _read_text(args.file)
        texts = [line.strip() for line in lines.splitlines() if line.strip() and not line.startswith("#")]
    for text in texts:
        frame = model.parse(text, allowed)
        reply = compose_reply(device_intents, frame, model=model)
        if args.json:
            parsed = frame.to_dict()
            output = {
                "intent": parsed["intent"],
                "slots": parsed["slots"],
                "confidence": parsed["confidence"],
                "reply": reply.text if reply else None,
                "latency_ms": round(frame.latency_ms + (reply.latency_ms if reply else 0.0), 3),
            }
            print(json.dumps(output, ensure_ascii=False, indent=None if args.file else 2))
            continue
        print(f"> {text}")
        slots = ", ".join(f"{s.name}={s.value!r}" for s in frame.slots)
        print(f"  {frame.intent or '(not understood)'} {slots}  confidence {frame.confidence:.2f}")
        if reply is None:
            print(f"  reply: (states what the device reports)  [parse {frame.latency_ms:.1f} ms]")
        else:
            timing = f"parse {frame.latency_ms:.1f} ms, reply {reply.latency_ms:.1f} ms"
            print(f"  reply: {reply.text}  [{reply.source}; {timing}]")
    return 0


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise AssistantError(f"{path}: cannot read ({error.strerror})") from error


def _run_eval(args: argparse.Namespace) -> int:
    from assistant.datasets import data_dir, read_commands, training_texts
    from assistant.evaluation import evaluate

    model, device_intents, profile = _load_model(args)
    allowed = {intent.name for intent in device_intents.intents}
    if args.format == "coffee":
        return _run_eval_audio(args, model, device_intents, profile)
    commands = [c.within(allowed) for c in read_commands(args.format, args.dataset, model.intents, args.split)]
    excluded = 0
    if args.format in ("slurp", "hwu64", "clinc", "home_assistant"):  # never score on sentences trained on
        seen = training_texts(model.metadata, model.intents, data_dir())
        kept = [c for c in commands if c.text not in seen]
        excluded, commands = len(commands) - len(kept), kept
    mistakes: list[str] = []

    def note(command: Any, result: Any) -> None:
        if len(mistakes) < args.errors:
            got = f"{result.intent} {dict((s.name, s.value) for s in result.slots)}"
            mistakes.append(f"{command.text!r}: want {command.intent} {dict(command.slots)}, got {got}")

    report = evaluate(lambda text: model.parse(text, allowed), commands, note)
    if args.json:
        _print_json(report.to_dict())
        return 0
    print(f"{args.format} {args.dataset} on {profile.name} ({model.variant})")
    if excluded:
        print(f"  ({excluded} commands left out: the model was trained on the same sentences)")
    for key, value in report.to_dict().items():
        print(f"  {key:<18} {'-' if value is None else value}")
    for line in mistakes:
        print(f"  x {line}")
    return 0


def _run_eval_audio(args: argparse.Namespace, model: Any, device_intents: IntentSet, profile: DeviceProfile) -> int:
    from assistant.asr.factory import build_recognizer
    from assistant.audio_eval import evaluate_audio, read_audio_commands, read_noise

    commands = read_audio_commands(args.dataset, device_intents)
    noise = read_noise(args.dataset) if args.snr is not None else None
    recognizer = build_recognizer(profile, model.intents, engine=args.engine)
    allowed = {intent.name for intent in device_intents.intents}
    mistakes: list[str] = []

    def note(command: Any, result: Any, heard: str) -> None:
        if len(mistakes) < args.errors:
            got = f"{result.intent} {dict((s.name, s.value) for s in result.slots)}"
            mistakes.append(f"{command.text}: heard {heard!r}; want {command.intent} {dict(command.slots)}, got {got}")

    report = evaluate_audio(
        commands, recognizer, lambda text: model.parse(text, allowed), noise=noise, snr_db=args.snr,
        profile=profile, on_error=note,
    )  # fmt: skip
    if args.json:
        _print_json(report.to_dict())
        return 0
    snr = "clean" if args.snr is None else f"kitchen noise at {args.snr:g} dB SNR"
    print(f"{len(commands)} recordings in {args.dataset} on {profile.name} ({recognizer.engine}, {snr})")
    for key, value in report.to_dict().items():
        print(f"  {key:<18} {'-' if value is None else value}")
    for line in mistakes:
        print(f"  x {line}")
    return 0


def _require_train_extra(purpose: str, modules: tuple[str, ...]) -> None:
    """Fail with what to install before any work starts, not halfway through."""
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        raise AssistantError(
            f"{purpose} need the [train] extra ({', '.join(missing)} missing): pip install -e '.[train]'"
        )


def _run_bench(args: argparse.Namespace) -> int:
    if args.what is None:
        if not (args.device or args.all):
            raise AssistantError("bench needs what to measure: nlu, wake, asr, or --device NAME / --all")
        return _run_bench_devices(args)
    if args.what == "wake":
        return _run_bench_wake(args)
    if args.what == "asr":
        return _run_bench_asr(args)
    if args.what == "soak":
        return _run_bench_soak(args)
    args.out = args.out or Path("docs/benchmarks.md")
    _require_train_extra("benchmarks", ("sklearn", "hassil", "matplotlib"))
    from assistant.benchmarks.nlu import benchmark, markdown, plot
    from assistant.datasets import data_dir
    from assistant.nlu.runtime import DEFAULT_MODEL_DIR

    intents = load_intents(args.intents)
    results, replies = benchmark(
        intents,
        args.model or DEFAULT_MODEL_DIR,
        args.data or data_dir(),
        say=lambda m: print(f"== {m}", file=sys.stderr),
    )
    image = args.out.with_suffix(".png")
    report = markdown(results, _invocation("assistant bench nlu"), image.name, replies)
    _write_report(args.out, report)
    plot(results, image)
    if args.json:
        _print_json({"results": [r.to_dict() for r in results], "replies": [asdict(t) for t in replies]})
    else:
        print(report)
    return 0


def _run_bench_asr(args: argparse.Namespace) -> int:
    _require_train_extra("the speech benchmark's plot", ("matplotlib",))
    from assistant.benchmarks.asr import DEFAULT_DEVICES, benchmark, markdown, plot
    from assistant.datasets import data_dir
    from assistant.nlu.runtime import DEFAULT_MODEL_DIR

    intents, profiles = _load(args)
    devices = sorted(profiles) if args.all else args.device or list(DEFAULT_DEVICES)
    for name in devices:
        _profile(profiles, name)
    data = args.data or data_dir()
    results = benchmark(
        intents,
        profiles,
        devices,
        args.commands,
        data,
        say=lambda m: print(f"== {m}", file=sys.stderr),
        seed=args.seed,
        model_dir=args.model or DEFAULT_MODEL_DIR,
    )
    out = args.out or Path("docs/asr_benchmark.md")
    image = out.with_suffix(".png")
    report = markdown(results, _invocation("assistant bench asr"), image.name)
    _write_report(out, report)
    plot(results, image)
    if args.json:
        _print_json(results.to_dict())
    else:
        print(report)
    return 0


def _run_transcribe(args: argparse.Namespace) -> int:
    from assistant.asr.factory import build_recognizer
    from assistant.audio import read_wav

    intents, profiles = _load(args)
    profile = _profile(profiles, args.device)
    samples = read_wav(args.file)
    recognizer = build_recognizer(profile, intents, engine=args.engine, mode=args.mode)
    transcript = recognizer.transcribe(samples)
    if args.json:
        _print_json(transcript.to_dict())
    else:
        print(transcript.text)
    return 0


def _run_models_list(args: argparse.Namespace) -> int:
    from assistant.asr.models import KNOWN_MODELS, installed_models, models_dir

    directory = args.dir or models_dir()
    installed = {path.name: path for path in installed_models(directory)}
    listing = [
        {**model.to_dict(), "installed": str(installed[name]) if name in installed else None}
        for name, model in KNOWN_MODELS.items()
    ]
    if args.json:
        _print_json({"models_dir": str(directory), "models": listing})
        return 0
    print(f"models folder: {directory}")
    for entry in listing:
        state = f"installed in {entry['installed']}" if entry["installed"] else "not installed"
        size = f"~{entry['approx_size_mb']:g} MB"
        print(f"  {entry['name']:<20} {entry['engine']:<13} {entry['language']:<6} {size:>8}  {state}")
    return 0


def _run_models_download(args: argparse.Namespace) -> int:
    from assistant.asr.download import download_model
    from assistant.asr.models import KNOWN_MODELS

    if args.name not in KNOWN_MODELS:
        raise AssistantError(f"unknown model {args.name!r} (known: {', '.join(KNOWN_MODELS)})")
    show = sys.stderr.isatty()

    def progress(done: int, total: int | None) -> None:
        if show:
            of = f" of {total / 1e6:.1f}" if total else ""
            print(f"\rdownloading {args.name}: {done / 1e6:.1f}{of} MB", end="", file=sys.stderr, flush=True)

    path = download_model(KNOWN_MODELS[args.name], args.dir, url=args.url, progress=progress, force=args.force)
    if show:
        print(file=sys.stderr)
    print(path)
    return 0


def _run_bench_devices(args: argparse.Namespace) -> int:
    _require_train_extra("the device benchmark's plots", ("matplotlib",))
    from assistant.benchmarks.devices import benchmark, markdown, plot

    intents, profiles = _load(args)
    chosen = list(profiles.values()) if args.all else [_profile(profiles, name) for name in args.device]
    reports = benchmark(
        chosen, intents, engine=args.engine, model_dir=args.model, intents_dir=args.intents,
        profiles_dir=args.profiles, say=lambda m: print(f"== {m}", file=sys.stderr),
    )  # fmt: skip
    out = args.out or Path("docs/device_benchmarks.md" if args.all else f"docs/device_{'_'.join(args.device)}.md")
    image = out.with_suffix(".png")
    report = markdown(reports, profiles, _invocation("assistant bench --all"), image.name)
    _write_report(out, report)
    plot(reports, profiles, image)
    if args.json:
        data = [r.to_dict() for r in reports]
        _print_json(data[0] if len(data) == 1 else data)
    else:
        print(report)
    return 0 if all(r.ok for r in reports) else 1


def _run_bench_soak(args: argparse.Namespace) -> int:
    _require_train_extra("the soak's plot", ("matplotlib",))
    import tempfile

    from assistant.benchmarks.soak import DEFAULT_DEVICE, SoakSettings, markdown, plot, run_soak, to_json

    intents, profiles = _load(args)
    device = args.device[-1] if args.device else DEFAULT_DEVICE
    settings = SoakSettings(device=device, minutes=args.minutes, engine=args.engine)
    settings.check()
    evidence = Path(tempfile.mkdtemp(prefix="assistant-soak-"))  # the daemon's events and log, for a closer look
    settings = dataclasses.replace(settings, keep=evidence)
    result = run_soak(settings, intents, _profile(profiles, device), say=lambda m: print(f"== {m}", file=sys.stderr))
    (evidence / "result.json").write_text(to_json(result), encoding="utf-8")
    print(f"== the daemon's events and log, and the result as JSON: {evidence}", file=sys.stderr)
    out = args.out or Path("docs/soak.md")
    image = out.with_suffix(".png")
    report = markdown(
        result, _invocation(f"assistant bench soak --device {device} --minutes {args.minutes:g}"), image.name
    )
    _write_report(out, report)
    plot(result, image)
    print(to_json(result) if args.json else report)
    return 0 if result.ok else 1


def _run_bench_wake(args: argparse.Namespace) -> int:
    from assistant.benchmarks.wake import BenchScale, benchmark, markdown, to_json
    from assistant.datasets import data_dir
    from assistant.train.wakeword_data import default_cache_dir
    from assistant.wake import DEFAULT_WAKE_DIR

    results = benchmark(
        load_intents(args.intents),
        args.model or DEFAULT_WAKE_DIR,
        args.data or data_dir(),
        args.cache or default_cache_dir(),
        args.phrase or (),
        BenchScale(hours=args.hours),
        say=lambda m: print(f"== {m}", file=sys.stderr),
    )
    report = markdown(results, _invocation("assistant bench wake"), args.model or DEFAULT_WAKE_DIR)
    _write_report(args.out or Path("docs/wakeword.md"), report)
    print(to_json(results) if args.json else report)
    return 0


def _run_wakeword_train(args: argparse.Namespace) -> int:
    _require_train_extra("training", ("tensorflow", "keras"))
    from assistant.datasets import data_dir
    from assistant.train.wakeword import WakeTrainingPlan, replace_plan, train_wakeword
    from assistant.train.wakeword_data import default_cache_dir

    intents, profiles = _load(args)
    plan = WakeTrainingPlan.tiny() if args.tiny else WakeTrainingPlan()
    plan = replace_plan(plan, seed=args.seed, positive_renders=args.positives, epochs=args.epochs)
    show_progress = sys.stderr.isatty()

    def progress(what: str, done: int, total: int) -> None:
        if show_progress:
            end = "\n" if done == total else ""
            print(f"\r  {what}: {done:,} / {total:,}", end=end, file=sys.stderr, flush=True)

    started = time.perf_counter()
    metadata = train_wakeword(
        args.phrase,
        args.out,
        plan,
        intents,
        args.data or data_dir(),
        args.cache or default_cache_dir(),
        wake_phrases=sorted({profile.wake_phrase for profile in profiles.values()}),
        stage=lambda m: print(f"== {m}", file=sys.stderr),
        progress=progress,
    )
    if args.json:
        _print_json(metadata)
        return 0
    validation = metadata["metrics"]["validation"]
    print(f"wake word {metadata['phrase']!r} written to {args.out} in {(time.perf_counter() - started) / 60:.1f} min")
    print(
        f"threshold {metadata['detection']['threshold']}: validation false accepts "
        f"{validation['false_accepts_per_hour']:.2f}/h over {validation['hours']:.2f} h, false rejects "
        f"{validation['false_reject_rate']:.3f} of {validation['positives']}, confusables accepted "
        f"{validation['confusable_accept_rate']:.3f} of {validation['confusables']}"
    )
    return 0


def _run_wakeword_detect(args: argparse.Namespace) -> int:
    from assistant.audio import open_source
    from assistant.wake import FRAME_SAMPLES, WakeWordDetector

    if args.model:
        detector = WakeWordDetector.from_dir(args.model, threshold=args.threshold)
    else:
        phrase = args.phrase or _profile(_load(args)[1], args.device).wake_phrase
        detector = WakeWordDetector.for_phrase(phrase, threshold=args.threshold)
    count = 0
    with open_source(args.source, FRAME_SAMPLES) as source:
        for frame in source.frames():
            score = detector.process(frame)
            count += score.detected
            if not (score.detected or args.scores):
                continue
            if args.json:
                print(json.dumps({"phrase": detector.phrase, **score.to_dict()}))
            else:
                mark = "  <- wake" if score.detected else ""
                print(f"{score.end_s:8.2f} s  score {score.score:.3f}{mark}")
    if not args.json:
        print(f"{count} detection(s) of {detector.phrase!r} (threshold {detector.threshold:.3f})")
    return 0


def _run_train(args: argparse.Namespace) -> int:
    _require_train_extra("training", ("tensorflow", "keras", "sentencepiece"))
    from assistant.train.pipeline import TrainingPlan, run
    from assistant.train.trainer import ProgressBar

    intents = load_intents(args.intents)
    if args.device:
        intents = _device_view(intents, args)
    plan = TrainingPlan.tiny() if args.tiny else TrainingPlan()
    train_config = dataclasses.replace(plan.train, seed=args.seed, **({"steps": args.steps} if args.steps else {}))
    plan = dataclasses.replace(
        plan,
        corpus_seed=args.seed,
        hold_out_templates=args.hold_out,
        home_assistant_data=plan.home_assistant_data if args.home_assistant_data is None else args.home_assistant_data,
        train=train_config,
        **({"corpus_size": args.size} if args.size else {}),
    )
    bar = ProgressBar(plan.train.steps)
    started = time.perf_counter()
    metadata = run(
        plan, intents, args.out, args.data, progress=bar.update, stage=lambda m: print(f"== {m}", file=sys.stderr)
    )
    bar.close()
    if args.json:
        _print_json(metadata)
        return 0
    print(f"model written to {args.out} in {(time.perf_counter() - started) / 60:.1f} min")
    print(f"scored on commands of a held-out fifth of the templates; their phrasings: {plan.scored_phrasings}")
    print(f"{'variant':<14} {'KB':>6} {'intent acc':>10} {'frame acc':>9} {'oos recall':>10} {'p50 ms':>7}")
    for variant, info in metadata["variants"].items():
        m = metadata["metrics"][variant]["synthetic_validation"]
        oos = "-" if m["oos_recall"] is None else f"{m['oos_recall']:.3f}"
        print(
            f"{variant:<14} {info['bytes'] / 1024:>6.0f} {m['intent_accuracy']:>10.3f} {m['frame_accuracy']:>9.3f} "
            f"{oos:>10} {m['latency_ms_p50']:>7.2f}"
        )
    return 0


def _run_simulate(args: argparse.Namespace) -> int:
    from assistant.nlu.runtime import DEFAULT_MODEL_DIR, IntentModel
    from assistant.scenario import load_scenario
    from assistant.simulator import (
        Session,
        Style,
        format_turn,
        interact,
        print_scenario_result,
        run_scenario,
        turn_json,
    )

    intents, profiles = _load(args)
    scenarios = [load_scenario(path) for path in args.script or ()]
    if not scenarios and not args.device:
        raise AssistantError("simulate needs --device (or --script, whose file names the device)")
    models: dict[str, IntentModel] = {}

    def session_for(device: str) -> Session:
        profile = _profile(profiles, device)
        variant = args.variant or profile.model_variant
        if variant not in models:
            models[variant] = IntentModel.load(intents, args.model or DEFAULT_MODEL_DIR, variant)
        speech = _speech_io(args, profile, intents)
        return Session(profile, intents, models[variant], transcriber=speech[0], synthesizer=speech[1])

    style = Style(sys.stdout)
    speak = _speaker() if args.speak else None
    if scenarios:
        failed = 0
        for scenario in scenarios:
            if args.device and args.device != scenario.device:
                raise AssistantError(f"{scenario.source}: the script is for {scenario.device}, not {args.device}")
            session = session_for(scenario.device)
            if not args.json:
                print(style(f"{scenario.source} ({scenario.device}): {scenario.description}", "1"))
            for index, result in enumerate(run_scenario(session, scenario)):
                failed += not result.passed
                if not args.json:
                    print_scenario_result(result, index, sys.stdout, style)
                    continue
                check = {"script": scenario.source, "turn": index + 1, "passed": result.passed}
                for turn in result.turns or (None,):  # an advance with no notice still reports its check
                    details = turn.to_dict() if turn else {"at": session.clock.now().isoformat(timespec="seconds")}
                    print(json.dumps({**check, "problems": list(result.problems), **details}, ensure_ascii=False))
            if not args.json:
                print()
        total = sum(len(s.turns) for s in scenarios)
        if not args.json:
            summary = f"{total - failed}/{total} turns passed in {len(scenarios)} scenario(s)"
            print(style(summary, "32" if not failed else "31;1"))
        return 1 if failed else 0
    session = session_for(args.device)
    if args.say is None and args.audio is None and args.tts is None:
        interact(session, sys.stdout, as_json=args.json, speak=speak)
        return 0
    recognize_ms = None
    if args.say is not None:
        turn = session.say(args.say)
    elif args.audio is not None:
        _, turn, recognize_ms = session.hear_audio(args.audio)
    else:
        _, turn, recognize_ms = session.speak_and_hear(args.tts)
    print(turn_json(turn, recognize_ms) if args.json else format_turn(turn, style, recognize_ms))
    if speak is not None:
        speak(turn.reply.text)
    return 0


def _run_listen(args: argparse.Namespace) -> int:
    from assistant.audio import frame_samples_for, open_source
    from assistant.fitting import MemoryLedger, describe_fitting, fit_memory
    from assistant.nlu.runtime import DEFAULT_MODEL_DIR, IntentModel
    from assistant.pipeline import assemble, memory_degrader
    from assistant.profiles import load_device

    intents, profile = load_device(args.device, args.intents, args.profiles)  # only what this device needs
    ledger = MemoryLedger.starting_with("python, its libraries and the intent definitions")
    model = IntentModel.load(intents, args.model or DEFAULT_MODEL_DIR, profile.model_variant)
    ledger.note(f"intent model ({profile.model_variant})")
    loop = assemble(
        profile, intents, model, engine=args.engine, push_to_talk=args.push_to_talk, listening=args.listening,
        ledger=ledger,
    )  # fmt: skip
    fitting = fit_memory(
        profile, ledger, loop.listening, memory_degrader(loop, profile, intents, args.engine),
        enforce=not args.ignore_limits,
    )  # fmt: skip
    mode = "push-to-talk" if loop.wake is None else f"say {profile.wake_phrase!r}"
    print(f"{profile.name}: listening on {args.input} ({mode}; Ctrl-C stops)", file=sys.stderr)
    print(f"  {describe_fitting(fitting)}", file=sys.stderr)
    with open_source(args.input, frame_samples_for(profile.audio.frame_ms)) as source:
        for event in loop.run(source.frames()):
            data = event.to_dict()
            if args.json:
                print(json.dumps(data, ensure_ascii=False), flush=True)
                continue
            details = {k: v for k, v in data.items() if k not in ("type", "at_s")}
            print(f"{data['at_s']:8.2f} s  {data['type']:<10} {json.dumps(details, ensure_ascii=False)}", flush=True)
    return 0


def _run_daemon(args: argparse.Namespace) -> int:
    from assistant.daemon import Daemon, check
    from assistant.daemon_config import Overrides, load_daemon_config

    overrides = Overrides(
        device=args.device,
        input=args.input,
        push_to_talk=args.push_to_talk,
        listening=args.listening,
        ignore_limits=args.ignore_limits,
        engine=args.engine,
        model=args.model,
        intents=None if args.intents == DEFAULT_INTENTS_DIR else args.intents,
        profiles=None if args.profiles == DEFAULT_PROFILES_DIR else args.profiles,
        socket=args.socket,
        wyoming_uri=args.wyoming,
        no_stdout=args.no_stdout,
    )
    config = load_daemon_config(args.config, overrides)
    if args.check:
        report = check(config)
        if args.json:
            _print_json(report.to_dict())
            return 0
        for what, finding in report.findings:
            print(f"{what:<12} {finding}")
        print("ok: the daemon can start with this configuration")
        return 0
    if not args.verbose:
        logging.getLogger("assistant").setLevel(logging.INFO)  # a service's log says what it is doing
    return Daemon(config, out=sys.stdout).run()


def _speech_io(args: argparse.Namespace, profile: DeviceProfile, intents: IntentSet) -> tuple[Any, Any]:
    """The recognizer (built on first use: it takes a moment) and the synthesizer of a simulation."""
    from assistant.asr.factory import build_recognizer
    from assistant.endpoint import command_span
    from assistant.tts import synthesize

    recognizers: list[Any] = []

    def transcribe(samples: Any) -> tuple[str, float]:
        if not recognizers:
            recognizers.append(build_recognizer(profile, intents, engine=args.engine))
        started = time.perf_counter()
        transcript = recognizers[0].transcribe(command_span(samples, profile))
        return transcript.text, (time.perf_counter() - started) * 1000.0

    return transcribe, synthesize


def _speaker() -> Any:
    from assistant.tts import say_aloud

    return say_aloud


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


def _invocation(default: str) -> str:
    """The command line a report was made with, as its reader would type it."""
    if sys.argv and sys.argv[0].endswith(("assistant", "assistant/__main__.py")):  # the script or python -m
        return " ".join(["assistant", *sys.argv[1:]])
    return default  # run through main() by a test: the canonical command


def _write_report(path: Path, report: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report, encoding="utf-8")


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))
