"""Music to dance (chapter 08): the data set of music and dances, the audio-to-pose GAN, its
evaluation against baselines, the hyperparameter search, the pose renderer (ControlNet) and the
two commands of the source project:

    python -m helpers.dance train [--trials N] [--storage URL]
    python -m helpers.dance evaluate
    python -m helpers.dance predict MUSIC --out dance.mp4 [--seed S] [--seconds S] [--style NAME]

`predict` on a fresh checkout trains the small models first (with progress), or reuses the ones
`make book` cached under build/dance/.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from . import dance_metrics, dancer, music
from .errors import BadInputError, run_command
from .runtime import build_dir, progress, settings_key

STYLE_NAMES = tuple(dancer.STYLES)


@dataclass
class DanceConfig:
    """Every knob of the chapter's pipeline; a profile of chapter 08 sets them."""

    fps: float = 30.0
    seconds: float = 16.0  # length of each rendered piece and of each dance in the data set
    tempo_factors: tuple[float, ...] = (0.9, 1.1)  # each piece is rendered at these multiples of its tempo
    pieces: int = 12  # how many of music.CORPUS_PIECES to use
    test_pieces: int = 3  # the last ones: never trained on, never tuned on
    val_pieces: int = 2  # the ones before them: the hyperparameter search scores on these
    window: int = 120  # frames per training window
    width: int = 64
    blocks: int = 6
    noise_dim: int = 16
    batch_size: int = 16
    steps: int = 600
    lr_g: float = 1e-3
    lr_d: float = 1e-3
    lambda_adv: float = 0.1
    lambda_rec: float = 1.0
    lambda_vel: float = 1.0
    lambda_acc: float = 1.0
    trials: int = 8
    trial_steps: int = 160
    render_size: int = 64
    render_frames: int = 1500  # training pictures for the renderer
    autoencoder_steps: int = 300
    unet_steps: int = 300
    controlnet_steps: int = 300
    render_steps: int = 8  # denoising steps per frame
    render_batch: int = 16  # pictures per training step of the renderer's three networks
    seed: int = 0
    weights: str = "auto"
    sample_rate: int = 22050

    def key(self, *names: str) -> str:
        values = asdict(self)
        return settings_key({n: values[n] for n in (names or values)})


DATA_KNOBS = ("fps", "seconds", "tempo_factors", "pieces", "test_pieces", "val_pieces", "seed", "sample_rate")
GAN_KNOBS = ("window", "width", "blocks", "noise_dim", "batch_size", "steps", "lr_g", "lr_d", "lambda_adv",
             "lambda_rec", "lambda_vel", "lambda_acc")  # fmt: skip
SEARCHED = ("lr_g", "lambda_adv", "lambda_vel", "lambda_acc")
RENDER_KNOBS = (*DATA_KNOBS, "render_size", "render_frames", "autoencoder_steps", "unet_steps", "controlnet_steps",
                "render_batch")  # fmt: skip


# --- the data set ----------------------------------------------------------------------------


@dataclass
class DanceClip:
    """One piece of music at one tempo and one dance to it."""

    piece: str
    tempo_bpm: float
    style: str
    music: music.MusicFeatures
    motion: dancer.Motion
    beat_times: np.ndarray  # the percussion's beat grid (seconds): what the dancer danced to
    audio_seed: int

    @property
    def name(self) -> str:
        return f"{self.piece} @{self.tempo_bpm:.0f} bpm, {self.style}"


@dataclass
class DanceData:
    clips: list[DanceClip]
    split: dict[str, list[str]]  # train / val / test -> piece ids
    feature_mean: np.ndarray
    feature_std: np.ndarray
    config: DanceConfig

    def of(self, part: str) -> list[DanceClip]:
        return [c for c in self.clips if c.piece in self.split[part]]

    def normalised(self, features: np.ndarray) -> np.ndarray:
        return ((features - self.feature_mean) / self.feature_std).astype(np.float32)


def piece_ids() -> list[str]:
    return [p if isinstance(p, str) else p.id for p in music.CORPUS_PIECES]


def build_data(config: DanceConfig) -> DanceData:
    """Render every piece at every tempo, extract its features at the pose frame rate, and make
    one dance per style to it (the procedural dancer, its moves on the percussion's beats).
    Train / validation / test are split by piece, so no test music is ever heard in training."""
    ids = piece_ids()[: config.pieces]
    if config.test_pieces + config.val_pieces >= len(ids):
        raise BadInputError(f"pieces {config.pieces}: need more than test_pieces + val_pieces")
    test = ids[len(ids) - config.test_pieces :]
    val = ids[len(ids) - config.test_pieces - config.val_pieces : len(ids) - config.test_pieces]
    split = {"train": [p for p in ids if p not in test + val], "val": val, "test": test}
    clips = []
    jobs = [(p, f) for p in ids for f in config.tempo_factors]
    for n, (piece, factor) in enumerate(progress(jobs, desc="rendering music and dances")):
        _, base = music.render_piece(piece, config.sample_rate, seconds=2.0, seed=config.seed)
        tempo = float(base["tempo_bpm"]) * factor
        audio, info = music.render_piece(
            piece, config.sample_rate, tempo_bpm=tempo, seconds=config.seconds, seed=config.seed + n
        )
        features = music.audio_features(audio, config.sample_rate, config.fps)
        for s, style in enumerate(STYLE_NAMES):
            motion = dancer.procedural_dance(
                np.asarray(info["beat_times"]), config.seconds, fps=config.fps, style=style,
                beats_per_bar=int(info["beats_per_bar"]), seed=config.seed * 1000 + n * 10 + s,
            )  # fmt: skip
            clips.append(
                DanceClip(piece, tempo, style, features, motion, np.asarray(info["beat_times"]), config.seed + n)
            )
    train_features = np.concatenate([c.music.features for c in clips if c.piece in split["train"]])
    mean, std = train_features.mean(axis=0), train_features.std(axis=0) + 1e-6
    return DanceData(clips, split, mean.astype(np.float32), std.astype(np.float32), config)


def clip_audio(clip: DanceClip, config: DanceConfig) -> np.ndarray:
    """The audio of a data set clip (music.render_piece's cache makes this instant)."""
    audio, _ = music.render_piece(
        clip.piece, config.sample_rate, tempo_bpm=clip.tempo_bpm, seconds=config.seconds, seed=clip.audio_seed
    )
    return audio


# --- the model -------------------------------------------------------------------------------

POSE_DIMS = 24 * 6 + 3  # a 6D rotation per joint and the root's position


def _torch_modules():
    import torch
    import torch.nn.functional as F
    from torch import nn

    class ResidualBlock(nn.Module):
        """Two dilated 1D convolutions over time with a skip connection."""

        def __init__(self, width: int, dilation: int, kernel: int = 5):
            super().__init__()
            pad = dilation * (kernel - 1) // 2
            self.net = nn.Sequential(
                nn.GroupNorm(8, width),
                nn.SiLU(),
                nn.Conv1d(width, width, kernel, padding=pad, dilation=dilation),
                nn.GroupNorm(8, width),
                nn.SiLU(),
                nn.Conv1d(width, width, kernel, padding=pad, dilation=dilation),
            )

        def forward(self, x):
            return x + self.net(x)

    class DanceGenerator(nn.Module):
        """Music features (B, T, 35), a style and a noise vector -> a pose per frame.

        A temporal convolutional network: dilations 1, 2, 4, ... give each output frame a view of
        several seconds of music around it. The noise vector (one per dance) lets the same music
        get different dances; the output is 6D joint rotations plus the root's position, turned
        into joints by forward kinematics, so bone lengths are fixed by construction."""

        def __init__(self, n_features: int = 35, n_styles: int = 4, width: int = 64, blocks: int = 6,
                     noise_dim: int = 16, rest_pose=None, smooth: int = 2):  # fmt: skip
            super().__init__()
            self.noise_dim = noise_dim
            self.style = nn.Embedding(n_styles, 16)
            self.inp = nn.Conv1d(n_features + 16 + noise_dim, width, 3, padding=1)
            self.blocks = nn.Sequential(*[ResidualBlock(width, 2 ** (i % 5)) for i in range(blocks)])
            self.out = nn.Sequential(nn.GroupNorm(8, width), nn.SiLU(), nn.Conv1d(width, POSE_DIMS, 3, padding=1))
            nn.init.zeros_(self.out[-1].weight)
            nn.init.zeros_(self.out[-1].bias)
            rest = torch.zeros(POSE_DIMS) if rest_pose is None else torch.as_tensor(rest_pose, dtype=torch.float32)
            self.register_buffer("rest_pose", rest)
            # a fixed Gaussian filter over time (sigma in frames): dancers' joints do not jitter
            taps = torch.arange(-3 * smooth, 3 * smooth + 1, dtype=torch.float32) if smooth > 0 else torch.zeros(1)
            kernel = torch.exp(-0.5 * (taps / max(smooth, 1e-6)) ** 2)
            self.register_buffer("smoothing", (kernel / kernel.sum()).expand(POSE_DIMS, 1, -1).clone())

        def forward(self, features, style, noise):
            frames = features.shape[1]
            cond = torch.cat([self.style(style), noise], dim=-1)[:, :, None].expand(-1, -1, frames)
            x = self.inp(torch.cat([features.transpose(1, 2), cond], dim=1))
            y = self.out(self.blocks(x))
            pad = self.smoothing.shape[-1] // 2
            y = F.conv1d(F.pad(y, (pad, pad), mode="replicate"), self.smoothing.to(y.dtype), groups=POSE_DIMS)
            return (y.transpose(1, 2) + self.rest_pose).float()

    class SequenceDiscriminator(nn.Module):
        """Real or generated? Sees a window of poses (root-relative joints and their velocities)
        together with its music, and scores every stretch of ~1 s (strided convolutions)."""

        def __init__(self, n_features: int = 35, width: int = 64):
            super().__init__()
            act = nn.LeakyReLU(0.2)
            # spectral normalisation keeps the critic smooth, which keeps the game stable
            sn = nn.utils.parametrizations.spectral_norm
            self.net = nn.Sequential(
                sn(nn.Conv1d(72 * 2 + n_features, width, 5, padding=2)),
                act,
                sn(nn.Conv1d(width, width * 2, 4, stride=2, padding=1)),
                act,
                sn(nn.Conv1d(width * 2, width * 2, 4, stride=2, padding=1)),
                act,
                sn(nn.Conv1d(width * 2, 1, 3, padding=1)),
            )

        def forward(self, joints, features):
            rel = joints - joints[:, :, :1] * joints.new_tensor([1.0, 0.0, 1.0])
            vel = torch.diff(joints, dim=1, prepend=joints[:, :1])
            x = torch.cat([rel.flatten(2), vel.flatten(2) * 10, features], dim=-1)
            return self.net(x.transpose(1, 2)).squeeze(1)

    class DanceGAN(nn.Module):
        def __init__(self, generator, discriminator):
            super().__init__()
            self.generator, self.discriminator = generator, discriminator

    return DanceGenerator, SequenceDiscriminator, DanceGAN


def pose_to_joints(pose):
    """(B, T, 147) generator output -> joints (B, T, 24, 3) through forward kinematics."""
    rot = dancer.sixd_to_matrix(pose[..., :144].reshape(*pose.shape[:-1], 24, 6))
    return dancer.forward_kinematics(rot, pose[..., 144:])


def motion_to_pose(motion: dancer.Motion) -> np.ndarray:
    return np.concatenate(
        [dancer.matrix_to_6d(motion.rotations).reshape(len(motion), -1), motion.translation], axis=1
    ).astype(np.float32)


def build_gan(data: DanceData, config: DanceConfig, seed: int | None = None):
    import torch

    generator_cls, discriminator_cls, gan_cls = _torch_modules()
    rest = np.concatenate([motion_to_pose(c.motion) for c in data.of("train")]).mean(axis=0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed if seed is None else seed)
        generator = generator_cls(35, len(STYLE_NAMES), config.width, config.blocks, config.noise_dim, rest)
        discriminator = discriminator_cls(35, config.width)
    return gan_cls(generator, discriminator)


def gan_loss(gan, batch, config: DanceConfig) -> tuple[Any, dict[str, float]]:
    """One step's loss for both networks at once (simultaneous gradient descent):
    discriminator: hinge loss on real windows and on generated ones (detached);
    generator: fool a frozen copy of the discriminator, plus L1 reconstruction of the joints and
    rotations, and of the joints' velocities and accelerations (what makes motion smooth)."""
    import torch
    import torch.nn.functional as F
    from torch.func import functional_call

    features, style, noise, real_pose, real_joints = batch
    fake_pose = gan.generator(features, style, noise)
    fake_joints = pose_to_joints(fake_pose)
    d = gan.discriminator
    d_loss = F.relu(1 - d(real_joints, features)).mean() + F.relu(1 + d(fake_joints.detach(), features)).mean()
    frozen = {k: v.detach() for k, v in d.named_parameters()}
    adv = -functional_call(d, frozen, (fake_joints, features)).mean()
    rec = F.l1_loss(fake_joints, real_joints) + 0.1 * F.l1_loss(fake_pose, real_pose)
    vel = F.l1_loss(torch.diff(fake_joints, dim=1), torch.diff(real_joints, dim=1)) * config.fps
    acc = F.l1_loss(torch.diff(fake_joints, 2, dim=1), torch.diff(real_joints, 2, dim=1)) * config.fps
    g_loss = config.lambda_adv * adv + config.lambda_rec * rec + config.lambda_vel * vel + config.lambda_acc * acc
    logs = {"d": d_loss.item(), "adv": adv.item(), "rec": rec.item(), "vel": vel.item(), "acc": acc.item()}
    return g_loss + d_loss, logs


def batches(data: DanceData, config: DanceConfig, part: str = "train", device: str = "cpu"):
    """batch_fn for helpers.training.fit: random windows of `config.window` frames."""
    import torch

    clips = data.of(part)
    features = torch.from_numpy(np.stack([data.normalised(c.music.features) for c in clips]))
    poses = torch.from_numpy(np.stack([motion_to_pose(c.motion) for c in clips]))
    joints = torch.from_numpy(np.stack([c.motion.joints for c in clips]).astype(np.float32))
    styles = torch.tensor([STYLE_NAMES.index(c.style) for c in clips])
    frames = features.shape[1]
    if config.window > frames:
        raise BadInputError(f"window {config.window}: longer than the clips ({frames} frames)")

    def batch_fn(generator):
        pick = torch.randint(0, len(clips), (config.batch_size,), generator=generator)
        start = torch.randint(0, frames - config.window + 1, (config.batch_size,), generator=generator)
        span = start[:, None] + torch.arange(config.window)
        rows = pick[:, None]
        noise = torch.randn(config.batch_size, config.noise_dim, generator=generator)
        out = (features[rows, span], styles[pick], noise, poses[rows, span], joints[rows, span])
        return tuple(t.to(device) for t in out)

    return batch_fn


def train_gan(
    data: DanceData,
    config: DanceConfig,
    checkpoint: str | Path,
    *,
    device: str = "cpu",
    steps: int | None = None,
    desc: str = "training the dance GAN",
    stop_after: int | None = None,
):
    """Build the GAN and train it (resuming from `checkpoint`): returns (gan, FitResult)."""
    import torch

    from . import training

    gan = build_gan(data, config).to(device)
    optimiser = torch.optim.Adam(
        [
            {"params": gan.generator.parameters(), "lr": config.lr_g},
            {"params": gan.discriminator.parameters(), "lr": config.lr_d},
        ],
        betas=(0.5, 0.999),
    )
    run = training.fit(
        gan, optimiser, batches(data, config, device=device), lambda m, b, s: gan_loss(m, b, config),
        config.steps if steps is None else steps, checkpoint, seed=config.seed, every=50, device=device,
        amp=False, desc=desc, stop_after=stop_after,
    )  # fmt: skip
    gan.eval()
    return gan, run


def generate(generator, data: DanceData, features: np.ndarray, style: str, seed: int, device: str = "cpu"):
    """A dance (Motion) for music features (T, 35) at the data's frame rate."""
    import torch

    if style not in STYLE_NAMES:
        raise BadInputError(f"style {style!r}: choose one of {', '.join(STYLE_NAMES)}")
    noise = torch.randn(1, generator.noise_dim, generator=torch.Generator().manual_seed(seed))
    x = torch.from_numpy(data.normalised(features))[None].to(device)
    with torch.no_grad():
        pose = generator(x, torch.tensor([STYLE_NAMES.index(style)], device=device), noise.to(device))[0].cpu()
    rot = dancer.sixd_to_matrix(pose[:, :144].reshape(-1, 24, 6)).numpy()
    translation = pose[:, 144:].numpy().copy()
    joints = dancer.forward_kinematics(rot, translation)
    translation[:, 1] -= min(0.0, float(joints[:, dancer.FEET, 1].min()))  # never below the floor
    return dancer.Motion(rot, translation, data.config.fps, style, "generated")


# --- baselines -------------------------------------------------------------------------------


def random_poses(data: DanceData, frames: int, seed: int) -> dancer.Motion:
    """Real poses in random order: each frame a pose drawn from any training dance."""
    rng = np.random.default_rng(seed)
    train = data.of("train")
    picks = [(rng.integers(len(train)), rng.integers(len(train[0].motion))) for _ in range(frames)]
    rot = np.stack([train[c].motion.rotations[f] for c, f in picks])
    trans = np.stack([train[c].motion.translation[f] for c, f in picks])
    return dancer.Motion(rot, trans, data.config.fps, "", "random poses")


def retrieve(data: DanceData, features: np.ndarray, style: str | None = None) -> dancer.Motion:
    """Retrieval: the training dance whose music is nearest (mean and spread of each normalised
    feature, and the beat rate) to the given music, cut or looped to its length."""

    def summary(f: np.ndarray) -> np.ndarray:
        z = data.normalised(f)
        return np.concatenate([z.mean(0), z.std(0)])

    train = [c for c in data.of("train") if style is None or c.style == style]
    target = summary(features)
    best = min(train, key=lambda c: float(np.linalg.norm(summary(c.music.features) - target)))
    index = np.arange(len(features)) % len(best.motion)
    m = best.motion
    return dancer.Motion(m.rotations[index], m.translation[index], m.fps, best.style, f"retrieved: {best.name}")


# --- evaluation ------------------------------------------------------------------------------


def evaluate_motions(real: list[dancer.Motion], made: list[dancer.Motion], beats: list[np.ndarray],
                     fps: float, published_acceleration: bool = False) -> dict[str, float]:  # fmt: skip
    return dance_metrics.evaluate(
        [m.joints for m in real], [m.joints for m in made], beats, fps, published_acceleration=published_acceleration
    )


def validation_score(gan, data: DanceData, part: str = "val", device: str = "cpu") -> dict[str, float]:
    clips = data.of(part)
    made = [
        generate(gan.generator, data, c.music.features, c.style, seed=i, device=device) for i, c in enumerate(clips)
    ]
    gan.generator.eval()
    return evaluate_motions([c.motion for c in clips], made, [c.music.beat_frames for c in clips], data.config.fps)


BASELINES = ("generator", "untrained generator", "random poses", "retrieval", "real test dances")


def benchmark(gan, data: DanceData, config: DanceConfig, *, device: str = "cpu", published_acceleration: bool = False):
    """Every model and baseline on every test dance: one dance per test clip (its music, its
    style), scored against the real test dances. Returns (scores {name: metrics},
    motions {name: [Motion]}, the generator's frames per second)."""
    clips = data.of("test")
    real = [c.motion for c in clips]
    beats = [c.music.beat_frames for c in clips]
    started = time.perf_counter()
    made = {
        "generator": [generate(gan.generator, data, c.music.features, c.style, i, device) for i, c in enumerate(clips)]
    }
    fps = sum(len(m) for m in made["generator"]) / (time.perf_counter() - started)
    untrained = build_gan(data, config, seed=config.seed + 1).to(device).eval()
    made["untrained generator"] = [
        generate(untrained.generator, data, c.music.features, c.style, i, device) for i, c in enumerate(clips)
    ]
    made["random poses"] = [random_poses(data, len(c.motion), seed=config.seed + i) for i, c in enumerate(clips)]
    made["retrieval"] = [retrieve(data, c.music.features, c.style) for c in clips]
    made["real test dances"] = real
    scores = {
        name: evaluate_motions(real, motions, beats, config.fps, published_acceleration)
        for name, motions in made.items()
    }
    return scores, made, fps


# --- the hyperparameter search ---------------------------------------------------------------


def study_storage(path: str | Path) -> str:
    """An SQLite URL for a study file. Several machines share one study through one database
    URL instead, e.g. 'postgresql://user:password@host/optuna' (each runs the same command)."""
    return f"sqlite:///{Path(path).resolve()}"


def search(data: DanceData, config: DanceConfig, storage: str, *, study_name: str = "dance-gan",
           trials: int | None = None, device: str = "cpu", trial_dir: str | Path | None = None):  # fmt: skip
    """Optuna search over the learning rate and the loss weights, starting from the configured
    values (the first trial), then TPE's proposals. Each trial trains
    `config.trial_steps` steps, reports the validation FID_k four times, and is pruned when it
    is worse than the median of earlier trials at the same step. The study lives in `storage`,
    so a second call resumes it: finished trials are kept and only the missing ones run."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name=study_name, storage=storage, load_if_exists=True, direction="minimize",
        sampler=optuna.samplers.TPESampler(seed=config.seed, n_startup_trials=4),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1),
    )  # fmt: skip
    if not study.trials:  # the first trial tries the configured values, the others are proposed
        study.enqueue_trial({name: getattr(config, name) for name in SEARCHED})
    for stale in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        study.tell(stale.number, state=optuna.trial.TrialState.FAIL)  # interrupted earlier
    done = [t for t in study.trials if t.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)]
    wanted = config.trials if trials is None else trials
    trial_dir = Path(trial_dir or build_dir("dance", "trials"))
    chunk = max(1, config.trial_steps // 4)
    tag = settings_key({"storage": storage, "config": asdict(config)})  # one study's checkpoints

    def objective(trial) -> float:
        tried = replace(
            config,
            lr_g=trial.suggest_float("lr_g", 3e-4, 3e-3, log=True),
            lambda_adv=trial.suggest_float("lambda_adv", 0.02, 0.5, log=True),
            lambda_vel=trial.suggest_float("lambda_vel", 0.25, 3.0),
            lambda_acc=trial.suggest_float("lambda_acc", 0.25, 3.0),
        )
        checkpoint = trial_dir / f"{study_name}-{tag}-trial{trial.number}.pt"
        value = float("nan")
        try:
            for report in range(1, 5):
                gan, _ = train_gan(data, tried, checkpoint, device=device, steps=chunk * report,
                                   desc=f"trial {trial.number}, {chunk * report} steps")  # fmt: skip
                value = validation_score(gan, data, device=device)["fid_k"]
                trial.report(value, chunk * report)
                if trial.should_prune():
                    raise optuna.TrialPruned()
        finally:  # a finished trial lives on in the database; its weights are not needed
            checkpoint.unlink(missing_ok=True)
        return value

    for _ in progress(range(max(0, wanted - len(done))), desc="hyperparameter search"):
        study.optimize(objective, n_trials=1, catch=(ValueError, FloatingPointError))
    return study


def trial_count(storage: str, study_name: str = "dance-gan") -> int:
    """How many trials a stored study holds (0 when there is no such study yet)."""
    import optuna

    try:
        return len(optuna.load_study(study_name=study_name, storage=storage).trials)
    except KeyError:
        return 0


def trials_table(study):
    """One row per trial: its parameters, state, last reported FID_k and the steps it ran."""
    import pandas as pd

    rows = []
    for t in study.trials:
        last = max(t.intermediate_values) if t.intermediate_values else 0
        value = t.value if t.value is not None else t.intermediate_values.get(last)
        rows.append({"trial": t.number, "state": t.state.name.lower(), **t.params, "steps": last, "val FID_k": value})
    return pd.DataFrame(rows)


# --- rendering: skeleton -> frames ------------------------------------------------------------

CONTROLNET_HUB_ID = "lllyasviel/sd-controlnet-openpose"
SD15_HUB_ID = "stable-diffusion-v1-5/stable-diffusion-v1-5"
RENDER_PROMPT = "a dancer on a stage, full body"


@dataclass
class Renderer:
    pipe: Any  # diffusers StableDiffusionControlNetPipeline
    prompt_embeds: Any
    label: str
    size: int
    steps: int  # denoising steps per frame
    fits: dict[str, Any] = field(default_factory=dict)  # FitResults of the offline parts
    plan: dict[str, str] = field(default_factory=dict)

    def render(self, motion: dancer.Motion, *, seed: int = 0, batch: int = 32, desc: str = "rendering frames"):
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


def skeleton_maps(motion: dancer.Motion, size: int) -> np.ndarray:
    return dancer.draw_openpose(dancer.openpose_keypoints(motion), size)


def renderer_pictures(data: DanceData, config: DanceConfig) -> tuple[np.ndarray, np.ndarray]:
    """(skeleton maps, bodies): `render_frames` training frames of the procedural dancer."""
    rng = np.random.default_rng(config.seed)
    train = data.of("train")
    per_clip = int(np.ceil(config.render_frames / len(train)))
    maps, bodies = [], []
    for clip in train:
        pick = np.sort(rng.choice(len(clip.motion), per_clip, replace=False))
        m = dancer.Motion(clip.motion.rotations[pick], clip.motion.translation[pick], clip.motion.fps)
        maps.append(skeleton_maps(m, config.render_size))
        bodies.append(dancer.draw_body(m.joints, config.render_size))
    return np.concatenate(maps)[: config.render_frames], np.concatenate(bodies)[: config.render_frames]


def load_renderer(data: DanceData, config: DanceConfig, *, device: str = "cpu") -> Renderer:
    """ControlNet (OpenPose) on Stable Diffusion: the real ones through `from_pretrained` when
    `config.weights` names them or the hub answers; offline, tiny stand-ins trained here on the
    procedural dancer: an autoencoder on its pictures, a UNet of SD's class on their latents,
    then a ControlNet copied from that UNet and trained, base frozen, on skeleton maps."""
    import torch

    from .pretrained import plan_weights

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

    from . import training
    from .pretrained import fit_autoencoder, load_autoencoder
    from .sd_video import scaled_latents, scheduler, train_tiny_unet

    maps, bodies = renderer_pictures(data, config)
    folder = build_dir("dance", "renderer")
    key = config.key(*RENDER_KNOBS)
    vae, _ = load_autoencoder("tiny", device, sample_size=config.render_size)
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


# --- the trained model, cached for `predict` --------------------------------------------------


def model_dir(config: DanceConfig) -> Path:
    return build_dir("dance", f"model-{config.key(*DATA_KNOBS, *GAN_KNOBS)}")


def save_model(gan, data: DanceData, config: DanceConfig) -> Path:
    """The generator's weights and what `predict` needs to use it, in one folder."""
    import torch

    from .runtime import atomic_path

    folder = model_dir(config)
    with atomic_path(folder / "generator.pt") as tmp:
        torch.save(gan.generator.state_dict(), tmp)
    info = {
        "config": asdict(config),
        "feature_mean": data.feature_mean.tolist(),
        "feature_std": data.feature_std.tolist(),
    }
    with atomic_path(folder / "model.json") as tmp:
        tmp.write_text(json.dumps(info, indent=1))
    return folder


def config_from(values: dict[str, Any]) -> DanceConfig:
    """A DanceConfig from a chapter's parameters (upper-case names; others are ignored)."""
    known = {f for f in asdict(DanceConfig())}
    chosen = {k.lower(): v for k, v in values.items() if isinstance(k, str) and k.isupper() and k.lower() in known}
    return DanceConfig(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in chosen.items()})


def default_config(profile: str = "cpu") -> DanceConfig:
    """The chapter's settings in a profile: what `make book` trained with."""
    from .runtime import load_profile

    return config_from(load_profile(profile, "08"))


def study_file(config: DanceConfig) -> Path:
    """The SQLite file of the search for these data and trial settings."""
    return build_dir("dance") / f"study-{config.key(*DATA_KNOBS, *GAN_KNOBS[:6], 'trial_steps')}.db"


def tuned(config: DanceConfig, study) -> DanceConfig:
    """config with the search's best parameters (the lowest validation FID_k among finished trials)."""
    return replace(config, **{k: v for k, v in study.best_params.items() if k in SEARCHED})


def trained_model(config: DanceConfig, *, device: str = "cpu", storage: str | None = None):
    """(gan, data, final config): search, then train the best settings; every stage resumes."""
    data = build_data(config)
    storage = storage or study_storage(study_file(config))
    study = search(data, config, storage, device=device, trial_dir=build_dir("dance", "trials"))
    final = tuned(config, study)
    gan, _ = train_gan(data, final, model_dir(final) / "checkpoint.pt", device=device)
    save_model(gan, data, final)
    return gan, data, final


# --- the command line -------------------------------------------------------------------------


def predict(music_path: str | Path, out: str | Path, *, seed: int = 0, seconds: float | None = None,
            style: str = "hiphop", profile: str = "cpu", device: str = "cpu") -> dict[str, float]:  # fmt: skip
    """Music file -> dance video (MP4 with the music): features, the GAN's poses, the renderer."""
    from .video import media_durations, write_mp4

    out = Path(out)
    if out.suffix.lower() != ".mp4":
        raise BadInputError(f"--out {out}: the dance video must be an .mp4 file")
    if style not in STYLE_NAMES:
        raise BadInputError(f"--style {style!r}: choose one of {', '.join(STYLE_NAMES)}")
    if seconds is not None and seconds < music.MIN_SECONDS:
        raise BadInputError(f"--seconds {seconds}: at least {music.MIN_SECONDS} s")
    config = default_config(profile)
    audio = music.load_audio(music_path, config.sample_rate, max_seconds=seconds)
    if seconds is not None:
        audio = audio[: int(round(seconds * config.sample_rate))]
    features = music.audio_features(audio, config.sample_rate, config.fps)
    started = time.perf_counter()
    gan, data, final = trained_model(config, device=device)
    motion = generate(gan.generator, data, features.features, style, seed, device=device)
    renderer = load_renderer(data, final, device=device)
    frames = renderer.render(motion, seed=seed)
    write_mp4(frames, out, config.fps, audio=audio, sample_rate=config.sample_rate)
    durations = media_durations(out)
    durations["music"] = len(audio) / config.sample_rate
    durations["seconds"] = time.perf_counter() - started
    return durations


def peak_memory(device: str) -> dict[str, float]:
    """{'peak_gpu_mib': ...} on CUDA (the most this process held), else {}."""
    import torch

    if not str(device).startswith("cuda") or not torch.cuda.is_available():
        return {}
    return {"peak_gpu_mib": torch.cuda.max_memory_allocated() / 2**20}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m helpers.dance", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="search hyperparameters and train the dance GAN and its renderer")
    train.add_argument("--profile", default="cpu", choices=("smoke", "cpu", "gpu"))
    train.add_argument("--trials", type=int, default=None, help="number of search trials (default: the profile's)")
    train.add_argument("--storage", default=None, help="Optuna database URL shared by several machines")
    train.add_argument("--device", default="cpu")
    scoring = sub.add_parser("evaluate", help="score the trained generator and the baselines on the test pieces")
    scoring.add_argument("--profile", default="cpu", choices=("smoke", "cpu", "gpu"))
    scoring.add_argument("--device", default="cpu")
    pred = sub.add_parser("predict", help="make a dance video for a music file")
    pred.add_argument("music", help="an audio file: wav, ogg, mp3, flac, ... mono or stereo, any sample rate")
    pred.add_argument("--out", required=True, help="the MP4 to write")
    pred.add_argument("--seed", type=int, default=0)
    pred.add_argument("--seconds", type=float, default=None, help="only the first seconds of the music")
    pred.add_argument("--style", default="hiphop", help=f"one of {', '.join(STYLE_NAMES)}")
    pred.add_argument("--profile", default="cpu", choices=("smoke", "cpu", "gpu"))
    pred.add_argument("--device", default="cpu")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    def work() -> None:
        if args.command == "train":
            config = default_config(args.profile)
            if args.trials is not None:
                if args.trials < 1:
                    raise BadInputError(f"--trials {args.trials}: at least 1")
                config = replace(config, trials=args.trials)
            _, data, final = trained_model(config, device=args.device, storage=args.storage)
            load_renderer(data, final, device=args.device)
            print(f"trained: {model_dir(final)}", json.dumps(peak_memory(args.device)))
        elif args.command == "evaluate":
            started = time.perf_counter()
            gan, data, final = trained_model(default_config(args.profile), device=args.device)
            scores, _, fps = benchmark(gan, data, final, device=args.device)
            print(json.dumps({"profile": args.profile, "device": args.device, "generator_fps": fps,
                              "seconds": time.perf_counter() - started, **peak_memory(args.device),
                              "scores": scores}, indent=1))  # fmt: skip
        else:
            result = predict(args.music, args.out, seed=args.seed, seconds=args.seconds, style=args.style,
                             profile=args.profile, device=args.device)  # fmt: skip
            print(f"wrote {args.out}: {result['video']:.2f} s of video, {result['audio']:.2f} s of music")

    return run_command(work, interrupted="nothing was written; run again to resume from the checkpoints")


if __name__ == "__main__":
    raise SystemExit(main())
