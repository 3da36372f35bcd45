"""helpers.tau_predictor: shapes, the checks on bad input, the loss, and that it learns."""

import pytest
import torch

from helpers.errors import BadInputError
from helpers.tau_predictor import TAUPredictor, differential_divergence, tau_loss


@pytest.mark.parametrize("patch,out_frames", [(1, None), (2, 3), (4, 8)])
def test_frames_in_frames_out(patch, out_frames):
    model = TAUPredictor(4, 1, out_frames=out_frames, hid_s=8, hid_t=16, spatial_depth=2, temporal_depth=1, patch=patch)
    out = model(torch.rand(2, 4, 1, 16, 16))
    assert out.shape == (2, out_frames or 4, 1, 16, 16)


def test_bad_inputs_are_one_line_errors():
    model = TAUPredictor(4, 1, hid_s=8, hid_t=16, spatial_depth=2, temporal_depth=1, patch=2)
    with pytest.raises(BadInputError, match="expected"):
        model(torch.rand(1, 3, 1, 16, 16))  # three frames given, four expected
    with pytest.raises(BadInputError, match="multiples of 4"):
        model(torch.rand(1, 4, 1, 18, 18))
    with pytest.raises(BadInputError):
        TAUPredictor(patch=0)


def test_differential_divergence_follows_the_authors_convention():
    truth = torch.rand(2, 5, 1, 8, 8)
    assert differential_divergence(truth, truth).abs() < 1e-6  # identical changes: no divergence
    other = torch.rand(2, 5, 1, 8, 8)
    value = differential_divergence(other, truth, tau=0.1)
    # by hand: KL(p || q) of the softmaxed frame-to-frame changes, averaged over every element
    dp = (other[:, 1:] - other[:, :-1]).reshape(2, 4, -1)
    dq = (truth[:, 1:] - truth[:, :-1]).reshape(2, 4, -1)
    p, q = torch.softmax(dp / 0.1, -1), torch.softmax(dq / 0.1, -1)
    by_hand = (p * torch.log(p / (q + 1e-12) + 1e-12)).mean()
    assert value > 0 and torch.allclose(value, by_hand)
    assert differential_divergence(other[:, :2], truth[:, :2]) == 0  # one change: nothing to compare
    with pytest.raises(BadInputError):
        differential_divergence(other, truth[:, :4])


def test_it_learns_to_move_a_square():
    """A square moving one pixel per frame: a few hundred steps bring the error well below copying."""
    torch.manual_seed(0)

    def clips(n):
        starts = torch.randint(0, 8, (n,))
        video = torch.zeros(n, 8, 1, 16, 16)
        for i, s in enumerate(starts.tolist()):
            for t in range(8):
                video[i, t, 0, 4:8, s + t : s + t + 4] = 1
        return video[:, :4], video[:, 4:]

    model = TAUPredictor(4, 1, hid_s=16, hid_t=32, spatial_depth=2, temporal_depth=1)
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(150):
        given, future = clips(16)
        loss = tau_loss(model(given), future)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
    given, future = clips(32)
    with torch.no_grad():
        error = torch.mean((model(given) - future) ** 2)
    copy = torch.mean((given[:, -1:].expand_as(future) - future) ** 2)
    assert error < 0.5 * copy
