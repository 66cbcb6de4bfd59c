"""Deployment verification of an ARD backend: is this deployment fit to trust?

- :func:`smoke`: the checks behind ``ardlib smoke URL`` (health, listings, the reasoning
  stream, CORS, security headers, latency, no 5xx, and the dashboard in headless Chromium
  by :func:`check_dashboard`), as a :class:`SmokeReport` of :class:`SmokeCheck` results
  and :class:`LatencySummary` rows;
- :class:`FaultInjectingTransport`, :class:`ChaosProxy`: faults injected at the client's
  transport and on the wire; :func:`chaos_client_calls`, :func:`proxy_client_calls`
  measure the client through them;
- :func:`load_test`: a bounded loopback load test (:func:`fill_experiments` first);
  :func:`open_loop_load`: requests at fixed arrival rates (:func:`arrival_times`), latency
  from the scheduled time, and the highest sustainable rate (:class:`OpenLoopResult`);
- :func:`monitor`: sample a deployment over time, alert on :class:`Rule` thresholds
  (:func:`load_rules`, :func:`default_rules`, :data:`MONITOR_METRICS`), log every sample
  (:class:`MonitorResult`, :class:`Alert`; durations by :func:`parse_duration`);
- :func:`record_deployment`: the deployment log and its rollback rule
  (:func:`compare_records`);
- :func:`deploy_revision`, :func:`stop_deployment`, :func:`rollback`: a git revision of
  the reference service run from a worktree on loopback, smoked and recorded
  (:class:`DeploymentResult`, :class:`RunningDeployment`, :func:`current_deployment`); a
  rollback brings back :func:`previous_passing_record`'s revision, data untouched;
- :class:`ServiceProcess`: the reference service in a child process, for all of the above;
- :func:`plot_latency_ecdf`, :func:`plot_resilience`, :func:`plot_monitor`,
  :func:`plot_open_loop`: the deployment report's figures.

Importing this package is cheap: every name loads on first access (lazy_loader, SPEC 1).
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
