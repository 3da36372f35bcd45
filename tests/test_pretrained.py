"""helpers.pretrained: the real loading code, exercised offline with a tiny local configuration."""

import torch

from helpers import pretrained, runtime


def test_tiny_autoencoder_offline_round_trip(tmp_path, monkeypatch):
    monkeypatch.setattr(runtime, "hub_reachable", lambda *a, **k: False)
    model, plan = pretrained.load_autoencoder("auto", sample_size=32)
    assert plan["kind"] == "tiny" and plan["label"] == runtime.TINY_LABEL
    assert pretrained.downsampling(model) == 4
    image = torch.rand(2, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        latents = model.encode(image).latent_dist.mean
        assert latents.shape == (2, 4, 8, 8)
        assert model.decode(latents).sample.shape == image.shape
    # the local-folder path goes through diffusers' own from_pretrained, as the hub path does
    model.save_pretrained(tmp_path / "vae")
    loaded, plan = pretrained.load_autoencoder(str(tmp_path / "vae"))
    assert plan["kind"] == "local"
    with torch.no_grad():
        assert torch.allclose(loaded.encode(image).latent_dist.mean, latents, atol=1e-6)
