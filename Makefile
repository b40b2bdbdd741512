# The two commands of the README:
#   make demo   set up whatever is missing, then open the viewer on the demo dialogue
#   make test   set up whatever is missing, then run the test suite
# Both call scripts/bootstrap.sh, which is idempotent and caches outside the clone.

# One intra-op thread: on 2-core machines two LibTorch threads are slower than one.
export AMUSE_THREADS ?= 1
export OMP_NUM_THREADS ?= 1

.PHONY: demo test setup doctor bench fmt lint

setup:
	scripts/bootstrap.sh

# The demo opens with the default checkpoint (words, voice and faces; models/MODEL_CARD.md).
demo: setup
	cargo run --release -- view assets/demo_dialogue.mp4

test: setup
	cargo test --workspace --all-targets --no-fail-fast

doctor: setup
	cargo run --release -- doctor

bench: setup
	cargo run --release -- bench

fmt:
	cargo fmt --all

lint:
	cargo clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps
