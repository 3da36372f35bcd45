"""helpers.dance.metrics on hand-made motions, against loop versions of the published code, and bad input."""

import time

import numpy as np
import pytest

from helpers.dance import metrics as dm
from helpers.errors import BadInputError

FPS = 30

# A T-pose in SMPL's frame (x to the body's left, y up, z forward), feet on the floor, metres.
REST = {
    "pelvis": (0.0, 0.93, 0.0),
    "left_hip": (0.06, 0.84, 0.0),
    "right_hip": (-0.06, 0.84, 0.0),
    "spine1": (0.0, 1.04, 0.0),
    "left_knee": (0.1, 0.47, 0.0),
    "right_knee": (-0.1, 0.47, 0.0),
    "spine2": (0.0, 1.18, 0.0),
    "left_ankle": (0.09, 0.08, -0.04),
    "right_ankle": (-0.09, 0.08, -0.04),
    "spine3": (0.0, 1.23, 0.0),
    "left_foot": (0.12, 0.02, 0.08),
    "right_foot": (-0.12, 0.02, 0.08),
    "neck": (0.0, 1.43, 0.0),
    "left_collar": (0.08, 1.35, 0.0),
    "right_collar": (-0.08, 1.35, 0.0),
    "head": (0.0, 1.53, 0.05),
    "left_shoulder": (0.19, 1.38, 0.0),
    "right_shoulder": (-0.19, 1.38, 0.0),
    "left_elbow": (0.45, 1.37, 0.0),
    "right_elbow": (-0.45, 1.37, 0.0),
    "left_wrist": (0.71, 1.37, 0.0),
    "right_wrist": (-0.71, 1.37, 0.0),
    "left_hand": (0.79, 1.37, 0.0),
    "right_hand": (-0.79, 1.37, 0.0),
}
POSE = np.array([REST[name] for name in dm.SMPL_JOINTS])
J = {name: i for i, name in enumerate(dm.SMPL_JOINTS)}


def still(frames: int = 40, pose: np.ndarray = POSE) -> np.ndarray:
    return np.repeat(pose[None], frames, axis=0).copy()


def translating(velocity, frames: int = 40) -> np.ndarray:
    """The T-pose moving at a constant velocity (m/s)."""
    t = np.arange(frames)[:, None, None] / FPS
    return still(frames) + t * np.asarray(velocity, dtype=float)


def right_arm_up(pose: np.ndarray = POSE) -> np.ndarray:
    """The right arm straight above the shoulder: the hand over the head."""
    raised = pose.copy()
    shoulder = pose[J["right_shoulder"]]
    for name, height in (("right_elbow", 0.26), ("right_wrist", 0.52), ("right_hand", 0.6)):
        raised[J[name]] = shoulder + (0.0, height, 0.0)
    return raised


def mirrored(pose: np.ndarray) -> np.ndarray:
    """Left and right swapped: the left/right joints exchanged and x negated."""
    swapped = [n.replace("left", "@").replace("right", "left").replace("@", "right") for n in dm.SMPL_JOINTS]
    out = pose[[J[n] for n in swapped]].copy()
    out[:, 0] *= -1
    return out


def random_dance(seed: int, frames: int = 60) -> np.ndarray:
    """The T-pose with smooth random wobbles on every joint and a wandering pelvis."""
    rng = np.random.default_rng(seed)
    wobble = np.cumsum(rng.normal(0, 0.01, (frames, 24, 3)), axis=0)
    drift = np.cumsum(rng.normal(0, 0.01, (frames, 1, 3)), axis=0)
    return still(frames) + wobble + drift


def beat_motion(beat_every: int = 15, beats: int = 8, phase: int = 0) -> np.ndarray:
    """Still body whose right wrist swings with speed |sin(pi (k - phase) / beat_every)|: the speed
    is zero, a kinematic beat, every beat_every frames starting at frame `phase`."""
    steps = beat_every * beats + 1
    speed = np.abs(np.sin(np.pi * (np.arange(steps) - phase) / beat_every))
    motion = still(steps + 1)
    motion[1:, J["right_wrist"], 0] += np.cumsum(0.02 * speed)
    return motion


# --- loop versions of the published code, written the way it reads -------------------------


def kinetic_by_loop(joints: np.ndarray, fps: float, published: bool) -> np.ndarray:
    dt, count, w = 1.0 / fps, len(joints), 2  # the published sliding window
    out = []
    for joint in range(joints.shape[1]):
        p = joints[:, joint]
        horizontal = vertical = expenditure = 0.0
        for i in range(1, count):
            total, n = np.zeros(3), 0
            for j in range(-w, w + 1):
                if i + j - 1 >= 0 and i + j < count:
                    total += p[i + j] - p[i + j - 1]
                    n += 1
            velocity = total / (n * dt)
            horizontal += velocity[0] ** 2 + velocity[2] ** 2
            vertical += velocity[1] ** 2
            total, n = np.zeros(3), 0
            for j in range(-w, w + 1):
                c = i + j
                if c - 1 >= 0 and c + 1 < count:
                    v2 = (p[c + 1] - p[c]) / dt
                    v1 = (p[c] - p[c - 1] / dt) if published else (p[c] - p[c - 1]) / dt
                    total += (v2 - v1) / dt
                    n += 1
            expenditure += np.linalg.norm(total / n)
        out += [horizontal / (count - 1), vertical / (count - 1), expenditure / (count - 1)]
    return np.array(out)


def geometric_by_loop(joints: np.ndarray, frame_time: float) -> np.ndarray:
    def point(name, frame):
        fixed = {"origin": (0, 0, 0), "up": (0, 1, 0), "down": (0, -1, 0)}
        if name in fixed:
            return np.array(fixed[name], dtype=float)
        if name == "floor":
            return np.array([0.0, joints[frame][:, 1].min(), 0.0])
        return joints[frame][J[name]]

    rows = []
    for f in range(1, len(joints)):
        row = []
        for _, kind, names, bound in dm._RELATIONS:
            now = [point(n, f) for n in names]
            if kind == "fast":
                row.append(np.linalg.norm(now[0] - point(names[0], f - 1)) / frame_time > bound)
            elif kind in ("move", "nmove"):
                k = 2 if kind == "move" else 3
                v = (now[k] - now[0]) - (point(names[k], f - 1) - point(names[0], f - 1))
                d = now[1] - now[0] if kind == "move" else np.cross(now[2] - now[0], now[1] - now[0])
                row.append(np.dot(v, d) / np.linalg.norm(d) / frame_time > bound)
            elif kind == "plane":
                n = np.cross(now[2] - now[0], now[1] - now[0])
                row.append(np.dot(n, now[3] - now[0]) / np.linalg.norm(n) > bound)
            elif kind == "nplane":
                n = now[1] - now[0]
                row.append(np.dot(n, now[3] - now[2]) / np.linalg.norm(n) > bound)
            else:
                a, b = now[1] - now[0], now[3] - now[2]
                angle = np.degrees(np.arccos(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))))
                row.append(bound[0] < angle < bound[1])
        rows.append(row)
    return np.array(rows, dtype=float).mean(axis=0)


# --- kinetic features ----------------------------------------------------------------------


def test_still_body_has_no_kinetic_energy():
    features = dm.kinetic_features(still(), FPS)
    assert features.shape == (72,)
    assert features == pytest.approx(np.zeros(72), abs=1e-9)


def test_published_acceleration_is_not_zero_for_a_still_body_away_from_the_origin():
    # the misplaced parenthesis leaves p / dt terms in the acceleration
    published = dm.kinetic_features(still(), FPS, published_acceleration=True).reshape(24, 3)
    assert published[:, :2] == pytest.approx(np.zeros((24, 2)), abs=1e-9)  # energies are unaffected
    assert (published[:, 2] > 1.0).all()
    at_origin = dm.kinetic_features(still(pose=np.zeros((24, 3))), FPS, published_acceleration=True)
    assert at_origin == pytest.approx(np.zeros(72), abs=1e-9)


def test_constant_velocity_energies_land_in_the_right_components():
    along_x = dm.kinetic_features(translating((0.5, 0, 0)), FPS).reshape(24, 3)
    assert along_x[:, 0] == pytest.approx(np.full(24, 0.25))  # |v|^2 with v = 0.5 m/s
    assert along_x[:, 1] == pytest.approx(np.zeros(24), abs=1e-12)  # nothing vertical
    assert along_x[:, 2] == pytest.approx(np.zeros(24), abs=1e-6)  # no acceleration
    along_z = dm.kinetic_features(translating((0, 0, 0.5)), FPS).reshape(24, 3)
    assert along_z[:, 0] == pytest.approx(np.full(24, 0.25))  # z is horizontal too
    rising = dm.kinetic_features(translating((0, 0.5, 0)), FPS).reshape(24, 3)
    assert rising[:, 0] == pytest.approx(np.zeros(24), abs=1e-12)
    assert rising[:, 1] == pytest.approx(np.full(24, 0.25))


def test_constant_velocity_acceleration_is_zero_only_when_corrected():
    motion = translating((0.5, 0, 0))
    corrected = dm.kinetic_features(motion, FPS).reshape(24, 3)[:, 2]
    published = dm.kinetic_features(motion, FPS, published_acceleration=True).reshape(24, 3)[:, 2]
    assert corrected.max() < 1e-6
    assert published.min() > 1.0


def test_double_speed_quadruples_kinetic_energy():
    t = np.arange(45)[:, None] / FPS
    slow, fast = still(45), still(45)
    slow[:, J["left_wrist"]] += 0.1 * np.sin(2 * np.pi * 2 * t) * np.array([1.0, 1.0, 0.0])
    fast[:, J["left_wrist"]] += 0.2 * np.sin(2 * np.pi * 2 * t) * np.array([1.0, 1.0, 0.0])
    a, b = dm.kinetic_features(slow, FPS).reshape(24, 3), dm.kinetic_features(fast, FPS).reshape(24, 3)
    wrist = J["left_wrist"]
    assert a[wrist, 0] > 0 and a[wrist, 1] > 0
    assert b[wrist, :2] == pytest.approx(4 * a[wrist, :2])
    assert b[wrist, 2] == pytest.approx(2 * a[wrist, 2])  # acceleration is linear, not squared
    assert np.delete(b, wrist, axis=0) == pytest.approx(np.zeros((23, 3)), abs=1e-9)


@pytest.mark.parametrize("frames", [3, 4, 5, 6, 61])
@pytest.mark.parametrize("published", [False, True])
def test_kinetic_features_match_the_published_loops(frames, published):
    motion = random_dance(frames, frames)
    expected = kinetic_by_loop(motion, FPS, published)
    assert dm.kinetic_features(motion, FPS, published_acceleration=published) == pytest.approx(expected, rel=1e-9)


def test_kinetic_and_geometric_features_are_fast():
    motion = random_dance(1, 300)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        dm.kinetic_features(motion, FPS)
        dm.geometric_features(motion, FPS)
        best = min(best, time.perf_counter() - start)
    assert best < 0.05


# --- geometric features --------------------------------------------------------------------


def test_geometric_features_shape_range_and_names():
    features = dm.geometric_features(random_dance(2), FPS)
    assert features.shape == (32,) == (len(dm.GEOMETRIC_RELATIONS),)
    assert len(set(dm.GEOMETRIC_RELATIONS)) == 32
    assert ((features >= 0) & (features <= 1)).all()
    assert dm.HUMERUS == pytest.approx(0.2568, abs=1e-4) and dm.HIP_WIDTH == pytest.approx(0.1192, abs=1e-4)


def test_hand_above_head_switches_on_its_relation():
    rel = dm.GEOMETRIC_RELATIONS.index
    t_pose = dm.geometric_features(still(10), FPS)
    raised = dm.geometric_features(still(10, right_arm_up()), FPS)
    assert t_pose[rel("rwrist_above_neck")] == 0.0 and raised[rel("rwrist_above_neck")] == 1.0
    assert raised[rel("lwrist_above_neck")] == 0.0
    assert raised[rel("wrists_wide_apart")] == 0.0 and t_pose[rel("wrists_wide_apart")] == 1.0
    other_side = dm.geometric_features(still(10, mirrored(right_arm_up())), FPS)
    assert other_side[rel("lwrist_above_neck")] == 1.0 and other_side[rel("rwrist_above_neck")] == 0.0
    assert not np.array_equal(raised, other_side)


def test_geometric_relations_mean_what_their_names_say():
    rel = dm.GEOMETRIC_RELATIONS.index
    step = still(10)
    step[:, J["right_ankle"], 2] += 0.3
    assert dm.geometric_features(step, FPS)[rel("rankle_in_front")] == 1.0
    lifted = still(10)
    lifted[:, J["left_ankle"], 1] += 0.4
    assert dm.geometric_features(lifted, FPS)[rel("lankle_raised")] == 1.0
    back = still(10)
    back[:, J["right_wrist"], 2] -= np.arange(10) * 0.1  # 3 m/s backwards
    features = dm.geometric_features(back, FPS)
    assert features[rel("rwrist_moves_back")] == 1.0 and features[rel("rwrist_fast")] == 1.0


def test_fraction_of_frames_and_published_frame_time():
    rel = dm.GEOMETRIC_RELATIONS.index
    motion = still(11)
    motion[6:, J["left_wrist"], 2] += np.arange(5) * 0.01  # 0.3 m/s for the last 4 of 10 frame pairs
    corrected = dm.geometric_features(motion, FPS)
    published = dm.geometric_features(motion, FPS, published_velocity=True)
    assert corrected[rel("lwrist_fast")] == 0.0  # 0.3 m/s is under 2.5 humerus lengths per second
    assert published[rel("lwrist_fast")] == pytest.approx(0.4)  # 0.01 m in 1/120 s is 1.2 m/s


@pytest.mark.parametrize("published", [False, True])
def test_geometric_features_match_a_per_frame_loop(published):
    motion = random_dance(3, 40)
    motion[20:, J["right_wrist"]] += np.linspace(0, 1, 20)[:, None] * (0.0, 0.8, 0.2)
    frame_time = dm.PUBLISHED_FRAME_TIME if published else 1 / FPS
    expected = geometric_by_loop(motion, frame_time)
    assert dm.geometric_features(motion, FPS, published_velocity=published) == pytest.approx(expected)


# --- FID, diversity, normalisation ---------------------------------------------------------


def test_frechet_distance_grows_with_a_shift_and_is_symmetric():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(200, 4))
    assert dm.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)
    distances = [dm.frechet_distance(a, a + shift) for shift in (0.5, 1.0, 2.0)]
    assert distances == pytest.approx([4 * 0.25, 4 * 1.0, 4 * 4.0], rel=1e-6)  # |shift|^2 over 4 features
    b = rng.normal(size=(150, 4)) * 2 + 1
    assert dm.frechet_distance(a, b) == pytest.approx(dm.frechet_distance(b, a), rel=1e-6)
    assert dm.frechet_distance(a, b) > 1.0


def test_frechet_distance_of_identical_small_sets_is_near_zero():
    features = np.random.default_rng(1).normal(size=(5, 72))  # fewer motions than features: singular
    assert abs(dm.frechet_distance(features, features)) < 1e-3


def test_diversity_is_the_mean_distance_over_all_pairs():
    assert dm.diversity(np.ones((4, 3))) == 0.0
    points = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 4.0]])
    assert dm.diversity(points) == pytest.approx((3 + 4 + 5) / 3)
    assert dm.diversity(2.5 * points) == pytest.approx(2.5 * dm.diversity(points))


def test_normalize_by_uses_the_reference_statistics():
    rng = np.random.default_rng(2)
    reference, other = rng.normal(3, 2, size=(50, 5)), rng.normal(0, 1, size=(20, 5))
    ref_n, other_n = dm.normalize_by(reference, other)
    assert ref_n.mean(axis=0) == pytest.approx(np.zeros(5), abs=1e-12)
    assert ref_n.std(axis=0) == pytest.approx(np.ones(5))
    expected = (other - reference.mean(axis=0)) / (reference.std(axis=0) + 1e-10)
    assert other_n == pytest.approx(expected)
    constant = np.ones((3, 2))
    assert dm.normalize_by(constant, constant + 1e-10)[1] == pytest.approx(np.ones((3, 2)))  # eps, not a division by 0


# --- beats ---------------------------------------------------------------------------------


def test_motion_beats_are_the_speed_minima():
    beats = dm.motion_beats(beat_motion(beat_every=15, beats=8), FPS)
    assert beats.tolist() == list(range(15, 120, 15))
    assert dm.motion_beats(still(), FPS).size == 0


def test_beat_align_score_rewards_beats_on_the_music():
    music = np.arange(15, 120, 15)
    on_beat = beat_motion(beat_every=15, beats=8)
    off_beat = beat_motion(beat_every=15, beats=8, phase=7)  # half a beat late
    assert dm.beat_align_score(on_beat, music, FPS) == pytest.approx(1.0)
    late = dm.beat_align_score(off_beat, music, FPS)
    assert late < 0.2
    assert dm.beat_align_score(on_beat, music + 3, FPS) == pytest.approx(np.exp(-9 / 18))  # 3 frames off, sigma 3
    assert dm.beat_align_score(still(122), music, FPS) == 0.0


def test_beat_align_score_needs_music_beats():
    with pytest.raises(BadInputError, match="music_beat_frames: no music beats"):
        dm.beat_align_score(beat_motion(), [], FPS)
    with pytest.raises(BadInputError, match="music_beat_frames: expected frame indices 0 .. 121"):
        dm.beat_align_score(beat_motion(), [15, 500], FPS)


# --- physical foot contact -----------------------------------------------------------------


def accelerating(frames: int = 30, acceleration=(2.0, 0.0, 0.0), feet_planted: bool = True) -> np.ndarray:
    t = np.arange(frames)[:, None, None] / FPS
    motion = still(frames) + 0.5 * t**2 * np.asarray(acceleration)
    if feet_planted:
        feet = [J[name] for name in dm.PFC_FEET]
        motion[:, feet] = POSE[feet]
    return motion


def test_planted_feet_score_zero_and_sliding_feet_do_not():
    assert dm.physical_foot_contact(accelerating(feet_planted=True), FPS) == 0.0
    sliding = dm.physical_foot_contact(accelerating(feet_planted=False), FPS)
    # every frame: root acceleration / max = 1, both feet move a (i + 1.5) dt^2 horizontally
    steps = 2.0 * (np.arange(28) + 1.5) / FPS**2
    assert sliding == pytest.approx(np.mean(steps**2))
    assert sliding * dm.PFC_REPORT_SCALE > 0.01


def test_pfc_ignores_falling_and_a_steady_root():
    falling = accelerating(acceleration=(0.0, -9.8, 0.0), feet_planted=False)
    falling[:, :, 0] += np.arange(30)[:, None] * 0.01  # feet slide, but the body only falls
    assert dm.physical_foot_contact(falling, FPS) == 0.0
    assert dm.physical_foot_contact(translating((0.5, 0, 0)), FPS) == 0.0
    rising = accelerating(acceleration=(0.0, 9.8, 0.0), feet_planted=False)
    rising[:, :, 0] += np.arange(30)[:, None] * 0.01
    assert dm.physical_foot_contact(rising, FPS) == pytest.approx(0.01**2)


# --- evaluate ------------------------------------------------------------------------------


def test_evaluate_real_against_itself():
    real = [random_dance(seed, 50) for seed in range(6)]
    beats = [np.arange(5, 50, 10)] * 6
    scores = dm.evaluate(real, real, beats, FPS)
    assert list(scores) == ["fid_k", "fid_g", "div_k", "div_g", "bas", "pfc"]
    assert abs(scores["fid_k"]) < 1e-3 and abs(scores["fid_g"]) < 1e-3
    assert scores["div_k"] > 0 and scores["div_g"] > 0
    assert 0 <= scores["bas"] <= 1 and scores["pfc"] >= 0
    published = dm.evaluate(np.stack(real), real, beats, FPS, published_acceleration=True, published_velocity=True)
    assert abs(published["fid_k"]) < 1e-3 and abs(published["fid_g"]) < 1e-3


def test_zero_start_puts_the_first_pelvis_at_the_origin():
    moved = dm.zero_start(translating((0.5, 0, 0)))
    assert moved[0, 0] == pytest.approx(np.zeros(3))
    assert moved[10, 0] == pytest.approx((0.5 * 10 / FPS, 0.0, 0.0))


def test_evaluate_tells_a_still_model_from_the_dancers():
    real = [random_dance(seed, 50) for seed in range(6)]
    frozen = [still(50) + np.random.default_rng(s).normal(0, 1e-4, (50, 24, 3)) for s in range(6)]
    beats = [np.arange(5, 50, 10)] * 6
    scores = dm.evaluate(real, frozen, beats, FPS)
    assert scores["fid_k"] > 1.0 and scores["div_k"] < dm.evaluate(real, real, beats, FPS)["div_k"]


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: dm.kinetic_features(np.zeros((10, 22, 3)), FPS), r"joints: expected \(T, 24, 3\)"),
        (lambda: dm.kinetic_features(np.zeros((2, 24, 3)), FPS), "joints: 2 frames; .* at least 3"),
        (lambda: dm.kinetic_features(np.full((5, 24, 3), np.nan), FPS), "joints: 360 NaN"),
        (lambda: dm.kinetic_features(still(), 0), "fps: 0"),
        (lambda: dm.geometric_features(np.zeros((1, 24, 3)), FPS), "joints: 1 frames"),
        (lambda: dm.geometric_features(np.zeros((5, 24)), FPS), "joints: expected"),
        (lambda: dm.frechet_distance(np.zeros((1, 3)), np.zeros((4, 3))), "a: 1 rows"),
        (lambda: dm.frechet_distance(np.zeros((4, 3)), np.zeros((4, 2))), "b: 2 features"),
        (lambda: dm.diversity(np.zeros(5)), r"features: expected \(N, D\)"),
        (lambda: dm.normalize_by(np.zeros((3, 2)), np.zeros((3, 4))), "others\\[0\\]: 4 features"),
        (lambda: dm.normalize_by(np.zeros((0, 2))), "reference: 0 rows"),
        (lambda: dm.motion_beats(np.zeros((3, 24, 3)), FPS), "joints: 3 frames"),
        (lambda: dm.beat_align_score(still(), [[1, 2]], FPS), "music_beat_frames: expected a 1-D"),
        (lambda: dm.beat_align_score(still(), [3], FPS, sigma=0), "sigma: 0"),
        (lambda: dm.physical_foot_contact(np.zeros((2, 24, 3)), FPS), "joints: 2 frames"),
        (lambda: dm.evaluate([], [still()], [[1]], FPS), "real: 0 motions"),
        (lambda: dm.evaluate([still(), still()], [still(), still()], [[1]], FPS), "music_beats: 1 arrays for 2"),
        (lambda: dm.evaluate([still(), still()[:, :5]], [still(), still()], [[1], [1]], FPS), r"real\[1\]"),
        (lambda: dm.evaluate([still()] * 2, [still()] * 2, [[1], []], FPS), r"music_beats\[1\]: no music beats"),
    ],
)
def test_bad_input_names_the_parameter(call, message):
    with pytest.raises(BadInputError, match=message) as caught:
        call()
    assert "\n" not in str(caught.value)


def test_features_constant_over_the_real_set_are_left_out_unless_asked():
    rng = np.random.default_rng(0)
    real = [still(12) + rng.normal(scale=0.01, size=(12, 24, 3)) for _ in range(4)]
    made = [m.copy() for m in real]
    for m in made:
        m[:, 21, 1] += 1.0  # the right wrist far above the head: a relation the real set never makes true
    beats = [np.array([2, 8])] * len(made)
    dropped = dm.evaluate(real, made, beats, 30)["fid_g"]
    kept = dm.evaluate(real, made, beats, 30, keep_constant=True)["fid_g"]
    assert kept > 1e6 * max(dropped, 1e-3)
