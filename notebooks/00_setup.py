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
# # 00 · Setup: profiles, devices, weights, and how to run a chapter
#
# Every chapter of this course runs in three places: in your browser on Colab, on your own
# machine, and in the automatic build that produces this book. This chapter shows the few
# pieces that make that possible (profiles that size each run, a device choice that falls back
# to the CPU, seeds that make runs repeatable, checkpoints that let long training resume, and a
# weights policy that is honest about what a model without pretrained weights can show), and
# the three ways to run any chapter.
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/frame-by-frame-course/video-generation/blob/main/notebooks/00_setup.ipynb)

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
DEVICE = "auto"  # auto | cpu | cuda | mps
RESUME_STEPS = 200  # training steps of the checkpoint-and-resume demonstration

# %% [markdown]
# Every chapter checks its parameters before any work starts. `parameters.check` compares each
# value with the rule written next to its name and, if one does not fit, stops the chapter at
# once with one line that names the parameter, the value given and the values it accepts.

# %%
from helpers import parameters

parameters.check(
    globals(),
    PROFILE=parameters.profile(),
    SEED=parameters.seed(),
    DEVICE=parameters.device(),
    RESUME_STEPS=parameters.multiple_of(
        20,
        20,
        why="section 5 stops at RESUME_STEPS // 2, and checkpoints come every 10 steps",
    ),
)

# %% [markdown]
# ## What you will build
#
# A map of the course, drawn from the chapters that exist in this checkout: the data
# chapters feed every model family, and every family reports to the benchmark.

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display

from helpers import claims, course, metrics, pretrained, runtime, training

chapters = course.chapters()
benchmark = chapters[-1]  # the benchmark is always the last chapter
positions = {"00": (0, 0.0), "01": (1, 0.0), "02": (2, 0.0), benchmark.number: (4, 0.0)}
families = [c for c in chapters if c.number not in positions]
row_height = 0.55
for i, c in enumerate(
    families
):  # one column of model families, centred on the data chapters
    positions[c.number] = (3, ((len(families) - 1) / 2 - i) * row_height)
half_height = max(1.0, (len(families) - 1) / 2 * row_height + 0.5)
fig, ax = plt.subplots(figsize=(11, 1.0 + 1.2 * half_height))
ax.axis("off")
for c in chapters:
    x, y = positions[c.number]
    title = c.slug[3:].replace("_", " ")
    ax.text(
        x,
        y,
        f"{c.number}\n{title}",
        ha="center",
        va="center",
        fontsize=8,
        bbox={
            "boxstyle": "round",
            "fc": "#d8f3dc" if c.written else "#eeeeee",
            "ec": "#2d6a4f" if c.written else "#999999",
        },
    )
for a, b in (
    [("00", "01"), ("01", "02")]
    + [("02", f.number) for f in families]
    + [(f.number, benchmark.number) for f in families]
):
    (x0, y0), (x1, y1) = positions[a], positions[b]
    ax.annotate(
        "",
        (x1 - 0.33, y1),
        (x0 + 0.33, y0),
        arrowprops={"arrowstyle": "->", "color": "#666666", "lw": 0.8},
    )
ax.set_xlim(-0.5, 4.5)
ax.set_ylim(-half_height, half_height)
coming = [c.number for c in chapters if not c.written]
ax.set_title(
    "The course's chapters and what each builds on"
    + (f" (grey: coming next, {', '.join(coming)})" if coming else ""),
    fontsize=10,
)
plt.show()

# %% [markdown]
# ## 1. The machine you are on
#
# `runtime.environment_report()` lists what matters for reproducing a number: Python and the
# library versions, the CPU model and its widest instruction set (the vector instructions, such as
# AVX-512, that the maths libraries pick their code by), the thread counts the frameworks compute
# with (*intra-op* threads share the work of one operation, such as a matrix product; *inter-op*
# threads run independent operations side by side), and the device. Every result a chapter writes
# to the *results registry* (one JSON file per model run under `build/results/<profile>/`, which
# the benchmark chapter reads) records the same facts.

# %%
runtime.seed_everything(SEED)  # pins the thread counts (section 4) before they are reported
report = runtime.environment_report()
pd.DataFrame(report.items(), columns=["what", "here"]).set_index("what")

# %% [markdown]
# ## 2. Profiles: one notebook, three sizes
#
# The book runs every chapter with *{term}`papermill`*, a tool that executes a notebook from top to
# bottom after writing the parameter values you give it into the notebook. A *profile* is a
# papermill parameter file in `notebooks/profiles/`. It holds every knob that changes between a
# quick check and a full run: image size, training steps, number of sequences. Each chapter
# declares those knobs in one cell tagged `parameters` (the first code cells above the map hold it and its check), and nothing
# else in the chapter hard-codes them.
#
# | profile | where it runs | what it is for |
# |---|---|---|
# | `smoke` | `make test`, CI (the automatic checks run on every change) | every cell runs at tiny sizes, seconds per chapter |
# | `cpu` | `make book`, an ordinary CPU (2 cores will do) | honest, small results on real frames in minutes |
# | `gpu` | Colab (T4 upward) or your GPU | full-size results, pretrained weights when online |
#
# The defaults written in each chapter's parameters cell are the `cpu` values, so opening a
# chapter in Jupyter or Colab and running it top to bottom repeats the computation of the book's
# `cpu` pages. Whether it repeats their numbers to the last digit depends on your machine:
# section 4 says exactly when, and measures what changing one thread count does.
# Here are all the knobs, side by side (in the book the table is folded: open it to see every
# row):

# %%
rows = {}
for name in runtime.PROFILES:
    data = runtime.load_profile(name)
    for chapter, values in data.items():
        for key, value in (values or {}).items():
            rows.setdefault((chapter, key), {})[name] = value
knobs = pd.DataFrame.from_dict(rows, orient="index")
knobs.index.names = ["chapter", "parameter"]
per_chapter = knobs.drop(index="common", level="chapter")
differ = per_chapter.astype(str).nunique(axis=1) > 1
claims.say(
    f"{len(per_chapter)} knobs in {per_chapter.index.get_level_values('chapter').nunique()} "
    f"chapters, plus {len(knobs) - len(per_chapter)} common to all; {int(differ.sum())} of the "
    f"{len(per_chapter)} take different values in the {len(runtime.PROFILES)} profiles."
)

# %% tags=["hide-output"]
with pd.option_context("display.max_rows", None, "display.max_colwidth", None):
    display(knobs)

# %% [markdown]
# A chapter reads its values like any variable. This run's:

# %%
print(f"profile={PROFILE}  seed={SEED}  device={DEVICE}  resume steps={RESUME_STEPS}")

# %% [markdown]
# ## 3. Devices, with a CPU fallback
#
# `runtime.select_device("auto")` picks CUDA, then Apple's MPS, then the CPU. Asking for a
# device that is not there does not crash the chapter: it warns and uses the CPU, so a chapter
# written for a GPU still runs on a machine without one, on its CPU.

# %%
import torch

device = runtime.select_device(DEVICE)
print("this chapter runs on:", device)

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    fallback = runtime.select_device("cuda")
print(
    "asking for cuda gives:",
    fallback,
    "|",
    caught[0].message if caught else "no warning: CUDA is here",
)
assert fallback == "cuda" or (fallback == "cpu" and caught), (
    "a missing GPU must fall back to the CPU with a warning"
)

# %% [markdown]
# How fast is this device? A product of two 1024 x 1024 matrices, timed after a warm-up, in
# GFLOP/s: billions of floating-point operations per second (a product of two n x n matrices
# takes $2n^3$ of them).

# %%
import time

a = torch.randn(1024, 1024, device=device)
(a @ a).sum().item()
started = time.perf_counter()
for _ in range(10):
    (a @ a).sum().item()
seconds = (time.perf_counter() - started) / 10
print(
    f"{device}: {2 * 1024**3 / seconds / 1e9:.1f} GFLOP/s on a 1024x1024 float32 matrix product "
    f"({1000 * seconds:.1f} ms each)"
)

# %% [markdown]
# ## 4. Seeds: the same seed gives the same numbers
#
# `runtime.seed_everything(seed)` seeds Python, NumPy and PyTorch (and TensorFlow in the
# chapter that uses it), asks the frameworks for deterministic kernels, and pins the number of
# threads they compute with: every CPU core this process may use, unless you pass `threads=` or
# set the environment variable `COURSE_THREADS` (TensorFlow fixes its counts when it starts, so
# `runtime.import_tensorflow()` pins them as it imports it). It returns the counts it set.
#
# The promise, precisely: **the same seed, on the same type of CPU (the same instruction set),
# with the same thread counts and the same library versions, gives identical numbers**, to the
# last bit. Change one of them and numbers may change: another CPU or thread count makes the
# vector kernels add numbers in another order, which moves a result in its last digits, and
# training feeds each step's result into the next, so a trained model can end up further apart.
# On a GPU, some kernels are not deterministic even on the same machine (PyTorch's notes on
# reproducibility list them; exercise 3 tries one). Every results record stores what the promise
# depends on; on this machine:

# %%
thread_counts = runtime.seed_everything(SEED)
print("threads pinned:", thread_counts)
report_now = runtime.environment_report()
reproducibility_rows = [
    "cpu",
    "cpu instruction set",
    "torch cpu kernels",
    "torch threads",
    "torch",
    "numpy",
]
pd.Series(
    {row: report_now[row] for row in reproducibility_rows if row in report_now}, name="here"
).to_frame()


# %%
def draw() -> tuple[float, float, float]:
    runtime.seed_everything(SEED)
    return (
        float(np.random.rand()),
        torch.rand(1).item(),
        torch.nn.Linear(4, 1).weight.sum().item(),
    )


first, second = draw(), draw()
print("first run: ", first)
print("second run:", second)
assert first == second, "seeding must make runs repeatable"

# %% [markdown]
# Random draws are the easy part. A training run adds up millions of numbers, and how a
# framework splits a sum between threads decides the order of the additions. Below, a small
# network (with {term}`BatchNorm`, whose mean and variance are sums over the batch) takes a few Adam
# steps three times: twice with this machine's thread count, once with another.

# %%
BRIEF_STEPS = 5


def train_briefly(threads: int, steps: int = BRIEF_STEPS) -> tuple[torch.Tensor, float]:
    """A few Adam steps on fixed random data; the weights (flattened) and the last loss."""
    runtime.seed_everything(SEED, threads=threads)
    model = torch.nn.Sequential(
        torch.nn.Linear(64, 256),
        torch.nn.BatchNorm1d(256),
        torch.nn.Tanh(),
        torch.nn.Linear(256, 64),
    )
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(1024, 64)
    y = torch.sin(3 * x)
    for _ in range(steps):
        loss = torch.nn.functional.mse_loss(model(x), y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return torch.cat([p.detach().flatten() for p in model.parameters()]), loss.item()


def threads_label(count: int) -> str:
    return f"{count} thread" + ("" if count == 1 else "s")


threads_here = runtime.course_threads()
threads_other = 1 if threads_here > 1 else 2
here, again, other = (
    threads_label(threads_here),
    threads_label(threads_here) + ", again",
    threads_label(threads_other),
)
runs = {
    here: train_briefly(threads_here),
    again: train_briefly(threads_here),
    other: train_briefly(threads_other),
}
runtime.seed_everything(SEED)  # back to this machine's thread count
reference, reference_loss = runs[here]
comparison = pd.DataFrame(
    {
        name: {
            "last loss (MSE)": f"{loss:.10f}",
            "weights that differ": f"{int((weights != reference).sum()):,} of {reference.numel():,}",
            "largest weight difference": float((weights - reference).abs().max()),
        }
        for name, (weights, loss) in runs.items()
    }
).T
print(comparison.to_string())
assert torch.equal(runs[again][0], reference) and runs[again][1] == reference_loss, (
    "the same seed and the same threads on the same machine must repeat to the bit"
)
other_weights, other_loss = runs[other]
weights_differing = int((other_weights != reference).sum())
if weights_differing == 0 and other_loss == reference_loss:
    measured = (
        f"Here {other} instead of {here} left all {reference.numel():,} weights and the loss "
        f"unchanged after {BRIEF_STEPS} steps: these kernels did not split their sums "
        "differently, but on another machine or with a larger model they may."
    )
else:
    measured = (
        f"Here {other} instead of {here}, with the same seed on the same machine, changed "
        f"{weights_differing:,} of the {reference.numel():,} weights (by up to "
        f"{float((other_weights - reference).abs().max()):.1e}) and the last loss by "
        f"{abs(other_loss - reference_loss):.1e} after {BRIEF_STEPS} steps."
    )
claims.say(
    f"{measured} So a chapter repeats the numbers of its page to the last digit only when all "
    f"of these match the page's: the seed ({SEED}), the CPU type ({report_now['cpu']}, "
    f"{report_now['cpu instruction set']} instructions), the thread count ({threads_here}) and "
    f"the library versions (torch {report_now['torch']}, numpy {report_now['numpy']}; section 1 "
    "lists the rest). Change any of them and the numbers may change: by a little in a short "
    "run like this one, possibly by more after a long training. That is why every sentence with "
    "a number in this book is written by the run that printed it (section 8)."
)

# %% [markdown]
# ## 5. Checkpoints: load if it exists, else train
#
# Training in later chapters takes long enough that a session may end in the middle. Every
# training loop saves a checkpoint (model, optimiser, step, loss history) now and then, and
# starts by loading the latest one if it exists. `training.save_checkpoint` writes atomically:
# a crash in the middle of saving leaves the previous checkpoint intact.
#
# Below, a small network learns $y = \sin(3x)$. We stop it halfway, as if the machine had
# gone away, then run the same loop again: it resumes from the checkpoint. Because the data
# order and the optimiser state come back too, the resumed run ends with exactly the weights
# of a run that was never interrupted.

# %%
checkpoint_dir = runtime.build_dir("00_setup", PROFILE)


def train(
    steps: int, checkpoint: Path, stop_after: int | None = None, every: int = 10
) -> dict:
    runtime.seed_everything(SEED)
    model = torch.nn.Sequential(
        torch.nn.Linear(1, 32), torch.nn.Tanh(), torch.nn.Linear(32, 1)
    )
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    generator = torch.Generator().manual_seed(SEED)
    state = training.load_checkpoint(checkpoint)
    start, losses = 0, []
    if state is not None:  # resume: weights, optimiser moments, data order and history
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        generator.set_state(state["generator"])
        start, losses = state["step"], state["losses"]
    for step in runtime.progress(
        range(start, steps), desc=f"training from step {start}", leave=False
    ):
        x = torch.rand(64, 1, generator=generator) * 4 - 2
        loss = torch.nn.functional.mse_loss(model(x), torch.sin(3 * x))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
        if (step + 1) % every == 0 or step + 1 == steps:
            training.save_checkpoint(
                checkpoint,
                {
                    "model": model.state_dict(),
                    "optimiser": optimiser.state_dict(),
                    "generator": generator.get_state(),
                    "step": step + 1,
                    "losses": losses,
                },
            )
        if stop_after is not None and step + 1 == stop_after:
            break
    return {"model": model, "losses": losses, "started_at": start}


for name in ("interrupted.pt", "uninterrupted.pt"):
    (checkpoint_dir / name).unlink(missing_ok=True)
half = RESUME_STEPS // 2
first_part = train(RESUME_STEPS, checkpoint_dir / "interrupted.pt", stop_after=half)
resumed = train(RESUME_STEPS, checkpoint_dir / "interrupted.pt")
straight = train(RESUME_STEPS, checkpoint_dir / "uninterrupted.pt")
print(
    f"first run stopped at step {half}; the second run started at step {resumed['started_at']}"
)

fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(straight["losses"], label="uninterrupted", lw=3, alpha=0.4)
ax.plot(resumed["losses"], label="stopped at half, resumed", lw=1)
ax.axvline(half, color="grey", ls=":")
ax.set(xlabel="step", ylabel="MSE", yscale="log", title="Resuming continues the same run")
ax.legend()
plt.show()

pairs = zip(resumed["model"].parameters(), straight["model"].parameters(), strict=True)
same = all(torch.equal(p, q) for p, q in pairs)
print("resumed weights equal the uninterrupted run's:", same)
assert resumed["started_at"] == half, "the second run must resume, not start over"
assert same, "a resumed run must end exactly where an uninterrupted run ends"

# %% [markdown]
# ## 6. Weights: online when possible, honest when not
#
# Chapters that build on pretrained networks ({term}`Stable Diffusion`, {term}`CLIP`) take a weights
# parameter: a model hub id (the name of a model on the Hugging Face hub), a local folder, `auto`
# (the hub when it answers, else tiny) or `tiny`. With network access they load the real weights
# through the library's own loader (`from_pretrained`, `open_clip.create_model_and_transforms`).
# Without it they build the same architecture from a small local configuration, and label
# everything it makes: **tiny offline weights: checks the pipeline, not the quality**. A score
# computed from random weights is never printed as if it measured quality. Here is the plan for
# the CLIP encoder that chapter 02 scores frames with, on this machine:

# %%
plan = pretrained.plan_weights("auto", default_hub_id=metrics.CLIP_HUB_ID)
print("chapter 02's CLIP, metrics.CLIP_HUB_ID:", metrics.CLIP_HUB_ID)
print("model hub reachable:", pretrained.hub_reachable())
with pd.option_context("display.max_colwidth", None):
    display(pd.Series(plan, name="weights plan").to_frame())

# %% [markdown]
# ## 7. Three ways to run a chapter
#
# **1. The whole book, or one chapter, from a terminal.** In the repository root:
#
# ```bash
# make book                 # every chapter in the cpu profile, then the HTML book
# make book ONLY=01         # just chapter 01 (then rebuilds the book)
# make book PROFILE=gpu     # full-size runs on a GPU machine
# make book PROFILE=gpu ONLY=04 SET="DEVICE=cpu VAE_STEPS=20"   # a profile with values changed
# ```
#
# Each profile keeps its own outputs side by side, so a smoke or gpu run never overwrites the cpu
# one: executed notebooks in `build/executed/<profile>/`, results records in
# `build/results/<profile>/`, the book in `build/book/<profile>/_build/html/`. Every page of a
# book says at its top which profile's run it shows.
#
# **2. With papermill directly**, giving any knob on the command line (`-p NAME VALUE`). Each
# chapter is a pair of files: `NN_slug.py`, the source you edit, and `NN_slug.ipynb`, the
# notebook papermill and Colab run. *{term}`jupytext`*, a tool that keeps a notebook and a plain-Python
# copy of it in step, refreshes one from the other:
#
# ```bash
# jupytext --sync notebooks/01_video_to_frames.py          # the .py is the source; refresh the .ipynb
# papermill notebooks/01_video_to_frames.ipynb build/01.ipynb -p FRAME_SIZE 64 -p MNIST_SEQUENCES 20
# ```
#
# **3. Interactively, in JupyterLab or Colab.** Locally, `make lab` opens JupyterLab on
# `notebooks/` with jupytext's contents manager: a chapter's `.py` opens as a notebook, and
# saving writes both halves of the pair (the `.py` you would edit by hand and the `.ipynb`
# papermill and Colab run). On Colab, use the badge at the top of each chapter. Run the cells
# from the top: the first code cell installs the course helpers when they are missing; the
# parameters cell holds the `cpu` values, which you can edit before running (on a Colab GPU,
# copy the `gpu` values from `notebooks/profiles/gpu.yaml`).

# %% [markdown]
# ## 8. Every number on a page comes from its run
#
# Because numbers move with the CPU, the thread count and the library versions, no chapter types
# a measured figure or a comparison into its text: a sentence that was true on the author's
# machine could be contradicted by the numbers printed right above it on yours. Chapters write
# such sentences from the numbers with `helpers.claims`, and assert the claims they rely on
# (with a margin that survives another machine, checked with a second seed and other thread
# counts); a claim that flips with the seed is reported, never asserted. When a model loses to a
# baseline, the page says so. The sentence below is written by the code under it:

# %%
gflops = 2 * 1024**3 / seconds / 1e9
first_loss, last_loss = float(straight["losses"][0]), float(straight["losses"][-1])
claims.say(
    f"On this machine ({runtime.cpu_model()}, {runtime.course_threads()} threads) a 1024x1024 float32 "
    f"matrix product ran at {gflops:.1f} GFLOP/s on {device}, and the small network of section 5 "
    f"{claims.compare(last_loss, first_loss, higher='raised', lower='lowered', same='kept')} its loss "
    f"from {first_loss:.4f} to {last_loss:.4f} in {RESUME_STEPS} steps."
)
claims.holds(straight["losses"][-1] < straight["losses"][0], "training lowers the loss")

# %% [markdown]
# ## Exercises
#
# 1. Run this chapter with papermill and `-p RESUME_STEPS 100`. Which cells change their output?
# 2. Change `train` so that it does *not* restore the generator state on resume. Does the
#    resumed run still match the uninterrupted one? Why not?
# 3. On a machine with a GPU, seed, then add a million random numbers into ten bins on the GPU
#    twice with `torch.zeros(10, device="cuda").index_add_(0, index, values)`. Are the two sums
#    identical to the last bit? Call `torch.use_deterministic_algorithms(True)` first and try
#    again; PyTorch's notes on reproducibility list the operations that behave like this one.
