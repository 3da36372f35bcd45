"""The hyperparameter search of chapter 08 (Optuna): the learning rate and the loss weights,
trials pruned against the median, the study kept in a database (SQLite here, any URL Optuna
takes for several machines) so that a second run resumes it; the study's file, its table of
trials and the config with its best values. Chapter 08 explains the search.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path

from ..runtime import build_dir, progress, settings_key
from .config import DATA_KNOBS, GAN_KNOBS, SEARCHED, DanceConfig
from .data import DanceData
from .evaluate import validation_score
from .train import train_gan


def study_storage(path: str | Path) -> str:
    """An SQLite URL for a study file. Several machines share one study through one database
    URL instead, e.g. 'postgresql://user:password@host/optuna' (each runs the same command)."""
    return f"sqlite:///{Path(path).resolve()}"


def study_file(config: DanceConfig) -> Path:
    """The SQLite file of the search for these data and trial settings."""
    return build_dir("dance") / f"study-{config.key(*DATA_KNOBS, *GAN_KNOBS[:6], 'trial_steps')}.db"


def search(data: DanceData, config: DanceConfig, storage: str, *, study_name: str = "dance-gan",
           trials: int | None = None, device: str = "cpu", trial_dir: str | Path | None = None):  # fmt: skip
    """Optuna search over the learning rate and the loss weights, starting from the configured
    values (the first trial), then TPE's proposals. Each trial trains
    `config.trial_steps` steps, reports the validation FID_k four times, and is pruned when it
    is worse than the median of earlier trials at the same step. The study lives in `storage`,
    so a second call resumes it: finished trials are kept and only the missing ones run."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name=study_name, storage=storage, load_if_exists=True, direction="minimize",
        sampler=optuna.samplers.TPESampler(seed=config.seed, n_startup_trials=4),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1),
    )  # fmt: skip
    if not study.trials:  # the first trial tries the configured values, the others are proposed
        study.enqueue_trial({name: getattr(config, name) for name in SEARCHED})
    for stale in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        study.tell(stale.number, state=optuna.trial.TrialState.FAIL)  # interrupted earlier
    done = [t for t in study.trials if t.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)]
    wanted = config.trials if trials is None else trials
    trial_dir = Path(trial_dir or build_dir("dance", "trials"))
    chunk = max(1, config.trial_steps // 4)
    tag = settings_key({"storage": storage, "config": asdict(config)})  # one study's checkpoints

    def objective(trial) -> float:
        tried = replace(
            config,
            lr_g=trial.suggest_float("lr_g", 3e-4, 3e-3, log=True),
            lambda_adv=trial.suggest_float("lambda_adv", 0.02, 0.5, log=True),
            lambda_vel=trial.suggest_float("lambda_vel", 0.25, 3.0),
            lambda_acc=trial.suggest_float("lambda_acc", 0.25, 3.0),
        )
        checkpoint = trial_dir / f"{study_name}-{tag}-trial{trial.number}.pt"
        value = float("nan")
        try:
            for report in range(1, 5):
                gan, _ = train_gan(data, tried, checkpoint, device=device, steps=chunk * report,
                                   desc=f"trial {trial.number}, {chunk * report} steps")  # fmt: skip
                value = validation_score(gan, data, device=device)["fid_k"]
                trial.report(value, chunk * report)
                if trial.should_prune():
                    raise optuna.TrialPruned()
        finally:  # a finished trial lives on in the database; its weights are not needed
            checkpoint.unlink(missing_ok=True)
        return value

    for _ in progress(range(max(0, wanted - len(done))), desc="hyperparameter search"):
        study.optimize(objective, n_trials=1, catch=(ValueError, FloatingPointError))
    return study


def tuned(config: DanceConfig, study) -> DanceConfig:
    """config with the search's best parameters (the lowest validation FID_k among finished trials)."""
    return replace(config, **{k: v for k, v in study.best_params.items() if k in SEARCHED})


def trial_count(storage: str, study_name: str = "dance-gan") -> int:
    """How many trials a stored study holds (0 when there is no such study yet)."""
    import optuna

    try:
        return len(optuna.load_study(study_name=study_name, storage=storage).trials)
    except KeyError:
        return 0


def trials_table(study):
    """One row per trial: its parameters, state, last reported FID_k and the steps it ran."""
    import pandas as pd

    rows = []
    for t in study.trials:
        last = max(t.intermediate_values) if t.intermediate_values else 0
        value = t.value if t.value is not None else t.intermediate_values.get(last)
        rows.append({"trial": t.number, "state": t.state.name.lower(), **t.params, "steps": last, "val FID_k": value})
    return pd.DataFrame(rows)
