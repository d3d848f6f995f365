# kconnect — see README.md. `make run` starts the whole pipeline embedded; `make test` runs every test.
GO           ?= go
STATICCHECK  ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
# ST1005: several packages must return Apache Kafka Connect's and Kusto's exact (capitalised,
# punctuated) error messages, which clients match on.
STATICCHECK_CHECKS ?= inherit,-ST1005
BIN          ?= bin

# e2e/restclients is a separate Go module (third-party Connect clients stay out of go.mod), so
# ./... does not reach it; these targets run it explicitly.
RESTCLIENTS  := e2e/restclients

.PHONY: build run test unit e2e restclients bench lint fmt clean

# Static binaries: nothing in kconnect needs cgo.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/ ./cmd/...

# The whole pipeline in one process (Kafka, the Kusto emulator, a worker) with a demo; Ctrl-C
# stops it. go run leaves no binary in the tree.
run:
	$(GO) run ./cmd/kconnect dev

test: lint
	$(GO) test -race -timeout 30m ./...
	$(MAKE) restclients

restclients:
	cd $(RESTCLIENTS) && $(GO) test -race -count=1 -timeout 10m ./...

unit:
	$(GO) test -race -short ./...

e2e:
	$(GO) test -race -timeout 30m ./e2e/...
	$(MAKE) restclients

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) -checks '$(STATICCHECK_CHECKS)' ./...
	cd $(RESTCLIENTS) && $(GO) vet ./... && $(STATICCHECK) -checks '$(STATICCHECK_CHECKS)' ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf $(BIN)
