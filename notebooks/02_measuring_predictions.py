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
# scores. This chapter builds the yardsticks every later chapter uses: pixel errors, PSNR and
# SSIM; a temporal-consistency score from optical flow; a CLIP feature similarity that refuses
# to report a number from random weights; three baselines that any model must beat; rollouts
# that feed a model its own output, and the drift that follows; and the results registry that
# the benchmark chapter reads. On the way you will see why copying the last frame is hard to
# beat on slow footage, and why pixel metrics prefer a blurry guess to a sharp one.
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
PROFILE = "cpu"  # smoke | cpu | gpu: which row of notebooks/profiles/*.yaml these values come from
SEED = 0
DEVICE = "auto"
FRAME_SIZE = 128  # side of the square frames of the embedded clips
ROLLOUT_STEPS = 24  # how far the baselines continue each clip on their own
MNIST_TEST_SEQUENCES = (
    1000  # Moving MNIST test sequences scored (the OpenSTL test set has 10,000)
)
CLIP_WEIGHTS = "auto"  # hub id, local checkpoint, "auto" (hub if reachable) or "tiny"

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from helpers import baselines, datasets, metrics, results, rollout, runtime, viz
from helpers.errors import BadInputError

runtime.seed_everything(SEED)
CHAPTER = "02_measuring_predictions"
OUT = runtime.build_dir(CHAPTER, PROFILE)
DEVICE_USED = runtime.select_device(DEVICE)
frames, units = datasets.course_frames(FRAME_SIZE)
runs = datasets.unit_runs(units)
video = frames.astype(np.float64) / 255.0  # the metrics take uint8 or float in [0, 1]
print(
    f"profile {PROFILE} on {DEVICE_USED}: {len(frames)} frames of {FRAME_SIZE}px in {len(runs)} shots"
)

# %% [markdown]
# ## What you will build
#
# Three baselines continue the longest shot of `bikes.mp4` on their own for `ROLLOUT_STEPS`
# frames. Each starts close to the truth and drifts away: the curves every video model in this
# course is measured against.

# %%
CONTEXT = 2  # the baselines look at the last two frames
longest = {}
for name in datasets.COURSE_CLIPS:
    shots = {u: pos for u, pos in runs.items() if u.startswith(name + "/")}
    longest[name] = max(shots.values(), key=len)
steps = {name: min(ROLLOUT_STEPS, len(pos) - CONTEXT) for name, pos in longest.items()}
rollouts = {}
for name, pos in longest.items():
    truth = video[pos[: CONTEXT + steps[name]]]
    for model, predictor in baselines.BASELINES.items():
        rollouts[name, model] = rollout.rollout(predictor, truth[:CONTEXT], steps[name])

fig, axes = plt.subplots(1, 2, figsize=(11, 3.2))
bikes_truth = video[longest["bikes"][CONTEXT : CONTEXT + steps["bikes"]]]
for model in baselines.BASELINES:
    table = rollout.drift(rollouts["bikes", model].frames, bikes_truth)
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
    title="and SSIM: structure is lost step by step",
)
axes[0].legend()
plt.tight_layout()
plt.show()
show_steps = [0, steps["bikes"] // 3, 2 * steps["bikes"] // 3, steps["bikes"] - 1]
strip = rollout.comparison_strip(bikes_truth, rollouts["bikes", "flow"].frames, show_steps)
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
#   \mathrm{MAE} = \frac{1}{P}\sum_p |\hat x_p - x_p|, \qquad
#   \mathrm{PSNR} = 10 \log_{10} \frac{1}{\mathrm{MSE}}\ \text{dB}.$$
#
# PSNR is a log of the MSE: +3 dB means half the squared error. For a sequence we compute it
# per frame and average (a frame predicted exactly would score infinity; we cap it at 100 dB).
#
# Papers on video prediction often report MSE the way the OpenSTL benchmark computes it: the
# squared error **summed** over the pixels of a frame, then averaged over frames and samples.
# On 64x64 grey Moving MNIST that is 4096 times the per-pixel MSE; both appear below, named.
#
# **SSIM** compares local means $\mu$, variances $\sigma^2$ and covariance $\sigma_{xy}$ in 7x7
# windows, so that it reacts to structure rather than to a uniform shift in brightness:
#
# $$\mathrm{SSIM} = \frac{(2\mu_x\mu_{\hat x} + c_1)(2\sigma_{x\hat x} + c_2)}
#   {(\mu_x^2 + \mu_{\hat x}^2 + c_1)(\sigma_x^2 + \sigma_{\hat x}^2 + c_2)},
#   \quad c_1 = 0.01^2,\ c_2 = 0.03^2.$$
#
# `helpers.metrics` computes all of them for whole sequences at once. Its SSIM is vectorised
# over frames and agrees with scikit-image's reference implementation:

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
# frame after the first two from the true frames before it.

# %%
one_step_pairs = {}  # (baseline, shot) -> (predictions, truth)
rows = []
for name in datasets.COURSE_CLIPS:
    shots = [
        u for u, pos in runs.items() if u.startswith(name + "/") and len(pos) > CONTEXT
    ]
    motion = np.mean([metrics.frame_change(video[runs[u]]) for u in shots])
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
                **metrics.pixel_scores(pred, true),
            }
        )
one_step_table = pd.DataFrame(rows).set_index(["clip", "baseline"])
one_step_table.round({"motion": 4, "psnr": 2, "ssim": 4, "mse": 5, "mae": 4})

# %% [markdown]
# Copying the last frame is a strong opponent, and strongest where little moves: `motion` is
# the mean change between consecutive frames, and the slowest clip gives copy-last its best
# PSNR. Linear extrapolation loses to it everywhere: it doubles the noise and overshoots every
# change that does not continue. Flow gains where the motion is coherent and loses where it is
# not (noise, things appearing from behind others). A model that does not beat copy-last one
# step ahead has learned nothing about motion.

# %%
copy_psnr = one_step_table.xs("copy last", level="baseline")["psnr"]
linear_psnr = one_step_table.xs("linear", level="baseline")["psnr"]
assert (copy_psnr > linear_psnr).all(), (
    "copy-last must beat linear extrapolation on every clip"
)
slowest = one_step_table.xs("copy last", level="baseline")["motion"].idxmin()
assert copy_psnr.idxmax() == slowest, "copy-last scores best on the slowest footage"

# %% [markdown]
# ## 3. Why pixel metrics reward blur
#
# The future is uncertain. Suppose the cyclist in the next frame is either 3 pixels left or 3
# pixels right of where a model expects, with equal chance. A sharp guess commits to one of
# them and, half the time, is wrong everywhere the picture has edges. The *average* of the two
# futures is a blurry double image, yet its expected squared error is lower: MSE is minimised by
# the mean of the possible futures, and a model trained on MSE learns to output that mean.
# `metrics.sharpness` (the variance of the Laplacian, high for crisp edges) tells them apart.

# %%
target = video[runs["bikes/shot2"][20]]
left, right = np.roll(target, -3, axis=1), np.roll(target, 3, axis=1)
average = (left + right) / 2


candidates = {
    "sharp, 3 px left": left,
    "sharp, 3 px right": right,
    "blurry average": average,
}
blur_table = pd.DataFrame(
    {
        name: {
            "mse": metrics.mse(guess[None], target[None]),
            "psnr": metrics.psnr(guess[None], target[None]),
            "ssim": metrics.ssim(guess[None], target[None]),
            "sharpness": metrics.sharpness(guess[None]),
        }
        for name, guess in candidates.items()
    }
).T
viz.show_frames([target, left, right, average], ["truth", *candidates], size=2.4)
plt.show()
blur_table.round(4)

# %%
assert (
    blur_table.loc["blurry average", "mse"]
    < blur_table.loc[["sharp, 3 px left", "sharp, 3 px right"], "mse"].min()
)
assert (
    blur_table.loc["blurry average", "sharpness"]
    < blur_table.loc["sharp, 3 px left", "sharpness"]
)

# %% [markdown]
# The blurry average wins on MSE and PSNR while being the least sharp: that is why later
# chapters also look at samples, sharpness and feature similarity, and why a GAN or diffusion
# model can lose on PSNR while looking better.
#
# ## 4. Rollouts and drift
#
# A next-frame model makes a video by **rollout**: predict one frame, append it to the
# context, predict the next from that, and so on. Errors compound, because from the second step
# on the model reads its own imperfect output. `rollout.rollout(predictor, context, steps)`
# always feeds the prediction back, times the generation, and returns the frames. The drift of
# all three baselines on the longest shot of each clip:

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 3.2), sharey=True)
drift_tables = {}
for ax, name in zip(axes, datasets.COURSE_CLIPS, strict=True):
    truth = video[longest[name][CONTEXT : CONTEXT + steps[name]]]
    for model in baselines.BASELINES:
        drift_tables[name, model] = rollout.drift(rollouts[name, model].frames, truth)
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
summary.round(2)

# %%
for (name, model), table in drift_tables.items():
    assert table["psnr"].iloc[-1] < table["psnr"].iloc[0], f"{model} on {name} must drift"

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
    rollout.save_comparison(
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
                video[longest[name][CONTEXT : CONTEXT + steps[name]]]
            ),
            **{
                m: metrics.warping_error(rollouts[name, m].frames)
                for m in baselines.BASELINES
            },
        }
        for name in datasets.COURSE_CLIPS
    }
)
consistency.round(4)

# %% [markdown]
# Copy-last repeats one frame, so it is almost perfectly "consistent", far more than the real
# footage: temporal consistency alone rewards a frozen video. Read it next to an accuracy
# score, never alone.

# %%
assert (consistency.loc["copy last"] < 0.1 * consistency.loc["truth"]).all()

# %% [markdown]
# ## 7. Feature similarity with CLIP, honestly
#
# The projects this course grew from judged generated frames by the cosine similarity of CLIP
# image features: two frames that show the same things score close to 1 even if their pixels
# differ. That needs CLIP's trained weights. `metrics.load_clip` follows the weights policy of
# chapter 00: the model hub when reachable, else a tiny random network that exercises the code
# and, for the score itself, **unavailable** with the reason instead of a meaningless number.

# %%
encoder = metrics.load_clip(CLIP_WEIGHTS)
print("CLIP weights:", encoder.plan["label"], "|", encoder.plan["reason"])
truth = video[longest["bikes"][CONTEXT : CONTEXT + steps["bikes"]]]
for model in baselines.BASELINES:
    print(
        f"{model:>10}:",
        metrics.clip_similarity(rollouts["bikes", model].frames, truth, encoder),
    )

# %% [markdown]
# All scores together for a 20-frame sequence, timed (the flow-based score included):

# %%
shot = runs["carphone/shot0"]
sample_truth = video[shot[1:21]]
sample_pred = video[shot[:20]]  # copy-last: each frame predicted by the one before
metrics.all_scores(sample_pred, sample_truth)  # warm-up
started = time.perf_counter()
scores = metrics.all_scores(sample_pred, sample_truth, encoder if encoder.trained else None)
elapsed = time.perf_counter() - started
print(f"all scores for 20 frames of {FRAME_SIZE}x{FRAME_SIZE}: {elapsed:.2f} s")
pd.Series(scores).round(4)

# %% [markdown]
# ## 8. The Moving MNIST protocol
#
# To read later models against published tables we follow the standard protocol: 64x64 grey
# sequences, 10 frames of context, 10 frames predicted by rollout, MSE and MAE in the OpenSTL
# convention, SSIM and PSNR per frame. For reference, OpenSTL reports an MSE of 29.80 for
# ConvLSTM and 32.15 for SimVP after 200 epochs on its 10,000 test sequences
# {cite}`tan2023openstl` (published figures, not computed here). The baselines, computed now on
# `MNIST_TEST_SEQUENCES` of our test sequences:

# %%
test_mm = datasets.moving_mnist(MNIST_TEST_SEQUENCES, split="test", seed=SEED)[..., None]
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
    "PSNR",
    "MSE per pixel",
    "frames/s",
]
mm_table.round(3)

# %%
fig, ax = plt.subplots(figsize=(6, 3))
for model, table in mm_drift.items():
    ax.plot(
        table.index, table["mse"] * np.prod(test_mm.shape[-3:]), marker=".", label=model
    )
ax.set(
    xlabel="predicted frame",
    ylabel="MSE per frame (OpenSTL)",
    title="Moving MNIST: error grows with the horizon",
)
ax.legend()
plt.show()
viz.show_sequences(
    {"truth": test_mm[0, 10:], **{m: p[0] for m, p in mm_pred.items()}}, fps=4, scale=2
)

# %% [markdown]
# The digits bounce, so none of the rules holds for long: that is the part a learned model can
# improve on.
#
# ## 9. The results registry
#
# Each chapter writes one JSON file per model run to `build/results/<chapter>/<model>-<data>.json`:
# data set, split, protocol, profile, device, weights, parameter count, training time,
# generation speed, summary scores and the scores at every horizon. `results.write_result`
# checks each record against a schema before writing it; `results.load_results` reads and
# checks them all, and is all that the benchmark chapter needs. The baselines go in first:

# %%
test_units = datasets.course_split(units, seed=SEED)["test"]
print("test shots of the course split:", test_units)
test_shots = [u for u in test_units if len(runs[u]) > CONTEXT + 1]
horizon = min(ROLLOUT_STEPS, min(len(runs[u]) for u in test_shots) - CONTEXT)
test_starts = np.stack([video[runs[u][: CONTEXT + horizon]] for u in test_shots])
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
        predictor, test_starts, CONTEXT, horizon, show_progress=False
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
            **metrics.pixel_scores(pred, true),
            "rollout_psnr": float(clip_drift["psnr"].mean()),
            "rollout_ssim": float(clip_drift["ssim"].mean()),
        },
        horizons=clip_drift.reset_index().to_dict("records"),
        notes=f"frames {FRAME_SIZE}px; test shots {', '.join(test_units)}",
    )

registry = results.results_table(results.load_results(chapter=CHAPTER, profile=PROFILE))
registry[
    ["model", "dataset", "profile", "device", "psnr", "ssim", "mse", "generation_fps"]
].round(3)

# %% [markdown]
# ## Exercises
#
# 1. Write a predictor that averages the last three frames. Where does it land against the
#    baselines one step ahead, and after 20 steps? Why?
# 2. Shift the "sharp" guesses of section 3 by 1 pixel instead of 3. Does the blurry average
#    still win on MSE? On SSIM?
# 3. Break `rollout` on purpose: make a predictor that reads `context[0]` instead of
#    `context[-1]`. Does the guard catch it? Should it?
# 4. Score the baselines with `window=1` on Moving MNIST. Which ones still work, and why?
