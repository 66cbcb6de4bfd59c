"""Public names of ardlib.study (read by lazy_loader.attach_stub and type checkers)."""

from ._campaign import Campaign, run_campaign
from ._config import PLANNER_PRESETS, studies_from_config, study_from_config
from ._execute import CellError, cell_cost, scheduler_executor, shutdown_workers
from ._result import SavedStudy, StudyRecord, StudyResult, load_study
from ._specs import NoiseSpec, PlannerSpec, ProblemSpec
from ._store import ResultStore
from ._study import CellSpec, Study

__all__ = [
    "PLANNER_PRESETS",
    "Campaign",
    "CellError",
    "CellSpec",
    "NoiseSpec",
    "PlannerSpec",
    "ProblemSpec",
    "ResultStore",
    "SavedStudy",
    "Study",
    "StudyRecord",
    "StudyResult",
    "cell_cost",
    "load_study",
    "run_campaign",
    "scheduler_executor",
    "shutdown_workers",
    "studies_from_config",
    "study_from_config",
]
