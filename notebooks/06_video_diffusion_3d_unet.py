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
# # 06 · 3D U-Net video diffusion with an AdaIN upsampler
#
# The models so far predicted one frame from the one before. A video diffusion model makes a
# whole clip at once: it starts from noise shaped like a clip (frames × height × width) and
# removes that noise step by step with a network that sees every frame together
# {cite}`ho2022video`. This chapter builds that network, a 3D {term}`U-Net` factorised into per-frame
# convolutions and a temporal part, trains it on bouncing shapes whose colour and position are
# given *per frame*, and measures whether those labels steer the clip, frame by frame. A second
# diffusion model, modulated through adaptive instance normalisation ({term}`AdaIN`)
# {cite}`huang2017adain` as in StyleGAN, turns the 32-pixel clips into 64-pixel ones; it is
# measured against bicubic interpolation on held-out clips of shapes and of real video. Both
# models are trained by the same code as the course's command-line tool
# `python -m helpers.pixel_video_diffusion`, which the chapter also drives.
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/frame-by-frame-course/video-generation/blob/main/notebooks/06_video_diffusion_3d_unet.ipynb)

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
SIZE = 32  # side of the base model's frames
FRAMES = 8  # frames per clip (X)
SKIP = 1  # frames skipped between two kept frames (M)
SHAPE_SEQUENCES = 512  # bouncing-shapes sequences generated for training
WIDTH = 16  # channels of the base U-Net's first level
PATCH = 1  # side of the pixel patches folded into channels before the first level
BATCH_SIZE = 8  # clips per training step
BASE_STEPS = 360  # training steps of the base model
LEARNING_RATE = 0.001
GUIDANCE = 3.0  # classifier-free guidance scale for the label experiments
DDIM_STEPS = 20  # denoising steps of the DDIM sampler
DDPM_STEPS = 100  # denoising steps of the DDPM (ancestral) sampler
HIGH_SIZE = 64  # the upsampler's output side (its input is SIZE)
UPSAMPLER_WIDTH = 16
UPSAMPLER_PATCH = 2
UPSAMPLER_STEPS = 260
UPSAMPLER_SAMPLE_STEPS = 3  # DDIM steps of the upsampler
TEST_CLIPS = 16  # held-out clips for every score
LABEL_SAMPLES = 4  # clips drawn per label setting
FEATURE_STEPS = 1800  # training steps of the course autoencoder whose latents are the scores' features (chapter 02)

# %%
# Stop here, in one line, if a value above cannot work (chapter 00 explains the check).
from helpers import parameters

parameters.check(
    globals(),
    PROFILE=parameters.profile(),
    SEED=parameters.seed(),
    DEVICE=parameters.device(),
    SIZE=parameters.multiple_of(
        16, 16, 256, why="patches of up to 4 pixels, then the U-Net halves the frame twice"
    ),
    FRAMES=parameters.integer(4, 32, why="the label switch needs frames on both sides"),
    SKIP=parameters.integer(0, 8),
    SHAPE_SEQUENCES=parameters.integer(8),
    WIDTH=parameters.multiple_of(8, 8, 512, why="group normalisation uses 8 groups"),
    PATCH=parameters.one_of(1, 2, 4),
    BATCH_SIZE=parameters.integer(1),
    BASE_STEPS=parameters.integer(1),
    LEARNING_RATE=parameters.positive(0.1),
    GUIDANCE=parameters.number(0, 20),
    DDIM_STEPS=parameters.integer(1, 1000),
    DDPM_STEPS=parameters.integer(1, 1000),
    HIGH_SIZE=parameters.multiple_of(
        16, "2 * SIZE", 512, why="the upsampler enlarges SIZE 2 times or more"
    ),
    UPSAMPLER_WIDTH=parameters.multiple_of(
        8, 8, 512, why="group normalisation uses 8 groups"
    ),
    UPSAMPLER_PATCH=parameters.one_of(1, 2, 4),
    UPSAMPLER_STEPS=parameters.integer(1),
    UPSAMPLER_SAMPLE_STEPS=parameters.integer(1, 1000),
    TEST_CLIPS=parameters.integer(2),
    LABEL_SAMPLES=parameters.integer(1),
    FEATURE_STEPS=parameters.integer(1),
)
if HIGH_SIZE % SIZE:
    raise parameters.ParameterError(
        f"HIGH_SIZE={HIGH_SIZE}: must be a whole multiple of SIZE={SIZE}"
    )

# %%
import subprocess
import sys
import time

import imageio.v3 as iio
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import Markdown, display

from helpers import claims, datasets, metrics, results, runtime, video_scores, viz
from helpers.pixel_video_diffusion.config import (
    SHAPE_COLOURS,
    create_config,
    load_config,
    with_upsampler,
    write_config,
)
from helpers.pixel_video_diffusion.data import low_resolution, prepare_batch, training_clips
from helpers.pixel_video_diffusion.diffusion import diffusion_loss, sample
from helpers.pixel_video_diffusion.model import (
    AdaIN,
    ResBlock,
    TemporalAttention,
    VideoUNet,
)
from helpers.pixel_video_diffusion.train import load_model, train
from helpers.tensors import clips_to_tensor, tensor_to_clips

runtime.seed_everything(SEED)
CHAPTER = "06_video_diffusion_3d_unet"
OUT = runtime.build_dir(CHAPTER, PROFILE)
device = runtime.select_device(DEVICE)
print(f"PyTorch {torch.__version__} on {device}; outputs in {runtime.display_path(OUT)}")


# %% [markdown]
# ## What you will build
#
# ```{glue:figure} label_control
# :figwidth: 100%
#
# Clips sampled from the same noise with different per-frame colour labels and the same
# position path: each row is one clip (frames left to right, counted from 0), made by the
# model trained further down this page.
# ```
#
# ## The data: clips of X frames with M skipped, and a label on every frame
#
# The source project loaded N consecutive frames of a video and kept X of them, skipping M
# frames between two kept ones: a clip then spans $(X-1)(M+1)+1$ frames of the video, so a
# model that makes X frames covers about M+1 times as much time. Here X = `FRAMES` and M = `SKIP`.
#
# The training videos are bouncing shapes. Every frame has two labels: a **class**, the shape's
# colour (red, green, blue or yellow), and a **vector**, the shape's centre $(x, y)$ scaled to
# $[-1, 1]$. In some sequences the colour changes once, at a random frame, so that the data
# says a label belongs to a frame and not to the whole clip. (The source project's labels were
# a game's timeline as classes and a person's pose keypoints as vectors: the same two kinds.)

# %%
span = datasets.clip_span(FRAMES, SKIP)
config_answers = {
    "data.size": SIZE,
    "data.frames": FRAMES,
    "data.skip": SKIP,
    "data.sequences": SHAPE_SEQUENCES,
    "model.width": WIDTH,
    "model.patch": PATCH,
    "labels.classes": len(SHAPE_COLOURS),
    "labels.vector_dim": 2,
    "training.steps": BASE_STEPS,
    "training.batch_size": BATCH_SIZE,
    "training.learning_rate": LEARNING_RATE,
    "training.seed": SEED,
    "sampling.steps": DDIM_STEPS,
    "sampling.guidance_scale": GUIDANCE,
}
# the checkpoint folder is named by every setting but the step count: raising BASE_STEPS
# continues a finished run, changing anything else (SEED, WIDTH, ...) trains a new one
base_key = runtime.settings_key(
    {k: v for k, v in config_answers.items() if k != "training.steps"}
)
base_config = create_config(
    {"name": "base", "output_dir": str(OUT / f"base-{base_key}"), **config_answers}
)
train_data = training_clips(base_config)
print(
    f"{len(train_data['clips'])} training clips of {FRAMES} frames at {SIZE} px, "
    f"each spanning {span} frames of its sequence (one kept, then {SKIP} skipped)"
)
example = (
    0
    if not (np.diff(train_data["classes"], axis=1) != 0).any()
    else int(np.flatnonzero((np.diff(train_data["classes"], axis=1) != 0).any(1))[0])
)
labels_text = [
    f"{SHAPE_COLOURS[c]} ({x:+.2f},{y:+.2f})"
    for c, (x, y) in zip(
        train_data["classes"][example], train_data["vectors"][example], strict=True
    )
]
_ = viz.show_frames(
    train_data["clips"][example],
    titles=labels_text,
    suptitle="one training clip and its per-frame labels",
)

# %% [markdown]
# ## Diffusion, in short
#
# Training adds Gaussian noise to a clean clip $x_0$ at a random level $t$ of a fixed schedule,
# $x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\epsilon$, and teaches a network to undo
# it from the noisy clip and the labels $c$. {term}`DDPM` {cite}`ho2020denoising` asks the network for
# the noise $\epsilon$; asking for the clean clip is equivalent, since either one gives the other
# through the equation above. This chapter's configs ask for the clean clip ("sample" in
# diffusers' terms; `diffusion.prediction` switches, and exercise 1 tries the noise):
#
# $$\mathcal{L} = \mathbb{E}_{x_0, t, \epsilon}\,\big\|x_0 - \hat x_\theta(x_t, t, c)\big\|^2 .$$
#
# Sampling runs the process backwards from pure noise. DDPM takes small random steps (one per
# noise level in the original, `DDPM_STEPS` of the levels here); {term}`DDIM` {cite}`song2021ddim`
# takes large deterministic steps, so far fewer network
# calls make a clip. Both samplers come from diffusers, and one trained network serves both.
#
# **{term}`Classifier-free guidance <classifier-free guidance>`** {cite}`ho2021cfg`. During training the labels of a share of the clips
# (`labels.drop_prob`) are replaced by a learned "no label". At sampling the network is asked
# twice, with and without the labels, and the answer is pushed away from the unlabelled one:
# $\hat x = \hat x_\theta(x_t, \varnothing) + w\,\big(\hat x_\theta(x_t, c) - \hat x_\theta(x_t, \varnothing)\big)$,
# with guidance scale $w$ (`GUIDANCE`; $w = 1$ is the plain conditional model).
#
# ## The network: a 3D U-Net, factorised
#
# A full 3D convolution mixes space and time in one $3\times3\times3$ kernel. The factorised
# block used here (as in video diffusion models since {cite}`ho2022video`) does the spatial work
# with 2D convolutions on every frame, then mixes time with a 1D convolution across frames at
# every pixel; deeper levels add temporal attention, where every pixel's features attend over
# all frames with a learned bias for each distance between frames (relative positions, so the
# network does not care where in the clip a frame sits). The temporal parts start at zero: a
# fresh network is an image model applied frame by frame, and training learns how frames
# relate (almost: group normalisation pools its statistics over all frames of a clip). Every
# frame carries its own embedding: the noise level plus that frame's labels.

# %%
viz.show_code(ResBlock, TemporalAttention)

# %% [markdown]
# The U-Net stacks these blocks: the frame is cut into `PATCH`-pixel patches folded into
# channels (fewer, richer positions: cheaper on a CPU), then every level halves height and
# width, and the way back up joins the features of the same level (the U-Net's skips). The
# network's output is added to the best *linear* guess of the target from the noisy clip alone
# (the {term}`c_skip` of {cite}`karras2022edm`, for clips whose pixels spread by
# `diffusion.data_std`), so it learns only what that guess misses.

# %%
viz.show_code(
    VideoUNet.frame_embedding,
    VideoUNet.forward,
    diffusion_loss,
)

# %% [markdown]
# ## Train the base model
#
# The config below is what `python -m helpers.pixel_video_diffusion create-config` writes (every key
# is documented in the file). `train` is the code the command `train` runs: Hugging Face
# Accelerate around an AdamW loop, an exponential moving average of the weights ({term}`EMA`) for sampling,
# a progress bar and a checkpoint every `training.checkpoint_every` steps. Run the chapter again
# and it loads the finished checkpoint; interrupt it and it continues where it stopped.

# %%
config_path = write_config(base_config, OUT / "base.yaml", overwrite=True)
print(
    config_path.read_text().replace(str(runtime.course_root()) + "/", "")
)  # paths from the course folder

# %%
base_run = train(load_config(config_path), device, resume=True)
base_model = load_model(base_config, device)
history = pd.DataFrame(base_run.history)
print(
    f"{base_run.parameters:,} parameters; {base_run.steps} steps, {base_run.steps_run} of them in this "
    f"session, {base_run.seconds:.0f} s of training in all"
)
window = max(1, len(history) // 30)
ax = (
    history.set_index("step")["loss"]
    .rolling(window)
    .mean()
    .plot(figsize=(7, 3), title="base model: training loss")
)
ax.set(ylabel="MSE of the predicted clean clip")
plt.show()
first_loss = history["loss"].head(max(1, len(history) // 10)).mean()
last_loss = history["loss"].tail(max(1, len(history) // 10)).mean()
if PROFILE != "smoke":  # a few smoke steps prove nothing either way
    claims.holds(last_loss < first_loss, "the base model's training loss falls")

# %% [markdown]
# ## Does a label steer its frame? Measured on the frames
#
# The labels are checked on what the samples *show*: `datasets.shape_colour` reads the colour
# nearest to the mean foreground colour of each frame, and `datasets.shape_centre` the
# foreground's centre of mass. Three settings, each sampled from the same seeds:
#
# 1. one colour for the whole clip, every colour in turn;
# 2. a colour that switches halfway through the clip;
# 3. the centre following a path given frame by frame.

# %%
colours = np.arange(len(SHAPE_COLOURS))
half = FRAMES // 2
path = np.stack(
    [np.linspace(-0.6, 0.6, FRAMES), np.linspace(0.5, -0.5, FRAMES)], axis=1
).astype(np.float32)
start = time.perf_counter()
constant = {
    c: tensor_to_clips(
        sample(
            base_model,
            base_config,
            LABEL_SAMPLES,
            seed=SEED,
            classes=np.full(FRAMES, c),
            vectors=path,
        )
    )
    for c in colours
}
switch_labels = np.array([0] * half + [2] * (FRAMES - half))
switched = tensor_to_clips(
    sample(
        base_model,
        base_config,
        LABEL_SAMPLES,
        seed=SEED,
        classes=switch_labels,
        vectors=path,
    )
)

read = {c: datasets.shape_colour(clips) for c, clips in constant.items()}
colour_accuracy = float(np.mean([(read[c] == c).mean() for c in colours]))
switch_read = datasets.shape_colour(switched)
before = float((switch_read[:, :half] == switch_labels[0]).mean())
after = float((switch_read[:, half:] == switch_labels[-1]).mean())
centres = np.concatenate([datasets.shape_centre(clips) for clips in constant.values()])
position_error_px = float(np.nanmean(np.abs(centres - path)) * (SIZE - 1) / 2)
# the same distance for shapes that ignore the path: the training clips' own positions
ignoring_path_px = float(np.mean(np.abs(train_data["vectors"] - path)) * (SIZE - 1) / 2)
rows = [
    viz.caption(viz.grid(constant[c][0], pad=1), f"{SHAPE_COLOURS[c]} on every frame")
    for c in colours
]
rows.append(viz.caption(viz.grid(switched[0], pad=1), f"red, then blue from frame {half}"))
label_figure = viz.upscale(np.concatenate(rows)[None], 2)[0]
viz.save_image(label_figure, OUT / "label_control.png")
fig, ax = plt.subplots(figsize=(10, 6))
ax.imshow(label_figure)
ax.axis("off")
viz.glue("label_control", fig)
plt.show()
pd.DataFrame(
    {
        "asked": [f"{SHAPE_COLOURS[c]} on every frame" for c in colours]
        + ["red before the switch", "blue after the switch"],
        "frames showing it (%)": [100 * (read[c] == c).mean() for c in colours]
        + [100 * before, 100 * after],
    }
).round(1)

# %%
claims.say(
    f"Asked for one colour on every frame, {colour_accuracy:.0%} of the sampled frames show that colour "
    f"(chance is {1 / len(colours):.0%}). With the colour switched at frame {half}, "
    f"{before:.0%} of the frames before the switch show the first colour and {after:.0%} of the frames "
    f"after it show the second. The shape's centre lies {position_error_px:.1f} pixels from the asked "
    f"position on average (per axis, over {len(centres) * FRAMES} frames of {SIZE} pixels), against "
    f"{ignoring_path_px:.1f} pixels for shapes that ignore the path (the training clips' own positions): "
    + (
        "the position vectors steer the shape."
        if position_error_px < 0.5 * ignoring_path_px
        else "the position vectors steer the shape a little."
        if position_error_px < 0.9 * ignoring_path_px
        else "at this training budget the position vectors do not steer the shape."
    )
)
if PROFILE != "smoke":
    claims.holds(
        colour_accuracy >= 0.75,
        "a constant colour label gives that colour on at least 75% of the frames",
    )
    claims.holds(
        before >= 0.75 and after >= 0.75,
        "a colour switched mid-clip shows before the switch on at least 75% of the frames, and after it on at least 75%",
    )

# %% [markdown]
# The tolerance asserted above is 75% of the frames, not all of them: a sampled shape can sit
# half outside the frame or fade at the switch, and the colour reader then sees the wrong colour
# or none.
#
# ## DDPM against DDIM: speed, and clips judged as video
#
# The same network, two samplers: DDPM with `DDPM_STEPS` small random steps and DDIM with
# `DDIM_STEPS` deterministic ones. Each sampler makes `TEST_CLIPS` clips, each
# given the per-frame labels (colour and centre) of one held-out clip of
# `datasets.shapes_test_set`, which no training seed draws. Frames per second counts frames of
# finished clips.

# %%
keep = np.arange(0, span, SKIP + 1)
held_video, held_classes, held_vectors = datasets.shapes_test_set(
    2 * TEST_CLIPS, frames=span, size=SIZE
)
held_video, held_classes, held_vectors = (
    held_video[:, keep],
    held_classes[:, keep],
    held_vectors[:, keep].astype(np.float32),
)
asked_clips = held_video[:TEST_CLIPS]  # the clips whose labels the samplers are given
other_clips = held_video[TEST_CLIPS:]  # more held-out clips, with other labels: the noise
rates = {}
samples_by = {}
for sampler, steps in (("ddpm", DDPM_STEPS), ("ddim", DDIM_STEPS)):
    start = time.perf_counter()
    clips = sample(
        base_model,
        base_config,
        TEST_CLIPS,
        seed=SEED + 1,
        classes=held_classes[:TEST_CLIPS],
        vectors=held_vectors[:TEST_CLIPS],
        sampler=sampler,
        steps=steps,
        show_progress=True,
    )
    seconds = time.perf_counter() - start
    samples_by[sampler] = tensor_to_clips(clips)
    rates[sampler] = {
        "denoising steps": steps,
        "time (s)": seconds,
        "speed (frames/s)": TEST_CLIPS * FRAMES / seconds,
        "frames showing the asked colour (%)": 100
        * float(
            (datasets.shape_colour(samples_by[sampler]) == held_classes[:TEST_CLIPS]).mean()
        ),
    }
rate_table = pd.DataFrame(rates).T.rename(index=str.upper)
rate_table["denoising steps"] = rate_table["denoising steps"].astype(int)
viz.show_sequences(
    {
        "held-out": np.concatenate(list(asked_clips[:2]), axis=2),
        **{k.upper(): np.concatenate(list(v[:2]), axis=2) for k, v in samples_by.items()},
    },
    fps=4,
    scale=3,
)
rate_table.round(
    {"time (s)": 2, "speed (frames/s)": 2, "frames showing the asked colour (%)": 1}
)

# %%
speedup = rates["ddim"]["speed (frames/s)"] / rates["ddpm"]["speed (frames/s)"]
shown = {k: rates[k]["frames showing the asked colour (%)"] for k in rates}
claims.say(
    f"DDIM made {rates['ddim']['speed (frames/s)']:.2f} frames per second with {DDIM_STEPS} steps, DDPM "
    f"{rates['ddpm']['speed (frames/s)']:.2f} with {DDPM_STEPS}: DDIM is {speedup:.1f} times "
    + ("faster" if speedup >= 1 else "slower")
    + f" on {device}. {shown['ddim']:.0f}% of the DDIM frames and {shown['ddpm']:.0f}% of the DDPM "
    f"frames show the colour their label asks for ({TEST_CLIPS * FRAMES} frames each)."
)

# %% [markdown]
# ### Is it like the held-out shapes? Scores for generated video
#
# Colour accuracy asks whether a label steers its frame; it does not ask whether the clips move
# like bouncing shapes or flicker. Chapter 02 (section 9) introduced the course's scores for
# generated video, and every family records them:
#
# - the **Fréchet distance** ({term}`FD`) and {term}`KID` between the set of generated clips and the set of
#   held-out clips, on features of the course {term}`autoencoder` (its {term}`latent` of every
#   frame, and how the latent changes from frame to frame): 0 for two sets from one distribution,
#   up to noise; both are in squared units of the features, standardised by the real clips' spread;
# - {term}`VBench`'s **{term}`temporal flickering`** (1 for a clip that never changes), its **{term}`dynamic degree`**
#   (the share of clips that move, from {term}`Farneback optical flow`), the **motion** (mean flow
#   in pixels per frame) next to the truth's, and the **subject consistency** (cosine similarity of
#   each frame's latent to the previous and the first frame's; 1 when nothing changes).
#
# The real set is the `TEST_CLIPS` held-out clips whose labels the samplers were given, so both
# sets ask for the same colours and paths. Three rows of real clips show what the scores do
# without a model: *other held-out clips* (the same kind of clips with other labels: what two
# samples of real shapes score, the noise), the held-out clips *frozen* on their first frame,
# and the same clips *shuffled in time*.

# %%
feature_ae = video_scores.feature_encoder(FEATURE_STEPS, device)
print("features from:", feature_ae.feature_label)
shape_fps = base_config.sampling.fps  # the frame rate of the chapter's GIFs
score_sets = {
    "DDIM": samples_by["ddim"],
    "DDPM": samples_by["ddpm"],
    "other held-out clips": other_clips,
    "held-out clips, frozen": np.repeat(asked_clips[:, :1], FRAMES, axis=1),
    "held-out clips, shuffled in time": video_scores.shuffled_in_time(
        asked_clips, seed=SEED
    ),
}
base_scores = {
    name: video_scores.generation_scores(
        clips, asked_clips, feature_ae, fps=shape_fps, seed=SEED
    )
    for name, clips in score_sets.items()
}
shape_noise = video_scores.distribution_noise(
    video_scores.clip_features(held_video, feature_ae),
    sizes=(max(2, TEST_CLIPS),),
    seed=SEED,
)
SCORE_COLUMNS = {
    "fd": "FD ↓",
    "kid": "KID ↓",
    "temporal_flickering": "flickering (1: none)",
    "dynamic_degree": "dynamic degree (share of clips)",
    "motion_magnitude": "motion (px/frame)",
    "subject_consistency": "consistency (cosine)",
}


def score_table(scores: dict[str, dict[str, float]], truth_name: str) -> pd.DataFrame:
    """The generation scores with their units, and the real clips' own flicker, motion and
    consistency as the last row (their FD and KID against themselves are 0)."""
    table = pd.DataFrame(scores).T[list(SCORE_COLUMNS)]
    first = next(iter(scores.values()))
    table.loc[truth_name] = {
        "fd": 0.0,
        "kid": 0.0,
        **{k: first[f"{k}_real"] for k in list(SCORE_COLUMNS)[2:]},
    }
    return table.rename(columns=SCORE_COLUMNS)


score_table(base_scores, "held-out clips (the real set)").round(3)

# %%
ddim_s, ddpm_s = base_scores["DDIM"], base_scores["DDPM"]
noise_row = shape_noise.iloc[0]
kid_noise = noise_row["kid mean"] + 2 * noise_row["kid spread"]
fd_noise = noise_row["fd mean"] + 2 * noise_row["fd spread"]


def against_noise(score: dict[str, float]) -> str:
    """Whether a set's KID and FD stand out of what two sets of real clips score."""
    inside = score["kid"] <= kid_noise and score["fd"] <= fd_noise
    return "within" if inside else "above"


def motion_words(score: dict[str, float]) -> str:
    ratio = score["motion_ratio"]
    return (
        f"{score['motion_magnitude']:.2f} pixels per frame, {ratio:.2f} times the held-out clips' "
        f"{score['motion_magnitude_real']:.2f}"
    )


frozen_s = base_scores["held-out clips, frozen"]


def real_sets_ahead(score: str) -> list[str]:
    """The broken real sets (frozen, shuffled) that score lower than both samplers on `score`."""
    return [
        name
        for name in ("held-out clips, frozen", "held-out clips, shuffled in time")
        if base_scores[name][score] < min(ddim_s[score], ddpm_s[score])
    ]


beaten_by, fd_beaten_by = real_sets_ahead("kid"), real_sets_ahead("fd")
claims.say(
    f"Two sets of {int(noise_row.name)} real held-out clips score KID {noise_row['kid mean']:.3f} "
    f"± {noise_row['kid spread']:.3f} and FD {noise_row['fd mean']:.1f} ± {noise_row['fd spread']:.1f} "
    f"against each other (mean ± spread over random splits): a score below the mean plus two "
    f"spreads (KID {kid_noise:.3f}, FD {fd_noise:.1f}) cannot be told from real clips at this sample "
    f"size. DDIM's clips score KID {ddim_s['kid']:.3f} and FD {ddim_s['fd']:.1f}, "
    f"{against_noise(ddim_s)} that level; DDPM's KID {ddpm_s['kid']:.3f} and FD {ddpm_s['fd']:.1f}, "
    f"{against_noise(ddpm_s)} it. "
    + (
        "Both samplers score better than the frozen and the shuffled real clips. "
        if not beaten_by
        else "On KID the model loses to "
        + " and to ".join(
            {
                "held-out clips, frozen": "the held-out clips frozen on their first frame",
                "held-out clips, shuffled in time": "the held-out clips shuffled in time",
            }[name]
            for name in beaten_by
        )
        + ": real pictures, even with their motion broken, lie closer to the held-out set than "
        "its clips do. "
    )
    + (
        "On FD it loses to "
        + " and to ".join(
            f"{name.removeprefix('held-out clips, ')} real clips (FD {base_scores[name]['fd']:.1f})"
            for name in fd_beaten_by
        )
        + ". "
        if fd_beaten_by
        else ""
    )
    + f"**Motion**: the shapes in DDIM's clips move {motion_words(ddim_s)}, in DDPM's "
    f"{motion_words(ddpm_s)}"
    + (
        ": the model moves its shapes less than the data does"
        if max(ddim_s["motion_ratio"], ddpm_s["motion_ratio"]) < 0.8
        else ": the model moves its shapes more than the data does"
        if min(ddim_s["motion_ratio"], ddpm_s["motion_ratio"]) > 1.25
        else ": about as far as the data's shapes move"
        if all(0.8 <= s["motion_ratio"] <= 1.25 for s in (ddim_s, ddpm_s))
        else ": the two samplers differ"
    )
    + f"; {ddim_s['dynamic_degree']:.0%} of DDIM's and {ddpm_s['dynamic_degree']:.0%} of DDPM's "
    f"clips count as dynamic, against {ddim_s['dynamic_degree_real']:.0%} of the held-out clips. "
    f"**Flicker**: the flickering score is {ddim_s['temporal_flickering']:.3f} (DDIM) and "
    f"{ddpm_s['temporal_flickering']:.3f} (DDPM) against the held-out clips' "
    f"{ddim_s['temporal_flickering_real']:.3f}: "
    + " and ".join(
        f"{name}'s frames change "
        + claims.compare(
            score["temporal_flickering"],
            score["temporal_flickering_real"],
            higher="less",
            lower="more",
            same="as much",
            tolerance=0.002,
        )
        + " from one to the next than the data's"
        for name, score in (("DDIM", ddim_s), ("DDPM", ddpm_s))
    )
    + f". The frozen clips show what flicker and consistency reward: a flickering score of "
    f"{frozen_s['temporal_flickering']:.3f} and a consistency of {frozen_s['subject_consistency']:.3f}, "
    "the best possible, from clips that do not move at all; read both next to the motion."
)

# %% [markdown]
# ## The upsampler: a second diffusion model, styled through AdaIN
#
# The upsampler makes a `HIGH_SIZE`-pixel clip from a `SIZE`-pixel one. It is the same U-Net
# code, configured without temporal attention, with `UPSAMPLER_PATCH`-pixel patches and with
# `diffusion.data_std`, the spread of the data that the network's {term}`c_skip` assumes, set to
# the spread of its own targets (measured below), and with two changes:
#
# - its input is the noisy high-resolution clip **and** the low-resolution clip upscaled with
#   bicubic interpolation, side by side as channels; it learns the *residual*, what bicubic
#   interpolation misses;
# - a **mapping network** (four layers; StyleGAN's has eight) turns each frame's embedding (the noise
#   level, plus labels when it has them) into a style vector $w$, and every block normalises its
#   features per frame and channel and then scales and shifts them by amounts computed from $w$:
#   adaptive instance normalisation,
#   $\mathrm{AdaIN}(h, w) = (1 + \gamma(w))\,\frac{h - \mu(h)}{\sigma(h)} + \beta(w)$.
#
# It trains on clips of the shapes and of the course's training shots, so that it learns edges
# of both kinds; the held-out shapes and the held-out shots score it.

# %%
viz.show_code(AdaIN, low_resolution)

# %%
upsampler_answers = {
    "kind": "upsampler",
    "name": "upsampler",
    "data.source": "mixed",
    "data.size": HIGH_SIZE,
    "data.low_size": SIZE,
    "data.frames": FRAMES,
    "data.skip": SKIP,
    "data.sequences": SHAPE_SEQUENCES // 2,
    "model.width": UPSAMPLER_WIDTH,
    "model.patch": UPSAMPLER_PATCH,
    "model.attention_heads": 0,
    "training.steps": UPSAMPLER_STEPS,
    "training.batch_size": BATCH_SIZE,
    "training.learning_rate": LEARNING_RATE,
    "training.seed": SEED,
    "sampling.steps": UPSAMPLER_SAMPLE_STEPS,
}
# the upsampler's targets are its residuals over bicubic: measure their spread on the training
# clips (every clip's residual is the same whatever data_std says) and give the model that
measuring = create_config({**upsampler_answers, "output_dir": str(OUT)})
up_data = training_clips(measuring)
every = max(1, len(up_data["clips"]) // 64)
residual = prepare_batch(
    measuring, up_data, np.arange(0, len(up_data["clips"]), every), "cpu"
)["clips"]
residual_spread = float(residual.std())
base_spread = float(clips_to_tensor(train_data["clips"][::every][:64]).std())
residual_median = float(residual.abs().median())
upsampler_answers["diffusion.data_std"] = round(residual_spread, 3)
upsampler_key = runtime.settings_key(
    {
        k: v
        for k, v in upsampler_answers.items()
        if k not in ("training.steps", "sampling.steps")
    }
)
upsampler_config = create_config(
    {**upsampler_answers, "output_dir": str(OUT / f"upsampler-{upsampler_key}")}
)
claims.say(
    f"Over {len(residual)} training clips the residual over bicubic spreads by {residual_spread:.3f} "
    f"on the [-1, 1] scale of the pixels (the base model's clean training clips spread by "
    f"{base_spread:.2f}; it keeps EDM's default data_std of {base_config.diffusion.data_std}"
    + (
        ", close to that"
        if abs(base_spread - base_config.diffusion.data_std) <= 0.25 * base_spread
        else ", which exercise 6 replaces by the measured spread"
    )
    + f"), and half of its pixels lie within {residual_median:.2g} of 0: "
    f"most of a frame is smooth, and the edges carry the spread. The upsampler's "
    f"`diffusion.data_std` is set to the measured spread, {upsampler_config.diffusion.data_std}."
)
upsampler_path = write_config(upsampler_config, OUT / "upsampler.yaml", overwrite=True)
upsampler_run = train(load_config(upsampler_path), device, resume=True)
upsampler = load_model(upsampler_config, device)
print(
    f"upsampler: {upsampler_run.parameters:,} parameters, {upsampler_run.seconds:.0f} s of training in all"
)

# %% [markdown]
# ### Against bicubic, on held-out clips
#
# Held-out shapes come from `datasets.shapes_test_set`, which no training seed draws; the real
# clips are windows of the course's held-out {term}`shots <shot>`, scored on picture content only
# (the {term}`letterbox` padding masked, as in every chapter). Both methods start from the same
# `SIZE`-pixel clip, made from the true `HIGH_SIZE`-pixel one by averaging. {term}`PSNR` (in dB)
# and {term}`SSIM` (1 for a perfect copy) compare each frame with its true frame; *sharpness* is
# the mean variance of the Laplacian of the grey frames, on the 0..255 scale of grey levels
# (so in grey levels squared): it counts every edge, true or invented, so read it next to the
# pictures below.

# %%
test_shapes, _, _ = datasets.shapes_test_set(TEST_CLIPS, frames=span, size=HIGH_SIZE)
test_shapes = test_shapes[:, :: SKIP + 1]
frames_hi, units = datasets.course_frames(HIGH_SIZE)
masks_hi = datasets.content_masks(units, HIGH_SIZE)
test_runs = datasets.unit_runs(units, datasets.course_split(units)["test"])
windows = [
    run[start + np.arange(0, span, SKIP + 1)]
    for run in test_runs.values()
    for start in range(0, len(run) - span + 1, span)
]
windows = [
    windows[i]
    for i in np.linspace(0, len(windows) - 1, min(TEST_CLIPS, len(windows)))
    .round()
    .astype(int)
]
test_real, test_real_masks = frames_hi[np.stack(windows)], masks_hi[np.stack(windows)]


def upsample_scores(
    clips: np.ndarray, masks: np.ndarray | None
) -> dict[str, dict[str, float]]:
    truth = clips_to_tensor(clips)
    low, up = low_resolution(truth, SIZE)
    start = time.perf_counter()
    made = sample(upsampler, upsampler_config, len(clips), seed=SEED, low=low)
    fps = len(clips) * FRAMES / (time.perf_counter() - start)
    truth_f, made_f, up_f = (
        tensor_to_clips(x).reshape(-1, HIGH_SIZE, HIGH_SIZE, 3) for x in (truth, made, up)
    )
    flat_masks = None if masks is None else masks.reshape(-1, HIGH_SIZE, HIGH_SIZE)
    scores = {}
    for name, frames in (("AdaIN upsampler", made_f), ("bicubic", up_f)):
        scores[name] = {
            "psnr": metrics.psnr(frames, truth_f, mask=flat_masks),
            "ssim": metrics.ssim(frames, truth_f, mask=flat_masks),
            "sharpness": metrics.sharpness(frames, mask=flat_masks),
        }
    scores["truth"] = {
        "psnr": np.nan,
        "ssim": np.nan,
        "sharpness": metrics.sharpness(truth_f, mask=flat_masks),
    }
    scores["AdaIN upsampler"]["fps"] = fps
    return scores, {"truth": truth_f, "bicubic": up_f, "AdaIN upsampler": made_f}


shape_scores, shape_frames = upsample_scores(test_shapes, None)
real_scores, real_frames = upsample_scores(test_real, test_real_masks)
UPSAMPLE_COLUMNS = {
    "psnr": "PSNR (dB)",
    "ssim": "SSIM",
    "sharpness": "sharpness (grey levels²)",
    "fps": "speed (frames/s)",
}
upsample_table = pd.concat(
    {
        "held-out shapes": pd.DataFrame(shape_scores).T,
        "held-out shots": pd.DataFrame(real_scores).T,
    }
).rename(columns=UPSAMPLE_COLUMNS)
upsample_table.round(
    {"PSNR (dB)": 2, "SSIM": 3, "sharpness (grey levels²)": 1, "speed (frames/s)": 1}
)

# %%
for title, frames_by in (("held-out shapes", shape_frames), ("held-out shot", real_frames)):
    strip = [
        viz.caption(viz.grid(frames_by[name][:4], pad=1), name)
        for name in ("bicubic", "AdaIN upsampler", "truth")
    ]
    viz.show_frames([np.concatenate(strip)], titles=[title], size=8)
    plt.show()

# %%
up_shapes, bicubic_shapes = shape_scores["AdaIN upsampler"], shape_scores["bicubic"]
up_real, bicubic_real = real_scores["AdaIN upsampler"], real_scores["bicubic"]
verb, margin = claims.versus(up_shapes["psnr"], bicubic_shapes["psnr"], "dB")
real_verb, real_margin = claims.versus(
    up_real["psnr"], bicubic_real["psnr"], "dB", tolerance=0.05
)
ssim_verb, ssim_margin = claims.versus(
    up_shapes["ssim"], bicubic_shapes["ssim"], digits=3, tolerance=0.002
)
real_ssim_verb, real_ssim_margin = claims.versus(
    up_real["ssim"], bicubic_real["ssim"], digits=3, tolerance=0.002
)
sharp_word = claims.compare(
    up_real["sharpness"],
    bicubic_real["sharpness"],
    higher="sharper",
    lower="less sharp",
    same="as sharp",
)
claims.say(
    f"On the held-out shapes the upsampler {verb} bicubic on PSNR {margin} ({up_shapes['psnr']:.2f} "
    f"against {bicubic_shapes['psnr']:.2f} dB) and {ssim_verb} it on SSIM {ssim_margin} "
    f"({up_shapes['ssim']:.3f} against {bicubic_shapes['ssim']:.3f}). On the held-out shots it "
    f"{real_verb} bicubic on PSNR {real_margin} ({up_real['psnr']:.2f} against "
    f"{bicubic_real['psnr']:.2f} dB) and {real_ssim_verb} it on SSIM {real_ssim_margin} "
    f"({up_real['ssim']:.3f} against {bicubic_real['ssim']:.3f}); its frames are {sharp_word} than "
    f"bicubic's (sharpness {up_real['sharpness']:.0f} against {bicubic_real['sharpness']:.0f} grey "
    f"levels²; the true frames: {real_scores['truth']['sharpness']:.0f})."
)
if PROFILE != "smoke":
    claims.holds(
        up_shapes["psnr"] > bicubic_shapes["psnr"],
        "the upsampler beats bicubic on PSNR on held-out shapes",
    )

# %% [markdown]
# ### Where the upsampler gains, and where it loses
#
# PSNR and SSIM weigh errors differently. PSNR averages the squared error over every pixel.
# SSIM compares every 7 × 7 window of a frame with the true window: their means, and their
# contrasts and structure *relative to the window's own contrast*. Where the true window is
# flat, its contrast is near zero, so a little grain in the made window (a few grey levels)
# costs SSIM much and PSNR little; where the true window holds an edge, a sharper edge in the
# right place gains on both. So the frames are split by the truth's local spread (the standard
# deviation of the grey levels in each 7 × 7 window): *flat* windows below `FLAT_SPREAD` (on the
# 0..1 scale), *detailed* ones above, and both scores are taken in each part. The error is the
# root mean square in grey levels (0..255).

# %%
from scipy.ndimage import binary_erosion, uniform_filter
from skimage.metrics import structural_similarity

FLAT_SPREAD = 0.02  # 5 grey levels of 255


def local_spread(frames: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) uint8 -> (N, H, W): the standard deviation of the grey levels (0..1) in the
    7 x 7 window around every pixel, the window SSIM uses."""
    grey = frames.astype(np.float64).mean(-1) / 255
    mean = uniform_filter(grey, size=(1, 7, 7), mode="reflect")
    square = uniform_filter(grey**2, size=(1, 7, 7), mode="reflect")
    return np.sqrt(np.maximum(square - mean**2, 0))


def ssim_maps(frames: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """SSIM of the 7 x 7 window around every pixel (skimage's map, mean over colour channels)."""
    return np.stack(
        [
            structural_similarity(
                f / 255, t / 255, data_range=1, channel_axis=-1, full=True
            )[1].mean(-1)
            for f, t in zip(
                frames.astype(np.float64), truth.astype(np.float64), strict=True
            )
        ]
    )


def gains_and_losses(frames_by: dict[str, np.ndarray], masks: np.ndarray | None):
    """Per part of the frames (flat, detailed): the share of pixels, each method's SSIM and RMS
    error there; plus the share of frames on which the upsampler has the higher SSIM."""
    truth = frames_by["truth"]
    valid = np.zeros(truth.shape[:3], bool)
    valid[:, 3:-3, 3:-3] = True  # windows that lie wholly inside the frame
    if masks is not None:  # ... and wholly on picture content
        flat_masks = masks.reshape(-1, HIGH_SIZE, HIGH_SIZE)
        valid &= np.stack([binary_erosion(m, np.ones((7, 7), bool)) for m in flat_masks])
    flat = local_spread(truth) < FLAT_SPREAD
    maps = {
        name: ssim_maps(frames_by[name], truth) for name in ("AdaIN upsampler", "bicubic")
    }
    error = {
        name: ((frames_by[name].astype(np.float64) - truth) ** 2).mean(-1) for name in maps
    }
    rows = {}
    for part, where in (("flat", flat & valid), ("detailed", ~flat & valid)):
        rows[part] = {
            "pixels (%)": 100 * where.sum() / valid.sum(),
            "SSIM, upsampler": maps["AdaIN upsampler"][where].mean(),
            "SSIM, bicubic": maps["bicubic"][where].mean(),
            "RMS error, upsampler (grey levels)": np.sqrt(
                error["AdaIN upsampler"][where].mean()
            ),
            "RMS error, bicubic (grey levels)": np.sqrt(error["bicubic"][where].mean()),
        }
    per_frame = {
        name: metrics.ssim_per_frame(
            frames_by[name], truth, mask=None if masks is None else flat_masks
        )
        for name in maps
    }
    won = float((per_frame["AdaIN upsampler"] > per_frame["bicubic"]).mean())
    return pd.DataFrame(rows).T, won


parts, frames_won, frame_counts = {}, {}, {}
for name, frames_by, masks in (
    ("held-out shapes", shape_frames, None),
    ("held-out shots", real_frames, test_real_masks),
):
    parts[name], frames_won[name] = gains_and_losses(frames_by, masks)
    frame_counts[name] = len(frames_by["truth"])
parts_table = pd.concat(parts)
parts_table.round(
    {
        "pixels (%)": 0,
        "SSIM, upsampler": 3,
        "SSIM, bicubic": 3,
        "RMS error, upsampler (grey levels)": 1,
        "RMS error, bicubic (grey levels)": 1,
    }
)


# %%
def part_sentence(name: str) -> str:
    table = parts[name]
    flat_row, detail_row = table.loc["flat"], table.loc["detailed"]
    # each part's pull on the SSIM gap: its share of the pixels times its gap
    pull = {
        part: table.loc[part, "pixels (%)"]
        / 100
        * (table.loc[part, "SSIM, upsampler"] - table.loc[part, "SSIM, bicubic"])
        for part in ("flat", "detailed")
    }
    grain = (
        flat_row["RMS error, upsampler (grey levels)"]
        > flat_row["RMS error, bicubic (grey levels)"]
    )
    text = (
        f"On the {name}, {flat_row['pixels (%)']:.0f}% of the pixels lie in flat windows. There the "
        f"upsampler's SSIM is {flat_row['SSIM, upsampler']:.3f} against bicubic's "
        f"{flat_row['SSIM, bicubic']:.3f}, and its error {flat_row['RMS error, upsampler (grey levels)']:.1f} "
        f"against {flat_row['RMS error, bicubic (grey levels)']:.1f} grey levels; in the detailed "
        f"windows its SSIM is {detail_row['SSIM, upsampler']:.3f} against "
        f"{detail_row['SSIM, bicubic']:.3f} and its error "
        f"{detail_row['RMS error, upsampler (grey levels)']:.1f} against "
        f"{detail_row['RMS error, bicubic (grey levels)']:.1f}. Weighted by their pixels, the flat "
        f"windows move its SSIM by {pull['flat']:+.3f} against bicubic's and the detailed ones by "
        f"{pull['detailed']:+.3f}"
    )
    total = pull["flat"] + pull["detailed"]
    if total >= 0:
        text += ": the upsampler does not lose SSIM to bicubic here"
    else:
        main = min(pull, key=pull.get)  # the part that pulls SSIM down most
        row = table.loc[main]
        more_error = (
            row["RMS error, upsampler (grey levels)"]
            > row["RMS error, bicubic (grey levels)"]
        )
        text += f": most of its SSIM deficit comes from the {main} windows"
        if main == "flat" and grain:
            text += (
                ", where the truth is flat and the upsampler leaves grain of its own (more error "
                "than bicubic's smooth guess): a few grey levels that PSNR hardly sees and SSIM, "
                "relative to a flat window's near-zero contrast, punishes"
            )
        elif main == "detailed":
            text += (
                ", where its edges and texture miss the truth's by more than bicubic's blur does"
                if more_error
                else ", although its error there is no larger than bicubic's: what it draws "
                "at the edges has the wrong local structure more often than the right one"
            )
    return text + (
        f". It has the higher SSIM on {frames_won[name]:.0%} of the {frame_counts[name]} frames."
    )


claims.say(" ".join(part_sentence(name) for name in parts))

# %% [markdown]
# ### The upsampled clips judged as video
#
# The same scores for generated video as for the base model, here with the true
# `HIGH_SIZE`-pixel clips as the real set: does upsampling keep the clips' look, their motion,
# and their steadiness from frame to frame? Bicubic interpolation of the same small clips is the
# baseline. Two cautions before reading the table. The made clips and the real ones are the same
# clips, paired one to one, while a distribution score treats them as two independent sets: it
# cannot reward getting each clip right, which the per-frame PSNR and SSIM above measure; it
# only asks whether the made set as a whole looks like the real one. And with this few clips
# (printed below) the distribution scores are noisy: two sets of real clips differ by about as
# much as the base model's section measured (its noise row); a KID below 0 is that noise too,
# since the estimate is unbiased.

# %%
up_video_scores = {}
for name, frames_by, masks in (
    ("held-out shapes", shape_frames, None),
    ("held-out shots", real_frames, test_real_masks),
):
    as_clips = {
        k: v.reshape(-1, FRAMES, HIGH_SIZE, HIGH_SIZE, 3) for k, v in frames_by.items()
    }
    up_video_scores[name] = {
        method: video_scores.generation_scores(
            as_clips[method],
            as_clips["truth"],
            feature_ae,
            fps=shape_fps
            if name.endswith("shapes")
            else video_scores.SHOT_FPS / (SKIP + 1),
            masks=None if masks is None else masks[:, 0],
            seed=SEED,
        )
        for method in ("AdaIN upsampler", "bicubic")
    }
up_video_table = pd.concat(
    {name: score_table(scores, "truth") for name, scores in up_video_scores.items()}
)
up_video_table.round(3)


# %%
def video_sentence(name: str) -> str:
    made, cubic = up_video_scores[name]["AdaIN upsampler"], up_video_scores[name]["bicubic"]
    clips = int(made["clips"])
    kid_gap = abs(made["kid"] - cubic["kid"])
    band = noise_row["kid mean"] + 2 * noise_row["kid spread"]
    caveat = (
        f" (that spread comes from two independent sets of {shape_noise.index[0]} shape clips; these clips are "
        "paired one to one with the truth they are scored against, so it is a rough yardstick here)"
    )
    if max(made["kid"], cubic["kid"]) <= band:
        distribution = (
            f"On the {name} ({clips} clips), both methods' KIDs, {made['kid']:.3f} (upsampler) and "
            f"{cubic['kid']:.3f} (bicubic), lie below what two sets of real clips score against each other "
            f"(mean plus two spreads, {band:.3f}): neither lies measurably closer to the true clips' "
            "distribution" + caveat
        )
    elif kid_gap <= 2 * noise_row["kid spread"]:
        distribution = (
            f"On the {name} ({clips} clips), neither method's clips lie measurably closer to the true "
            f"clips' distribution: KID {made['kid']:.3f} against bicubic's {cubic['kid']:.3f} differ by "
            f"less than two spreads of real-against-real KID ({2 * noise_row['kid spread']:.3f})"
        )
    else:
        closer = "the upsampler's" if made["kid"] < cubic["kid"] else "bicubic's"
        distribution = (
            f"On the {name} ({clips} clips), {closer} clips lie closer to the true clips' distribution "
            f"(KID {made['kid']:.3f} against bicubic's {cubic['kid']:.3f}, a gap above two spreads of "
            f"real-against-real KID, {2 * noise_row['kid spread']:.3f}{caveat})"
        )
    fd_digits = 1 if min(made["fd"], cubic["fd"]) >= 10 else 3
    return (
        distribution
        + f"; FD {made['fd']:.{fd_digits}f} against {cubic['fd']:.{fd_digits}f}. The upsampler's flickering score is {made['temporal_flickering']:.3f}, "
        f"bicubic's {cubic['temporal_flickering']:.3f} and the truth's "
        f"{made['temporal_flickering_real']:.3f}: its frames change "
        + claims.compare(
            made["temporal_flickering"],
            cubic["temporal_flickering"],
            higher="less",
            lower="more",
            same="as much",
            tolerance=0.001,
        )
        + " from one to the next than bicubic's"
        + f", and its motion is {made['motion_ratio']:.2f} times the truth's (bicubic: "
        f"{cubic['motion_ratio']:.2f})."
    )


claims.say(" ".join(video_sentence(name) for name in up_video_scores))

# %% [markdown]
# How many denoising steps should the upsampler take? More steps let the sampler move further
# from its first, smooth estimate and add high-frequency content of its own, which the
# sharpness column counts whether it is detail or artefact (look at the pictures above: a patch
# grid, for one, is sharpness too). PSNR and SSIM, distances to the one true frame, punish such
# content wherever it is not exactly where the truth has it. The same held-out shapes, three
# step counts:

# %%
low_shapes, _ = low_resolution(clips_to_tensor(test_shapes), SIZE)
truth_frames = shape_frames["truth"]
step_rows = {}
for steps in sorted({1, UPSAMPLER_SAMPLE_STEPS, 4 * UPSAMPLER_SAMPLE_STEPS}):
    if steps == UPSAMPLER_SAMPLE_STEPS:  # sampled above already, with the same seed
        made = shape_frames["AdaIN upsampler"]
    else:
        clips = sample(
            upsampler,
            upsampler_config,
            len(test_shapes),
            seed=SEED,
            low=low_shapes,
            steps=steps,
        )
        made = tensor_to_clips(clips).reshape(-1, HIGH_SIZE, HIGH_SIZE, 3)
    step_rows[steps] = {
        "PSNR (dB)": metrics.psnr(made, truth_frames),
        "SSIM": metrics.ssim(made, truth_frames),
        "sharpness (grey levels²)": metrics.sharpness(made),
    }
step_table = pd.DataFrame(step_rows).T.rename_axis("DDIM steps")
step_table.round({"PSNR (dB)": 2, "SSIM": 3, "sharpness (grey levels²)": 1})

# %%
best_steps, best_ssim_steps, sharpest_steps = (
    int(step_table["PSNR (dB)"].idxmax()),
    int(step_table["SSIM"].idxmax()),
    int(step_table["sharpness (grey levels²)"].idxmax()),
)
claims.say(
    f"On these clips the highest PSNR comes with {best_steps} step{'s' if best_steps > 1 else ''}, the "
    f"highest SSIM with {best_ssim_steps} ({step_table['SSIM'].max():.3f}; bicubic: "
    f"{bicubic_shapes['ssim']:.3f}) and the sharpest frames with {sharpest_steps}"
    + (
        ": the two aims pull apart."
        if best_steps != sharpest_steps
        else ": here the two aims agree."
    )
    + f" The chapter samples with `UPSAMPLER_SAMPLE_STEPS` = {UPSAMPLER_SAMPLE_STEPS}"
    + (
        ", the best of the three on PSNR."
        if best_steps == UPSAMPLER_SAMPLE_STEPS
        else f", within 0.1 dB of the best on PSNR ({best_steps} step{'s' if best_steps > 1 else ''}); with one "
        "seed and no PSNR noise measured, that is a tie."
        if step_table.loc[best_steps, "PSNR (dB)"]
        - step_table.loc[UPSAMPLER_SAMPLE_STEPS, "PSNR (dB)"]
        < 0.1
        else f": by PSNR not the best choice, {step_table.loc[best_steps, 'PSNR (dB)'] - step_table.loc[UPSAMPLER_SAMPLE_STEPS, 'PSNR (dB)']:.2f} dB "
        f"below {best_steps} step{'s' if best_steps > 1 else ''}: on these clips the upsampler's PSNR in "
        "the tables above is that much below what its weights give with fewer steps."
    )
)

# %% [markdown]
# ## The command-line tool
#
# Everything above is what `python -m helpers.pixel_video_diffusion` does outside a notebook. Here it
# generates two clips from the chapter's base model with a label switch, and applies the
# upsampler because the config names it. It writes a GIF and an MP4 per clip; the GIFs are
# shown below. (The course's tests check that the same seed gives the same GIF bytes.)

# %%
cli_config = with_upsampler(base_config, upsampler_path)
cli_path = write_config(cli_config, OUT / "base_with_upsampler.yaml", overwrite=True)
command = [
    sys.executable,
    "-m",
    "helpers.pixel_video_diffusion",
    "generate",
    "-c",
    str(cli_path),
    "--device",
    device,
    "--out-dir",
    str(OUT / "cli_samples"),
    "--seed",
    "7",
    "-n",
    "2",
    "--labels",
    ",".join(map(str, switch_labels)),
    "--quiet",
]
print(
    "$ python -m helpers.pixel_video_diffusion "
    + " ".join(command[3:]).replace(str(runtime.course_root()) + "/", "")
)
done = subprocess.run(command, capture_output=True, text=True, cwd=runtime.course_root())
print((done.stdout or done.stderr).replace(str(runtime.course_root()) + "/", ""))
claims.holds(
    done.returncode == 0, "the command-line tool generates from the chapter's config"
)
for gif in sorted((OUT / "cli_samples").glob("*.gif")):
    display(Markdown(f"`{gif.name}`"))
    viz.show_sequences(
        iio.imread(gif, index=None)[..., :3], fps=4, scale=2, interactive=False
    )

# %% [markdown]
# Try it in a terminal (`--help` lists every option of each command):
#
# ```bash
# python -m helpers.pixel_video_diffusion create-config --out my.yaml            # asks for each value
# python -m helpers.pixel_video_diffusion train --config my.yaml --device cuda   # --resume continues
# python -m helpers.pixel_video_diffusion generate -c my.yaml --device cuda --out-dir out --seed 0 -n 4 \
#     --labels red,red,red,red,blue,blue,blue,blue
# accelerate launch --multi_gpu --num_processes 2 -m helpers.pixel_video_diffusion train --config my.yaml   # 2 GPUs
# ```
#
# ## Results (registry)
#
# Every model and baseline above becomes one record of the {term}`results registry` under
# `build/results/<profile>/06_video_diffusion_3d_unet/`, with the {term}`profile`, the device,
# the weights and notes that say how each score was measured; the benchmark chapter reads only
# these files. The table shows a few of the records' columns (a blank: not measured for that row).

# %%
weights = f"trained here, {BASE_STEPS} steps"
label_metrics = {
    "colour_accuracy": colour_accuracy,
    "switch_before": before,
    "switch_after": after,
    "position_error_px": position_error_px,
}
noise_metrics = {  # what two sets of real held-out clips score against each other
    "kid_noise_mean": float(noise_row["kid mean"]),
    "kid_noise_spread": float(noise_row["kid spread"]),
    "fd_noise_mean": float(noise_row["fd mean"]),
    "fd_noise_spread": float(noise_row["fd spread"]),
}
for sampler in ("ddim", "ddpm"):
    results.write_result(
        CHAPTER,
        f"3d-unet {sampler}",
        f"labelled-shapes@{SIZE}px",
        split="generated",
        protocol=f"{FRAMES} frames (skip {SKIP}) from noise, labels per frame, guidance {GUIDANCE}",
        profile=PROFILE,
        device=device,
        weights=weights,
        parameters=base_run.parameters,
        training_seconds=base_run.seconds,
        generation_fps=rates[sampler]["speed (frames/s)"],
        metrics={
            **(label_metrics if sampler == "ddim" else {}),
            "asked_colour_shown": rates[sampler]["frames showing the asked colour (%)"]
            / 100,
            **base_scores[sampler.upper()],
            **noise_metrics,
            "generation_horizon_frames": FRAMES,
        },
        notes=(
            f"{rates[sampler]['denoising steps']} sampling steps; label metrics from {LABEL_SAMPLES} clips "
            f"per setting; asked_colour_shown and the scores for generated video (fd, kid, flicker, motion, "
            f"consistency) on {TEST_CLIPS} clips of {FRAMES} frames made with the labels of as many held-out "
            f"shapes clips (datasets.shapes_test_set), against those clips, at {shape_fps} fps; "
            f"{feature_ae.feature_label}"
        ),
    )
for dataset, scores, set_name in (
    (f"shapes-test@{HIGH_SIZE}px", shape_scores, "held-out shapes"),
    (f"clips@{HIGH_SIZE}px", real_scores, "held-out shots"),
):
    for name in ("AdaIN upsampler", "bicubic"):
        results.write_result(
            CHAPTER,
            name,
            dataset,
            split="test",
            protocol=f"{SIZE} -> {HIGH_SIZE} px upsampling of {FRAMES}-frame held-out clips",
            profile=PROFILE,
            device=device,
            weights=f"trained here, {UPSAMPLER_STEPS} steps"
            if name != "bicubic"
            else "none",
            parameters=upsampler_run.parameters if name != "bicubic" else 0,
            training_seconds=upsampler_run.seconds if name != "bicubic" else None,
            generation_fps=scores[name].get("fps"),
            metrics={
                **{k: v for k, v in scores[name].items() if k != "fps"},
                "ssim_flat": parts[set_name].loc["flat", f"SSIM, {name.split()[-1]}"],
                "ssim_detailed": parts[set_name].loc[
                    "detailed", f"SSIM, {name.split()[-1]}"
                ],
                **up_video_scores[set_name][name],
                "generation_horizon_frames": FRAMES,
            },
            notes=(
                f"{int(up_video_scores[set_name][name]['clips'])} held-out clips of {FRAMES} frames; "
                f"{UPSAMPLER_SAMPLE_STEPS} DDIM steps; "
                f"ssim_flat/ssim_detailed: SSIM in windows whose true spread is below/above {FLAT_SPREAD}; "
                f"scores for generated video against the true {HIGH_SIZE} px clips; {feature_ae.feature_label}"
            ),
        )
registry = results.results_table(results.load_results(chapter=CHAPTER, profile=PROFILE))
registry_columns = {
    "generation_fps": "speed (frames/s)",
    "asked_colour_shown": "asked colour shown",
    "psnr": "PSNR (dB)",
    "ssim": "SSIM",
    "kid": "KID",
    "fd": "FD",
    "temporal_flickering": "flickering (1: none)",
    "motion_ratio": "motion / truth's",
}
registry.set_index(["model", "dataset"])[list(registry_columns)].rename(
    columns=registry_columns
).round(3)

# %% [markdown]
# ## Exercises
#
# 1. Write a config with `--set diffusion.prediction=epsilon` (the noise, as DDPM) and train it
#    for the same steps. Do its clips come out as clean? Why might predicting the noise need
#    more training before the last, nearly clean steps go right?
# 2. Set `GUIDANCE = 1` (no guidance) and then 6. How do the colour accuracy and the variety of
#    the clips change?
# 3. Turn `model.temporal_downsample` on in a config: the U-Net then halves the frame count too.
#    Which frame counts does it accept, and what happens to the label switch?
# 4. Train the base model on real frames: `create-config --source course` (or `--source folder`
#    with frames from `python -m helpers.frames extract`). What does it make at 32 pixels?
# 5. Raise `SKIP` to 3. Do the shapes move further between frames, and does the model follow?
# 6. Set the base model's `diffusion.data_std` to the spread its clean clips measure (printed
#    in the upsampler's section) and train it again. Do its colour accuracy and its scores for
#    generated video move by more than their noise?
