"""One-process runner: a frame source, the real node over real DDS, and a recording sink.

`python -m hand_pose_ros.runner --pipeline wearable` runs the built-in synthetic sample and
prints what it reached; see :mod:`hand_pose_ros.runner.cli`.
"""
