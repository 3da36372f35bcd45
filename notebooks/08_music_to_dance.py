# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext,-jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 08 · Music to dance: audio features → poses (a GAN) → frames (ControlNet)
#
# A dance video can be made in two steps: first a *choreography*, a sequence of body poses that
# follows the music, then *pictures* of a body in those poses. This chapter builds both, as a
# postgraduate project did on the AIST++ dance data {cite}`li2021aistpp`: a {term}`GAN` turns audio
# features into pose sequences, and {term}`Stable Diffusion` with an OpenPose {term}`ControlNet`
# {cite}`zhang2023controlnet` turns poses into frames. Offline, the music comes from real
# scores of the music21 corpus rendered to audio with a drum track, and the dances from a
# procedural dancer whose moves lock to the beat. The dances are judged as the field judges them
# (AIST++/FACT, Bailando {cite}`siyao2022bailando`, EDGE {cite}`tseng2023edge`): how close the
# spread of generated movement is to real dances, how varied it is, whether it moves on the
# beat and whether its feet slide. At the end, one command turns any music file into a dance
# video.
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/frame-by-frame-course/video-generation/blob/main/notebooks/08_music_to_dance.ipynb)

# %% tags=["setup", "hide-input"]
# Set-up: works in Colab (installs the course helpers from the
# repository, and only the packages Colab lacks), in a local checkout (where `make book`
# installed everything) and in CI.
import importlib.util
import subprocess
import sys
from pathlib import Path

COURSE_REPO = "https://github.com/frame-by-frame-course/video-generation"
if importlib.util.find_spec("helpers") is None:
    course_dir = Path.home() / "video-generation-course"
    if not course_dir.exists():
        clone = ["git", "clone", "--depth", "1", COURSE_REPO, str(course_dir)]
        subprocess.run(clone, check=True)
    pip_install = [sys.executable, "-m", "pip", "install", "-q", "--no-deps"]
    subprocess.run([*pip_install, "-e", str(course_dir)], check=True)
    sys.path.insert(0, str(course_dir))
    from helpers.runtime import install_missing

    install_missing()


# %% tags=["parameters"]
PROFILE = (
    "cpu"  # smoke | cpu | gpu: which file of notebooks/profiles/ these values come from
)
SEED = 0
DEVICE = "auto"
FPS = 30.0  # pose frames per second (the music features come at the same rate)
SECONDS = 16.0  # length of every piece of music and every dance in the data set
TEMPO_FACTORS = [0.9, 1.1]  # every piece is rendered at these multiples of its own tempo
PIECES = 12  # music21 corpus pieces used
TEST_PIECES = 3  # held out: never trained or tuned on
VAL_PIECES = 2  # the hyperparameter search scores on these
WINDOW = 120  # frames per training window (4 s)
WIDTH = 64  # channels of the generator and the discriminator
BLOCKS = 6  # residual blocks of the generator
NOISE_DIM = 16
BATCH_SIZE = 16
STEPS = 500  # training steps of the final GAN
LR_G = 0.001  # the search below replaces the four searched values
LR_D = 0.001
LAMBDA_ADV = 0.1
LAMBDA_REC = 1.0
LAMBDA_VEL = 1.0
LAMBDA_ACC = 1.0
TRIALS = 6  # hyperparameter search trials
TRIAL_STEPS = 120  # training steps of one trial
RENDER_SIZE = 64  # side of the rendered frames
RENDER_FRAMES = 1500  # pictures the offline renderer trains on
AUTOENCODER_STEPS = 300
UNET_STEPS = 200
CONTROLNET_STEPS = 200
RENDER_STEPS = 8  # denoising steps per rendered frame
RENDER_BATCH = 8  # pictures per training step of the renderer's networks
WEIGHTS = "auto"  # Stable Diffusion 1.5 + OpenPose ControlNet: hub id, local folder, "auto" or "tiny"
SAMPLE_RATE = 22050
VIDEO_SECONDS = 8.0  # length of the dance video made at the end
RENDER_CLIPS = 12  # held-out clips of 8 frames the renderer is scored on
FEATURE_STEPS = 1800  # training steps of the course autoencoder whose latents are the video scores' features (chapter 02)

# %%
# Stop here, in one line, if a value above cannot work (chapter 00 explains the check).
from helpers import parameters

parameters.check(
    globals(),
    PROFILE=parameters.profile(),
    SEED=parameters.seed(),
    DEVICE=parameters.device(),
    FPS=parameters.one_of(
        15.0,
        20.0,
        30.0,
        60.0,
        why="the music is resampled to FPS x 512 Hz so that one 512-sample hop is one pose frame",
    ),
    SECONDS=parameters.number(4, 120),
    TEMPO_FACTORS=parameters.number_list(0.5, 2, why="multiples of each piece's own tempo"),
    PIECES=parameters.integer(4, 24, why="the music21 pieces the course renders"),
    TEST_PIECES=parameters.integer(1, "PIECES - VAL_PIECES - 2"),
    VAL_PIECES=parameters.integer(
        1, "PIECES - 3", why="at least two pieces must be left to train on"
    ),
    WINDOW=parameters.integer(
        16, "SECONDS * FPS", why="a training window lies inside one dance"
    ),
    WIDTH=parameters.multiple_of(8, 8, 1024, why="group normalisation uses 8 groups"),
    BLOCKS=parameters.integer(1, 16),
    NOISE_DIM=parameters.integer(1, 256),
    BATCH_SIZE=parameters.integer(1),
    STEPS=parameters.integer(1),
    LR_G=parameters.positive(0.1),
    LR_D=parameters.positive(0.1),
    LAMBDA_ADV=parameters.number(0, 100),
    LAMBDA_REC=parameters.number(0, 100),
    LAMBDA_VEL=parameters.number(0, 100),
    LAMBDA_ACC=parameters.number(0, 100),
    TRIALS=parameters.integer(1, 200),
    TRIAL_STEPS=parameters.integer(4),
    RENDER_SIZE=parameters.multiple_of(
        16, 32, 512, why="the autoencoder and the UNet halve the frame 3 times"
    ),
    RENDER_FRAMES=parameters.integer(16),
    AUTOENCODER_STEPS=parameters.integer(0),
    UNET_STEPS=parameters.integer(0),
    CONTROLNET_STEPS=parameters.integer(0),
    RENDER_STEPS=parameters.integer(1, 100),
    RENDER_BATCH=parameters.integer(1, 256),
    WEIGHTS=parameters.weights(),
    SAMPLE_RATE=parameters.one_of(16000, 22050, 44100, 48000),
    VIDEO_SECONDS=parameters.number(1, "SECONDS"),
    RENDER_CLIPS=parameters.integer(2, why="the distribution scores compare sets of clips"),
    FEATURE_STEPS=parameters.integer(1),
)

# %%
import subprocess
import sys
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import Audio, Video, display
from scipy.ndimage import gaussian_filter1d

from helpers import claims, manifest, metrics, results, runtime, training, video_scores, viz
from helpers.dance import aistpp, dancer, drawing, music, skeleton
from helpers.dance import cache as dance_cache
from helpers.dance import config as dance_config
from helpers.dance import data as dance_data
from helpers.dance import evaluate as dance_evaluate
from helpers.dance import metrics as dance_metrics
from helpers.dance import model as dance_model
from helpers.dance import render as dance_render
from helpers.dance import search as dance_search
from helpers.dance import train as dance_train
from helpers.dance.generate import generate

runtime.seed_everything(SEED)
CHAPTER = "08_music_to_dance"
OUT = runtime.build_dir(CHAPTER, PROFILE)
device = runtime.select_device(DEVICE)
config = dance_config.config_from(globals())
print(f"PyTorch {torch.__version__} on {device}; outputs in {runtime.display_path(OUT)}")

# %% [markdown]
# ## What you will build
#
# ```{glue:figure} dance_video
# :figwidth: 100%
#
# Frames of the dance video made at the end of the chapter for a held-out piece of music: the
# poses come from the trained GAN (top: their OpenPose skeletons), the pictures from the
# ControlNet renderer (bottom). Offline both run on {term}`tiny offline weights` trained here:
# the pictures check the pipeline, not the quality.
# ```
#
# ## Music, offline
#
# The music21 corpus {cite}`cuthbert2010music21` ships real scores: chorales, string quartets,
# folk tunes, reels. `music.render_piece` reads one, plays every note with a small additive
# synthesiser and adds a drum track on the metre of the piece (none of these scores has one,
# and a dancer needs beats). Every piece is rendered at each multiple of its own tempo in
# `TEMPO_FACTORS`, so the same notes come at more than one speed.

# %%
pieces = dance_data.piece_ids()[:PIECES]
example_audio, example_info = music.render_piece(
    pieces[0], SAMPLE_RATE, seconds=SECONDS, seed=SEED
)
example = music.audio_features(example_audio, SAMPLE_RATE, FPS)
print(
    f"{example_info['title']} ({example_info['composer']}), {example_info['source']}: "
    f"{example_info['tempo_bpm']:.0f} bpm, {example_info['beats_per_bar']} beats a bar, "
    f"{len(example_audio) / SAMPLE_RATE:.1f} s"
)
display(Audio(example_audio[: int(8 * SAMPLE_RATE)], rate=SAMPLE_RATE))

# %% [markdown]
# ### Features at the pose frame rate
#
# The network that makes poses reads the music as one feature vector per pose frame, the
# 35 numbers AIST++'s FACT model uses: the onset strength (how much new sound starts), 20 MFCCs
# (timbre), 12 chroma bins (which pitch classes sound), and two one-hot columns that mark
# detected onset peaks and beats. librosa computes them with a hop of exactly one pose frame,
# so feature row $t$ belongs to pose $t$.

# %%
fig, axes = plt.subplots(2, 1, figsize=(10, 4.5), sharex=True)
times = np.arange(example.frames) / FPS
axes[0].plot(times, example.onset_envelope, lw=0.8, label="onset strength")
for t in example.beat_frames / FPS:
    axes[0].axvline(t, color="tab:red", lw=0.6, alpha=0.6)
axes[0].set_ylabel("onset strength")
axes[0].set_title("onset strength; red: beats librosa tracked")
axes[1].imshow(
    (example.features - example.features.mean(0)).T / (example.features.std(0)[:, None] + 1e-6),
    aspect="auto", origin="lower", cmap="magma", extent=(0, example.frames / FPS, 0, 35),
)  # fmt: skip
axes[1].set_yticks(
    [0.5, 11, 27, 33.5, 34.5], ["onset", "MFCC", "chroma", "peak", "beat"], fontsize=7
)
axes[1].set_xlabel("seconds")
axes[1].set_title("the 35 features per pose frame (each row standardised)")
fig.tight_layout()
plt.show()
detected = 60 * FPS / np.median(np.diff(example.beat_frames))
claims.say(
    f"The drum track plays {example_info['tempo_bpm']:.0f} beats a minute; librosa's beat "
    f"tracker, which never sees the score, finds beats {np.median(np.diff(example.beat_frames)):.0f} "
    f"frames apart, i.e. {detected:.0f} a minute."
)

# %% [markdown]
# ## A dancer to learn from
#
# AIST++ has 1,408 dance sequences (5 hours, 10 genres) captured from real dancers, as SMPL
# body-model parameters: 24 joint rotations per frame and a root position. It needs a download
# we cannot do here, so the chapter makes its own dancer on the same skeleton: 24 joints, bone
# lengths fixed (close to SMPL's average body), joint rotations driven by a few controls (knee
# bend, arm raise, hip sway, ...). A *move* is a cycle of key poses; the dancer reaches one key
# pose on each beat and eases between them, so its joints slow to a stop on the beats, as
# dancers' do. Styles differ in their moves and their pace (`lyrical` holds each pose for two
# beats); each dance draws its move order, size and mirroring at random, and the music's tempo
# sets its speed.

# %%
beat_times = np.asarray(example_info["beat_times"])
strips = []
for style in dancer.STYLE_NAMES:
    m = dancer.procedural_dance(
        beat_times, 8, fps=FPS, style=style, beats_per_bar=4, seed=SEED
    )
    picks = np.linspace(0, len(m) - 1, 8).round().astype(int)
    body = drawing.draw_body(m.joints[picks], 96)
    strips.append(viz.caption(np.concatenate(list(body), axis=1), style))
plt.figure(figsize=(10, 5))
plt.imshow(np.concatenate(strips, axis=0))
plt.axis("off")
plt.title("8 moments from 8 s of each style")
plt.show()

# %%
m = dancer.procedural_dance(beat_times, SECONDS, fps=FPS, style="hiphop", seed=SEED)
joints = m.joints
speed = np.linalg.norm(np.diff(joints, axis=0), axis=-1).mean(axis=1) * FPS
smoothed = gaussian_filter1d(speed, dance_metrics.MOTION_BEAT_SMOOTHING)
kinematic = dance_metrics.motion_beats(joints, FPS)
music_beats = beat_times[beat_times < SECONDS] * FPS
lengths = skeleton.bone_lengths(joints)
fig, ax = plt.subplots(figsize=(10, 2.8))
ax.plot(
    np.arange(len(speed)) / FPS, speed, lw=0.6, alpha=0.6, label="mean joint speed (m/s)"
)
ax.plot(np.arange(len(speed)) / FPS, smoothed, lw=1.2, color="tab:blue", label="smoothed")
ax.scatter(
    kinematic / FPS,
    np.interp(kinematic, np.arange(len(smoothed)), smoothed),
    color="k",
    s=12,
    label="kinematic beats",
)
for t in music_beats / FPS:
    ax.axvline(t, color="tab:red", lw=0.6, alpha=0.5)
ax.set_xlabel("seconds")
ax.legend(loc="upper right", fontsize=8)
ax.set_title(
    "joint speed of a procedural dance; red: drum beats; black: minima of the smoothed speed"
)
fig.tight_layout()
plt.show()
own_bas = dance_metrics.beat_align_score(joints, music_beats, FPS)
claims.say(
    f"Its bones keep their length over the {SECONDS:.0f} s: the largest change of any bone is "
    f"{np.ptp(lengths, axis=0).max() * 1e6:.1f} µm, float rounding. Its beat alignment score against the drum beats (defined below) is {own_bas:.3f}; 1 would "
    "mean a speed minimum on every beat. The score measures minima of the *smoothed* speed, as the "
    "papers do, and smoothing merges or shifts the stops of quick moves, which is why even a dancer "
    "built to stop on the beat stays below 1."
)
claims.holds(np.ptp(lengths, axis=0).max() < 1e-5, "the skeleton's bone lengths are fixed")

# %% [markdown]
# ### The data set, split by music
#
# Every piece at every tempo gets one dance of each style. Whole pieces are held out: the test
# pieces are never heard in training or in the hyperparameter search (which scores on its own
# validation pieces), so a score on them says how the model does on music it has not met.

# %%
started = time.perf_counter()
data = dance_data.build_data(config)
data_seconds = time.perf_counter() - started
summary = pd.DataFrame(
    [
        {"split": part, "pieces": ", ".join(data.split[part]), "dances": len(data.of(part)),
         "minutes": sum(len(c.motion) for c in data.of(part)) / FPS / 60}
        for part in ("train", "val", "test")
    ]
)  # fmt: skip
with pd.option_context(
    "display.max_colwidth", None
):  # every piece's name, not cut at 50 characters
    display(summary.round(2))
print(f"rendered and danced in {data_seconds:.1f} s")

# %% [markdown]
# ### AIST++, when you have it
#
# The manifest's `aistpp` entry points at the AIST++ annotations. With them downloaded
# (`helpers.manifest.fetch("aistpp")`, 2.5 GB, then unzipped), `aistpp.load_aistpp_motion`
# reads a sequence's `motions/<name>.pkl` (SMPL rotations at 60 fps) onto this chapter's
# skeleton at `FPS`, `aistpp.load_aistpp_keypoints` reads its `keypoints3d/<name>.pkl` (17 COCO
# keypoints) as the 18 OpenPose keypoints the renderer draws, and `aistpp.aistpp_music_id` names
# its music. Everything below then works on real dances.

# %%
aist = manifest.entry("aistpp")
folder = manifest.external_path(aist).with_suffix("")
motions = sorted((folder / "motions").glob("*.pkl")) if folder.exists() else []
if motions:
    real = aistpp.load_aistpp_motion(motions[0], FPS)
    print(
        f"{motions[0].name}: {len(real)} frames at {real.fps} fps, music {aistpp.aistpp_music_id(motions[0].stem)}"
    )
    keypoints = folder / "keypoints3d" / motions[0].name
    if keypoints.exists():
        print(f"its keypoints: {aistpp.load_aistpp_keypoints(keypoints, FPS).shape}")
else:
    print(
        f"AIST++ is not in {runtime.display_path(folder)}; the chapter uses the procedural dancer."
    )

# %% [markdown]
# ## The audio-to-pose GAN
#
# The generator reads the music features of a whole window, a style and a noise vector $z$
# (one per dance, so the same music can get different dances) and outputs, per frame, a 6D
# rotation {cite}`zhou2019continuity` for each of the 24 joints and the root's position.
# Forward kinematics turns these into joint positions, so bones cannot stretch. Its layers are
# dilated 1D convolutions over time: each output frame sees several seconds of music around
# it. The discriminator sees windows of poses (root-relative joints and their velocities) with
# their music and scores every stretch of under a second: real dance for this music, or made?
#
# The generator's loss adds to the adversarial term the L1 errors of the joints $x$ and of the
# 6D rotations $r$ (reconstruction), and of the joints' velocities and accelerations (frame
# differences times the frame rate $f$):
#
# $$\mathcal{L}_G = \lambda_{adv}\,\big(-D(G(m, z))\big)
#   + \lambda_{rec}\,\big(\lVert \hat{x} - x \rVert_1 + 0.1\,\lVert \hat{r} - r \rVert_1\big)
#   + \lambda_{vel}\,f\,\lVert \Delta\hat{x} - \Delta x \rVert_1 + \lambda_{acc}\,f\,\lVert \Delta^2\hat{x} - \Delta^2 x \rVert_1$$
#
# and the discriminator's is the hinge loss
# $\mathcal{L}_D = \max(0, 1 - D(x)) + \max(0, 1 + D(\hat{x}))$. Reconstruction alone would
# pull every dance toward the average of all dances that fit the music (still and blurry, since
# the dancer picks moves at random); the adversarial term is there to push it back toward moves
# a real dancer makes. Both networks are updated in the same step, and `helpers.training.fit`
# gives the progress bar, the checkpoints and the resume. A last fixed Gaussian filter over time
# (2 frames) keeps the joints from jittering.

# %%
viz.show_code(
    dance_model.DanceGenerator, dance_model.SequenceDiscriminator, dance_train.gan_loss
)

# %% [markdown]
# ## Measuring dances
#
# The papers compare sets of dances through features of each dance (`helpers.dance.metrics`,
# tested on hand-made motions in `tests/test_dance_metrics.py`):
#
# - **kinetic features** (72 numbers): for every joint, its mean horizontal and vertical kinetic
#   energy and the mean length of its acceleration, which the papers call energy expenditure;
# - **geometric features** (32 numbers): how often 32 yes/no relations between body parts hold,
#   such as "the right hand is above the head" or "the left foot is in front of the body"
#   {cite}`muller2005efficient`;
# - **FID_k, FID_g**: the Fréchet distance (as in {term}`FID`) between the feature distributions of the generated
#   dances and of the real test dances, after standardising both with the real dances' mean and
#   spread (lower: closer to real dance);
# - **Div_k, Div_g**: the mean distance between the features of two dances of the set (higher:
#   more varied; the real dances' value is the target, not a maximum);
# - **BAS**, the beat alignment score: for each music beat, $\exp(-d^2 / 2\sigma^2)$ with $d$ the
#   distance in frames to the nearest kinematic beat, averaged, with $\sigma = 3$ frames; a
#   kinematic beat is a local minimum of the mean joint speed after Gaussian smoothing
#   ($\sigma = 5$ frames), as in Bailando's code;
# - **PFC**, EDGE's physical foot contact score: per frame, the root's acceleration (divided by
#   its largest value in the dance) times the product of two horizontal speeds, that of the
#   slower of the left ankle and left toe and that of the slower of the right ankle and right
#   toe, averaged over frames. A body that accelerates must push off a planted foot, so at the
#   same amount of movement lower is more physical. But the score also falls when a body simply
#   moves less (it multiplies speeds), and a body that never moves scores 0: a dance below the
#   real dances' value has firmer feet *or* smaller moves, and the chapter checks which.
#
# Two departures from the published code, each behind a switch. The published kinetic-feature
# code computes one of the two velocities in its acceleration term as
# $v = p_t - p_{t-1}/\Delta t$ instead of $(p_t - p_{t-1})/\Delta t$;
# `published_acceleration=True` reproduces that, so numbers can be set beside
# published ones, and the default is the corrected formula. And a feature that never varies
# over the real test dances (a relation they never make true) is left out of FID and Div;
# `keep_constant=True` keeps it, as the published code does, which divides it by $10^{-10}$ so
# that any generated deviation there outweighs every other feature.

# %%
test_clips = data.of("test")
test_beats = [c.music.beat_frames for c in test_clips]
real_test = [c.motion for c in test_clips]
corrected = dance_metrics.kinetic_features(real_test[0].joints, FPS)
published = dance_metrics.kinetic_features(
    real_test[0].joints, FPS, published_acceleration=True
)
print(
    "energy expenditure (m/s²) of one real test dance, mean over joints: corrected "
    f"{corrected[2::3].mean():.4g}, published formula {published[2::3].mean():.4g}"
)

# %% [markdown]
# ## Searching the hyperparameters
#
# Four settings decide how the generator trades its losses: its learning rate and the weights
# $\lambda_{adv}$, $\lambda_{vel}$, $\lambda_{acc}$. Optuna {cite}`akiba2019optuna` tries the
# values of the parameters cell first, then proposes others (a few at random, then by TPE, which
# models where good settings lie); each trial trains `TRIAL_STEPS` steps and
# reports FID_k on the *validation* pieces four times; the median pruner stops a trial that is
# worse than the median of the earlier finished trials at the same step. The study lives in an SQLite file
# under `build/`: run the cell again, or interrupt it, and it resumes with the trials it has.
# Several machines can share one study: give each the same database URL
# (`python -m helpers.dance train --storage postgresql://user:password@host/optuna`) and each
# runs trials of the same study.

# %%
storage = dance_search.study_storage(dance_search.study_file(config))
trials_before = dance_search.trial_count(storage)
started = time.perf_counter()
study = dance_search.search(
    data, config, storage, device=device, trial_dir=runtime.build_dir("dance", "trials")
)
search_seconds = time.perf_counter() - started
trials = dance_search.trials_table(study)
display(
    trials.round(
        {"lr_g": 5, "lambda_adv": 3, "lambda_vel": 2, "lambda_acc": 2, "val FID_k": 1}
    )
)
fig, ax = plt.subplots(figsize=(7, 3))
for t in study.trials:
    if t.intermediate_values:
        steps_, values = zip(*sorted(t.intermediate_values.items()), strict=True)
        ax.plot(
            steps_, values, marker="o", ms=3, label=f"{t.number} ({t.state.name.lower()})"
        )
ax.set_xlabel("training steps")
ax.set_ylabel("validation FID_k (log scale)")
ax.set_yscale("log")  # one diverging trial would flatten every other curve on a linear axis
ax.legend(fontsize=7, ncol=2)
ax.set_title("every trial's validation FID_k as it trained")
fig.tight_layout()
plt.show()
pruned = trials[trials["state"] == "pruned"]
finished = trials[trials["state"] == "complete"]
best = study.best_trial
kept = all(np.isclose(best.params[k], getattr(config, k)) for k in dance_config.SEARCHED)
pruned_at = sorted({int(v) for v in pruned["steps"]})
proposals = len(trials) - 1
stopped = (
    f"{len(pruned)} were stopped at step {', '.join(map(str, pruned_at))} of {TRIAL_STEPS}, because their "
    "validation FID_k then lagged the median of the trials before them: those were compared only that early"
)
if kept:
    search_outcome = "the values of the parameters cell. " + (
        f"Of the {proposals} proposals, {len(finished) - 1} finished all {TRIAL_STEPS} steps and scored "
        f"worse, and {stopped}; no proposal that ran to the end beat them."
        if len(pruned)
        else f"Each of the {proposals} proposals finished all {TRIAL_STEPS} steps and scored worse."
    )
else:
    search_outcome = "a proposal of the search, not the parameters cell's values." + (
        f" Of the other trials, {stopped}." if len(pruned) else ""
    )
claims.say(
    f"{len(trials)} trials in the study ({len(finished)} finished, {len(pruned)} pruned; "
    f"{len(trials) - trials_before} run now, in {search_seconds:.0f} s). The best is trial {best.number}, "
    f"with validation FID_k {best.value:.1f} after {TRIAL_STEPS} steps: learning rate "
    f"{best.params['lr_g']:.2g}, λ_adv {best.params['lambda_adv']:.2g}, λ_vel {best.params['lambda_vel']:.2g}, "
    f"λ_acc {best.params['lambda_acc']:.2g}, {search_outcome} The final model trains with these for "
    f"{STEPS} steps. Pruning at a quarter of the steps is cheap, but at that point the trials are hard "
    "to tell apart, so a slow starter can be dropped"
    + (
        f": the search says which settings did well within {TRIAL_STEPS} steps, not which would win "
        f"after {STEPS}."
        if STEPS > TRIAL_STEPS
        else "."
    )
)

# %% [markdown]
# ## Training the chosen GAN

# %%
final = dance_search.tuned(config, study)
gan, run = dance_train.train_gan(
    data, final, dance_cache.model_dir(final) / "checkpoint.pt", device=device
)
dance_cache.save_model(gan, data, final)
history = run.history
fig, axes = plt.subplots(1, 2, figsize=(10, 3))
smooth = history.rolling(20, min_periods=1).mean()
for name in ("rec", "vel", "acc"):
    axes[0].plot(smooth["step"], smooth[name], label=name)
axes[0].set_yscale("log")
axes[0].legend()
axes[0].set_title("generator: reconstruction, velocity and acceleration terms")
axes[1].plot(smooth["step"], smooth["d"], label="discriminator hinge loss")
axes[1].plot(smooth["step"], smooth["adv"], label="generator adversarial term")
axes[1].legend()
axes[1].set_title("the adversarial game")
for ax in axes:
    ax.set_xlabel("step")
fig.tight_layout()
plt.show()
tail = history.tail(max(1, len(history) // 10)).mean()
with (
    torch.no_grad()
):  # the critic's mean score for real and for made windows of a training batch
    probe = dance_data.batches(data, final, device=device)(
        torch.Generator().manual_seed(SEED)
    )
    made_windows = dance_model.pose_to_joints(gan.generator(*probe[:3]))
    real_score = gan.discriminator(probe[4], probe[0]).mean().item()
    made_score = gan.discriminator(made_windows, probe[0]).mean().item()
claims.say(
    f"Over the last tenth of training the discriminator's hinge loss averages {tail['d']:.2f} (2 is the loss of a "
    f"critic that gives every window the same score). On a fresh batch it scores real windows {real_score:+.2f} "
    f"and made ones {made_score:+.2f}: "
    + (f"it still ranks real above made, by {real_score - made_score:.2f}." if real_score > made_score
       else "it no longer ranks real windows above made ones.")
)  # fmt: skip
print(f"{training.parameter_count(gan.generator):,} generator parameters, "
      f"{training.parameter_count(gan.discriminator):,} discriminator parameters; trained {run.seconds:.0f} s")  # fmt: skip

# %% [markdown]
# ## The generator against the baselines
#
# On every test piece at every tempo, each model makes one dance per style, as long as the
# music: the trained generator; the same network untrained (its last layer starts at zero, so
# it outputs the mean training pose in every frame: a statue, whose PFC of 0 is no goal); *random
# poses* (real poses from the training dances, in random order); *retrieval* (the training
# dance whose music features are nearest, the classic non-learned answer); and the real test
# dances themselves, whose FID is 0 by construction and whose diversity and beat alignment are
# the targets. BAS here counts the beats librosa tracks in the audio (what a model given only
# the music could know), not the drum track's own grid the procedural dancer stepped on, so the
# real dances score lower here than the same dancer did against its drums above.

# %%
scores, made, generation_fps = dance_evaluate.benchmark(gan, data, final, device=device)
table = pd.DataFrame(scores).T[["fid_k", "fid_g", "div_k", "div_g", "bas", "pfc"]]
table["pfc"] = table["pfc"] * dance_metrics.PFC_REPORT_SCALE
table.columns = [
    "FID_k ↓",
    "FID_g ↓",
    "Div_k",
    "Div_g",
    "BAS ↑",
    f"PFC ×{dance_metrics.PFC_REPORT_SCALE:g} ↓",
]
real_fid = ["FID_k ↓", "FID_g ↓"]
table[real_fid] = table[real_fid].clip(
    lower=0
)  # the real set against itself: 0 up to rounding
display(
    table.style.format("{:,.1f}", subset=real_fid).format(
        "{:.3f}", subset=table.columns[2:]
    )
)

# %%
G, U, R, T, X = (
    scores[k]
    for k in (
        "generator",
        "untrained generator",
        "random poses",
        "retrieval",
        "real test dances",
    )
)
closest = min(
    ("generator", "untrained generator", "random poses", "retrieval"),
    key=lambda k: scores[k]["fid_k"],
)
closest_g = min(
    ("generator", "untrained generator", "random poses", "retrieval"),
    key=lambda k: scores[k]["fid_g"],
)


def speed_of(motions):
    """Mean joint speed (m/s) over a set of dances."""
    return np.mean(
        [np.linalg.norm(np.diff(m.joints, axis=0), axis=-1).mean() * FPS for m in motions]
    )


claims.say(
    f"On the {len(test_clips)} test dances the trained generator's FID_k is {G['fid_k']:,.1f}, "
    f"{claims.compare(G['fid_k'], R['fid_k'], higher='above', lower='below')} random poses' "
    f"{R['fid_k']:,.0f} and {claims.compare(G['fid_k'], U['fid_k'], higher='above', lower='below')} "
    f"the untrained generator's {U['fid_k']:,.1f}; retrieval, which copies whole real dances, scores "
    f"{T['fid_k']:,.1f}. Lowest FID_k (kinetics): **{closest}**; lowest FID_g (body "
    f"shapes): **{closest_g}** (the noise paragraph below says which gaps a sample this size can tell) (generator {G['fid_g']:,.1f}, retrieval {T['fid_g']:,.1f}). "
    f"Its beat alignment is {G['bas']:.3f} against {R['bas']:.3f} (random) and {U['bas']:.3f} (untrained, "
    f"which never moves); it is {claims.compare(G['bas'], T['bas'], higher='above', lower='below', same='level with', tolerance=0.02)} "
    f"retrieval's {T['bas']:.3f} (within 0.02 counts as level here), and the real dances score "
    f"{X['bas']:.3f}. Its diversity Div_k is {G['div_k']:.2f} where the real dances have {X['div_k']:.2f}, "
    f"and its joints move at {speed_of(made['generator']):.3f} m/s on average against "
    f"{speed_of(real_test):.3f} m/s for the real dances"
    + (f": {'smaller' if speed_of(made['generator']) < speed_of(real_test) else 'not smaller'} moves, less varied "
       f"in kinetics, {'and' if G['div_g'] < X['div_g'] else 'though not'} in body shapes (Div_g {G['div_g']:.2f} "
       f"against {X['div_g']:.2f}). One likely cause is the reconstruction loss, which pulls toward the average "
       "dance (exercise 1 tests it)." if G["div_k"] < X["div_k"] else ".")
)  # fmt: skip
# %% [markdown]
# **How much of that is noise?** The real test dances split at random into two halves, one
# scored against the other, ten times: what FID_k gives between two sets of real dances of half
# the size, and how much the real dances' BAS moves from one half to another. (Half the sample
# is noisier than the whole, so these are upper estimates of the noise at the table's size.)

# %%
split_rng = np.random.default_rng(SEED)
half_scores = []
for _ in range(10):
    order = split_rng.permutation(len(real_test))
    first, second = order[: len(order) // 2], order[len(order) // 2 :]
    half_scores.append(
        dance_evaluate.evaluate_motions(
            [real_test[i] for i in first],
            [real_test[i] for i in second],
            [test_beats[i] for i in second],
            FPS,
        )
    )
half_fid = np.array([h["fid_k"] for h in half_scores])
half_bas = np.array([h["bas"] for h in half_scores])
fid_noise = half_fid.mean() + 2 * half_fid.std()
bas_noise = 2 * half_bas.std()


def beyond(gap: float, noise: float) -> str:
    return "beyond" if abs(gap) > noise else "within"


claims.say(
    f"Two halves of the real test dances ({len(real_test) // 2} and {len(real_test) - len(real_test) // 2}) score "
    f"FID_k {half_fid.mean():,.1f} ± {half_fid.std():,.1f} against each other, and the BAS of a half varies by "
    f"± {half_bas.std():.3f}. The generator's FID_k gap to random poses ({R['fid_k'] - G['fid_k']:,.1f}) is "
    f"{beyond(R['fid_k'] - G['fid_k'], fid_noise)} that noise (mean plus two spreads, {fid_noise:,.1f}). On BAS, "
    f"against two spreads of {bas_noise:.3f}: its gap to random poses ({G['bas'] - R['bas']:+.3f}) is "
    f"{beyond(G['bas'] - R['bas'], bas_noise)} it, its gap to retrieval ({round(G['bas'], 3) - round(T['bas'], 3):+.3f}) "
    f"{beyond(G['bas'] - T['bas'], bas_noise)} it. "
    + (
        "Within that FID_k noise lie the generator's gaps to "
        + " and to ".join(
            f"{name} ({scores[key]['fid_k'] - G['fid_k']:+,.1f})"
            for key, name in (
                ("retrieval", "retrieval"),
                ("untrained generator", "the untrained generator"),
            )
            if abs(scores[key]["fid_k"] - G["fid_k"]) <= fid_noise
        )
        + ": at this sample size FID_k does not tell them apart, so the lowest FID_k above is not a ranking."
        if any(
            abs(scores[k]["fid_k"] - G["fid_k"]) <= fid_noise
            for k in ("retrieval", "untrained generator")
        )
        else ""
    )
)
if PROFILE != "smoke":
    claims.holds(G["fid_k"] < R["fid_k"] and G["fid_k"] < U["fid_k"],
                 "the trained generator has a lower FID_k than random poses and than the untrained generator")  # fmt: skip
    claims.holds(G["bas"] > R["bas"] and G["bas"] > U["bas"],
                 "the trained generator has a higher beat alignment score than random poses and than the untrained generator")  # fmt: skip

# %% [markdown]
# **The generator's PFC against the real dances': the feet, or the speed?** PFC multiplies the
# feet's speeds by the body's acceleration, so it changes with the speed of the whole dance. To see
# how much of a difference that alone makes, the real test dances are played at the generator's
# pace, resampled in time until their joints move as fast on average as the generator's, and
# scored again: the same steps and the same feet, at another speed.


# %%
def at_pace(motion, factor: float) -> np.ndarray:
    """The motion's joints played `factor` times as fast (factor < 1: slower), resampled in time."""
    joints = motion.joints
    old_times = np.arange(len(joints))
    new_times = np.arange(0, len(joints) - 1, factor)
    flat = joints.reshape(len(joints), -1)
    return np.stack(
        [np.interp(new_times, old_times, column) for column in flat.T], 1
    ).reshape(len(new_times), *joints.shape[1:])


speed_factor = speed_of(made["generator"]) / speed_of(real_test)
paced_pfc = float(
    np.mean(
        [
            dance_metrics.physical_foot_contact(at_pace(m, speed_factor), FPS)
            for m in real_test
        ]
    )
)
scale = dance_metrics.PFC_REPORT_SCALE
gap_word = claims.compare(
    G["pfc"], X["pfc"], higher="above", lower="below", same="level with"
)
if G["pfc"] < X["pfc"]:
    verdict = (
        "so its lower PFC is what its smaller moves alone give: at the real dances' speed its feet "
        "would not be firmer than theirs. Lower than real here means *stiller*, not more physical."
        if G["pfc"] >= paced_pfc
        else "and the generator scores lower even than that: at equal speed its feet are planted "
        "more firmly while its body accelerates than the real dancer's are."
    )
else:
    verdict = (
        "so its feet slide more than a real dancer's while the body accelerates, beyond what its "
        "speed explains."
        if G["pfc"] > X["pfc"]
        else "so its feet behave like the real dances' here."
    )
claims.say(
    f"The generator's PFC (×{scale:g}) is {G['pfc'] * scale:.3f}, {gap_word} the real dances' "
    f"{X['pfc'] * scale:.3f}. Its joints move {speed_factor:.2f} times as fast as the real dances'; the "
    f"real dances played at that pace score {paced_pfc * scale:.3f}, " + verdict
)

# %%
published_scores = {
    name: dance_evaluate.evaluate_motions(
        real_test, made[name], test_beats, FPS, published_acceleration=True
    )
    for name in ("generator", "random poses")
}
claims.say(
    "With the published acceleration formula the kinetic scores move (FID_k "
    + ", ".join(
        f"{n}: {scores[n]['fid_k']:,.1f} → {published_scores[n]['fid_k']:,.1f}"
        for n in published_scores
    )
    + "): compare numbers with papers only under the same formula."
)

# %% [markdown]
# ### Looking at the dances
#
# One test piece, the real dance and the made ones side by side, as OpenPose skeletons:

# %%
pick = 0
clip = test_clips[pick]
span = slice(0, int(min(6, SECONDS) * FPS), 2)
rows = {}
for name in (
    "real test dances",
    "generator",
    "untrained generator",
    "random poses",
    "retrieval",
):
    motion = made[name][pick]
    cut = skeleton.Motion(motion.rotations[span], motion.translation[span], FPS / 2)
    short = {
        "real test dances": "real",
        "untrained generator": "untrained",
        "random poses": "random",
    }
    rows[short.get(name, name)] = dance_render.skeleton_maps(cut, 80)
print(f"{clip.name}: the first 6 s, every other frame")
viz.show_sequences(rows, fps=FPS / 2, save_to=OUT / "dances.gif")

# %% [markdown]
# ## From poses to pictures: ControlNet
#
# ControlNet copies the encoder of a trained Stable Diffusion UNet, feeds it a condition image
# (here the OpenPose skeleton: 18 keypoints, one colour per limb, the colours the OpenPose
# ControlNet was trained on) and adds its outputs to the frozen UNet's skip connections through
# zero-initialised layers. With network access the chapter loads SD 1.5 and the OpenPose
# ControlNet with `from_pretrained`. Offline it trains small stand-ins on the procedural
# dancer's pictures: an {term}`autoencoder`, a UNet of Stable Diffusion's class (a denoiser with a
# fixed prompt embedding), then the ControlNet from that UNet with the UNet frozen, on
# skeleton maps paired with the body they were drawn from.

# %%
started = time.perf_counter()
renderer = dance_render.load_renderer(data, final, device=device)
renderer_seconds = time.perf_counter() - started
print(renderer.label)
CLIP_FRAMES, CLIP_STRIDE = (
    8,
    4,
)  # clips of 8 pictures, one every 4 pose frames (about 1 s of dance)
clip_span = (CLIP_FRAMES - 1) * CLIP_STRIDE + 1


def pose_clips(dances: list, count: int) -> list:
    """`count` clips of CLIP_FRAMES poses, one every CLIP_STRIDE frames: from the dances in turn,
    each clip starting at its own place along its dance."""
    clips = []
    for k in range(count):
        motion = dances[k % len(dances)]
        start = int(round((k + 1) / (count + 1) * (len(motion) - clip_span)))
        pick = slice(start, start + clip_span, CLIP_STRIDE)
        clips.append(
            skeleton.Motion(
                motion.rotations[pick], motion.translation[pick], FPS / CLIP_STRIDE
            )
        )
    return clips


# the held-out poses, and the same places in another test dance (half the set further on)
others = real_test[len(real_test) // 2 :] + real_test[: len(real_test) // 2]
right_clips, other_clips = (
    pose_clips(real_test, RENDER_CLIPS),
    pose_clips(others, RENDER_CLIPS),
)
drawn = np.stack([drawing.draw_body(c.joints, RENDER_SIZE) for c in right_clips])
drawn_other = np.stack([drawing.draw_body(c.joints, RENDER_SIZE) for c in other_clips])
rendered = np.stack(
    [renderer.render(c, seed=SEED, desc="rendering test poses") for c in right_clips]
)
wrong = np.stack(
    [renderer.render(c, seed=SEED, desc="rendering other poses") for c in other_clips]
)
maps = dance_render.skeleton_maps(right_clips[0], RENDER_SIZE)
fig, ax = plt.subplots(figsize=(10, 4))
ax.imshow(
    np.concatenate(
        [
            np.concatenate(list(maps), 1),
            np.concatenate(list(rendered[0]), 1),
            np.concatenate(list(drawn[0]), 1),
        ]
    )
)
ax.axis("off")
ax.set_title(
    "one held-out clip: skeleton maps, ControlNet's pictures, the body drawn from the same poses (the target)"
)
plt.show()
flat = lambda clips: clips.reshape(-1, *clips.shape[2:])  # noqa: E731  (clips -> frames)
render_psnr = metrics.psnr(flat(rendered), flat(drawn))
# the same frames rendered from another test dance's skeletons: what the pose itself is worth
wrong_psnr = metrics.psnr(flat(wrong), flat(drawn))
_, train_bodies = dance_render.renderer_pictures(data, final)
average = np.broadcast_to(train_bodies.mean(axis=0).round().astype(np.uint8), drawn.shape)
average_psnr = metrics.psnr(flat(average), flat(drawn))
claims.say(
    f"Against the bodies drawn from the same held-out poses ({RENDER_CLIPS} clips, {drawn.shape[0] * drawn.shape[1]} "
    f"frames), the rendered frames reach {render_psnr:.1f} dB PSNR; rendered from another dance's skeletons "
    f"they reach {wrong_psnr:.1f} dB, so following the right pose is worth {round(render_psnr, 1) - round(wrong_psnr, 1) + 0.0:+.1f} dB. "
    f"The average training picture, a blurred body in no pose at all, scores {average_psnr:.1f} dB: "
    + ("the renderer loses to it on PSNR. Per-pixel scores reward a blur over a sharp limb drawn off its place, "
       "and the pictures above show how far from its pose this small renderer draws the limbs."
       if average_psnr > render_psnr else "the renderer beats a blur as well.")
)  # fmt: skip

# %% [markdown]
# ### The rendered video, judged as video
#
# {term}`PSNR` asks whether each picture matches its target. The course's scores for generated video
# (chapter 02, section 9) ask whether the rendered *clips* look and move like the target clips:
# the Fréchet distance ({term}`FD`) and {term}`KID` between the two sets on the course
# {term}`autoencoder`'s features (0 for sets from one distribution, up to noise), {term}`VBench`'s
# {term}`temporal flickering` (1 for a clip that never changes), the {term}`dynamic degree` (the share of clips
# that move, from {term}`Farneback optical flow`), the motion in pixels per frame and the
# subject consistency (1 when nothing changes). The real set is the drawn bodies of the same
# poses (the table's last row). The other rows show what the scores do without the right poses: the renderer fed
# another dance's skeletons, the drawn bodies of that other dance (real pictures, other poses:
# the noise of two real sets), and the average picture, frozen.

# %%
feature_ae = video_scores.feature_encoder(FEATURE_STEPS, device)
print("features from:", feature_ae.feature_label)
clip_fps = FPS / CLIP_STRIDE
render_sets = {
    "rendered (these poses)": rendered,
    "rendered from another dance's poses": wrong,
    "drawn bodies of another dance": drawn_other,
    "average picture, frozen": np.ascontiguousarray(average),
}
render_scores = {
    name: video_scores.generation_scores(clips, drawn, feature_ae, fps=clip_fps, seed=SEED)
    for name, clips in render_sets.items()
}
columns = {
    "fd": "FD ↓",
    "kid": "KID ↓",
    "temporal_flickering": "flickering (1: none)",
    "dynamic_degree": "dynamic degree (share of clips)",
    "motion_magnitude": "motion (px/frame)",
    "subject_consistency": "consistency (cosine)",
}
render_table = pd.DataFrame(render_scores).T[list(columns)]
truth_scores = render_scores["rendered (these poses)"]
render_table.loc["drawn bodies (the real set)"] = {
    "fd": 0.0, "kid": 0.0, **{k: truth_scores[f"{k}_real"] for k in list(columns)[2:]}
}  # fmt: skip
render_table.rename(columns=columns).round(3) + 0.0

# %%
R_, W_, D_ = (
    render_scores[k]
    for k in ("rendered (these poses)", "rendered from another dance's poses", "drawn bodies of another dance")
)  # fmt: skip
claims.say(
    f"The rendered clips score KID {R_['kid']:.3f} and FD {R_['fd']:.1f} against the drawn bodies; two sets of "
    f"real drawn bodies in different poses score KID {D_['kid']:.3f} and FD {D_['fd']:.1f}, so the renderer's "
    + ("pictures stand out from real ones" if R_["kid"] > D_["kid"] else "pictures are as close to the target set as real ones are")
    + f" at {RENDER_CLIPS} clips a set. Fed another dance's skeletons it scores KID {W_['kid']:.3f} and FD "
    f"{W_['fd']:.1f}: a distribution score compares sets, not pairs, so it cannot see whether each picture "
    "follows its own pose (PSNR above does)"
    + (
        ", and here the wrong poses' set even lies nearer the target than the right poses' (the page does not "
        "measure why)"
        if W_["kid"] < R_["kid"] and W_["fd"] < R_["fd"]
        else ""
    )
    + ". "
    + (
        "On both set scores the renderer loses to the average picture, frozen "
        f"(KID {render_scores['average picture, frozen']['kid']:.3f}, FD {render_scores['average picture, frozen']['fd']:.1f}). "
        if render_scores["average picture, frozen"]["kid"] < R_["kid"] and render_scores["average picture, frozen"]["fd"] < R_["fd"]
        else ""
    )
    + "Its clips move "
    f"{R_['motion_magnitude']:.2f} pixels per frame against the drawn bodies' {R_['motion_magnitude_real']:.2f} "
    f"({R_['motion_ratio']:.2f} times), and flicker "
    + claims.compare(R_["temporal_flickering"], R_["temporal_flickering_real"], higher="less than", lower="more than",
                     same="as much as", tolerance=0.002)
    + f" the drawn bodies (flickering score {R_['temporal_flickering']:.3f} against "
    f"{R_['temporal_flickering_real']:.3f})."
)  # fmt: skip

# %% [markdown]
# ## The dance video
#
# The last step: the generated poses of a held-out piece, rendered frame by frame from the
# same starting noise, written as an MP4 with the music muxed in. The chapter checks that the
# sound track lasts as long as the music, to within one frame.

# %%
from helpers.video import media_durations, write_mp4

video_clip = test_clips[0]
audio = dance_data.clip_audio(video_clip, config)[: int(round(VIDEO_SECONDS * SAMPLE_RATE))]
features = music.audio_features(audio, SAMPLE_RATE, FPS)
motion = generate(
    gan.generator, data, features.features, video_clip.style, seed=SEED, device=device
)
started = time.perf_counter()
frames = renderer.render(motion, seed=SEED)
render_fps = len(frames) / (time.perf_counter() - started)
skeletons = dance_render.skeleton_maps(motion, RENDER_SIZE)
video_path = write_mp4(
    np.concatenate([skeletons, frames], axis=2).repeat(3, axis=1).repeat(3, axis=2), OUT / "dance.mp4", FPS,
    audio=audio, sample_rate=SAMPLE_RATE,
)  # fmt: skip
durations = media_durations(video_path)
music_seconds = len(audio) / SAMPLE_RATE
display(Video(str(video_path), embed=True, width=2 * RENDER_SIZE * 3))
picks = np.linspace(0, len(frames) - 1, 6).round().astype(int)
fig, ax = plt.subplots(figsize=(10, 3.6))
ax.imshow(
    np.concatenate(
        [np.concatenate(list(skeletons[picks]), 1), np.concatenate(list(frames[picks]), 1)]
    )
)
ax.axis("off")
viz.glue("dance_video", fig)
plt.show()
claims.say(
    f"{runtime.display_path(video_path)}: {durations['video']:.3f} s of video and {durations['audio']:.3f} s of "
    f"sound for {music_seconds:.3f} s of music. The renderer painted {render_fps:.1f} frames per second "
    f"({RENDER_STEPS} denoising steps each) on {device}; the generator made the poses of the test dances at "
    f"{generation_fps:,.0f} pose frames per second, so the pictures, not the choreography, set the pace."
)
claims.holds(
    abs(durations["audio"] - music_seconds) <= 1 / FPS,
    "the video's sound track is as long as the music",
)

# %% [markdown]
# ## One command
#
# Two commands work from a terminal. `predict` reads a music file with FFmpeg (through PyAV:
# `music.load_audio` averages the channels and resamples to `SAMPLE_RATE`) and writes the dance
# video; on a fresh checkout it first trains the small models of the `cpu` {term}`profile` with
# progress bars, after `make book` it reuses the ones cached under `build/dance/`. `train` runs
# the search and the training alone (`--storage URL` to share the study between machines).
#
# ```bash
# python -m helpers.dance predict song.mp3 --out dance.mp4 --style pop --seconds 20 --seed 3
# python -m helpers.dance train --trials 20
# ```
#
# Which files does it read? The start of the test piece above (4 s, or the whole video's music
# when that is shorter), written in four formats, at two sample rates and in mono and stereo, then
# decoded the way `predict` decodes its input:

# %%
from scipy.signal import resample_poly

excerpt = audio[: int(4 * SAMPLE_RATE)]
variants = {  # file name: (samples as written, their sample rate, what was written)
    "song.wav": (excerpt, SAMPLE_RATE, "wav, mono, 16-bit PCM"),
    "song.flac": (np.stack([excerpt, 0.5 * excerpt], 1), SAMPLE_RATE, "flac, stereo"),
    "song.ogg": (resample_poly(excerpt, 2, 1), 2 * SAMPLE_RATE, "ogg (Vorbis), mono"),
    "song.mp3": (np.stack([excerpt, excerpt], 1), SAMPLE_RATE, "mp3, stereo"),
}
rows = []
for name, (samples, rate, written) in variants.items():
    path = music.write_audio(OUT / name, samples, rate)
    decoded = music.load_audio(path, SAMPLE_RATE)
    n = min(len(decoded), len(excerpt))
    rows.append(
        {
            "file": name,
            "written as": f"{written}, {rate:,} Hz",
            "size (kB)": path.stat().st_size / 1000,
            "decoded (s)": len(decoded) / SAMPLE_RATE,
            "correlation with the music": float(
                np.corrcoef(decoded[:n], excerpt[:n])[0, 1]
            ),
        }
    )
formats = pd.DataFrame(rows).set_index("file")
display(formats.round({"size (kB)": 0, "decoded (s)": 3, "correlation with the music": 3}))
claims.holds(
    (formats["correlation with the music"] > 0.9).all(),
    "every format decodes to the music that was written",
)
claims.say(
    f"All {len(formats)} files decode to {formats['decoded (s)'].min():.2f}-{formats['decoded (s)'].max():.2f} s "
    f"of sound at {SAMPLE_RATE:,} Hz, with a correlation of at least {formats['correlation with the music'].min():.3f} "
    "with the samples written: "
    + ", ".join(
        f"{name} {value:.4f}"
        for name, value in formats["correlation with the music"].items()
    )
    + ". A correlation ignores scale, so the stereo files' averaged channels cost nothing; what "
    "moves it below 1 is lossy coding and resampling. Here the command runs on the Ogg Vorbis "
    "file, then on a file that is not audio:"
)


# %%
song = OUT / "song.ogg"
here = runtime.display_path  # paths as seen from the course folder, where the commands run
arguments = ["predict", here(song), "--out", here(OUT / "song.mp4"), "--profile", PROFILE, "--style", "pop",
             "--seconds", "2"]  # fmt: skip
done = subprocess.run([sys.executable, "-m", "helpers.dance", *arguments], capture_output=True, text=True,
                      cwd=runtime.course_root())  # fmt: skip
print("$ python -m helpers.dance " + " ".join(arguments))
print(
    done.stdout.strip().splitlines()[-1]
    if done.stdout.strip()
    else done.stderr.strip()[-500:]
)
claims.holds(done.returncode == 0, "the predict command makes a video")
not_audio = OUT / "notes.txt"
not_audio.write_text("not music")
bad_arguments = [
    "predict",
    here(not_audio),
    "--out",
    here(OUT / "bad.mp4"),
    "--profile",
    PROFILE,
]
bad = subprocess.run([sys.executable, "-m", "helpers.dance", *bad_arguments], capture_output=True, text=True,
                     cwd=runtime.course_root())  # fmt: skip
print("$ python -m helpers.dance " + " ".join(bad_arguments))
print(bad.stderr.strip())
claims.holds(
    bad.returncode == 2 and not (OUT / "bad.mp4").exists(),
    "a file that is not audio is refused cleanly",
)

# %% [markdown]
# ## Results registry
#
# Every row of the dance table (the generator and its baselines), and the renderer, becomes one
# record of the
# {term}`results registry` under `build/results/<profile>/08_music_to_dance/` (with the
# {term}`profile`, the device and the weights that made it; PFC raw, not times 10,000 as in the
# table); the benchmark chapter reads only these files. The dance records hold poses, so they
# carry the dance scores; the course's scores for generated video, which need pictures, are in
# the renderer's record, as their notes say.

# %%
dataset = "music21-procedural-dance"
protocol = f"{len(test_clips)} test dances ({TEST_PIECES} held-out pieces x {len(TEMPO_FACTORS)} tempi x 4 styles), {SECONDS:.0f} s at {FPS:g} fps"
pose_note = (
    "kinetic features with the corrected acceleration formula; poses, not pictures: the scores for generated "
    "video (FD/KID on the course autoencoder's features, flicker, motion) need frames and are in the "
    "'controlnet renderer' record"
)
for name, s in scores.items():
    is_generator = name == "generator"
    tidy = {
        k: max(0.0, float(v)) + 0.0 if k.startswith("fid") else float(v)
        for k, v in s.items()
    }
    results.write_result(
        CHAPTER, name, dataset, split="test", protocol=protocol, profile=PROFILE, device=device,
        weights=("trained here: " + ", ".join(f"{k}={getattr(final, k):.3g}" for k in dance_config.SEARCHED)) if is_generator
        else "untrained (initial weights)" if name == "untrained generator" else "none",
        parameters=training.parameter_count(gan.generator) if name in ("generator", "untrained generator") else 0,
        metrics=tidy,
        training_seconds=run.seconds if is_generator else None,
        generation_fps=generation_fps if is_generator else None,
        notes=pose_note + ("; generation_fps counts pose frames" if is_generator else ""),
    )  # fmt: skip
results.write_result(
    CHAPTER, "controlnet renderer", dataset, split="test",
    protocol=f"{RENDER_CLIPS} clips of {CLIP_FRAMES} frames (every {CLIP_STRIDE}th pose) of the held-out dances, "
             f"{RENDER_SIZE} px, {RENDER_STEPS} denoising steps",
    profile=PROFILE, device=device, weights=renderer.label,
    parameters=training.parameter_count(renderer.pipe.controlnet),
    metrics={
        "psnr_vs_drawn_body": render_psnr, "psnr_other_pose": wrong_psnr, "psnr_average_picture": average_psnr,
        **render_scores["rendered (these poses)"],
        **{f"{k}_other_pose": render_scores["rendered from another dance's poses"][k] for k in ("fd", "kid")},
        **{f"{k}_real_vs_real": render_scores["drawn bodies of another dance"][k] for k in ("fd", "kid")},
        "generation_horizon_frames": CLIP_FRAMES,
    },
    training_seconds=sum(f.seconds for f in renderer.fits.values()) if renderer.fits else None,
    generation_fps=render_fps,
    notes=(
        f"scores for generated video on {RENDER_CLIPS} rendered clips of {CLIP_FRAMES} frames at {clip_fps:g} fps "
        f"against the bodies drawn from the same poses; *_other_pose: rendered from another test dance's poses; "
        f"*_real_vs_real: that dance's drawn bodies against these (the noise); {feature_ae.feature_label}; "
        f"generation_fps: rendered frames of the {VIDEO_SECONDS:g} s dance video"
    ),
)  # fmt: skip
registry = results.results_table(results.load_results(chapter=CHAPTER, profile=PROFILE))
registry_columns = {
    "generation_fps": "speed (frames/s: poses, or pictures)",
    "fid_k": "FID_k", "fid_g": "FID_g", "div_k": "Div_k", "bas": "BAS", "pfc": f"PFC ×{dance_metrics.PFC_REPORT_SCALE:g}",
    "psnr_vs_drawn_body": "PSNR (dB)", "kid": "KID", "temporal_flickering": "flickering (1: none)",
}  # fmt: skip
shown = registry.set_index("model")[list(registry_columns)].assign(
    pfc=registry.set_index("model")["pfc"] * dance_metrics.PFC_REPORT_SCALE
)
shown = shown.rename(columns=registry_columns)
shown.round(3) + 0.0

# %% [markdown]
# ## Exercises
#
# 1. Train without the adversarial term: `dance_train.train_gan(data,
#    dataclasses.replace(final, lambda_adv=0.0), "no-gan.pt")`, then `dance_evaluate.benchmark`
#    it. How do FID_k, Div_k and the joints' speed move when only the reconstruction losses
#    train the generator?
# 2. Change `--style` in the command to each of the four styles for the same song: does the
#    generator's style input change its dance, or mostly its stance?
# 3. Shift every test dance by half a beat (drop the first few frames) and score it: how far
#    does the real dances' BAS fall? What does that say about a BAS difference of 0.05?
# 4. With AIST++ downloaded, train on its motions for the pieces you have music for, and set
#    your FID_k (with `published_acceleration=True`) beside the tables of the AIST++ (FACT) and
#    Bailando papers.
# 5. Make the generator causal: pad the convolutions of `ResidualBlock` (in
#    `helpers/dance/model.py`) on the left only, and make the final smoothing filter one-sided.
#    It can then dance to a live stream; what does it lose on the test pieces?
