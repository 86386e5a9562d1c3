"""Which rclpy executor spins the pose nodes.

rclpy's `EventsExecutor` (C++, `rclpy.experimental`, from ROS 2 Kilted) hands each message to
its callback without rebuilding a wait set in Python on every turn. On the hand node it took
about 0.75 ms off the publish -> keypoints latency at 224x172 on 2 cores (p50 3.47 -> 2.73 ms,
280 -> 355 frames/s; `python bench/hand_node_latency.py --executor events` beside
`--executor single`). Distributions without it fall back to `SingleThreadedExecutor`, and so
does every node started with ``HAND_POSE_ROS_EXECUTOR=single`` in its environment: the
EventsExecutor is still marked experimental in rclpy.
"""

from __future__ import annotations

import os
import sys

from rclpy.context import Context
from rclpy.executors import Executor, SingleThreadedExecutor

EXECUTOR_KINDS: tuple[str, ...] = ("events", "single")
"""``events``: rclpy's EventsExecutor where this rclpy has it, else ``single``;
``single``: rclpy's SingleThreadedExecutor."""
DEFAULT_EXECUTOR_KIND = "events"
EXECUTOR_ENVIRONMENT_VARIABLE = "HAND_POSE_ROS_EXECUTOR"
"""Names the executor kind of nodes started by their console entry points (`node_executor_kind`)."""
SHUTDOWN_POLL_S = 0.1
"""Longest wait of one executor turn in `spin_until_shutdown`: how soon a node notices that
Ctrl-C or SIGTERM shut its context down."""


def events_executor_available() -> bool:
    """True when this rclpy ships `rclpy.experimental.EventsExecutor` (Kilted and later)."""
    try:
        from rclpy.experimental import EventsExecutor  # noqa: F401
    except ImportError:
        return False
    return True


def node_executor_kind() -> tuple[str, str | None]:
    """The kind the environment asks for (EXECUTOR_ENVIRONMENT_VARIABLE), else the default;
    with the problem to log when it names no kind (the default is then used)."""
    kind = os.environ.get(EXECUTOR_ENVIRONMENT_VARIABLE, "").strip() or DEFAULT_EXECUTOR_KIND
    if kind in EXECUTOR_KINDS:
        return kind, None
    return DEFAULT_EXECUTOR_KIND, (
        f"{EXECUTOR_ENVIRONMENT_VARIABLE}={kind!r} is not one of {list(EXECUTOR_KINDS)}: "
        f"spinning with '{DEFAULT_EXECUTOR_KIND}'"
    )


def make_executor(context: Context, kind: str = DEFAULT_EXECUTOR_KIND) -> Executor:
    """An executor of ``kind`` (one of EXECUTOR_KINDS) bound to ``context``."""
    if kind not in EXECUTOR_KINDS:
        raise ValueError(f"unknown executor {kind!r}; expected one of {list(EXECUTOR_KINDS)}")
    if kind == "events" and events_executor_available():
        return _events_executor(context)
    return SingleThreadedExecutor(context=context)


def spin_until_shutdown(executor: Executor, context: Context) -> None:
    """Spin until ``context`` is shut down. rclpy's signal handler shuts the context down but
    does not wake an EventsExecutor blocked in a wait, so each turn waits at most
    SHUTDOWN_POLL_S; rclpy raises ExternalShutdownException from the turn that notices."""
    while context.ok():
        executor.spin_once(timeout_sec=SHUTDOWN_POLL_S)


def _events_executor(context: Context) -> Executor:
    """EventsExecutor enables `faulthandler` on ``sys.stderr``, which raises where stderr is
    not a file (pytest's capture, some process managers): it gets the process's real stderr."""
    from rclpy.experimental import EventsExecutor

    stderr = sys.stderr
    try:
        stderr.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
        sys.stderr = sys.__stderr__
    try:
        return EventsExecutor(context=context)
    finally:
        sys.stderr = stderr
