"""Public names of ardlib.deploy (read by lazy_loader.attach_stub and type checkers)."""

from ._browser import BrowserResult, check_dashboard
from ._chaos import FAULT_KINDS, FaultInjectingTransport, FaultLog
from ._load import LoadResult, fill_experiments, load_test
from ._measure import ChaosLevel, chaos_client_calls, proxy_client_calls
from ._plots import plot_latency_ecdf, plot_resilience
from ._proxy import ChaosProxy, ProxyStats
from ._record import (
    DeploymentRecord,
    Verdict,
    append_record,
    compare_records,
    previous_record,
    record_deployment,
)
from ._service import ServiceProcess
from ._smoke import smoke
from ._smoke_report import LatencySummary, SmokeCheck, SmokeReport

__all__ = [
    "FAULT_KINDS",
    "BrowserResult",
    "ChaosLevel",
    "ChaosProxy",
    "DeploymentRecord",
    "FaultInjectingTransport",
    "FaultLog",
    "LatencySummary",
    "LoadResult",
    "ProxyStats",
    "ServiceProcess",
    "SmokeCheck",
    "SmokeReport",
    "Verdict",
    "append_record",
    "chaos_client_calls",
    "check_dashboard",
    "compare_records",
    "fill_experiments",
    "load_test",
    "plot_latency_ecdf",
    "plot_resilience",
    "previous_record",
    "proxy_client_calls",
    "record_deployment",
    "smoke",
]
