"""LitePose (multi-person body keypoints) training, export, evaluation and ablation."""
