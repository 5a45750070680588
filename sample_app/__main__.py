"""``python -m sample_app``: serve with uvicorn (several workers when ``APP_WORKERS`` > 1).

With more than one worker, prometheus_client runs in multiprocess mode: ``PROMETHEUS_MULTIPROC_DIR``
(a fresh temporary directory when unset) is emptied here, before any worker imports the client.
Gauges use ``livesum``; a worker's live gauges are dropped when it exits or when a new worker finds
it dead; ``process_*`` metrics are summed over the live workers (see `obsstack_fastapi.processes`).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from pydantic import ValidationError


def _one_line(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors())


def main() -> int:
    from sample_app.settings import AppSettings

    try:
        settings = AppSettings()
        settings.obs.resolved_faults_token()
        settings.obs.resolved_metrics_token()
        settings.resolved_admin_token()
        settings.demo_user_pairs()
    except (ValidationError, ValueError) as exc:
        text = _one_line(exc) if isinstance(exc, ValidationError) else str(exc)
        print(f"sample_app: invalid settings: {text}", file=sys.stderr)
        return 2
    if settings.workers > 1 or os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="orders-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
        from obsstack_fastapi import prepare_multiprocess_dir

        prepare_multiprocess_dir(Path(directory))
    return _serve(settings)


def _serve(settings: object) -> int:
    import uvicorn

    from sample_app.settings import AppSettings

    assert isinstance(settings, AppSettings)
    uvicorn.run(
        "sample_app.app:create_app", factory=True, host=settings.host, port=settings.port,
        workers=settings.workers, log_config=None, access_log=False, server_header=False,
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
