# Developer entry points. Everything runs inside a virtual environment ($(VENV)) that the first
# target creates; ROS 2 itself comes as Kilted wheels, so no ROS install is needed here.
# Modules are run with `python -m`, because setup.cfg puts console scripts in lib/hand_pose_ros
# (where `ros2 run` looks), not in $(VENV)/bin.

VENV ?= .venv
PYTHON ?= $(shell command -v python3.11 >/dev/null 2>&1 && echo python3.11 || echo python3)
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

DEMO_OUT ?= demo_output

# Retraining the hand model. TODO(lead): fill in the exact arguments of each command line.
HAND_TRAIN_ARGS ?=
HAND_EVAL_ARGS ?=
HAND_EXPORT_ARGS ?=

.PHONY: venv test lint demo bench train-hand evaluate-hand export-hand clean distclean

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

demo: $(STAMP)
	$(PY) -m hand_pose_ros.runner --pipeline wearable --out $(DEMO_OUT)

bench: $(STAMP)
	$(PY) bench/hand_node_latency.py

train-hand: $(STAMP)
	$(PY) -m training.hand.train $(HAND_TRAIN_ARGS)

evaluate-hand: $(STAMP)
	$(PY) -m training.hand.evaluate $(HAND_EVAL_ARGS)

export-hand: $(STAMP)
	$(PY) -m training.hand.export $(HAND_EXPORT_ARGS)

clean:
	rm -rf build install log $(DEMO_OUT) *.egg-info .pytest_cache .ruff_cache .hypothesis
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
