"""`python -m hand_pose_ros.runner`: see hand_pose_ros.runner.cli."""

from hand_pose_ros.runner.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
