"""Pretrained networks under the course's weights policy (chapter 00, section 6).

`plan_weights` decides where a chapter's weights come from (the model hub, a local folder, or a
tiny local configuration, labelled TINY_LABEL on every output made with it); the loaders follow
its plan.

`load_autoencoder` returns Stable Diffusion's image autoencoder (AutoencoderKL) through
diffusers' own `from_pretrained`, from the model hub or a local folder; offline it builds the
same class from a small local configuration with random weights, and says so in its plan.
`course_autoencoder` trains it once on the course's pictures and caches it: chapter 04 explains
it, the diffusion chapters encode frames with it, and helpers.video_scores takes its latents as
the features of its distribution scores.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import BadInputError

TINY_LABEL = "tiny offline weights: checks the pipeline, not the quality"


def hub_reachable(host: str = "huggingface.co", timeout: float = 2.0) -> bool:
    """Can this machine open a connection to the model hub? Offline machines answer fast."""
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        return False
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def plan_weights(spec: str, default_hub_id: str) -> dict[str, str]:
    """Decide where a chapter's pretrained weights come from.

    spec is a hub id ('org/name'), a local folder, 'auto' (the hub id `default_hub_id` when the
    hub answers, else tiny) or 'tiny' (a small local configuration of the same architecture).
    Returns {'kind': 'hub' | 'local' | 'tiny', 'id': ..., 'label': ..., 'reason': ...}; every
    output made with kind 'tiny' must carry the label.
    """
    if not isinstance(spec, str) or not spec:
        raise BadInputError(f"weights {spec!r}: give a hub id, a local folder, 'auto' or 'tiny'")
    if spec == "tiny":
        return {"kind": "tiny", "id": "tiny", "label": TINY_LABEL, "reason": "asked for tiny weights"}
    if Path(spec).expanduser().exists():
        return {
            "kind": "local",
            "id": str(Path(spec).expanduser()),
            "label": f"weights from {spec}",
            "reason": "local path",
        }
    hub_id = default_hub_id if spec == "auto" else spec
    if "/" not in hub_id:
        raise BadInputError(f"weights {spec!r}: not a local path and not a hub id of the form 'org/name'")
    if hub_reachable():
        return {"kind": "hub", "id": hub_id, "label": f"pretrained weights {hub_id}", "reason": "hub reachable"}
    return {
        "kind": "tiny",
        "id": "tiny",
        "label": TINY_LABEL,
        "reason": f"the model hub is not reachable from here, so {hub_id} cannot be downloaded",
    }


AUTOENCODER_HUB_ID = "stabilityai/sd-vae-ft-mse"
# The course autoencoder offline: Stable Diffusion's autoencoder class (down/up encoder blocks, a
# Gaussian latent), small enough to train on a laptop CPU in about two minutes: 3 levels (latents
# 4x smaller than the frame, not 8x), no attention, 8 latent channels (SD's has 4 at 8x: 64 x 64
# x 3 numbers become 16 x 16 x 8 here, 8 x 8 x 4 there).
COURSE_AUTOENCODER_CONFIG: dict[str, Any] = {
    "in_channels": 3,
    "out_channels": 3,
    "down_block_types": ["DownEncoderBlock2D"] * 3,
    "up_block_types": ["UpDecoderBlock2D"] * 3,
    "block_out_channels": [16, 32, 64],
    "layers_per_block": 1,
    "latent_channels": 8,
    "norm_num_groups": 8,
    "mid_block_add_attention": False,
}
# Chapter 08's renderer draws one kind of picture (the dancer on a stage) and trains a smaller one.
RENDERER_AUTOENCODER_CONFIG: dict[str, Any] = {
    **COURSE_AUTOENCODER_CONFIG,
    "block_out_channels": [16, 32, 32],
    "latent_channels": 4,
}
COURSE_AUTOENCODER_STEPS = 1800  # about two minutes on a 2-core laptop CPU (chapter 04 times it)


def load_autoencoder(
    weights: str = "auto", device: str = "cpu", sample_size: int = 64, tiny_config: dict[str, Any] | None = None
):
    """(AutoencoderKL, plan): from the hub or a local folder with `from_pretrained`, else built
    from `tiny_config` (default COURSE_AUTOENCODER_CONFIG) with random weights."""
    from diffusers import AutoencoderKL

    plan = plan_weights(weights, AUTOENCODER_HUB_ID)
    if plan["kind"] in ("hub", "local"):
        model = AutoencoderKL.from_pretrained(plan["id"])
    else:
        model = AutoencoderKL(**(tiny_config or COURSE_AUTOENCODER_CONFIG), sample_size=sample_size)
    return model.to(device), plan


def downsampling(model) -> int:
    """How many times smaller the latents are than the image (8 for Stable Diffusion's VAE)."""
    return 2 ** (len(model.config.block_out_channels) - 1)


@dataclass
class CourseAutoencoder:
    """The course's image autoencoder, trained (or fine-tuned) on the course's pictures and frozen.

    encode/decode work on batches of frames in [-1, 1] (N, 3, H, W) and on scaled latents
    (N, C, H/f, W/f); decode returns float frames in [0, 1] on the CPU, channels first.
    """

    model: Any
    plan: dict[str, str]
    label: str  # what to print next to every output made through it
    fit: Any  # helpers.training.FitResult of the training (all sessions)
    checkpoint: Path
    device: str

    @property
    def scale(self) -> float:
        return float(getattr(self.model.config, "scaling_factor", 1.0))

    @property
    def shrink(self) -> int:
        return downsampling(self.model)

    @property
    def latent_numbers(self) -> int:
        """How many numbers the latent of one square frame holds, per pixel of the frame side squared."""
        return int(self.model.config.latent_channels)

    @property
    def feature_label(self) -> str:
        """What to print beside a distribution score computed on this autoencoder's latents: which
        encoder the features come from. The tiny configuration is a network trained for this very
        use on the course's pictures, not a stand-in for a downloaded one, so the 'checks the
        pipeline' label of generated pictures does not apply to it."""
        steps = len(self.fit.history) if self.fit is not None else 0
        if self.plan["kind"] == "tiny":
            return (
                f"the course autoencoder's latents (a small AutoencoderKL trained here on the course's pictures, "
                f"{steps} steps, seed 0; chapter 04 measures its reconstructions)"
            )
        return f"the course autoencoder's latents ({self.plan['id']}, fine-tuned here {steps} steps)"

    def encode(self, images, batch: int = 64):
        import torch

        with torch.no_grad():
            parts = [self.model.encode(b.to(self.device)).latent_dist.mean for b in images.split(batch)]
        return torch.cat(parts) * self.scale

    def decode(self, latents, batch: int = 64):
        import torch

        with torch.no_grad():
            parts = [self.model.decode(z.to(self.device) / self.scale).sample for z in latents.split(batch)]
        return ((torch.cat(parts).float().clamp(-1, 1) + 1) / 2).cpu()

    def reconstruct(self, frames):
        """uint8 (N, H, W, 3) or [0, 1] float frames through the autoencoder: [0, 1] (N, H, W, 3)."""
        from .tensors import frames_to_tensor, tensor_to_frames

        return tensor_to_frames(self.decode(self.encode(frames_to_tensor(frames) * 2 - 1)))


def course_autoencoder(
    weights: str = "auto",
    size: int = 64,
    steps: int = COURSE_AUTOENCODER_STEPS,
    *,
    seed: int = 0,
    device: str = "cpu",
    batch_size: int = 16,
) -> CourseAutoencoder:
    """Stable Diffusion's autoencoder trained `steps` steps on the course's pictures at `size`
    pixels (chapter 04 explains it), trained once and cached under build/autoencoder/.

    The pictures are every training frame (flipped, zoomed in, colour-jittered) and the still
    photographs and textures that packages ship (datasets.still_images), as random crops: a few
    hundred frames of three films are too few for the network to learn pictures in general.
    Chapters 02-09 call this with their settings; equal settings (step count included) share one
    training run, and an interrupted run resumes from its checkpoint. Offline (`weights` 'tiny',
    or 'auto' with no hub) the same class is built small and trained from random weights; `label`
    says so.
    """
    import torch

    # the weights must not depend on which chapter trains them first: seed the model's
    # initialisation and the training's own noise from `seed` alone, and give the caller's random
    # state back untouched (forked), whether the run trains or loads its checkpoint
    with torch.random.fork_rng(devices=[] if device == "cpu" else None):
        torch.manual_seed(seed)
        return _train_course_autoencoder(weights, size, steps, seed, device, batch_size)


def _train_course_autoencoder(weights: str, size: int, steps: int, seed: int, device: str, batch_size: int):
    from .runtime import build_dir, settings_key

    model, plan = load_autoencoder(weights, device, sample_size=size)
    label = (
        plan["label"]
        if plan["kind"] != "tiny"
        else f"{plan['label']} (a small AutoencoderKL trained here from random weights)"
    )
    tiny = plan["kind"] == "tiny"
    crop = max(24, 4 * downsampling(model))  # crops of 24 px: three times the steps of whole frames
    settings = {
        "weights": plan["id"], "size": size, "steps": steps, "seed": seed, "batch": batch_size, "crop": crop,
        "config": COURSE_AUTOENCODER_CONFIG if tiny else None, "format": 3,
    }  # fmt: skip
    checkpoint = build_dir("autoencoder") / f"autoencoder-{settings_key(settings)}.pt"
    pictures = autoencoder_pictures(size, crop, batch_size, device)
    run = fit_autoencoder(
        model, pictures, steps, checkpoint, lr=2e-3 if tiny else 1e-4, seed=seed, device=device,
        batch_size=batch_size, desc="training the course autoencoder",
    )  # fmt: skip
    return CourseAutoencoder(model, plan, label, run, checkpoint, device)


def autoencoder_pictures(size: int, crop: int, batch_size: int, device: str = "cpu"):
    """batch_fn for training.fit: `batch_size` random crop x crop pictures in [-1, 1], half from the
    course's training frames at `size` (or zoomed in 1.5x), half from the still images at five
    scales, each flipped at random and jittered in brightness, contrast and saturation. Every draw
    comes from the generator fit passes, so an interrupted training resumes exactly."""
    import torch
    from PIL import Image

    from . import datasets

    frames, units = datasets.course_frames(size)
    zoomed, _ = datasets.course_frames(size * 3 // 2)
    train = datasets.positions_of(units, datasets.course_split(units)["train"])
    sources = [torch.from_numpy(frames[train]), torch.from_numpy(zoomed[train])]
    stills = []
    for image in datasets.still_images():
        height, width = image.shape[:2]
        for scale in (1.0, 1.5, 2.0, 3.0, 4.5):
            factor = size * scale / min(height, width)
            resized = Image.fromarray(image).resize(
                (max(crop, round(width * factor)), max(crop, round(height * factor))), Image.Resampling.LANCZOS
            )
            stills.append(torch.from_numpy(np.asarray(resized).copy()))

    def random_crop(picture, generator):
        top = int(torch.randint(0, picture.shape[0] - crop + 1, (1,), generator=generator))
        left = int(torch.randint(0, picture.shape[1] - crop + 1, (1,), generator=generator))
        return picture[top : top + crop, left : left + crop]

    def batch_fn(generator: torch.Generator):
        pictures = []
        for i in range(batch_size):
            if i < batch_size // 2:
                source = sources[int(torch.randint(0, 2, (1,), generator=generator))]
                picture = source[int(torch.randint(0, len(source), (1,), generator=generator))]
            else:
                picture = stills[int(torch.randint(0, len(stills), (1,), generator=generator))]
            picture = random_crop(picture, generator)
            if torch.rand(1, generator=generator) < 0.5:
                picture = picture.flip(1)
            pictures.append(picture)
        x = torch.stack(pictures).permute(0, 3, 1, 2).float() / 255
        brightness, contrast, saturation = torch.empty(3, batch_size, 1, 1, 1).uniform_(generator=generator) - 0.5
        grey = x.mean(1, keepdim=True)
        x = grey + (x - grey) * (1 + 0.6 * saturation)
        mean = x.mean((1, 2, 3), keepdim=True)
        x = ((x - mean) * (1 + 0.4 * contrast) + mean + 0.2 * brightness).clamp(0, 1)
        return (x * 2 - 1).to(device)

    return batch_fn


def fit_autoencoder(
    model, images, steps: int, checkpoint: str | Path, *, lr: float, seed: int, device: str, batch_size: int, desc: str
):
    """Train an AutoencoderKL to reconstruct pictures (MSE of the decoded posterior mean plus a tiny
    KL term), with a cosine learning-rate decay, resuming from `checkpoint`; returns the FitResult
    and leaves the model frozen. `images` is a tensor of pictures in [-1, 1] (N x 3 x H x W), or a
    batch_fn (autoencoder_pictures). Chapter 04 explains it; chapter 08 trains one on its dancer's
    pictures."""
    import math

    import torch
    import torch.nn.functional as F

    from . import training

    if callable(images):
        batch_fn = images
    else:

        def batch_fn(generator: torch.Generator):
            pick = torch.randint(0, len(images), (batch_size,), generator=generator)
            return images[pick].to(device)

    optimiser = torch.optim.Adam(model.parameters(), lr)

    def loss_fn(net, batch, step):
        for group in optimiser.param_groups:  # cosine decay from lr to 0 over the run
            group["lr"] = lr * 0.5 * (1 + math.cos(math.pi * step / max(1, steps)))
        posterior = net.encode(batch).latent_dist
        reconstruction = net.decode(posterior.mode()).sample
        mse = F.mse_loss(reconstruction.float(), batch)
        return mse + 1e-6 * posterior.kl().mean(), {"mse": mse.item()}

    run = training.fit(
        model, optimiser, batch_fn, loss_fn, steps, checkpoint, seed=seed, every=200, device=device, desc=desc,
    )  # fmt: skip
    model.requires_grad_(False).eval()
    return run
