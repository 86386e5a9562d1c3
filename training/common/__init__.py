"""Pieces every model's training shares: seeding, checkpoints, ONNX complexity counting."""
