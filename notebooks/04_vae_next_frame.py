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
# # 04 · VAE next-frame models
#
# From one frame, the next is not fully determined: a digit seen once could be moving in any
# direction. A network trained with a pixel loss is pulled towards the average of all the futures
# it cannot tell apart, and an average of digits moving apart is a blur. A *conditional
# variational {term}`autoencoder`* (CVAE) adds a latent variable $z$ meant to hold what the frame does not
# tell: each draw of $z$ should pick one future. This chapter trains both on {term}`Moving MNIST` and
# measures what each delivers on the course's held-out sequences: how sharp its frames are, how
# much its samples differ, and how close they come to the truth, one step ahead and over ten-step
# rollouts, against the baselines of chapter 02. It then moves the idea onto real clips with
# {term}`Stable Diffusion`'s image autoencoder (offline, a small one of the same class trained here):
# predict the next frame's latent code and let the autoencoder draw it, scored on the held-out
# shots.
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/frame-by-frame-course/video-generation/blob/main/notebooks/04_vae_next_frame.ipynb)

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
TRAIN_SEQUENCES = 1000  # Moving MNIST training sequences (19 pairs each)
MNIST_TEST_SEQUENCES = 500  # the course's held-out Moving MNIST sequences
LATENT_DIM = 16  # size of z
BASE_WIDTH = 16  # feature channels of the first encoder level; doubling per level
BETA = 1.0  # weight of the KL term once annealing is over
KL_ANNEAL_STEPS = 600  # the KL weight grows linearly from 0 to BETA over these steps
BATCH_SIZE = 32
VAE_STEPS = 1000  # training steps of the CVAE, and of the deterministic autoencoder
SAMPLES = 5  # futures sampled per input
FRAME_SIZE = 64  # clips for the Stable Diffusion autoencoder part
AUTOENCODER_WEIGHTS = "auto"  # hub id, local folder, "auto" (hub if reachable) or "tiny"
AUTOENCODER_STEPS = 1800  # training steps of the course autoencoder (the line under its training prints the time)
LATENT_STEPS = 300  # training the latent next-frame network
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
    TRAIN_SEQUENCES=parameters.integer(1),
    MNIST_TEST_SEQUENCES=parameters.integer(1),
    LATENT_DIM=parameters.integer(1),
    BASE_WIDTH=parameters.integer(1, 256),
    BETA=parameters.number(0),
    KL_ANNEAL_STEPS=parameters.integer(0),
    BATCH_SIZE=parameters.integer(1),
    VAE_STEPS=parameters.integer(1),
    SAMPLES=parameters.integer(2, why="diversity compares samples in pairs"),
    FRAME_SIZE=parameters.multiple_of(
        8, 32, 512, why="Stable Diffusion's autoencoder shrinks frames 8 times per side"
    ),
    AUTOENCODER_WEIGHTS=parameters.weights(),
    AUTOENCODER_STEPS=parameters.integer(0),
    LATENT_STEPS=parameters.integer(0),
    FEATURE_STEPS=parameters.integer(1),
)

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from helpers import (
    baselines,
    claims,
    datasets,
    manifest,
    metrics,
    pretrained,
    results,
    rollout,
    runtime,
    tensors,
    training,
    video_scores,
    viz,
)

runtime.seed_everything(SEED)
CHAPTER = "04_vae_next_frame"
OUT = runtime.build_dir(CHAPTER, PROFILE)
device = runtime.select_device(DEVICE)
print(f"PyTorch {torch.__version__} on {device}; outputs in {runtime.display_path(OUT)}")

# %% [markdown]
# ## What you will build
#
# ```{glue:figure} futures
# :figwidth: 100%
#
# One input frame, the true next frame, the deterministic autoencoder's answer and futures
# sampled from the conditional VAE (computed further down this page).
# ```
#
# ## The data: (frame, next frame) pairs
#
# Moving MNIST sequences from chapter 01; training pairs are (frame $t$, frame $t+1$) of the
# training sequences, drawn at random each step by a generator whose state the checkpoints
# keep. The models see **one** frame: from it alone, the direction each digit moves is unknown.

# %%
train_seq = (
    torch.from_numpy(
        datasets.moving_mnist(TRAIN_SEQUENCES, split="train", seed=SEED)
    ).float()
    / 255
)
test_seq = (
    torch.from_numpy(datasets.moving_mnist_test_set(MNIST_TEST_SEQUENCES)).float() / 255
)
train_seq, test_seq = train_seq[:, :, None], test_seq[:, :, None]  # (N, T, 1, 64, 64)


def mnist_pairs(generator: torch.Generator):
    n = torch.randint(0, len(train_seq), (BATCH_SIZE,), generator=generator)
    t = torch.randint(0, train_seq.shape[1] - 1, (BATCH_SIZE,), generator=generator)
    return train_seq[n, t].to(device), train_seq[n, t + 1].to(device)


print(f"train {tuple(train_seq.shape)}, test {tuple(test_seq.shape)}")

# %% [markdown]
# ## The models
#
# Both models share a frame encoder, which turns frame $t$ into feature maps at 32, 16 and 8
# pixels, and a decoder, which builds frame $t+1$ from those features ({term}`U-Net` skips keep the
# digits' shapes) and a latent vector $z$.
#
# The **conditional {term}`VAE`** adds two small networks:
#
# - a *posterior* $q(z \mid x_t, x_{t+1})$, which sees both frames during training and encodes
#   what frame $t$ does not tell: where the digits went;
# - a learned *prior* $p(z \mid x_t)$, which sees only frame $t$ and learns which motions are
#   plausible from it. At generation time $z$ is drawn from the prior.
#
# Training maximises the evidence lower bound, here written as a loss:
#
# $$\mathcal{L} = \underbrace{\mathrm{BCE}\big(x_{t+1}, \mathrm{dec}(x_t, z)\big)}_{\text{reconstruction}}
#   + \beta\, w(s)\, \mathrm{KL}\big(q(z \mid x_t, x_{t+1}) \,\|\, p(z \mid x_t)\big),
#   \quad z \sim q,$$
#
# with the KL weight $w(s)$ rising from 0 to 1 over the first steps of training (KL annealing,
# meant to let the decoder learn to use $z$ before $z$ is pulled towards the prior; the KL curve
# under the training shows what this run did). For two
# diagonal Gaussians the KL has a closed form:
#
# $$\mathrm{KL} = \tfrac12 \sum_i \Big(\log\sigma_{p,i}^2 - \log\sigma_{q,i}^2
#   + \frac{\sigma_{q,i}^2 + (\mu_{q,i} - \mu_{p,i})^2}{\sigma_{p,i}^2} - 1\Big).$$
#
# The **deterministic autoencoder** is the same encoder and decoder with $z = 0$, trained on
# the reconstruction term alone.


# %%
def down(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 4, 2, 1), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2)
    )


def up(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.ConvTranspose2d(cin, cout, 4, 2, 1), nn.BatchNorm2d(cout), nn.ReLU()
    )


WIDTHS = (
    BASE_WIDTH,
    2 * BASE_WIDTH,
    4 * BASE_WIDTH,
)  # feature channels at 32, 16 and 8 pixels


class FrameEncoder(nn.Module):
    def __init__(self, channels: int = 1):
        super().__init__()
        self.blocks = nn.ModuleList(
            [
                down(channels, WIDTHS[0]),
                down(WIDTHS[0], WIDTHS[1]),
                down(WIDTHS[1], WIDTHS[2]),
            ]
        )

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = []
        for block in self.blocks:
            x = block(x)
            features.append(x)
        return features


class Decoder(nn.Module):
    def __init__(self, latent_dim: int = LATENT_DIM, z_channels: int = 16):
        super().__init__()
        self.z_channels = z_channels
        self.from_z = nn.Linear(latent_dim, z_channels * 8 * 8)
        self.up8 = up(WIDTHS[2] + z_channels, WIDTHS[1])
        self.up16 = up(2 * WIDTHS[1], WIDTHS[0])
        self.up32 = nn.ConvTranspose2d(2 * WIDTHS[0], 1, 4, 2, 1)

    def forward(self, features: list[torch.Tensor], z: torch.Tensor) -> torch.Tensor:
        z_map = self.from_z(z).view(-1, self.z_channels, 8, 8)
        x = self.up8(torch.cat([features[2], z_map], 1))
        x = self.up16(torch.cat([x, features[1]], 1))
        return torch.sigmoid(self.up32(torch.cat([x, features[0]], 1)))


class Gaussian(nn.Module):
    """Mean and log-variance of a diagonal Gaussian over z, from 8x8 feature maps."""

    def __init__(self, latent_dim: int = LATENT_DIM):
        super().__init__()
        self.fc = nn.Linear(WIDTHS[2] * 8 * 8, 2 * latent_dim)

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, log_var = self.fc(features.flatten(1)).chunk(2, dim=1)
        return mean, log_var.clamp(-8, 8)


class NextFrameCVAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder, self.decoder = FrameEncoder(), Decoder()
        self.posterior_encoder = FrameEncoder(channels=2)  # sees frame t and frame t+1
        self.posterior, self.prior = Gaussian(), Gaussian()

    def forward(self, x: torch.Tensor, y: torch.Tensor):
        features = self.encoder(x)
        q = self.posterior(self.posterior_encoder(torch.cat([x, y], 1))[2])
        p = self.prior(features[2])
        z = q[0] + torch.randn_like(q[0]) * (0.5 * q[1]).exp()  # reparameterisation
        return self.decoder(features, z), q, p

    @torch.no_grad()
    def sample(self, x: torch.Tensor) -> torch.Tensor:
        features = self.encoder(x)
        mean, log_var = self.prior(features[2])
        return self.decoder(features, mean + torch.randn_like(mean) * (0.5 * log_var).exp())


class NextFrameAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder, self.decoder = FrameEncoder(), Decoder()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(
            self.encoder(x), torch.zeros(len(x), LATENT_DIM, device=x.device)
        )


def kl_divergence(q, p) -> torch.Tensor:
    (mq, lq), (mp, lp) = q, p
    return 0.5 * (lp - lq + (lq.exp() + (mq - mp) ** 2) / lp.exp() - 1).sum(dim=1)


cvae, ae = NextFrameCVAE().to(device), NextFrameAE().to(device)
print(
    f"conditional VAE: {training.parameter_count(cvae):,} parameters "
    f"(encoder + decoder {training.parameter_count(cvae.encoder) + training.parameter_count(cvae.decoder):,})"
)
print(
    f"deterministic autoencoder: {training.parameter_count(ae):,} parameters (the same encoder and decoder)"
)

# %% [markdown]
# ## Training, with checkpoints
#
# `training.fit` runs the loop: a progress bar, a checkpoint every few hundred steps (model,
# optimiser, the batch sampler's random state, the loss history), mixed precision on a GPU.
# Interrupt it and run the chapter again: it picks up at the last checkpoint. The checkpoint
# name holds the settings that shape the model, but not the number of steps, so raising
# `VAE_STEPS` continues a finished run instead of starting over.


# %%
def cvae_loss(model, batch, step):
    x, y = batch
    prediction, q, p = model(x, y)
    reconstruction = (
        F.binary_cross_entropy(prediction.float(), y, reduction="none")
        .sum(dim=(1, 2, 3))
        .mean()
    )
    kl = kl_divergence(q, p).mean()
    weight = BETA * min(1.0, step / max(1, KL_ANNEAL_STEPS))
    return reconstruction + weight * kl, {
        "reconstruction": reconstruction.item(),
        "kl": kl.item(),
        "kl_weight": weight,
    }


def ae_loss(model, batch, step):
    x, y = batch
    reconstruction = (
        F.binary_cross_entropy(model(x).float(), y, reduction="none")
        .sum(dim=(1, 2, 3))
        .mean()
    )
    return reconstruction, {"reconstruction": reconstruction.item()}


settings = {  # what shapes the model and its training; the step count is left out
    "seed": SEED,
    "width": BASE_WIDTH,
    "latent": LATENT_DIM,
    "beta": BETA,
    "anneal": KL_ANNEAL_STEPS,
    "batch": BATCH_SIZE,
    "train": TRAIN_SEQUENCES,
}
cvae_run = training.fit(
    cvae,
    torch.optim.Adam(cvae.parameters(), 1e-3),
    mnist_pairs,
    cvae_loss,
    VAE_STEPS,
    training.checkpoint_path(OUT, "cvae", **settings),
    seed=SEED,
    every=250,
    device=device,
    desc="conditional VAE",
)
ae_run = training.fit(
    ae,
    torch.optim.Adam(ae.parameters(), 1e-3),
    mnist_pairs,
    ae_loss,
    VAE_STEPS,
    training.checkpoint_path(OUT, "ae", **settings),
    seed=SEED,
    every=250,
    device=device,
    desc="autoencoder",
)
for name, run in (("conditional VAE", cvae_run), ("autoencoder", ae_run)):
    where = f"resumed at step {run.resumed_from}" if run.resumed_from else "from scratch"
    print(
        f"{name}: {run.steps_run} steps this session ({where}), {run.seconds:.0f} s of training in all"
    )

fig, axes = plt.subplots(1, 2, figsize=(11, 3))
window = max(1, len(cvae_run.history) // 40)
cvae_run.history.set_index("step")[["reconstruction"]].rolling(window).mean().plot(
    ax=axes[0]
)
ae_run.history.set_index("step")[["reconstruction"]].rolling(window).mean().rename(
    columns={"reconstruction": "autoencoder"}
).plot(ax=axes[0])
axes[0].legend(
    ["conditional VAE (z from the posterior, which sees the target)", "autoencoder"]
)
axes[0].set(title="training reconstruction (BCE per frame)", ylabel="BCE per frame")
cvae_run.history.set_index("step")[["kl"]].rolling(window).mean().plot(
    ax=axes[1], title="KL(q || p)", ylabel="KL (nats)"
)
plt.tight_layout()
plt.show()
kl = cvae_run.history.set_index("step")["kl"].rolling(window).mean().dropna()
if len(kl) > 2:
    low_step = int(kl.idxmin())
    claims.say(
        f"The CVAE's training reconstruction is the loss with $z$ drawn from the posterior, which has "
        "seen the target frame: it is not what the model does at generation time, when $z$ comes from the "
        f"prior (the table below scores that). Its KL starts at {kl.iloc[0]:.1f} nats, is lowest at step "
        f"{low_step} ({kl.min():.1f}) and ends at {kl.iloc[-1]:.1f}"
        + (
            f" after the weight reached 1 at step {KL_ANNEAL_STEPS}: the annealing did not keep the KL high "
            "while the decoder learned to use $z$, and it rose again after its low (the curve shows when, not why)."
            if low_step < KL_ANNEAL_STEPS and kl.iloc[-1] > 2 * kl.min()
            else "."
        )
    )

# %% [markdown]
# ## Blur and variety, measured
#
# On the held-out test sequences, each model predicts frame 10 from frame 9. The conditional
# VAE draws `SAMPLES` futures per input. We score:
#
# - the **mean of the samples**, the CVAE's best guess under a pixel loss;
# - the **best of the samples** (the one closest to the truth), a common score for stochastic
#   predictors: is *one* of its futures the right one? It is an *oracle* score: the truth picks
#   the sample, which no model can do when it generates, and which the baselines never get, so it
#   is read against the other samples, not against the baselines;
# - **diversity**: the mean absolute difference between two samples of the same input, per
#   pixel; zero for the deterministic model;
# - **sharpness** (chapter 02): the variance of the Laplacian, low for blurred frames.
#
# The baselines of chapter 02 get the same frames (linear and flow see frames 8 and 9).

# %%
x, y = test_seq[:, 9].to(device), test_seq[:, 10].to(device)
with torch.no_grad():
    ae_pred = ae(x)
    samples = torch.stack(
        [cvae.sample(x) for _ in range(SAMPLES)], dim=1
    )  # (N, S, 1, 64, 64)


def one_frame_sequences(t: torch.Tensor) -> np.ndarray:
    """(N, C, H, W) tensors in [0, 1] -> (N, 1, H, W, C) one-frame sequences for helpers.metrics."""
    return tensors.tensor_to_frames(t)[:, None]


truth = one_frame_sequences(y)
pairwise = (samples[:, :, None] - samples[:, None]).abs().mean(dim=(3, 4, 5))  # (N, S, S)
diversity = (pairwise.sum(dim=(1, 2)) / (SAMPLES * (SAMPLES - 1))).mean().item()
errors = ((samples - y[:, None]) ** 2).mean(dim=(2, 3, 4))  # (N, S)
best = samples[torch.arange(len(x)), errors.argmin(dim=1)]
sequences = test_seq.numpy().transpose(0, 1, 3, 4, 2)  # (N, T, H, W, 1)
candidates = {
    "conditional VAE (mean of samples)": one_frame_sequences(samples.mean(dim=1)),
    "conditional VAE (best of samples, oracle)": one_frame_sequences(best),
    "conditional VAE (one sample)": one_frame_sequences(samples[:, 0]),
    "deterministic autoencoder": one_frame_sequences(ae_pred),
    **{
        name: np.stack([p(seq[8:10]) for seq in sequences])[:, None]
        for name, p in baselines.BASELINES.items()
    },
}
one_step = pd.DataFrame(
    {
        name: {
            **metrics.pixel_scores(pred, truth),
            "sharpness": metrics.sharpness(pred[:, 0]),
        }
        for name, pred in candidates.items()
    }
).T
one_step.loc["truth", "sharpness"] = metrics.sharpness(truth[:, 0])
one_step["diversity"] = np.nan
one_step.loc["conditional VAE (one sample)", "diversity"] = diversity
one_step.loc["deterministic autoencoder", "diversity"] = 0.0
print(
    f"diversity: mean absolute difference per pixel between two samples of one input ({SAMPLES} drawn); "
    + metrics.UNITS
)
one_step.round(4)

# %%
row = int(errors.min(dim=1).values.argsort()[len(x) // 2])  # a typical test input
picture = [
    one_frame_sequences(x)[row, 0],
    truth[row, 0],
    one_frame_sequences(ae_pred)[row, 0],
]
titles = ["input (frame 9)", "truth (frame 10)", "autoencoder"]
for s in range(SAMPLES):
    picture.append(one_frame_sequences(samples[:, s])[row, 0])
    titles.append(f"CVAE sample {s + 1}")
futures_figure = viz.show_frames(picture, titles, size=1.6)
viz.glue("futures", futures_figure)
plt.show()

# %% [markdown]
# Sharpness has no right value of its own, so the true frames' sharpness is its yardstick;
# diversity is set against how much one true step changes a frame. The sentences below are
# written by the code under them, from the table above.

# %%
AE, ONE = "deterministic autoencoder", "conditional VAE (one sample)"
MEAN, BEST = (
    "conditional VAE (mean of samples)",
    "conditional VAE (best of samples, oracle)",
)
sharp, psnr = one_step["sharpness"], one_step["psnr"]
true_step = metrics.frame_change(sequences[:, 9:11])  # mean |frame 10 - frame 9| per pixel


def sharper(a: float, b: float) -> str:
    """'sharper than' / 'blurrier than' / 'about as sharp as' (within 5% of the truth's)."""
    return claims.compare(
        a,
        b,
        higher="sharper than",
        lower="blurrier than",
        same="about as sharp as",
        tolerance=0.05 * sharp["truth"],
    )


ae_vs_one, ae_vs_one_by = claims.versus(psnr[AE], psnr[ONE], "dB", tolerance=0.05)
best_vs_mean, best_vs_mean_by = claims.versus(psnr[BEST], psnr[MEAN], "dB", tolerance=0.05)
best_vs_ae, best_vs_ae_by = claims.versus(psnr[BEST], psnr[AE], "dB", tolerance=0.05)
best_ssim_vs_ae = claims.versus(
    one_step.loc[BEST, "ssim"], one_step.loc[AE, "ssim"], digits=3, tolerance=0.005
)[0]
best_mae_vs_ae = claims.versus(
    one_step.loc[BEST, "mae"],
    one_step.loc[AE, "mae"],
    digits=4,
    tolerance=0.0005,
    better="lower",
)[0]
claims.say(
    f"The true frames have a sharpness of {sharp['truth']:.0f}. The autoencoder's answers reach "
    f"{sharp[AE]:.0f} ({sharp[AE] / sharp['truth']:.0%} of it) and one CVAE sample "
    f"{sharp[ONE]:.0f} ({sharp[ONE] / sharp['truth']:.0%}): a sample is "
    f"{sharper(sharp[ONE], sharp[AE])} the autoencoder's answer, and "
    f"{sharper(sharp[ONE], sharp['truth'])} the truth. "
    f"Two samples of the same input differ by {diversity:.4f} per pixel, "
    f"{diversity / true_step:.0%} of what one true step changes in a frame ({true_step:.4f})."
)
claims.say(
    f"On PSNR the autoencoder {ae_vs_one} a single sample {ae_vs_one_by} "
    + (
        "(the blurry average is what a pixel loss rewards, chapter 02, section 3)"
        if ae_vs_one == "beats"
        else "(here the average buys the autoencoder no pixel accuracy over one sample)"
    )
    + f", and the best of {SAMPLES} samples (picked with the truth: an oracle) {best_vs_mean} the mean "
    f"of the samples {best_vs_mean_by}: "
    + (
        f"one of the {SAMPLES} futures lies closer to the truth than their average."
        if best_vs_mean == "beats"
        else "no single future comes closer to the truth than the samples' average: the samples "
        "differ, but not enough along the motion that happened for picking one to pay."
    )
    + f" On PSNR the oracle's pick {best_vs_ae} the autoencoder's single answer {best_vs_ae_by}; on SSIM "
    f"it {best_ssim_vs_ae} it ({one_step.loc[BEST, 'ssim']:.3f} against {one_step.loc[AE, 'ssim']:.3f}) and on "
    f"MAE it {best_mae_vs_ae} it ({one_step.loc[BEST, 'mae']:.4f} against {one_step.loc[AE, 'mae']:.4f}): "
    + (
        "picking among the samples with the truth buys structure and absolute error, not squared error, "
        "which the blur of one answer already earns."
        if best_vs_ae != "beats" and "beats" in (best_ssim_vs_ae, best_mae_vs_ae)
        else (
            "choosing among the samples with the truth buys nothing the blur of one answer lacks."
            if best_vs_ae != "beats"
            else "the samples hold a future closer to the truth than the blur."
        )
    )
)


def against_baselines(name: str) -> str:
    """'beats copy last by 1.20 dB, loses to flow by 0.40 dB, ...' for one row of one_step."""
    words = []
    for baseline in ("copy last", "linear", "flow"):
        verb, by = claims.versus(psnr[name], psnr[baseline], "dB", tolerance=0.05)
        words.append(f"{verb} {baseline} {by}")
    return ", ".join(words)


flow_wins = [name for name in (AE, ONE) if psnr["flow"] > psnr[name]]
ssim_one = one_step["ssim"]
ssim_words = [
    f"{name} {claims.versus(ssim_one[name], ssim_one['copy last'], digits=3, tolerance=0.005)[0]} copy-last "
    f"on SSIM ({ssim_one[name]:.3f} against {ssim_one['copy last']:.3f})"
    for name in (AE, ONE)
]
claims.say(
    f"Against chapter 02's baselines, on PSNR one step ahead, the autoencoder "
    f"{against_baselines(AE)}; one CVAE sample (what the model gives without the truth) "
    f"{against_baselines(ONE)}. The oracle is left out here: the baselines never see the truth. "
    f"On structure, the {ssim_words[0]}, and the {ssim_words[1]}. "
    + (
        "Flow extrapolation estimates the motion between the two given frames, the direction that "
        f"one frame leaves open: that estimate is worth more than the training of "
        f"{'both models' if len(flow_wins) == 2 else 'the ' + flow_wins[0]}"
        + (
            f" (linear extrapolation reads the same two frames and scores {psnr['linear']:.2f} dB: the "
            "second frame alone is not what pays, the motion estimated from it is)."
            if psnr["linear"] < min(psnr[n] for n in flow_wins)
            else "."
        )
        if flow_wins
        else "Both models, from one frame, come closer than flow extrapolation does from two."
    )
)

# %%
# The claims this page relies on, with margins. Smoke trains for a few steps only: its models
# are still close to their random start, so these claims about what training produced are
# checked in the cpu and gpu profiles.
if PROFILE != "smoke":
    claims.holds(
        diversity > 0.2 * true_step,
        "the CVAE's samples differ, by more than a fifth of one true step",
    )
    claims.holds(
        sharp[ONE] > 1.5 * sharp[AE],
        "one CVAE sample is sharper than the autoencoder's answer (by half as much again)",
    )
    claims.holds(
        psnr[AE] > psnr[ONE] + 0.3,
        "on PSNR the autoencoder's blurry average beats a single sample (by 0.3 dB or more)",
    )
    claims.holds(
        psnr[BEST] > psnr[MEAN] + 0.1,
        "the best of the samples is closer to the truth than their mean (by 0.1 dB or more)",
    )

# %% [markdown]
# ## Rollouts: the Moving MNIST protocol
#
# The scores are those of chapter 02: `openstl_mse` and `openstl_mae` are {term}`OpenSTL`'s convention,
# the squared (absolute) error summed over a frame's 64 x 64 pixels on the $[0, 1]$ scale and
# averaged over frames and sequences (4,096 times the per-pixel {term}`MSE`). The `fps` column is frames
# predicted per second on this run's device, one sequence at a time, decoding included: one
# timing, to be read to its order of magnitude.
#
# Ten frames of context, ten predicted by feeding each prediction back (chapter 02). Both models
# only read the newest frame. The conditional VAE draws a fresh $z$ at every step.


# %%
def torch_predictor(fn):
    """Wrap a torch model as a helpers.rollout predictor: context (T, H, W, 1) -> next frame."""

    def predict(context: np.ndarray) -> np.ndarray:
        frame = (
            torch.from_numpy(np.ascontiguousarray(context[-1]))
            .float()
            .permute(2, 0, 1)[None]
            .to(device)
        )
        with torch.no_grad():
            return fn(frame)[0].float().cpu().permute(1, 2, 0).numpy().clip(0, 1)

    return predict


models = {
    "conditional VAE": torch_predictor(cvae.sample),
    "deterministic autoencoder": torch_predictor(ae),
}
protocol = {}
for name, predictor in models.items():
    protocol[name] = rollout.evaluate_rollouts(
        predictor, sequences, context_frames=10, show_progress=False
    )
baseline_rollouts = {  # the same protocol for chapter 02's baselines, as yardsticks
    name: rollout.evaluate_rollouts(p, sequences, context_frames=10, show_progress=False)
    for name, p in baselines.BASELINES.items()
}
table = pd.DataFrame(
    {name: scores for name, (_, scores, _) in {**protocol, **baseline_rollouts}.items()}
).T
print(
    f"{len(sequences)} Moving MNIST test sequences; openstl_mse/mae summed over a frame's pixels on the "
    "[0, 1] scale (lower is better), ssim 1 = exact, psnr in dB, fps: frames predicted per second"
)
table[["openstl_mse", "openstl_mae", "ssim", "psnr", "fps"]].round(3)

# %% [markdown]
# And the scores for generated video of chapter 02 on the same rollouts (the 10 predicted frames
# of every test sequence against the true ones): do the predicted digits move like the true ones,
# and look like them?

# %%
feature_ae = video_scores.feature_encoder(FEATURE_STEPS, device)
rgb = lambda clips: np.repeat(clips, 3, axis=-1)  # noqa: E731  grey -> three channels
mnist_truth = sequences[:, 10:]
# the real sequences' latents, flicker and motion computed once, for every set scored against them
mnist_reference = video_scores.real_reference(rgb(mnist_truth), feature_ae, fps=10.0)
yardsticks = {
    name: video_scores.generation_scores(
        rgb(pred), mnist_reference, feature_ae, fps=10.0, seed=SEED
    )
    for name, (pred, _, _) in {**protocol, **baseline_rollouts}.items()
}
yardstick_table = pd.DataFrame(yardsticks).T[
    [
        "kid",
        "fd",
        "temporal_flickering",
        "dynamic_degree",
        "motion_ratio",
        "subject_consistency",
    ]
]
yardstick_table.columns = [
    "KID",
    "FD",
    "flickering (1: none)",
    "dynamic degree",
    "motion / truth's",
    "consistency",
]
yardstick_table.round(3)

# %%
moves = {name: yardsticks[name]["motion_ratio"] for name in models}
frozen_kid = min(baselines.BASELINES, key=lambda n: yardsticks[n]["kid"])
claims.say(
    "Over the ten predicted frames the predictions move "
    + " and ".join(f"{moves[n]:.2f} times as much as the true digits ({n})" for n in models)
    + f", against {yardsticks['copy last']['motion_ratio']:.2f} for copy-last (the size of the motion, "
    "optical flow's mean magnitude, not its direction: a fresh $z$ at every step moves pixels too). On the "
    f"distribution score the conditional VAE's KID is {yardsticks['conditional VAE']['kid']:.2f} and the "
    f"autoencoder's {yardsticks[AE]['kid']:.2f}, while {frozen_kid}, a baseline that learns nothing, scores "
    f"{yardsticks[frozen_kid]['kid']:.2f} with a dynamic degree of {yardsticks[frozen_kid]['dynamic_degree']:.2f}. "
    "KID (chapter 02, section 9) has no fixed scale: it is in units of the real features' spread and grows "
    "fast with the distance between two sets. "
    + " ".join(
        f"On {score.upper()} the {n} loses to "
        + (
            ", ".join(losers)
            if (
                losers := [
                    b
                    for b in baselines.BASELINES
                    if yardsticks[b][score] < yardsticks[n][score]
                ]
            )
            else "no baseline"
        )
        + "."
        for score in ("kid", "fd")
        for n in models
    )
    + (
        " A baseline that learns nothing lies nearer the real clips than either model, "
        + (
            "even one that moves as flow does, "
            if yardsticks[frozen_kid]["dynamic_degree"] > 0.5
            else "one whose frames hardly move, "
        )
        + "so KID is read next to the motion scores, never alone."
        if yardsticks[frozen_kid]["kid"] < min(yardsticks[n]["kid"] for n in models)
        else " Here both models lie nearer the real clips than every baseline."
    )
)


# %%
CVAE = "conditional VAE"


def rollout_verdict(a: str, b: str, score: str) -> tuple[str, str]:
    """claims.versus on the rollout table: PSNR in dB (ties within 0.05), SSIM (within 0.005)."""
    unit, digits, tolerance = ("dB", 2, 0.05) if score == "psnr" else ("", 3, 0.005)
    return claims.versus(
        table.loc[a, score], table.loc[b, score], unit, digits=digits, tolerance=tolerance
    )


def on_both(a: str, b: str, label: str | None = None) -> str:
    (v1, by1), (v2, by2) = rollout_verdict(a, b, "psnr"), rollout_verdict(a, b, "ssim")
    return f"{v1} {label or b} on PSNR {by1} and {v2} it on SSIM {by2}"


best_baseline = max(baseline_rollouts, key=lambda name: table.loc[name, "psnr"])
verdicts = {
    (model, score): rollout_verdict(model, best_baseline, score)[0]
    for model in models
    for score in ("psnr", "ssim")
}
split_verdict = [m for m in models if verdicts[m, "psnr"] != verdicts[m, "ssim"]]
drift_of = {name: drift_table for name, (_, _, drift_table) in protocol.items()}


def course_of(name: str) -> str:
    first, final = drift_of[name]["psnr"].iloc[0], drift_of[name]["psnr"].iloc[-1]
    trend = claims.compare(
        final, first, higher="rises", lower="falls", same="stays", tolerance=0.05
    )
    return f"the {name}'s PSNR {trend} from {first:.2f} dB to {final:.2f} dB"


claims.say(
    f"Over the ten fed-back steps the conditional VAE {on_both(CVAE, AE, 'the autoencoder')}. "
    f"The strongest baseline on PSNR is {best_baseline} ({table.loc[best_baseline, 'psnr']:.2f}"
    f" dB, SSIM {table.loc[best_baseline, 'ssim']:.3f}): the conditional VAE "
    f"{on_both(CVAE, best_baseline)}; the autoencoder {on_both(AE, best_baseline)}. "
    f"From step 1 to step 10, {course_of(AE)} and {course_of(CVAE)}."
)
if all(v == "loses to" for v in verdicts.values()):
    claims.say(
        "Both models lose to a baseline that learns nothing. Reading one frame, a model cannot "
        "know where the digits go, and at every step it is fed its own guess, so its errors "
        "compound; the baselines only keep or move what the true context shows."
    )
elif all(v == "beats" for v in verdicts.values()):
    claims.say(
        "Fed their own guesses, both models stay closer to the truth than every baseline, on "
        "both scores."
    )
elif not split_verdict:
    ahead = [m for m in models if verdicts[m, "psnr"] == "beats"]
    claims.say(
        f"Only the {' and the '.join(ahead)} stays ahead of {best_baseline} on both scores."
        if ahead
        else f"Neither model stays ahead of {best_baseline} on both scores."
    )
if split_verdict:
    claims.say(
        f"PSNR and SSIM disagree for the {' and the '.join(split_verdict)}. PSNR counts squared "
        "error, which a blurred frame keeps low; SSIM counts local structure, which blur "
        "loses (one step ahead the autoencoder's frames had "
        f"{sharp[AE] / sharp['truth']:.0%} of the truth's sharpness, a CVAE sample "
        f"{sharp[ONE] / sharp['truth']:.0%}). OpenSTL's MAE, the absolute error, ranks them "
        + ", ".join(
            f"the {m} {table.loc[m, 'openstl_mae']:.1f} against {best_baseline}'s "
            f"{table.loc[best_baseline, 'openstl_mae']:.1f}"
            for m in split_verdict
        )
        + ". Neither score alone says which rollout looks "
        "more like moving digits; the GIF below shows the truth and the two models."
    )
rollout_losses = {
    m: {
        score: [
            b
            for b in baseline_rollouts
            if (table.loc[b, score] > table.loc[m, score]) == (score == "ssim")
        ]
        for score in ("ssim", "openstl_mae")
    }
    for m in models
}
claims.say(
    "Against every baseline over the ten steps (lower MAE is better): "
    + "; ".join(
        f"the {m} loses on SSIM to {', '.join(lost['ssim']) or 'none'} and on OpenSTL's MAE to "
        f"{', '.join(lost['openstl_mae']) or 'none'}"
        for m, lost in rollout_losses.items()
    )
    + "."
)

# %%
example = 0
viz.show_sequences(
    {
        "truth": sequences[example, 10:],
        **{n: p[example] for n, (p, _, _) in protocol.items()},
    },
    fps=4,
    scale=2,
    save_to=OUT / "mnist_rollouts.gif",
)
for name, (pred, _, _) in protocol.items():
    viz.save_comparison(
        sequences[example, 10:], pred[example], OUT / f"mnist_{results.slug(name)}"
    )
for name, (_, scores, drift_table) in protocol.items():
    results.write_result(
        CHAPTER,
        name,
        "moving_mnist",
        split="test",
        protocol="10 context frames -> 10 predicted (rollout)",
        profile=PROFILE,
        device=device,
        weights=f"trained here, {VAE_STEPS} steps",
        parameters=training.parameter_count(cvae if name == "conditional VAE" else ae),
        training_seconds=(cvae_run if name == "conditional VAE" else ae_run).seconds,
        generation_fps=scores["fps"],
        metrics={**{k: v for k, v in scores.items() if k != "fps"}, **yardsticks[name]},
        horizons=drift_table.reset_index().to_dict("records"),
        notes=f"{MNIST_TEST_SEQUENCES} test sequences; one-step diversity of {SAMPLES} samples {diversity:.4f}",
    )

# %% [markdown]
# ## An image autoencoder as the drawing hand
#
# Stable Diffusion does not work on pixels but on the latent code of an image autoencoder
# (`AutoencoderKL`): a map of a few channels, which Stable Diffusion's own autoencoder makes 8
# times smaller than the image on each side (the course's offline autoencoder's own shape is
# printed below). The same split of labour works for next-frame
# prediction: a small network predicts the next frame's *latent* from the current one, and the
# autoencoder's decoder draws it. The held-out shots, the same for every chapter, are only
# scored; every score on the clips counts picture content only (the {term}`letterbox` padding is masked
# out with `datasets.content_masks`, so black bars never count as a match).
#
# With access to the model hub, `AUTOENCODER_WEIGHTS="auto"` loads Stable Diffusion's VAE with
# diffusers' `from_pretrained` and fine-tunes it briefly; offline, the same class is built from a
# small local configuration with random weights and trained here from scratch, and every result
# from it is labelled. Either way the objective is the autoencoder's own: the squared error of the
# reconstruction from the latent's mean, plus a very small weight on the KL term of its latent
# distribution, with Adam and a learning rate that decays to zero.
#
# **What it trains on** decides how well it draws frames it has never seen. The training shots
# are the frames of three films (chapter 01 counts them): an autoencoder fit to those alone learns those
# pictures, not pictures. So every training step is a batch of small random crops, half from the
# training frames (flipped, zoomed in and jittered in brightness, contrast and saturation), half
# from still photographs and textures that scikit-image and scikit-learn ship (each a manifest
# entry with its checksum and licence). Small crops also make each step cheap: the network is
# convolutional, so what it learns on 24-pixel crops it applies to whole frames.
#
# `pretrained.course_autoencoder` does this once, caches the weights under `build/autoencoder/`
# and returns them: chapter 07 draws with this very autoencoder, and every chapter that scores
# generated video (02 to 10) measures with it.

# %%
stills = manifest.load_manifest()
still_rows = [
    {"still": name.removeprefix("still_"), "licence": stills[name].licence}
    for name in datasets.STILL_IMAGES
]
pd.set_option("display.max_colwidth", None)
pd.DataFrame(still_rows).set_index("still")

# %%
course_ae = pretrained.course_autoencoder(
    AUTOENCODER_WEIGHTS, FRAME_SIZE, AUTOENCODER_STEPS, seed=SEED, device=device
)
autoencoder, plan, WEIGHTS_LABEL = course_ae.model, course_ae.plan, course_ae.label
autoencoder_run = course_ae.fit
print("autoencoder:", WEIGHTS_LABEL, "|", plan["reason"])
shrink = course_ae.shrink
latent_side = FRAME_SIZE // shrink
latent_numbers = course_ae.latent_numbers * latent_side**2
claims.say(
    (
        f"This run's autoencoder was trained here from random weights, {AUTOENCODER_STEPS} steps in "
        f"{autoencoder_run.seconds:.0f} s"
        if plan["kind"] == "tiny"
        else f"This run's autoencoder is {plan['id']}, fine-tuned {AUTOENCODER_STEPS} steps in "
        f"{autoencoder_run.seconds:.0f} s"
    )
    + f". It has {training.parameter_count(autoencoder):,} parameters and makes latents {shrink} times "
    f"smaller than the frame on each side: a {FRAME_SIZE}x{FRAME_SIZE} frame ({3 * FRAME_SIZE**2:,} numbers) "
    f"becomes {course_ae.latent_numbers} channels of {latent_side}x{latent_side} ({latent_numbers:,} numbers)."
)

clip_frames, clip_units = datasets.course_frames(FRAME_SIZE)
clip_masks = datasets.content_masks(clip_units, FRAME_SIZE)  # False on letterbox padding
split = datasets.course_split(clip_units)  # the course's held-out shots, whatever SEED is
images = (
    torch.from_numpy(clip_frames).permute(0, 3, 1, 2).float() / 127.5 - 1
)  # [-1, 1], as SD expects
ae_settings = {"weights": results.slug(plan["id"]), "size": FRAME_SIZE, "seed": SEED}
encode, decode = course_ae.encode, course_ae.decode
latents = encode(images)
print(f"latents of all {len(images)} frames: {tuple(latents.shape)}")

# %% [markdown]
# **How well does it draw?** Every frame of the training shots and of the held-out shots goes
# through the autoencoder and back, and is scored against itself. Two references that learn
# nothing say what the latent's size alone could buy: shrinking the frame 4 times (or 2 times)
# by averaging pixels and enlarging it back with bicubic interpolation keeps as many numbers as
# that small image holds.


# %%
def resized(frames: np.ndarray, factor: int) -> np.ndarray:
    """Shrink by area averaging, enlarge back with bicubic interpolation: [0, 1] floats."""
    import cv2

    small = [
        cv2.resize(f, (FRAME_SIZE // factor,) * 2, interpolation=cv2.INTER_AREA)
        for f in frames
    ]
    return (
        np.stack(
            [cv2.resize(f, (FRAME_SIZE,) * 2, interpolation=cv2.INTER_CUBIC) for f in small]
        ).clip(0, 255)
        / 255.0
    )


train_positions = datasets.positions_of(clip_units, split["train"])
test_positions = datasets.positions_of(clip_units, split["test"])
reconstructed = tensors.tensor_to_frames(decode(latents))
rows = {}
for part, positions in (
    ("training frames", train_positions),
    ("held-out frames", test_positions),
):
    truth_part = clip_frames[positions][:, None]
    mask_part = clip_masks[positions][:, None]
    candidates = {
        "autoencoder": (reconstructed[positions], latent_numbers),
        "resize 4x (area, bicubic)": (
            resized(clip_frames[positions], 4),
            3 * (FRAME_SIZE // 4) ** 2,
        ),
        "resize 2x (area, bicubic)": (
            resized(clip_frames[positions], 2),
            3 * (FRAME_SIZE // 2) ** 2,
        ),
    }
    for name, (made, numbers) in candidates.items():
        scores = metrics.pixel_scores(made[:, None], truth_part, mask=mask_part)
        rows[name, part] = {
            "PSNR (dB)": scores["psnr"],
            "SSIM": scores["ssim"],
            "numbers per frame": int(numbers),
        }
reconstruction_table = pd.DataFrame(rows).T
reconstruction_table.index.names = ["", "frames"]
reconstruction_table["numbers per frame"] = reconstruction_table[
    "numbers per frame"
].astype(int)
reconstruction_table.round({"PSNR (dB)": 2, "SSIM": 3})

# %%
psnr_at = reconstruction_table["PSNR (dB)"]
ae_test, ae_train = (
    psnr_at["autoencoder", "held-out frames"],
    psnr_at["autoencoder", "training frames"],
)
resize4, resize2 = (
    psnr_at["resize 4x (area, bicubic)", "held-out frames"],
    psnr_at["resize 2x (area, bicubic)", "held-out frames"],
)
vs4, by4 = claims.versus(ae_test, resize4, "dB", tolerance=0.05)
vs2, by2 = claims.versus(ae_test, resize2, "dB", tolerance=0.05)
gap = ae_train - ae_test
easier = (
    psnr_at["resize 2x (area, bicubic)", "held-out frames"]
    - psnr_at["resize 2x (area, bicubic)", "training frames"]
)
claims.say(
    f"On the held-out frames the autoencoder reconstructs at {ae_test:.2f} dB ({ae_train:.2f} dB on the "
    f"training frames"
    + (
        f": a gap of {gap:.2f} dB)"
        if gap > 0.05
        else (
            f"; the 2x resize, which learns nothing, also scores {easier:.2f} dB more on the held-out "
            "frames than on the training ones: they are easier to draw, so this is no sign of generalising)"
            if easier > 0.05
            else ": no gap)"
        )
    )
    + ". "
    f"It {vs4} the 4x resize {by4} and {vs2} the 2x resize {by2}, with "
    f"{latent_numbers:,} numbers per frame against their "
    f"{3 * (FRAME_SIZE // 4) ** 2:,} and {3 * (FRAME_SIZE // 2) ** 2:,}. "
    + (
        "A latent model's predictions are drawn through this decoder, whose reconstructions score this."
        if vs4 == "beats"
        else "A model built on these latents draws worse than a small image enlarged: the "
        "autoencoder, not the prediction, limits what the latent chapters can show."
    )
)
if PROFILE != "smoke":
    claims.holds(
        ae_test > resize4 + 1.0,
        "the autoencoder reconstructs held-out frames better than a 4x resize (by 1 dB or more)",
    )
_ = results.write_result(
    CHAPTER,
    "course autoencoder (reconstruction)",
    f"clips@{FRAME_SIZE}px",
    split="test",
    protocol="every held-out frame encoded and decoded; picture content only",
    profile=PROFILE,
    device=device,
    weights=WEIGHTS_LABEL,
    parameters=training.parameter_count(autoencoder),
    training_seconds=autoencoder_run.seconds,
    generation_fps=None,
    metrics={
        "psnr": ae_test,
        "ssim": reconstruction_table.loc[("autoencoder", "held-out frames"), "SSIM"],
        "psnr_train": ae_train,
        "resize4_psnr": resize4,
        "resize2_psnr": resize2,
        "latent_numbers": latent_numbers,
    },
    notes=f"{AUTOENCODER_STEPS} steps on crops of the training frames and the still images",
)

# %% [markdown]
# The latent network is a small residual convolutional net: it predicts the *change* of the
# latent code, $\hat z_{t+1} = z_t + f(z_t)$, trained with a squared error on pairs of
# consecutive latents from the training shots.


# %%
class LatentNext(nn.Module):
    def __init__(self, channels: int, width: int = 64):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 3, padding=1),
            nn.SiLU(),
            nn.Conv2d(width, width, 3, padding=1),
            nn.SiLU(),
            nn.Conv2d(width, channels, 3, padding=1),
        )
        nn.init.zeros_(self.net[-1].weight)  # start as "copy the last latent"
        nn.init.zeros_(self.net[-1].bias)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z + self.net(z)


pairs = datasets.pair_indices(clip_units, gap=1)
train_pairs = torch.from_numpy(pairs[np.isin(clip_units[pairs[:, 0]], split["train"])])


def latent_batch(generator: torch.Generator):
    pick = train_pairs[
        torch.randint(0, len(train_pairs), (BATCH_SIZE,), generator=generator)
    ]
    return latents[pick[:, 0]], latents[pick[:, 1]]


def latent_loss(model, batch, step):
    z, z_next = batch
    loss = F.mse_loss(model(z).float(), z_next)
    return loss, {}


latent_model = LatentNext(latents.shape[1]).to(device)
latent_run = training.fit(
    latent_model,
    torch.optim.Adam(latent_model.parameters(), 1e-3),
    latent_batch,
    latent_loss,
    LATENT_STEPS,
    training.checkpoint_path(OUT, "latent-next", **ae_settings, ae_steps=AUTOENCODER_STEPS),
    seed=SEED,
    every=250,
    device=device,
    desc="latent next-frame network",
)

# %% [markdown]
# One step ahead on the held-out shots, against the baselines and against two references that
# show what the autoencoder itself costs: decoding the true next frame's latent (what a perfect
# latent predictor would show) and decoding the current frame's latent (copy-last, through the
# autoencoder).

# %%
video_float = clip_frames.astype(np.float64) / 255.0
test_pairs = pairs[np.isin(clip_units[pairs[:, 0]], split["test"])]
has_previous = np.array(
    [a > 0 and clip_units[a - 1] == clip_units[a] for a in test_pairs[:, 0]]
)
test_pairs = test_pairs[has_previous]  # linear and flow need the frame before too
current, following = test_pairs[:, 0], test_pairs[:, 1]
with torch.no_grad():
    predicted_latents = latent_model(latents[current].to(device))
clip_candidates = {
    "latent network + autoencoder": decode(predicted_latents),
    "autoencoder: true next latent": decode(latents[following]),
    "autoencoder: copy-last latent": decode(latents[current]),
}
clip_candidates = {
    k: v.permute(0, 2, 3, 1).numpy()[:, None] for k, v in clip_candidates.items()
}
for name, p in baselines.BASELINES.items():
    clip_candidates[name] = np.stack([p(video_float[[a - 1, a]]) for a in current])[:, None]
clip_truth = video_float[following][:, None]
clip_mask = clip_masks[following][:, None]  # (N, 1, H, W): the picture of each next frame
clip_table = pd.DataFrame(
    {
        name: metrics.pixel_scores(pred, clip_truth, mask=clip_mask)
        for name, pred in clip_candidates.items()
    }
).T
print(
    f"{len(test_pairs)} held-out pairs from {split['test']}; autoencoder: {WEIGHTS_LABEL}"
)
clip_table.round(4)

# %%
shown = np.linspace(0, len(test_pairs) - 1, 4).astype(int)
viz.show_frames(
    np.concatenate(
        [
            clip_truth[shown, 0],
            clip_candidates["latent network + autoencoder"][shown, 0],
            clip_candidates["autoencoder: true next latent"][shown, 0],
        ]
    ),
    [f"truth #{following[i]}" for i in shown]
    + ["latent net + AE"] * len(shown)
    + ["AE of the truth"] * len(shown),
    cols=len(shown),
    size=2.0,
    suptitle=f"next frames on held-out shots ({plan['kind']} autoencoder weights)",
)
plt.show()

# %% [markdown]
# The decoded true latent is the reference for the whole pipeline: it is what a latent predictor
# that got the next latent exactly right would show, so its gap to the truth is what the
# autoencoder alone costs. The latent network is judged against the decoded copy-last latent:
# does predicting the change of the latent beat not changing it?

# %%
LATENT, CEILING = "latent network + autoencoder", "autoencoder: true next latent"
HOLD = "autoencoder: copy-last latent"
clip_psnr = clip_table["psnr"]
ceiling_vs_copy, ceiling_vs_copy_by = claims.versus(
    clip_psnr[CEILING], clip_psnr["copy last"], "dB", tolerance=0.05
)
net_vs_hold, net_vs_hold_by = claims.versus(
    clip_psnr[LATENT], clip_psnr[HOLD], "dB", digits=3, tolerance=0.005
)
claims.say(
    f"Through this autoencoder ({plan['kind']} weights), even the true next latent decodes to "
    f"{clip_psnr[CEILING]:.2f} dB, which {ceiling_vs_copy} copying the last frame "
    f"({clip_psnr['copy last']:.2f} dB) {ceiling_vs_copy_by}"
    + (
        ": the autoencoder's own reconstruction error is larger than the change from one frame "
        "to the next: to beat copy-last on these shots, a latent model would have to decode closer to the "
        "truth than the true next frame's own latent does, so the scores below measure the pipeline "
        "rather than what latent prediction can do."
        if ceiling_vs_copy != "beats"
        else ": the autoencoder draws these frames well enough for latent prediction to matter."
    )
)
claims.say(
    f"The latent network {net_vs_hold} the copy-last latent {net_vs_hold_by} "
    f"({clip_psnr[LATENT]:.3f} against {clip_psnr[HOLD]:.3f} dB, SSIM "
    f"{clip_table.loc[LATENT, 'ssim']:.3f} against {clip_table.loc[HOLD, 'ssim']:.3f}): "
    + {
        "beats": "predicting the change of the latent pays over leaving it unchanged.",
        "ties with": "predicting the change of the latent makes no measurable difference; "
        "the network has learnt little beyond the identity it starts from.",
        "loses to": "predicting the change of the latent does worse than predicting no change; "
        "its updates only add error on the held-out shots.",
    }[net_vs_hold]
)

# %% [markdown]
# A {term}`rollout` stays in latent space: each predicted latent is fed back without decoding, and
# only the frames shown are decoded. Two references run beside it: the first frame's latent
# held unchanged (decoded), and the first frame itself held unchanged (copy-last in pixels).

# %%
test_runs = list(datasets.unit_runs(clip_units, split["test"]).values())
horizon = min(10, min(len(positions) for positions in test_runs) - 1)


def as_frames(t: torch.Tensor) -> np.ndarray:
    return t.permute(0, 2, 3, 1).numpy()


latent_rollouts, held_latents = [], []
for positions in test_runs:
    z = latents[positions[:1]].to(device)
    steps = []
    with torch.no_grad():
        for _ in range(horizon):
            z = latent_model(z)
            steps.append(z)
    latent_rollouts.append(as_frames(decode(torch.cat(steps))))
    held_latents.append(as_frames(decode(latents[positions[:1]])).repeat(horizon, axis=0))
rollout_truth = np.stack(
    [video_float[positions[1 : 1 + horizon]] for positions in test_runs]
)
rollout_mask = np.stack([clip_masks[positions[1 : 1 + horizon]] for positions in test_runs])
held_frames = np.stack(
    [video_float[positions[:1]].repeat(horizon, axis=0) for positions in test_runs]
)
clip_drift = rollout.drift(np.stack(latent_rollouts), rollout_truth, mask=rollout_mask)
references = {
    "copy-last latent": rollout.drift(
        np.stack(held_latents), rollout_truth, mask=rollout_mask
    ),
    "copy last (pixels)": rollout.drift(held_frames, rollout_truth, mask=rollout_mask),
}
fig, drift_axes = plt.subplots(1, 2, figsize=(10, 3.2))
for column, ax, label in zip(
    ("psnr", "ssim"), drift_axes, ("PSNR (dB)", "SSIM"), strict=True
):
    ax.plot(clip_drift.index, clip_drift[column], marker=".", label="latent rollout")
    for name, reference in references.items():
        ax.plot(reference.index, reference[column], linestyle="--", label=name)
    ax.set(xlabel="step", ylabel=label)
drift_axes[0].legend()
fig.suptitle(
    f"latent rollouts: {len(test_runs)}, one from the first frame of each held-out shot ({horizon} steps)"
)
plt.tight_layout()
plt.show()

last = horizon
roll_vs_hold, roll_vs_hold_by = claims.versus(
    clip_drift.loc[last, "psnr"],
    references["copy-last latent"].loc[last, "psnr"],
    "dB",
    tolerance=0.05,
)
pixels_last = references["copy last (pixels)"].loc[last, "psnr"]
claims.say(
    f"The latent rollout's PSNR goes from {clip_drift.loc[1, 'psnr']:.2f} dB at step 1 to "
    f"{clip_drift.loc[last, 'psnr']:.2f} dB at step {last}; at step {last} it {roll_vs_hold} the "
    f"held copy-last latent {roll_vs_hold_by}, and copy-last in pixels stands at "
    f"{pixels_last:.2f} dB. These are {len(test_runs)} rollouts, one from the first frame of each held-out "
    "shot, so the curves are those of a few frames, not of an average over the shots' frames as in the "
    "one-step table above (which is why copy-last's step 1 differs from its one-step score there). "
    + {
        "beats": "Rolled forward, the predicted changes of the latent keep closer to the shots "
        "than a latent held still.",
        "ties with": "Rolled forward, the latent network does no better and no worse than a "
        "latent held still.",
        "loses to": "Rolled forward, the latent network drifts further from the shots than a "
        "latent held still: its predicted changes add up to error, not motion.",
    }[roll_vs_hold]
)

# %% [markdown]
# The benchmark's protocol on the shots (chapter 02): from the newest of the 2 given frames of
# every held-out window, 8 frames, rolled out in latent space and decoded, scored against the true
# ones and with the scores for generated video.

# %%
held = video_scores.held_out_clips(FRAME_SIZE)
with torch.no_grad():
    z = encode(tensors.frames_to_tensor(held.context[:, -1]) * 2 - 1)
    steps_made = []
    for _ in range(held.truth.shape[1]):
        z = latent_model(z.to(device))
        steps_made.append(tensors.tensor_to_frames(decode(z)))
protocol_clips = np.stack(steps_made, axis=1)
protocol_drift = rollout.drift(
    protocol_clips, held.truth, np.repeat(held.masks[:, None], held.truth.shape[1], axis=1)
)
results.write_result(
    CHAPTER,
    "latent network + autoencoder",
    f"clips@{FRAME_SIZE}px",
    split="test",
    protocol=video_scores.PROTOCOL
    if FRAME_SIZE == 64
    else f"{video_scores.PROTOCOL} (at {FRAME_SIZE} px)",
    profile=PROFILE,
    device=device,
    weights=WEIGHTS_LABEL,
    parameters=training.parameter_count(latent_model)
    + training.parameter_count(autoencoder),
    training_seconds=latent_run.seconds + autoencoder_run.seconds,
    generation_fps=None,
    metrics={
        "psnr": float(protocol_drift["psnr"].mean()),
        "ssim": float(protocol_drift["ssim"].mean()),
        "mse": float(protocol_drift["mse"].mean()),
        "mae": float(protocol_drift["mae"].mean()),
        "psnr_step1": float(protocol_drift["psnr"].iloc[0]),
        **video_scores.generation_scores(
            protocol_clips,
            held.truth,
            feature_ae,
            fps=held.fps,
            masks=held.masks,
            seed=SEED,
        ),
    },
    horizons=protocol_drift.reset_index().to_dict("records"),
    notes=video_scores.protocol_notes(feature_ae, len(held))
    + "; the latent network reads the newest given frame",
)
results.write_result(
    CHAPTER,
    "latent network + autoencoder",
    f"shots@{FRAME_SIZE}px (chapter 04 protocol)",
    split="test",
    protocol=f"one-step on test shots (pairs with a previous frame); latent rollout of {horizon} steps",
    profile=PROFILE,
    device=device,
    weights=WEIGHTS_LABEL,
    parameters=training.parameter_count(latent_model)
    + training.parameter_count(autoencoder),
    training_seconds=latent_run.seconds + autoencoder_run.seconds,
    generation_fps=None,
    metrics={
        **clip_table.loc["latent network + autoencoder"].to_dict(),
        "rollout_psnr": float(clip_drift["psnr"].mean()),
        "rollout_ssim": float(clip_drift["ssim"].mean()),
        "autoencoder_ceiling_psnr": float(
            clip_table.loc["autoencoder: true next latent", "psnr"]
        ),
    },
    horizons=clip_drift.reset_index().to_dict("records"),
    notes=f"held-out shots {', '.join(split['test'])}",
)
registry = results.results_table(results.load_results(chapter=CHAPTER, profile=PROFILE))
registry[["model", "dataset", "weights", "psnr", "ssim", "training_seconds"]].round(3)

# %% [markdown]
# ## Exercises
#
# 1. Set `BETA = 0` (no KL term). What happens to the diversity of the samples, and why?
# 2. Give the conditional VAE two input frames instead of one. Does the diversity shrink? In
#    theory it should: two frames tell the direction of motion.
# 3. Train the deterministic autoencoder with an L1 loss instead of BCE. Is it sharper?
# 4. With network access, rerun with `AUTOENCODER_WEIGHTS="auto"`: how close does the decoded
#    true latent now come to copy-last, and does the latent network beat the copy-last latent?
