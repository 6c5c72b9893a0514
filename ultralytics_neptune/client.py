"""Facts about the ``neptune`` 1.x client (1.14) that we check without importing it."""

INIT_RUN_ARGUMENTS = frozenset(
    {
        "with_id",
        "project",
        "api_token",
        "custom_run_id",
        "mode",
        "name",
        "description",
        "tags",
        "source_files",
        "capture_stdout",
        "capture_stderr",
        "capture_hardware_metrics",
        "fail_on_exception",
        "monitoring_namespace",
        "flush_period",
        "proxies",
        "capture_traceback",
        "git_ref",
        "dependencies",
        "async_lag_callback",
        "async_lag_threshold",
        "async_no_progress_callback",
        "async_no_progress_threshold",
    }
)
CONNECTION_MODES = ("async", "sync", "offline", "debug", "read-only")
