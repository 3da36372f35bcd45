"""The network of chapter 06: a factorised space-time 3D U-Net over clips (B, C, T, H, W), with a
label embedding for every frame and, in the upsampler, AdaIN styles.

- `ResBlock`: a 2D convolution on every frame, the frame's embedding added, a second 2D
  convolution, then a 1D convolution across time (zero-initialised: time mixing is learned);
- `TemporalAttention`: every pixel attends over all frames of the clip, with a learned bias per
  head for each distance between frames;
- `AdaIN`: adaptive instance normalisation, the upsampler's per-frame style;
- `VideoUNet`: the U-Net these make, and `build_model`, which seeds its initial weights.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..layers import per_frame, per_pixel_in_time, timestep_embedding
from .config import VideoDiffusionConfig

MAX_RELATIVE = 32  # temporal attention learns one bias per head for each distance up to this


class AdaIN(nn.Module):
    """Adaptive instance normalisation (StyleGAN): normalise each frame's channels, then
    scale and shift them by amounts a style vector decides."""

    def __init__(self, channels: int, style_dim: int):
        super().__init__()
        self.affine = nn.Linear(style_dim, 2 * channels)
        nn.init.zeros_(self.affine.weight)
        nn.init.zeros_(self.affine.bias)

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        # x (B, C, T, H, W); style (B, T, style_dim): one style per frame
        mean = x.mean(dim=(3, 4), keepdim=True)
        std = x.var(dim=(3, 4), keepdim=True, unbiased=False).add(1e-5).sqrt()
        scale, shift = self.affine(style).transpose(1, 2).chunk(2, dim=1)  # (B, C, T) each
        return (x - mean) / std * (1 + scale[..., None, None]) + shift[..., None, None]


class ResBlock(nn.Module):
    """Factorised space-time residual block: a 2D convolution on every frame, the frame's
    embedding added (and in the upsampler, every normalisation is AdaIN with the frame's
    style), a second 2D convolution, then a 1D convolution across time."""

    def __init__(self, cin: int, cout: int, emb_dim: int, adain: bool):
        super().__init__()
        self.adain = adain
        self.norm1 = AdaIN(cin, emb_dim) if adain else nn.GroupNorm(8, cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.emb = nn.Linear(emb_dim, cout)
        self.norm2 = AdaIN(cout, emb_dim) if adain else nn.GroupNorm(8, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.norm_t = nn.GroupNorm(8, cout)
        self.conv_t = nn.Conv1d(cout, cout, 3, padding=1)
        nn.init.zeros_(self.conv_t.weight)  # starts as an image block: time mixing is learned
        nn.init.zeros_(self.conv_t.bias)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def _norm(self, norm: nn.Module, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        return norm(x, emb) if self.adain else norm(x)

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        # emb (B, T, emb_dim): the noise level plus this frame's labels
        h = per_frame(self.conv1, F.silu(self._norm(self.norm1, x, emb)))
        h = h + self.emb(emb).transpose(1, 2)[..., None, None]
        h = per_frame(self.conv2, F.silu(self._norm(self.norm2, h, emb)))
        h = h + per_frame(self.skip, x)
        return h + per_pixel_in_time(self.conv_t, F.silu(self.norm_t(h)))


class TemporalAttention(nn.Module):
    """Every pixel's features attend over the clip's frames, with a learned bias per head for
    each relative distance (frames that are k apart), clipped at MAX_RELATIVE."""

    def __init__(self, channels: int, heads: int):
        super().__init__()
        self.heads = heads
        self.norm = nn.GroupNorm(8, channels)
        self.qkv = nn.Linear(channels, 3 * channels)
        self.out = nn.Linear(channels, channels)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.relative = nn.Parameter(torch.zeros(heads, 2 * MAX_RELATIVE + 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, t, h, w = x.shape
        tokens = self.norm(x).permute(0, 3, 4, 2, 1).reshape(b * h * w, t, c)
        q, k, v = self.qkv(tokens).reshape(b * h * w, t, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        position = torch.arange(t, device=x.device)
        distance = (position[None, :] - position[:, None]).clamp(-MAX_RELATIVE, MAX_RELATIVE) + MAX_RELATIVE
        bias = self.relative[:, distance]  # (heads, T, T)
        mixed = F.scaled_dot_product_attention(q, k, v, attn_mask=bias.to(q.dtype))
        mixed = mixed.transpose(1, 2).reshape(b * h * w, t, c)
        out = self.out(mixed).reshape(b, h, w, t, c).permute(0, 4, 3, 1, 2)
        return x + out


class Level(nn.Module):
    """One level of the U-Net: a residual block, then temporal attention when the level has it."""

    def __init__(self, cin: int, cout: int, emb_dim: int, adain: bool, heads: int):
        super().__init__()
        self.block = ResBlock(cin, cout, emb_dim, adain)
        self.attention = TemporalAttention(cout, heads) if heads else None

    def forward(self, x, emb):
        x = self.block(x, emb)
        return self.attention(x) if self.attention is not None else x


class VideoUNet(nn.Module):
    """A 3D U-Net over clips (B, C, T, H, W), factorised into per-frame 2D convolutions,
    temporal convolutions and temporal attention. Each frame gets an embedding: the noise
    level, plus its class label and/or label vector when the model has them (a learned
    "no label" stands in for dropped labels: classifier-free guidance). With `adain` (the
    upsampler) a mapping network turns that embedding into a style vector that modulates
    every block through AdaIN, and the low-resolution clip is concatenated to the input."""

    def __init__(self, config: VideoDiffusionConfig):
        super().__init__()
        from .diffusion import scheduler

        model, labels = config.model, config.labels
        self.upsampler = config.kind == "upsampler"
        self.classes, self.vector_dim = labels.classes, labels.vector_dim
        self.temporal_downsample = model.temporal_downsample
        width, mults, heads = model.width, model.channel_mults, model.attention_heads
        emb_dim = 4 * width
        self.time_dim = width
        self.time_mlp = nn.Sequential(nn.Linear(width, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        if self.classes:
            self.class_emb = nn.Embedding(self.classes + 1, emb_dim)  # the last row: no label
        if self.vector_dim:
            self.vector_mlp = nn.Sequential(nn.Linear(self.vector_dim, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
            self.no_vector = nn.Parameter(torch.zeros(emb_dim))
        if self.upsampler:
            style = model.style_dim
            layers: list[nn.Module] = [nn.Linear(emb_dim, style), nn.SiLU()]
            for _ in range(3):
                layers += [nn.Linear(style, style), nn.SiLU()]
            self.mapping = nn.Sequential(*layers[:-1])
            emb_dim = style
        self.patch = model.patch
        in_channels = (6 if self.upsampler else 3) * self.patch**2
        self.stem = nn.Conv2d(in_channels, width, 3, padding=1)
        channels = [width * m for m in mults]
        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        cin = width
        for level, cout in enumerate(channels):
            self.down.append(Level(cin, cout, emb_dim, self.upsampler, heads if level > 0 else 0))
            cin = cout
            if level < len(channels) - 1:
                self.downsample.append(nn.Conv2d(cout, cout, 3, stride=2, padding=1))
        self.middle = Level(cin, cin, emb_dim, self.upsampler, heads)
        self.middle2 = ResBlock(cin, cin, emb_dim, self.upsampler)
        self.up = nn.ModuleList()
        self.upsample = nn.ModuleList()
        for level in reversed(range(len(channels))):
            cout = channels[level]
            self.up.append(Level(cin + cout, cout, emb_dim, self.upsampler, heads if level > 0 else 0))
            cin = cout
            if level > 0:
                self.upsample.append(nn.Conv2d(cout, channels[level - 1], 3, padding=1))
                cin = channels[level - 1]
        self.head = nn.Sequential(nn.GroupNorm(8, cin), nn.SiLU(), nn.Conv2d(cin, 3 * self.patch**2, 3, padding=1))
        self.prediction = config.diffusion.prediction
        self.data_std = config.diffusion.data_std
        alphas = scheduler(config).alphas_cumprod.float()
        self.register_buffer("alphas_cumprod", alphas, persistent=False)
        nn.init.zeros_(self.head[-1].weight)
        nn.init.zeros_(self.head[-1].bias)

    def frame_embedding(self, t, frames: int, classes=None, vectors=None, drop=None):
        """(B, T, emb_dim): noise level + labels for every frame. drop (B,) bool hides the
        labels of those clips (training dropout; the unconditional half of guidance)."""
        emb = self.time_mlp(timestep_embedding(t, self.time_dim))[:, None].expand(-1, frames, -1)
        batch = emb.shape[0]
        if drop is None:
            drop = torch.zeros(batch, dtype=torch.bool, device=emb.device)
        hide = drop[:, None, None]
        if self.classes:
            if classes is None:
                classes = torch.full((batch, frames), self.classes, device=emb.device)
            classes = torch.where(drop[:, None], torch.full_like(classes, self.classes), classes)
            emb = emb + self.class_emb(classes)
        if self.vector_dim:
            if vectors is None:
                vectors, hide = (
                    torch.zeros(batch, frames, self.vector_dim, device=emb.device),
                    torch.ones_like(hide),
                )
            emb = emb + torch.where(hide, self.no_vector.expand(batch, frames, -1), self.vector_mlp(vectors))
        return self.mapping(emb) if self.upsampler else emb

    def skip_scale(self, t):
        """The best linear guess of the target from the noisy input alone, for data of
        variance data_std**2 (EDM's c_skip): the network adds only what that guess misses."""
        a = self.alphas_cumprod.to(t.device)[t].view(-1, 1, 1, 1, 1)
        s2 = self.data_std**2
        denominator = a * s2 + 1 - a
        if self.prediction == "epsilon":
            return (1 - a).sqrt() / denominator
        if self.prediction == "sample":
            return a.sqrt() * s2 / denominator
        return (a * (1 - a)).sqrt() * (1 - s2) / denominator

    def forward(self, x, t, classes=None, vectors=None, low=None, drop=None):
        noisy = x
        if self.upsampler:
            x = torch.cat([x, low], dim=1)
        emb = self.frame_embedding(t, x.shape[2], classes, vectors, drop)
        if self.patch > 1:  # fold p x p pixel patches into channels: the U-Net runs p times smaller
            x = per_frame(nn.PixelUnshuffle(self.patch), x)
        h = per_frame(self.stem, x)
        skips, embs = [], [emb]
        for level, block in enumerate(self.down):
            h = block(h, embs[-1])
            skips.append(h)
            if level < len(self.downsample):
                h = per_frame(self.downsample[level], h)
                if self.temporal_downsample:
                    h = F.avg_pool3d(h, (2, 1, 1))
                    embs.append(F.avg_pool1d(embs[-1].transpose(1, 2), 2).transpose(1, 2))
        h = self.middle2(self.middle(h, embs[-1]), embs[-1])
        for i, block in enumerate(self.up):
            h = block(torch.cat([h, skips.pop()], dim=1), embs[-1])
            if i < len(self.upsample):
                scale = (2, 2, 2) if self.temporal_downsample else (1, 2, 2)
                h = per_frame(self.upsample[i], F.interpolate(h, scale_factor=scale, mode="nearest"))
                if self.temporal_downsample:
                    embs.pop()
        out = per_frame(self.head, h)
        out = per_frame(nn.PixelShuffle(self.patch), out) if self.patch > 1 else out
        return out + self.skip_scale(t) * noisy


def build_model(config: VideoDiffusionConfig) -> VideoUNet:
    """The config's network, with its initial weights drawn from training.seed."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.training.seed)
        return VideoUNet(config)
