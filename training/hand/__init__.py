"""The tiny multi-task hand network (Chidananda et al. 2019) and its MobileNetV2 baseline."""
