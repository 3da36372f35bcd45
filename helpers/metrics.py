"""Scores for predicted frames: pixel errors, PSNR, SSIM, temporal consistency, CLIP similarity.

Frames are (T, H, W, C) sequences or (N, T, H, W, C) batches with C = 1 (grey) or 3 (RGB), either
uint8 (0..255) or float in [0, 1]; anything else is refused with a message naming the shape or
range found. Every score takes an optional `mask` ((H, W), (T, H, W) or (N, T, H, W) bool, True
on picture content): letterbox padding is black in prediction and truth alike, so scoring it
would count a band of perfect pixels and inflate PSNR and SSIM. Clip.content_mask() and
datasets.content_masks() give the mask. Chapter 02 explains each score and what it rewards.
"""

from __future__ import annotations

import json
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from scipy.ndimage import uniform_filter

from .baselines import optical_flow, warp
from .errors import BadInputError
from .pretrained import TINY_LABEL, plan_weights

PSNR_CAP = 100.0  # dB, for frames predicted exactly (the error is 0 and the true PSNR infinite)


# --- input checks ---------------------------------------------------------------------------


def as_unit_float(frames: Any, name: str = "frames") -> np.ndarray:
    """Frames as float64 in [0, 1]: uint8 is divided by 255, floats must already lie in [0, 1]."""
    array = np.asarray(frames)
    if array.size == 0:
        raise BadInputError(f"{name}: empty (shape {array.shape}); expected at least one frame")
    if array.ndim not in (4, 5) or array.shape[-1] not in (1, 3):
        raise BadInputError(
            f"{name}: expected (T, H, W, C) or (N, T, H, W, C) frames with C = 1 or 3, got shape {array.shape}"
            + ("; give grey frames a channel axis: frames[..., None]" if array.ndim in (3, 4) else "")
        )
    if array.dtype == np.uint8:
        return array.astype(np.float64) / 255.0
    if not np.issubdtype(array.dtype, np.floating):
        raise BadInputError(f"{name}: dtype {array.dtype}; expected uint8 (0..255) or float in [0, 1]")
    if not np.isfinite(array).all():
        bad = int((~np.isfinite(array)).sum())
        raise BadInputError(f"{name}: {bad} NaN or infinite values; expected float in [0, 1]")
    low, high = float(array.min()), float(array.max())
    if low < -1e-6 or high > 1 + 1e-6:
        hint = (
            " (a tanh output? map it with (x + 1) / 2)" if low < 0 else " (uint8 values stored as float? divide by 255)"
        )
        raise BadInputError(f"{name}: float values in [{low:.3g}, {high:.3g}]; expected [0, 1]{hint}")
    return np.clip(array.astype(np.float64), 0.0, 1.0)


def paired(prediction: Any, truth: Any) -> tuple[np.ndarray, np.ndarray]:
    """Both sequences checked and converted; their shapes must be identical."""
    pred = as_unit_float(prediction, "prediction")
    true = as_unit_float(truth, "truth")
    if pred.shape != true.shape:
        raise BadInputError(f"prediction has shape {pred.shape} but truth has shape {true.shape}; they must match")
    return pred, true


# --- content masks --------------------------------------------------------------------------


def content_weights(mask: Any, frames: np.ndarray) -> np.ndarray | None:
    """`mask` as float weights of shape frames.shape[:-1] + (1,), or None for "every pixel".

    The mask has the frames' (H, W), optionally with their leading axes: (H, W), (T, H, W) or
    (N, T, H, W), True where the picture is."""
    if mask is None:
        return None
    array = np.asarray(mask)
    if array.dtype != bool:
        raise BadInputError(f"mask: dtype {array.dtype}; expected bool (True on picture content)")
    target = frames.shape[:-1]
    if array.shape[-2:] != target[-2:] or array.ndim > len(target):
        raise BadInputError(f"mask: shape {array.shape} does not fit frames of shape {frames.shape}")
    try:
        weights = np.broadcast_to(array[..., None], (*target, 1)).astype(np.float64)
    except ValueError:
        raise BadInputError(f"mask: shape {array.shape} does not fit frames of shape {frames.shape}") from None
    if not weights.any(axis=(-3, -2, -1)).all():
        raise BadInputError("mask: a frame has no picture pixel left to score (its mask is all False)")
    return weights


def _per_frame_mean(values: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """Mean over (H, W, C) of each frame, over the masked pixels only when weights are given."""
    if weights is None:
        return values.mean(axis=(-3, -2, -1))
    return (values * weights).sum(axis=(-3, -2, -1)) / (weights.sum(axis=(-3, -2, -1)) * values.shape[-1])


def _per_frame_sum(values: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    return values.sum(axis=(-3, -2, -1)) if weights is None else (values * weights).sum(axis=(-3, -2, -1))


# --- pixel scores ---------------------------------------------------------------------------


def mse(prediction: Any, truth: Any, mask: Any = None) -> float:
    """Mean squared error per pixel and channel, on [0, 1] data (over the masked pixels)."""
    return float(np.mean(mse_per_frame(prediction, truth, mask)))


def mae(prediction: Any, truth: Any, mask: Any = None) -> float:
    """Mean absolute error per pixel and channel, on [0, 1] data (over the masked pixels)."""
    return float(np.mean(mae_per_frame(prediction, truth, mask)))


def mse_per_frame(prediction: Any, truth: Any, mask: Any = None) -> np.ndarray:
    """MSE of every frame: shape (T,) for a sequence, (N, T) for a batch."""
    pred, true = paired(prediction, truth)
    return _per_frame_mean((pred - true) ** 2, content_weights(mask, pred))


def mae_per_frame(prediction: Any, truth: Any, mask: Any = None) -> np.ndarray:
    """MAE of every frame: shape (T,) for a sequence, (N, T) for a batch."""
    pred, true = paired(prediction, truth)
    return _per_frame_mean(np.abs(pred - true), content_weights(mask, pred))


def openstl_mse(prediction: Any, truth: Any, mask: Any = None) -> float:
    """MSE as OpenSTL reports it: squared error summed over C x H x W per frame, then averaged
    over frames and samples, on [0, 1] data. For 64x64 grey Moving MNIST that is 4096 times
    the per-pixel MSE; grey frames must have one channel, or the sum triples."""
    pred, true = paired(prediction, truth)
    return float(np.mean(_per_frame_sum((pred - true) ** 2, content_weights(mask, pred))))


def openstl_mae(prediction: Any, truth: Any, mask: Any = None) -> float:
    """MAE in the OpenSTL convention (absolute error summed per frame, averaged over frames)."""
    pred, true = paired(prediction, truth)
    return float(np.mean(_per_frame_sum(np.abs(pred - true), content_weights(mask, pred))))


def psnr_per_frame(prediction: Any, truth: Any, mask: Any = None) -> np.ndarray:
    """Peak signal-to-noise ratio of every frame, 10 log10(1 / MSE) in dB, capped at PSNR_CAP."""
    errors = mse_per_frame(prediction, truth, mask)
    with np.errstate(divide="ignore"):
        values = 10.0 * np.log10(1.0 / errors)
    return np.minimum(values, PSNR_CAP)


def psnr(prediction: Any, truth: Any, mask: Any = None) -> float:
    """PSNR averaged over frames (each frame's PSNR first, as video papers report it)."""
    return float(np.mean(psnr_per_frame(prediction, truth, mask)))


def ssim_per_frame(prediction: Any, truth: Any, win_size: int = 7, mask: Any = None) -> np.ndarray:
    """Structural similarity of every frame, the same computation as
    skimage.metrics.structural_similarity(data_range=1, channel_axis=-1) with its defaults
    (7x7 uniform window, K1=0.01, K2=0.03, sample covariance), vectorised over frames.

    With a mask, the mean is over the windows that lie wholly on picture content."""
    pred, true = paired(prediction, truth)
    weights = content_weights(mask, pred)
    height, width = pred.shape[-3:-1]
    if min(height, width) < win_size:
        raise BadInputError(f"frames of {height}x{width}: SSIM needs at least {win_size}x{win_size} pixels")
    size = [1] * (pred.ndim - 3) + [win_size, win_size, 1]
    filt = lambda x: uniform_filter(x, size=size, mode="reflect")  # noqa: E731
    n = win_size * win_size
    cov_norm = n / (n - 1)
    mu_x, mu_y = filt(pred), filt(true)
    vx = cov_norm * (filt(pred * pred) - mu_x * mu_x)
    vy = cov_norm * (filt(true * true) - mu_y * mu_y)
    vxy = cov_norm * (filt(pred * true) - mu_x * mu_y)
    c1, c2 = 0.01**2, 0.03**2
    s = ((2 * mu_x * mu_y + c1) * (2 * vxy + c2)) / ((mu_x**2 + mu_y**2 + c1) * (vx + vy + c2))
    pad = (win_size - 1) // 2
    if weights is not None:  # windows wholly inside the picture: no padding in the statistics
        inside = uniform_filter(weights, size=size, mode="constant") > 1 - 1e-9
        inside[..., :pad, :, :] = inside[..., height - pad :, :, :] = False
        inside[..., :, :pad, :] = inside[..., :, width - pad :, :] = False
        if not inside.any(axis=(-3, -2, -1)).all():
            raise BadInputError(f"mask: the picture of a frame is smaller than one {win_size}x{win_size} SSIM window")
        return _per_frame_mean(s, inside.astype(np.float64))
    cropped = s[..., pad : height - pad, pad : width - pad, :]
    return cropped.mean(axis=(-3, -2, -1))


def ssim(prediction: Any, truth: Any, mask: Any = None) -> float:
    return float(np.mean(ssim_per_frame(prediction, truth, mask=mask)))


# The units of pixel_scores' columns (and of sharpness), for the line under a table of them.
UNITS = (
    "psnr in dB (higher is better); ssim 1 = exact; mse and mae on the [0, 1] pixel scale (lower is "
    "better); sharpness: variance of the Laplacian of the grey image on the 0-255 scale (grey levels²)"
)


def pixel_scores(prediction: Any, truth: Any, mask: Any = None) -> dict[str, float]:
    """PSNR, SSIM, MSE and MAE of a prediction: the row every chapter's score tables are made of.
    With `mask`, on picture content only (letterbox padding left out)."""
    pred, true = paired(prediction, truth)
    return {
        "psnr": psnr(pred, true, mask),
        "ssim": ssim(pred, true, mask),
        "mse": mse(pred, true, mask),
        "mae": mae(pred, true, mask),
    }


def frame_change(frames: Any, per_frame: bool = False, mask: Any = None) -> float | np.ndarray:
    """Mean absolute difference between consecutive frames, on [0, 1] data: how much a sequence
    moves (0 for a frozen one). per_frame gives one value per consecutive pair instead. A mask
    of (H, W) or of the sequence's leading axes (the later frame of each pair is used)."""
    seq = as_unit_float(frames, "frames")
    if seq.shape[-4] < 2:
        raise BadInputError(f"frames: need at least 2 frames, got shape {seq.shape}")
    diff = np.abs(np.diff(seq, axis=-4))
    if mask is not None and np.ndim(mask) >= 3:
        mask = np.asarray(mask)[..., 1:, :, :]
    change = _per_frame_mean(diff, content_weights(mask, diff))
    return change if per_frame else float(change.mean())


def sharpness(frames: Any, mask: Any = None) -> float:
    """Mean variance of the Laplacian of each frame's grey image (on a 0..255 scale): high for crisp
    edges, low for blur. Not a comparison with the truth: it tells a blurry guess from a sharp one.
    With a mask, over the picture only, one pixel in from its edge (where padding makes an edge)."""
    seq = as_unit_float(frames, "frames")
    flat = seq.reshape(-1, *seq.shape[-3:])
    grey = (flat.mean(axis=-1) * 255).astype(np.float32)
    laplacians = np.stack([cv2.Laplacian(g, cv2.CV_32F) for g in grey])
    if mask is None:
        return float(np.mean(laplacians.var(axis=(-2, -1))))
    weights = content_weights(mask, seq).reshape(len(flat), *seq.shape[-3:-1])
    inner = np.stack([cv2.erode(w.astype(np.uint8), np.ones((3, 3), np.uint8)) for w in weights]).astype(bool)
    return float(np.mean([lap[m].var() for lap, m in zip(laplacians, inner, strict=True)]))


# --- temporal consistency -------------------------------------------------------------------


def warping_error(frames: Any, mask: Any = None) -> float:
    """Temporal consistency of one sequence: how well each frame is explained by moving the pixels
    of the frame before it. For every consecutive pair, estimate the flow from frame t+1 back to
    frame t, warp frame t forward with it, and take the mean absolute difference to frame t+1
    (over the picture only, with an (H, W) mask).

    Lower is smoother. A frozen video scores 0, so read it next to an accuracy score.
    """
    seq = as_unit_float(frames, "frames")
    if seq.ndim == 5:
        raise BadInputError(f"frames: one sequence (T, H, W, C) at a time, got a batch of shape {seq.shape}")
    if len(seq) < 2:
        raise BadInputError(f"frames: need at least 2 frames, got shape {seq.shape}")
    if mask is not None and np.ndim(mask) != 2:
        raise BadInputError(f"mask: one (H, W) mask for the whole sequence, got shape {np.shape(mask)}")
    weights = content_weights(mask, seq[:1])
    errors = []
    for previous, current in zip(seq[:-1], seq[1:], strict=True):
        flow = optical_flow(current, previous)
        difference = np.abs(warp(previous, flow) - current)[None]
        errors.append(float(_per_frame_mean(difference, weights)[0]))
    return float(np.mean(errors))


# --- feature similarity ---------------------------------------------------------------------


@dataclass(frozen=True)
class Score:
    """A score that may be unavailable: `value` is None and `reason` says why."""

    name: str
    value: float | None
    reason: str = ""

    @property
    def available(self) -> bool:
        return self.value is not None

    def __str__(self) -> str:
        return f"{self.value:.4f}" if self.available else f"unavailable ({self.reason})"


CLIP_HUB_ID = "timm/vit_base_patch32_clip_224.openai"
TINY_CLIP_CONFIG = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "layers": 2, "width": 32, "patch_size": 8, "head_width": 16},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}


@dataclass
class ClipEncoder:
    """An open_clip image encoder, its preprocessing and where its weights came from."""

    model: Any
    preprocess: Any
    plan: dict[str, str]

    @property
    def trained(self) -> bool:
        return self.plan["kind"] != "tiny"


def load_clip_encoder(weights: str = "auto", device: str = "cpu") -> ClipEncoder:
    """Load CLIP through open_clip's own loader: from the model hub, a local checkpoint, or, as
    'tiny', a two-layer ViT built from a local configuration with random weights (which checks
    the code path and measures nothing)."""
    import open_clip

    plan = plan_weights(weights, CLIP_HUB_ID)
    if plan["kind"] == "hub":
        model, _, preprocess = open_clip.create_model_and_transforms(f"hf-hub:{plan['id']}", device=device)
    elif plan["kind"] == "local":
        model, _, preprocess = open_clip.create_model_and_transforms("ViT-B-32", pretrained=plan["id"], device=device)
    else:
        with tempfile.TemporaryDirectory() as folder:
            (Path(folder) / "course-tiny-clip.json").write_text(json.dumps(TINY_CLIP_CONFIG))
            open_clip.add_model_config(folder)
        root_logger = logging.getLogger()  # open_clip warns that no weights were loaded: we say so ourselves
        level = root_logger.level
        root_logger.setLevel(logging.ERROR)
        try:
            model, _, preprocess = open_clip.create_model_and_transforms("course-tiny-clip", device=device)
        finally:
            root_logger.setLevel(level)
    model.eval()
    return ClipEncoder(model, preprocess, plan)


def clip_features(frames: Any, encoder: ClipEncoder) -> np.ndarray:
    """L2-normalised image features of each frame, shape (T, D)."""
    import torch
    from PIL import Image

    seq = as_unit_float(frames, "frames")
    seq = seq.reshape(-1, *seq.shape[-3:])
    images = [Image.fromarray(np.round(frame * 255).astype(np.uint8).squeeze()) for frame in seq]
    batch = torch.stack([encoder.preprocess(image.convert("RGB")) for image in images])
    device = next(encoder.model.parameters()).device
    with torch.no_grad():
        features = encoder.model.encode_image(batch.to(device)).float()
    return torch.nn.functional.normalize(features, dim=-1).cpu().numpy()


def clip_similarity(prediction: Any, truth: Any, encoder: ClipEncoder | None = None, weights: str = "auto") -> Score:
    """Mean cosine similarity of CLIP image features between predicted and true frames.

    The source projects judged generated frames this way. With pretrained CLIP weights it is a
    score; with tiny offline weights it is unavailable, because features of a random network
    say nothing about the pictures.
    """
    pred, true = paired(prediction, truth)
    encoder = encoder or load_clip_encoder(weights)
    if not encoder.trained:
        return Score("clip similarity", None, f"{TINY_LABEL}; {encoder.plan['reason']}")
    cosine = np.sum(clip_features(pred, encoder) * clip_features(true, encoder), axis=-1)
    return Score("clip similarity", float(np.mean(cosine)))


# --- everything at once ---------------------------------------------------------------------


def all_scores(prediction: Any, truth: Any, encoder: ClipEncoder | None = None, mask: Any = None) -> dict[str, Any]:
    """Every score of this module for one predicted sequence (T, H, W, C) against the truth
    (on picture content only, with an (H, W) mask)."""
    pred, true = paired(prediction, truth)
    scores: dict[str, Any] = {
        "mse": mse(pred, true, mask),
        "mae": mae(pred, true, mask),
        "openstl_mse": openstl_mse(pred, true, mask),
        "psnr": psnr(pred, true, mask),
        "ssim": ssim(pred, true, mask),
    }
    if pred.ndim == 4 and len(pred) > 1:
        scores["warping_error"] = warping_error(pred, mask)
        scores["warping_error_truth"] = warping_error(true, mask)
    if encoder is not None:
        scores["clip_similarity"] = clip_similarity(pred, true, encoder)
    return scores
