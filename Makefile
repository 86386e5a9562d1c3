# Developer entry points. Everything runs inside a virtual environment ($(VENV)) that the first
# target creates; ROS 2 itself comes as Kilted wheels, so no ROS install is needed here.
# Modules are run with `python -m`, because setup.cfg puts console scripts in lib/hand_pose_ros
# (where `ros2 run` looks), not in $(VENV)/bin.

VENV ?= .venv
PYTHON ?= $(shell command -v python3.11 >/dev/null 2>&1 && echo python3.11 || echo python3)
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

DEMO_OUT ?= demo_output

# The shipped hand model and its ablation: the exact commands that produced them (fixed seeds;
# runs resume from their checkpoints in runs/). The model is a cosine cycle of 60000 steps and
# a warm restart of 10000 (--init-from), chosen on the validation split.
HAND_FIRST_RUN ?= runs/hand_tiny_aux_60k
HAND_RUN ?= runs/hand_tiny_aux_60k_wr0.005
HAND_MODEL ?= hand_pose_ros/models/hand_tiny_multitask.onnx
HAND_ABLATION ?= runs/hand_ablation_6k
# The hand refiner (second stage, on by default in the node: a cosine cycle of 20000 steps, a
# warm restart of 8000, four of 16000 with the depth head, then 48000 steps from that run's
# export with half of the crops cut around the shipped first stage's own boxes) and the
# in-budget two-stage variant it was compared with: the slim first stage, refined twice per hand.
HAND_REFINER_FIRST_RUN ?= runs/hand_refiner
HAND_REFINER_WR_RUN ?= runs/hand_refiner_wr
HAND_REFINER_DEPTH_RUN ?= runs/hand_refiner_depth
HAND_REFINER_DEPTH2_RUN ?= runs/hand_refiner_depth2
HAND_REFINER_DEPTH3_RUN ?= runs/hand_refiner_depth3
HAND_REFINER_DEPTH4_RUN ?= runs/hand_refiner_depth4
HAND_REFINER_RUN ?= runs/hand_refiner_fs48k
HAND_REFINER ?= hand_pose_ros/models/hand_refiner_tiny.onnx
# The previous default refiner: the same network at 1.5x every width, trained from scratch for
# 24000 steps with half of its crops around the shipped first stage's boxes, then a warm
# restart of 24000 at half the rate, and another at half that.
HAND_REFINER_WIDE_FIRST_RUN ?= runs/hand_refiner_wide
HAND_REFINER_WIDE_WR_RUN ?= runs/hand_refiner_wide_wr
HAND_REFINER_WIDE_RUN ?= runs/hand_refiner_wide_wr2
HAND_REFINER_WIDE ?= hand_pose_ros/models/hand_refiner_wide.onnx
# The node's default refiner since 2026-12-03 (fourth session): 2x the tiny widths, a cosine
# cycle of 48000 steps from scratch, then a warm restart of 16000 at half the rate, exported,
# and another of 16000 at half that from the export (sixth session).
HAND_REFINER_WIDE2_FIRST_RUN ?= runs/hand_refiner_wide2
HAND_REFINER_WIDE2_RUN ?= runs/hand_refiner_wide2_wr
HAND_REFINER_WIDE2_WR2_RUN ?= runs/hand_refiner_wide2_wr2
HAND_REFINER_WIDE2 ?= hand_pose_ros/models/hand_refiner_wide2.onnx
# What the wider refiners' runs share: the depth loss, and half of the crops cut around the
# shipped first stage's boxes.
HAND_REFINER_BOX_FLAGS = --depth-weight 20 --first-stage $(HAND_MODEL) --first-stage-share 0.5
# The in-budget first stage: a cosine cycle of 20000 steps, exported, then a warm restart of
# 20000 at half the rate from that file (chosen on validation, docs/studies/hand.md).
HAND_SLIM_RUN ?= runs/hand_slim_aux
HAND_SLIM_WR_RUN ?= runs/hand_slim_aux_wr
HAND_SLIM_MODEL ?= hand_pose_ros/models/hand_slim_multitask.onnx

# The shipped body model (LitePose-XS at 256x192) and its ablation (7x7 vs 3x3, fusion vs plain).
# Three cosine cycles (5000, 5000, 3000 steps): each later one a warm restart from the one
# before (--init-from).
BODY_RUN ?= runs/body_xs
BODY_RESTART_RUN ?= runs/body_xs_restart
BODY_CYCLE3_RUN ?= runs/body_xs_cycle3
BODY_TRAIN_FLAGS = --size XS --kernel 7 --head fusion --render 256x192 --input 192x144 \
	--steps 5000 --batch-size 16 --schedule cosine --norm-weight-decay 0 --threads 1
BODY_MODEL ?= hand_pose_ros/models/body_litepose_xs.onnx
BODY_ABLATION ?= runs/body_ablation

# The shipped DKD video tracker (6-frame clips): 4000 steps on the first 240 training
# sequences, then a warm restart of 4000 steps at half the rate on all 480. And the
# temporal-discriminator ablation: the same tracker with and without the discriminator on a
# shorter schedule (4-frame clips). All are evaluated against per-frame LitePose with the
# shipped body model as keyframe model.
VIDEO_FIRST_RUN ?= runs/video_dkd_long
VIDEO_RUN ?= runs/video_dkd_wr480
VIDEO_MODEL ?= hand_pose_ros/models/video_dkd_synthetic.onnx
VIDEO_TRAIN_FLAGS = --steps 4000 --batch-size 8 --clip-length 6 --pose-noise 0.05 \
	--rollout-probability 0.7 --adversarial-weight 0.05 --val-sequences 16 --seed 0 --threads 1
VIDEO_ABLATION ?= runs/video_ablation
VIDEO_ABLATION_SEQUENCES ?= 20
VIDEO_ABLATION_FLAGS = --steps 4000 --batch-size 8 --clip-length 4 --train-sequences 240 \
	--val-sequences 16 --seed 0 --threads 1

# A shipped refiner behind the shipped first stage, scored on the test split at 160x120 and
# 224x172 (written into its metadata), then its model card: $(call score_refiner,FILE).
define score_refiner
	$(PY) -m training.hand.evaluate --model $(HAND_MODEL) --refiner $(1) --split test --embed
	$(PY) -m training.hand.evaluate --model $(HAND_MODEL) --refiner $(1) --split test \
		--width 224 --height 172 --embed
	$(PY) -m training.common.model_card $(1)
endef

.PHONY: venv test lint demo bench hand-model hand-refiner hand-refiner-wide hand-refiner-wide2 hand-slim hand-ablation body-model \
	body-ablation video-model video-ablation clean distclean

venv: $(STAMP)

$(STAMP): requirements/runtime.txt requirements/dev.txt setup.py setup.cfg package.xml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -r requirements/dev.txt
	$(PY) -m pip install -e . --no-deps
	touch $@

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m pytest -q

lint: $(STAMP)
	$(PY) -m ruff check .

# Wearable, robot per frame, robot video (tracked): pictures + summary.json under
# $(DEMO_OUT)/, $(DEMO_OUT)/robot/ and $(DEMO_OUT)/video/.
demo: $(STAMP)
	$(PY) -m hand_pose_ros.runner --pipeline wearable --out $(DEMO_OUT)
	$(PY) -m hand_pose_ros.runner --pipeline robot --frames 60 --out $(DEMO_OUT)/robot
	$(PY) -m hand_pose_ros.runner --pipeline video --frames 60 --out $(DEMO_OUT)/video

bench: $(STAMP)
	$(PY) bench/hand_node_latency.py
	$(PY) bench/body_node_latency.py
	$(PY) bench/body_decode_scaling.py --model $(BODY_MODEL)
	$(PY) bench/video_vs_body_node.py

hand-model: $(STAMP)
	$(PY) -m training.hand.train --arch tiny --aux --steps 60000 --threads 1 --out $(HAND_FIRST_RUN)
	$(PY) -m training.hand.train --arch tiny --aux --steps 10000 --threads 1 \
		--init-from $(HAND_FIRST_RUN) --out $(HAND_RUN)
	$(PY) -m training.hand.export --run $(HAND_RUN) --out $(HAND_MODEL)
	$(PY) -m training.hand.evaluate --model $(HAND_MODEL) --split test --embed
	$(PY) -m training.hand.evaluate --model $(HAND_MODEL) --split test --width 224 --height 172 --embed
	$(PY) -m training.common.model_card $(HAND_MODEL)

hand-refiner: $(STAMP)
	$(PY) -m training.hand.train_refiner --steps 20000 --threads 1 --out $(HAND_REFINER_FIRST_RUN)
	$(PY) -m training.hand.train_refiner --steps 8000 --lr 0.0025 --threads 2 \
		--init-from $(HAND_REFINER_FIRST_RUN) --out $(HAND_REFINER_WR_RUN)
	$(PY) -m training.hand.train_refiner --steps 16000 --lr 0.0025 --threads 1 --depth-weight 20 \
		--init-from $(HAND_REFINER_WR_RUN) --out $(HAND_REFINER_DEPTH_RUN)
	$(PY) -m training.hand.train_refiner --steps 16000 --lr 0.0025 --threads 2 --depth-weight 20 \
		--init-from $(HAND_REFINER_DEPTH_RUN) --out $(HAND_REFINER_DEPTH2_RUN)
	$(PY) -m training.hand.train_refiner --steps 16000 --lr 0.0025 --threads 1 --depth-weight 20 \
		--init-from $(HAND_REFINER_DEPTH2_RUN) --out $(HAND_REFINER_DEPTH3_RUN)
	$(PY) -m training.hand.train_refiner --steps 16000 --lr 0.0025 --threads 1 --depth-weight 20 \
		--init-from $(HAND_REFINER_DEPTH3_RUN) --out $(HAND_REFINER_DEPTH4_RUN)
	$(PY) -m training.hand.export_refiner --run $(HAND_REFINER_DEPTH4_RUN) \
		--out $(HAND_REFINER_DEPTH4_RUN).onnx
	$(PY) -m training.hand.train_refiner --steps 48000 --lr 0.0025 --threads 1 --depth-weight 20 \
		--first-stage $(HAND_MODEL) --first-stage-share 0.5 \
		--init-from $(HAND_REFINER_DEPTH4_RUN).onnx --out $(HAND_REFINER_RUN)
	$(PY) -m training.hand.export_refiner --run $(HAND_REFINER_RUN) --out $(HAND_REFINER)
	$(call score_refiner,$(HAND_REFINER))

hand-refiner-wide: $(STAMP)
	$(PY) -m training.hand.train_refiner --arch wide --steps 24000 --threads 2 \
		$(HAND_REFINER_BOX_FLAGS) --out $(HAND_REFINER_WIDE_FIRST_RUN)
	$(PY) -m training.hand.train_refiner --arch wide --steps 24000 --lr 0.0025 --threads 2 \
		$(HAND_REFINER_BOX_FLAGS) --init-from $(HAND_REFINER_WIDE_FIRST_RUN) \
		--out $(HAND_REFINER_WIDE_WR_RUN)
	$(PY) -m training.hand.train_refiner --arch wide --steps 24000 --lr 0.00125 --threads 1 \
		$(HAND_REFINER_BOX_FLAGS) --init-from $(HAND_REFINER_WIDE_WR_RUN) \
		--out $(HAND_REFINER_WIDE_RUN)
	$(PY) -m training.hand.export_refiner --run $(HAND_REFINER_WIDE_RUN) --out $(HAND_REFINER_WIDE) \
		--name hand_refiner_wide
	$(call score_refiner,$(HAND_REFINER_WIDE))

hand-refiner-wide2: $(STAMP)
	$(PY) -m training.hand.train_refiner --arch wide2 --steps 48000 --threads 2 \
		$(HAND_REFINER_BOX_FLAGS) --eval-every 4000 --out $(HAND_REFINER_WIDE2_FIRST_RUN)
	$(PY) -m training.hand.train_refiner --arch wide2 --steps 16000 --lr 0.0025 --threads 2 \
		$(HAND_REFINER_BOX_FLAGS) --eval-every 4000 --init-from $(HAND_REFINER_WIDE2_FIRST_RUN) \
		--out $(HAND_REFINER_WIDE2_RUN)
	$(PY) -m training.hand.export_refiner --run $(HAND_REFINER_WIDE2_RUN) --out $(HAND_REFINER_WIDE2) \
		--name hand_refiner_wide2
	$(PY) -m training.hand.train_refiner --arch wide2 --steps 16000 --lr 0.00125 --threads 2 \
		$(HAND_REFINER_BOX_FLAGS) --eval-every 8000 --init-from $(HAND_REFINER_WIDE2) \
		--out $(HAND_REFINER_WIDE2_WR2_RUN)
	$(PY) -m training.hand.export_refiner --run $(HAND_REFINER_WIDE2_WR2_RUN) \
		--out $(HAND_REFINER_WIDE2) --name hand_refiner_wide2
	$(call score_refiner,$(HAND_REFINER_WIDE2))

hand-slim: $(STAMP)
	$(PY) -m training.hand.train --arch slim --aux --steps 20000 --threads 1 --out $(HAND_SLIM_RUN)
	$(PY) -m training.hand.export --run $(HAND_SLIM_RUN) --out $(HAND_SLIM_MODEL) \
		--name hand_slim_multitask
	$(PY) -m training.hand.train --arch slim --aux --steps 20000 --lr 0.0025 --threads 1 \
		--init-from $(HAND_SLIM_MODEL) --out $(HAND_SLIM_WR_RUN)
	$(PY) -m training.hand.export --run $(HAND_SLIM_WR_RUN) --out $(HAND_SLIM_MODEL) \
		--name hand_slim_multitask
	$(PY) -m training.hand.evaluate --model $(HAND_SLIM_MODEL) --split test --embed
	$(PY) -m training.hand.evaluate --model $(HAND_SLIM_MODEL) --refiner $(HAND_REFINER) --split test
	$(PY) -m training.common.model_card $(HAND_SLIM_MODEL)

hand-ablation: $(STAMP)
	$(PY) -m training.hand.ablation --steps 6000 --threads 1 --out $(HAND_ABLATION)

body-model: $(STAMP)
	$(PY) -m training.body.train $(BODY_TRAIN_FLAGS) --lr 4e-3 --out $(BODY_RUN)
	$(PY) -m training.body.train $(BODY_TRAIN_FLAGS) --lr 2e-3 --init-from $(BODY_RUN) \
		--out $(BODY_RESTART_RUN)
	$(PY) -m training.body.train $(BODY_TRAIN_FLAGS) --steps 3000 --lr 2e-3 \
		--init-from $(BODY_RESTART_RUN) --out $(BODY_CYCLE3_RUN)
	$(PY) -m training.body.export --run $(BODY_CYCLE3_RUN) --out $(BODY_MODEL) --detection-threshold 0.3
	$(PY) -m training.body.evaluate --model $(BODY_MODEL) --split test --embed
	$(PY) -m training.body.evaluate --model $(BODY_MODEL) --split test --flip-test --embed
	$(PY) -m training.common.model_card $(BODY_MODEL)

body-ablation: $(STAMP)
	$(PY) -m training.body.ablation --steps 2000 --input 128x128 --threads 1 --out $(BODY_ABLATION)

video-model: $(STAMP)
	$(PY) -m training.video.train $(VIDEO_TRAIN_FLAGS) --train-sequences 240 --out $(VIDEO_FIRST_RUN)
	$(PY) -m training.video.train $(VIDEO_TRAIN_FLAGS) --train-sequences 480 --lr 0.001 \
		--init-from $(VIDEO_FIRST_RUN) --out $(VIDEO_RUN)
	$(PY) -m training.video.export --run $(VIDEO_RUN) --out $(VIDEO_MODEL)
	for split in validation test; do \
		$(PY) -m training.video.evaluate --model $(VIDEO_MODEL) --body-model $(BODY_MODEL) \
			--split $$split --embed || exit 1; \
	done
	$(PY) -m training.common.model_card $(VIDEO_MODEL)

video-ablation: $(STAMP)
	for weight in 0.05 0; do \
		$(PY) -m training.video.train $(VIDEO_ABLATION_FLAGS) --adversarial-weight $$weight \
			--out $(VIDEO_ABLATION)_$$weight && \
		$(PY) -m training.video.export --run $(VIDEO_ABLATION)_$$weight \
			--out $(VIDEO_ABLATION)_$$weight/dkd.onnx --name dkd_adversarial_$$weight && \
		$(PY) -m training.video.evaluate --model $(VIDEO_ABLATION)_$$weight/dkd.onnx \
			--body-model $(BODY_MODEL) --split test --sequences $(VIDEO_ABLATION_SEQUENCES) \
			--out $(VIDEO_ABLATION)_$$weight/test_metrics.json || exit 1; \
	done

clean:
	rm -rf build install log $(DEMO_OUT) *.egg-info .pytest_cache .ruff_cache .hypothesis
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
