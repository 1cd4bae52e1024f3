# See SPEC.md "Running". The test and bench recipes live in .ci/test.sh,
# which owns the throwaway PostgreSQL cluster and its cleanup.
GO ?= go
BIN := bin/paypage

.PHONY: run build generate fmt check test bench fuzz add-key

# demo migrates and seeds ./data/paypage.db and prints the demo URLs and key;
# serve migrates on start and listens on 127.0.0.1:8080.
run: build
	mkdir -p data
	./$(BIN) demo
	./$(BIN) serve

build:
	$(GO) build -o $(BIN) ./cmd/paypage

generate:
	$(GO) tool templ generate

fmt:
	gofmt -w .
	$(GO) tool templ fmt .

# The generated *_templ.go files are committed; this fails when they are
# stale or missing from git.
check:
	$(GO) vet ./...
	.ci/tidy.sh
	@unformatted=$$(gofmt -l .); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) tool templ generate
	git diff --exit-code -- '*_templ.go'
	@untracked=$$(git ls-files --others --exclude-standard -- '*_templ.go'); \
	if [ -n "$$untracked" ]; then echo "generated but not committed:"; echo "$$untracked"; exit 1; fi

test:
	.ci/test.sh test

bench:
	.ci/test.sh bench

# fuzz runs every fuzz target for FUZZTIME each (make test runs them for 3s).
FUZZTIME ?= 1m
fuzz:
	.ci/fuzz.sh $(FUZZTIME)

# add-key adds a message to every locale file, in English until translated
# (the locales tests point at what is left):
#   make add-key KEY=checkout.gift_note TEXT="Add a gift note"
#   make add-key KEY=checkout.seats ONE="{{.Count}} seat" TEXT="{{.Count}} seats"
# shq quotes a value for the shell, whatever quotes it holds.
shq = '$(subst ','\'',$(1))'
add-key:
	@if [ -z $(call shq,$(KEY)) ] || [ -z $(call shq,$(TEXT)) ]; then \
		echo 'usage: make add-key KEY=area.name TEXT="English text" [ONE="singular form"]' >&2; exit 2; fi
	$(GO) run ./locales/cmd/addkey $(if $(ONE),-one $(call shq,$(ONE))) $(call shq,$(KEY)) $(call shq,$(TEXT))
