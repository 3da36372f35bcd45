"""Rendering chapter 08's dances: skeleton -> frames. Each frame's OpenPose skeleton map goes
through a ControlNet (OpenPose) on Stable Diffusion: the real ones when the weights policy finds
them, else tiny stand-ins trained here on the procedural dancer's pictures (an autoencoder, a
UNet of Stable Diffusion's class, then a ControlNet copied from it). Chapter 08 explains it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..runtime import build_dir, progress
from .config import RENDER_KNOBS, DanceConfig
from .data import DanceData
from .drawing import draw_body, draw_openpose, openpose_keypoints
from .skeleton import Motion

CONTROLNET_HUB_ID = "lllyasviel/sd-controlnet-openpose"
SD15_HUB_ID = "stable-diffusion-v1-5/stable-diffusion-v1-5"
RENDER_PROMPT = "a dancer on a stage, full body"


@dataclass
class Renderer:
    """A ControlNet pipeline ready to paint a motion's frames, and what it was made from."""

    pipe: Any  # diffusers StableDiffusionControlNetPipeline
    prompt_embeds: Any
    label: str
    size: int
    steps: int  # denoising steps per frame
    fits: dict[str, Any] = field(default_factory=dict)  # FitResults of the offline parts
    plan: dict[str, str] = field(default_factory=dict)

    def render(self, motion: Motion, *, seed: int = 0, batch: int = 32, desc: str = "rendering frames"):
        """Frames (T, size, size, 3) uint8 of the motion: its OpenPose skeleton maps through the
        ControlNet pipeline, every frame from the same starting noise (steadier video)."""
        import torch

        maps = skeleton_maps(motion, self.size)
        control = torch.from_numpy(maps).permute(0, 3, 1, 2).float() / 255
        pipe = self.pipe
        shape = (
            1,
            pipe.unet.config.in_channels,
            self.size // pipe.vae_scale_factor,
            self.size // pipe.vae_scale_factor,
        )
        noise = torch.randn(shape, generator=torch.Generator().manual_seed(seed))
        out = []
        for start in progress(range(0, len(maps), batch), desc=desc):
            part = control[start : start + batch]
            images = pipe(
                prompt_embeds=self.prompt_embeds.expand(len(part), -1, -1),
                image=part, height=self.size, width=self.size, num_inference_steps=self.steps,
                guidance_scale=1.0, latents=noise.expand(len(part), -1, -1, -1).to(pipe.device),
                output_type="np",
            ).images  # fmt: skip
            out.append((np.clip(images, 0, 1) * 255).round().astype(np.uint8))
        return np.concatenate(out)


def skeleton_maps(motion: Motion, size: int) -> np.ndarray:
    """OpenPose skeleton maps (T, size, size, 3) uint8 of a motion: what the ControlNet sees."""
    return draw_openpose(openpose_keypoints(motion), size)


def renderer_pictures(data: DanceData, config: DanceConfig) -> tuple[np.ndarray, np.ndarray]:
    """(skeleton maps, bodies): `render_frames` training frames of the procedural dancer."""
    rng = np.random.default_rng(config.seed)
    train = data.of("train")
    per_clip = int(np.ceil(config.render_frames / len(train)))
    maps, bodies = [], []
    for clip in train:
        pick = np.sort(rng.choice(len(clip.motion), per_clip, replace=False))
        m = Motion(clip.motion.rotations[pick], clip.motion.translation[pick], clip.motion.fps)
        maps.append(skeleton_maps(m, config.render_size))
        bodies.append(draw_body(m.joints, config.render_size))
    return np.concatenate(maps)[: config.render_frames], np.concatenate(bodies)[: config.render_frames]


def load_renderer(data: DanceData, config: DanceConfig, *, device: str = "cpu") -> Renderer:
    """ControlNet (OpenPose) on Stable Diffusion: the real ones through `from_pretrained` when
    `config.weights` names them or the hub answers; offline, tiny stand-ins trained here on the
    procedural dancer: an autoencoder on its pictures, a UNet of SD's class on their latents,
    then a ControlNet copied from that UNet and trained, base frozen, on skeleton maps."""
    import torch

    from ..pretrained import plan_weights

    plan = plan_weights(config.weights, SD15_HUB_ID)
    if plan["kind"] in ("hub", "local"):
        from diffusers import ControlNetModel, StableDiffusionControlNetPipeline

        controlnet = ControlNetModel.from_pretrained(
            CONTROLNET_HUB_ID if plan["kind"] == "hub" else str(Path(plan["id"]) / "controlnet")
        )
        pipe = StableDiffusionControlNetPipeline.from_pretrained(
            plan["id"], controlnet=controlnet, safety_checker=None, requires_safety_checker=False
        ).to(device)
        pipe.set_progress_bar_config(disable=True)
        prompt, _ = pipe.encode_prompt(RENDER_PROMPT, device, 1, False)
        return Renderer(pipe, prompt, plan["label"], config.render_size, config.render_steps, {}, plan)
    with torch.random.fork_rng(devices=[] if device == "cpu" else None):
        torch.manual_seed(config.seed)
        return _tiny_renderer(data, config, plan, device)


def _tiny_renderer(data: DanceData, config: DanceConfig, plan: dict[str, str], device: str) -> Renderer:
    import torch
    import torch.nn.functional as F
    from diffusers import ControlNetModel, StableDiffusionControlNetPipeline

    from .. import training
    from ..pretrained import RENDERER_AUTOENCODER_CONFIG, fit_autoencoder, load_autoencoder
    from ..sd_video import scaled_latents, scheduler, train_tiny_unet

    maps, bodies = renderer_pictures(data, config)
    folder = build_dir("dance", "renderer")
    key = config.key(*RENDER_KNOBS)
    vae, _ = load_autoencoder("tiny", device, sample_size=config.render_size, tiny_config=RENDERER_AUTOENCODER_CONFIG)
    images = torch.from_numpy(bodies).permute(0, 3, 1, 2).float() / 127.5 - 1
    fits = {
        "autoencoder": fit_autoencoder(
            vae, images, config.autoencoder_steps, folder / f"autoencoder-{key}.pt", lr=1e-3, seed=config.seed,
            device=device, batch_size=config.render_batch, desc="renderer: autoencoder on the dancer's pictures",
        )
    }  # fmt: skip
    latents = scaled_latents(vae, bodies, device)
    unet, prompt, fits["unet"] = train_tiny_unet(
        latents, config.unet_steps, folder / f"unet-{key}.pt", seed=config.seed, device=device,
        batch_size=config.render_batch,
        desc="renderer: UNet (denoiser) on the dancer's pictures",
    )  # fmt: skip
    controlnet = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=(16, 32, 32)).to(device)
    control = torch.from_numpy(maps).permute(0, 3, 1, 2).float() / 255
    noise_schedule = scheduler("ddpm")

    def batch_fn(generator):
        pick = torch.randint(0, len(latents), (config.render_batch,), generator=generator)
        return latents[pick].to(device), control[pick].to(device)

    def loss_fn(net, batch, step):
        z0, cond = batch
        noise = torch.randn_like(z0)
        t = torch.randint(0, noise_schedule.config.num_train_timesteps, (len(z0),), device=z0.device)
        noisy = noise_schedule.add_noise(z0, noise, t)
        embeds = prompt.expand(len(z0), -1, -1)
        down, mid = net(noisy, t, embeds, controlnet_cond=cond, return_dict=False)
        predicted = unet(
            noisy, t, embeds, down_block_additional_residuals=down, mid_block_additional_residual=mid
        ).sample
        return F.mse_loss(predicted.float(), noise), {}

    fits["controlnet"] = training.fit(
        controlnet, torch.optim.AdamW(controlnet.parameters(), 1e-3), batch_fn, loss_fn, config.controlnet_steps,
        folder / f"controlnet-{key}.pt", seed=config.seed, every=100, device=device,
        desc="renderer: ControlNet on skeleton maps (base frozen)",
    )  # fmt: skip
    controlnet.requires_grad_(False).eval()
    pipe = StableDiffusionControlNetPipeline(
        vae=vae, text_encoder=None, tokenizer=None, unet=unet, controlnet=controlnet, scheduler=scheduler("ddim"),
        safety_checker=None, feature_extractor=None, requires_safety_checker=False,
    ).to(device)  # fmt: skip
    pipe.set_progress_bar_config(disable=True)
    label = (
        "tiny offline weights trained here: checks the pipeline, not the quality (an AutoencoderKL, a UNet of "
        "Stable Diffusion's class and a ControlNet, all small and trained on the procedural dancer's pictures)"
    )
    return Renderer(pipe, prompt, label, config.render_size, config.render_steps, fits, plan)
