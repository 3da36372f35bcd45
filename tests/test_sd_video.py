"""helpers.sd_video: the offline Stable Diffusion base, LoRA save/reload, the stream path, the CLI."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from helpers import sd_video as sv
from helpers.errors import BadInputError

SIZE = 32


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return sv.load_base("tiny", SIZE, unet_steps=2, autoencoder_weights="tiny", autoencoder_steps=2, seed=0)


@pytest.fixture(scope="module")
def lora(base, tmp_path_factory):
    """A noise-prediction LoRA (untrained but nonzero) saved with diffusers' API."""
    torch.manual_seed(0)
    unet = sv.copy.deepcopy(base.pipe.unet)
    sv.add_lora(unet, 2)
    for name, p in unet.named_parameters():
        if "lora_B" in name:  # peft starts B at zero: give the adapter an effect
            torch.nn.init.normal_(p, std=0.05)
    folder = tmp_path_factory.mktemp("lora") / "noise"
    size = sv.save_lora(folder, "noise prediction", unet, base, strength=0.5, steps=2, rank=2)
    return folder, unet, size


def frames(n: int = 2) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (n, SIZE, SIZE, 3), dtype=np.uint8)


def test_tiny_base_is_labelled_cached_and_independent_of_the_callers_randomness(base):
    assert "tiny offline weights trained here" in base.label
    assert base.pipe.tokenizer is None and base.pipe.text_encoder is None
    torch.manual_seed(123)
    state = torch.get_rng_state()
    again = sv.load_base("tiny", SIZE, unet_steps=2, autoencoder_weights="tiny", autoencoder_steps=2, seed=0)
    assert torch.equal(torch.get_rng_state(), state)
    assert again.fit.steps_run == 0  # loaded from build/sd_tiny, not trained again
    for a, b in zip(base.pipe.unet.parameters(), again.pipe.unet.parameters(), strict=True):
        assert torch.equal(a, b)


def test_img2img_is_seeded_and_strength_moves_the_output(base):
    x = frames()
    a = sv.make_next(base.pipe, base.prompt_embeds, x, strength=0.3, steps=4, seed=1)
    b = sv.make_next(base.pipe, base.prompt_embeds, x, strength=0.3, steps=4, seed=1)
    c = sv.make_next(base.pipe, base.prompt_embeds, x, strength=1.0, steps=4, seed=1)
    assert a.shape == (2, SIZE, SIZE, 3) and np.array_equal(a, b) and not np.allclose(a, c)


def test_saved_lora_reloads_to_the_same_frames(base, lora):
    folder, unet, size = lora
    assert (folder / "pytorch_lora_weights.safetensors").is_file() and size > 0
    assert not folder.with_name(folder.name + ".partial").exists()
    ours = sv.build_pipeline(base.pipe.vae, unet)
    reloaded, info = sv.load_lora(folder, base)
    assert info["variant"] == "noise prediction"
    x = frames()
    a = sv.make_next(ours, base.prompt_embeds, x, strength=0.5, steps=2, seed=3)
    b = sv.make_next(reloaded, base.prompt_embeds, x, strength=0.5, steps=2, seed=3)
    plain = sv.make_next(base.pipe, base.prompt_embeds, x, strength=0.5, steps=2, seed=3)
    assert np.array_equal(a, b) and not np.array_equal(a, plain)


def test_frame_conditioned_lora_round_trip(base, tmp_path):
    unet = sv.frame_conditioned(base.pipe.unet)
    channels = base.pipe.unet.config.in_channels
    assert channels == base.pipe.vae.config.latent_channels and unet.config.in_channels == 2 * channels
    sv.add_lora(unet, 2)
    torch.nn.init.normal_(unet.conv_in.weight[:, channels:], std=0.1)
    sv.save_lora(tmp_path / "ip2p", "frame-conditioned", unet, base, strength=0.5, steps=2, rank=2)
    reloaded, _ = sv.load_lora(tmp_path / "ip2p", base)
    ours = sv.build_pipeline(base.pipe.vae, unet, "ip2p")
    x = frames()
    a = sv.make_next(ours, base.prompt_embeds, x, strength=0.5, steps=2, seed=0)
    b = sv.make_next(reloaded, base.prompt_embeds, x, strength=0.5, steps=2, seed=0)
    assert np.array_equal(a, b)


def test_bad_lora_folders_are_one_line_errors(base, lora, tmp_path):
    folder = lora[0]
    with pytest.raises(BadInputError, match="no such LoRA folder"):
        sv.load_lora(tmp_path / "missing", base)
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInputError, match="not a next-frame LoRA"):
        sv.load_lora(tmp_path / "empty", base)
    other = tmp_path / "other"
    shutil.copytree(folder, other)
    info = json.loads((other / sv.LORA_INFO).read_text())
    info["base"]["size"] = 64
    (other / sv.LORA_INFO).write_text(json.dumps(info))
    with pytest.raises(BadInputError, match="another base model .*size"):
        sv.load_lora(other, base)
    (other / sv.LORA_INFO).write_text("{not json")
    with pytest.raises(BadInputError, match="damaged"):
        sv.load_lora(other, base)


def test_stream_batch_gives_the_few_step_loops_frames_and_one_frame_per_call(base):
    x = frames(5)
    loop = sv.StreamPath(base.pipe.unet, base.pipe.vae, base.prompt_embeds, t_index_list=(20, 30, 40))
    stream = sv.StreamPath(
        base.pipe.unet, base.pipe.vae, base.prompt_embeds, t_index_list=(20, 30, 40), stream_batch=True
    )
    a, b = loop.run(x), stream.run(x)
    assert np.allclose(a, b, atol=1e-4)
    assert loop.calls == 15 and stream.calls == 5 + 2  # 3 stages: 2 calls to drain the pipe


def test_similarity_filter_skips_repeated_frames_and_repeats_the_output(base):
    x = np.repeat(frames(1), 6, axis=0)
    x[3] = 255 - x[3]  # one different frame
    path = sv.StreamPath(base.pipe.unet, base.pipe.vae, base.prompt_embeds, filter_threshold=0.9)
    out = path.run(x)
    # frames 1, 2 repeat frame 0 and frame 5 repeats frame 4: skipped with probability 1, their
    # output is the last one made; frames 3 and 4 differ from the frame processed before them
    assert path.skipped == 3
    # one cosine per frame after the first, 1 for a repeat of the frame processed before it
    assert len(path.similarities) == 5 and path.similarities[0] == pytest.approx(1.0)
    assert np.array_equal(out[0], out[1]) and np.array_equal(out[0], out[2])
    assert np.array_equal(out[4], out[5]) and not np.array_equal(out[3], out[4])
    with pytest.raises(BadInputError, match="t_index_list"):
        sv.StreamPath(base.pipe.unet, base.pipe.vae, base.prompt_embeds, t_index_list=(30, 20))


def test_tiny_decoder_distils(base, tmp_path):
    latents = torch.randn(8, base.pipe.vae.config.latent_channels, SIZE // 4, SIZE // 4)
    tiny, fit = sv.distill_tiny_decoder(base.pipe.vae, latents, 2, tmp_path / "tiny.pt")
    assert fit.steps_run == 2
    assert tiny.decode(latents[:1]).sample.shape == (1, 3, SIZE, SIZE)


def test_continue_command(base, lora, bikes_path, tmp_path, capsys):
    folder = lora[0]
    out = tmp_path / "clip.gif"
    assert sv.main(["continue", str(bikes_path), "--lora", str(folder), "-n", "2", "--out", str(out)]) == 0
    import imageio.v3 as iio

    assert iio.imread(out, index=None).shape[0] == 3  # the last real frame, then 2 made ones
    assert "No LoRA keys" not in capsys.readouterr().err  # diffusers' warning about the absent text encoder
    for args, message in (
        (["-n", "0"], "-n 0"),
        (["--lora", str(tmp_path / "nope")], "no such LoRA folder"),
        (["--out", str(tmp_path / "clip.txt")], "gif or .mp4"),
    ):
        target = tmp_path / "never.gif"
        argv = ["continue", str(bikes_path), "--lora", str(folder), "-n", "2", "--out", str(target), *args]
        assert sv.main(argv) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1 and not target.exists()
    bad_video = tmp_path / "broken.mp4"
    bad_video.write_bytes(b"not a video")
    assert sv.main(["continue", str(bad_video), "--lora", str(folder), "--out", str(tmp_path / "b.gif")]) == 2
    assert "broken.mp4" in capsys.readouterr().err and not (tmp_path / "b.gif").exists()
