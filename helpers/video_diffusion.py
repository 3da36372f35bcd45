"""The earlier name of chapter 06's command line, kept so that scripts written against it go on
working: `python -m helpers.video_diffusion ...` (and `accelerate launch -m helpers.video_diffusion
...`) run `python -m helpers.pixel_video_diffusion ...`. The code lives in
helpers/pixel_video_diffusion/."""

from __future__ import annotations

import sys

from .pixel_video_diffusion.__main__ import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m helpers.video_diffusion"))
