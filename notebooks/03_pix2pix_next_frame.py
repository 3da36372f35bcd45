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
# # 03 · pix2pix as a next-frame predictor
#
# {term}`pix2pix` turns one image into another: a map into a photo, a sketch into a shoe. Give it a
# frame of a film as the input and the *next* frame as the target, and it becomes a next-frame
# predictor; feed each output back in as the next input and it can be asked to continue the film
# past its last frame. Whether what it then makes still moves like the film is a question this
# chapter measures, not one it assumes. It trains TensorFlow's pix2pix that way on the course's
# training shots, next to a residual variant that predicts only the change from one frame to the
# next, and scores both on the held-out shots against the baselines of chapter 02 (copying the
# last frame first of all): as predictors, on {term}`PSNR` (peak signal-to-noise ratio against the true
# frame, in dB: higher is closer), {term}`SSIM` (structural similarity: 1 for a perfect match) and the
# error where pixels move; and as generators of video, on whether their clips look, move and
# flicker like the real ones. Then it lets them run on after a film ends. On the way it shows
# the two bugs that cost the project it comes from days: a {term}`BatchNorm` switch, whose effect on
# brightness and PSNR we measure in two training runs, and a generation loop that feeds the
# model the same frame again and again.
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/frame-by-frame-course/video-generation/blob/main/notebooks/03_pix2pix_next_frame.ipynb)

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
IMAGE_SIZE = 64  # frames are IMAGE_SIZE x IMAGE_SIZE; the U-Net has log2(IMAGE_SIZE) levels
BASE_FILTERS = (
    32  # filters of the first layer, doubling per level up to 8x (the tutorial: 64)
)
STEPS = 1200  # training steps at batch size 1, for each of the two gap-1 generators
LONG_GAP = 8  # the large frame stride of the comparison model
LONG_GAP_STEPS = 400  # its training steps (the gap-1 generator is kept at this step too)
EARLY_STEP = 300  # a snapshot kept to show the BatchNorm switch early in training
CHECKPOINT_EVERY = 500
LONG_ROLLOUT = 100  # frames generated after the clip ends
EAGER_STEPS = (
    3  # training steps timed eagerly (and 10x as many compiled) to compare the two
)
SECOND_SEED = (
    1  # a second training run of the tutorial's generator, for the BatchNorm section
)
FEATURE_STEPS = (
    1800  # training steps of the course autoencoder whose latents score the clips
)

# %%
# Stop here, in one line, if a value above cannot work (chapter 00 explains the check).
from helpers import parameters

parameters.check(
    globals(),
    PROFILE=parameters.profile(),
    SEED=parameters.seed(),
    DEVICE=parameters.device("auto", "cpu", "cuda", why="TensorFlow has no MPS device"),
    IMAGE_SIZE=parameters.power_of_two(
        32,
        512,
        why="the U-Net halves the frame log2(IMAGE_SIZE) times; the PatchGAN needs 32 px",
    ),
    BASE_FILTERS=parameters.integer(1, 256),
    STEPS=parameters.integer(1),
    LONG_GAP=parameters.integer(2, 25, why="pairs must fit inside the training shots"),
    LONG_GAP_STEPS=parameters.integer(
        1, "STEPS", why="the gap-1 generator is compared with it at that step"
    ),
    EARLY_STEP=parameters.integer(1, "STEPS"),
    CHECKPOINT_EVERY=parameters.integer(1),
    LONG_ROLLOUT=parameters.integer(10, why="its last tenth is what the chapter describes"),
    EAGER_STEPS=parameters.integer(1),
    SECOND_SEED=parameters.integer(
        "SEED + 1", why="a second training run needs another seed"
    ),
    FEATURE_STEPS=parameters.integer(1),
)

# %%
import contextlib
import time
import warnings

import cv2
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
    video,
    video_scores,
    viz,
)

tf = runtime.import_tensorflow()  # import tensorflow as tf, without its start-up log lines
keras = tf.keras
runtime.seed_everything(SEED)  # seeds TensorFlow too, and asks it for deterministic kernels
CHAPTER = "03_pix2pix_next_frame"
OUT = runtime.build_dir(CHAPTER, PROFILE)
DEVICE_USED = runtime.select_tf_device(DEVICE)
print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, running on {DEVICE_USED}")

# %% [markdown]
# ## What you will build
#
# ```{glue:figure} after_the_end
# :figwidth: 100%
#
# The last frame of `bikes.mp4`, then frames the two trained generators made up after it, each
# from the one before (computed at the end of this page, where the numbers say what they show).
# ```
#
# ## The data: the course's shots, split once
#
# The project this chapter follows trained on the frames of one short film. We train on the
# course's training shots (a *shot* is the run of frames between two scene cuts, chapter 01) and
# score on its held-out shots, the same ones as chapters 02 and 04
# (`datasets.course_split`, fixed whatever the seed), so that a good score cannot come from
# remembering neighbouring frames (chapter 01, section 7) and so that the benchmark chapter can
# set this chapter's numbers next to the others'. Training pairs are (frame, next frame) inside
# one shot, never across a cut. Frames are letterboxed to `IMAGE_SIZE` (scaled to fit a square
# and padded with black bars where the picture is not square) and scaled to $[-1, 1]$,
# the range of the generator's `tanh` output; every score leaves the {term}`letterbox` padding out
# (`datasets.content_masks`, chapter 02 section 1).

# %%
frames, units = datasets.course_frames(IMAGE_SIZE)
masks = datasets.content_masks(units, IMAGE_SIZE)  # True on picture, False on padding
split = datasets.course_split(units)  # the course's held-out shots
runs = datasets.unit_runs(units)  # the positions of each shot's frames
video_float = frames.astype(np.float64) / 255.0  # what the metrics and baselines read
print(f"{len(frames)} frames of {IMAGE_SIZE}px in {len(runs)} shots")
print(f"training shots: {', '.join(split['train'])}")
print(f"held-out (test) shots: {', '.join(split['test'])}")


def training_pairs(gap: int) -> np.ndarray:
    """(t, t+gap) pairs inside the training shots."""
    pairs = datasets.pair_indices(units, gap)
    return pairs[np.isin(units[pairs[:, 0]], split["train"])]


JITTER_SIZE = round(
    IMAGE_SIZE * 286 / 256
)  # the tutorial: resize 256 -> 286, crop back to 256
frame_store = tf.constant(frames)


def load_pair(pair, step, seed=SEED):
    """The tutorial's random jitter, applied identically to input and target. Its random numbers
    come from (seed, step), not from a generator that runs on: training step s gets the same
    crop and flip in every run, interrupted or not."""
    images = tf.cast(tf.gather(frame_store, pair), tf.float32) / 127.5 - 1.0
    both = tf.concat([images[0], images[1]], axis=-1)  # crop and flip both halves together
    both = tf.image.resize(both, [JITTER_SIZE, JITTER_SIZE], method="nearest")
    crop_seed, flip_seed = [seed, 2 * step], [seed, 2 * step + 1]
    both = tf.image.stateless_random_crop(both, [IMAGE_SIZE, IMAGE_SIZE, 6], seed=crop_seed)
    both = tf.cond(
        tf.random.stateless_uniform((), seed=flip_seed) > 0.5,
        lambda: tf.image.flip_left_right(both),
        lambda: both,
    )
    return both[None, ..., :3], both[None, ..., 3:]


def batch_order(n_pairs: int, start: int, stop: int, seed: int = SEED) -> np.ndarray:
    """The pair each training step from `start` to `stop` trains on: every epoch a fresh shuffle
    of all pairs, drawn from (seed, epoch). The order is a function of the step alone, so a
    resumed run, which knows its step from the checkpoint, sees the data an uninterrupted one sees."""
    steps = np.arange(start, max(start, stop))
    order = np.empty(len(steps), dtype=np.int64)
    epochs = steps // n_pairs
    for epoch in np.unique(epochs):
        shuffle = np.random.default_rng([seed, int(epoch)]).permutation(n_pairs)
        order[epochs == epoch] = shuffle[steps[epochs == epoch] % n_pairs]
    return order


def pair_stream(
    gap: int, start: int = 0, stop: int | None = None, seed: int = SEED
) -> tf.data.Dataset:
    """The jittered training pairs of steps `start` to `stop` (default: one pass over the pairs)."""
    pairs = training_pairs(gap)
    stop = start + len(pairs) if stop is None else stop
    steps = np.arange(start, max(start, stop), dtype=np.int64)
    return (
        tf.data.Dataset.from_tensor_slices(
            (pairs[batch_order(len(pairs), start, stop, seed)], steps)
        )
        .map(
            lambda pair, step: load_pair(pair, step, seed),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
        .prefetch(tf.data.AUTOTUNE)
    )


print(
    f"{len(training_pairs(1))} training pairs at gap 1, "
    f"{len(training_pairs(LONG_GAP))} at gap {LONG_GAP}"
)

# %% [markdown]
# ## The model
#
# The generator is a {term}`U-Net`: an encoder halves the picture `log2(IMAGE_SIZE)` times down to
# 1x1, a decoder doubles it back, and skip connections hand every encoder level's features to
# the decoder level of the same size, so fine detail need not squeeze through the bottleneck.
#
# - down block: 4x4 convolution with stride 2, BatchNorm (not on the first; batch
#   normalisation rescales each channel by its mean and spread, a section below says which
#   ones), LeakyReLU;
# - up block: 4x4 transposed convolution with stride 2, BatchNorm, Dropout 0.5 (first three
#   blocks; dropout zeroes a random half of the activations at each call), ReLU;
# - output: a transposed convolution to 3 channels with `tanh`.
#
# The tutorial's generator draws the next frame from scratch: every pixel of it comes out of
# the U-Net, so before its sense of motion can pay off it must learn to redraw a whole frame to
# within a few grey levels, something copying the last frame does for free. Next to it we train
# a **residual** generator, the same U-Net read as a change to its input:
#
# $$\hat y = \mathrm{clip}\big(x + \tanh(U(x)),\ -1,\ 1\big).$$
#
# Its last layer starts at zero, so before any training it *is* the copy-last baseline, and
# training has only the motion left to learn.
#
# The discriminator is a PatchGAN: it looks at the (input, target) pair stacked into 6 channels
# and answers "real or generated?" for each overlapping patch rather than for the whole image.


# %%
def initializer():
    return tf.random_normal_initializer(0.0, 0.02)


def downsample(filters: int, batchnorm: bool = True) -> keras.Sequential:
    block = keras.Sequential()
    block.add(
        keras.layers.Conv2D(
            filters,
            4,
            strides=2,
            padding="same",
            kernel_initializer=initializer(),
            use_bias=False,
        )
    )
    if batchnorm:
        block.add(keras.layers.BatchNormalization())
    block.add(keras.layers.LeakyReLU())
    return block


def upsample(filters: int, dropout: bool = False) -> keras.Sequential:
    block = keras.Sequential()
    block.add(
        keras.layers.Conv2DTranspose(
            filters,
            4,
            strides=2,
            padding="same",
            kernel_initializer=initializer(),
            use_bias=False,
        )
    )
    block.add(keras.layers.BatchNormalization())
    if dropout:
        block.add(keras.layers.Dropout(0.5))
    block.add(keras.layers.ReLU())
    return block


def level_filters(size: int, base: int) -> list[int]:
    """Filters per encoder level: 64, 128, 256, 512, 512, ... for the tutorial (base 64, 256 px)."""
    return [min(base * 2**level, 8 * base) for level in range(int(np.log2(size)))]


def Generator(
    size: int = IMAGE_SIZE, base: int = BASE_FILTERS, residual: bool = False
) -> keras.Model:
    """The tutorial's U-Net generator; with `residual`, its output is a change added to the input."""
    filters = level_filters(size, base)
    inputs = keras.Input(shape=(size, size, 3))
    x, skips = inputs, []
    for level, f in enumerate(filters):
        x = downsample(f, batchnorm=level > 0)(x)
        skips.append(x)
    for level, (f, skip) in enumerate(
        zip(reversed(filters[:-1]), reversed(skips[:-1]), strict=True)
    ):
        x = upsample(f, dropout=level < 3)(x)
        x = keras.layers.Concatenate()([x, skip])
    last = keras.layers.Conv2DTranspose(
        3,
        4,
        strides=2,
        padding="same",
        kernel_initializer="zeros" if residual else initializer(),
        activation="tanh",
    )
    if not residual:
        return keras.Model(inputs, last(x), name="generator")
    outputs = keras.ops.clip(inputs + last(x), -1.0, 1.0)  # the input plus a change
    return keras.Model(inputs, outputs, name="residual_generator")


def Discriminator(size: int = IMAGE_SIZE, base: int = BASE_FILTERS) -> keras.Model:
    source = keras.Input(shape=(size, size, 3), name="input_image")
    target = keras.Input(shape=(size, size, 3), name="target_image")
    x = keras.layers.Concatenate()([source, target])
    x = downsample(base, batchnorm=False)(x)
    x = downsample(2 * base)(x)
    x = downsample(4 * base)(x)
    x = keras.layers.ZeroPadding2D()(x)
    x = keras.layers.Conv2D(
        8 * base, 4, strides=1, kernel_initializer=initializer(), use_bias=False
    )(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.LeakyReLU()(x)
    x = keras.layers.ZeroPadding2D()(x)
    patches = keras.layers.Conv2D(1, 4, strides=1, kernel_initializer=initializer())(x)
    return keras.Model([source, target], patches, name="discriminator")


probe_g, probe_d = Generator(), Discriminator()
print(
    f"generator: {len(level_filters(IMAGE_SIZE, BASE_FILTERS))} levels "
    f"{level_filters(IMAGE_SIZE, BASE_FILTERS)}, {probe_g.count_params():,} parameters"
)
print(
    f"discriminator: {probe_d.count_params():,} parameters, "
    f"{probe_d.output_shape[1]}x{probe_d.output_shape[2]} patch verdicts per image"
)
some_frame = tf.constant(frames[:1].astype(np.float32) / 127.5 - 1.0)
untrained_change = float(
    tf.reduce_max(tf.abs(Generator(residual=True)(some_frame, training=True) - some_frame))
)
print(f"untrained residual generator: largest change to its input {untrained_change:.1e}")
claims.holds(untrained_change == 0.0, "the untrained residual generator copies its input")

# %% [markdown]
# ## The losses and one training step
#
# The discriminator $D$ learns to tell real pairs $(x, y)$ from generated ones $(x, G(x))$. The
# generator $G$ learns to fool it while staying close to the target in L1 (the mean absolute
# difference); BCE is the binary cross-entropy of $D$'s verdicts (logits) against 1 for "real"
# and 0 for "generated":
#
# $$\mathcal{L}_G = \mathrm{BCE}\big(D(x, G(x)), 1\big) + \lambda\,\lVert y - G(x)\rVert_1,
#   \qquad \lambda = 100,$$
# $$\mathcal{L}_D = \mathrm{BCE}\big(D(x, y), 1\big) + \mathrm{BCE}\big(D(x, G(x)), 0\big).$$
#
# Both use Adam with learning rate $2\cdot10^{-4}$ and $\beta_1 = 0.5$, at batch size 1.
# `make_train_step` returns the step as a plain Python function; wrapping it in `tf.function`
# traces it once into a graph that runs without Python between operations.

# %%
LAMBDA = 100
bce = keras.losses.BinaryCrossentropy(from_logits=True)


def make_train_step(generator, discriminator, g_optimizer, d_optimizer):
    def train_step(source, target):
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            generated = generator(source, training=True)
            real_verdict = discriminator([source, target], training=True)
            fake_verdict = discriminator([source, generated], training=True)
            l1 = tf.reduce_mean(tf.abs(target - generated))
            g_loss = bce(tf.ones_like(fake_verdict), fake_verdict) + LAMBDA * l1
            d_loss = bce(tf.ones_like(real_verdict), real_verdict) + bce(
                tf.zeros_like(fake_verdict), fake_verdict
            )
        g_optimizer.apply_gradients(
            zip(
                g_tape.gradient(g_loss, generator.trainable_variables),
                generator.trainable_variables,
                strict=True,
            )
        )
        d_optimizer.apply_gradients(
            zip(
                d_tape.gradient(d_loss, discriminator.trainable_variables),
                discriminator.trainable_variables,
                strict=True,
            )
        )
        return {"g_loss": g_loss, "l1": l1, "d_loss": d_loss}

    return train_step


def optimizer(model: keras.Model):
    """Adam as the tutorial sets it, with its slot variables built for `model` up front: a
    tf.function whose first call creates variables is traced twice, which costs seconds."""
    adam = keras.optimizers.Adam(2e-4, beta_1=0.5)
    adam.build(model.trainable_variables)
    return adam


# %% [markdown]
# How much does `tf.function` buy? The same training step runs twice on a throwaway copy of the
# model and one fixed pair of frames: eagerly, operation by operation from Python, and compiled
# into a graph by `tf.function`. The first call of each is left out of the timing: it builds the
# optimiser state and, for the compiled one, traces the graph. Training below runs the compiled
# step.


# %%
def steps_per_second(step_fn, steps: int, pair) -> float:
    step_fn(*pair)
    started = time.perf_counter()
    for _ in range(steps):
        step_fn(*pair)
    return steps / (time.perf_counter() - started)


pair = next(iter(pair_stream(1)))
eager_rate = steps_per_second(
    make_train_step(probe_g, probe_d, optimizer(probe_g), optimizer(probe_d)),
    EAGER_STEPS,
    pair,
)
compiled_rate = steps_per_second(
    tf.function(make_train_step(probe_g, probe_d, optimizer(probe_g), optimizer(probe_d))),
    10 * EAGER_STEPS,
    pair,
)
print(
    f"training throughput: compiled {compiled_rate:.2f} steps/s, eager {eager_rate:.2f} "
    f"steps/s ({compiled_rate / eager_rate:.1f}x) on {DEVICE_USED}"
)
del probe_g, probe_d

# %% [markdown]
# ## Training, with checkpoints
#
# `tf.train.Checkpoint` saves both networks, both optimisers, the step counter and the time
# spent. Re-running the chapter loads the latest checkpoint and only trains the steps that are
# missing: interrupt it, run it again, and it resumes. The checkpoint folder is named after the
# settings that shape the model, so changing them starts a fresh run; a run with fewer steps
# than a checkpoint holds goes back to the latest checkpoint that does not pass its step count.
#
# Resuming *exactly*, so that an interrupted run ends with the weights of an uninterrupted one,
# needs every source of randomness to continue where it stopped. The data order and the jitter
# are functions of the step (`batch_order`, `load_pair`), and the step is in the checkpoint. A
# `tf.data` shuffle could not do that: its order restarts with the pipeline. Dropout draws its
# masks from a seed generator inside each Dropout layer, whose state is not a weight, so
# `tf.train.Checkpoint` would leave it out; it is added by hand.
#
# Both gap-1 generators, the tutorial's and the residual one, train for `STEPS` steps on the
# same pairs in the same order from the same seed. The tutorial's is also saved at `EARLY_STEP`
# and at `LONG_GAP_STEPS`, for the comparisons further down.


# %%
def train(
    gap: int, steps: int, label: str, residual: bool = False, snapshots=(), seed: int = SEED
):
    settings = {
        "size": IMAGE_SIZE,
        "base": BASE_FILTERS,
        "gap": gap,
        "seed": seed,
        "residual": residual,
        "shots": split["train"],
        "data order": "by step",  # checkpoints of the former tf.data shuffle do not resume
    }
    folder = OUT / f"checkpoints-{label}-{runtime.settings_key(settings)}"
    runtime.seed_everything(seed)  # the same start whatever ran before in this session
    generator, discriminator = Generator(residual=residual), Discriminator()
    g_opt, d_opt = optimizer(generator), optimizer(discriminator)
    step = tf.Variable(0, dtype=tf.int64)
    seconds = tf.Variable(0.0, dtype=tf.float64)
    checkpoint = tf.train.Checkpoint(
        generator=generator,
        discriminator=discriminator,
        g_optimizer=g_opt,
        d_optimizer=d_opt,
        step=step,
        seconds=seconds,
        dropout_seeds=[v for v in generator.variables if "seed_generator" in v.path],
    )
    manager = tf.train.CheckpointManager(checkpoint, folder, max_to_keep=2)
    # the latest checkpoint that does not go past `steps` (a longer run's ckpt-1500 must not
    # stand in for a 1200-step model)
    usable = [c for c in manager.checkpoints if int(c.rsplit("-", 1)[1]) <= steps]
    if usable:
        latest = max(usable, key=lambda c: int(c.rsplit("-", 1)[1]))
        checkpoint.restore(latest).expect_partial()
        print(f"{label}: resumed from {Path(latest).name} at step {int(step)}")
    train_step = tf.function(make_train_step(generator, discriminator, g_opt, d_opt))
    history = []
    todo = max(steps - int(step), 0)
    started = time.perf_counter()
    for source, target in runtime.progress(
        pair_stream(gap, int(step), steps, seed), total=todo, desc=label
    ):
        losses = train_step(source, target)
        step.assign_add(1)
        history.append({k: float(v) for k, v in losses.items()})
        if int(step) in snapshots:
            tf.train.Checkpoint(generator=generator).write(
                str(folder / f"step{int(step)}" / "generator")
            )
        if int(step) % CHECKPOINT_EVERY == 0 or int(step) == steps:
            seconds.assign_add(time.perf_counter() - started)
            started = time.perf_counter()
            manager.save(checkpoint_number=int(step))
    print(
        f"{label}: {int(step)} steps, {float(seconds):.0f} s of training in all "
        f"({len(history)} steps in this run)"
    )
    return generator, pd.DataFrame(history), float(seconds), folder


def snapshot(folder: Path, step: int) -> keras.Model | None:
    """The tutorial generator saved at `step`; None if this run resumed past it without it."""
    path = folder / f"step{step}" / "generator"
    if not path.with_suffix(".index").exists():
        return None
    model = Generator()
    tf.train.Checkpoint(generator=model).read(str(path)).expect_partial()
    return model


generator, history, train_seconds, checkpoint_folder = train(
    1, STEPS, "gap1", snapshots={EARLY_STEP, LONG_GAP_STEPS}
)
residual_generator, residual_history, residual_seconds, _ = train(
    1, STEPS, "residual-gap1", residual=True
)
histories = {"pix2pix": history, "residual pix2pix": residual_history}
if all(len(h) for h in histories.values()):
    fig, loss_axes = plt.subplots(1, 3, figsize=(11, 3))
    for name, h in histories.items():
        smooth = h.rolling(max(1, len(h) // 50)).mean()
        steps_done = np.arange(STEPS - len(h), STEPS) + 1
        for ax, column in zip(loss_axes, ["g_loss", "l1", "d_loss"], strict=True):
            ax.plot(steps_done, smooth[column], label=name)
            ax.set(title=column, xlabel="step")
    loss_axes[1].legend()
    plt.tight_layout()
    plt.show()


def moving_averages(model: keras.Model) -> dict[str, np.ndarray]:
    return {v.path: v.numpy().copy() for v in model.variables if "moving_" in v.path}


trained_averages = moving_averages(
    generator
)  # BatchNorm's running averages, as training left them

# %% [markdown]
# ## One step ahead and in rollouts, on the held-out shots
#
# Each frame of the held-out shots is predicted from the true frame before it, by both
# generators and by the three baselines of chapter 02: **copy-last** repeats the newest frame;
# **linear** continues each pixel's last change ($2x_t - x_{t-1}$); **flow** moves the newest
# frame once more along the motion between the two given frames, as OpenCV's Farneback optical
# flow estimates it (a dense field of per-pixel displacements). Linear and flow need two frames,
# so for everyone the predictions start at each shot's third frame. Then every predictor makes a
# **{term}`rollout`**: it continues each held-out shot on its own from its start, each output fed back as
# the next input, for as long as the shorter shot lasts, and its **drift** is how its scores fall
# step by step. In the table, {term}`MAE` is the mean absolute error on the $[0, 1]$ scale of pixel values.
#
# `generate` runs a generator the tutorial's way, with `training=True` (the BatchNorm section
# below says why), and with dropout off, so that the scores are the model's own answer rather
# than a random draw (the dropout paragraph of the BatchNorm section measures what dropout adds). One more trap is closed
# here: in Keras 3, a call with `training=True` also moves BatchNorm's running averages towards
# the statistics of the frames it sees. Generating on the held-out shots would then quietly
# tune the running averages to them; `generate` freezes them (BatchNorm momentum 1 while it
# traces), and the BatchNorm section checks that they are still those of training.


# %%
def layers_of(model, kind):
    """Every layer of type `kind` in a model, inside its nested blocks too."""
    for layer in getattr(model, "layers", []):
        if isinstance(layer, kind):
            yield layer
        yield from layers_of(layer, kind)


@contextlib.contextmanager
def layers_set(model, kind, **attributes):
    """Set attributes of the `kind` layers while the block runs (e.g. while a function traces)."""
    chosen = list(layers_of(model, kind))
    saved = [{name: getattr(layer, name) for name in attributes} for layer in chosen]
    for layer in chosen:
        for name, value in attributes.items():
            setattr(layer, name, value)
    try:
        yield
    finally:
        for layer, values in zip(chosen, saved, strict=True):
            for name, value in values.items():
                setattr(layer, name, value)


def to_model(frame: np.ndarray) -> tf.Tensor:
    """A frame in [0, 1] (H, W, 3) as a batch of one in [-1, 1]."""
    return tf.convert_to_tensor(frame[None] * 2.0 - 1.0, dtype=tf.float32)


_inference = {}


def generate(
    model: keras.Model, frame: np.ndarray, training: bool = True, dropout: bool = False
) -> np.ndarray:
    """One generated frame in [0, 1]. training=True uses each image's own BatchNorm statistics,
    which is why frames are generated one at a time: in a batch they would share statistics.
    The tutorial generates with dropout on (dropout=True). Each (model, training, dropout)
    combination is traced once into a graph, with the dropout rate it had then and BatchNorm's
    running averages frozen."""
    key = (id(model), training, dropout)
    if key not in _inference:
        spec = tf.TensorSpec([1, IMAGE_SIZE, IMAGE_SIZE, 3], tf.float32)
        with (
            layers_set(model, keras.layers.BatchNormalization, momentum=1.0),
            layers_set(model, keras.layers.Dropout, **({} if dropout else {"rate": 0.0})),
        ):
            _inference[key] = tf.function(lambda x: model(x, training=training))
            _inference[key].get_concrete_function(spec)
    out = _inference[key](to_model(frame)).numpy()[0]
    return np.clip((out + 1.0) / 2.0, 0.0, 1.0)


def model_predictor(model: keras.Model):
    """A chapter 02 predictor: the next frame from the newest context frame."""
    return lambda context: generate(model, context[-1])


CONTEXT = 2  # frames the baselines look at; the generators read only the newest
GENERATORS = {"pix2pix": generator, "residual pix2pix": residual_generator}
predictors = {name: model_predictor(m) for name, m in GENERATORS.items()}
predictors.update(baselines.BASELINES)
test_shots = split["test"]

# every (frame, next frame) pair inside a shot, training shots too (used at the end)
all_pairs = datasets.pair_indices(units, 1)
pair_predictions = {
    name: np.stack([generate(m, f) for f in video_float[all_pairs[:, 0]]])
    for name, m in GENERATORS.items()
}
# which pair starts at a given frame
pair_of = {int(a): k for k, a in enumerate(all_pairs[:, 0])}

# one step ahead: every frame of each held-out shot after the first two, from the true frames
predicted = [pair_of[int(a)] for u in test_shots for a in runs[u][CONTEXT - 1 : -1]]
one_step = {name: pair_predictions[name][predicted] for name in GENERATORS}
for name, baseline in baselines.BASELINES.items():
    one_step[name] = np.concatenate(
        [rollout.one_step(baseline, video_float[runs[u]], CONTEXT)[0] for u in test_shots]
    )
truth_next = np.concatenate([video_float[runs[u][CONTEXT:]] for u in test_shots])
inputs_next = np.concatenate([video_float[runs[u][CONTEXT - 1 : -1]] for u in test_shots])
mask_next = np.concatenate([masks[runs[u][CONTEXT:]] for u in test_shots])
one_step_scores = pd.DataFrame(
    {n: metrics.pixel_scores(p, truth_next, mask=mask_next) for n, p in one_step.items()}
).T

# rollouts: each held-out shot continued from its start for `horizon` steps
horizon = min(len(runs[u]) for u in test_shots) - CONTEXT
starts = np.stack([video_float[runs[u][: CONTEXT + horizon]] for u in test_shots])
start_masks = np.stack([masks[runs[u][0]] for u in test_shots])
rollouts = {
    name: rollout.evaluate_rollouts(
        p, starts, CONTEXT, horizon, show_progress=False, mask=start_masks
    )
    for name, p in predictors.items()
}
scores = pd.DataFrame(
    {
        name: {
            "one-step PSNR": one_step_scores.loc[name, "psnr"],
            "one-step SSIM": one_step_scores.loc[name, "ssim"],
            "one-step MAE": one_step_scores.loc[name, "mae"],
            "rollout PSNR": rollouts[name][1]["psnr"],
            "rollout SSIM": rollouts[name][1]["ssim"],
            f"PSNR at step {horizon}": rollouts[name][2]["psnr"].iloc[-1],
        }
        for name in predictors
    }
).T
print(
    f"one step: {len(truth_next)} frames of {', '.join(test_shots)}; "
    f"rollouts: {horizon} steps from the start of each, {len(test_shots)} shots"
)


def with_units(column: str) -> str:
    """A score's column name with its unit, for the tables on the page."""
    if "PSNR" in column:
        return f"{column} (dB)"
    if "SSIM" in column:
        return f"{column} (1 = exact)"
    return f"{column} (0-1 scale)" if "MAE" in column else column


scores.rename(columns=with_units).round(4)

# %%
show = np.linspace(0, len(runs[test_shots[0]]) - CONTEXT - 1, 5).astype(int)
viz.show_frames(
    np.concatenate([truth_next[show], *(one_step[name][show] for name in GENERATORS)]),
    [f"truth #{i + CONTEXT}" for i in show]
    + [f"{name} #{i + CONTEXT}" for name in GENERATORS for i in show],
    cols=5,
    size=1.9,
    suptitle=f"one step ahead on {test_shots[0]}",
)
plt.show()

# %% [markdown]
# Copy-last is the first yardstick (chapter 02, section 2): on a score where a model cannot beat
# leaving the frame as it is, it adds nothing yet. It is one yardstick of several, and they can
# disagree: the flow baseline shows how, in the sentences below. The error on the pixels that
# move, the rollouts and the scores for generated video further down are the others. What this
# run's table says, written from its numbers:

# %%
PSNR_TIE, SSIM_TIE = 0.05, 0.001  # closer than this counts as a tie


def against(name: str, other: str, column: str = "one-step PSNR") -> tuple[str, str]:
    unit, digits, tie = ("dB", 2, PSNR_TIE) if "PSNR" in column else ("", 4, SSIM_TIE)
    return claims.versus(
        scores.loc[name, column], scores.loc[other, column], unit, digits, tolerance=tie
    )


beats_copy = {}  # which generators beat copy-last on PSNR one step ahead
sentences = []
for name in GENERATORS:
    verb, margin = against(name, "copy last")
    ssim_verb, ssim_margin = against(name, "copy last", "one-step SSIM")
    beats_copy[name] = verb == "beats"
    text = f"One step ahead, **{name} {verb} copy-last {margin}** in PSNR"
    text += (
        f" and in SSIM ({ssim_margin})"
        if ssim_verb == verb
        else f" but {ssim_verb} it in SSIM ({ssim_margin})"
    )
    others = [
        f"{against(name, b)[0]} {b} {against(name, b)[1]}" for b in ("linear", "flow")
    ]
    sentences.append(f"{text}; in PSNR it {' and '.join(others)}.")
residual_verb, residual_margin = against("residual pix2pix", "pix2pix")
sentences.append(
    f"The residual generator {residual_verb} the tutorial's {residual_margin}"
    + (
        ": it started as copy-last and never had to learn to redraw a frame."
        if residual_verb == "beats"
        else "."
    )
)
copy_vs_linear = against("copy last", "linear")
sentences.append(
    f"Copy-last {copy_vs_linear[0]} linear extrapolation {copy_vs_linear[1]} in PSNR."
)
flow_psnr = against("flow", "copy last")
flow_ssim = against("flow", "copy last", "one-step SSIM")
flow_text = (
    f"The flow baseline {flow_psnr[0]} copy-last {flow_psnr[1]} in PSNR and "
    f"{flow_ssim[0]} it {flow_ssim[1]} in SSIM"
)
if {flow_psnr[0], flow_ssim[0]} == {"beats", "loses to"}:
    flow_text += (
        ": two yardsticks, two verdicts on one predictor. PSNR averages the squared error of "
        "every pixel; SSIM compares local means, contrasts and structure (chapter 02, section "
        "1), so the two weigh the same errors differently."
    )
else:
    flow_text += "."
sentences.append(flow_text)
if not any(beats_copy.values()):
    sentences.append(
        "So **neither generator beats copy-last on PSNR one step ahead in this run**: on shots "
        "they have not seen, leaving the frame as it is scores at least as well on this "
        "yardstick as either one's prediction. Whether either picked up any motion is asked "
        "next, of the pixels that move."
    )
else:
    sentences.append(
        " and ".join(f"**{n}**" for n, ok in beats_copy.items() if ok)
        + " beats copy-last on PSNR one step ahead"
        + (
            "; " + " and ".join(n for n, ok in beats_copy.items() if not ok) + " does not."
            if not all(beats_copy.values())
            else "."
        )
    )
claims.say(" ".join(sentences))
claims.holds(
    copy_vs_linear[0] == "beats", "copy-last beats linear extrapolation one step ahead"
)
claims.holds(
    scores.loc["residual pix2pix", "one-step PSNR"]
    > scores.loc["pix2pix", "one-step PSNR"] + 1,
    "the residual generator beats the tutorial's one step ahead (by more than 1 dB)",
)

# %% [markdown]
# Where does each loss or gain come from? A score averages over pixels that move and pixels
# that stay, and the two tell different stories: where the true next frame equals the input,
# copy-last is exact and a model can only lose; where things move, copy-last is wrong and a
# model that learned motion gains. Split the picture pixels of every predicted frame by how much
# they truly change (`MOVING`, on the $[0, 1]$ scale of pixel values, averaged over the colour
# channels). Each error is the mean absolute difference from the true next frame on that scale
# (0.01 is about 2.5 of 255 grey levels), and "change made to the input" the mean absolute
# difference between the prediction and the frame it was given:

# %%
MOVING = 0.05  # a pixel moves when its true change exceeds this (about 13 grey levels)
true_change = np.abs(truth_next - inputs_next).mean(axis=-1)
moving = (true_change > MOVING) & mask_next
still = (true_change <= MOVING) & mask_next
pixel_table = pd.DataFrame(
    {
        name: {
            "error on moving pixels": float(
                np.abs(pred - truth_next).mean(-1)[moving].mean()
            ),
            "error on still pixels": float(
                np.abs(pred - truth_next).mean(-1)[still].mean()
            ),
            "change made to the input": float(
                np.abs(pred - inputs_next).mean(-1)[mask_next].mean()
            ),
        }
        for name, pred in one_step.items()
    }
).T
moving_share = moving.sum() / mask_next.sum()
copy_row = pixel_table.loc["copy last"]
lines = [
    f"{100 * moving_share:.0f}% of the picture pixels move by more than {MOVING}; on them "
    f"copy-last errs by {copy_row['error on moving pixels']:.4f}, on the still ones by "
    f"{copy_row['error on still pixels']:.4f}. The true next frame differs from its input by "
    f"{float(true_change[mask_next].mean()):.4f} on average (mean over picture pixels)."
]
for name in GENERATORS:
    row = pixel_table.loc[name]
    verb, margin = claims.versus(
        row["error on moving pixels"],
        copy_row["error on moving pixels"],
        "",
        4,
        tolerance=0.0005,
        better="lower",
    )
    still_word = claims.compare(
        row["error on still pixels"],
        copy_row["error on still pixels"],
        higher="more than",
        lower="less than",
        same="as much as",
        tolerance=0.0005,
    )
    text = (
        f"**{name}** changes its input by {row['change made to the input']:.4f}. On moving "
        f"pixels it {verb} copy-last {margin}; on still pixels it errs "
        f"{still_word} copy-last ({row['error on still pixels']:.4f})"
    )
    true_mean = float(true_change[mask_next].mean())
    if beats_copy[name]:
        text += ", and overall it gains: what it gets right where things move pays for what it spoils."
    elif row["change made to the input"] < 0.1 * true_mean:
        text += (
            ": it hardly changes its input (a tenth of the true change or less), so it has "
            "stayed close to copy-last, where it started."
        )
    elif verb == "beats":
        text += (
            ": it has picked up some motion, but spoils more of the still picture than the "
            "motion earns back."
        )
    else:
        text += (
            ": even where things move, its guess is worse than no change at all, so what it "
            "adds to the frame is error, not motion."
        )
    lines.append(text)
best_moving = pixel_table["error on moving pixels"].idxmin()
flow_moving = claims.versus(
    pixel_table.loc["flow", "error on moving pixels"],
    copy_row["error on moving pixels"],
    "",
    4,
    tolerance=0.0005,
    better="lower",
)
lines.append(
    f"The lowest error on moving pixels is {best_moving}'s "
    f"({pixel_table.loc[best_moving, 'error on moving pixels']:.4f}); the flow baseline "
    f"{flow_moving[0]} copy-last there {flow_moving[1]}, whatever it scores in PSNR over the "
    "whole frame."
)
claims.say(" ".join(lines))
pixel_table.rename(columns={c: f"{c} (0-1 scale)" for c in pixel_table.columns}).round(4)

# %% [markdown]
# What a loss to copy-last on PSNR means, where a model has one: on that yardstick, on this
# footage, its prediction is worth less than doing nothing. It does not say the method cannot
# work: a larger model trained longer on more footage (the `gpu` profile, the parameter values of
# `notebooks/profiles/gpu.yaml`) may learn what this run did not, and the way to know is to run
# it and read these tables again. It does say that a pleasing picture is no evidence: a
# generator can draw crisp, plausible frames and still be further from the truth than the frame
# it was given. And a generator that starts at copy-last can stay there (its "change made to the
# input" near zero): from one frame, which way things will move is often ambiguous, and under an
# L1 loss the safest answer to an ambiguous change is to make none.
#
# ## Drift: how long do the rollouts stay on track?
#
# The same predictors, each continuing the held-out shots on its own outputs (the rollout
# columns of the table above), step by step. Both generators were trained on true frames as
# inputs (*{term}`teacher forcing`*) and here read their own, which differ from anything they saw in
# training: the mismatch is called *{term}`exposure bias`*, and chapter 09 trains against it.

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.2))
for name, (_, _, table) in rollouts.items():
    axes[0].plot(table.index, table["psnr"], marker=".", label=name)
    axes[1].plot(table.index, table["ssim"], marker=".", label=name)
axes[0].set(xlabel="step", ylabel="PSNR (dB)", title="rollouts on the held-out shots")
axes[1].set(xlabel="step", ylabel="SSIM")
axes[0].legend(fontsize=8)
plt.tight_layout()
plt.show()
for name in GENERATORS:
    _ = viz.save_comparison(
        starts[0, CONTEXT:],
        rollouts[name][0][0],
        OUT / f"{results.slug(name)}_rollout_{results.slug(test_shots[0])}",
    )

ranked = scores["rollout PSNR"].sort_values(ascending=False)
rollout_lines = [
    f"Over {horizon}-step rollouts, the best mean PSNR goes to {ranked.index[0]} "
    f"({ranked.iloc[0]:.2f} dB), the worst to {ranked.index[-1]} ({ranked.iloc[-1]:.2f} dB)."
]
for name in GENERATORS:
    verb, margin = against(name, "copy last", "rollout PSNR")
    end_verb, end_margin = against(name, "copy last", f"PSNR at step {horizon}")
    path = rollouts[name][2]["psnr"]
    trend = claims.compare(
        path.iloc[-1],
        path.iloc[0],
        higher="rises",
        lower="falls",
        same="stays level",
        tolerance=PSNR_TIE,
    )
    rollout_lines.append(
        f"{name} {verb} copy-last {margin} on average and {end_verb} it {end_margin} at "
        f"step {horizon}; its PSNR {trend} from {path.iloc[0]:.2f} dB at step 1 to "
        f"{path.iloc[-1]:.2f} dB at step {horizon}."
    )
claims.say(" ".join(rollout_lines))

# %% [markdown]
# ## As generators of video: do their clips look, move and flicker like the film?
#
# PSNR and SSIM ask how close a prediction comes to *the one* true future. A generator makes *a*
# future, and is also judged on whether that future is plausible, moving and stable: the scores
# for generated video that chapter 02 (section 9) introduces, on the protocol every family of
# the course is scored on. Every window of the held-out shots at 64 px gives a clip: 2 frames
# given, and 8 that each predictor makes, in a rollout, from them (the generators read only the
# newest given frame); the 8 true frames of all clips form the real set.
#
# - **{term}`FD`** and **{term}`KID`** compare the *set* of made clips with the set of real ones; 0 means one
#   distribution, up to noise, and lower is closer. Each clip is summarised by features of the
#   course {term}`autoencoder`, a small PyTorch network that compresses each frame into a *latent* (a
#   much smaller array of numbers) and decodes it back (chapter 04; trained once and cached):
#   what the latents hold and how they change from frame to frame. FD is the Fréchet distance
#   between Gaussians fitted to the two feature sets (what {term}`FID` and {term}`FVD`, the usual image and video
#   scores, compute on features of networks pretrained on photographs and on action videos); KID
#   is the unbiased kernel distance (of the Kernel Inception Distance), with no bias at small
#   sample sizes. Their noise is what two random halves of the real clips score.
# - **flickering** is the {term}`temporal flickering` of {term}`VBench` (a benchmark suite for video
#   generators), $(255 - \overline{|x_{t+1} - x_t|})/255$ on 0..255 pixels: 1 for a clip that
#   never changes, lower for one that changes (moves or flickers) more. **consistency**
#   (VBench's subject consistency, on the autoencoder's latents) is 1 when nothing changes. Both
#   reward a frozen clip, so they are read next to the motion.
# - **{term}`dynamic degree`** is the share of clips that move (Farneback optical flow, VBench's rule),
#   **motion** the mean flow in pixels per frame, and **motion / truth's** its ratio to the real
#   clips' motion.
#
# The baselines' records on this protocol are chapter 02's, which also scores linear and flow;
# copy-last is computed again here only to sit in the same table, as the yardstick.

# %%
PROTOCOL_SIZE = 64  # the protocol's frame size, whatever IMAGE_SIZE the generators run at


def resized(frames_: np.ndarray, size: int) -> np.ndarray:
    """Frames (..., H, W, 3) in [0, 1] at size x size: area averaging down, bicubic up."""
    if frames_.shape[-2] == size:
        return frames_
    method = cv2.INTER_AREA if frames_.shape[-2] > size else cv2.INTER_CUBIC
    flat = frames_.reshape(-1, *frames_.shape[-3:]).astype(np.float32)
    out = np.stack([cv2.resize(f, (size, size), interpolation=method) for f in flat])
    return np.clip(out, 0.0, 1.0).reshape(*frames_.shape[:-3], size, size, 3)


def at_protocol_size(predict):
    """A generator's predictor on 64 px frames: its input resized to IMAGE_SIZE, its output back."""
    if IMAGE_SIZE == PROTOCOL_SIZE:
        return predict
    return lambda context: resized(predict(resized(context, IMAGE_SIZE)), PROTOCOL_SIZE)


with warnings.catch_warnings():  # torch, probing CUDA after TensorFlow, may warn of it: the
    warnings.filterwarnings(
        "ignore", message="CUDA initialization"
    )  # device is chosen here
    torch_device = runtime.select_device(DEVICE)  # the features come from a PyTorch network
    feature_ae = video_scores.feature_encoder(FEATURE_STEPS, torch_device)
held = video_scores.held_out_clips(PROTOCOL_SIZE)
made_steps = held.truth.shape[1]
protocol_predictors = {
    **{name: at_protocol_size(predictors[name]) for name in GENERATORS},
    "copy last": baselines.copy_last,  # linear and flow: chapter 02, section 9
}
made_clips, made_fps = {}, {}
for name, predict in protocol_predictors.items():
    clip_runs = [
        rollout.rollout(predict, ctx, made_steps, check_feedback=k == 0)
        for k, ctx in enumerate(held.context)
    ]
    made_clips[name] = np.stack([r.frames for r in clip_runs])
    made_fps[name] = len(held) * made_steps / sum(r.seconds for r in clip_runs)
protocol_masks = np.repeat(
    held.masks[:, None], made_steps, axis=1
)  # the same at every step
protocol_drift = {
    name: rollout.drift(clips, held.truth, protocol_masks)
    for name, clips in made_clips.items()
}
real_ref = video_scores.real_reference(
    held.truth, feature_ae, fps=held.fps
)  # scored once, for all
yardsticks = {
    name: video_scores.generation_scores(
        clips, real_ref, feature_ae, fps=held.fps, masks=held.masks, seed=SEED
    )
    for name, clips in made_clips.items()
}
real_features = video_scores.latent_features(real_ref["latents"])
noise = video_scores.distribution_noise(real_features, seed=SEED)
noise_size = noise.index[noise.index <= len(held)].max()
kid_noise = noise.loc[noise_size, "kid mean"] + noise.loc[noise_size, "kid spread"]
fd_noise = noise.loc[noise_size, "fd mean"] + noise.loc[noise_size, "fd spread"]
truth_scores = yardsticks["copy last"]  # every row carries the real clips' values (*_real)
protocol_table = pd.DataFrame(
    {
        name: {
            "PSNR, 8 frames (dB)": protocol_drift[name]["psnr"].mean(),
            "PSNR, frame 1 (dB)": protocol_drift[name]["psnr"].iloc[0],
            "SSIM, 8 frames": protocol_drift[name]["ssim"].mean(),
            "FD": y["fd"],
            "KID": y["kid"],
            "flickering (1: none)": y["temporal_flickering"],
            "consistency (1: none)": y["subject_consistency"],
            "dynamic degree (share)": y["dynamic_degree"],
            "motion (px/frame)": y["motion_magnitude"],
            "motion / truth's": y["motion_ratio"],
        }
        for name, y in yardsticks.items()
    }
).T
protocol_table.loc["true clips"] = [
    np.nan,
    np.nan,
    np.nan,
    np.nan,
    np.nan,
    truth_scores["temporal_flickering_real"],
    truth_scores["subject_consistency_real"],
    truth_scores["dynamic_degree_real"],
    truth_scores["motion_magnitude_real"],
    1.0,
]
print(
    f"{len(held)} held-out clips of {held.context.shape[1]} given + {made_steps} made frames at "
    f"{PROTOCOL_SIZE} px; features from {feature_ae.feature_label}"
    + (
        f"; the generators run at {IMAGE_SIZE} px, their input and output resized"
        if IMAGE_SIZE != PROTOCOL_SIZE
        else ""
    )
)
print(
    f"noise: two halves of the real clips, {noise_size} clips each, score FD up to about "
    f"{fd_noise:.3f} and KID up to about {kid_noise:.3f}"
)
protocol_table.round(3)

# %%
copy_scores = yardsticks["copy last"]


def closer_to_truth(value: float, other: float, truth: float, tolerance: float) -> str:
    return claims.compare(
        abs(value - truth),
        abs(other - truth),
        higher="loses",
        lower="beats",
        same="ties",
        tolerance=tolerance,
    )


generation_lines = [
    f"Copy-last repeats its last given frame: flickering {copy_scores['temporal_flickering']:.3f} and "
    f"consistency {copy_scores['subject_consistency']:.3f}, the best possible, with dynamic degree "
    f"{copy_scores['dynamic_degree']:.2f} (the real clips: {truth_scores['dynamic_degree_real']:.2f}) and motion "
    f"{copy_scores['motion_ratio']:.2f} times the truth's."
]
for name in GENERATORS:
    y, drift_table = yardsticks[name], protocol_drift[name]
    ratio = y["motion_ratio"]
    if y["dynamic_degree"] == 0 and ratio < 0.1:
        motion = (
            f"none of its clips moves (dynamic degree 0) and its motion is {ratio:.2f} times the "
            "truth's"
        )
    else:
        motion = (
            f"{100 * y['dynamic_degree']:.0f}% of its clips move (the real clips: "
            f"{100 * truth_scores['dynamic_degree_real']:.0f}%), with "
            + claims.compare(
                ratio,
                1.0,
                higher="more motion than the truth",
                lower="less motion than the truth",
                same="about the truth's motion",
                tolerance=0.2,
            )
            + f" ({ratio:.2f} times)"
        )
    flicker_words = claims.compare(
        y["temporal_flickering"],
        truth_scores["temporal_flickering_real"],
        higher="changes less from frame to frame than the real clips",
        lower="changes more from frame to frame than the real clips",
        same="changes about as much from frame to frame as the real clips",
        tolerance=0.002,
    )
    kid_words = claims.compare(
        y["kid"],
        copy_scores["kid"],
        higher="further from the real clips' distribution than copy-last's",
        lower="closer to the real clips' distribution than copy-last's",
        same="as close to the real clips' distribution as copy-last's, within noise",
        tolerance=kid_noise,
    )
    text = (
        f"**{name}**: {motion}; it {flicker_words} (flickering {y['temporal_flickering']:.3f} "
        f"against {truth_scores['temporal_flickering_real']:.3f}), and its set of clips is {kid_words} "
        f"(KID {y['kid']:.3f} against {copy_scores['kid']:.3f})."
    )
    if far := video_scores.far_from_data(y, copy_scores, "copy-last"):
        text += " " + far
    if y["dynamic_degree"] == 0 and abs(y["temporal_flickering"] - 1.0) < 0.002:
        text += (
            " No clip of it counts as moving and it does not flicker: it behaves as copy-last does, "
            "and the stability scores reward it for that as they reward copy-last."
        )
    wins, losses = [], []
    verdicts = {
        "PSNR": claims.compare(
            drift_table["psnr"].mean(),
            protocol_drift["copy last"]["psnr"].mean(),
            higher="beats",
            lower="loses",
            same="ties",
            tolerance=PSNR_TIE,
        ),
        "KID": claims.compare(
            copy_scores["kid"],
            y["kid"],
            higher="beats",
            lower="loses",
            same="ties",
            tolerance=kid_noise,
        ),
        "motion": closer_to_truth(ratio, copy_scores["motion_ratio"], 1.0, 0.05),
        "dynamic degree": closer_to_truth(
            y["dynamic_degree"],
            copy_scores["dynamic_degree"],
            truth_scores["dynamic_degree_real"],
            0.02,
        ),
    }
    wins = [k for k, v in verdicts.items() if v == "beats"]
    losses = [k for k, v in verdicts.items() if v == "loses"]
    ties = [k for k, v in verdicts.items() if v == "ties"]
    parts = []
    if wins:
        parts.append(f"wins on {' and '.join(wins)}")
    if losses:
        parts.append(f"loses on {' and '.join(losses)}")
    if ties:
        parts.append(f"ties on {' and '.join(ties)}")
    text += (
        f" Against copy-last it {'; '.join(parts)} (for motion and dynamic degree, winning "
        "means coming nearer the truth's)."
    )
    generation_lines.append(text)
closest = min(protocol_predictors, key=lambda m: yardsticks[m]["kid"])
generation_lines.append(
    f"Of these three, {closest} comes closest to the real clips' distribution (KID "
    f"{yardsticks[closest]['kid']:.3f}; two halves of the real clips score up to about "
    f"{kid_noise:.3f} with {noise_size} clips each). The PSNRs of this table are not those of "
    f"the tables above: they average {made_steps} made frames over every window of the held-out "
    f"shots, at {PROTOCOL_SIZE} px."
)
claims.say(" ".join(generation_lines))
claims.holds(
    copy_scores["dynamic_degree"] == 0 and copy_scores["temporal_flickering"] == 1.0,
    "a frozen video (copy-last) has no moving clip and no flicker",
)

# %% [markdown]
# ## What the frame stride teaches the model
#
# The tutorial's generator trained on pairs `LONG_GAP` frames apart learns a different task: a
# bigger jump, whose exact outcome the input frame cannot tell. It trains for `LONG_GAP_STEPS`
# steps, and is compared with the gap-1 generator saved at the same step, so that only the
# stride differs. How much does each change the frame it is given (the mean absolute
# difference, on the $[0, 1]$ scale), how sharp is what it draws (*sharpness*: the variance of
# the Laplacian of the grey picture on a 0..255 scale, high for crisp edges and low for blur,
# chapter 02), and how well does each predict the very next frame? All on the held-out frames
# of the table above.

# %%
generator_long, *_ = train(LONG_GAP, LONG_GAP_STEPS, f"gap{LONG_GAP}")
same_step = snapshot(checkpoint_folder, LONG_GAP_STEPS)
stride_models = {f"gap {LONG_GAP}, step {LONG_GAP_STEPS}": generator_long}
if same_step is not None:
    stride_models = {f"gap 1, step {LONG_GAP_STEPS}": same_step, **stride_models}
else:  # the run resumed past that step without keeping the snapshot
    print(
        f"no gap-1 snapshot at step {LONG_GAP_STEPS} in this run; comparing with step {STEPS}"
    )
stride_models[f"gap 1, step {STEPS}"] = generator
stride_pred = {
    label: one_step["pix2pix"]
    if m is generator  # already generated above
    else np.stack([generate(m, f) for f in inputs_next])
    for label, m in stride_models.items()
}


def picture_change(pred: np.ndarray) -> float:
    return float(np.abs(pred - inputs_next).mean(-1)[mask_next].mean())


gap_table = pd.DataFrame(
    {
        label: {
            "mean |output - input|": picture_change(pred),
            "sharpness": metrics.sharpness(pred, mask=mask_next),
            "PSNR on the next frame": metrics.psnr(pred, truth_next, mask=mask_next),
        }
        for label, pred in stride_pred.items()
    }
)
gap_table["true next frames"] = [
    picture_change(truth_next),
    metrics.sharpness(truth_next, mask=mask_next),
    np.nan,
]
gap_table.rename(
    index={
        "mean |output - input|": "mean |output - input| (0-1 scale)",
        "sharpness": "sharpness (Laplacian variance)",
        "PSNR on the next frame": "PSNR on the next frame (dB)",
    }
).round(4)

# %%
i = len(show) // 2
viz.show_frames(
    [
        inputs_next[show[i]],
        truth_next[show[i]],
        *(p[show[i]] for p in stride_pred.values()),
    ],
    ["input", "true next frame", *stride_pred],
    size=2.4,
)
plt.show()

# %%
short, long = list(stride_pred)[0], f"gap {LONG_GAP}, step {LONG_GAP_STEPS}"
change_word = claims.compare(
    gap_table.loc["mean |output - input|", long],
    gap_table.loc["mean |output - input|", short],
    higher="more",
    lower="less",
    same="about as much",
    tolerance=0.1 * gap_table.loc["mean |output - input|", short],  # within 10%: a tie
)
sharp_word = claims.compare(
    gap_table.loc["sharpness", long],
    gap_table.loc["sharpness", short],
    higher="sharper",
    lower="blurrier",
    same="about as sharp",
    tolerance=0.1 * gap_table.loc["sharpness", short],
)
verb, margin = claims.versus(
    gap_table.loc["PSNR on the next frame", long],
    gap_table.loc["PSNR on the next frame", short],
    "dB",
    tolerance=PSNR_TIE,
)
text = (
    f"Against the gap-1 generator ({short}), the one trained at gap {LONG_GAP} changes its input "
    f"{change_word} ({gap_table.loc['mean |output - input|', long]:.4f} against "
    f"{gap_table.loc['mean |output - input|', short]:.4f}), draws {sharp_word} frames "
    f"(sharpness {gap_table.loc['sharpness', long]:.0f} against "
    f"{gap_table.loc['sharpness', short]:.0f}), and "
    f"{verb} it on the next frame {margin}."
)
if verb == "loses to":
    text += f" It was trained to answer another question: where things will be {LONG_GAP} frames later"
    text += (
        ", a jump the input frame cannot settle; it changes its input more and, unsure, hedges "
        "with blur."
        if change_word == "more" and sharp_word == "blurrier"
        else "."
    )
claims.say(text)

# %% [markdown]
# With an every-100th-frame extraction the "next" frame of a film lies in another shot
# (chapter 01, section 3), and a model trained on such pairs learns to turn one scene into
# another.
#
# ## The BatchNorm switch
#
# Keras layers take a `training` flag. For BatchNorm it chooses the statistics that normalise
# each channel: with `training=True`, the mean and variance of the current batch; with
# `training=False`, running averages collected during training. At batch size 1 the "batch" is
# one image, so during training every image was normalised by *its own* statistics (instance
# normalisation). The running averages mix the statistics of many different images and match
# none of them, so they can shift every channel: generated frames can come out darker, brighter
# or washed out. The tutorial therefore generates with `training=True`, and so do the tables
# above; whether that is the better choice on these shots is what this section measures. How much
# it matters depends on how far the running averages are from each image's own statistics; we
# measure the PSNR, the brightness and the contrast (over picture content, on the held-out frames
# of the one-step table) at step `EARLY_STEP` and at the end of training. Is what we find a
# property of pix2pix or of one training run? A cheap check: the tutorial's generator is trained
# a second time up to step `EARLY_STEP`, identical but for its seed (`SECOND_SEED`: other
# initial weights, data order, jitter and dropout masks), and measured the same way there.

# %%
claims.holds(
    all(
        np.array_equal(value, trained_averages[path])
        for path, value in moving_averages(generator).items()
    ),
    "generating left BatchNorm's running averages as training made them",
)
second_generator, *_ = train(
    1, EARLY_STEP, f"gap1-seed{SECOND_SEED}", seed=SECOND_SEED
)  # a quarter of the training or less: enough to compare the seeds at step EARLY_STEP
runtime.seed_everything(SEED)  # back to the chapter's seed for what follows
bn_models = {
    (f"seed {SEED}", f"step {EARLY_STEP}"): snapshot(checkpoint_folder, EARLY_STEP),
    (f"seed {SEED}", f"step {STEPS}"): generator,
    (f"seed {SECOND_SEED}", f"step {EARLY_STEP}"): second_generator,
}
bn_models = {label: m for label, m in bn_models.items() if m is not None}


def brightness_contrast(frames_: np.ndarray) -> tuple[float, float]:
    picture = frames_[mask_next]  # (pixels, 3): picture content only
    return float(picture.mean()), float(picture.std())


bn_rows, bn_pictures, bn_titles = {}, [], []
for (run, step_label), model in bn_models.items():
    for training in (True, False):
        pred = (
            one_step["pix2pix"]  # already generated above, the same way
            if model is generator and training
            else np.stack([generate(model, f, training=training) for f in inputs_next])
        )
        bright, contrast = brightness_contrast(pred)
        bn_rows[run, step_label, f"training={training}"] = {
            "PSNR": metrics.psnr(pred, truth_next, mask=mask_next),
            "mean brightness": bright,
            "contrast (std)": contrast,
        }
        bn_pictures.append(pred[show[i]])
        bn_titles.append(f"{run}, {step_label}\ntraining={training}")
bn_table = pd.DataFrame(bn_rows).T
bn_table.loc[("truth", "", ""), :] = [np.nan, *brightness_contrast(truth_next)]
viz.show_frames(bn_pictures, bn_titles, cols=4, size=2.0)
plt.show()
bn_table.rename(
    columns={
        "PSNR": "PSNR (dB)",
        "mean brightness": "mean brightness (0-1 scale)",
        "contrast (std)": "contrast (std, 0-1 scale)",
    }
).round(4)

# %%
truth_brightness = bn_table.loc[("truth", "", ""), "mean brightness"]


def switch_effect(run: str, step_label: str) -> dict[str, str | float]:
    """What generating with training=False does, against training=True, for one model."""
    on = bn_table.loc[(run, step_label, "training=True")]
    off = bn_table.loc[(run, step_label, "training=False")]
    gain = off["PSNR"] - on["PSNR"]
    return {
        "gain": gain,
        "psnr": claims.compare(
            gain, 0.0, higher="gains", lower="costs", same="ties", tolerance=PSNR_TIE
        ),
        "light": claims.compare(
            off["mean brightness"],
            on["mean brightness"],
            higher="brighter",
            lower="darker",
            same="as bright",
            tolerance=0.002,
        ),
        "contrast": claims.compare(
            off["contrast (std)"],
            on["contrast (std)"],
            higher="more contrast",
            lower="less contrast",
            same="the same contrast",
            tolerance=0.002,
        ),
        "closer": claims.compare(
            abs(off["mean brightness"] - truth_brightness),
            abs(on["mean brightness"] - truth_brightness),
            higher="further from",
            lower="closer to",
            same="as close to",
            tolerance=0.002,
        ),
        "off": off,
        "on": on,
    }


effects = {key: switch_effect(*key) for key in bn_models}
bn_lines = []
for (run, step_label), e in effects.items():
    psnr_part = (
        "leaves PSNR as it is (within 0.05 dB)"
        if e["psnr"] == "ties"
        else f"{e['psnr']} {abs(e['gain']):.2f} dB of PSNR"
    )
    bn_lines.append(
        f"{run.capitalize()}, {step_label}: generating with `training=False` {psnr_part} and gives "
        f"{e['light']} frames (mean brightness {e['off']['mean brightness']:.4f} against "
        f"{e['on']['mean brightness']:.4f} with `training=True`) with {e['contrast']} "
        f"({e['off']['contrast (std)']:.4f} against {e['on']['contrast (std)']:.4f})."
    )
bn_lines.append(f"The true frames' mean brightness is {truth_brightness:.4f}.")
final = (f"seed {SEED}", f"step {STEPS}")
if final in effects:
    e = effects[final]
    choice = {
        "gains": "the worse choice for PSNR",
        "costs": "the better choice for PSNR",
        "ties": "no better and no worse for PSNR",
    }[e["psnr"]]
    bn_lines.append(
        f"At the end of training (seed {SEED}), the tutorial's `training=True` is {choice}, and "
        f"`training=False` frames are {e['closer']} the true brightness."
    )
    early = (f"seed {SEED}", f"step {EARLY_STEP}")
    if early in effects and {effects[early]["light"], e["light"]} == {"brighter", "darker"}:
        bn_lines.append(
            f"Which way the switch moves the brightness turns round between step {EARLY_STEP} "
            f"and step {STEPS} of one run."
        )
seeds_early = [
    effects.get((f"seed {seed}", f"step {EARLY_STEP}")) for seed in (SEED, SECOND_SEED)
]
if all(seeds_early):
    first_seed, other_seed = seeds_early
    aspects = (("PSNR", "psnr"), ("brightness", "light"), ("contrast", "contrast"))
    opposites = (
        {"gains", "costs"},
        {"brighter", "darker"},
        {"more contrast", "less contrast"},
    )
    turned = [
        what for what, key in aspects if {first_seed[key], other_seed[key]} in opposites
    ]
    differ = [
        what
        for what, key in aspects
        if first_seed[key] != other_seed[key] and what not in turned
    ]
    if turned:
        bn_lines.append(
            f"At step {EARLY_STEP} the two seeds move {' and '.join(turned)} opposite ways: "
            "which way the switch pushes is a property of one training run, not of pix2pix."
        )
    if differ:
        bn_lines.append(
            f"At step {EARLY_STEP} the seeds also differ on {' and '.join(differ)}: one moves it, "
            "the other leaves it within the tie margin."
            if turned
            else f"At step {EARLY_STEP} the two seeds differ on {' and '.join(differ)} (one moves "
            "it, the other leaves it within the tie margin) and agree on the rest."
        )
    if not turned and not differ:
        bn_lines.append(
            f"At step {EARLY_STEP} the two seeds agree on which way the switch moves PSNR, "
            "brightness and contrast; two runs cannot show that every run would."
        )
better_off = [key for key, e in effects.items() if e["psnr"] == "gains"]
# how far two seeds lie apart with the same setting: the only PSNR noise this section measures
seed_rows = [
    (f"seed {seed}", f"step {EARLY_STEP}", "training=True") for seed in (SEED, SECOND_SEED)
]
seed_spread = (
    abs(bn_table.loc[seed_rows[0], "PSNR"] - bn_table.loc[seed_rows[1], "PSNR"])
    if all(r in bn_table.index for r in seed_rows)
    else None
)
if better_off and len(better_off) == len(effects):
    low, high = (f(e["gain"] for e in effects.values()) for f in (min, max))
    within_luck = [
        f"{run}, {step}"
        for (run, step), e in effects.items()
        if seed_spread and e["gain"] < seed_spread
    ]
    bn_lines.append(
        f"In all {len(effects)} models measured, `training=False` gives the higher PSNR (by {low:.2f} "
        f"to {high:.2f} dB)"
        + (
            f"; the two seeds at step {EARLY_STEP} differ by {seed_spread:.2f} dB with the same setting, so "
            f"the smaller gains ({', '.join(within_luck)}) are within one run's luck"
            if within_luck
            else ""
        )
        + ": on these shots the tutorial's setting is never the better one on PSNR"
        + (
            f", and the tables above, made with it, show the final generator "
            f"{effects[final]['gain']:.2f} dB below what the same weights give one step ahead with "
            "the running averages."
            if final in effects
            else "."
        )
    )
elif better_off:
    bn_lines.append(
        f"`training=False` gives the higher PSNR for {len(better_off)} of the {len(effects)} models "
        "measured, not for all: neither setting is the better one on every run."
    )
claims.say(" ".join(bn_lines))

# %% [markdown]
# The running averages move slowly (BatchNorm's momentum keeps 99% of the old value at every
# step), so they lag any change of the generator during training, and they describe the
# training shots, not the frame at hand: which way they push a frame depends on where a
# training run has taken them, which is why the section compares two seeds and reports, rather
# than asserts, what it finds.
#
# Dropout is the other layer that obeys the flag. The tutorial keeps it on when generating,
# as a source of variety. In a rollout it makes every step a fresh random draw, which could add
# frame-to-frame change that is not motion. Two rollouts of the first held-out shot from its
# first frame, batch statistics in both, dropout on and off. Two numbers for each: the
# *frame-to-frame change*, the mean absolute difference between consecutive frames on the
# $[0, 1]$ scale (how much the video changes per frame), and the *warping error* (chapter 02,
# section 6), the error left after moving the previous frame's pixels along the optical flow
# estimated between the two (it can exceed the change itself where that flow is wrong, as on
# frames that flicker rather than move). Both are taken over the generated frames, and over the same frames of the
# true shot; the next section's table shares these rows.

# %%
shot_name = test_shots[0]
shot = video_float[runs[shot_name]]
shot_mask = masks[runs[shot_name][0]]  # one (H, W) mask: the shot's letterbox does not move
start = shot[:1]
flicker_steps = min(len(shot) - 1, 30)
with_dropout = rollout.rollout(
    lambda c: generate(generator, c[-1], dropout=True), start, flicker_steps
)
without_dropout = rollout.rollout(predictors["pix2pix"], start, flicker_steps)


def motion_row(sequence: np.ndarray) -> dict[str, float]:
    return {
        "frame-to-frame change": metrics.frame_change(sequence, mask=shot_mask),
        "warping error": metrics.warping_error(sequence, mask=shot_mask),
    }


truth_loop = shot[1 : flicker_steps + 1]  # the true frames at the generated positions
flicker = pd.DataFrame(
    {
        "true shot": motion_row(truth_loop),
        "dropout on": motion_row(with_dropout.frames),
        "dropout off": motion_row(without_dropout.frames),
    }
).T
on, off, true_row = (
    flicker.loc["dropout on"],
    flicker.loc["dropout off"],
    flicker.loc["true shot"],
)
tie = (
    0.1 * true_row["frame-to-frame change"]
)  # a tenth of the true motion: too small to see
change_word = claims.compare(
    on["frame-to-frame change"],
    off["frame-to-frame change"],
    higher="adds to",
    lower="takes from",
    same="hardly changes",
    tolerance=tie,
)
warp_word = claims.compare(
    on["warping error"],
    off["warping error"],
    higher="raises",
    lower="lowers",
    same="hardly changes",
    tolerance=tie,
)
claims.say(
    f"In this run dropout {change_word} the rollout's frame-to-frame change "
    f"({on['frame-to-frame change']:.4f} with it, {off['frame-to-frame change']:.4f} without; "
    f"the true shot: {true_row['frame-to-frame change']:.4f}) and {warp_word} the warping error "
    f"({on['warping error']:.4f} against {off['warping error']:.4f}), the error left after moving the "
    "previous frame's pixels along the estimated flow."
)
UNITS = {
    "frame-to-frame change": "frame-to-frame change (0-1 scale)",
    "warping error": "warping error (0-1 scale)",
    "PSNR against the truth": "PSNR against the truth (dB)",
    "sharpness": "sharpness (Laplacian variance)",
}
flicker.rename(columns=UNITS).round(4)

# %% [markdown]
# ## The rollout-feedback bug
#
# To make a video, each output must become the next input. The bug that froze the original
# project's videos was a loop that computed every frame from the *first* frame. (Dropout is
# off here, so that any motion comes from the loop.)

# %%
first = shot[0]
buggy_frames = []
frame = first
for _ in range(flicker_steps):
    output = generate(generator, first)  # BUG: should be generate(generator, frame)
    buggy_frames.append(output)
    frame = output  # updated, but never used
buggy_frames = np.stack(buggy_frames)
fixed = without_dropout.frames  # helpers.rollout feeds every output back in
feedback = pd.DataFrame(
    {
        name: {
            "frame-to-frame change": metrics.frame_change(frames_, mask=shot_mask),
            "PSNR against the truth": metrics.psnr(frames_, truth_loop, mask=shot_mask),
            "sharpness": metrics.sharpness(frames_, mask=shot_mask),
        }
        for name, frames_ in {
            "true shot": truth_loop,
            "buggy loop": buggy_frames,
            "fixed loop (helpers.rollout)": fixed,
            "copy the first frame": np.repeat(start, flicker_steps, axis=0),
        }.items()
    }
).T
feedback.loc["true shot", "PSNR against the truth"] = np.nan  # itself: nothing to score
claims.holds(
    np.isclose(
        feedback.loc["true shot", "frame-to-frame change"],
        flicker.loc["true shot", "frame-to-frame change"],
    )
    and np.isclose(
        feedback.loc["fixed loop (helpers.rollout)", "frame-to-frame change"],
        flicker.loc["dropout off", "frame-to-frame change"],
    ),
    "the dropout table and this one measure the true shot and the fixed loop alike",
)
feedback.rename(columns=UNITS).round(4)

# %%
viz.show_sequences(
    {"truth": truth_loop, "buggy loop": buggy_frames, "fixed loop": fixed},
    fps=6,
    scale=2,
    save_to=OUT / "feedback_bug.gif",
)
buggy, fixed_row = feedback.loc["buggy loop"], feedback.loc["fixed loop (helpers.rollout)"]
frozen_change = buggy["frame-to-frame change"]
true_motion = feedback.loc["true shot", "frame-to-frame change"]
fixed_moves = fixed_row["frame-to-frame change"] > 0.25 * true_motion
verb, margin = claims.versus(
    fixed_row["PSNR against the truth"],
    buggy["PSNR against the truth"],
    "dB",
    tolerance=PSNR_TIE,
)
text = (
    f"The buggy loop changes by {frozen_change:.4f} per frame: all "
    f"{flicker_steps} frames are one picture, the model's prediction from the first frame. The "
    f"fixed loop {'moves, by' if fixed_moves else 'barely moves:'} "
    f"{fixed_row['frame-to-frame change']:.4f} per frame (the true shot: "
    f"{feedback.loc['true shot', 'frame-to-frame change']:.4f}). Against the true frames, the "
    f"fixed loop {verb} the buggy one {margin} "
    f"({fixed_row['PSNR against the truth']:.2f} against {buggy['PSNR against the truth']:.2f} dB)."
)
copy_first = feedback.loc["copy the first frame", "PSNR against the truth"]
if verb != "beats":
    text += (
        (" Moving is not the same as moving right." if fixed_moves else "")
        + " The buggy loop's one picture is a single step from the first true frame, scored against "
        "frames further and further from it; the fixed loop feeds its own output back, so each "
        "step's error becomes the next step's input"
    )
    path = rollouts["pix2pix"][2]["psnr"]
    if path.iloc[-1] < path.iloc[0] - PSNR_TIE:
        text += (
            f", and errors compound: on the held-out shots pix2pix's rollouts fall from "
            f"{path.iloc[0]:.2f} dB at step 1 to {path.iloc[-1]:.2f} dB at step {horizon} (the "
            "drift curves above)."
        )
    else:
        text += "."
sharp_ratio = fixed_row["sharpness"] / feedback.loc["true shot", "sharpness"]
text += " The fixed loop's frames are " + claims.compare(
    sharp_ratio,
    1.0,
    higher="sharper than the true shot's, with detail the film does not have",
    lower="blurrier than the true shot's",
    same="about as sharp as the true shot's",
    tolerance=0.5,
)
text += f" (sharpness {fixed_row['sharpness']:.0f} against {feedback.loc['true shot', 'sharpness']:.0f})."
if copy_first > max(buggy["PSNR against the truth"], fixed_row["PSNR against the truth"]):
    text += (
        f" Both loops lose to simply repeating the true first frame ({copy_first:.2f} dB)."
    )
claims.say(text)

# %% [markdown]
# The fix is the loop, not the score: only a loop that feeds each output back can make a video
# at all. `helpers.rollout` cannot be written the buggy way, and it refuses a predictor that
# ignores its input, which is how the bug looks from the outside:

# %%
claims.holds(frozen_change == 0.0, "the buggy loop repeats one frame")
if PROFILE != "smoke":  # 30 smoke steps train no motion: that model's loop settles at once
    claims.holds(
        fixed_moves, "the fixed loop moves (by more than a quarter of the true motion)"
    )
try:
    rollout.rollout(lambda context: generate(generator, first), start, steps=3)
    refused = False
except rollout.FeedbackError as error:
    refused = True
    print("helpers.rollout refused it:", error)
claims.holds(refused, "helpers.rollout refuses a predictor that ignores its input")

# %% [markdown]
# ## After the film ends
#
# The experiment the project was named for: start from the last frame of `bikes.mp4` and let
# each generator continue for `LONG_ROLLOUT` frames, with no truth to compare against. What a
# model settles into tells what it learned: motion it keeps up, colours it drifts towards,
# detail it loses or makes up. Three numbers per generated frame: how much it changed from the
# frame before, its brightness, and its sharpness (the variance of the Laplacian, chapter 02),
# all on picture content.

# %%
bikes_positions = np.flatnonzero(np.char.startswith(units.astype(str), "bikes/"))
ending = video_float[bikes_positions[-1:]]
ending_mask = masks[bikes_positions[-1]]
after = {
    name: rollout.rollout(predictors[name], ending, LONG_ROLLOUT, show_progress=True)
    for name in GENERATORS
}
both = np.concatenate([after[name].frames for name in GENERATORS], axis=2)
mp4 = video.write_mp4(both, OUT / "after_the_end.mp4", fps=25)
gif = video.write_gif(both, OUT / "after_the_end.gif", fps=12)
index = pd.RangeIndex(1, LONG_ROLLOUT + 1, name="generated frame")
after_stats = {
    name: pd.DataFrame(
        {
            "change": metrics.frame_change(
                np.concatenate([ending, run.frames]), per_frame=True, mask=ending_mask
            ),
            "brightness": run.frames[:, ending_mask].mean(axis=(1, 2)),
            "sharpness": [metrics.sharpness(f[None], mask=ending_mask) for f in run.frames],
        },
        index=index,
    )
    for name, run in after.items()
}
bikes_shots = [u for u in split["train"] + split["test"] if u.startswith("bikes/")]
film_change = np.mean(
    [
        metrics.frame_change(video_float[runs[u]], mask=masks[runs[u][0]])
        for u in bikes_shots
    ]
)
real = {
    "change": film_change,
    "brightness": float(ending[0][ending_mask].mean()),
    "sharpness": metrics.sharpness(ending, mask=ending_mask),
}
fig, axes = plt.subplots(1, 3, figsize=(12, 3))
for ax, column in zip(axes, real, strict=True):
    for name, stats in after_stats.items():
        ax.plot(stats.index, stats[column], label=name)
    ax.axhline(real[column], color="grey", linestyle="--", label="the film")
    ax.set(title=column, xlabel="generated frame")
axes[0].legend(fontsize=8)
plt.tight_layout()
plt.show()
picks = np.linspace(0, LONG_ROLLOUT - 1, 8).astype(int)
after_strip = viz.show_frames(
    np.concatenate(
        [
            ending,
            after["pix2pix"].frames[picks],
            ending,
            after["residual pix2pix"].frames[picks],
        ]
    ),
    ["last real frame"]
    + [f"pix2pix +{p + 1}" for p in picks]
    + ["last real frame"]
    + [f"residual +{p + 1}" for p in picks],
    cols=len(picks) + 1,
    size=1.6,
)
viz.glue("after_the_end", after_strip)  # shown again at the top of the page
plt.show()
print(
    f"{LONG_ROLLOUT} frames per generator at {after['pix2pix'].fps:.1f} frames/s; saved "
    f"{mp4.name} and {gif.name} (pix2pix left, residual right) in {runtime.display_path(OUT)}"
)

# %%
tail = LONG_ROLLOUT // 10  # the last tenth of the run: what each generator settled into
after_lines = [
    f"Within its shots `bikes.mp4` changes by {film_change:.4f} per frame; its last frame has "
    f"brightness {real['brightness']:.4f} and sharpness {real['sharpness']:.0f}."
]
for name, stats in after_stats.items():
    end = stats.iloc[-tail:].mean()
    motion_words = claims.compare(
        end["change"] / film_change,
        1.0,
        higher="flickers, changing more than the film moves",
        lower="slows down",
        same="keeps about the film's pace",
        tolerance=0.5,
    )
    if end["change"] < 0.25 * film_change:
        motion_words = "barely changes from frame to frame"
    detail = claims.compare(
        end["sharpness"] / real["sharpness"],
        1.0,
        higher="sharper than the real frame",
        lower="blurrier than the real frame",
        same="about as sharp as the real frame",
        tolerance=0.5,
    )
    light = claims.compare(
        end["brightness"],
        real["brightness"],
        higher="brighter than",
        lower="darker than",
        same="about as bright as",
        tolerance=0.02,
    )
    why = {
        "sharper than the real frame": ": detail that no camera recorded, made up by the model",
        "blurrier than the real frame": ": the detail has washed out",
    }.get(detail, "")
    frames_word = f"frame{'s' if tail > 1 else ''}"
    after_lines.append(
        f"Over its last {tail} {frames_word}, **{name}** {motion_words} ({end['change']:.4f} "
        f"per frame). Its frames are {light} the last real one (brightness "
        f"{end['brightness']:.4f}) and {detail} (sharpness {end['sharpness']:.0f}){why}."
    )
claims.say(" ".join(after_lines))

# %% [markdown]
# The other way to use a model is not to let it run free but to give it **every true frame as
# input** and show its one-step predictions side by side with the film: what the model would do
# next at each moment. Then the same one-step PSNR (dB) on every frame from each shot's third
# on, each predicted from the true frame before it, the training shots and the held-out ones
# apart: on the held-out shots these are the frames, and the numbers, of the one-step table above.

# %%
seen = np.isin(units[all_pairs[:, 0]], split["train"])
pair_inputs, pair_truth = video_float[all_pairs[:, 0]], video_float[all_pairs[:, 1]]
pair_masks = masks[all_pairs[:, 1]]
pair_predictions["copy last"] = pair_inputs
in_bikes = np.char.startswith(units[all_pairs[:, 0]].astype(str), "bikes/")
film_truth = pair_truth[in_bikes]  # bikes.mp4, shot by shot (the cuts left out)
film_every = pair_predictions["pix2pix"][in_bikes]
video.write_mp4(
    np.concatenate([film_truth, film_every], axis=2),
    OUT / "every_frame_as_input.mp4",
    fps=25,
)
viz.show_sequences(
    {"truth": film_truth[::3], "pix2pix, one step from the true frame": film_every[::3]},
    fps=8,
    scale=2,
)
# as one step ahead above: the first CONTEXT - 1 pairs of each shot are left out
late = ~np.isin(all_pairs[:, 0], [a for u in runs for a in runs[u][: CONTEXT - 1]])
train_pairs, test_pairs = seen & late, ~seen & late
seen_table = pd.DataFrame(
    {
        name: {
            "training shots PSNR": metrics.psnr(
                pred[train_pairs], pair_truth[train_pairs], mask=pair_masks[train_pairs]
            ),
            "held-out shots PSNR": metrics.psnr(
                pred[test_pairs], pair_truth[test_pairs], mask=pair_masks[test_pairs]
            ),
        }
        for name, pred in pair_predictions.items()
    }
).T
claims.holds(
    np.allclose(
        seen_table["held-out shots PSNR"], scores.loc[seen_table.index, "one-step PSNR"]
    ),
    "the held-out column repeats the one-step PSNR of the table above (the same frames)",
)
seen_lines = []
for name in GENERATORS:
    deficit = seen_table.loc[name] - seen_table.loc["copy last"]
    where = claims.compare(
        deficit["training shots PSNR"],
        deficit["held-out shots PSNR"],
        higher="better on the shots it trained on",
        lower="better on the held-out shots",
        same="about as well on both",
        tolerance=PSNR_TIE,
    )
    seen_lines.append(
        f"{name} scores {claims.signed(deficit['training shots PSNR'], 'dB')} against copy-last "
        f"on the training shots and {claims.signed(deficit['held-out shots PSNR'], 'dB')} on the "
        f"held-out ones: measured against copy-last, it does {where}"
    )
claims.say(
    "; ".join(seen_lines)
    + ". Against the same yardstick, doing better on frames it has seen than on frames it has "
    "not is the part of a score that comes from remembering, not from knowing how things move."
)
seen_table.rename(columns=with_units).round(4)

# %% [markdown]
# ## Results
#
# Two records for each generator in the results registry (the folder of JSON files, one per model
# and data set, that the benchmark chapter reads; chapter 02 section 10), scored on picture
# content only:
#
# - on `clips@64px`, the course's protocol for every family (the section on generated video
#   above): PSNR, SSIM, {term}`MSE` and MAE averaged over the 8 made frames, the PSNR of the first, the
#   scores for generated video, and the scores at every step. Chapter 02 writes the baselines'
#   records on it;
# - on this chapter's own protocol (records whose data set is named `shots@` with the image size
#   and "(chapter 03 protocol)"): the
#   one-step scores on every held-out frame from each shot's third, and the rollouts from the
#   start of each held-out shot, step by step.
#
# **Where each profile runs.** This is the course's one TensorFlow chapter. The `smoke` and `cpu`
# profiles run in the course's own build (`make test`, `make book`) on the CPU. The `gpu` profile
# (256 px and the tutorial's base width, with many more steps) is meant for a Colab GPU: open the
# chapter from the badge, choose a GPU runtime, paste the `"03"` values of
# `notebooks/profiles/gpu.yaml` into the parameters cell and run all. The course's GPU test
# machine has no TensorFlow, so the book's gpu figures for this chapter exist only where someone
# ran it there; the registry record says which device produced each number.

# %%
own_dataset = f"shots@{IMAGE_SIZE}px (chapter 03 protocol)"
trained_here = {
    "pix2pix": (generator, train_seconds),
    "residual pix2pix": (residual_generator, residual_seconds),
}
written = []
for name, (model, seconds) in trained_here.items():
    _, rollout_scores, table = rollouts[name]
    steps_note = f"U-Net base {BASE_FILTERS}, {IMAGE_SIZE} px"
    shared = dict(
        split="test",
        profile=PROFILE,
        device=DEVICE_USED,
        weights=f"trained here, {STEPS} steps",
        parameters=model.count_params(),
        training_seconds=seconds,
    )
    written.append(
        results.write_result(
            CHAPTER,
            name,
            "clips@64px",
            protocol=video_scores.PROTOCOL,
            generation_fps=made_fps[name],
            metrics={
                **{
                    k: float(protocol_drift[name][k].mean())
                    for k in ("psnr", "ssim", "mse", "mae")
                },
                "psnr_step1": float(protocol_drift[name]["psnr"].iloc[0]),
                **yardsticks[name],
            },
            horizons=protocol_drift[name].reset_index().to_dict("records"),
            notes=video_scores.protocol_notes(feature_ae, len(held))
            + f"; {steps_note}"
            + (
                f"; frames resized to {IMAGE_SIZE} px for the generator and back"
                if IMAGE_SIZE != PROTOCOL_SIZE
                else ""
            ),
            **shared,
        )
    )
    written.append(
        results.write_result(
            CHAPTER,
            name,
            own_dataset,
            protocol=(
                f"one-step on every held-out frame from each shot's third; rollout of {horizon} "
                "from 2 frames of each test shot"
            ),
            generation_fps=rollout_scores["fps"],
            metrics={
                **one_step_scores.loc[name].to_dict(),
                "rollout_psnr": rollout_scores["psnr"],
                "rollout_ssim": rollout_scores["ssim"],
            },
            horizons=table.reset_index().to_dict("records"),
            notes=(
                f"frames {IMAGE_SIZE}px, scored on picture content only; test shots "
                f"{', '.join(test_shots)}; {steps_note}; training steps/s compiled "
                f"{compiled_rate:.2f}, eager {eager_rate:.2f}"
            ),
            **shared,
        )
    )
# records this chapter no longer writes (the baselines' are chapter 02's now) would be read by
# the benchmark as if this run had made them
stale = [
    path
    for path in (results.results_dir() / PROFILE / CHAPTER).glob("*.json")
    if path not in written
]
for path in stale:
    path.unlink()
if stale:
    print(f"removed {len(stale)} older records: {', '.join(p.name for p in stale)}")
registry = results.results_table(results.load_results(chapter=CHAPTER, profile=PROFILE))
registry_columns = {
    "model": "model",
    "dataset": "data set",
    "psnr": "PSNR (dB)",
    "ssim": "SSIM",
    "psnr_step1": "PSNR, step 1 (dB)",
    "rollout_psnr": "rollout PSNR (dB)",
    "kid": "KID",
    "motion_ratio": "motion / truth's",
    "training_seconds": "training (s)",
    "generation_fps": "generation (frames/s)",
}
print(
    "PSNR and SSIM: the mean over the 8 made frames on clips@64px; one step ahead on the "
    "chapter's own protocol"
)
registry[list(registry_columns)].rename(columns=registry_columns).round(3)

# %% [markdown]
# ## Exercises
#
# 1. Train with `training=False` in `generate` from the start of this chapter. Which scores move
#    most: PSNR, brightness or contrast?
# 2. Replace BatchNorm in the generator by `keras.layers.GroupNormalization(groups=-1)` (instance
#    normalisation). Does the `training` flag still matter?
# 3. Give the residual generator's last layer the tutorial's random initialisation instead of
#    zeros, so that it does not start as copy-last. After the same steps, where does it land
#    against copy-last and against the tutorial's generator?
# 4. Train both generators for four times the steps (`--set STEPS=...`). Does either now beat
#    copy-last one step ahead? On moving pixels?
# 5. Train on pairs that cross the cuts (gap 100 over the whole clip, ignoring shots), as an
#    every-100th-frame extraction would. What does the long rollout look like?
