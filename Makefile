.PHONY: demo test lint
# The two README commands. Each installs the pinned environment into .venv on first use.
demo:
	bash scripts/demo.sh
test:
	bash scripts/test.sh
lint:
	.venv/bin/ruff check talkingub tests benchmarks && .venv/bin/mypy talkingub
