"""Music to dance (chapter 08, which explains every part): music, a dancer to learn from, an
audio-to-pose GAN searched with Optuna, the papers' scores, and a ControlNet renderer.

One job per file; the network is in `model.py`:

- config     DanceConfig: every knob, documented and checked; the knob groups; profiles
- music      audio decoding, music21 pieces rendered with drums, the 35 FACT features
- skeleton   SMPL's 24 joints, rotations (axis-angle, 6D), forward kinematics, Motion
- dancer     the procedural dancer: moves, styles, choreography locked to the beats
- aistpp     AIST++ motion and keypoint files
- drawing    OpenPose keypoints and skeleton maps, the drawn body
- metrics    FID_k, FID_g, Div_k, Div_g, Beat Align Score, Physical Foot Contact
- data       the data set: clips of music and dances split by piece, training windows
- model      the nn.Modules: ResidualBlock, DanceGenerator, SequenceDiscriminator, DanceGAN
- train      the GAN's loss and its resumable training
- generate   a dance from music features, a style and a seed
- baselines  random poses, retrieval of the nearest training dance
- evaluate   the scores of a set of dances, the validation score, the benchmark
- search     the Optuna search (SQLite or any database URL, pruning, resuming)
- render     skeleton maps -> frames through ControlNet (real or tiny offline weights)
- cache      the trained model under build/dance/, every stage resumed
- __main__   python -m helpers.dance train | evaluate | predict

Importing the package imports nothing heavy (no torch, no librosa): `python -m helpers.dance
--help` answers at once. Import the part you need: `from helpers.dance import model`.
"""
