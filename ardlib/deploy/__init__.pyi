"""Public names of ardlib.deploy (read by lazy_loader.attach_stub and type checkers)."""

from ._browser import BrowserResult, check_dashboard
from ._chaos import FAULT_KINDS, FaultInjectingTransport, FaultLog
from ._deployments import (
    RunningDeployment,
    current_deployment,
    previous_passing_record,
    stop_deployment,
)
from ._duration import parse_duration
from ._load import LoadResult, fill_experiments, load_test
from ._measure import ChaosLevel, chaos_client_calls, proxy_client_calls
from ._monitor import MonitorResult, monitor
from ._openloop import OpenLoopResult, arrival_times, open_loop_load
from ._plots import plot_latency_ecdf, plot_monitor, plot_open_loop, plot_resilience
from ._proxy import ChaosProxy, ProxyStats
from ._record import (
    SPEED_KEY,
    DeploymentRecord,
    Verdict,
    append_record,
    compare_records,
    machine_speed_ms,
    previous_record,
    record_deployment,
)
from ._rollout import DeploymentResult, deploy_revision, rollback
from ._rules import MONITOR_METRICS, Alert, Rule, default_rules, load_rules, parse_rule
from ._service import ServiceProcess
from ._smoke import smoke
from ._smoke_report import LatencySummary, SmokeCheck, SmokeReport

__all__ = [
    "FAULT_KINDS",
    "MONITOR_METRICS",
    "SPEED_KEY",
    "Alert",
    "BrowserResult",
    "ChaosLevel",
    "ChaosProxy",
    "DeploymentRecord",
    "DeploymentResult",
    "FaultInjectingTransport",
    "FaultLog",
    "LatencySummary",
    "LoadResult",
    "MonitorResult",
    "OpenLoopResult",
    "ProxyStats",
    "Rule",
    "RunningDeployment",
    "ServiceProcess",
    "SmokeCheck",
    "SmokeReport",
    "Verdict",
    "append_record",
    "arrival_times",
    "chaos_client_calls",
    "check_dashboard",
    "compare_records",
    "current_deployment",
    "default_rules",
    "deploy_revision",
    "fill_experiments",
    "load_rules",
    "load_test",
    "machine_speed_ms",
    "monitor",
    "open_loop_load",
    "parse_duration",
    "parse_rule",
    "plot_latency_ecdf",
    "plot_monitor",
    "plot_open_loop",
    "plot_resilience",
    "previous_passing_record",
    "previous_record",
    "proxy_client_calls",
    "record_deployment",
    "rollback",
    "smoke",
    "stop_deployment",
]
