"""helpers.pixel_video_diffusion: the typed config, the network, training with resume, sampling, the
command line end to end (one process and two under accelerate launch) and its one-line errors."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from helpers import configs
from helpers.datasets import clip_span
from helpers.errors import BadInputError
from helpers.pixel_video_diffusion import config as cfg
from helpers.pixel_video_diffusion.__main__ import main
from helpers.pixel_video_diffusion.data import device_clips, prepare_batch, training_clips
from helpers.pixel_video_diffusion.diffusion import sample
from helpers.pixel_video_diffusion.generate import parse_labels, parse_vectors
from helpers.pixel_video_diffusion.model import MAX_RELATIVE, AdaIN, TemporalAttention, build_model
from helpers.pixel_video_diffusion.train import CHECKPOINT, checkpoint_path, load_model, step_generator, train

TINY = {
    "data.size": 16,
    "data.frames": 4,
    "data.skip": 1,
    "data.sequences": 16,
    "model.width": 8,
    "model.channel_mults": [1, 2],
    "model.attention_heads": 2,
    "model.style_dim": 16,
    "labels.classes": 4,
    "labels.vector_dim": 2,
    "diffusion.timesteps": 100,
    "training.steps": 4,
    "training.batch_size": 2,
    "training.checkpoint_every": 2,
    "sampling.steps": 3,
}
TINY_SETS = [
    f"--set={key}={yaml.safe_dump(value, default_flow_style=True).strip().removesuffix('...').strip()}"
    for key, value in TINY.items()
]


def tiny(tmp_path: Path, **overrides) -> cfg.VideoDiffusionConfig:
    return cfg.check_config(cfg.defaults(output_dir=str(tmp_path / "run"), **{**TINY, **overrides}))


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- config ---------------------------------------------------------------------------------


def test_defaults_pass_their_own_check_and_round_trip_through_yaml(tmp_path):
    config = cfg.defaults()
    path = cfg.write_config(config, tmp_path / "c.yaml")
    loaded = cfg.load_config(path)
    assert loaded.model == config.model and loaded.training == config.training
    assert Path(loaded.output_dir) == (tmp_path / config.output_dir).resolve()
    assert "# frames per clip (X)" in path.read_text()  # every key carries its documentation


def _write(tmp_path: Path, config: dict) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda c: c["training"].pop("steps"), "key 'training.steps' is missing"),
        (lambda c: c["data"].update(size="big"), "key 'data.size' must be an integer, found 'big'"),
        (lambda c: c["model"].update(widht=3), "key 'model.widht' is unknown"),
        (
            lambda c: c["model"].update(temporal_downsample=True) or c["data"].update(frames=6),
            "data.frames=6 cannot be halved",
        ),
        (lambda c: c["data"].update(size=34), "data.size=34 cannot be cut"),
        (lambda c: c["labels"].update(drop_prob=1.5), "labels.drop_prob"),
        (lambda c: c["sampling"].update(sampler="euler"), "must be one of ddim, ddpm"),
        (
            lambda c: c["data"].update(source="course") or c["labels"].update(classes=4),
            "only the shapes have per-frame labels",
        ),
        (lambda c: c.update(kind="upsampler") or c["data"].update(low_size=24), "data.low_size=24 must divide"),
        (lambda c: c["model"].update(channel_mults=[]), "non-empty list"),
    ],
)
def test_bad_configs_are_refused_in_one_line(tmp_path, capsys, edit, expected):
    config = configs.to_mapping(
        cfg.defaults(**{"training.steps": 1, "data.sequences": 8})
    )  # short, should the check miss
    edit(config)
    path = _write(tmp_path, config)
    code, _, err = run_cli(capsys, "train", "--config", str(path), "--device", "cpu")
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ") and expected in err, err
    assert "Traceback" not in err
    assert not (tmp_path / "runs").exists()  # nothing written


def test_a_config_that_is_not_yaml_or_not_a_mapping(tmp_path, capsys):
    broken = tmp_path / "broken.yaml"
    broken.write_text("kind: [base\n")
    code, _, err = run_cli(capsys, "train", "--config", str(broken))
    assert code == 2 and "not valid YAML" in err and err.count("\n") == 1
    listed = _write(tmp_path, [1, 2])
    code, _, err = run_cli(capsys, "train", "--config", str(listed))
    assert code == 2 and "must be a YAML mapping" in err
    code, _, err = run_cli(capsys, "train", "--config", str(tmp_path / "missing.yaml"))
    assert code == 2 and "config file not found" in err


# --- the network ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"model.temporal_downsample": True},
        {"model.patch": 2},
        {"kind": "upsampler", "data.low_size": 8, "labels.classes": 0, "labels.vector_dim": 0},
    ],
)
def test_the_network_keeps_the_clip_shape(tmp_path, overrides):
    config = tiny(tmp_path, **overrides)
    model = build_model(config)
    x = torch.randn(2, 3, 4, 16, 16)
    low = torch.randn(2, 3, 4, 16, 16) if config.kind == "upsampler" else None
    out = model(x, torch.tensor([3, 50]), low=low)
    assert out.shape == x.shape


def test_temporal_attention_uses_relative_positions_beyond_the_table():
    attention = TemporalAttention(8, 2)
    x = torch.randn(1, 8, MAX_RELATIVE + 9, 2, 2)
    assert attention(x).shape == x.shape


def test_a_frames_label_reaches_the_model_output(tmp_path):
    config = tiny(tmp_path)
    model = build_model(config)
    for p in model.parameters():  # zero-initialised output layers would hide the labels
        torch.nn.init.normal_(p, std=0.05)
    x, t = torch.randn(1, 3, 4, 16, 16), torch.tensor([10])
    red, switched = torch.zeros(1, 4, dtype=torch.long), torch.tensor([[0, 0, 3, 3]])
    vectors = torch.zeros(1, 4, 2)
    a, b = model(x, t, red, vectors), model(x, t, switched, vectors)
    assert not torch.allclose(a[:, :, 2:], b[:, :, 2:])
    dropped = model(x, t, red, vectors, drop=torch.tensor([True]))
    assert torch.equal(dropped, model(x, t, switched, vectors, drop=torch.tensor([True])))  # no labels: same


def test_adain_normalises_each_frame_then_applies_its_style():
    adain = AdaIN(4, 3)
    torch.nn.init.normal_(adain.affine.weight)
    x = torch.randn(2, 4, 3, 5, 5) * 7 + 2
    style = torch.randn(2, 3, 3)
    out = adain(x, style)
    scale, shift = adain.affine(style).transpose(1, 2).chunk(2, dim=1)
    normalised = (out - shift[..., None, None]) / (1 + scale[..., None, None])
    assert torch.allclose(normalised.mean((3, 4)), torch.zeros(2, 4, 3), atol=1e-4)
    assert torch.allclose(normalised.std((3, 4), unbiased=False), torch.ones(2, 4, 3), atol=1e-3)


# --- data -------------------------------------------------------------------------------------


def test_clips_keep_x_frames_with_m_skipped():
    assert clip_span(8, 1) == 15 and clip_span(8, 0) == 8 and clip_span(3, 4) == 11
    config = cfg.check_config(cfg.defaults(**{**TINY, "data.frames": 3, "data.skip": 2}))
    data = training_clips(config)
    from helpers.datasets import labelled_shapes

    full, classes, _ = labelled_shapes(16, frames=7, size=16, seed=0)
    np.testing.assert_array_equal(data["clips"], full[:, [0, 3, 6]])
    np.testing.assert_array_equal(data["classes"], classes[:, [0, 3, 6]])


def test_a_folder_of_extracted_frames_makes_clips(tmp_path):
    import json

    from PIL import Image

    folder = tmp_path / "frames"
    folder.mkdir()
    entries = []
    for i in range(9):
        Image.fromarray(np.full((20, 30, 3), i * 20, np.uint8)).save(folder / f"f{i}.png")
        entries.append({"file": f"f{i}.png", "index": i, "time": i / 25})
    (folder / "frames.json").write_text(json.dumps({"frames": entries, "count": 9}))
    config = cfg.check_config(
        cfg.defaults(
            **{**TINY, "data.source": "folder", "data.folder": str(folder), "labels.classes": 0, "labels.vector_dim": 0}
        )
    )
    clips = training_clips(config)["clips"]
    assert clips.shape == (9 - clip_span(4, 1) + 1, 4, 16, 16, 3)
    np.testing.assert_array_equal(clips[1, :, 0, 0, 0], [20, 60, 100, 140])  # frames 1, 3, 5, 7
    (folder / "f3.png").write_bytes(b"not a png")
    with pytest.raises(BadInputError, match="f3.png: cannot be read"):
        training_clips(config)


# --- training and sampling ---------------------------------------------------------------------


def test_training_resumes_exactly_where_it_stopped(tmp_path):
    config = tiny(tmp_path / "a")
    whole = train(config, "cpu", show_progress=False)
    assert whole.steps == 4 and whole.steps_run == 4
    interrupted = tiny(tmp_path / "b")
    first = train(interrupted, "cpu", stop_after=2, show_progress=False)
    assert first.steps == 2
    with pytest.raises(BadInputError, match="pass --resume"):
        train(interrupted, "cpu", show_progress=False)
    second = train(interrupted, "cpu", resume=True, show_progress=False)
    assert second.steps_run == 2 and second.steps == 4
    a = torch.load(checkpoint_path(config), weights_only=False)
    b = torch.load(checkpoint_path(interrupted), weights_only=False)
    for key in a["model"]:
        assert torch.equal(a["model"][key], b["model"][key]), key
    assert [h["loss"] for h in a["history"]] == [h["loss"] for h in b["history"]]
    again = train(interrupted, "cpu", resume=True, show_progress=False)
    assert again.steps_run == 0
    for key, value in (("model.width", 16), ("training.seed", 5), ("data.skip", 0)):
        changed = tiny(tmp_path / "b", **{key: value})
        with pytest.raises(BadInputError, match=f"other values of {key}"):
            train(changed, "cpu", resume=True, show_progress=False)
        with pytest.raises(BadInputError, match=f"other values of {key}"):
            load_model(changed)
    more = tiny(tmp_path / "b", **{"training.steps": 6, "sampling.steps": 9})  # only more steps: continues
    assert train(more, "cpu", resume=True, show_progress=False).steps_run == 2


@pytest.mark.parametrize("kind", ["base", "upsampler"])
def test_batches_built_on_the_device_equal_the_host_side_ones(tmp_path, kind):
    """The training loop indexes device tensors with a generator on the device; on the CPU that is
    bit for bit the batch and the noise of a loop that indexes NumPy clips with a CPU generator."""
    overrides = {} if kind == "base" else {
        "kind": "upsampler", "data.source": "mixed", "data.size": 32, "data.low_size": 16,
        "labels.classes": 0, "labels.vector_dim": 0, "model.attention_heads": 0,
    }  # fmt: skip
    config = tiny(tmp_path, **overrides)
    clips = training_clips(config)
    on_device = device_clips(clips, "cpu")
    seed = 1_000_003 + 7 * 101
    generator, host = step_generator(seed, "cpu"), torch.Generator().manual_seed(seed)
    index = torch.randint(0, len(clips["clips"]), (3,), generator=generator, device=generator.device)
    host_index = torch.randint(0, len(clips["clips"]), (3,), generator=host).numpy()
    assert np.array_equal(index.numpy(), host_index)
    a = prepare_batch(config, on_device, index, "cpu")
    b = prepare_batch(config, clips, host_index, "cpu")
    assert a.keys() == b.keys()
    for key in a:
        assert a[key].dtype == b[key].dtype and torch.equal(a[key], b[key]), key
    assert torch.equal(torch.randn(4, generator=generator, device="cpu"), torch.randn(4, generator=host))


def test_sampling_is_seeded_and_guidance_needs_labels(tmp_path):
    config = tiny(tmp_path)
    train(config, "cpu", show_progress=False)
    model = load_model(config)
    labels = np.array([0, 0, 3, 3])
    a = sample(model, config, 2, seed=5, classes=labels)
    b = sample(model, config, 2, seed=5, classes=labels)
    c = sample(model, config, 2, seed=6, classes=labels)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.shape == (2, 3, 4, 16, 16) and a.abs().max() <= 1
    ddpm = sample(model, config, 1, seed=5, sampler="ddpm", steps=5)
    assert ddpm.shape == (1, 3, 4, 16, 16)


def test_upsampler_returns_the_high_resolution_clip(tmp_path):
    config = tiny(tmp_path, kind="upsampler", **{"data.low_size": 8, "labels.classes": 0, "labels.vector_dim": 0})
    train(config, "cpu", show_progress=False)
    model = load_model(config)
    low = torch.rand(2, 3, 4, 8, 8) * 2 - 1
    high = sample(model, config, 2, seed=0, low=low)
    assert high.shape == (2, 3, 4, 16, 16)


def test_labels_are_parsed_per_frame_and_refused_in_one_line(tmp_path):
    config = tiny(tmp_path)
    np.testing.assert_array_equal(parse_labels("0,0,3,3", config), [0, 0, 3, 3])
    np.testing.assert_array_equal(parse_labels("blue", config), [2, 2, 2, 2])
    assert parse_vectors("0.5,-0.5", config).shape == (4, 2)
    for text, message in [
        ("0,1,2", "3 labels given, the model makes 4 frames"),
        ("7", "'7' is not a class"),
        ("", "is not a class"),
    ]:
        with pytest.raises(BadInputError, match=message):
            parse_labels(text, config)
    with pytest.raises(BadInputError, match="must hold 2 finite numbers"):
        parse_vectors("1,2,3", config)
    unlabelled = tiny(tmp_path, **{"labels.classes": 0, "labels.vector_dim": 0})
    with pytest.raises(BadInputError, match="trained without class labels"):
        parse_labels("0", unlabelled)
    with pytest.raises(BadInputError, match="trained without label vectors"):
        parse_vectors("0,0", unlabelled)


# --- the command line ---------------------------------------------------------------------------


def _create(capsys, path: Path, *extra: str) -> None:
    code, out, err = run_cli(
        capsys, "create-config", "--out", str(path), "--defaults", "--output-dir", "run", *TINY_SETS, *extra
    )
    assert code == 0, err
    assert f"wrote {path}" in out


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.gif"))}


def test_cli_create_train_generate_end_to_end(tmp_path, capsys):
    config = tmp_path / "base.yaml"
    _create(capsys, config)
    code, out, err = run_cli(capsys, "train", "--config-path", str(config), "--device", "cpu", "--quiet")
    assert code == 0, err
    assert "trained 4 steps on 1 process(es)" in out
    assert (tmp_path / "run" / CHECKPOINT).is_file()
    args = [
        "generate",
        "-c",
        str(config),
        "--device",
        "cpu",
        "--seed",
        "3",
        "-n",
        "2",
        "--labels",
        "0,0,1,1",
        "--quiet",
    ]
    assert run_cli(capsys, *args, "--out-dir", str(tmp_path / "a"))[0] == 0
    assert run_cli(capsys, *args, "--out-dir", str(tmp_path / "b"))[0] == 0
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == ["sample_00.gif", "sample_00.mp4", "sample_01.gif", "sample_01.mp4"]
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")  # same seed, same bytes
    code, _, _ = run_cli(capsys, *args[:-4], "4", "-n", "2", "--quiet", "--out-dir", str(tmp_path / "c"))
    assert code == 0 and _digest(tmp_path / "c") != _digest(tmp_path / "a")


def test_cli_generate_refuses_bad_requests_and_writes_nothing(tmp_path, capsys):
    config = tmp_path / "base.yaml"
    _create(capsys, config)
    out_dir = tmp_path / "samples"
    base = ["generate", "-c", str(config), "--device", "cpu", "--out-dir", str(out_dir)]
    code, _, err = run_cli(capsys, *base)
    assert code == 2 and "no checkpoint; train first" in err and err.count("\n") == 1
    assert run_cli(capsys, "train", "--config", str(config), "--device", "cpu", "--quiet")[0] == 0
    for extra, message in [
        (["--labels", "0,1"], "2 labels given, the model makes 4 frames"),
        (["--labels", "purple"], "'purple' is not a class"),
        (["--vectors", "0,0;1"], "must hold 2 finite numbers"),
        (["-n", "0"], "-n 0: must be 1 or more"),
        (["--device", "tpu"], "--device 'tpu': must be auto, cpu or cuda"),
    ]:
        code, _, err = run_cli(capsys, *base, *extra)
        assert code == 2 and message in err and err.count("\n") == 1, (extra, err)
    unlabelled = tmp_path / "plain.yaml"
    _create(capsys, unlabelled, "--classes", "0", "--vector-dim", "0", "--output-dir", "plain")
    assert run_cli(capsys, "train", "--config", str(unlabelled), "--device", "cpu", "--quiet")[0] == 0
    code, _, err = run_cli(
        capsys, "generate", "-c", str(unlabelled), "--device", "cpu", "--out-dir", str(out_dir), "--labels", "1"
    )
    assert code == 2 and "trained without class labels" in err
    assert not out_dir.exists()


def test_cli_create_config_asks_what_flags_do_not_give(tmp_path, capsys, monkeypatch):
    answers = iter(["upsampler", "", "", "", "64", "sixteen", "16", "", "", "", "", "", ""])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    path = tmp_path / "up.yaml"
    code, out, err = run_cli(capsys, "create-config", "--out", str(path), "--interactive", "--steps", "10")
    assert code == 0, err
    config = cfg.load_config(path)
    assert config.kind == "upsampler" and config.data.size == 64 and config.data.low_size == 16
    assert config.training.steps == 10  # given as a flag: not asked
    assert "is not an integer" in err  # 'sixteen' was asked again
    code, _, err = run_cli(capsys, "create-config", "--out", str(path), "--defaults")
    assert code == 2 and "exists already" in err
    code, _, err = run_cli(
        capsys, "create-config", "--out", str(tmp_path / "x.yaml"), "--defaults", "--set", "model.wdth=3"
    )
    assert code == 2 and "must be KEY=VALUE with a key of the schema" in err
    assert not (tmp_path / "x.yaml").exists()


def test_every_command_has_help(capsys):
    for command in ("create-config", "train", "generate"):
        with pytest.raises(SystemExit) as exit_info:
            main([command, "--help"])
        assert exit_info.value.code == 0
        assert "usage: python -m helpers.pixel_video_diffusion" in capsys.readouterr().out


def test_accelerate_launch_trains_on_two_cpu_processes(tmp_path, capsys):
    if shutil.which("accelerate", path=str(Path(sys.executable).parent)) is None:
        pytest.fail("accelerate's launcher is missing from the environment")
    config = tmp_path / "base.yaml"
    _create(capsys, config)
    launcher = Path(sys.executable).parent / "accelerate"
    env = {**os.environ, "COURSE_THREADS": "1", "OMP_NUM_THREADS": "1"}
    command = [
        str(launcher),
        "launch",
        "--multi_gpu",  # torchrun-style processes; --device cpu keeps them on the CPU (gloo)
        "--num_processes",
        "2",
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        "-m",
        "helpers.video_diffusion",
        "train",
        "--config",
        str(config),
        "--device",
        "cpu",
        "--quiet",
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=300, cwd=Path(cfg.__file__).parents[2]
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("trained 4 steps on 2 process(es)") == 1, done.stdout  # the main process reports
    code, _, err = run_cli(
        capsys, "generate", "-c", str(config), "--device", "cpu", "--out-dir", str(tmp_path / "s"), "--quiet"
    )
    assert code == 0, err
    assert (tmp_path / "s" / "sample_00.gif").is_file()
