"""helpers.layers: the reshapes keep frames (and pixels) apart, the timestep embedding, and the
causal temporal attention that chapters 07 and 09 build on."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from helpers.errors import BadInputError
from helpers.layers import CausalTemporalAttention, group_norm, per_frame, per_pixel_in_time, timestep_embedding


def test_per_frame_applies_a_2d_module_to_each_frame_on_its_own():
    conv = nn.Conv2d(3, 5, 3, padding=1)
    clip = torch.randn(2, 3, 4, 6, 7)
    out = per_frame(conv, clip)
    assert out.shape == (2, 5, 4, 6, 7)
    for t in range(4):
        torch.testing.assert_close(out[:, :, t], conv(clip[:, :, t]))


def test_per_pixel_in_time_applies_a_1d_module_along_the_frames_of_each_pixel():
    conv = nn.Conv1d(3, 3, 3, padding=1)
    clip = torch.randn(2, 3, 5, 4, 4)
    out = per_pixel_in_time(conv, clip)
    assert out.shape == clip.shape
    torch.testing.assert_close(out[1, :, :, 2, 3], conv(clip[1:2, :, :, 2, 3])[0])
    changed = clip.clone()
    changed[:, :, :, 0, 0] += 1  # one pixel's sequence: no other pixel moves
    assert torch.equal(per_pixel_in_time(conv, changed)[:, :, :, 1:], out[:, :, :, 1:])


def test_timestep_embedding_is_sines_and_cosines_at_geometric_frequencies():
    emb = timestep_embedding(torch.tensor([0, 7]), 8)
    assert emb.shape == (2, 8)
    torch.testing.assert_close(emb[0], torch.tensor([0.0] * 4 + [1.0] * 4))
    expected = [math.sin(7 * 10000 ** (-i / 4)) for i in range(4)] + [math.cos(7 * 10000 ** (-i / 4)) for i in range(4)]
    torch.testing.assert_close(emb[1], torch.tensor(expected), rtol=1e-5, atol=1e-5)


def test_group_norm_takes_fewer_groups_for_narrow_layers():
    assert group_norm(32).num_groups == 8 and group_norm(4).num_groups == 4


def test_causal_attention_is_causal_and_sees_the_past():
    attention = CausalTemporalAttention(8, heads=2)
    torch.nn.init.normal_(attention.out.weight)
    x = torch.randn(1, 8, 5, 3, 3)
    changed = x.clone()
    changed[:, :, 0] += torch.randn(changed[:, :, 0].shape)
    y, z = attention(x), attention(changed)
    assert all(not torch.allclose(y[:, :, i], z[:, :, i]) for i in range(5))  # frame 0 reaches all
    changed = x.clone()
    changed[:, :, 4] += torch.randn(changed[:, :, 4].shape)
    assert torch.equal(attention(changed)[:, :, :4], y[:, :, :4])


def test_causal_attention_starts_as_the_identity_and_checks_its_heads():
    x = torch.randn(2, 8, 3, 2, 2)
    assert torch.equal(CausalTemporalAttention(8, heads=4)(x), x)
    with pytest.raises(BadInputError, match="not divisible into 3 heads"):
        CausalTemporalAttention(8, heads=3)
