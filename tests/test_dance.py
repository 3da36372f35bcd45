"""The music-to-dance pipeline of chapter 08: data, GAN, search, baselines and the two commands."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from helpers.dance import baselines, model, music, search, skeleton, train
from helpers.dance import config as dance_config
from helpers.dance import data as dance_data
from helpers.dance.__main__ import main
from helpers.dance.dancer import STYLE_NAMES
from helpers.dance.generate import generate
from helpers.errors import BadInputError
from helpers.video import media_durations


@pytest.fixture(scope="module")
def smoke():
    config = dance_config.default_config("smoke")
    return config, dance_data.build_data(config)


def test_config_comes_from_the_profile_and_ignores_other_names():
    config = dance_config.default_config("smoke")
    assert config.pieces == 5 and config.tempo_factors == (1.0,) and config.weights == "tiny"
    made = dance_config.config_from({"STEPS": 7, "steps": 9, "DEVICE": "cpu", "TEMPO_FACTORS": [0.5, 2.0]})
    assert made.steps == 7 and made.tempo_factors == (0.5, 2.0)
    assert made.key() != dance_config.DanceConfig().key()


def test_data_is_split_by_piece_and_lines_features_up_with_poses(smoke):
    config, data = smoke
    parts = [set(data.split[p]) for p in ("train", "val", "test")]
    assert not (parts[0] & parts[1]) and not (parts[0] & parts[2]) and not (parts[1] & parts[2])
    assert len(data.of("test")) == config.test_pieces * len(config.tempo_factors) * len(STYLE_NAMES)
    for clip in data.clips:
        assert clip.music.features.shape == (len(clip.motion), 35)
        assert clip.music.beat_frames.max() < len(clip.motion)
    train = np.concatenate([data.normalised(c.music.features) for c in data.of("train")])
    assert np.allclose(train.mean(axis=0), 0, atol=1e-3)


def test_untrained_generator_starts_from_the_mean_pose_and_keeps_bones(smoke):
    config, data = smoke
    gan = model.build_gan(data, config)
    features = torch.randn(2, 50, 35)
    pose = gan.generator(features, torch.tensor([0, 1]), torch.randn(2, config.noise_dim))
    assert pose.shape == (2, 50, model.POSE_DIMS)
    assert torch.allclose(pose, gan.generator.rest_pose.expand_as(pose))  # zero-initialised last layer
    motion = generate(gan.generator, data, data.clips[0].music.features, "pop", seed=0)
    lengths = np.linalg.norm(motion.joints[:, 1:] - motion.joints[:, [p for p in skeleton.PARENTS[1:]]], axis=-1)
    assert np.allclose(lengths.std(axis=0), 0, atol=1e-4)


def test_each_network_learns_only_from_its_own_loss(smoke):
    config, data = smoke
    gan = model.build_gan(data, config)
    gan.discriminator.eval()  # spectral normalisation's power iteration would move between the two passes
    batch = dance_data.batches(data, config)(torch.Generator().manual_seed(0))
    loss, logs = train.gan_loss(gan, batch, config)
    loss.backward()
    d_total = [p.grad.clone() for p in gan.discriminator.parameters()]
    g_total = [p.grad.clone() for p in gan.generator.parameters()]
    assert all(torch.isfinite(g).all() for g in d_total + g_total) and set(logs) >= {"d", "adv", "rec"}
    # the discriminator's gradient is that of its hinge loss alone (the generator's term sees a frozen copy)
    gan.zero_grad()
    features, _, _, _, real_joints = batch
    fake = model.pose_to_joints(gan.generator(*batch[:3])).detach()
    d = gan.discriminator
    hinge = torch.relu(1 - d(real_joints, features)).mean() + torch.relu(1 + d(fake, features)).mean()
    hinge.backward()
    for total, alone in zip(d_total, [p.grad for p in d.parameters()], strict=True):
        assert torch.allclose(total, alone, atol=1e-6)
    assert all(p.grad is None or not p.grad.any() for p in gan.generator.parameters())


def test_gan_training_resumes_to_the_same_weights(smoke, tmp_path):
    config, data = smoke
    straight, _ = train.train_gan(data, config, tmp_path / "a.pt", steps=4)
    train.train_gan(data, config, tmp_path / "b.pt", steps=4, stop_after=2)
    resumed, run = train.train_gan(data, config, tmp_path / "b.pt", steps=4)
    assert run.resumed_from == 2
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_search_keeps_its_trials_in_the_database_and_resumes(smoke, tmp_path):
    import optuna

    config, data = smoke
    storage = search.study_storage(tmp_path / "study.db")
    study = search.search(data, config, storage, trials=2, trial_dir=tmp_path)
    assert len(study.trials) == 2
    # an interrupted trial (still "running" in the database) is marked failed, finished ones kept
    study.ask()
    again = search.search(data, config, storage, trials=3, trial_dir=tmp_path)
    states = [t.state for t in again.trials]
    assert states.count(optuna.trial.TrialState.FAIL) == 1
    finished = [s for s in states if s in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)]
    assert len(finished) == 3
    table = search.trials_table(again)
    assert {"lr_g", "lambda_adv", "val FID_k", "state"} <= set(table.columns)
    best = search.tuned(config, again)
    assert best.lr_g == again.best_params["lr_g"]


def test_retrieval_finds_a_training_dance_for_its_own_music(smoke):
    _, data = smoke
    clip = data.of("train")[3]
    found = baselines.retrieve(data, clip.music.features, clip.style)
    assert np.array_equal(found.rotations, clip.motion.rotations)
    random = baselines.random_poses(data, 40, seed=0)
    assert len(random) == 40 and np.isfinite(random.joints).all()


def write_song(path, seconds: float, rate: int, channels: int):
    t = np.arange(int(seconds * rate)) / rate
    beat = (np.sin(2 * np.pi * 2 * t) > 0.95).astype(np.float32)  # 120 clicks a minute
    tone = 0.3 * np.sin(2 * np.pi * 330 * t) + 0.5 * beat * np.sin(2 * np.pi * 80 * t)
    audio = np.repeat(tone[:, None], channels, axis=1) if channels > 1 else tone
    import soundfile

    soundfile.write(path, audio, rate, format=path.suffix[1:].upper())
    return path


@pytest.mark.parametrize(
    ("name", "seconds", "rate", "channels", "cut"),
    [("song.mp3", 3.0, 44100, 2, None), ("song.flac", 4.0, 16000, 1, 2.5)],
)
def test_predict_makes_a_video_whose_sound_lasts_as_long_as_the_music(tmp_path, name, seconds, rate, channels, cut):
    song = write_song(tmp_path / name, seconds, rate, channels)
    out = tmp_path / "dance.mp4"
    argv = ["predict", str(song), "--out", str(out), "--profile", "smoke", "--style", "lyrical", "--seed", "1"]
    assert main(argv + (["--seconds", str(cut)] if cut else [])) == 0
    durations = media_durations(out)
    expected = cut or music.audio_duration(song)
    assert abs(durations["audio"] - expected) <= 1 / 30
    assert abs(durations["video"] - expected) <= 1 / 30


def test_predict_refuses_bad_music_with_one_line_and_no_output(tmp_path, capsys):
    import soundfile

    silent = tmp_path / "silent.wav"
    soundfile.write(silent, np.zeros(44100 * 2), 44100)
    short = write_song(tmp_path / "short.wav", 0.5, 22050, 1)
    text = tmp_path / "notes.ogg"
    text.write_text("this is not music")
    cases = {silent: "silent", short: "at least 1.0 s", text: "not audio", tmp_path / "missing.mp3": "no such file"}
    for path, reason in cases.items():
        out = tmp_path / f"{path.stem}.mp4"
        assert main(["predict", str(path), "--out", str(out), "--profile", "smoke"]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and reason in err and path.name in err, err
        assert "Traceback" not in err
        assert not out.exists() and not list(tmp_path.glob(f".{out.name}*"))
    song = write_song(tmp_path / "ok.wav", 2.0, 22050, 1)
    for extra, reason in ((["--style", "tango"], "--style"), (["--seconds", "0.2"], "--seconds")):
        assert main(["predict", str(song), "--out", str(tmp_path / "x.mp4"), *extra]) == 2
        assert reason in capsys.readouterr().err
    assert main(["predict", str(song), "--out", str(tmp_path / "x.gif")]) == 2
    assert ".mp4" in capsys.readouterr().err
    assert not (tmp_path / "x.mp4").exists()


def test_dataclass_knobs_cover_the_chapter_parameters():
    import re

    from helpers.runtime import course_root

    source = (course_root() / "notebooks" / "08_music_to_dance.py").read_text()
    cell = source.split('tags=["parameters"]')[1].split("# %%")[0]
    names = {n.lower() for n in re.findall(r"^([A-Z_]+) =", cell, flags=re.M)}
    fields = {f.name for f in dataclasses.fields(dance_config.DanceConfig)}
    assert fields - names == set(), "every DanceConfig field is a chapter parameter"


def test_config_refuses_a_bad_value_in_one_line_naming_its_key():
    with pytest.raises(BadInputError, match=r"key 'width'.*integer") as refused:
        dance_config.config_from({"WIDTH": "wide"})
    assert len(str(refused.value).splitlines()) == 1
    with pytest.raises(BadInputError, match=r"key 'tempo_factors'"):
        dance_config.config_from({"TEMPO_FACTORS": [1.0, -2.0]})
    assert all(dance_config.DOCS.values()), "every knob has its one-line documentation"


def test_help_answers_without_importing_torch_or_librosa():
    import subprocess
    import sys

    code = (
        "import sys; from helpers.dance.__main__ import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('torch', 'librosa', 'optuna', 'diffusers') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "python -m helpers.dance" in done.stdout and done.stdout.strip().endswith("[]"), done.stdout
