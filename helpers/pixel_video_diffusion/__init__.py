"""Pixel-space video diffusion (chapter 06): a factorised space-time 3D U-Net that makes short
clips from noise, steered frame by frame by labels, and an AdaIN upsampler that sharpens them.

    config.py     the typed YAML config: every key documented and checked; load, write, create
    data.py       training clips (shapes, course shots, a frames folder), the upsampler's input
    model.py      the networks: ResBlock, TemporalAttention, AdaIN, VideoUNet
    diffusion.py  diffusers' schedulers, the training loss, guided sampling
    train.py      training under Hugging Face Accelerate with EMA, checkpoints and resume
    generate.py   per-frame labels from the command line; GIF and MP4 files of sampled clips
    __main__.py   python -m helpers.pixel_video_diffusion create-config | train | generate

Importing the package imports nothing heavy; `model`, `diffusion` and `train` import torch.
"""
