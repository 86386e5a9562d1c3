"""The executor the nodes spin with, and the console entry point's clean exit on a signal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import rclpy
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor

from hand_pose_ros.nodes.executors import (
    EXECUTOR_ENVIRONMENT_VARIABLE,
    events_executor_available,
    make_executor,
    spin_until_shutdown,
)
from hand_pose_ros.runner.harness import isolated_domain_id

READY_TIMEOUT_S = 60.0
EXIT_TIMEOUT_S = 10.0
SPINNING_S = 1.0
"""Time between the node's ready line and the signal: the executor is then waiting for work."""
DEFAULT_LOG_LINE = (
    "spinning with rclpy's EventsExecutor"
    if events_executor_available()
    else "spinning with rclpy's SingleThreadedExecutor"
)


def test_single_kind_is_the_single_threaded_executor(ros_context: Context) -> None:
    executor = make_executor(ros_context, "single")
    assert isinstance(executor, SingleThreadedExecutor)
    executor.shutdown()


@pytest.mark.skipif(not events_executor_available(), reason="rclpy without EventsExecutor")
def test_events_kind_is_made_while_stderr_is_captured(
    ros_context: Context, capsys: pytest.CaptureFixture
) -> None:
    """pytest's capsys gives sys.stderr no file descriptor; EventsExecutor wants one."""
    with pytest.raises(OSError):
        sys.stderr.fileno()
    executor = make_executor(ros_context, "events")
    assert not isinstance(executor, SingleThreadedExecutor)
    assert type(executor).__name__ == "EventsExecutor"
    executor.shutdown()


def test_unknown_kind_is_refused(ros_context: Context) -> None:
    with pytest.raises(ValueError, match="unknown executor 'multi'"):
        make_executor(ros_context, "multi")


def test_spin_returns_once_the_context_is_shut_down() -> None:
    context = Context()
    rclpy.init(context=context, domain_id=isolated_domain_id())
    executor = make_executor(context)
    context.try_shutdown()
    start_s = time.perf_counter()
    spin_until_shutdown(executor, context)
    assert time.perf_counter() - start_s < 1.0


@pytest.mark.parametrize(
    ("signal_number", "executor", "expected_log"),
    [
        (signal.SIGINT, "", DEFAULT_LOG_LINE),
        (signal.SIGTERM, "", DEFAULT_LOG_LINE),
        (signal.SIGINT, "single", "spinning with rclpy's SingleThreadedExecutor"),
        (signal.SIGINT, "multi", f"{EXECUTOR_ENVIRONMENT_VARIABLE}='multi' is not one of"),
    ],
    ids=["INT", "TERM", "INT-single", "INT-unknown-kind"],
)
def test_hand_node_process_exits_cleanly_on_a_signal(
    signal_number: int, executor: str, expected_log: str
) -> None:
    """The console entry point (`ros2 run hand_pose_ros hand_pose_node`) stops on Ctrl-C or
    SIGTERM, as launch sends them, instead of hanging in the executor's wait; the environment
    picks its executor, and a kind it does not know is reported, not fatal."""
    environment = dict(os.environ, ROS_DOMAIN_ID=str(isolated_domain_id()))
    environment[EXECUTOR_ENVIRONMENT_VARIABLE] = executor
    process = subprocess.Popen(
        [sys.executable, "-c", "from hand_pose_ros.nodes.hand_pose_node import main; main()",
         "--ros-args", "-r", f"__ns:=/entry_point_{os.getpid()}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=environment,
    )
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        log: list[str] = []
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            log.append(line)
            if "ready: model" in line:
                break
        assert any("ready: model" in line for line in log), "".join(log)
        time.sleep(SPINNING_S)
        process.send_signal(signal_number)
        assert process.wait(timeout=EXIT_TIMEOUT_S) == 0, process.stdout.read()
        output = "".join(log) + process.stdout.read()
        assert expected_log in output, output
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
