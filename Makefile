# The two commands the README leads with:
#   make dev    run the whole platform locally (emulators, functions, event source mappings, API)
#   make test   every check and test, against a local stack of its own
.PHONY: dev test bench soak chaos install stack-up stack-down build clean

dev:
	@local/dev.sh

test:
	@local/test.sh

# Throughput, fan-out, end to end, cold start and cost; writes bench/results/ and the README's table.
bench:
	@local/bench.sh

# 100,000 deliveries through the local stack, nothing lost; writes bench/results/soak.json.
soak:
	@local/long-run.sh soak

# Faults injected while events flow (deliver killed, receivers failing, emulators down), every
# delivery made or dead-lettered and redriven; writes bench/results/chaos.json.
chaos:
	@local/long-run.sh chaos

install:
	@local/install.sh

# A stack for your own experiments: `make stack-up`, then `set -a; . .local/run/manual/stack.env; set +a`.
stack-up: install
	@local/stack.sh up manual

stack-down:
	@local/stack.sh down manual

build:
	cargo build --workspace --locked

clean:
	-local/stack.sh down manual
	cargo clean
