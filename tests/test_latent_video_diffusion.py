"""helpers.latent_video_diffusion: the three temporal designs, causality of the directed design, structure/content."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers import datasets
from helpers.errors import BadInputError
from helpers.latent_video_diffusion import cost, editing
from helpers.latent_video_diffusion import diffusion as latent_diffusion
from helpers.latent_video_diffusion.model import TEMPORAL_DESIGNS, LatentVideoUNet


def model(temporal: str, **kwargs) -> LatentVideoUNet:
    torch.manual_seed(0)
    net = LatentVideoUNet(4, temporal=temporal, width=16, max_frames=8, cond_channels=4, **kwargs)
    # zero-initialised output layers would hide every path; give them weights
    for p in net.parameters():
        if torch.count_nonzero(p) == 0:
            torch.nn.init.normal_(p, std=0.1)
    return net.eval()


def outputs_after_changing(net: LatentVideoUNet, frame: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(2, 4, 6, 8, 8, generator=generator)
    cond = torch.randn(2, 4, 6, 8, 8, generator=generator)
    t = torch.tensor([500])
    changed = x.clone()
    changed[:, :, frame] += torch.randn(changed[:, :, frame].shape, generator=generator)
    with torch.no_grad():
        return net(x, t, cond), net(changed, t, cond)


def test_directed_design_is_exactly_causal():
    before, after = outputs_after_changing(model("2d+adapter+directed"), frame=3)
    assert torch.equal(before[:, :, :3], after[:, :, :3])  # earlier frames: bit for bit the same
    for later in (3, 4, 5):
        assert not torch.allclose(before[:, :, later], after[:, :, later])


def test_3d_design_mixes_both_ways_and_adapter_design_not_at_all():
    before, after = outputs_after_changing(model("3d"), frame=3)
    assert not torch.allclose(before[:, :, 2], after[:, :, 2])  # 3D kernels look ahead too
    before, after = outputs_after_changing(model("2d+adapter"), frame=3)
    others = [0, 1, 2, 4, 5]
    assert torch.equal(before[:, :, others], after[:, :, others])
    assert not torch.allclose(before[:, :, 3], after[:, :, 3])


def test_designs_differ_in_parameters_as_described():
    counts = {d: sum(p.numel() for p in model(d).parameters()) for d in TEMPORAL_DESIGNS}
    assert counts["3d"] > counts["2d+adapter+directed"] > counts["2d+adapter"]


def test_bad_model_inputs_are_one_line_errors():
    with pytest.raises(BadInputError, match="temporal='4d'"):
        LatentVideoUNet(temporal="4d")
    net = model("2d+adapter")
    x = torch.randn(1, 4, 9, 8, 8)
    with pytest.raises(BadInputError, match="at most 8"):
        net(x, torch.tensor([1]), torch.randn(1, 4, 9, 8, 8))
    with pytest.raises(BadInputError, match="conditioning"):
        net(torch.randn(1, 4, 4, 8, 8), torch.tensor([1]), torch.randn(1, 3, 4, 8, 8))
    with pytest.raises(BadInputError, match="expected"):
        net(torch.randn(1, 3, 4, 8, 8), torch.tensor([1]))
    with pytest.raises(BadInputError, match="conditioning vector"):
        LatentVideoUNet(vector_dim=3, levels=2, width=16)(
            torch.randn(1, 4, 2, 8, 8), torch.tensor([1]), level=torch.tensor([0])
        )


def test_content_vector_and_levels_reach_the_output():
    net = LatentVideoUNet(4, width=16, vector_dim=8, levels=3, cond_channels=1)
    for p in net.parameters():
        if torch.count_nonzero(p) == 0:
            torch.nn.init.normal_(p, std=0.1)
    x, cond, t = torch.randn(2, 4, 3, 8, 8), torch.randn(2, 1, 3, 8, 8), torch.tensor([10])
    vector, level = torch.randn(2, 8), torch.tensor([0, 3])
    base = net(x, t, cond, vector=vector, level=level)
    assert not torch.allclose(base, net(x, t, cond, vector=vector + 1, level=level))
    assert not torch.allclose(base, net(x, t, cond, vector=vector, level=torch.tensor([1, 3])))
    dropped = net(x, t, cond, vector=vector, drop_vector=torch.tensor([True, True]), level=level)
    assert torch.equal(dropped, net(x, t, cond, vector=vector * 5, drop_vector=torch.tensor([True, True]), level=level))


def test_sampling_is_seeded_and_guidance_runs():
    net = LatentVideoUNet(4, width=16, vector_dim=2)
    _, ddim = latent_diffusion.schedulers(100)
    kwargs = {"vector": torch.zeros(1, 2), "steps": 3}
    a = latent_diffusion.sample(net, ddim, (1, 4, 2, 8, 8), seed=4, **kwargs)
    b = latent_diffusion.sample(net, ddim, (1, 4, 2, 8, 8), seed=4, **kwargs)
    c = latent_diffusion.sample(net, ddim, (1, 4, 2, 8, 8), seed=5, guidance=2.0, **kwargs)
    assert torch.equal(a, b) and not torch.equal(a, c)
    with pytest.raises(BadInputError, match="steps=0"):
        latent_diffusion.sample(net, ddim, (1, 4, 2, 8, 8), steps=0)


def test_diffusion_loss_trains_down():
    torch.manual_seed(0)
    net = LatentVideoUNet(4, width=16, cond_channels=4)
    ddpm, _ = latent_diffusion.schedulers(100)
    x0 = torch.randn(4, 4, 3, 8, 8) * 0.5
    optimiser = torch.optim.Adam(net.parameters(), 3e-3)
    losses = []
    for _ in range(40):
        loss = latent_diffusion.diffusion_loss(net, ddpm, x0, cond=x0)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert np.mean(losses[-10:]) < 0.8 * np.mean(losses[:10])


def test_training_step_memory_counts_activations():
    x = torch.randn(2, 4, 4, 8, 8)
    cond = torch.randn(2, 4, 4, 8, 8)
    memory = {}
    for design in TEMPORAL_DESIGNS:
        net = model(design)
        memory[design] = cost.training_step_memory(net, lambda net=net: net(x, torch.tensor([3]), cond).square().mean())
        assert memory[design]["peak MiB"] > memory[design]["activations MiB"] > 0
    assert memory["2d+adapter+directed"]["activations MiB"] > memory["2d+adapter"]["activations MiB"]


def test_clip_windows_stay_inside_shots():
    runs = {"a": np.arange(0, 10), "b": np.arange(10, 14)}
    windows = datasets.clip_windows(runs, 3, skip=1)
    assert windows.tolist() == [[0, 2, 4], [1, 3, 5], [2, 4, 6], [3, 5, 7], [4, 6, 8], [5, 7, 9]]
    assert datasets.clip_windows(runs, 4).tolist()[-1] == [10, 11, 12, 13]
    with pytest.raises(BadInputError, match="no shot is 21 frames long"):
        datasets.clip_windows(runs, 11, skip=1)


def test_structure_signal_is_standardised_and_blur_removes_detail():
    frames = torch.rand(3, 3, 32, 32)
    sharp = editing.structure_signal(frames, 16, level=0)
    blurred = editing.structure_signal(frames, 16, level=3)
    assert sharp.shape == (3, 1, 16, 16)
    assert torch.allclose(sharp.mean(dim=(2, 3)), torch.zeros(3, 1), atol=1e-5)
    assert torch.allclose(sharp.std(dim=(2, 3)), torch.ones(3, 1), atol=1e-4)
    # brightness and colour are not structure
    assert torch.allclose(editing.structure_signal(frames * 0.5 + 0.2, 16), sharp, atol=1e-4)
    detail = lambda s: (s[..., 1:, :] - s[..., :-1, :]).abs().mean()  # noqa: E731
    assert detail(blurred) < 0.5 * detail(sharp)
    assert editing.structure_correlation(sharp, sharp) == pytest.approx(1.0)
    assert abs(editing.structure_correlation(sharp, editing.structure_signal(torch.rand(3, 3, 32, 32), 16))) < 0.3
    with pytest.raises(BadInputError, match="structure level 4"):
        editing.structure_signal(frames, 16, level=4)


def test_structure_correlation_on_picture_only_ignores_shared_letterbox():
    torch.manual_seed(0)
    a, b = torch.rand(4, 3, 32, 32), torch.rand(4, 3, 32, 32)
    a[:, :, :8], b[:, :, :8] = 0.0, 0.0  # the same black bar on top of unrelated pictures
    masks = torch.ones(4, 32, 32, dtype=torch.bool)
    masks[:, :8] = False
    sa, sb = editing.structure_signal(a, 16), editing.structure_signal(b, 16)
    picture = editing.picture_mask(masks, 16)
    assert picture.shape == (4, 1, 16, 16) and not picture[:, :, :4].any() and picture[:, :, 4:].all()
    assert editing.structure_correlation(sa, sb) > 0.4  # the bar alone correlates
    assert abs(editing.structure_correlation(sa, sb, picture)) < 0.2
    assert editing.structure_correlation(sa, sa, picture) == pytest.approx(1.0)
    with pytest.raises(BadInputError, match="structure mask"):
        editing.structure_correlation(sa, sb, picture[:2])


def test_pooled_content_ignores_layout():
    latents = torch.randn(2, 4, 8, 8)
    shuffled = latents.flatten(2)[:, :, torch.randperm(64)].reshape(2, 4, 8, 8)
    assert torch.allclose(editing.pooled_content(latents), editing.pooled_content(shuffled), atol=1e-5)
    assert editing.pooled_content(latents).shape == (2, 8)
