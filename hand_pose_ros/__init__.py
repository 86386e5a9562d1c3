"""hand_pose_ros: efficient 2.5D/3D pose estimation for ROS 2.

Hands from egocentric depth; people from RGB-D.
"""

__version__ = "0.1.0"
