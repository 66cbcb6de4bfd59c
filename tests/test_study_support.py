"""Small objectives, noise models, planners and executors for the ardlib.study tests.

They live in an importable module (not in a test function) so that worker processes can
unpickle them.  The few tests here pin the helpers' own ground truth.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import Executor, Future
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ardlib.objectives import NoiseModel, Objective, Observation
from ardlib.planners import Planner, RandomSearch
from ardlib.study import NoiseSpec, PlannerSpec, ProblemSpec, Study

if TYPE_CHECKING:
    import pytest


class Sphere(Objective):
    """``f(x) = x1**2 + x2**2`` on ``[-1, 1]**2``; minimum 0 at the origin."""

    name = "sphere"
    optimal_value = 0.0

    def __init__(self) -> None:
        self._set_box([[-1.0, 1.0], [-1.0, 1.0]])
        self.optimizers = np.zeros((1, 2))

    def _evaluate(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.sum(X**2, axis=1)


class Peak(Objective):
    """``f(x) = 1 - x1**2 - x2**2`` on ``[-1, 1]**2``, maximized; maximum 1 at the origin."""

    name = "peak"
    goal = "maximize"
    optimal_value = 1.0

    def __init__(self) -> None:
        self._set_box([[-1.0, 1.0], [-1.0, 1.0]])
        self.optimizers = np.zeros((1, 2))

    def _evaluate(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        return 1.0 - np.sum(X**2, axis=1)


class Unknown(Sphere):
    """The sphere with its optimum withheld (like an emulator of lab data)."""

    name = "unknown"
    optimal_value = None


class OffsetNoise(NoiseModel):
    """Adds ``N(0, sd**2)`` to every measurement; the offset is ``y_obs - y_true``."""

    def __init__(self, sd: float = 0.1) -> None:
        self.sd = sd

    def transform(
        self, objective: Objective, obs: Observation, rng: np.random.Generator
    ) -> Observation:
        return obs.with_(y=obs.y + rng.normal(0.0, self.sd, obs.y.shape))


class FailAt(NoiseModel):
    """Noise-free, but the experiments at the given campaign steps fail."""

    def __init__(self, steps: tuple[int, ...] = ()) -> None:
        self.steps = tuple(steps)

    def transform(
        self, objective: Objective, obs: Observation, rng: np.random.Generator
    ) -> Observation:
        failed = np.isin(obs.step, self.steps)
        reason = tuple("instrument fault" if f else None for f in failed)
        return obs.with_(y=np.where(failed, np.nan, obs.y), failed=failed, reason=reason)


class Scripted(Planner):
    """Proposes a fixed list of points in order; recommends the best observed."""

    def __init__(
        self,
        *,
        bounds: Any,
        rng: Any = None,
        goal: str = "minimize",
        points: tuple[tuple[float, ...], ...] = (),
    ) -> None:
        super().__init__(bounds=bounds, rng=rng, goal=goal)
        self.points = points

    def _ask(self, n: int) -> NDArray[np.float64]:
        start = getattr(self, "next_", 0)
        self.next_ = start + n
        return np.asarray(self.points[start : start + n], dtype=float)


class Flaky(RandomSearch):
    """Random search that crashes once (while ``flag`` exists) when seeded ``fail_seed``."""

    def __init__(
        self,
        *,
        bounds: Any,
        rng: Any = None,
        goal: str = "minimize",
        flag: str = "",
        fail_seed: int = -1,
    ) -> None:
        super().__init__(bounds=bounds, rng=rng, goal=goal)
        self.flag = flag
        self.fail_seed = fail_seed

    def _ask(self, n: int) -> NDArray[np.float64]:
        if self.rng == self.fail_seed and os.path.exists(self.flag):
            os.remove(self.flag)
            raise RuntimeError("simulated crash")
        return super()._ask(n)


class InlineExecutor(Executor):
    """Runs every submission at once in the submitting thread: no process start-up and no
    thread hand-off, for tests whose point is not the executor."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


class CountingExecutor(Executor):
    """Delegates to another executor and records the first argument of every submission."""

    def __init__(self, inner: Executor) -> None:
        self.inner = inner
        self.submitted: list[Any] = []
        self._lock = threading.Lock()

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._lock:
            self.submitted.append(args[0] if args else None)
        return self.inner.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.inner.shutdown(wait=wait, cancel_futures=cancel_futures)


RANDOM = PlannerSpec("random", "ardlib.planners.RandomSearch")
SOBOL = PlannerSpec("sobol", "ardlib.planners.Sobol")


def small_study(master_seed: int = 0, **changes: Any) -> Study:
    """2 problems × 2 noises × 2 planners × 2 replicates, budget 6: 16 quick cells."""
    settings: dict[str, Any] = {
        "problems": [ProblemSpec("sphere", factory=Sphere), ProblemSpec("peak", factory=Peak)],
        "planners": [RANDOM, SOBOL],
        "noises": [None, NoiseSpec("offset", OffsetNoise(0.1))],
        "replicates": 2,
        "budget": 6,
        "master_seed": master_seed,
    }
    settings.update(changes)
    return Study(**settings)


def test_helper_objectives_attain_their_stated_optimum() -> None:
    for problem in (Sphere(), Peak(), Unknown()):
        assert problem.evaluate_true(np.zeros((1, 2)))[0] == (
            1.0 if problem.goal == "maximize" else 0.0
        )
    assert Peak().regret([0.75]).tolist() == [0.25]


def test_scripted_planner_replays_its_points() -> None:
    planner = Scripted(bounds=[[-1, 1], [-1, 1]], points=((0.5, 0.5), (0.0, 0.1), (0.2, 0.2)))
    assert planner.ask(2).tolist() == [[0.5, 0.5], [0.0, 0.1]]
    assert planner.ask(1).tolist() == [[0.2, 0.2]]


class Sleepy(RandomSearch):
    """Random search that sleeps before every proposal (to be killed mid-study)."""

    def __init__(
        self, *, bounds: Any, rng: Any = None, goal: str = "minimize", seconds: float = 0.0
    ) -> None:
        super().__init__(bounds=bounds, rng=rng, goal=goal)
        self.seconds = seconds

    def _ask(self, n: int) -> NDArray[np.float64]:
        time.sleep(self.seconds)
        return super()._ask(n)


def sleepy_study(seconds: float) -> Study:
    """The small study with a slow second planner (about 6 * ``seconds`` per cell)."""
    return small_study(planners=[RANDOM, PlannerSpec("sleepy", Sleepy, {"seconds": seconds})])


def hide_objectives_names(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """Make ``ardlib.objectives`` lack ``names`` (a package written without them): drop
    any cached attribute and have the lazy loader refuse them."""
    import ardlib.objectives as objectives

    real = objectives.__getattr__

    def lacking(name: str) -> object:
        if name in names:
            raise AttributeError(name)
        return real(name)

    for name in names:
        monkeypatch.delattr(objectives, name, raising=False)
    monkeypatch.setattr(objectives, "__getattr__", lacking)
