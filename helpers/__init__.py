"""Helpers for the course "Video Generation, Frame by Frame".

Small modules named for what they hold, in three groups; each docstring names the chapter that
explains it.

Course machinery
- runtime     profiles, devices, seeds and threads, atomic writes, Colab set-up     (chapter 00)
- parameters  one-line checks of a chapter's parameters cell                         (chapter 00)
- claims      sentences computed from the run's numbers; asserted claims             (chapter 00)
- configs     typed config dataclasses, every key documented and checked on load      (chapter 06)
- errors      the one exception family
- results     the results registry that the benchmark chapter reads                  (chapter 02)
- course      the chapters in reading order (tools/book.py runs and builds them)
- manifest    data_manifest.yaml: locate, verify, fetch                              (chapter 01)

Video toolkit
- video       decode with time range, stride and letterbox; write GIF/MP4             (chapter 01)
- frames      frame differences, motion keyframes, scene cuts; the frames CLI         (chapter 01)
- datasets    cached clips, splits by shot, (t, t+k) pairs, Moving MNIST, shapes      (chapter 01)
- tensors     frames and clips between NumPy and PyTorch, range and rank in the name
- metrics     MSE/MAE (per pixel, OpenSTL), PSNR, SSIM, warping error, CLIP          (chapter 02)
- video_scores realism (Frechet, KID on course features), flicker, motion, consistency (chapter 02)
- baselines   copy last, linear and flow extrapolation                               (chapter 02)
- rollout     autoregressive rollouts, the feedback guard, drift                      (chapter 02)
- training    a resumable PyTorch training loop, checkpoints named by settings        (chapter 04)
- pretrained  the weights policy; the course autoencoder                              (chapter 04)
- layers      network blocks two families share: per-frame reshapes, causal attention (chapters 06, 07)
- viz         grids, captions, GIFs, a frame scrubber, code listings, glue for the book

Model families
- sd_video               Stable Diffusion img2img + LoRA as a next-frame generator; the stream path (chapter 05)
- pixel_video_diffusion/ 3D U-Net video diffusion in pixel space and an AdaIN upsampler; CLI   (chapter 06)
- latent_video_diffusion/ latent video U-Net with three temporal designs; Gen-1 editing         (chapter 07)
- dance/                 music to dance: music, skeleton, dancer, GAN, search, renderer; CLI   (chapter 08)
- video_diffusion        the earlier name of pixel_video_diffusion's command line

A family with more than one file is a package whose model.py holds its networks. Importing
`helpers` imports nothing heavy; each module imports its framework when used.
"""

__version__ = "0.1.0"
