"""What chapter 03 relies on beyond its own cells: scoring several generated sets against one real
set with the real clips encoded once (generation_scores(real_latents=...) or real_reference)."""

import numpy as np
import pytest

from helpers import video_scores
from helpers.errors import BadInputError

torch = pytest.importorskip("torch")


class PoolingEncoder:
    """A stand-in for the course autoencoder: 4x4 average pooling of the image as its 'latent'."""

    def __init__(self):
        self.calls = 0

    def encode(self, images, batch: int = 64):
        self.calls += 1
        return torch.nn.functional.avg_pool2d(images, 4)


def clips(seed: int, n: int = 6, frames: int = 8, size: int = 16) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, frames, size, size, 3), dtype=np.uint8)


def test_real_latents_given_once_give_the_scores_of_encoding_them_each_time():
    real, made = clips(0), clips(1)
    encoder = PoolingEncoder()
    plain = video_scores.generation_scores(made, real, encoder, fps=25.0)
    assert encoder.calls == 2
    latents = video_scores.frame_latents(real, encoder)
    encoder.calls = 0
    reused = video_scores.generation_scores(made, real, encoder, fps=25.0, real_latents=latents)
    assert encoder.calls == 1  # only the generated clips were encoded
    assert reused == pytest.approx(plain)


def test_real_latents_of_other_clips_are_refused_in_one_line():
    real, made = clips(0), clips(1)
    encoder = PoolingEncoder()
    wrong = video_scores.frame_latents(real[:3], encoder)
    with pytest.raises(BadInputError, match="expected the frame_latents of the 6 real clips") as caught:
        video_scores.generation_scores(made, real, encoder, fps=25.0, real_latents=wrong)
    assert "\n" not in str(caught.value)


def test_a_real_reference_made_once_gives_the_same_scores_and_encodes_only_the_generated():
    real, made = clips(0), clips(1)
    encoder = PoolingEncoder()
    plain = video_scores.generation_scores(made, real, encoder, fps=25.0)
    reference = video_scores.real_reference(real, encoder, fps=25.0)
    encoder.calls = 0
    again = [video_scores.generation_scores(m, reference, encoder, fps=25.0) for m in (made, clips(2))]
    assert encoder.calls == 2  # one generated set each, the real clips never again
    assert again[0] == pytest.approx(plain)
    with pytest.raises(BadInputError, match="fps=10"):
        video_scores.generation_scores(made, reference, encoder, fps=10.0)
