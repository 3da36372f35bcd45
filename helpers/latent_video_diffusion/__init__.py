"""Latent video diffusion (chapter 07): clips encoded frame by frame by the course autoencoder,
denoised as a whole by a U-Net whose temporal design is a switch (3D convolutions, 2D + frame
adapter, + causal attention), and Gen-1-style editing that keeps a clip's structure and changes
its content.

    model.py      FrameAdapter, ResBlock, LatentVideoUNet (the three temporal designs)
    diffusion.py  diffusers' DDPM/DDIM schedulers, the v-prediction loss, guided DDIM sampling
    cost.py       the memory one training step takes, per design
    editing.py    the structure signal, the content embedding, structure kept by an edit

The shared blocks (per-frame reshapes, causal temporal attention, timestep embedding) are in
helpers.layers; chapter 06's pixel-space counterpart is helpers.pixel_video_diffusion.
"""
