"""helpers.pretrained: the real loading code, exercised offline with a tiny local configuration."""

import pytest
import torch

from helpers import pretrained
from helpers.errors import BadInputError


def test_tiny_autoencoder_offline_round_trip(tmp_path, monkeypatch):
    monkeypatch.setattr(pretrained, "hub_reachable", lambda *a, **k: False)
    model, plan = pretrained.load_autoencoder("auto", sample_size=32)
    assert plan["kind"] == "tiny" and plan["label"] == pretrained.TINY_LABEL
    assert pretrained.downsampling(model) == 4
    image = torch.rand(2, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        latents = model.encode(image).latent_dist.mean
        assert latents.shape == (2, model.config.latent_channels, 8, 8)
        assert model.decode(latents).sample.shape == image.shape
    # the local-folder path goes through diffusers' own from_pretrained, as the hub path does
    model.save_pretrained(tmp_path / "vae")
    loaded, plan = pretrained.load_autoencoder(str(tmp_path / "vae"))
    assert plan["kind"] == "local"
    with torch.no_grad():
        assert torch.allclose(loaded.encode(image).latent_dist.mean, latents, atol=1e-6)


def test_weights_plan_is_honest_offline(monkeypatch, tmp_path):
    monkeypatch.setattr(pretrained, "hub_reachable", lambda *a, **k: False)
    plan = pretrained.plan_weights("auto", "org/model")
    assert plan["kind"] == "tiny" and plan["label"] == pretrained.TINY_LABEL and "not reachable" in plan["reason"]
    assert pretrained.plan_weights("tiny", "org/model")["kind"] == "tiny"
    assert pretrained.plan_weights(str(tmp_path), "org/model")["kind"] == "local"
    monkeypatch.setattr(pretrained, "hub_reachable", lambda *a, **k: True)
    assert pretrained.plan_weights("auto", "org/model") == {
        "kind": "hub",
        "id": "org/model",
        "label": "pretrained weights org/model",
        "reason": "hub reachable",
    }
    with pytest.raises(BadInputError):
        pretrained.plan_weights("nonsense", "org/model")


def test_course_autoencoder_trains_once_and_is_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_BUILD", str(tmp_path))
    first = pretrained.course_autoencoder("tiny", 32, 3, seed=0)
    assert first.fit.steps_run == 3 and first.checkpoint.parent == tmp_path / "autoencoder"
    assert "trained here" in first.label and pretrained.TINY_LABEL in first.label
    again = pretrained.course_autoencoder("tiny", 32, 3, seed=0)
    assert again.fit.steps_run == 0 and again.fit.resumed_from == 3  # loaded, not retrained
    for a, b in zip(first.model.parameters(), again.model.parameters(), strict=True):
        assert torch.equal(a, b)
    other = pretrained.course_autoencoder("tiny", 32, 3, seed=1)
    assert other.checkpoint != first.checkpoint
    frames = torch.rand(2, 3, 32, 32) * 2 - 1
    latents = first.encode(frames)
    assert latents.shape == (2, first.model.config.latent_channels, 8, 8) and not latents.requires_grad
    decoded = first.decode(latents)
    assert decoded.shape == (2, 3, 32, 32) and 0 <= decoded.min() and decoded.max() <= 1


def test_course_autoencoder_weights_do_not_depend_on_the_callers_random_state(tmp_path, monkeypatch):
    trained = []
    for folder, caller_seed in (("a", 1), ("b", 2)):
        monkeypatch.setenv("COURSE_BUILD", str(tmp_path / folder))
        torch.manual_seed(caller_seed)
        before = torch.get_rng_state()
        trained.append(pretrained.course_autoencoder("tiny", 32, 2, seed=0))
        assert torch.equal(torch.get_rng_state(), before)  # the chapter's own randomness is untouched
    for a, b in zip(trained[0].model.parameters(), trained[1].model.parameters(), strict=True):
        assert torch.equal(a, b)
