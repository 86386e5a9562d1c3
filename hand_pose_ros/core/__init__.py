"""ROS-free, torch-free core: numpy and ONNX Runtime only."""
