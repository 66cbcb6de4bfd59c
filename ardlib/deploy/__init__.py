"""Deployment verification beyond the smoke checks: fault injection (transport and TCP
proxy), bounded loopback load tests, and the deployment record log with its rollback rule."""

from ._chaos import FAULT_KINDS, FaultInjectingTransport, FaultLog
from ._load import LoadResult, load_test
from ._measure import ChaosLevel, chaos_client_calls
from ._proxy import ChaosProxy, ProxyStats
from ._record import DeploymentRecord, Verdict, append_record, compare_records, previous_record
from ._service import ServiceProcess

__all__ = [
    "FAULT_KINDS",
    "ChaosLevel",
    "ChaosProxy",
    "DeploymentRecord",
    "FaultInjectingTransport",
    "FaultLog",
    "LoadResult",
    "ProxyStats",
    "ServiceProcess",
    "Verdict",
    "append_record",
    "chaos_client_calls",
    "compare_records",
    "load_test",
    "previous_record",
]
