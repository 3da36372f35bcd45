"""Scores for generated video: does it look like the data, does it move like the data, does it
flicker? PSNR and SSIM against one true future measure prediction; a generative model is for
plausible, moving, stable video, so every family's chapter also records these. Chapter 02
introduces them beside PSNR and SSIM and shows what each rewards on its baselines.

Clips are (N, T, H, W, C) batches, uint8 or float in [0, 1] (C = 1 or 3).

**A distribution score on the course's own features.** No downloaded network is needed: the
course autoencoder (helpers.pretrained.course_autoencoder, trained here and cached) encodes every
frame, and `clip_features` summarises a clip by what its latents hold (their mean over time on a
2 x 2 grid, their spread over space) and how they change (the size of the latent's change from
frame to frame, per channel, and the spread of each channel's mean over time). Between a set of
generated clips and a set of real ones:

- `frechet_distance`: the Fréchet distance between Gaussians fitted to the two sets (as FID and
  FVD compute it: pytorch-fid's square root and its offset to the covariances, which pytorch-fid adds
  when the root is not finite and this one also when SciPy finds the product singular, as it is
  with fewer clips than features);
- `kernel_distance`: KID, the unbiased estimate of the squared maximum mean discrepancy with the
  cubic polynomial kernel k(x, y) = (x.y / d + 1)^3, averaged over random subsets (torch-fidelity's
  estimator). Unlike the Fréchet distance it has no bias at small sample sizes.

Features are standardised by the real set's mean and spread first, so no feature outweighs the
others by its units. `distribution_noise` scores two random halves of the real set against each
other at several sample sizes: a difference between two models smaller than that is noise. The
content-bias check of Ge et al. (2024) is `shuffled_in_time`: shuffling the frames of real clips
keeps every frame as good as it was, so only a score that sees time worsens.

**VBench's dimensions that need no weights** (Huang et al., 2023; formulas from its code):

- `temporal_flickering`: (255 - mean |frame t+1 - frame t| on 0..255) / 255, averaged over clips;
  1 for a frozen clip (VBench applies it to videos of static scenes);
- `dynamic_degree`: the share of clips that move: optical flow (OpenCV's Farneback in place of
  RAFT) between frames sampled at about 8 fps, each pair scored by the mean of its largest 5% of
  flow magnitudes; a clip is dynamic when round(4 x frames / 16) pairs exceed 6 x min(H, W) / 256
  pixels;
- `motion_magnitude`: the mean flow magnitude in pixels per frame, to set beside the truth's;
- `subject_consistency`: VBench's formula, mean over frames i >= 1 of (max(0, cos(f_i-1, f_i)) +
  max(0, cos(f_0, f_i))) / 2, on the course autoencoder's latents in place of DINO features.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import linalg

from .baselines import optical_flow
from .errors import BadInputError
from .metrics import as_unit_float

FD_EPS = 1e-6  # added to both covariance diagonals when their product is singular
KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000  # torch-fidelity's default; smaller sets use all their clips per subset
DYNAMIC_FPS = 8.0  # VBench samples frames at about this rate before scoring motion
NOISE_SIZES = (8, 16, 32, 64)
SHOT_FPS = 25.0  # the course's clips run at 25 fps (bikes, bunny) and 29.97 (carphone): VBench's frame
# sampling rounds both to every third or fourth frame, so one nominal rate serves all of them


@dataclass
class HeldOutClips:
    """The course's held-out shots cut into clips for the generation scores: each clip's
    `context` frames are given, its `truth` frames are what a model makes next."""

    context: np.ndarray  # (N, context, S, S, 3) uint8
    truth: np.ndarray  # (N, frames, S, S, 3) uint8
    masks: np.ndarray  # (N, S, S) bool, True on picture content
    positions: np.ndarray  # (N, context + frames) positions into datasets.course_frames(S)
    fps: float  # the clips' frame rate (lower when frames are skipped)

    def __len__(self) -> int:
        return len(self.truth)


PROTOCOL = "2 given frames -> 8 made (rollout) on every window of the held-out shots, 64 px"


def protocol_notes(encoder, clips: int) -> str:
    """The note a registry record of the shot protocol carries: what the distribution scores were
    computed on and with which features, so the benchmark can say whether two records compare."""
    return (
        f"{clips} held-out clips, picture content only (letterbox padding blanked); distribution scores "
        f"on the course autoencoder's latents ({encoder.checkpoint.stem})"
    )


def held_out_clips(
    size: int = 64, context: int = 2, frames: int = 8, *, stride: int = 2, skip: int = 0
) -> HeldOutClips:
    """Every window of context + frames frames of the held-out shots (one starting every `stride`
    frames, `skip` frames left out between kept ones) at `size` pixels: the one protocol on which
    every family's generated clips are scored (chapter 02 defines it; 2 + 8 frames at 64 px)."""
    from . import datasets

    video, units = datasets.course_frames(size)
    masks = datasets.content_masks(units, size)
    positions = datasets.held_out_windows(units, context + frames, skip=skip, stride=stride)
    clips = video[positions]
    fps = SHOT_FPS / (skip + 1)
    return HeldOutClips(clips[:, :context], clips[:, context:], masks[positions[:, 0]], positions, fps)


def feature_encoder(steps: int | None = None, device: str = "cpu"):
    """The course autoencoder whose latents are the features of the distribution scores: always
    the one trained here (tiny offline weights, 64 px, seed 0, `steps` steps), whatever weights or
    seed a chapter uses, so that every record's scores come from the same encoder. Chapters 04, 05
    and 07 with the same step count share its cached training."""
    from .pretrained import COURSE_AUTOENCODER_STEPS, course_autoencoder

    return course_autoencoder("tiny", 64, COURSE_AUTOENCODER_STEPS if steps is None else steps, seed=0, device=device)


def blank_padding(clips: Any, masks: Any) -> np.ndarray:
    """Clips (N, T, H, W, C) with the letterbox padding set to black, from masks (N, H, W) True on
    picture content: what the scores then see is the picture alone."""
    array = as_clips(clips)
    masks = np.asarray(masks, dtype=bool)
    if masks.shape != (array.shape[0], *array.shape[2:4]):
        raise BadInputError(f"masks of shape {masks.shape}: expected one (H, W) mask per clip, {array.shape[0]}")
    return array * masks[:, None, :, :, None]


def as_clips(clips: Any, name: str = "clips") -> np.ndarray:
    """A batch of clips (N, T, H, W, C) as float64 in [0, 1], with at least 2 frames each."""
    array = as_unit_float(clips, name)
    if array.ndim != 5:
        raise BadInputError(f"{name}: expected a batch of clips (N, T, H, W, C), got shape {array.shape}")
    if array.shape[1] < 2:
        raise BadInputError(f"{name}: clips of {array.shape[1]} frame; every score here needs 2 or more")
    return array


# --- features of the course autoencoder ---------------------------------------------------------


def frame_latents(clips: Any, autoencoder, batch: int = 64) -> np.ndarray:
    """The course autoencoder's latent of every frame, (N, T, C, h, w) float32. Grey clips are
    given three equal channels; frames are encoded at their own size."""
    import torch

    array = as_clips(clips)
    n, t = array.shape[:2]
    frames = array.reshape(n * t, *array.shape[2:])
    if frames.shape[-1] == 1:
        frames = np.repeat(frames, 3, axis=-1)
    images = torch.from_numpy(frames.astype(np.float32)).permute(0, 3, 1, 2) * 2 - 1
    latents = autoencoder.encode(images, batch=batch).float().cpu().numpy()
    return latents.reshape(n, t, *latents.shape[1:])


def latent_features(latents: np.ndarray) -> np.ndarray:
    """(N, T, C, h, w) latents -> (N, 7C) clip features: the time-averaged latent on a 2 x 2 grid
    (4C) and its spatial spread (C), what the frames hold; the mean size of the frame-to-frame
    change per channel (C) and the spread over time of each channel's mean (C), how it moves."""
    z = np.asarray(latents, dtype=np.float64)
    if z.ndim != 5 or z.shape[1] < 2:
        raise BadInputError(f"latents: expected (N, T >= 2, C, h, w), got shape {z.shape}")
    n, t, c, h, w = z.shape
    grid = z[..., : h // 2 * 2, : w // 2 * 2].reshape(n, t, c, 2, h // 2, 2, w // 2).mean(axis=(4, 6))
    content = grid.mean(axis=1).reshape(n, 4 * c)
    texture = z.std(axis=(3, 4)).mean(axis=1)
    change = np.abs(np.diff(z, axis=1)).mean(axis=(1, 3, 4))
    drift = z.mean(axis=(3, 4)).std(axis=1)
    return np.concatenate([content, texture, change, drift], axis=1)


def clip_features(clips: Any, autoencoder) -> np.ndarray:
    """Features of every clip (N, 7C) for the distribution scores (see latent_features)."""
    return latent_features(frame_latents(clips, autoencoder))


def standardiser(reference: np.ndarray):
    """A function that maps features to the units of `reference`: minus its mean, over its spread
    (features that do not vary in the reference keep unit scale)."""
    reference = np.asarray(reference, dtype=np.float64)
    mean, std = reference.mean(axis=0), reference.std(axis=0)
    std = np.where(std > 1e-12, std, 1.0)
    return lambda features: (np.asarray(features, dtype=np.float64) - mean) / std


# --- distances between two sets -----------------------------------------------------------------


def _feature_sets(a: Any, b: Any, minimum: int) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise BadInputError(f"features of shapes {a.shape} and {b.shape}: need (N, D) and (M, D) with the same D")
    if min(len(a), len(b)) < minimum:
        raise BadInputError(f"feature sets of {len(a)} and {len(b)} rows: each needs {minimum} or more")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise BadInputError("features: NaN or infinite values")
    return a, b


def _matrix_root(product: np.ndarray) -> tuple[np.ndarray, bool]:
    """The square root of a covariance product and whether SciPy found it singular or inexact (its
    warning is caught here: the caller regularises instead of printing it)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        root, _ = linalg.sqrtm(product, disp=False)
    singular = any(issubclass(w.category, (linalg.LinAlgWarning, RuntimeWarning)) for w in caught)
    return root, singular or not np.isfinite(root).all()


def frechet_distance(a: Any, b: Any) -> float:
    """||mu_a - mu_b||^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2)) between Gaussians fitted to two feature
    sets (N, D) and (M, D), as FID and FVD compute it."""
    a, b = _feature_sets(a, b, 2)
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    s_a, s_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    root, singular = _matrix_root(s_a @ s_b)
    if singular:  # fewer clips than features, or features that do not vary
        offset = np.eye(len(s_a)) * FD_EPS
        root, _ = _matrix_root((s_a + offset) @ (s_b + offset))
    root = np.real(root)
    diff = mu_a - mu_b
    return float(max(0.0, diff @ diff + np.trace(s_a) + np.trace(s_b) - 2 * np.trace(root)))


def _mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    d = x.shape[1]
    k_xx = (x @ x.T / d + 1) ** 3
    k_yy = (y @ y.T / d + 1) ** 3
    k_xy = (x @ y.T / d + 1) ** 3
    m = len(x)
    within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
    return float(within - 2 * k_xy.sum() / m**2)


def kernel_distance(
    a: Any, b: Any, *, subsets: int = KID_SUBSETS, subset_size: int = KID_SUBSET_SIZE, seed: int = 0
) -> tuple[float, float]:
    """KID between two feature sets: the unbiased squared MMD with the kernel (x.y / D + 1)^3 on
    `subsets` random subsets of min(subset_size, N, M) rows of each set (without replacement).
    Returns (mean, standard deviation over the subsets). Near 0 for sets from one distribution;
    it can dip below 0 by chance, since the estimate is unbiased."""
    a, b = _feature_sets(a, b, 2)
    size = min(subset_size, len(a), len(b))
    rng = np.random.RandomState(seed)
    values = [
        _mmd2_unbiased(a[rng.choice(len(a), size, replace=False)], b[rng.choice(len(b), size, replace=False)])
        for _ in range(subsets)
    ]
    return float(np.mean(values)), float(np.std(values))


def distribution_scores(generated: np.ndarray, real: np.ndarray, standardise=None, seed: int = 0) -> dict[str, float]:
    """{'fd': ..., 'kid': ..., 'kid_std': ..., 'clips': N} of generated features against real ones,
    both standardised by `standardise` (default: the real set's own units)."""
    standardise = standardise or standardiser(real)
    g, r = standardise(generated), standardise(real)
    kid, kid_std = kernel_distance(g, r, seed=seed)
    return {"fd": frechet_distance(g, r), "kid": kid, "kid_std": kid_std, "clips": float(len(g))}


def far_from_data(made: dict, reference: dict, reference_name: str, factor: float = 100.0) -> str:
    """A sentence for a KID far above a reference's (more than `factor` times): what the size means.
    `made` and `reference` are generation_scores rows (with "kid" and "fd"); "" when it is not far."""
    if not made["kid"] > factor * max(reference["kid"], 1e-12):
        return ""
    return (
        f"That KID is {made['kid'] / reference['kid']:,.0f} times {reference_name}'s: KID has no fixed scale "
        "and grows much faster than the distance between two sets (chapter 02, section 9); FD, which grows "
        f"with its square, is {made['fd'] / reference['fd']:,.0f} times {reference_name}'s (FD "
        f"{made['fd']:.1f} against {reference['fd']:.1f})."
    )


def distribution_noise(real: np.ndarray, sizes: Sequence[int] = NOISE_SIZES, repeats: int = 10, seed: int = 0):
    """How much the distribution scores move between two random, disjoint halves of the real set:
    one row per sample size (each half that many clips), with the mean and spread over `repeats`
    splits. A difference between two models below these values is noise at that sample size."""
    import pandas as pd

    real = np.asarray(real, dtype=np.float64)
    standardise = standardiser(real)
    rng = np.random.default_rng(seed)
    rows = []
    for size in sizes:
        if 2 * size > len(real):
            continue
        fds, kids = [], []
        for _ in range(repeats):
            order = rng.permutation(len(real))
            first, second = real[order[:size]], real[order[size : 2 * size]]
            fds.append(frechet_distance(standardise(first), standardise(second)))
            kids.append(kernel_distance(standardise(first), standardise(second), subsets=20, seed=seed)[0])
        rows.append(
            {
                "clips per set": size,
                "fd mean": float(np.mean(fds)),
                "fd spread": float(np.std(fds)),
                "kid mean": float(np.mean(kids)),
                "kid spread": float(np.std(kids)),
            }
        )
    if not rows:
        raise BadInputError(f"{len(real)} real clips: too few to split into two sets of {min(sizes)}")
    return pd.DataFrame(rows).set_index("clips per set")


def shuffled_in_time(clips: Any, seed: int = 0) -> np.ndarray:
    """The same clips with their frames in a random order (each clip its own order, never the
    original one): every frame is untouched, only time is broken."""
    array = np.asarray(clips)
    if array.ndim != 5 or array.shape[1] < 2:
        raise BadInputError(f"clips: expected (N, T >= 2, H, W, C), got shape {array.shape}")
    rng = np.random.default_rng(seed)
    out = np.empty_like(array)
    identity = np.arange(array.shape[1])
    for i, clip in enumerate(array):
        order = identity
        while np.array_equal(order, identity):
            order = rng.permutation(array.shape[1])
        out[i] = clip[order]
    return out


def shuffle_check(features: np.ndarray, shuffled: np.ndarray, sizes: Sequence[int] = NOISE_SIZES, repeats: int = 10,
                  seed: int = 0):  # fmt: skip
    """Ge et al.'s check that a distribution score sees time, at several sample sizes: for random
    disjoint halves A and B of the real clips, the score of A against B (the noise) and of A with
    its frames shuffled in time against B. `features` and `shuffled` are the clip features of the
    real clips and of the same clips shuffled (row i the same clip). Returns one row per size:
    mean and spread over `repeats` splits of each score (FD and KID), and the gap in units of
    the real score's spread."""
    import pandas as pd

    features, shuffled = np.asarray(features, dtype=np.float64), np.asarray(shuffled, dtype=np.float64)
    if features.shape != shuffled.shape:
        raise BadInputError(f"features {features.shape} and shuffled {shuffled.shape}: one row per clip in both")
    standardise = standardiser(features)
    rng = np.random.default_rng(seed)
    rows = []
    for size in sizes:
        if 2 * size > len(features):
            continue
        values: dict[str, list[float]] = {"fd real": [], "fd shuffled": [], "kid real": [], "kid shuffled": []}
        for _ in range(repeats):
            order = rng.permutation(len(features))
            a, b = order[:size], order[size : 2 * size]
            reference = standardise(features[b])
            for name, rows_a in (("real", features[a]), ("shuffled", shuffled[a])):
                values[f"fd {name}"].append(frechet_distance(standardise(rows_a), reference))
                values[f"kid {name}"].append(kernel_distance(standardise(rows_a), reference, subsets=20, seed=seed)[0])
        row: dict[str, float] = {"clips per set": size}
        for key, numbers in values.items():
            row[f"{key} mean"], row[f"{key} spread"] = float(np.mean(numbers)), float(np.std(numbers))
        for score in ("fd", "kid"):
            gap = row[f"{score} shuffled mean"] - row[f"{score} real mean"]
            row[f"{score} gap / spread"] = gap / max(row[f"{score} real spread"], 1e-12)
        rows.append(row)
    if not rows:
        raise BadInputError(f"{len(features)} clips: too few to split into two sets of {min(sizes)}")
    return pd.DataFrame(rows).set_index("clips per set")


# --- VBench's weight-free dimensions ------------------------------------------------------------


def temporal_flickering(clips: Any, per_clip: bool = False) -> float | np.ndarray:
    """VBench's temporal flickering: (255 - mean absolute difference of consecutive frames on the
    0..255 scale) / 255 per clip, averaged. 1 for a frozen clip; lower flickers (or moves) more."""
    array = as_clips(clips)
    diffs = np.abs(np.diff(array * 255.0, axis=1)).mean(axis=(2, 3, 4))  # (N, T-1)
    scores = (255.0 - diffs.mean(axis=1)) / 255.0
    return scores if per_clip else float(scores.mean())


def _flow_magnitudes(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    flow = optical_flow(a, b)
    return np.sqrt((flow**2).sum(axis=-1)).ravel()


def dynamic_degree(clips: Any, fps: float, per_clip: bool = False) -> float | np.ndarray:
    """VBench's dynamic degree: the share of clips that move (see the module docstring), with
    Farneback flow in place of RAFT. `fps` is the clips' frame rate; frames are sampled every
    max(1, round(fps / 8)) frames, as VBench does."""
    array = as_clips(clips)
    if not fps > 0:
        raise BadInputError(f"fps={fps}: must be above 0")
    interval = max(1, int(round(fps / DYNAMIC_FPS)))
    sampled = array[:, ::interval]
    height, width = array.shape[2:4]
    threshold = 6.0 * min(height, width) / 256.0
    needed = round(4 * sampled.shape[1] / 16.0)
    verdicts = []
    for clip in sampled:
        scores = []
        for a, b in zip(clip[:-1], clip[1:], strict=True):
            magnitudes = np.sort(_flow_magnitudes(a, b))[::-1]
            cut = max(1, int(len(magnitudes) * 0.05))
            scores.append(float(magnitudes[:cut].mean()))
        verdicts.append(sum(s > threshold for s in scores) >= needed and len(scores) > 0)
    verdicts = np.asarray(verdicts, dtype=np.float64)
    return verdicts if per_clip else float(verdicts.mean())


def motion_magnitude(clips: Any) -> float:
    """Mean optical-flow magnitude between consecutive frames, in pixels per frame (0 for a frozen
    clip). Read it next to the truth's: a model that moves too little or too much shows here."""
    array = as_clips(clips)
    values = [_flow_magnitudes(a, b).mean() for clip in array for a, b in zip(clip[:-1], clip[1:], strict=True)]
    return float(np.mean(values))


def subject_consistency(latents: np.ndarray, per_clip: bool = False) -> float | np.ndarray:
    """VBench's subject consistency on the course autoencoder's latents (N, T, C, h, w): for every
    frame after the first, the mean of its cosine similarity to the frame before and to the first
    frame (each clipped at 0); averaged over frames and clips. 1 for a frozen clip."""
    z = np.asarray(latents, dtype=np.float64)
    if z.ndim != 5 or z.shape[1] < 2:
        raise BadInputError(f"latents: expected (N, T >= 2, C, h, w), got shape {z.shape}")
    flat = z.reshape(*z.shape[:2], -1)
    flat = flat / np.maximum(np.linalg.norm(flat, axis=-1, keepdims=True), 1e-12)
    previous = np.maximum(0.0, (flat[:, 1:] * flat[:, :-1]).sum(-1))
    first = np.maximum(0.0, (flat[:, 1:] * flat[:, :1]).sum(-1))
    scores = ((previous + first) / 2).mean(axis=1)
    return scores if per_clip else float(scores.mean())


# --- everything at once, for a registry record ----------------------------------------------------


def generation_scores(
    generated: Any,
    real: Any,
    autoencoder,
    *,
    fps: float,
    masks: Any = None,
    seed: int = 0,
    real_latents: np.ndarray | None = None,
) -> dict[str, float]:
    """Every score of this module for generated clips against real ones of the same length and
    size (not necessarily the same clips): the distribution scores on course features, and
    VBench's weight-free dimensions for both sets, with the generated motion over the real.
    `masks` ((N, H, W) for the generated clips, or one (H, W) for all) blanks the letterbox
    padding of the generated clips, as the real clips' own padding is black already.
    `real_latents`, the real clips' frame_latents when a caller scores several generated sets
    against the same real ones, saves encoding them again for each set; `real` may also be what
    real_reference returns, which saves every other computation on the real clips too.

    Keys: fd, kid, kid_std, clips, temporal_flickering (+ _real), dynamic_degree (+ _real),
    motion_magnitude (+ _real), motion_ratio, subject_consistency (+ _real)."""
    reference = real if isinstance(real, dict) else None
    true = reference["clips"] if reference is not None else as_clips(real, "real")
    made = as_clips(generated, "generated")
    if masks is not None:
        masks = np.asarray(masks, dtype=bool)
        made = blank_padding(made, np.broadcast_to(masks, (len(made), *made.shape[2:4])) if masks.ndim == 2 else masks)
    if made.shape[1:] != true.shape[1:]:
        raise BadInputError(f"generated clips {made.shape[1:]} and real clips {true.shape[1:]} must match in shape")
    made_latents = frame_latents(made, autoencoder)
    if reference is None:
        reference = real_reference(true, autoencoder, fps=fps, latents=real_latents)
    elif reference["fps"] != fps:
        raise BadInputError(f"fps={fps}: the real clips' reference was made at fps={reference['fps']}")
    real_latents = reference["latents"]
    scores = distribution_scores(latent_features(made_latents), latent_features(real_latents), seed=seed)
    moving, moving_real = motion_magnitude(made), reference["motion_magnitude_real"]
    scores.update(
        {
            "temporal_flickering": temporal_flickering(made),
            "temporal_flickering_real": reference["temporal_flickering_real"],
            "dynamic_degree": dynamic_degree(made, fps),
            "dynamic_degree_real": reference["dynamic_degree_real"],
            "motion_magnitude": moving,
            "motion_magnitude_real": moving_real,
            "motion_ratio": moving / moving_real if moving_real > 0 else float("nan"),
            "subject_consistency": subject_consistency(made_latents),
            "subject_consistency_real": reference["subject_consistency_real"],
        }
    )
    return scores


def real_reference(real: Any, autoencoder, *, fps: float, latents: np.ndarray | None = None) -> dict[str, Any]:
    """What generation_scores computes of the real clips alone (their latents, flicker, dynamic
    degree, motion and consistency), once: pass it as `real` to score several generated sets
    against the same real clips without encoding them and estimating their flow each time.
    `latents`, their frame_latents where the caller has them already."""
    true = as_clips(real, "real")
    if latents is None:
        latents = frame_latents(true, autoencoder)
    elif np.shape(latents)[:2] != true.shape[:2]:
        raise BadInputError(
            f"real_latents of shape {np.shape(latents)}: expected the frame_latents of the {true.shape[0]} "
            f"real clips of {true.shape[1]} frames"
        )
    return {
        "clips": true,
        "latents": latents,
        "fps": fps,
        "temporal_flickering_real": temporal_flickering(true),
        "dynamic_degree_real": dynamic_degree(true, fps),
        "motion_magnitude_real": motion_magnitude(true),
        "subject_consistency_real": subject_consistency(latents),
    }
