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
# # 10 · Benchmark: every family on the same clips
#
# Every chapter wrote its results to the registry: one record per model run, with the data,
# the protocol, the profile, the device, the weights, the cost and the scores at every horizon.
# This chapter reads only those records and sets the families side by side on the same footing:
# the course's {term}`Moving MNIST` test sequences (10 frames given, 10 predicted) and its held-out shots
# at 64 pixels (2 frames given, 8 made); quality by horizon, realism, motion and flicker, speed and
# cost. It trains one more model, a reference from the literature that no chapter built: TAU, a convolutional
# predictor of the SimVP family. Published figures stand beside ours, marked as quoted, with the
# conditions they were measured under. It ends with a verdict, written from the tables: which
# family to reach for, for which job.
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/frame-by-frame-course/video-generation/blob/main/notebooks/10_benchmark.ipynb)

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
MNIST_TRAIN_SEQUENCES = 2000  # Moving MNIST training sequences for the reference predictor
MNIST_TEST_SEQUENCES = (
    500  # the course's test sequences (chapters 02 and 04 score the same ones)
)
TAU_HID_S = 32  # channels of the encoder and decoder
TAU_HID_T = 128  # channels of the translator
TAU_SPATIAL_DEPTH = 2  # encoder (and decoder) blocks; every second one halves the frame
TAU_TEMPORAL_DEPTH = 4  # TAU blocks in the translator
TAU_PATCH = 4  # pixels folded into channels first (space to depth)
TAU_BATCH = 16
TAU_STEPS = 1000  # training steps on Moving MNIST
TAU_SHOT_STEPS = 400  # training steps on the course's training shots
TAU_LR = 0.002
FEATURE_STEPS = (
    1800  # the course autoencoder whose latents are the distribution scores' features
)

# %%
# Stop here, in one line, if a value above cannot work (chapter 00 explains the check).
from helpers import parameters

parameters.check(
    globals(),
    PROFILE=parameters.profile(),
    SEED=parameters.seed(),
    DEVICE=parameters.device(),
    MNIST_TRAIN_SEQUENCES=parameters.integer(1),
    MNIST_TEST_SEQUENCES=parameters.integer(2),
    TAU_HID_S=parameters.multiple_of(2, 2, 512, why="group normalisation uses 2 groups"),
    TAU_HID_T=parameters.integer(4, 4096),
    TAU_SPATIAL_DEPTH=parameters.one_of(
        2, 4, why="pairs of blocks, each pair halving the frame once"
    ),
    TAU_TEMPORAL_DEPTH=parameters.integer(1, 32),
    TAU_PATCH=parameters.one_of(1, 2, 4, why="patches must tile the 64-pixel frames"),
    TAU_BATCH=parameters.integer(1),
    TAU_STEPS=parameters.integer(1),
    TAU_SHOT_STEPS=parameters.integer(1),
    TAU_LR=parameters.positive(0.1),
    FEATURE_STEPS=parameters.integer(1),
)

# %%
import math
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import yaml

from helpers import (
    claims,
    datasets,
    metrics,
    results,
    rollout,
    runtime,
    training,
    video_scores,
    viz,
)
from helpers.tau_predictor import TAUPredictor, tau_loss

runtime.seed_everything(SEED)
CHAPTER = "10_benchmark"
OUT = runtime.build_dir(CHAPTER, PROFILE)
device = runtime.select_device(DEVICE)
print(f"PyTorch {torch.__version__} on {device}; outputs in {runtime.display_path(OUT)}")

FAMILIES = {
    "02": "baseline (no learning)",
    "03": "pix2pix GAN",
    "04": "VAE / latent prediction",
    "05": "Stable Diffusion img2img + LoRA",
    "06": "3D U-Net video diffusion",
    "07": "latent video diffusion",
    "08": "music to dance",
    "09": "frame-by-frame flow matching",
    "10": "reference predictor",
}


def family(record: dict) -> str:
    return FAMILIES.get(record["chapter"][:2], record["chapter"])


# No run here measures the noise of PSNR, SSIM or the OpenSTL errors: a row counts as losing to a
# yardstick only when it is worse by more than these margins, and closer rows are ties.
MARGINS = {
    "PSNR": 0.1,
    "SSIM": 0.005,
}  # dB; SSIM units; any other column: 1% of the yardstick
MARGIN_WORDS = (
    "a loss counts when worse by more than 0.1 dB of PSNR, 0.005 of SSIM or 1% of an error"
)


def loses(value: float, reference: float, lower: bool, column: str = "") -> bool:
    """Whether `value` scores worse than `reference` (lower is better when `lower`) by more than
    the column's margin (MARGINS, by the column's first word; else 1% of `reference`)."""
    margin = MARGINS.get(column.split()[0] if column else "", 0.01 * abs(reference))
    return value > reference + margin if lower else value < reference - margin


def losers(values: pd.Series, reference: float, lower: bool, column: str = "") -> list[str]:
    """The rows of `values` that lose to `reference` (see `loses`)."""
    return [m for m, v in values.items() if loses(v, reference, lower, column)]


# %% [markdown]
# ## What the registry holds
#
# Every record of this profile, with where it came from. The weights column says whether a
# number comes from pretrained weights or from tiny offline weights trained here: the second
# checks a pipeline, it does not measure what the method can do.


# %%
def registry(profile: str = PROFILE) -> list[dict]:
    return [r for r in results.load_results(profile=profile) if r["chapter"] != CHAPTER]


records = registry()
chapters_present = sorted({r["chapter"] for r in records})
other_profiles = [p for p in runtime.PROFILES if p != PROFILE and registry(p)]
overview = pd.DataFrame(
    [
        {
            "chapter": r["chapter"][:2],
            "family": family(r),
            "model": r["model"],
            "data": r["dataset"],
            "device": r["device"],
            "weights": "tiny offline" if "tiny offline" in r["weights"] else r["weights"],
            "parameters": f"{r['parameters']:,}",
            "training (s)": r["training_seconds"],
            "frames/s": None if "counts pose frames" in r["notes"] else r["generation_fps"],
            "poses/s": r["generation_fps"] if "counts pose frames" in r["notes"] else None,
        }
        for r in records
    ]
)
missing = [
    n
    for n in ("02", "03", "04", "05", "06", "07", "08", "09")
    if n not in {c[:2] for c in chapters_present}
]
claims.say(
    f"The {PROFILE} registry holds {len(records)} records from chapters "
    f"{', '.join(c[:2] for c in chapters_present) or 'none'}"
    + (
        f"; {'chapters' if len(missing) > 1 else 'chapter'} {', '.join(missing)} "
        f"{'have' if len(missing) > 1 else 'has'} not run in this profile (`make bench` runs what is missing)"
        if missing
        else ""
    )
    + (
        f". Records of other profiles exist too ({', '.join(other_profiles)}); every table below is the {PROFILE} profile's."
        if other_profiles
        else "."
    )
)
if len(overview):
    viz.sortable_table(overview, "registry", digits=1)

# %% [markdown]
# ## A reference from the literature: TAU
#
# The chapters' models were built to teach a family, not to win. To see how far a predictor
# built for the task gets on the same data and machine, the course also trains TAU {cite}`tan2023tau`, a member of the SimVP family
# {cite}`gao2022simvp`: a convolutional encoder applied to every given frame, a *translator* that
# sees all the given frames at once (stacked as channels) and mixes them with TAU's attention (a
# large depthwise receptive field times a squeeze-and-excitation weight per channel), and a decoder
# that writes all the predicted frames in one pass, trained with a squared error plus TAU's
# *differential divergence* (the predicted frame-to-frame changes should be distributed like the
# true ones). No recurrence, no diffusion, no sampling. Its code is in `helpers.tau_predictor`:

# %%
viz.show_code(TAUPredictor.forward, tau_loss)


def build_tau(frames: int, channels: int, out_frames: int | None = None) -> TAUPredictor:
    torch.manual_seed(SEED)
    return TAUPredictor(
        frames,
        channels,
        out_frames=out_frames,
        hid_s=TAU_HID_S,
        hid_t=TAU_HID_T,
        spatial_depth=TAU_SPATIAL_DEPTH,
        temporal_depth=TAU_TEMPORAL_DEPTH,
        patch=TAU_PATCH,
    ).to(device)


SETTINGS = {
    "seed": SEED, "hid_s": TAU_HID_S, "hid_t": TAU_HID_T, "spatial": TAU_SPATIAL_DEPTH,
    "temporal": TAU_TEMPORAL_DEPTH, "patch": TAU_PATCH, "batch": TAU_BATCH, "lr": TAU_LR,
}  # fmt: skip


def train_tau(model, inputs: torch.Tensor, targets: torch.Tensor, steps: int, name: str):
    """Fit TAU on (inputs, targets) windows (N, T, C, H, W) in [0, 1], with a cosine learning rate."""
    optimiser = torch.optim.Adam(model.parameters(), TAU_LR)

    def batch_fn(generator: torch.Generator):
        pick = torch.randint(0, len(inputs), (TAU_BATCH,), generator=generator)
        return inputs[pick].to(device), targets[pick].to(device)

    def loss_fn(net, batch, step):
        for group in optimiser.param_groups:
            group["lr"] = TAU_LR * 0.5 * (1 + math.cos(math.pi * step / steps))
        x, y = batch
        return tau_loss(net(x), y), {}

    run = training.fit(
        model, optimiser, batch_fn, loss_fn, steps,
        training.checkpoint_path(OUT, name, **SETTINGS, data=name, frames=tuple(inputs.shape[1:])),
        seed=SEED, every=250, device=device, desc=name,
    )  # fmt: skip
    return model.eval(), run


# %% [markdown]
# ### On Moving MNIST, 10 frames to 10
#
# Trained on Moving MNIST sequences of its own (digits the test set never shows; the line under
# the code gives their number), scored
# on the same test sequences as chapters 02 and 04 with the same {term}`rollout` code (its 10 frames come
# out in one pass, so the "rollout" asks it once).

# %%
train_mm = (
    torch.from_numpy(
        datasets.moving_mnist(MNIST_TRAIN_SEQUENCES, split="train", seed=SEED)
    ).float()[:, :, None]
    / 255
)
tau_mm, tau_mm_run = train_tau(
    build_tau(10, 1), train_mm[:, :10], train_mm[:, 10:], TAU_STEPS, "tau-moving-mnist"
)
test_mm = (
    datasets.moving_mnist_test_set(MNIST_TEST_SEQUENCES)[..., None].astype(np.float64) / 255
)


def tau_rollout(model, given: np.ndarray) -> np.ndarray:
    """(N, T, H, W, C) given frames -> (N, T_out, H, W, C) predicted, in batches."""
    outs = []
    with torch.no_grad():
        for start in range(0, len(given), 64):
            x = (
                torch.from_numpy(given[start : start + 64])
                .float()
                .permute(0, 1, 4, 2, 3)
                .to(device)
            )
            outs.append(model(x).clamp(0, 1).permute(0, 1, 3, 4, 2).cpu().numpy())
    return np.concatenate(outs).astype(np.float64)


started = time.perf_counter()
tau_pred = tau_rollout(tau_mm, test_mm[:, :10])
tau_fps = tau_pred.shape[0] * tau_pred.shape[1] / (time.perf_counter() - started)
tau_drift = rollout.drift(tau_pred, test_mm[:, 10:])
tau_scores = {
    "openstl_mse": metrics.openstl_mse(tau_pred, test_mm[:, 10:]),
    "openstl_mae": metrics.openstl_mae(tau_pred, test_mm[:, 10:]),
    "mse": float(tau_drift["mse"].mean()),
    "mae": float(tau_drift["mae"].mean()),
    "psnr": float(tau_drift["psnr"].mean()),
    "ssim": float(tau_drift["ssim"].mean()),
}
feature_ae = video_scores.feature_encoder(FEATURE_STEPS, device)
rgb = lambda clips: np.repeat(clips, 3, axis=-1)  # noqa: E731
tau_scores.update(
    video_scores.generation_scores(
        rgb(tau_pred), rgb(test_mm[:, 10:]), feature_ae, fps=10.0, seed=SEED
    )
)
results.write_result(
    CHAPTER, "TAU reference", "moving_mnist", split="test",
    protocol="10 context frames -> 10 predicted (rollout)", profile=PROFILE, device=device,
    weights=f"trained here, {TAU_STEPS} steps", parameters=training.parameter_count(tau_mm),
    training_seconds=tau_mm_run.seconds, generation_fps=tau_fps, metrics=tau_scores,
    horizons=tau_drift.reset_index().to_dict("records"),
    notes=f"{MNIST_TEST_SEQUENCES} test sequences; trained on {MNIST_TRAIN_SEQUENCES} training sequences; trained_horizon 10",
)  # fmt: skip
print(
    f"TAU: {training.parameter_count(tau_mm):,} parameters, {tau_mm_run.seconds:.0f} s of training on "
    f"{len(train_mm):,} sequences, OpenSTL MSE {tau_scores['openstl_mse']:.1f}"
)
course_mm = [r for r in records if r["dataset"] == "moving_mnist" and r["parameters"] > 0]
if course_mm:
    tau_size, tau_seconds = training.parameter_count(tau_mm), tau_mm_run.seconds
    sizes = [r["parameters"] for r in course_mm]
    seconds = [r["training_seconds"] for r in course_mm if r["training_seconds"]]
    claims.say(
        f"TAU has {tau_size / max(sizes):.1f} to {tau_size / min(sizes):.1f} "
        f"times the parameters of the {len(course_mm)} course models on Moving MNIST ({min(sizes):,} to "
        f"{max(sizes):,})"
        + (
            f" and trained {tau_seconds / max(seconds):.1f} to {tau_seconds / min(seconds):.1f} times as long "
            f"({min(seconds):.1f} to {max(seconds):.1f} s)"
            if seconds
            else ""
        )
        + (
            ": it is not at their scale, so what it wins below is partly size and training time."
            if tau_size > max(sizes)
            else "."
        )
    )

# %% [markdown]
# ### On the held-out shots, 2 frames to 8
#
# The same network, reading 2 colour frames and writing 8, trained on every window of the
# training shots at 64 pixels, scored on chapter 02's protocol.

# %%
video, units = datasets.course_frames(64)
train_runs = datasets.unit_runs(units, datasets.course_split(units)["train"])
windows = datasets.clip_windows(train_runs, 10)
shots = (
    torch.from_numpy(video[windows]).permute(0, 1, 4, 2, 3).float() / 255
)  # (N, 10, 3, 64, 64)
tau_shots, tau_shots_run = train_tau(
    build_tau(2, 3, out_frames=8), shots[:, :2], shots[:, 2:], TAU_SHOT_STEPS, "tau-shots"
)
held = video_scores.held_out_clips(64)
shot_pred = tau_rollout(tau_shots, held.context.astype(np.float64) / 255)
shot_masks = np.repeat(held.masks[:, None], held.truth.shape[1], axis=1)
shot_drift = rollout.drift(shot_pred, held.truth, shot_masks)
shot_scores = {
    "psnr": float(shot_drift["psnr"].mean()), "ssim": float(shot_drift["ssim"].mean()),
    "mse": float(shot_drift["mse"].mean()), "mae": float(shot_drift["mae"].mean()),
    "psnr_step1": float(shot_drift["psnr"].iloc[0]),
    **video_scores.generation_scores(shot_pred, held.truth, feature_ae, fps=held.fps, masks=held.masks, seed=SEED),
}  # fmt: skip
_ = results.write_result(
    CHAPTER, "TAU reference", "clips@64px", split="test", protocol=video_scores.PROTOCOL, profile=PROFILE,
    device=device, weights=f"trained here, {TAU_SHOT_STEPS} steps", parameters=training.parameter_count(tau_shots),
    training_seconds=tau_shots_run.seconds, generation_fps=None, metrics=shot_scores,
    horizons=shot_drift.reset_index().to_dict("records"),
    notes=video_scores.protocol_notes(feature_ae, len(held)) + f"; trained on {len(shots)} windows of the training shots",
)  # fmt: skip
copy_shot = next(
    (r["metrics"] for r in registry()
     if r["chapter"].startswith("02") and r["model"] == "copy last" and r["dataset"] == "clips@64px"),
    None,
)  # fmt: skip
if copy_shot:
    lost = [
        name
        for name, ours, theirs, lower in (
            ("PSNR", shot_scores["psnr"], copy_shot["psnr"], False),
            ("SSIM", shot_scores["ssim"], copy_shot["ssim"], False),
            ("KID", shot_scores["kid"], copy_shot["kid"], True),
        )
        if (ours > theirs if lower else ours < theirs)
    ]
    claims.say(
        f"On the held-out shots the reference, trained {TAU_SHOT_STEPS} steps on {len(shots)} windows, scores "
        f"PSNR {shot_scores['psnr']:.2f} dB, SSIM {shot_scores['ssim']:.3f} and KID {shot_scores['kid']:.3f} "
        f"over 8 made frames, against copy-last's {copy_shot['psnr']:.2f} dB, {copy_shot['ssim']:.3f} and "
        f"{copy_shot['kid']:.3f}: "
        + (
            f"it loses to copying the last frame on {', '.join(lost)}, so on the shots it is no reference "
            "at this size, only a trained network that learned less than a frozen frame."
            if lost
            else "it beats copying the last frame on PSNR, SSIM and KID."
        )
    )

# %% [markdown]
# ## Moving MNIST: who predicts best
#
# Every record of the protocol (10 frames given, 10 predicted): {term}`OpenSTL`'s {term}`MSE` and {term}`MAE` (squared and
# absolute error summed over a frame's 4,096 pixels of 0..1, averaged over frames), {term}`SSIM` (1:
# identical) and {term}`PSNR`. Lower MSE is better. {term}`KID` is chapter 02's distribution score on the course
# {term}`autoencoder`'s features, in units of the real features' spread: it has no fixed scale and grows
# fast with the distance between two sets. One row is computed here rather than read from the
# registry: a *blank frame* (every pixel black), the answer that draws no digit at all; a model
# near it on MSE has learned to hedge, not to predict.

# %%
records = registry() + results.load_results(chapter=CHAPTER, profile=PROFILE)
mnist = [
    r for r in records if r["dataset"] == "moving_mnist" and "openstl_mse" in r["metrics"]
]
mnist_table = pd.DataFrame(
    [
        {
            "family": family(r),
            "model": r["model"],
            "MSE (OpenSTL)": r["metrics"]["openstl_mse"],
            "MAE (OpenSTL)": r["metrics"].get("openstl_mae"),
            "SSIM": r["metrics"].get("ssim"),
            "PSNR (dB)": r["metrics"].get("psnr"),
            "KID": r["metrics"].get("kid"),
            "test sequences": int(r["notes"].split(" test sequences")[0].split()[-1])
            if " test sequences" in r["notes"]
            else None,
        }
        for r in mnist
    ]
)
blank = np.zeros_like(test_mm[:, 10:])
blank_drift = rollout.drift(blank, test_mm[:, 10:])
blank_row = {
    "family": FAMILIES["02"],
    "model": "blank frame (computed here)",
    "MSE (OpenSTL)": metrics.openstl_mse(blank, test_mm[:, 10:]),
    "MAE (OpenSTL)": metrics.openstl_mae(blank, test_mm[:, 10:]),
    "SSIM": float(blank_drift["ssim"].mean()),
    "PSNR (dB)": float(blank_drift["psnr"].mean()),
    "KID": None,
    "test sequences": len(test_mm),
}
mnist_table = pd.concat([mnist_table, pd.DataFrame([blank_row])], ignore_index=True)
mnist_table = mnist_table.sort_values("MSE (OpenSTL)")
viz.sortable_table(mnist_table.set_index(["family", "model"]), "moving-mnist", digits=3)

# %%
quoted = yaml.safe_load(
    (runtime.course_root() / "book" / "quoted_results.yaml").read_text()
)


def quoted_table(group: str) -> pd.DataFrame:
    entry = quoted[group]
    frame = pd.DataFrame(entry["rows"]).set_index("name").rename(columns=entry["columns"])
    frame = frame.astype(object).where(frame.notna(), "")  # not published: left empty
    print(
        f"QUOTED, not computed here: {entry['title']}. Conditions: {entry['conditions']}. Source: {entry['where']}."
    )
    return frame


quoted_table("openstl_moving_mnist")

# %%
by_mse = mnist_table.set_index("model")["MSE (OpenSTL)"]
by_ssim = mnist_table.set_index("model")["SSIM"].dropna().sort_values(ascending=False)
reference = by_mse.get("TAU reference")
others = by_mse.drop(index="TAU reference", errors="ignore")
openstl_tau_params = next(
    row["params"] for row in quoted["openstl_moving_mnist"]["rows"] if row["name"] == "TAU"
)
best_other = others.idxmin() if len(others) else None
openstl_tau = next(
    row["mse"] for row in quoted["openstl_moving_mnist"]["rows"] if row["name"] == "TAU"
)
no_learning = mnist_table[mnist_table["family"] == FAMILIES["02"]].set_index("model")
tau_row = (
    mnist_table.set_index("model").loc["TAU reference"] if reference is not None else None
)
tau_losses = {  # the rows that learn nothing which TAU loses to, column by column
    column: [
        m
        for m, v in no_learning[column].dropna().items()
        if loses(tau_row[column], v, lower, column)
    ]
    for column, lower in (("SSIM", False), ("MAE (OpenSTL)", True), ("PSNR (dB)", False))
    if tau_row is not None
}
if best_other is not None:
    verb, margin = claims.versus(
        reference, others[best_other], better="lower", digits=1, tolerance=0.5
    )
    ssim_rank = (
        list(by_ssim.index).index("TAU reference") + 1
        if "TAU reference" in by_ssim
        else None
    )
    claims.say(
        f"The TAU reference reaches an OpenSTL MSE of {reference:.1f} after {tau_mm_run.seconds:.0f} s of "
        f"training on {device}; on MSE it {verb} the best of the other {len(others)} rows, {best_other} "
        f"({others[best_other]:.1f}), {margin}. "
        + (
            f"On SSIM it ranks {ssim_rank} of {len(by_ssim)} ({by_ssim['TAU reference']:.3f}; the highest is "
            f"{by_ssim.index[0]}'s {by_ssim.iloc[0]:.3f}). "
            if ssim_rank
            else ""
        )
        + (
            "It loses to rows that learn nothing on "
            + "; ".join(
                f"{column} (to {', '.join(rows)})"
                for column, rows in tau_losses.items()
                if rows
            )
            + ": TAU wins on squared error only. "
            if any(tau_losses.values())
            else ""
        )
        + f"OpenSTL's TAU, {openstl_tau_params} parameters against this one's "
        f"{training.parameter_count(tau_mm):,}, trained and scored under the conditions quoted above, "
        f"reports {openstl_tau:.2f}, {reference / openstl_tau:.1f} times lower: how much "
        "of that gap is width, training or the test set is not measured here (exercise 1 asks)."
    )
if PROFILE != "smoke" and len(others):
    claims.holds(
        reference < 0.9 * others.min(),
        "the TAU reference has a lower OpenSTL MSE on Moving MNIST than every other row (by 10% or more)",
    )

# %%
table_by_model = mnist_table.set_index("model")
learned = table_by_model[table_by_model["family"] != FAMILIES["02"]].drop(
    index="TAU reference", errors="ignore"
)
yardstick_lines = []
for baseline in ("copy last", "flow"):
    if baseline not in table_by_model.index:
        continue
    for column, lower in (
        ("MSE (OpenSTL)", True),
        ("MAE (OpenSTL)", True),
        ("SSIM", False),
    ):
        ref = table_by_model.loc[baseline, column]
        values = learned[column].dropna()
        lost = losers(values, ref, lower, column)
        yardstick_lines.append(
            f"on {column} {len(lost)} of the {len(values)} course models lose to {baseline} ({ref:,.3f})"
            + (f": {', '.join(lost)}" if 0 < len(lost) < len(values) else "")
        )
blank_mse = table_by_model.loc["blank frame (computed here)", "MSE (OpenSTL)"]
hedging = [m for m, v in learned["MSE (OpenSTL)"].items() if v > 0.9 * blank_mse]
counts = mnist_table["test sequences"].dropna().astype(int)
claims.say(
    f"Against the two rules that learn nothing ({MARGIN_WORDS}): "
    + "; ".join(yardstick_lines)
    + ". "
    + (
        f"A black frame scores MSE {blank_mse:.1f}; {', '.join(hedging)} "
        f"{'come' if len(hedging) > 1 else 'comes'} within 10% of it or above: on this yardstick "
        f"{'they' if len(hedging) > 1 else 'it'} did not learn to draw the digits where they are."
        if hedging
        else f"Every course model beats a black frame (MSE {blank_mse:.1f}) by more than 10%."
    )
    + (
        f" The rows are means over different numbers of test sequences ({', '.join(str(n) for n in sorted(set(counts)))}; "
        "the smaller sets are the first sequences of the larger), so a small gap between rows of different "
        "counts is less sure than one between rows of the same count."
        if counts.nunique() > 1
        else ""
    )
)

# %% [markdown]
# ### Quality by horizon
#
# The error at every predicted frame. Chapter 09's models were rolled on past the 10 frames of the
# protocol; the dotted line marks the last made frame whose attention band still reaches a given
# frame (the band is as long as a training window; past it, every frame is made from frames the
# model made itself). The four share it, so their lines coincide.

# %%
LINESTYLES = (
    "-",
    "--",
    "-.",
    ":",
)  # after the 10 default colours, the next lines change style


def style_of(i: int) -> str:
    return LINESTYLES[(i // 10) % len(LINESTYLES)]


fig, ax = plt.subplots(figsize=(8, 3.6))
for i, r in enumerate(mnist):
    h = pd.DataFrame(r["horizons"])
    if "openstl_mse" in h:
        curve = h.set_index("step")["openstl_mse"]
    elif "mse" in h:
        curve = h.set_index("step")["mse"] * 4096
    else:
        continue
    line = ax.plot(curve.index, curve.values, style_of(i), label=r["model"], linewidth=1.2)
    trained = r["metrics"].get("trained_horizon")
    if trained and r["chapter"].startswith("09"):
        ax.axvline(trained - 1, color=line[0].get_color(), linestyle=":", linewidth=0.8)
ax.set(
    xlabel="predicted frame",
    ylabel="MSE per frame (OpenSTL)",
    title="Moving MNIST: error by horizon",
)
ax.legend(fontsize=6, ncol=2)
plt.tight_layout()
viz.glue("mnist-horizon", fig)
plt.show()

# %% [markdown]
# ## The held-out shots: prediction, realism, motion, flicker
#
# Chapter 02's protocol (2 frames given, 8 made, 64 pixels, picture content only). Left, how close
# each family comes to the one true future, step by step; right, the distribution score (KID on the
# course autoencoder's features: lower looks more like the real clips), with the band that two
# halves of the real clips reach against each other: a difference inside it is noise.

# %%
protocol = [
    r
    for r in records
    if r["dataset"] == "clips@64px" and r["protocol"] == video_scores.PROTOCOL
]
noise = next((r for r in protocol if r["model"].startswith("real held-out clips")), None)
made = [r for r in protocol if r is not noise]
shot_table = pd.DataFrame(
    [
        {
            "family": family(r),
            "model": r["model"],
            "PSNR step 1 (dB)": r["metrics"].get("psnr_step1"),
            "PSNR 8 steps (dB)": r["metrics"].get("psnr"),
            "SSIM 8 steps": r["metrics"].get("ssim"),
            "KID": r["metrics"].get("kid"),
            "FD": r["metrics"].get("fd"),
            "flickering (1: none)": r["metrics"].get("temporal_flickering"),
            "dynamic degree": r["metrics"].get("dynamic_degree"),
            "motion / truth's": r["metrics"].get("motion_ratio"),
            "consistency": r["metrics"].get("subject_consistency"),
        }
        for r in made
    ]
)
if len(shot_table):
    shot_table = shot_table.sort_values("PSNR 8 steps (dB)", ascending=False)
    viz.sortable_table(shot_table.set_index(["family", "model"]), "shots", digits=3)
    if noise:
        print(
            f"the real clips against themselves (two halves of {noise['metrics']['clips']:.0f} clips): KID "
            f"{noise['metrics']['kid']:.3f} +/- {noise['metrics']['kid_spread']:.3f}, flickering "
            f"{noise['metrics']['temporal_flickering']:.3f}, dynamic degree {noise['metrics']['dynamic_degree']:.2f}"
        )

# %%
if made:
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 3.8))
    for i, r in enumerate(made):
        h = pd.DataFrame(r["horizons"])
        if "psnr" in h:
            left.plot(
                h["step"], h["psnr"], style_of(i), marker=".", linewidth=1, label=r["model"]
            )
    left.set(
        xlabel="made frame", ylabel="PSNR (dB)", title="held-out shots: PSNR by horizon"
    )
    left.legend(fontsize=6)
    order = shot_table.sort_values("KID")
    right.barh(order["model"], order["KID"], color="tab:blue")
    if noise:
        band = noise["metrics"]["kid"] + noise["metrics"]["kid_spread"]
        right.axvspan(
            min(0, noise["metrics"]["kid"]),
            band,
            color="grey",
            alpha=0.3,
            label="noise (real vs real)",
        )
        right.legend(fontsize=7)
    right.set_xscale(
        "symlog", linthresh=1.0
    )  # KID spans orders of magnitude; below 1, linear
    right.set(
        xlabel="KID (lower: more like the real clips; log scale above 1)", title="realism"
    )
    right.tick_params(axis="y", labelsize=6)
    plt.tight_layout()
    viz.glue("shots", fig)
    plt.show()

# %%
if len(shot_table):
    by_model = shot_table.set_index("model")
    shot_learned = by_model[by_model["family"] != FAMILIES["02"]]
    copy_row = by_model.loc["copy last"] if "copy last" in by_model.index else None
    shot_lines = []
    if copy_row is not None:
        for column, lower in (
            ("PSNR 8 steps (dB)", False),
            ("SSIM 8 steps", False),
            ("KID", True),
        ):
            values = shot_learned[column].dropna()
            lost = losers(values, copy_row[column], lower, column)
            shot_lines.append(
                f"on {column} {len(lost)} of the {len(values)} trained models lose to copy-last "
                f"({copy_row[column]:,.3f})"
            )
        claims.say(
            "On the shots, against copying the last given frame: "
            + "; ".join(shot_lines)
            + f". KID alone has a noise estimate here (the real clips against themselves, printed above); "
            f"PSNR and SSIM come from one run of each model, with no noise measured, so {MARGIN_WORDS}, "
            "and closer rows are counted as ties."
        )

# %% [markdown]
# ## Cost and speed
#
# What each run cost and how fast it makes frames, on the machine named in its record. The dance
# generator makes poses, not pictures: its rate is in its own column, poses/s. A blank (-) means
# the chapter did not measure it; the baselines learn nothing (a baseline that goes
# through the course autoencoder, as chapter 07's copy of the first frame does, counts the
# autoencoder's parameters, which it uses but does not train).

# %%
cost = pd.DataFrame(
    [
        {
            "family": family(r),
            "model": r["model"],
            "data": r["dataset"],
            "device": r["device"],
            "parameters": f"{r['parameters']:,}",
            "training (s)": r["training_seconds"],
            "frames/s": None if "counts pose frames" in r["notes"] else r["generation_fps"],
            "poses/s": r["generation_fps"] if "counts pose frames" in r["notes"] else None,
            "first frame (ms)": r["metrics"].get("latency_ms"),
            "denoising steps per frame": r["metrics"].get("denoising_steps_per_frame"),
        }
        for r in records
        if r["parameters"] > 0
    ]
)
if len(cost):
    viz.sortable_table(cost.set_index(["family", "model"]), "cost", digits=1)
quoted_table("streamdiffusion")

# %% [markdown]
# ## Families that do not fit the columns
#
# Chapter 06's base model makes clips of bouncing shapes from a label per frame: there is no
# true future to score it against, so it has its own yardsticks (does a frame show the colour and
# place it was asked for?). Chapter 08 makes dances from music: it is scored on poses ({term}`FID` and
# diversity of kinetic and geometric features, beat alignment, foot contact) against real dances.
# Chapter 07's Gen-1 editor re-renders a clip with another's content: it is scored on how much of
# the source's structure it keeps. Their records, as the chapters wrote them, with the columns
# the verdict reads first:

# %%
FIRST_COLUMNS = {
    "06": [],
    "07": ["structure_kept", "structure_kept_unedited", "structure_kept_structure_off"],
    "08": ["fid_k", "fid_g", "div_k", "div_g", "bas", "pfc"],
}
for number in ("06", "07", "08"):
    own = [r for r in records if r["chapter"].startswith(number)]
    if number == "07":
        own = [r for r in own if r["model"].endswith("gen-1 editor")]
    if own:
        frame = pd.DataFrame(
            [{"model": r["model"], "data": r["dataset"], **r["metrics"]} for r in own]
        ).set_index(["model", "data"])
        present = [c for c in frame.columns if frame[c].notna().any()]
        first = [c for c in FIRST_COLUMNS[number] if c in present]
        display_columns = first + [c for c in present if c not in first]
        viz.sortable_table(
            frame[display_columns],
            f"chapter-{number}",
            digits=3,
            caption=f"chapter {number}, {FAMILIES[number]} (every column its records fill)",
        )
quoted_table("aistpp_dance")

# %% [markdown]
# ## Frame-by-frame generation: the forcing regimes
#
# Chapter 09's table, beside the published ablation whose layout it borrows (quoted: {term}`VBench`
# scores of a 1.3-billion-parameter text-to-video model, higher is better; ours: error on Moving
# MNIST of a model of a few hundred thousand parameters, lower is better). The two measure
# different things at different scales; only the order of the regimes can be set side by side.

# %%
forcing = [r for r in records if r["chapter"].startswith("09")]
if forcing:
    window = int(forcing[0]["metrics"]["trained_horizon"])
    length = len(forcing[0]["horizons"])
    late_name = f"MSE frames {2 * window + 1}-{length} (far past the window)"
    forcing_table = pd.DataFrame(
        [
            {
                "model": r["model"],
                "MSE frames 1-10": r["metrics"]["openstl_mse"],
                late_name: r["metrics"].get("late_openstl_mse"),
                f"KID at frame {length}": r["metrics"].get("final_kid"),
                "frames/s": r["generation_fps"],
            }
            for r in forcing
        ]
    ).set_index("model")
    viz.sortable_table(forcing_table, "forcing", digits=1)
quoted_table("self_forcing")

# %%
if forcing:
    ours = forcing_table[late_name]
    # chapter 09 generates frame by frame: the paper's frame-wise column is the like for like
    theirs = {row["name"]: row["vbench_frame"] for row in quoted["self_forcing"]["rows"]}
    tf_key = next((k for k in ours.index if k.startswith("teacher forcing")), None)
    df_key = next((k for k in ours.index if k.startswith("diffusion forcing (frame")), None)
    if tf_key and df_key:
        ours_order = (
            "teacher forcing" if ours[tf_key] < ours[df_key] else "diffusion forcing"
        )
        paper_order = (
            "teacher forcing"
            if theirs["teacher forcing, 50 x 2 steps"]
            > theirs["diffusion forcing, 50 x 2 steps"]
            else "diffusion forcing"
        )
        claims.say(
            f"Far past the window, {ours_order} has the lower error here ({ours[tf_key]:.1f} for teacher forcing, "
            f"{ours[df_key]:.1f} for diffusion forcing); in the quoted ablation, without distillation and "
            f"frame-wise, {paper_order} scores the higher VBench total "
            f"({theirs['teacher forcing, 50 x 2 steps']:.2f} against {theirs['diffusion forcing, 50 x 2 steps']:.2f}): "
            + (
                "the two orders agree (ours from one run, with no seed spread)."
                if ours_order == paper_order
                else "the two orders disagree, at a scale and on a measure far from the paper's."
            )
        )

# %% [markdown]
# ## The verdict
#
# Which family to reach for, job by job, written from the tables above (each sentence names the
# row it comes from). The scale of this book limits what it can show: offline, every pretrained
# network is replaced by a tiny one trained here, and every model trains on this CPU for the time
# the cost table gives.


# %%
def row_of(table: pd.DataFrame, column: str, lowest: bool):
    table = table.dropna(subset=[column])
    if not len(table):
        return None
    return table.loc[table[column].idxmin() if lowest else table[column].idxmax()]


verdict = []
best_mm = row_of(mnist_table.reset_index(drop=True), "MSE (OpenSTL)", lowest=True)
if best_mm is not None:
    verdict.append(
        f"**Predict the next frames** (Moving MNIST, one true future): on squared error {best_mm['model']} "
        f"({best_mm['family']}), OpenSTL MSE {best_mm['MSE (OpenSTL)']:.1f}"
        + (
            f"; on SSIM {best_ssim['model']} ({best_ssim['family']}, {best_ssim['SSIM']:.3f})."
            if (
                best_ssim := row_of(
                    mnist_table.reset_index(drop=True), "SSIM", lowest=False
                )
            )
            is not None
            and best_ssim["model"] != best_mm["model"]
            else "."
        )
    )
if len(shot_table):
    best_shot = row_of(shot_table.reset_index(drop=True), "PSNR 8 steps (dB)", lowest=False)
    verdict.append(
        f"On the real shots the closest to the true future over 8 frames is {best_shot['model']} "
        f"({best_shot['family']}, {best_shot['PSNR 8 steps (dB)']:.2f} dB)."
    )
    moving = shot_table[
        (shot_table["motion / truth's"] > 0.5) & (shot_table["motion / truth's"] < 2)
    ]
    best_real = row_of(moving.reset_index(drop=True), "KID", lowest=True)
    if best_real is not None:
        inside = (
            noise is not None
            and best_real["KID"] <= noise["metrics"]["kid"] + noise["metrics"]["kid_spread"]
        )
        rivals = moving[moving["model"] != best_real["model"]].dropna(subset=["KID"])
        second = rivals.loc[rivals["KID"].idxmin()] if len(rivals) else None
        spread = noise["metrics"]["kid_spread"] if noise is not None else None
        tied = (
            second is not None
            and spread is not None
            and second["KID"] - best_real["KID"] <= spread
        )
        verdict.append(
            f"**Make plausible motion**: among the families whose clips move between half and twice as "
            f"much as the truth, {best_real['model']} ({best_real['family']}) has the lowest KID "
            f"({best_real['KID']:.3f}"
            + (
                ", inside the real clips' own noise)"
                if inside
                else ", outside the real clips' own noise)"
            )
            + (
                f", tied within that noise's spread ({spread:.3f}) with {second['model']} ({second['KID']:.3f}): "
                "the two are not told apart on this sample."
                if tied
                else "."
            )
        )
    else:
        verdict.append(
            "**Make plausible motion**: no family's clips on the shots move between half and twice as much "
            "as the truth; none can be recommended for it at this scale."
        )
editor = next((r for r in records if r["model"].endswith("gen-1 editor")), None)
if editor:
    m = editor["metrics"]
    verdict.append(
        f"**Edit a video** (keep its structure, change its content): chapter 07's Gen-1 editor keeps "
        f"{m['structure_kept']:.2f} of the structure correlation (the unedited clip scores "
        f"{m['structure_kept_unedited']:.2f}, structure turned off {m['structure_kept_structure_off']:.2f})."
    )
streams = [r for r in records if r["chapter"].startswith("05") and r["generation_fps"]]
if streams:
    fastest = max(streams, key=lambda r: r["generation_fps"])
    one_pass = [
        r
        for r in records
        if r["chapter"][:2] in ("03", "04", "10")
        and r["parameters"] > 0
        and r["generation_fps"]
    ]
    quicker = [
        f"{r['model']} on {r['dataset']}"
        for r in one_pass
        if r["generation_fps"] > fastest["generation_fps"]
    ]
    quoted_fps = quoted["streamdiffusion"]["rows"][0]["fps"]
    verdict.append(
        f"**Run in real time**: the fastest of chapter 05's diffusion paths is {fastest['model']} "
        f"({fastest['generation_fps']:.1f} frames generated per second on {fastest['device']} at 64 px, PSNR "
        f"{fastest['metrics'].get('psnr', float('nan')):.2f} dB in its chapter 05 record"
        + (
            f"; {fastest['metrics']['delivered_fps']:.1f} delivered, counting the frames its similarity filter repeats"
            if fastest["metrics"].get("delivered_fps", fastest["generation_fps"])
            > fastest["generation_fps"]
            else ""
        )
        + ");"
        f" StreamDiffusion reports {quoted_fps} frames/s for "
        "Stable Diffusion itself on an RTX 4090 (quoted above), a different model, size and machine, so the "
        "two rates are not a comparison."
        + (
            f" Of the networks that make a frame in one pass, without denoising steps (chapters 03, 04 and "
            f"TAU), {len(quicker)} of {len(one_pass)} make more frames per second than it"
            + (f" ({'; '.join(quicker)})" if quicker else "")
            + " (the cost table; each rate is one timing on its record's machine)."
            if one_pass
            else ""
        )
    )
dance = {r["model"]: r["metrics"] for r in records if r["chapter"].startswith("08")}
if "generator" in dance and "retrieval" in dance:
    g, rt = dance["generator"], dance["retrieval"]
    verb, by = claims.versus(g["fid_k"], rt["fid_k"], better="lower", digits=1)
    random_poses = dance.get("random poses")
    verdict.append(
        f"**Dance to music**: chapter 08's GAN {verb} retrieving the nearest training dance on FID_k {by} "
        f"({g['fid_k']:.1f} against {rt['fid_k']:.1f}); on beat alignment it scores {g['bas']:.3f} against "
        f"{rt['bas']:.3f}"
        + (
            f", and random poses score FID_k {random_poses['fid_k']:.1f} and BAS {random_poses['bas']:.3f} "
            "(chapter 08 measures how far apart two halves of the real dances lie on both)."
            if random_poses
            else "."
        )
    )


def chapters_whose(test) -> str:
    """'chapter 08' or 'chapters 04, 07': the chapters with a network whose weights pass the test."""
    found = sorted(
        {r["chapter"][:2] for r in records if r["parameters"] and test(r["weights"])}
    )
    return f"chapter{'s' if len(found) > 1 else ''} {', '.join(found)}" if found else ""


stand_ins = chapters_whose(lambda w: "tiny offline" in w)
pretrained = chapters_whose(lambda w: "pretrained weights" in w or "weights from " in w)
untrained = chapters_whose(lambda w: w.startswith("untrained"))
verdict.append(
    (
        f"The networks that stand in for pretrained ones ({stand_ins}) ran with tiny offline "
        "weights trained here: the ranking says what these pipelines do at this size, not what Stable "
        "Diffusion or a ControlNet can do."
        if stand_ins
        else "No network in these tables ran with tiny offline weights."
    )
    + (f" Pretrained weights were loaded in {pretrained}." if pretrained else "")
    + (f" Untrained networks appear as baselines ({untrained})." if untrained else "")
    + " The other networks were trained from random weights in their chapters."
)
baseline_answers = sum(f"({FAMILIES['02']}" in line for line in verdict)
if baseline_answers:
    verdict.append(
        f"{baseline_answers} of the answers above {'is' if baseline_answers == 1 else 'are'} a rule that "
        "learns nothing (the baseline family): on that yardstick no course model beats it at this scale, "
        "and the honest recommendation there is the baseline."
    )
claims.say("\n\n".join(f"- {line}" for line in verdict))

# %% [markdown]
# ## Exercises
#
# 1. Give the TAU reference the `gpu` profile's size on a GPU: how close does it come to
#    OpenSTL's 24.60?
# 2. Train TAU without its differential divergence (alpha 0 in `tau_loss`). Does its MSE change?
#    Its motion scores?
# 3. Add a family of your own: write its records with `results.write_result` on the two protocols,
#    and run this chapter again.
