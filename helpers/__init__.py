"""Helpers for the course "Video Generation, Frame by Frame".

Small modules named for what they hold; each docstring names the chapter that explains it:

- runtime   profiles, devices, seeds, checkpoints, Colab set-up          (chapter 00)
- parameters one-line checks of a chapter's parameters cell              (chapter 00)
- claims    sentences computed from the run's numbers; asserted claims   (chapter 00)
- video     decode with time range, stride and letterbox; write GIF/MP4 (chapter 01)
- frames    frame differences, motion keyframes, scene cuts; frames CLI  (chapter 01)
- datasets  cached clips, splits by clip, (t, t+k) pairs, Moving MNIST   (chapter 01)
- manifest  data_manifest.yaml: locate, verify, fetch                    (chapter 01)
- metrics   MSE/MAE (per pixel, OpenSTL), PSNR, SSIM, warping error, CLIP (chapter 02)
- baselines copy last, linear and flow extrapolation                     (chapter 02)
- rollout   autoregressive rollouts, the feedback guard, drift, strips    (chapter 02)
- results   the results registry that chapter 09 reads                   (chapter 02)
- training  a resumable PyTorch training loop with checkpoints, AMP on GPU (chapter 04)
- pretrained Stable Diffusion's autoencoder under the weights policy     (chapter 04)
- viz       grids, captions, GIFs, a frame scrubber, glue for the book
- course    the chapters in reading order (tools/book.py runs and builds them)
- errors    the one exception family

Importing `helpers` imports nothing heavy; each module imports its framework when used.
"""

__version__ = "0.1.0"
