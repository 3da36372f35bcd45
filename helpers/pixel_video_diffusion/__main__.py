"""The command line of chapter 06's video diffusion models:

    python -m helpers.pixel_video_diffusion create-config --out base.yaml          (asks, or takes flags)
    python -m helpers.pixel_video_diffusion train --config base.yaml --device cpu [--resume]
    python -m helpers.pixel_video_diffusion generate --config base.yaml --device cpu --out-dir samples \\
        --seed 0 -n 4 --labels 0,0,0,0,1,1,1,1
    accelerate launch --multi_gpu --num_processes 2 -m helpers.pixel_video_diffusion train --config base.yaml

(`python -m helpers.video_diffusion` is the same command under its earlier name. `accelerate launch
--multi_gpu` starts one process per GPU; with `--device cpu` the same command runs its processes
on the CPU, which is how the course's tests try it.) The heavy parts (torch, diffusers,
accelerate) are imported inside the commands, so `--help` answers at once.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from ..errors import BadInputError, run_command
from .config import DOCS, QUESTIONS, create_config, load_config, parse_value, write_config

PROG = "python -m helpers.pixel_video_diffusion"


def _flag(key: str) -> str:
    return "--" + key.split(".")[-1].replace("_", "-") if key.count(".") else "--" + key.replace("_", "-")


def _parse_sets(items: Sequence[str]) -> dict[str, Any]:
    """--set KEY=VALUE pairs, each VALUE read as YAML ('16', '[1, 2]', 'true')."""
    import yaml

    answers = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or key not in DOCS:
            raise BadInputError(f"--set {item!r}: must be KEY=VALUE with a key of the schema ({', '.join(DOCS)})")
        try:
            answers[key] = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise BadInputError(f"--set {item!r}: the value is not valid YAML") from exc
    return answers


def _parser(prog: str = PROG) -> argparse.ArgumentParser:
    from .. import configs
    from .config import VideoDiffusionConfig

    defaults = configs.flatten(VideoDiffusionConfig())
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Video diffusion with a factorised space-time 3D U-Net, per-frame labels and an AdaIN upsampler.",
        epilog="Chapter 06 of the course explains the models; `<command> --help` lists each command's options.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser(
        "create-config",
        help="write a config file, asking for each value not given as a flag",
        description="Write a YAML config. Values not given as flags are asked for when run in a terminal "
        "(or with --interactive); with --defaults the defaults fill them.",
    )
    create.add_argument("--out", required=True, help="the YAML file to write")
    for key, prompt in QUESTIONS:
        create.add_argument(_flag(key), dest=key, default=None, help=f"{prompt} (default {defaults[key]})")
    create.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any other key of the config, e.g. --set model.width=16 --set model.channel_mults=[1,2] (repeatable)",
    )
    create.add_argument("--interactive", action="store_true", help="ask even when not in a terminal")
    create.add_argument("--defaults", action="store_true", help="never ask; use defaults for what is not given")
    create.add_argument("--overwrite", action="store_true", help="replace an existing file")

    train_p = sub.add_parser("train", help="train (or continue training) the model a config describes")
    train_p.add_argument("--config", "--config-path", dest="config", required=True, help="the YAML config")
    train_p.add_argument("--device", default="auto", help="auto, cpu or cuda (under accelerate launch: its choice)")
    train_p.add_argument("--resume", action="store_true", help="continue from the checkpoint in output_dir")
    train_p.add_argument("--quiet", action="store_true", help="no progress bar")

    gen = sub.add_parser("generate", help="sample clips and write them as GIF and MP4")
    gen.add_argument("-c", "--config", required=True, help="the YAML config of a trained base model")
    gen.add_argument("--device", default="auto", help="auto, cpu or cuda")
    gen.add_argument("--out-dir", required=True, help="folder for sample_NN.gif and sample_NN.mp4")
    gen.add_argument("--seed", type=int, default=0, help="same seed, same clips (default 0)")
    gen.add_argument("-n", type=int, default=1, help="how many clips (default 1)")
    gen.add_argument(
        "--labels", default=None, help="class per frame, e.g. 0,0,0,0,1,1,1,1 or red,...; one value for all frames"
    )
    gen.add_argument(
        "--vectors", default=None, help="label vector per frame, e.g. '-0.5,0;0,0;...'; one for all frames"
    )
    gen.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: Sequence[str] | None = None, prog: str = PROG) -> int:
    args = _parser(prog).parse_args(argv)

    def work() -> None:
        if args.command == "create-config":
            answers = _parse_sets(args.set)  # the named flags below win over --set
            for key, _ in QUESTIONS:
                if getattr(args, key) is not None:
                    answers[key] = parse_value(key, getattr(args, key))
            interactive = args.interactive or (sys.stdin.isatty() and not args.defaults)
            try:
                config = create_config(answers, ask=input if interactive else None)
            except EOFError:
                raise BadInputError("no answer given; pass the values as flags or --defaults") from None
            path = write_config(config, args.out, overwrite=args.overwrite)
            print(f"wrote {path}")
        elif args.command == "train":
            from .train import train

            config = load_config(args.config)
            result = train(config, args.device, resume=args.resume, show_progress=not args.quiet)
            if not result.main_process:
                return
            if result.steps_run == 0:
                print(f"{result.checkpoint} already holds {result.steps} steps; nothing to train")
            else:
                done = f"trained {result.steps_run} steps on {result.processes} process(es)"
                print(f"{done}; checkpoint {result.checkpoint}")
        else:
            from .generate import generate

            config = load_config(args.config)
            if config.kind != "base":
                raise BadInputError(f"{args.config}: generate needs a base config (it names its upsampler)")
            paths = generate(
                config,
                args.out_dir,
                device=args.device,
                seed=args.seed,
                n=args.n,
                labels=args.labels,
                vectors=args.vectors,
                show_progress=not args.quiet,
            )
            print(f"wrote {len(paths)} files to {args.out_dir}")

    return run_command(work, interrupted="the last checkpoint is kept")


if __name__ == "__main__":
    sys.exit(main())
