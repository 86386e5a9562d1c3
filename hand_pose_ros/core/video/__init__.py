"""Video pose: DKD propagation between LitePose keyframes, tracking, smoothing."""
