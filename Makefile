# parley — make run (local stack), make test (every test), make bench.
SHELL := /bin/bash
GO ?= go
PORT ?= 8080
# Each fuzz target runs a fixed number of inputs, about ten seconds' work on two cores. A count rather than a
# duration: go1.26's fuzz coordinator can report the end of a -fuzztime duration as a failure of the target
# when the machine is busy (golang/go#75804). FUZZTIME (a count such as 500000x, or a duration) overrides all.
FUZZTIME ?=
BATCH_STATUSES ?= 20000
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags='-s -w'
FUNCTIONS := ingest send fallback fetch decode webhook

.PHONY: run invoke build test check-tools lint cfn-lint unit fuzz bench load clean

## run: the local stack on 127.0.0.1:$(PORT) (send API, webhooks, simulators, event log)
run:
	PORT=$(PORT) $(GO) run ./infra/cmd/local

## invoke: one function's built binary under the Lambda emulator, fed EVENT (a signed webhook sample signed again
## with the time of now), against the running local stack
## (make run with PARLEY_STORE=aws on moto_server -p 5000; see README):
##   make invoke FUNCTION=send EVENT=events/send/get-events.json
ENV_FILE ?= infra/local/env.json
invoke:
	@if [ -z "$(FUNCTION)" ] || [ -z "$(EVENT)" ]; then echo "usage: make invoke FUNCTION=send EVENT=events/send/get-events.json [ENV_FILE=infra/local/env.json]" >&2; exit 2; fi
	@$(GO) build -tags lambda.norpc -o bin/local/$(FUNCTION)/bootstrap ./functions/$(FUNCTION)
	@$(GO) run ./infra/cmd/restamp $(EVENT) > bin/local/$(FUNCTION)/event.json
	@f=$(FUNCTION); $(GO) run ./infra/lambdaemu/cmd/lambdaemu -bootstrap bin/local/$(FUNCTION)/bootstrap -env-file $(ENV_FILE) \
		-function "$$(printf %s "$${f:0:1}" | tr a-z A-Z)$${f:1}Function" -name $(FUNCTION) -event bin/local/$(FUNCTION)/event.json

## build: the Lambda bootstraps for provided.al2023 on arm64, under bin/
build:
	@for f in $(FUNCTIONS); do \
		echo "building bin/$$f/bootstrap (linux/arm64)"; \
		GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o bin/$$f/bootstrap ./functions/$$f || exit 1; \
	done

# sam build (BuildMethod: makefile) calls these with ARTIFACTS_DIR set.
build-IngestFunction:
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/ingest

build-SendFunction:
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/send

build-FallbackFunction:
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/fallback

build-FetchFunction:
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/fetch

build-DecodeFunction:
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/decode

build-WebhookFunction:
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/webhook

## test: every test — lint, template validation, unit + integration (moto, Lambda emulator), bounded fuzzing
test: check-tools lint cfn-lint unit fuzz

check-tools:
	@missing=0; for t in $(GO) moto_server cfn-lint chromium; do \
		command -v $$t >/dev/null || { echo "make test: required tool '$$t' is not installed (see README, Requirements)" >&2; missing=1; }; \
	done; exit $$missing

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:" $$out >&2; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

cfn-lint:
	cfn-lint template.yaml

unit:
	$(GO) test -count=1 -timeout 20m ./...

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(or $(FUZZTIME),100000x) ./shared/whatsapp/
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(or $(FUZZTIME),60000x) ./shared/apple/
	$(GO) test -run '^$$' -fuzz '^FuzzTemplateAgreement$$' -fuzztime $(or $(FUZZTIME),50000x) ./infra/whatsappsim/
	$(GO) test -run '^$$' -fuzz '^FuzzItemJSON$$' -fuzztime $(or $(FUZZTIME),100000x) ./shared/awsapi/dynamodb/
	$(GO) test -run '^$$' -fuzz '^FuzzSignMatchesSDK$$' -fuzztime $(or $(FUZZTIME),60000x) ./shared/awsapi/

## bench: ingest CPU against its floor, a signed batch of $(BATCH_STATUSES) statuses on DynamoDB (moto) against the same requests bare, payload fetch + decrypt against AES-CTR + io.Copy, WhatsApp media fetch against a plain loopback download into the same store, every function's arm64 size and init duration as ratios to an empty aws-lambda-go function (targets 1.5× and 1.3×), DynamoDB requests per operation, S3 puts, gets and presigns against the SDK's S3 client, fallback run throughput
bench: build
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./shared/httpapi/ | tee bin/bench.txt
	$(GO) test -run '^$$' -bench 'RenderValidate|ParseBatch100|ParseFloor100' -benchmem ./shared/whatsapp/ | tee -a bin/bench.txt
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./shared/awsapi/dynamodb/ | tee -a bin/bench.txt
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./shared/awsapi/s3/ | tee -a bin/bench.txt
	$(GO) test -run '^$$' -bench ColdStart -benchtime 20x ./functions/ | tee -a bin/bench.txt
	$(GO) test -count=1 -run 'TestRequestCounts|TestScheduleRequestCounts' -v ./infra/local/ | grep -E 'requests|ok|FAIL'
	$(GO) test -count=1 -run '^$$' -bench 'FallbackRun' -benchtime 3x ./infra/local/ | tee -a bin/bench.txt
	$(GO) test -count=1 -run '^$$' -bench 'Fetch' -benchmem -benchtime 5x ./shared/payload/ | tee -a bin/bench.txt
	$(GO) test -count=1 -run '^$$' -bench 'StatusBatch' -benchtime 1x -timeout 60m ./shared/ingest/ -args -statuses=$(BATCH_STATUSES) | tee -a bin/bench.txt
	@for f in $(FUNCTIONS); do printf 'bin/%s/bootstrap (linux/arm64): %s bytes\n' $$f $$(stat -c %s bin/$$f/bootstrap); done

## load: webhooks, bursts, one large batch and sends against a local stack on 127.0.0.1, each beside a floor of the same run; then the same on DynamoDB and S3 of a moto server
LOAD_ARGS ?=
MOTO_LOAD_ARGS ?= -rate 10 -duration 5s -burst 10 -burst-every 1s -customers 5 -clients 2 -send-duration 3s -batch 200
load:
	$(GO) run ./infra/cmd/load $(LOAD_ARGS)
	$(GO) run ./infra/cmd/load -store aws $(MOTO_LOAD_ARGS)

clean:
	rm -rf bin .aws-sam
