"""`monitor`: compare a batch with a model's reference profile; alerts, a stored report.

step.py runs it: data.py reads the reference and lays out the batch, scan.py makes the one pass
over it, assess.py turns profiles into drift, quality and performance per window (windows.py,
performance.py), rules.py turns those into alerts (alerts.py), notify.py posts them and
record.py stores the report.
"""

from typing import TYPE_CHECKING

from mlops.lifecycle._lazy import lazy_exports

if TYPE_CHECKING:
    from mlops.lifecycle.monitor.alerts import Alert, fmt
    from mlops.lifecycle.monitor.record import history
    from mlops.lifecycle.monitor.result import REPORT_KIND, MonitorResult, WindowResult
    from mlops.lifecycle.monitor.step import monitor

__all__ = ["REPORT_KIND", "Alert", "MonitorResult", "WindowResult", "fmt", "history", "monitor"]
__getattr__ = lazy_exports(
    __name__,
    {
        "alerts": ("Alert", "fmt"),
        "record": ("history",),
        "result": ("REPORT_KIND", "MonitorResult", "WindowResult"),
        "step": ("monitor",),
    },
)
