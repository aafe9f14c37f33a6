package ingest_test

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/infra/load"
	"github.com/parleyhq/parley/infra/moto"
	"github.com/parleyhq/parley/shared/awsapi/dynamodb"
	"github.com/parleyhq/parley/shared/bus"
	"github.com/parleyhq/parley/shared/channel"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/httpapi"
	"github.com/parleyhq/parley/shared/ingest"
	"github.com/parleyhq/parley/shared/store/dynamo"
	"github.com/parleyhq/parley/shared/whatsapp"
)

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

var batchStatuses = flag.Int("statuses", 20000, "statuses in BenchmarkStatusBatch's signed batch")

// BenchmarkStatusBatch measures one signed WhatsApp batch of -statuses
// statuses (each of its own message and customer, as Meta batches them, and
// of a message parley has no record of yet, so each is kept pending: a read
// and a two-item transaction) through the webhook, on the DynamoDB adapter
// over moto with its serialised wrapper: verify, parse, and ingest with
// every write made. Beside it, in the same run, its floor: the same number
// of reads and writes as the batch made, each a bare GetItem or PutItem to
// the same moto, as many at once as ingest makes. moto answers one request at a time, so on moto every figure is bound by
// moto's speed; the ratio to the floor is parley's cost above the store's.
// Run with -benchtime 1x: each iteration is one batch on a fresh table.
func BenchmarkStatusBatch(b *testing.B) {
	srv := moto.StartT(b)
	db := dynamo.NewClient(srv.Endpoint(), "")
	floor := dynamodb.New(db)
	var tables atomic.Int64
	newTable := func() string {
		name := fmt.Sprintf("parley-batch-%d", tables.Add(1))
		if err := dynamo.CreateTable(b.Context(), db, name); err != nil {
			b.Fatal(err)
		}
		return name
	}
	var reads, writes int64
	b.Run(fmt.Sprintf("parley/%d", *batchStatuses), func(b *testing.B) {
		var took, again time.Duration
		var againRequests int64
		for b.Loop() {
			b.StopTimer()
			name := newTable()
			clk := clock.System{}
			st := dynamo.New(dynamo.Config{AWS: db, Table: name, Bucket: name, Clock: clk})
			in := &ingest.Ingester{Store: st, Publisher: bus.Discard{}, Clock: clk, Log: quietLog}
			h := httpapi.Webhooks(in, []channel.Webhook{whatsapp.Webhook{AppSecret: channel.Fixed(secret)}}, clk, quietLog)
			body := load.StatusBatch(*batchStatuses, time.Now())
			req := httptest.NewRequest(http.MethodPost, "/webhooks/whatsapp", bytes.NewReader(body))
			req.Header.Set("X-Hub-Signature-256", load.Sign(body, secret))
			rec := httptest.NewRecorder()
			b.StartTimer()
			start := time.Now()
			h.ServeHTTP(rec, req)
			took += time.Since(start)
			if rec.Code != http.StatusOK {
				b.Fatalf("HTTP %d: %s", rec.Code, rec.Body)
			}
			c := st.Counts()
			reads, writes = c.Reads, c.Writes

			// Meta delivers the batch again (as after a timeout): every
			// status is already stored.
			req = httptest.NewRequest(http.MethodPost, "/webhooks/whatsapp", bytes.NewReader(body))
			req.Header.Set("X-Hub-Signature-256", load.Sign(body, secret))
			rec = httptest.NewRecorder()
			start = time.Now()
			h.ServeHTTP(rec, req)
			again += time.Since(start)
			if rec.Code != http.StatusOK {
				b.Fatalf("redelivery: HTTP %d: %s", rec.Code, rec.Body)
			}
			c2 := st.Counts()
			againRequests = c2.Reads + c2.Writes - c.Reads - c.Writes
		}
		b.ReportMetric(took.Seconds()/float64(b.N), "s/batch")
		b.ReportMetric(float64(reads+writes)/float64(*batchStatuses), "requests/status")
		b.ReportMetric(again.Seconds()/float64(b.N), "redelivery-s/batch")
		b.ReportMetric(float64(againRequests), "redelivery-requests")
	})
	b.Run(fmt.Sprintf("floor/%d", *batchStatuses), func(b *testing.B) {
		if reads+writes == 0 {
			b.Skip("the parley batch did not run")
		}
		var took time.Duration
		for b.Loop() {
			b.StopTimer()
			name := newTable()
			work := make(chan int)
			var wg sync.WaitGroup
			var failed atomic.Value
			b.StartTimer()
			start := time.Now()
			for range ingest.MaxParallel {
				wg.Go(func() {
					for i := range work {
						key := dynamodb.Item{"PK": dynamodb.S(fmt.Sprintf("floor#%d", i)), "SK": dynamodb.S("x")}
						var err error
						if int64(i) < reads {
							_, err = floor.GetItem(b.Context(), &dynamodb.GetItemInput{TableName: name, Key: key})
						} else {
							_, err = floor.PutItem(b.Context(), &dynamodb.PutItemInput{TableName: name, Item: key})
						}
						if err != nil {
							failed.Store(err)
						}
					}
				})
			}
			for i := range int(reads + writes) {
				work <- i
			}
			close(work)
			wg.Wait()
			took += time.Since(start)
			if err, _ := failed.Load().(error); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(took.Seconds()/float64(b.N), "s/batch")
	})
}
