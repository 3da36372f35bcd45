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
# pix2pix turns one image into another: a map into a photo, a sketch into a shoe. Give it a
# frame of a film as the input and the *next* frame as the target, and it becomes a next-frame
# predictor; feed each output back in as the next input and it keeps the film going past its
# last frame. This chapter trains TensorFlow's pix2pix that way on the shots of one clip, scores
# it against the chapter 02 baselines, and lets it run on after the clip ends. On the way it shows
# the two bugs that cost the project it comes from days: a BatchNorm switch that darkens
# generated frames, and a generation loop that feeds the model the same frame again and again.
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
PROFILE = "cpu"  # smoke | cpu | gpu: which row of notebooks/profiles/*.yaml these values come from
SEED = 0
DEVICE = "auto"
IMAGE_SIZE = 64  # frames are IMAGE_SIZE x IMAGE_SIZE; the U-Net has log2(IMAGE_SIZE) levels
BASE_FILTERS = (
    32  # filters of the first layer, doubling per level up to 8x (the tutorial: 64)
)
STEPS = 3000  # training steps at batch size 1 for the main model (gap 1)
LONG_GAP = 8  # the large frame stride of the comparison model
LONG_GAP_STEPS = 1000  # its training steps
EARLY_STEP = 300  # a snapshot kept to show the BatchNorm switch early in training
CHECKPOINT_EVERY = 500
LONG_ROLLOUT = 100  # frames generated after the clip ends
EAGER_STEPS = (
    5  # training steps timed eagerly (and 10x as many compiled) to compare the two
)

# %%
import hashlib
import json
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from helpers import baselines, datasets, metrics, results, rollout, runtime, video, viz

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
# The last frame of `bikes.mp4`, then frames the trained model made up after it, each from the
# one before (computed at the end of this page).
# ```
#
# ## The data: one film, split by shot
#
# The project this chapter follows trained on the frames of one short film. Our film is
# `bikes.mp4`, whose six shots chapter 01 found. Training pairs come from some shots and the
# scores from a shot the model never saw, so that a good score cannot come from remembering
# neighbouring frames (chapter 01, section 7). Frames are letterboxed to `IMAGE_SIZE` and
# scaled to $[-1, 1]$, the range of the generator's `tanh` output.

# %%
all_frames, all_units = datasets.course_frames(IMAGE_SIZE)
in_film = np.char.startswith(all_units.astype(str), "bikes/")
frames, units = all_frames[in_film], all_units[in_film]
film_split = datasets.split_by_clip(units, {"train": 0.8, "test": 0.2}, seed=SEED)
test_shot = film_split["test"][0]
test_positions = datasets.unit_runs(units)[test_shot]
print(
    f"{len(frames)} frames of {IMAGE_SIZE}px; training shots {film_split['train']}; held out: {test_shot}"
)


def training_pairs(gap: int) -> np.ndarray:
    """(t, t+gap) pairs inside the training shots."""
    pairs = datasets.pair_indices(units, gap)
    return pairs[np.isin(units[pairs[:, 0]], film_split["train"])]


JITTER_SIZE = round(
    IMAGE_SIZE * 286 / 256
)  # the tutorial: resize 256 -> 286, crop back to 256
frame_store = tf.constant(frames)


def load_pair(pair):
    """The tutorial's random jitter, applied identically to input and target."""
    images = tf.cast(tf.gather(frame_store, pair), tf.float32) / 127.5 - 1.0
    both = tf.concat([images[0], images[1]], axis=-1)  # crop and flip both halves together
    both = tf.image.resize(both, [JITTER_SIZE, JITTER_SIZE], method="nearest")
    both = tf.image.random_crop(both, [IMAGE_SIZE, IMAGE_SIZE, 6])
    both = tf.cond(
        tf.random.uniform(()) > 0.5, lambda: tf.image.flip_left_right(both), lambda: both
    )
    return both[None, ..., :3], both[None, ..., 3:]


def pair_stream(gap: int) -> tf.data.Dataset:
    pairs = training_pairs(gap)
    return (
        tf.data.Dataset.from_tensor_slices(pairs)
        .shuffle(len(pairs), seed=SEED, reshuffle_each_iteration=True)
        .repeat()
        .map(load_pair, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )


print(
    f"{len(training_pairs(1))} training pairs at gap 1, {len(training_pairs(LONG_GAP))} at gap {LONG_GAP}"
)

# %% [markdown]
# ## The model
#
# The generator is a U-Net: an encoder halves the picture `log2(IMAGE_SIZE)` times down to
# 1x1, a decoder doubles it back, and skip connections hand every encoder level's features to
# the decoder level of the same size, so fine detail need not squeeze through the bottleneck.
#
# - down block: 4x4 convolution with stride 2, BatchNorm (not on the first), LeakyReLU;
# - up block: 4x4 transposed convolution with stride 2, BatchNorm, Dropout 0.5 (first three
#   blocks), ReLU;
# - output: a transposed convolution to 3 channels with `tanh`.
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


def Generator(size: int = IMAGE_SIZE, base: int = BASE_FILTERS) -> keras.Model:
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
    outputs = keras.layers.Conv2DTranspose(
        3, 4, strides=2, padding="same", kernel_initializer=initializer(), activation="tanh"
    )(x)
    return keras.Model(inputs, outputs, name="generator")


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
    f"generator: {len(level_filters(IMAGE_SIZE, BASE_FILTERS))} levels {level_filters(IMAGE_SIZE, BASE_FILTERS)}, "
    f"{probe_g.count_params():,} parameters"
)
print(
    f"discriminator: {probe_d.count_params():,} parameters, "
    f"{probe_d.output_shape[1]}x{probe_d.output_shape[2]} patch verdicts per image"
)

# %% [markdown]
# ## The losses and one training step
#
# The discriminator $D$ learns to tell real pairs $(x, y)$ from generated ones $(x, G(x))$. The
# generator $G$ learns to fool it while staying close to the target in L1:
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


def optimizer():
    return keras.optimizers.Adam(2e-4, beta_1=0.5)


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
    make_train_step(probe_g, probe_d, optimizer(), optimizer()), EAGER_STEPS, pair
)
compiled_rate = steps_per_second(
    tf.function(make_train_step(probe_g, probe_d, optimizer(), optimizer())),
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
# settings that shape the model, so changing them starts a fresh run.


# %%
def train(gap: int, steps: int, label: str, snapshot_at: int | None = None):
    settings = {
        "size": IMAGE_SIZE,
        "base": BASE_FILTERS,
        "gap": gap,
        "seed": SEED,
        "shots": film_split["train"],
    }
    tag = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:10]
    folder = OUT / f"checkpoints-{label}-{tag}"
    runtime.seed_everything(SEED)  # the same start whatever ran before in this session
    generator, discriminator = Generator(), Discriminator()
    g_opt, d_opt = optimizer(), optimizer()
    step = tf.Variable(0, dtype=tf.int64)
    seconds = tf.Variable(0.0, dtype=tf.float64)
    checkpoint = tf.train.Checkpoint(
        generator=generator,
        discriminator=discriminator,
        g_optimizer=g_opt,
        d_optimizer=d_opt,
        step=step,
        seconds=seconds,
    )
    manager = tf.train.CheckpointManager(checkpoint, folder, max_to_keep=2)
    if manager.latest_checkpoint:
        checkpoint.restore(manager.latest_checkpoint).expect_partial()
        print(
            f"{label}: resumed from {Path(manager.latest_checkpoint).name} at step {int(step)}"
        )
    train_step = tf.function(make_train_step(generator, discriminator, g_opt, d_opt))
    history = []
    todo = steps - int(step)
    started = time.perf_counter()
    for source, target in runtime.progress(
        pair_stream(gap).take(max(todo, 0)), total=max(todo, 0), desc=label
    ):
        losses = train_step(source, target)
        step.assign_add(1)
        history.append({k: float(v) for k, v in losses.items()})
        if snapshot_at is not None and int(step) == snapshot_at:
            tf.train.Checkpoint(generator=generator).write(
                str(folder / "early" / "generator")
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


generator, history, train_seconds, checkpoint_folder = train(
    1, STEPS, "gap1", snapshot_at=EARLY_STEP
)
if len(history):
    history.rolling(max(1, len(history) // 50)).mean().plot(
        subplots=True, figsize=(10, 4), title="training losses"
    )
    plt.show()

# %% [markdown]
# ## One step ahead, on the held-out shot
#
# Each frame of the held-out shot is predicted from the true frame before it. The baselines of
# chapter 02 get the same frames (linear and flow need two, so the first prediction of the shot
# is left out for everyone).


# %%
def to_model(frame: np.ndarray) -> tf.Tensor:
    """A frame in [0, 1] (H, W, 3) as a batch of one in [-1, 1]."""
    return tf.convert_to_tensor(frame[None] * 2.0 - 1.0, dtype=tf.float32)


def set_dropout(model, rate: float) -> None:
    """Switch the Dropout layers (inside the blocks too) on or off without touching BatchNorm."""
    for layer in getattr(model, "layers", []):
        if isinstance(layer, keras.layers.Dropout):
            layer.rate = rate
        set_dropout(layer, rate)


_inference = {}


def generate(
    model: keras.Model, frame: np.ndarray, training: bool = True, dropout: bool = True
) -> np.ndarray:
    """One generated frame in [0, 1]. training=True uses each image's own BatchNorm statistics,
    which is why frames are generated one at a time: in a batch they would share statistics.
    Each (model, training, dropout) combination is traced once into a graph, with the dropout
    rate it had then."""
    key = (id(model), training, dropout)
    if key not in _inference:
        set_dropout(model, 0.5 if dropout else 0.0)
        _inference[key] = tf.function(lambda x: model(x, training=training))
        spec = tf.TensorSpec([1, IMAGE_SIZE, IMAGE_SIZE, 3], tf.float32)
        _inference[key].get_concrete_function(spec)
        set_dropout(model, 0.5)
    out = _inference[key](to_model(frame)).numpy()[0]
    return np.clip((out + 1.0) / 2.0, 0.0, 1.0)


film = frames.astype(np.float64) / 255.0
shot = film[test_positions]
truth_next = shot[2:]
predictors = {"pix2pix": lambda c: generate(generator, c[-1]), **baselines.BASELINES}
one_step = {name: rollout.one_step(p, shot, 2)[0] for name, p in predictors.items()}
one_step_scores = pd.DataFrame(
    {name: metrics.pixel_scores(pred, truth_next) for name, pred in one_step.items()}
).T
one_step_scores.round(4)

# %%
show = np.linspace(0, len(truth_next) - 1, 5).astype(int)
viz.show_frames(
    np.concatenate([truth_next[show], one_step["pix2pix"][show]]),
    [f"truth #{i + 2}" for i in show] + [f"pix2pix #{i + 2}" for i in show],
    cols=5,
    size=1.9,
)
plt.show()

# %%
if PROFILE != "smoke":  # 30 smoke steps train nothing; the claim is for the real profiles
    assert one_step_scores.loc["pix2pix", "psnr"] > one_step_scores.loc["linear", "psnr"], (
        "one step ahead on the held-out shot, pix2pix must beat linear extrapolation"
    )
for name in baselines.BASELINES:
    gap = one_step_scores.loc["pix2pix", "psnr"] - one_step_scores.loc[name, "psnr"]
    print(f"pix2pix against {name}: {gap:+.2f} dB")

# %% [markdown]
# pix2pix beats linear extrapolation one step ahead; whether it also beats copying the last
# frame, or the flow extrapolation, depends on how long and how large it trains (the lines above
# give this run's gaps). Copy-last is a strong opponent one step ahead (chapter 02): the model
# must learn to reproduce a whole frame to within a few grey levels before its sense of motion
# can pay off, and flow gets the motion of rigid objects right for free.
#
# ## What the frame stride teaches the model
#
# The same model trained on pairs `LONG_GAP` frames apart learns a different task: a bigger
# jump, whose exact outcome the input frame cannot tell. How much does each model change the
# frame it is given, and how does each do at predicting the very next frame?

# %%
generator_long, *_ = train(LONG_GAP, LONG_GAP_STEPS, f"gap{LONG_GAP}")
long_pred = np.stack([generate(generator_long, f) for f in shot[1:-1]])
gap_table = pd.DataFrame(
    {
        f"trained at gap {gap}": {
            "mean |output - input|": float(np.abs(pred - shot[1:-1]).mean()),
            "sharpness": metrics.sharpness(pred),
            "PSNR on the next frame": psnr,
            "training steps": steps,
        }
        for gap, pred, psnr, steps in (
            (1, one_step["pix2pix"], one_step_scores.loc["pix2pix", "psnr"], STEPS),
            (LONG_GAP, long_pred, metrics.psnr(long_pred, truth_next), LONG_GAP_STEPS),
        )
    }
)
gap_table.round(4)

# %%
i = len(show) // 2
viz.show_frames(
    [
        shot[1 + show[i]],
        truth_next[show[i]],
        one_step["pix2pix"][show[i]],
        long_pred[show[i]],
    ],
    ["input", "true next frame", "trained at gap 1", f"trained at gap {LONG_GAP}"],
    size=2.4,
)
plt.show()

# %% [markdown]
# The model trained on distant pairs changes its input more and predicts the next frame worse:
# it learned to guess where things will be a third of a second later, and, unsure, it hedges.
# With an every-100th-frame extraction the "next" frame of this film lies in another shot
# (chapter 01, section 3), and the model learns to blur scenes into each other.
#
# ## The BatchNorm switch
#
# Keras layers take a `training` flag. For BatchNorm it chooses the statistics that normalise
# each channel: with `training=True`, the mean and variance of the current batch; with
# `training=False`, running averages collected during training. At batch size 1 the "batch" is
# one image, so during training every image was normalised by *its own* statistics (instance
# normalisation). The running averages mix the statistics of many different images, match none
# of them, and shift every channel: generated frames can come out darker, or washed out. The
# tutorial therefore generates with `training=True`, and so do we. How much it matters depends
# on how far the running averages are from each image's own statistics; we measure it at step
# `EARLY_STEP` and at the end of training:

# %%
early = Generator()
early_path = checkpoint_folder / "early" / "generator"
if early_path.with_suffix(".index").exists():
    tf.train.Checkpoint(generator=early).read(str(early_path)).expect_partial()
    models = {f"step {EARLY_STEP}": early, f"step {STEPS}": generator}
else:  # the run resumed past the snapshot step without it: compare the final model only
    models = {f"step {STEPS}": generator}
bn_rows, bn_pictures, bn_titles = {}, [], []
for label, model in models.items():
    for training in (True, False):
        pred = np.stack(
            [generate(model, f, training=training, dropout=False) for f in shot[1:-1]]
        )
        bn_rows[label, f"training={training}"] = {
            "PSNR": metrics.psnr(pred, truth_next),
            "mean brightness": float(pred.mean()),
            "contrast (std)": float(pred.std()),
        }
        bn_pictures.append(pred[show[i]])
        bn_titles.append(f"{label}, training={training}")
bn_table = pd.DataFrame(bn_rows).T
bn_table.loc[("truth", ""), :] = [np.nan, float(truth_next.mean()), float(truth_next.std())]
viz.show_frames(bn_pictures, bn_titles, size=2.2)
plt.show()
for label in models:
    loss = (
        bn_table.loc[(label, "training=True"), "PSNR"]
        - bn_table.loc[(label, "training=False"), "PSNR"]
    )
    print(f"{label}: generating with training=False costs {loss:.2f} dB of PSNR")
bn_table.round(4)

# %% [markdown]
# In this run the switch costs a fraction of a dB to about a dB, a small brightness shift and a
# little contrast: the running averages had settled. They settle less when the frames of a
# film differ a lot from each other, and with the momentum BatchNorm uses, they lag any
# change in the generator during training.
#
# Dropout is the other layer that obeys the flag. The tutorial keeps it on when generating,
# as a source of variety. One frame at a time that is harmless; in a rollout it makes every
# step a fresh random draw, which adds frame-to-frame change that is not motion. Two rollouts
# from the same start, batch statistics in both, dropout on and off:

# %%
start = shot[:1]
flicker_steps = min(len(shot) - 1, 30)
with_dropout = rollout.rollout(
    lambda c: generate(generator, c[-1], dropout=True), start, flicker_steps
)
without_dropout = rollout.rollout(
    lambda c: generate(generator, c[-1], dropout=False), start, flicker_steps
)


flicker = pd.DataFrame(
    {
        "true clip": {
            "frame-to-frame change": metrics.frame_change(shot[: flicker_steps + 1]),
            "warping error": metrics.warping_error(shot[: flicker_steps + 1]),
        },
        "dropout on": {
            "frame-to-frame change": metrics.frame_change(with_dropout.frames),
            "warping error": metrics.warping_error(with_dropout.frames),
        },
        "dropout off": {
            "frame-to-frame change": metrics.frame_change(without_dropout.frames),
            "warping error": metrics.warping_error(without_dropout.frames),
        },
    }
).T
print(
    "dropout adds "
    f"{flicker.loc['dropout on', 'frame-to-frame change'] - flicker.loc['dropout off', 'frame-to-frame change']:+.4f}"
    " mean frame-to-frame change and "
    f"{flicker.loc['dropout on', 'warping error'] - flicker.loc['dropout off', 'warping error']:+.4f}"
    " warping error to the rollout"
)
flicker.round(4)

# %% [markdown]
# ## The rollout-feedback bug
#
# To make a video, each output must become the next input. The bug that froze the original
# project's videos was a loop that computed every frame from the *first* frame. (Dropout is
# off here, so that any motion comes from the loop; with it on, the buggy frames would differ
# only by the dropout noise measured above.)

# %%
first = shot[0]
buggy_frames = []
frame = first
for _ in range(flicker_steps):
    output = generate(
        generator, first, dropout=False
    )  # BUG: should be generate(generator, frame)
    buggy_frames.append(output)
    frame = output  # updated, but never used
buggy_frames = np.stack(buggy_frames)
fixed = without_dropout.frames  # helpers.rollout feeds every output back in

feedback = pd.Series(
    {
        "true clip": flicker.loc["true clip", "frame-to-frame change"],
        "buggy loop": metrics.frame_change(buggy_frames),
        "fixed loop (helpers.rollout)": flicker.loc["dropout off", "frame-to-frame change"],
    },
    name="mean frame-to-frame change",
)
print(feedback.round(4).to_string())
viz.show_sequences(
    {"truth": shot[1 : flicker_steps + 1], "buggy loop": buggy_frames, "fixed loop": fixed},
    fps=6,
    scale=2,
    save_to=OUT / "feedback_bug.gif",
)

# %% [markdown]
# The buggy loop repeats one frame: the video stands still. `helpers.rollout`
# cannot be written this way, and it refuses a predictor that ignores its input, which is how
# the bug looks from the outside:

# %%
assert feedback["buggy loop"] < 0.5 * feedback["true clip"], (
    "the buggy loop must be nearly static"
)
assert feedback["fixed loop (helpers.rollout)"] > 2 * feedback["buggy loop"], (
    "the fixed loop must move"
)
try:
    rollout.rollout(lambda context: generate(generator, first), start, steps=3)
except rollout.FeedbackError as error:
    print("helpers.rollout refused it:", error)

# %% [markdown]
# ## Drift: how long does the film stay on track?
#
# Rollouts from the first frames of the held-out shot, for as long as the shot lasts, against
# the baselines of chapter 02 (which start from the first two frames):

# %%
horizon = len(shot) - 2
truth_rollout = shot[2 : 2 + horizon]
drift_runs = {
    "pix2pix": rollout.rollout(
        lambda c: generate(generator, c[-1], dropout=False), shot[1:2], horizon
    )
}
for name, predictor in baselines.BASELINES.items():
    drift_runs[name] = rollout.rollout(predictor, shot[:2], horizon)
drift_tables = {
    name: rollout.drift(run.frames, truth_rollout) for name, run in drift_runs.items()
}
fig, axes = plt.subplots(1, 2, figsize=(11, 3.2))
for name, table in drift_tables.items():
    axes[0].plot(table.index, table["psnr"], marker=".", label=name)
    axes[1].plot(table.index, table["ssim"], marker=".", label=name)
axes[0].set(xlabel="step", ylabel="PSNR (dB)", title=f"rollout on {test_shot}")
axes[1].set(xlabel="step", ylabel="SSIM")
axes[0].legend()
plt.tight_layout()
plt.show()
_ = rollout.save_comparison(
    truth_rollout, drift_runs["pix2pix"].frames, OUT / "pix2pix_rollout_held_out"
)

# %% [markdown]
# ## After the film ends
#
# The experiment the project was named for: start from the last frame of the clip and let the
# model continue for `LONG_ROLLOUT` frames, with no truth to compare against. What the model
# settles into tells what it learned: motion it keeps up, colours it drifts towards, detail it
# loses.

# %%
ending = film[-1:]
after = rollout.rollout(
    lambda c: generate(generator, c[-1], dropout=False),
    ending,
    LONG_ROLLOUT,
    show_progress=True,
)
mp4 = video.write_mp4(after.frames, OUT / "after_the_end.mp4", fps=25)
gif = video.write_gif(after.frames, OUT / "after_the_end.gif", fps=12)
stats = pd.DataFrame(
    {
        "frame-to-frame change": np.r_[
            np.nan, metrics.frame_change(after.frames, per_frame=True)
        ],
        "mean brightness": after.frames.mean(axis=(1, 2, 3)),
    },
    index=pd.RangeIndex(1, LONG_ROLLOUT + 1, name="generated frame"),
)
stats.plot(
    subplots=True,
    figsize=(10, 4),
    title=f"{LONG_ROLLOUT} frames after the end of bikes.mp4",
)
plt.show()
picks = np.linspace(0, LONG_ROLLOUT - 1, 8).astype(int)
after_strip = viz.show_frames(
    np.concatenate([ending, after.frames[picks]]),
    ["last real frame"] + [f"+{p + 1}" for p in picks],
    size=1.6,
)
viz.glue("after_the_end", after_strip)  # shown again at the top of the page
plt.show()
print(
    f"{LONG_ROLLOUT} frames at {after.fps:.1f} frames/s; saved {mp4.name} and {gif.name} in "
    f"{runtime.display_path(OUT)}"
)

# %% [markdown]
# The other way to use the model is not to let it run free but to give it **every true frame as
# input** and show its one-step predictions side by side with the film: what the model would do
# next at each moment.

# %%
every = np.stack([generate(generator, f, dropout=False) for f in film[:-1]])
side_by_side = np.concatenate([film[1:], every], axis=2)
video.write_mp4(side_by_side, OUT / "every_frame_as_input.mp4", fps=25)
viz.show_sequences(
    {"truth": film[1:][::3], "one step from the true frame": every[::3]}, fps=8, scale=2
)
print(
    f"one-step PSNR over the whole clip (training shots included): {metrics.psnr(every, film[1:]):.2f} dB"
)

# %% [markdown]
# ## Results
#
# One record for pix2pix and one per baseline on the same held-out shot and frame size, so the
# benchmark chapter compares like with like.

# %%
dataset = f"bikes@{IMAGE_SIZE}px"
for name in one_step:
    run, table = drift_runs[name], drift_tables[name]
    is_model = name == "pix2pix"
    results.write_result(
        CHAPTER,
        name,
        dataset,
        split=f"held-out shot {test_shot}",
        protocol=f"one-step on the held-out shot; rollout of {horizon} frames from its start",
        profile=PROFILE,
        device=DEVICE_USED,
        weights=f"trained here, {STEPS} steps" if is_model else "none",
        parameters=generator.count_params() if is_model else 0,
        training_seconds=train_seconds if is_model else 0.0,
        generation_fps=run.fps,
        metrics={
            **one_step_scores.loc[name].to_dict(),
            "rollout_psnr": float(table["psnr"].mean()),
            "rollout_ssim": float(table["ssim"].mean()),
        },
        horizons=table.reset_index().to_dict("records"),
        notes=(
            f"U-Net base {BASE_FILTERS}; training steps/s compiled {compiled_rate:.2f}, eager {eager_rate:.2f}"
            if is_model
            else "baseline scored on the same frames"
        ),
    )
registry = results.results_table(results.load_results(chapter=CHAPTER, profile=PROFILE))
registry[
    [
        "model",
        "dataset",
        "psnr",
        "ssim",
        "rollout_psnr",
        "training_seconds",
        "generation_fps",
    ]
].round(3)

# %% [markdown]
# ## Exercises
#
# 1. Train with `training=False` in `generate` from the start of this chapter. Which scores move
#    most: PSNR, brightness or contrast?
# 2. Replace BatchNorm in the generator by `keras.layers.GroupNormalization(groups=-1)` (instance
#    normalisation). Does the `training` flag still matter?
# 3. Make the generator predict the *change*: output `source + tanh(...)` instead of
#    `tanh(...)`. How does one-step PSNR compare with copy-last after the same number of steps?
# 4. Train on pairs that cross the cuts (gap 100 over the whole clip, ignoring shots), as an
#    every-100th-frame extraction would. What does the long rollout look like?
