"""A strong reference predictor for the benchmark (chapter 10): TAU, the Temporal Attention Unit
of Tan et al. (CVPR 2023), in the SimVP family (Gao et al., CVPR 2022): no recurrence and no
diffusion, a convolutional encoder applied to every frame, a translator that sees all the context
frames at once, and a decoder, trained with a squared error to map T given frames to T next ones.

- `ConvSC`: a convolution, group normalisation and SiLU; strided ones halve the frame, upsampling
  ones double it with a pixel shuffle;
- `Encoder` / `Decoder`: `depth` ConvSC blocks, every second one strided, the first one's output
  kept as a skip to the last;
- `TemporalAttentionUnit`: TAU's attention, static (a depthwise 5 x 5 convolution, a dilated
  depthwise 7 x 7 one and a 1 x 1 one: a large receptive field cheaply) times dynamic (a
  squeeze-and-excitation weight per channel), times the input;
- `TAUBlock`: batch norm, the attention unit, batch norm, a convolutional MLP, each with a
  learned layer scale and a residual connection;
- `TAUPredictor`: the encoder on every frame, the translator on the frames stacked as channels,
  the decoder on every frame; `differential_divergence` is TAU's extra loss, which asks the
  predicted frame-to-frame changes to be distributed like the true ones.

OpenSTL's Moving MNIST configuration (hid_S=64, hid_T=512, N_S=4, N_T=8) is the `gpu` profile's;
the `cpu` profile runs a narrower, shallower one on 4 x 4 pixel patches folded into channels.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .errors import BadInputError


class ConvSC(nn.Module):
    """Convolution, GroupNorm(2), SiLU; stride 2 halves H and W, `upsample` doubles them."""

    def __init__(self, cin: int, cout: int, *, stride: int = 1, upsample: bool = False, kernel: int = 3):
        super().__init__()
        if upsample:
            self.conv = nn.Sequential(
                nn.Conv2d(cin, cout * 4, kernel, padding=kernel // 2), nn.PixelShuffle(2)
            )  # fmt: skip
        else:
            self.conv = nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2)
        self.norm = nn.GroupNorm(2, cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.silu(self.norm(self.conv(x)))


def _strides(depth: int) -> list[bool]:
    """Which of `depth` encoder blocks are strided: every second one, [False, True, False, True]."""
    return [i % 2 == 1 for i in range(depth)]


class Encoder(nn.Module):
    def __init__(self, channels: int, hidden: int, depth: int):
        super().__init__()
        strides = _strides(depth)
        self.blocks = nn.ModuleList(
            ConvSC(channels if i == 0 else hidden, hidden, stride=2 if s else 1) for i, s in enumerate(strides)
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        skip = x = self.blocks[0](x)
        for block in self.blocks[1:]:
            x = block(x)
        return x, skip


class Decoder(nn.Module):
    def __init__(self, hidden: int, channels: int, depth: int):
        super().__init__()
        ups = list(reversed(_strides(depth)))
        self.blocks = nn.ModuleList(ConvSC(hidden, hidden, upsample=u) for u in ups)
        self.readout = nn.Conv2d(hidden, channels, 1)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        for block in self.blocks[:-1]:
            x = block(x)
        return self.readout(self.blocks[-1](x + skip))


class TemporalAttentionUnit(nn.Module):
    """TAU's attention: static (depthwise 5x5, dilated depthwise 7x7, 1x1) times dynamic
    (squeeze-and-excitation over channels), times the input."""

    def __init__(self, dim: int, reduction: int = 16):
        super().__init__()
        self.local = nn.Conv2d(dim, dim, 5, padding=2, groups=dim)
        self.dilated = nn.Conv2d(dim, dim, 7, padding=9, dilation=3, groups=dim)
        self.mix = nn.Conv2d(dim, dim, 1)
        hidden = max(dim // reduction, 4)
        self.excite = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, dim), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        static = self.mix(self.dilated(self.local(x)))
        dynamic = self.excite(x.mean(dim=(2, 3)))[:, :, None, None]
        return dynamic * static * x


class TAUBlock(nn.Module):
    def __init__(self, dim: int, mlp_ratio: float = 4.0, layer_scale: float = 1e-2):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(dim)
        self.attention = nn.Sequential(
            nn.Conv2d(dim, dim, 1), nn.GELU(), TemporalAttentionUnit(dim), nn.Conv2d(dim, dim, 1)
        )  # fmt: skip
        self.norm2 = nn.BatchNorm2d(dim)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(
            nn.Conv2d(dim, hidden, 1),
            nn.Conv2d(hidden, hidden, 3, padding=1, groups=hidden),
            nn.GELU(),
            nn.Conv2d(hidden, dim, 1),
        )
        self.scale1 = nn.Parameter(torch.full((dim,), layer_scale))
        self.scale2 = nn.Parameter(torch.full((dim,), layer_scale))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm1(x)
        x = x + self.scale1[:, None, None] * (self.attention(h) + h)
        return x + self.scale2[:, None, None] * self.mlp(self.norm2(x))


class TAUPredictor(nn.Module):
    """T given frames (B, T, C, H, W) -> the `out_frames` next frames (default T), in one pass.

    H and W must be divisible by patch * 2 ** (spatial_depth // 2). With as many frames out as in,
    the decoder of output frame i takes the encoder's skip of input frame i (as SimVP); otherwise
    every output frame takes the newest input frame's."""

    def __init__(
        self,
        frames: int = 10,
        channels: int = 1,
        *,
        out_frames: int | None = None,
        hid_s: int = 16,
        hid_t: int = 128,
        spatial_depth: int = 4,
        temporal_depth: int = 4,
        patch: int = 1,
    ):
        super().__init__()
        if patch < 1:
            raise BadInputError(f"patch={patch}: must be 1 or more")
        if spatial_depth < 2 or temporal_depth < 1:
            raise BadInputError(f"spatial_depth={spatial_depth}, temporal_depth={temporal_depth}: need 2 and 1 or more")
        self.frames, self.channels, self.patch = frames, channels, patch
        self.out_frames = frames if out_frames is None else out_frames
        self.shrink = patch * 2 ** sum(_strides(spatial_depth))
        # patch > 1 folds patch x patch pixels into channels first (space to depth): every layer
        # then runs patch**2 times cheaper, which is what makes the model trainable on a CPU
        self.encoder = Encoder(channels * patch**2, hid_s, spatial_depth)
        stacked = frames * hid_s
        self.into = nn.Conv2d(stacked, hid_t, 1)
        self.translator = nn.Sequential(*[TAUBlock(hid_t) for _ in range(temporal_depth)])
        self.out_of = nn.Conv2d(hid_t, self.out_frames * hid_s, 1)
        self.decoder = Decoder(hid_s, channels * patch**2, spatial_depth)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        b, t, c, h, w = frames.shape
        if t != self.frames or c != self.channels:
            raise BadInputError(
                f"input of shape {tuple(frames.shape)}: expected (B, {self.frames}, {self.channels}, H, W)"
            )
        if h % self.shrink or w % self.shrink:
            raise BadInputError(f"frames of {h}x{w}: height and width must be multiples of {self.shrink}")
        flat = F.pixel_unshuffle(frames.reshape(b * t, c, h, w), self.patch)
        z, skip = self.encoder(flat)
        _, hid, hh, ww = z.shape
        y = self.out_of(self.translator(self.into(z.reshape(b, t * hid, hh, ww))))
        n = self.out_frames
        if n != t:
            skip = skip.reshape(b, t, *skip.shape[1:])[:, -1:].expand(-1, n, -1, -1, -1).reshape(b * n, *skip.shape[1:])
        out = F.pixel_shuffle(self.decoder(y.reshape(b * n, hid, hh, ww), skip), self.patch)
        return out.reshape(b, n, c, h, w)


def differential_divergence(prediction: torch.Tensor, truth: torch.Tensor, tau: float = 0.1) -> torch.Tensor:
    """TAU's differential divergence regulariser: the frame-to-frame changes of prediction and
    truth (B, T, C, H, W), each turned into a distribution over its pixels by a softmax with
    temperature `tau`, compared by KL(prediction || truth). As in the authors' code (OpenSTL's
    `diff_div_reg`), the KL terms are averaged over every element, not summed over the pixels,
    and a clip of two frames or fewer (one change or none) gives 0."""
    if prediction.shape != truth.shape:
        raise BadInputError(f"prediction {tuple(prediction.shape)} and truth {tuple(truth.shape)}: must match")
    b, t = prediction.shape[:2]
    if t <= 2:
        return prediction.new_zeros(())
    d_pred = (prediction[:, 1:] - prediction[:, :-1]).reshape(b, t - 1, -1)
    d_true = (truth[:, 1:] - truth[:, :-1]).reshape(b, t - 1, -1)
    p = F.softmax(d_pred / tau, dim=-1)
    q = F.softmax(d_true / tau, dim=-1)
    eps = 1e-12
    return (p * torch.log(p / (q + eps) + eps)).mean()


def tau_loss(prediction: torch.Tensor, truth: torch.Tensor, alpha: float = 0.1, tau: float = 0.1) -> torch.Tensor:
    """TAU's training loss: mean squared error + alpha x the differential divergence."""
    return F.mse_loss(prediction, truth) + alpha * differential_divergence(prediction, truth, tau)
