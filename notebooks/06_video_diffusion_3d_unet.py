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
# {cite}`ho2022video`. This chapter builds that network, a 3D U-Net factorised into per-frame
# convolutions and a temporal part, trains it on bouncing shapes whose colour and position are
# given *per frame*, and measures whether those labels steer the clip, frame by frame. A second
# diffusion model, modulated through adaptive instance normalisation (AdaIN)
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
PROFILE = "cpu"  # smoke | cpu | gpu: which row of notebooks/profiles/*.yaml these values come from
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

from helpers import claims, datasets, metrics, results, runtime, viz
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
# it from the noisy clip and the labels $c$. DDPM {cite}`ho2020denoising` asks the network for
# the noise $\epsilon$; asking for the clean clip is equivalent, since either one gives the other
# through the equation above. This chapter's configs ask for the clean clip ("sample" in
# diffusers' terms; `diffusion.prediction` switches, and exercise 1 tries the noise):
#
# $$\mathcal{L} = \mathbb{E}_{x_0, t, \epsilon}\,\big\|x_0 - \hat x_\theta(x_t, t, c)\big\|^2 .$$
#
# Sampling runs the process backwards from pure noise. DDPM takes small random steps (one per
# noise level in the original, `DDPM_STEPS` of the levels here); DDIM {cite}`song2021ddim` takes large deterministic steps, so far fewer network
# calls make a clip. Both samplers come from diffusers, and one trained network serves both.
#
# **Classifier-free guidance** {cite}`ho2021cfg`. During training the labels of a share of the clips
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
# (the $c_\text{skip}$ of {cite}`karras2022edm`, for clips whose pixels spread by
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
# Accelerate around an AdamW loop, an exponential moving average of the weights for sampling,
# a progress bar and a checkpoint every `training.checkpoint_every` steps. Run the chapter again
# and it loads the finished checkpoint; interrupt it and it continues where it stopped.

# %%
config_path = write_config(base_config, OUT / "base.yaml", overwrite=True)
print(config_path.read_text())

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
label_seconds = time.perf_counter() - start

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
        "frames showing it": [(read[c] == c).mean() for c in colours] + [before, after],
    }
).round(3)

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
# ## DDPM against DDIM: frames per second
#
# The same network, two samplers: DDPM with `DDPM_STEPS` small random steps and DDIM with
# `DDIM_STEPS` deterministic ones. Frames per second counts frames of finished clips.

# %%
rates = {}
samples_by = {}
for sampler, steps in (("ddpm", DDPM_STEPS), ("ddim", DDIM_STEPS)):
    start = time.perf_counter()
    clips = sample(
        base_model,
        base_config,
        LABEL_SAMPLES,
        seed=SEED + 1,
        classes=np.full(FRAMES, 1),
        vectors=path,
        sampler=sampler,
        steps=steps,
        show_progress=True,
    )
    seconds = time.perf_counter() - start
    samples_by[sampler] = tensor_to_clips(clips)
    rates[sampler] = {
        "steps": steps,
        "seconds": seconds,
        "frames per second": LABEL_SAMPLES * FRAMES / seconds,
        "frames showing green": float(
            (datasets.shape_colour(samples_by[sampler]) == 1).mean()
        ),
    }
rate_table = pd.DataFrame(rates).T
viz.show_sequences(
    {k.upper(): np.concatenate(list(v[:2]), axis=2) for k, v in samples_by.items()},
    fps=4,
    scale=3,
)
rate_table.round(3)

# %%
speedup = rates["ddim"]["frames per second"] / rates["ddpm"]["frames per second"]
claims.say(
    f"DDIM made {rates['ddim']['frames per second']:.2f} frames per second with {DDIM_STEPS} steps, DDPM "
    f"{rates['ddpm']['frames per second']:.2f} with {DDPM_STEPS}: {speedup:.1f} times "
    + ("faster" if speedup >= 1 else "slower")
    + f". {rates['ddim']['frames showing green']:.0%} of the DDIM frames and "
    f"{rates['ddpm']['frames showing green']:.0%} of the DDPM frames show the asked colour "
    f"({LABEL_SAMPLES * FRAMES} frames each: a small sample)."
)

# %% [markdown]
# ## The upsampler: a second diffusion model, styled through AdaIN
#
# The upsampler makes a `HIGH_SIZE`-pixel clip from a `SIZE`-pixel one. It is the same U-Net
# code, configured without temporal attention, with `UPSAMPLER_PATCH`-pixel patches and with
# `diffusion.data_std` set for its small targets, and with two changes:
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
upsampler_key = runtime.settings_key(
    {
        "seed": SEED,
        "sizes": (SIZE, HIGH_SIZE),
        "frames": (FRAMES, SKIP),
        "width": UPSAMPLER_WIDTH,
        "patch": UPSAMPLER_PATCH,
        "batch": BATCH_SIZE,
        "lr": LEARNING_RATE,
        "sequences": SHAPE_SEQUENCES,
    }
)
upsampler_config = create_config(
    {
        "kind": "upsampler",
        "name": "upsampler",
        "output_dir": str(OUT / f"upsampler-{upsampler_key}"),
        "data.source": "mixed",
        "data.size": HIGH_SIZE,
        "data.low_size": SIZE,
        "data.frames": FRAMES,
        "data.skip": SKIP,
        "data.sequences": SHAPE_SEQUENCES // 2,
        "model.width": UPSAMPLER_WIDTH,
        "model.patch": UPSAMPLER_PATCH,
        "model.attention_heads": 0,
        "diffusion.data_std": 0.05,  # the residual over bicubic is small
        "training.steps": UPSAMPLER_STEPS,
        "training.batch_size": BATCH_SIZE,
        "training.learning_rate": LEARNING_RATE,
        "training.seed": SEED,
        "sampling.steps": UPSAMPLER_SAMPLE_STEPS,
    }
)
upsampler_path = write_config(upsampler_config, OUT / "upsampler.yaml", overwrite=True)
upsampler_run = train(load_config(upsampler_path), device, resume=True)
upsampler = load_model(upsampler_config, device)
print(
    f"upsampler: {upsampler_run.parameters:,} parameters, {upsampler_run.seconds:.0f} s of training in all"
)
up_data = training_clips(upsampler_config)
every = max(1, len(up_data["clips"]) // 64)
residual = prepare_batch(
    upsampler_config, up_data, np.arange(0, len(up_data["clips"]), every), "cpu"
)["clips"]
print(
    f"the residual over bicubic in {len(residual)} training clips spreads by {float(residual.std()):.3f} "
    f"(diffusion.data_std is {upsampler_config.diffusion.data_std})"
)

# %% [markdown]
# ### Against bicubic, on held-out clips
#
# Held-out shapes come from `datasets.shapes_test_set`, which no training seed draws; the real
# clips are windows of the course's held-out shots, scored on picture content only (the
# letterbox padding masked, as in every chapter). Both methods start from the same
# `SIZE`-pixel clip, made from the true `HIGH_SIZE`-pixel one by averaging.

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
upsample_table = pd.concat(
    {
        "held-out shapes": pd.DataFrame(shape_scores).T,
        "held-out shots": pd.DataFrame(real_scores).T,
    }
)
upsample_table.round(3)

# %%
for title, frames_by in (("held-out shapes", shape_frames), ("held-out shot", real_frames)):
    strip = [
        viz.caption(viz.grid(frames_by[name][:4], pad=1), name)
        for name in ("bicubic", "AdaIN upsampler", "truth")
    ]
    viz.show_frames([np.concatenate(strip)], titles=[title], size=8)
    plt.show()

# %% [markdown]
# How many denoising steps should the upsampler take? More steps let it draw finer detail of
# its own, which PSNR, a per-pixel distance to the one true frame, can punish when the detail
# is not exactly where the truth has it: the perception-distortion trade-off. *Sharpness* here
# is the mean variance of the Laplacian of the grey frames (0..255 scale): it counts every
# edge, true or invented, so read it next to the pictures above. The same held-out shapes,
# three step counts:

# %%
low_shapes, _ = low_resolution(clips_to_tensor(test_shapes), SIZE)
truth_frames = shape_frames["truth"]
step_rows = {}
for steps in sorted({1, UPSAMPLER_SAMPLE_STEPS, 4 * UPSAMPLER_SAMPLE_STEPS}):
    if (
        steps == UPSAMPLER_SAMPLE_STEPS
    ):  # the table above sampled these already, with the same seed
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
        "psnr": metrics.psnr(made, truth_frames),
        "sharpness": metrics.sharpness(made),
    }
step_table = pd.DataFrame(step_rows).T.rename_axis("DDIM steps")
step_table.round(4)

# %%
best_steps, sharpest_steps = (
    int(step_table["psnr"].idxmax()),
    int(step_table["sharpness"].idxmax()),
)
claims.say(
    f"On these clips the highest PSNR comes with {best_steps} step{'s' if best_steps > 1 else ''} and the "
    f"sharpest frames with {sharpest_steps}"
    + (
        ": the two aims pull apart."
        if best_steps != sharpest_steps
        else ": here the two aims agree."
    )
    + f" The chapter samples with `UPSAMPLER_SAMPLE_STEPS` = {UPSAMPLER_SAMPLE_STEPS}."
)

# %%
up_shapes, bicubic_shapes = shape_scores["AdaIN upsampler"], shape_scores["bicubic"]
up_real, bicubic_real = real_scores["AdaIN upsampler"], real_scores["bicubic"]
verb, margin = claims.versus(up_shapes["psnr"], bicubic_shapes["psnr"], "dB")
real_verb, real_margin = claims.versus(
    up_real["psnr"], bicubic_real["psnr"], "dB", tolerance=0.05
)
ssim_word = claims.compare(
    up_real["ssim"], bicubic_real["ssim"], higher="higher", lower="lower", same="the same"
)
sharp_word = claims.compare(
    up_real["sharpness"],
    bicubic_real["sharpness"],
    higher="sharper",
    lower="less sharp",
    same="as sharp",
)
shape_ssim_word = claims.compare(
    up_shapes["ssim"],
    bicubic_shapes["ssim"],
    higher="higher",
    lower="lower",
    same="the same",
)
claims.say(
    f"On the held-out shapes the upsampler {verb} bicubic {margin} ({up_shapes['psnr']:.2f} against "
    f"{bicubic_shapes['psnr']:.2f} dB), with {shape_ssim_word} SSIM ({up_shapes['ssim']:.3f} against "
    f"{bicubic_shapes['ssim']:.3f}). On the held-out shots it {real_verb} bicubic {real_margin} "
    f"({up_real['psnr']:.2f} against {bicubic_real['psnr']:.2f} dB), with {ssim_word} SSIM "
    f"({up_real['ssim']:.3f} against {bicubic_real['ssim']:.3f}), and its frames are {sharp_word} "
    f"than bicubic's (sharpness {up_real['sharpness']:.4f} against {bicubic_real['sharpness']:.4f}; "
    f"the true frames: {real_scores['truth']['sharpness']:.4f})."
)
if PROFILE != "smoke":
    claims.holds(
        up_shapes["psnr"] > bicubic_shapes["psnr"],
        "the upsampler beats bicubic on PSNR on held-out shapes",
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
print(done.stdout or done.stderr)
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

# %%
weights = f"trained here, {BASE_STEPS} steps"
label_metrics = {
    "colour_accuracy": colour_accuracy,
    "switch_before": before,
    "switch_after": after,
    "position_error_px": position_error_px,
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
        generation_fps=rates[sampler]["frames per second"],
        metrics={  # asked_colour_shown: green on every frame, seed SEED + 1, as in the sampler table
            **(label_metrics if sampler == "ddim" else {}),
            "asked_colour_shown": rates[sampler]["frames showing green"],
        },
        notes=f"{rates[sampler]['steps']} sampling steps; label metrics from {LABEL_SAMPLES} clips per setting",
    )
for dataset, scores in (
    (f"shapes-test@{HIGH_SIZE}px", shape_scores),
    (f"clips@{HIGH_SIZE}px", real_scores),
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
            metrics={k: v for k, v in scores[name].items() if k != "fps"},
            notes=f"{TEST_CLIPS} held-out clips; {UPSAMPLER_SAMPLE_STEPS} DDIM steps",
        )
registry = results.results_table(results.load_results(chapter=CHAPTER, profile=PROFILE))
registry.round(3)

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
