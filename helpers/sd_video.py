"""Stable Diffusion img2img as a next-frame generator, with LoRA, and a fast stream path (chapter 05).

`load_base` returns diffusers' `StableDiffusionImg2ImgPipeline`: real Stable Diffusion weights
through `from_pretrained` when a hub id or folder is given and reachable; offline a small UNet of
the same class, trained here as an ordinary denoiser on the course's training shots with the
course autoencoder, cached under build/sd_tiny/ and labelled. `save_lora` / `load_lora` store a
trained next-frame LoRA with diffusers' LoRA API (safetensors) plus what the variant needs
besides. `StreamPath` is StreamDiffusion's recipe: few denoising steps on a fixed `t_index_list`,
a stream batch, a tiny decoder and a stochastic similarity filter.

Command line: continue a video with a trained LoRA,

    python -m helpers.sd_video continue VIDEO --lora DIR -n 23 --out clip.gif
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import BadInputError, run_command
from .pretrained import plan_weights
from .tensors import frames_to_tensor, tensor_to_frames

SD_HUB_ID = "stable-diffusion-v1-5/stable-diffusion-v1-5"
LORA_TARGETS = ["to_q", "to_k", "to_v", "to_out.0"]
VARIANTS = ("source objective", "noise prediction", "frame-conditioned")
LORA_INFO = "course_lora.json"
# Stable Diffusion 1.5's noise schedule (its scheduler_config.json)
SD_SCHEDULE: dict[str, Any] = {
    "num_train_timesteps": 1000,
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "clip_sample": False,
    "set_alpha_to_one": False,
    "steps_offset": 1,
    "prediction_type": "epsilon",
}
# The same UNet class as Stable Diffusion's (cross-attention blocks, a text-embedding input),
# small enough to train on a laptop CPU: two levels instead of four.
TINY_UNET_CONFIG: dict[str, Any] = {  # in and out channels: the latent channels of the autoencoder
    "block_out_channels": [32, 64],
    "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"],
    "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"],
    "layers_per_block": 1,
    "cross_attention_dim": 32,
    "attention_head_dim": 8,
    "norm_num_groups": 8,
}
PROMPT_TOKENS = 8  # offline: a fixed "prompt embedding" of this many tokens stands in for CLIP's


@dataclass
class Base:
    """A Stable Diffusion img2img pipeline and what it was built from."""

    pipe: Any  # StableDiffusionImg2ImgPipeline
    prompt_embeds: Any  # (1, tokens, dim): the prompt every frame is made with
    plan: dict[str, str]
    label: str
    settings: dict[str, Any]  # load_base's arguments: enough to build the same base again
    fit: Any = None  # helpers.training.FitResult of the offline UNet (None for real weights)
    device: str = "cpu"

    @property
    def size(self) -> int:
        return int(self.settings["size"])


def scheduler(kind: str = "ddim"):
    from diffusers import DDIMScheduler, DDPMScheduler

    if kind == "ddim":
        return DDIMScheduler(**SD_SCHEDULE)
    return DDPMScheduler(**{k: v for k, v in SD_SCHEDULE.items() if k != "set_alpha_to_one"})


def fixed_prompt(dim: int, seed: int = 0):
    """The offline prompt: a fixed random embedding, the same at training and generation."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    return torch.randn(1, PROMPT_TOKENS, dim, generator=generator)


def build_pipeline(vae, unet, kind: str = "img2img"):
    """diffusers' img2img (or InstructPix2Pix) pipeline around our components, without text encoder:
    the prompt comes in as `prompt_embeds`."""
    from diffusers import StableDiffusionImg2ImgPipeline, StableDiffusionInstructPix2PixPipeline

    cls = StableDiffusionImg2ImgPipeline if kind == "img2img" else StableDiffusionInstructPix2PixPipeline
    pipe = cls(
        vae=vae,
        text_encoder=None,
        tokenizer=None,
        unet=unet,
        scheduler=scheduler("ddim"),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe


def load_base(
    weights: str = "auto",
    size: int = 64,
    *,
    unet_steps: int = 400,
    autoencoder_weights: str = "auto",
    autoencoder_steps: int = 150,
    seed: int = 0,
    device: str = "cpu",
    batch_size: int = 16,
) -> Base:
    """Stable Diffusion img2img, from the hub or a folder, or the tiny offline stand-in.

    Offline the UNet is trained `unet_steps` steps as an ordinary denoiser (noise prediction, SD's
    schedule) on latents of the course's training shots, from the course autoencoder, and cached
    under build/sd_tiny/; its weights depend only on these arguments (the caller's random state is
    forked and given back)."""
    import torch

    settings = {
        "weights": weights,
        "size": size,
        "unet_steps": unet_steps,
        "autoencoder_weights": autoencoder_weights,
        "autoencoder_steps": autoencoder_steps,
        "seed": seed,
        "batch_size": batch_size,
    }
    plan = plan_weights(weights, SD_HUB_ID)
    if plan["kind"] in ("hub", "local"):
        from diffusers import StableDiffusionImg2ImgPipeline

        pipe = StableDiffusionImg2ImgPipeline.from_pretrained(
            plan["id"], safety_checker=None, requires_safety_checker=False
        ).to(device)
        pipe.set_progress_bar_config(disable=True)
        prompt_embeds, _ = pipe.encode_prompt("a frame of a video", device, 1, False)
        return Base(pipe, prompt_embeds, plan, plan["label"], settings, None, device)
    with torch.random.fork_rng(devices=[] if device == "cpu" else None):
        torch.manual_seed(seed)
        return _tiny_base(plan, settings, device)


def _tiny_base(plan: dict[str, str], settings: dict[str, Any], device: str) -> Base:
    from . import datasets
    from .pretrained import course_autoencoder
    from .runtime import build_dir, settings_key

    size, seed = settings["size"], settings["seed"]
    ae = course_autoencoder(
        settings["autoencoder_weights"], size, settings["autoencoder_steps"], seed=seed, device=device
    )
    vae = ae.model
    frames, units = datasets.course_frames(size)
    train = datasets.positions_of(units, datasets.course_split(units)["train"])
    latents = scaled_latents(vae, frames[train], device)
    key = settings_key({**settings, "autoencoder": ae.checkpoint.name, "unet": TINY_UNET_CONFIG})
    unet, prompt, run = train_tiny_unet(
        latents,
        settings["unet_steps"],
        build_dir("sd_tiny") / f"unet-{key}.pt",
        seed=seed,
        device=device,
        batch_size=settings["batch_size"],
        desc="tiny Stable Diffusion UNet (denoiser)",
    )
    label = (
        "tiny offline weights trained here: checks the pipeline, not the quality (a small UNet of "
        f"Stable Diffusion's class trained {settings['unet_steps']} steps as a denoiser on the "
        "course's training shots, with the course autoencoder"
        + (", itself trained here from random weights" if ae.plan["kind"] == "tiny" else "")
        + ")"
    )
    return Base(build_pipeline(vae, unet), prompt, plan, label, settings, run, device)


def scaled_latents(vae, frames: np.ndarray, device: str = "cpu"):
    """Latents of uint8 frames (N, H, W, 3), scaled as Stable Diffusion scales its own: the
    autoencoder's `scaling_factor` is set to 1 / the latents' spread (0.18215 for SD's)."""
    import torch

    images = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float() / 127.5 - 1
    with torch.no_grad():
        raw = torch.cat([vae.encode(b.to(device)).latent_dist.mean for b in images.split(64)]).cpu()
    vae.register_to_config(scaling_factor=float(1.0 / raw.std()))
    return raw * vae.config.scaling_factor


def train_tiny_unet(latents, steps: int, checkpoint: str | Path, *, seed: int, device: str, batch_size: int, desc: str):
    """A small UNet of Stable Diffusion's class trained as a denoiser (noise prediction, SD's
    schedule, one fixed prompt embedding) on `latents`; resumes from `checkpoint`.
    Returns (unet, prompt_embeds, FitResult). Chapters 05 and 08 build their offline bases so."""
    import torch
    import torch.nn.functional as F
    from diffusers import UNet2DConditionModel

    from . import training

    channels = {"in_channels": latents.shape[1], "out_channels": latents.shape[1]}  # the autoencoder's latents
    unet = UNet2DConditionModel(**{**TINY_UNET_CONFIG, **channels}, sample_size=latents.shape[-1]).to(device)
    prompt = fixed_prompt(unet.config.cross_attention_dim, seed).to(device)
    noise_schedule = scheduler("ddpm")

    def batch_fn(generator: torch.Generator):
        return latents[torch.randint(0, len(latents), (batch_size,), generator=generator)].to(device)

    def loss_fn(model, z0, step):
        noise = torch.randn_like(z0)
        t = torch.randint(0, noise_schedule.config.num_train_timesteps, (len(z0),), device=z0.device)
        predicted = model(noise_schedule.add_noise(z0, noise, t), t, prompt.expand(len(z0), -1, -1)).sample
        return F.mse_loss(predicted.float(), noise), {}

    run = training.fit(
        unet, torch.optim.AdamW(unet.parameters(), 1e-3), batch_fn, loss_fn, steps, checkpoint,
        seed=seed, every=100, device=device, desc=desc,
    )  # fmt: skip
    unet.requires_grad_(False).eval()
    return unet, prompt, run


# --- next frames ---------------------------------------------------------------------------


def make_next(pipe, prompt_embeds, frames: np.ndarray, *, strength: float, steps: int, seed: int) -> np.ndarray:
    """The next frame of each of `frames` (N, H, W, 3) through `pipe`: img2img from the frame at
    `strength`, or InstructPix2Pix conditioned on it, from seeded noise (same seed, same frames)."""
    import torch
    from diffusers import StableDiffusionInstructPix2PixPipeline

    images = frames_to_tensor(frames)
    common = {
        "image": images,
        "prompt_embeds": prompt_embeds.expand(len(images), -1, -1).to(pipe.device),
        "num_inference_steps": steps,
        "guidance_scale": 1.0,
        "output_type": "pt",
        "generator": torch.Generator().manual_seed(seed),
    }
    if isinstance(pipe, StableDiffusionInstructPix2PixPipeline):
        out = pipe(**common, image_guidance_scale=1.0)
    else:
        out = pipe(**common, strength=strength)
    return tensor_to_frames(out.images)


def predictor(pipe, prompt_embeds, *, strength: float, steps: int, seed: int) -> Callable[[np.ndarray], np.ndarray]:
    """A chapter-02 predictor: context (T, H, W, 3) -> the next frame, from the newest one."""

    def predict(context: np.ndarray) -> np.ndarray:
        return make_next(pipe, prompt_embeds, np.asarray(context)[-1:], strength=strength, steps=steps, seed=seed)[0]

    return predict


# --- LoRA variants -------------------------------------------------------------------------


def frame_conditioned(unet):
    """A copy of `unet` whose first convolution also takes the current frame's latents (4 more
    input channels, zero-initialised, so it starts as the original model), as InstructPix2Pix."""
    import torch
    from torch import nn

    unet = copy.deepcopy(unet)
    old = unet.conv_in
    new = nn.Conv2d(old.in_channels * 2, old.out_channels, old.kernel_size, old.stride, old.padding)
    with torch.no_grad():
        new.weight.zero_()
        new.weight[:, : old.in_channels] = old.weight
        new.bias.copy_(old.bias)
    unet.conv_in = new.to(old.weight.device)
    unet.register_to_config(in_channels=old.in_channels * 2)
    return unet


def add_lora(unet, rank: int) -> None:
    """peft LoRA on the attention projections (to_q, to_k, to_v, to_out.0), the only trained part."""
    from peft import LoraConfig

    unet.add_adapter(LoraConfig(r=rank, lora_alpha=rank, init_lora_weights="gaussian", target_modules=LORA_TARGETS))


def save_lora(
    folder: str | Path,
    variant: str,
    unet,
    base: Base,
    *,
    strength: float,
    steps: int,
    rank: int,
    vae_decoder=None,
) -> int:
    """Write a next-frame LoRA to `folder` with diffusers' LoRA API (pytorch_lora_weights.safetensors),
    plus the first convolution (frame-conditioned variant) or the VAE decoder (source objective)
    and course_lora.json; the folder appears whole or not at all. Returns its size in bytes."""
    from diffusers import StableDiffusionImg2ImgPipeline
    from peft.utils import get_peft_model_state_dict
    from safetensors.torch import save_file

    if variant not in VARIANTS:
        raise BadInputError(f"variant {variant!r}: choose one of {', '.join(VARIANTS)}")
    folder = Path(folder)
    staging = folder.with_name(folder.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    StableDiffusionImg2ImgPipeline.save_lora_weights(
        staging, unet_lora_layers=get_peft_model_state_dict(unet), safe_serialization=True
    )
    if variant == "frame-conditioned":
        save_file({k: v.contiguous() for k, v in unet.conv_in.state_dict().items()}, staging / "conv_in.safetensors")
    if variant == "source objective":
        if vae_decoder is None:
            raise BadInputError("variant 'source objective': give the trained VAE decoder to save")
        save_file({k: v.contiguous() for k, v in vae_decoder.state_dict().items()}, staging / "vae_decoder.safetensors")
    info = {"variant": variant, "strength": strength, "steps": steps, "rank": rank, "base": base.settings}
    (staging / LORA_INFO).write_text(json.dumps(info, indent=1))
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)
    return sum(p.stat().st_size for p in folder.iterdir())


def read_lora_info(folder: str | Path) -> dict[str, Any]:
    folder = Path(folder)
    if not folder.is_dir():
        raise BadInputError(f"{folder}: no such LoRA folder (the chapter writes them under build/05_*/)")
    path = folder / LORA_INFO
    if not path.is_file() or not (folder / "pytorch_lora_weights.safetensors").is_file():
        raise BadInputError(f"{folder}: not a next-frame LoRA (needs {LORA_INFO} and pytorch_lora_weights.safetensors)")
    try:
        info = json.loads(path.read_text())
        if info["variant"] not in VARIANTS or not isinstance(info["base"], dict):
            raise ValueError("unknown variant or base")
        float(info["strength"]), int(info["steps"])
    except (ValueError, KeyError, TypeError) as exc:
        raise BadInputError(f"{path}: damaged ({exc})") from None
    return info


def load_lora(folder: str | Path, base: Base):
    """(pipeline, info): `base`'s pipeline with the LoRA in `folder` loaded through diffusers'
    `load_lora_weights`, plus the variant's first convolution or VAE decoder. Refuses a LoRA made
    for another base."""
    from safetensors.torch import load_file

    folder = Path(folder)
    info = read_lora_info(folder)
    if info["base"] != base.settings:
        differ = sorted(
            k for k in set(info["base"]) | set(base.settings) if info["base"].get(k) != base.settings.get(k)
        )
        raise BadInputError(f"{folder}: trained on another base model (differs in {', '.join(differ)})")
    unet, vae = copy.deepcopy(base.pipe.unet), base.pipe.vae
    kind = "img2img"
    try:
        if info["variant"] == "frame-conditioned":
            unet = frame_conditioned(unet)
            unet.conv_in.load_state_dict(load_file(folder / "conv_in.safetensors"))
            kind = "ip2p"
        if info["variant"] == "source objective":
            vae = copy.deepcopy(vae)
            vae.decoder.load_state_dict(load_file(folder / "vae_decoder.safetensors"))
        pipe = build_pipeline(vae, unet, kind)
        from diffusers.utils import logging as diffusers_logging

        level = diffusers_logging.get_verbosity()
        diffusers_logging.set_verbosity_error()  # it warns that there is no text encoder to load into
        try:
            pipe.load_lora_weights(folder)
        finally:
            diffusers_logging.set_verbosity(level)
    except (OSError, RuntimeError, ValueError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BadInputError(f"{folder}: cannot load this LoRA ({first})") from None
    return pipe.to(base.device), info


# --- the stream path -----------------------------------------------------------------------


@dataclass
class StreamPath:
    """StreamDiffusion's img2img recipe, piece by piece (each switch is one row of chapter 05's table).

    - few steps: the input frame's latent is noised to the first timestep of `t_index_list` (indices
      into a `total_steps` DDIM schedule) and denoised only at those timesteps, with DDIM's
      deterministic update and the same noise for every frame;
    - stream batch: the frames in flight sit at different steps and one UNet call advances all of
      them, so a finished frame leaves every call;
    - decoder: any module with .decode(latents).sample in [-1, 1] (a distilled AutoencoderTiny);
    - similarity filter: an input frame whose cosine similarity s to the last processed input is
      above `filter_threshold` is skipped with probability (s - threshold) / (1 - threshold), and
      the last output is shown again.
    """

    unet: Any
    vae: Any
    prompt_embeds: Any
    t_index_list: Sequence[int] = (20, 35)
    total_steps: int = 50
    stream_batch: bool = False
    decoder: Any = None
    filter_threshold: float | None = None
    seed: int = 0
    device: str = "cpu"
    calls: int = field(default=0, init=False)  # UNet calls made so far
    skipped: int = field(default=0, init=False)  # input frames the filter skipped
    similarities: list = field(default_factory=list, init=False)  # every cosine the filter computed

    def __post_init__(self) -> None:
        import torch

        sched = scheduler("ddim")
        sched.set_timesteps(self.total_steps)
        if not self.t_index_list or any(not 0 <= i < self.total_steps for i in self.t_index_list):
            raise BadInputError(f"t_index_list {list(self.t_index_list)}: indices in 0..{self.total_steps - 1}")
        if list(self.t_index_list) != sorted(set(self.t_index_list)):
            raise BadInputError(f"t_index_list {list(self.t_index_list)}: must be increasing (noisy to clean)")
        self.timesteps = sched.timesteps[list(self.t_index_list)].to(self.device)
        self.alphas = sched.alphas_cumprod.to(self.device)
        self._noise = None  # drawn once, when the first frame shows the latents' size
        self._rng = torch.Generator().manual_seed(self.seed)

    def _encode(self, images):
        import torch

        with torch.no_grad():
            z = self.vae.encode(images.to(self.device) * 2 - 1).latent_dist.mean * self.vae.config.scaling_factor
        if self._noise is None:
            generator = torch.Generator().manual_seed(self.seed)
            self._noise = torch.randn(z.shape[1:], generator=generator).to(self.device)
        return z

    def _noised(self, z0):
        a = self.alphas[self.timesteps[0]]
        return a.sqrt() * z0 + (1 - a).sqrt() * self._noise

    def _step(self, z, stage):
        """One UNet call on latents z (B, C, h, w), sample b at stage[b]; returns (next z, clean estimate)."""
        import torch

        t = self.timesteps[stage]
        with torch.no_grad():
            eps = self.unet(z, t, self.prompt_embeds.expand(len(z), -1, -1).to(self.device)).sample
        self.calls += 1
        a = self.alphas[t].view(-1, 1, 1, 1)
        x0 = (z - (1 - a).sqrt() * eps) / a.sqrt()
        last = len(self.timesteps) - 1
        following = self.alphas[self.timesteps[torch.clamp(stage + 1, max=last)]].view(-1, 1, 1, 1)
        return following.sqrt() * x0 + (1 - following).sqrt() * eps, x0

    def _decode(self, z0):
        import torch

        with torch.no_grad():
            decoder = self.decoder if self.decoder is not None else self.vae
            scale = 1.0 if self.decoder is not None else self.vae.config.scaling_factor
            return ((decoder.decode(z0 / scale).sample.float().clamp(-1, 1) + 1) / 2).cpu()

    def _keep(self, image, previous) -> bool:
        import torch

        if self.filter_threshold is None or previous is None:
            return True
        a, b = image.flatten(), previous.flatten()
        similarity = float(torch.dot(a, b) / (a.norm() * b.norm()).clamp_min(1e-8))
        self.similarities.append(similarity)
        skip_p = max(0.0, (similarity - self.filter_threshold) / (1.0 - self.filter_threshold))
        return float(torch.rand(1, generator=self._rng)) >= skip_p

    def run(self, frames: np.ndarray) -> np.ndarray:
        """The output for every input frame of the stream (N, H, W, 3), in order."""
        import torch

        images = frames_to_tensor(frames)
        kept, previous = [], None
        for i, image in enumerate(images):
            if self._keep(image, previous):
                kept.append(i)
                previous = image
        self.skipped += len(images) - len(kept)
        made = self._stream(images[kept]) if self.stream_batch else self._one_by_one(images[kept])
        out = torch.empty_like(images)
        source = np.maximum.accumulate(np.isin(np.arange(len(images)), kept) * np.arange(len(images)))
        position = {i: n for n, i in enumerate(kept)}
        for i in range(len(images)):
            out[i] = made[position[int(source[i])]]
        return tensor_to_frames(out)

    def _one_by_one(self, images):
        import torch

        results = []
        for image in images:
            z = self._noised(self._encode(image[None]))
            for k in range(len(self.timesteps)):
                z, x0 = self._step(z, torch.tensor([k], device=self.device))
            results.append(self._decode(x0)[0])
        return torch.stack(results)

    def _stream(self, images):
        import torch

        stages = len(self.timesteps)
        in_flight: list[tuple[int, Any, int]] = []  # (frame index, latent, stage)
        results: dict[int, Any] = {}
        pending = list(range(len(images)))
        while pending or in_flight:
            if pending:
                i = pending.pop(0)
                in_flight.append((i, self._noised(self._encode(images[i][None]))[0], 0))
            z = torch.stack([item[1] for item in in_flight])
            stage = torch.tensor([item[2] for item in in_flight], device=self.device)
            z_next, x0 = self._step(z, stage)
            still = []
            for n, (i, _, k) in enumerate(in_flight):
                if k == stages - 1:
                    results[i] = self._decode(x0[n : n + 1])[0]
                else:
                    still.append((i, z_next[n], k + 1))
            in_flight = still
        return torch.stack([results[i] for i in range(len(images))])


def distill_tiny_decoder(vae, latents, steps: int, checkpoint: str | Path, *, seed: int = 0, device: str = "cpu"):
    """An AutoencoderTiny whose decoder is trained to draw what `vae`'s decoder draws from the same
    (scaled) latents: StreamDiffusion's tiny autoencoder, distilled here offline. Returns (model, fit)."""
    import torch
    import torch.nn.functional as F
    from diffusers import AutoencoderTiny

    from . import training

    levels = len(vae.config.block_out_channels)
    tiny = AutoencoderTiny(
        encoder_block_out_channels=(32,) * levels,
        decoder_block_out_channels=(32,) * levels,
        num_encoder_blocks=(1,) * levels,
        num_decoder_blocks=(1,) * levels,
        latent_channels=vae.config.latent_channels,
    ).to(device)
    scale = vae.config.scaling_factor

    def batch_fn(generator):
        return latents[torch.randint(0, len(latents), (16,), generator=generator)].to(device)

    def loss_fn(model, z, step):
        with torch.no_grad():
            target = vae.decode(z / scale).sample.clamp(-1, 1)
        return F.mse_loss(model.decode(z).sample.float(), target), {}

    fit = training.fit(
        tiny, torch.optim.Adam(tiny.decoder.parameters(), 2e-3), batch_fn, loss_fn, steps, checkpoint,
        seed=seed, every=100, device=device, desc="distilling the tiny decoder",
    )  # fmt: skip
    return tiny.requires_grad_(False).eval(), fit


# --- command line --------------------------------------------------------------------------


def continue_video(
    video: str | Path, lora: str | Path, n: int, out: str | Path, *, device: str = "auto", seed: int = 0
) -> Path:
    """Continue `video` by `n` frames with a trained LoRA, from its last frame; write a GIF or MP4."""
    from .errors import VideoError
    from .rollout import rollout
    from .runtime import atomic_path, select_device
    from .video import probe, read_frames, write_gif, write_mp4

    if not isinstance(n, int) or n < 1:
        raise BadInputError(f"-n {n!r}: give 1 or more frames to make")
    out = Path(out)
    if out.suffix.lower() not in (".gif", ".mp4"):
        raise BadInputError(f"--out {out}: name a .gif or .mp4 file")
    info = read_lora_info(lora)
    device = select_device(device)
    size = int(info["base"]["size"])
    info_video = probe(video)  # one-line errors for a missing or damaged video
    # only the end is needed: decode the last two seconds, not a whole long video
    try:
        clip = read_frames(video, size=size, start=max(0.0, (info_video.duration or 0.0) - 2.0))
    except VideoError:  # a container whose stated duration overshoots its frames: read it all
        clip = read_frames(video, size=size)
    base = load_base(**{**info["base"], "device": device})
    pipe, info = load_lora(lora, base)
    made = rollout(
        predictor(pipe, base.prompt_embeds, strength=info["strength"], steps=info["steps"], seed=seed),
        clip.frames[-1:],
        n,
        show_progress=True,
    )
    frames = (np.concatenate([clip.frames[-1:] / 255.0, made.frames]) * 255).round().astype(np.uint8)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as staging:
        (write_gif if out.suffix.lower() == ".gif" else write_mp4)(frames, staging, fps=min(clip.fps or 10, 25))
    return out


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.sd_video",
        description="Continue a video with a next-frame LoRA on Stable Diffusion img2img (chapter 05).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    cont = sub.add_parser("continue", help="make N frames after the end of a video with a trained LoRA")
    cont.add_argument("video", help="the video to continue (any format PyAV reads)")
    cont.add_argument("--lora", required=True, help="a LoRA folder written by chapter 05 (save_lora)")
    cont.add_argument("-n", type=int, default=23, help="frames to make (default 23)")
    cont.add_argument("--out", required=True, help="the .gif or .mp4 to write")
    cont.add_argument("--device", default="auto", help="auto, cpu or cuda")
    cont.add_argument("--seed", type=int, default=0, help="same seed, same frames (default 0)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    def work() -> None:
        started = time.perf_counter()
        path = continue_video(args.video, args.lora, args.n, args.out, device=args.device, seed=args.seed)
        print(f"wrote {path} ({args.n} new frames in {time.perf_counter() - started:.1f} s)")

    return run_command(work)


if __name__ == "__main__":
    sys.exit(main())
