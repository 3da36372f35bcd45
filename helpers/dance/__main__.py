"""Music to dance (chapter 08): the commands of the source project, which build the data set of
music and dances, search and train the audio-to-pose GAN, score it against the baselines and
render a dance video with the pose renderer (ControlNet):

    python -m helpers.dance train [--trials N] [--storage URL]
    python -m helpers.dance evaluate
    python -m helpers.dance predict MUSIC --out dance.mp4 [--seed S] [--seconds S] [--style NAME]

`predict` on a fresh checkout trains the small models first (with progress), or reuses the ones
`make book` cached under build/dance/. The heavy parts (torch, librosa, diffusers) are imported
inside the commands, so `--help` answers at once.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from ..errors import BadInputError, run_command
from .dancer import STYLE_NAMES


def predict(music_path: str | Path, out: str | Path, *, seed: int = 0, seconds: float | None = None,
            style: str = "hiphop", profile: str = "cpu", device: str = "cpu") -> dict[str, float]:  # fmt: skip
    """Music file -> dance video (MP4 with the music): features, the GAN's poses, the renderer."""
    from ..video import media_durations, write_mp4
    from . import music
    from .cache import trained_model
    from .config import default_config
    from .generate import generate
    from .render import load_renderer

    out = Path(out)
    if out.suffix.lower() != ".mp4":
        raise BadInputError(f"--out {out}: the dance video must be an .mp4 file")
    if style not in STYLE_NAMES:
        raise BadInputError(f"--style {style!r}: choose one of {', '.join(STYLE_NAMES)}")
    if seconds is not None and seconds < music.MIN_SECONDS:
        raise BadInputError(f"--seconds {seconds}: at least {music.MIN_SECONDS} s")
    config = default_config(profile)
    audio = music.load_audio(music_path, config.sample_rate, max_seconds=seconds)
    if seconds is not None:
        audio = audio[: int(round(seconds * config.sample_rate))]
    features = music.audio_features(audio, config.sample_rate, config.fps)
    started = time.perf_counter()
    gan, data, final = trained_model(config, device=device)
    motion = generate(gan.generator, data, features.features, style, seed, device=device)
    renderer = load_renderer(data, final, device=device)
    frames = renderer.render(motion, seed=seed)
    write_mp4(frames, out, config.fps, audio=audio, sample_rate=config.sample_rate)
    durations = media_durations(out)
    durations["music"] = len(audio) / config.sample_rate
    durations["seconds"] = time.perf_counter() - started
    return durations


def peak_memory(device: str) -> dict[str, float]:
    """{'peak_gpu_mib': ...} on CUDA (the most this process held), else {}."""
    import torch

    if not str(device).startswith("cuda") or not torch.cuda.is_available():
        return {}
    return {"peak_gpu_mib": torch.cuda.max_memory_allocated() / 2**20}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m helpers.dance", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="search hyperparameters and train the dance GAN and its renderer")
    train.add_argument("--profile", default="cpu", choices=("smoke", "cpu", "gpu"))
    train.add_argument("--trials", type=int, default=None, help="number of search trials (default: the profile's)")
    train.add_argument("--storage", default=None, help="Optuna database URL shared by several machines")
    train.add_argument("--device", default="cpu")
    scoring = sub.add_parser("evaluate", help="score the trained generator and the baselines on the test pieces")
    scoring.add_argument("--profile", default="cpu", choices=("smoke", "cpu", "gpu"))
    scoring.add_argument("--device", default="cpu")
    pred = sub.add_parser("predict", help="make a dance video for a music file")
    pred.add_argument("music", help="an audio file: wav, ogg, mp3, flac, ... mono or stereo, any sample rate")
    pred.add_argument("--out", required=True, help="the MP4 to write")
    pred.add_argument("--seed", type=int, default=0)
    pred.add_argument("--seconds", type=float, default=None, help="only the first seconds of the music")
    pred.add_argument("--style", default="hiphop", help=f"one of {', '.join(STYLE_NAMES)}")
    pred.add_argument("--profile", default="cpu", choices=("smoke", "cpu", "gpu"))
    pred.add_argument("--device", default="cpu")
    return parser


def _train(args: argparse.Namespace) -> None:
    from .cache import model_dir, trained_model
    from .config import default_config
    from .render import load_renderer

    config = default_config(args.profile)
    if args.trials is not None:
        if args.trials < 1:
            raise BadInputError(f"--trials {args.trials}: at least 1")
        config = replace(config, trials=args.trials)
    _, data, final = trained_model(config, device=args.device, storage=args.storage)
    load_renderer(data, final, device=args.device)
    print(f"trained: {model_dir(final)}", json.dumps(peak_memory(args.device)))


def _evaluate(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    from .cache import trained_model
    from .config import default_config
    from .evaluate import benchmark

    gan, data, final = trained_model(default_config(args.profile), device=args.device)
    scores, _, fps = benchmark(gan, data, final, device=args.device)
    print(json.dumps({"profile": args.profile, "device": args.device, "generator_fps": fps,
                      "seconds": time.perf_counter() - started, **peak_memory(args.device),
                      "scores": scores}, indent=1))  # fmt: skip


def _predict(args: argparse.Namespace) -> None:
    result = predict(args.music, args.out, seed=args.seed, seconds=args.seconds, style=args.style,
                     profile=args.profile, device=args.device)  # fmt: skip
    print(f"wrote {args.out}: {result['video']:.2f} s of video, {result['audio']:.2f} s of music")


COMMANDS = {"train": _train, "evaluate": _evaluate, "predict": _predict}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; a refused input is one line on stderr and exit status 2."""
    args = _parser().parse_args(argv)
    return run_command(
        lambda: COMMANDS[args.command](args),
        interrupted="nothing was written; run again to resume from the checkpoints",
    )


if __name__ == "__main__":
    raise SystemExit(main())
