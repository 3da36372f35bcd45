"""The knobs of chapter 08's music-to-dance pipeline, in the course's one config convention
(helpers.configs): `DanceConfig`, each field with its one-line documentation and its check; the
groups of knobs that name each cached stage (data, GAN, renderer) and those the search tunes;
`config_from`, which builds a config from a chapter's parameters, and `default_config`, the
settings of a profile. Chapter 08 explains every knob.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from .. import configs
from ..configs import above, at_least, knob, positive_numbers
from ..runtime import settings_key


def _multiple_of(step: int) -> configs.Check:
    return lambda v: None if v >= step and v % step == 0 else f"must be a multiple of {step}"


@dataclass
class DanceConfig:
    """Every knob of the chapter's pipeline; a profile of chapter 08 sets them."""

    fps: float = knob(30.0, "pose frames per second; the music's features are computed at this rate too", above(0))
    seconds: float = knob(16.0, "length of each rendered piece and of each dance in the data set", above(0))
    tempo_factors: tuple[float, ...] = knob(
        (0.9, 1.1), "each piece is rendered at these multiples of its tempo", positive_numbers
    )
    pieces: int = knob(12, "how many of music.CORPUS_PIECES to use", at_least(1))
    test_pieces: int = knob(3, "the last ones: never trained on, never tuned on", at_least(1))
    val_pieces: int = knob(2, "the ones before them: the hyperparameter search scores on these", at_least(1))
    window: int = knob(120, "frames per training window", at_least(1))
    width: int = knob(64, "channels of the generator's and the critic's convolutions", _multiple_of(8))
    blocks: int = knob(6, "residual blocks of dilated convolutions in the generator", at_least(1))
    noise_dim: int = knob(16, "length of the noise vector that gives the same music different dances", at_least(1))
    batch_size: int = knob(16, "training windows per step", at_least(1))
    steps: int = knob(600, "training steps of the final GAN", at_least(1))
    lr_g: float = knob(1e-3, "Adam learning rate of the generator (searched)", above(0))
    lr_d: float = knob(1e-3, "Adam learning rate of the discriminator", above(0))
    lambda_adv: float = knob(0.1, "weight of the adversarial term in the generator's loss (searched)", at_least(0))
    lambda_rec: float = knob(1.0, "weight of the L1 reconstruction of the joints and rotations", at_least(0))
    lambda_vel: float = knob(1.0, "weight of the L1 on the joints' velocities (searched)", at_least(0))
    lambda_acc: float = knob(1.0, "weight of the L1 on the joints' accelerations (searched)", at_least(0))
    trials: int = knob(8, "trials of the hyperparameter search", at_least(1))
    trial_steps: int = knob(160, "training steps of one search trial (validation FID_k is read 4 times)", at_least(1))
    render_size: int = knob(64, "side in pixels of the rendered frames", _multiple_of(8))
    render_frames: int = knob(1500, "training pictures for the renderer", at_least(1))
    autoencoder_steps: int = knob(300, "training steps of the offline renderer's autoencoder", at_least(0))
    unet_steps: int = knob(300, "training steps of the offline renderer's UNet (the denoiser)", at_least(0))
    controlnet_steps: int = knob(300, "training steps of the offline renderer's ControlNet", at_least(0))
    render_steps: int = knob(8, "denoising steps per frame", at_least(1))
    render_batch: int = knob(16, "pictures per training step of the renderer's three networks", at_least(1))
    seed: int = knob(0, "seed of the music, the dances, the initial weights and the search", at_least(0))
    weights: str = knob(
        "auto", "Stable Diffusion 1.5 + OpenPose ControlNet: a hub id, a local folder, 'auto' or 'tiny'"
    )
    sample_rate: int = knob(22050, "audio samples per second of the rendered music", at_least(1))

    def key(self, *names: str) -> str:
        values = asdict(self)
        return settings_key({n: values[n] for n in (names or values)})


DOCS = configs.docs(DanceConfig)  # every knob's documentation: 'fps' -> 'pose frames per second; ...'
DATA_KNOBS = ("fps", "seconds", "tempo_factors", "pieces", "test_pieces", "val_pieces", "seed", "sample_rate")
GAN_KNOBS = ("window", "width", "blocks", "noise_dim", "batch_size", "steps", "lr_g", "lr_d", "lambda_adv",
             "lambda_rec", "lambda_vel", "lambda_acc")  # fmt: skip
SEARCHED = ("lr_g", "lambda_adv", "lambda_vel", "lambda_acc")
RENDER_KNOBS = (*DATA_KNOBS, "render_size", "render_frames", "autoencoder_steps", "unet_steps", "controlnet_steps",
                "render_batch")  # fmt: skip


def config_from(values: Mapping[str, Any], source: str = "chapter 08's parameters") -> DanceConfig:
    """A DanceConfig from a chapter's parameters (upper-case names; others are ignored), every
    value checked: a bad one is a BadInputError naming its key."""
    chosen = {k.lower(): v for k, v in values.items() if isinstance(k, str) and k.isupper() and k.lower() in DOCS}
    return configs.from_mapping(DanceConfig, chosen, source, partial=True)


def default_config(profile: str = "cpu") -> DanceConfig:
    """The chapter's settings in a profile: what `make book` trained with."""
    from ..runtime import load_profile

    return config_from(load_profile(profile, "08"), f"profile {profile!r}, chapter 08")
