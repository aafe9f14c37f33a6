package dynamo

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/parleyhq/parley/infra/moto"
	"github.com/parleyhq/parley/shared/awsapi"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store"
	"github.com/parleyhq/parley/shared/store/storetest"
)

// backend is one moto server with clients pointed at it: the Store's, and
// the AWS SDK's DynamoDB and S3 clients, which read what the Store wrote
// as an independent check.
type backend struct {
	aws *awsapi.Client
	db  *dynamodb.Client
	s3  *s3sdk.Client
}

func startBackend(t *testing.T) backend {
	t.Helper()
	srv := moto.StartT(t)
	c := NewClient(srv.Endpoint(), "")
	return backend{aws: c, db: sdkClient(srv.Endpoint(), c.Region), s3: sdkS3(srv.Endpoint(), c.Region)}
}

// sdkS3 returns the AWS SDK's S3 client of endpoint.
func sdkS3(endpoint, region string) *s3sdk.Client {
	return s3sdk.New(s3sdk.Options{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
}

// sdkClient returns the AWS SDK's DynamoDB client of endpoint.
func sdkClient(endpoint, region string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
}

var resources atomic.Int64

// newStore returns a Store on a table and a bucket of its own.
func (b backend) newStore(t *testing.T, clk clock.Clock) *Store {
	t.Helper()
	name := fmt.Sprintf("parley-test-%d", resources.Add(1))
	if err := CreateTable(t.Context(), b.aws, name); err != nil {
		t.Fatal(err)
	}
	if err := CreateBucket(t.Context(), b.aws, name); err != nil {
		t.Fatal(err)
	}
	return New(Config{AWS: b.aws, Table: name, Bucket: name, Clock: clk})
}

func TestContract(t *testing.T) {
	t.Parallel()
	b := startBackend(t)
	storetest.Run(t, func(t *testing.T, clk clock.Clock) (store.Store, store.Blobs) {
		s := b.newStore(t, clk)
		return s, s
	})
}

// TestShardedContract runs the contract suite with the event log and the
// due index spread over four shards: Events and DueItems stay ordered and
// complete, and their cursors work as with one.
func TestShardedContract(t *testing.T) {
	t.Parallel()
	b := startBackend(t)
	storetest.Run(t, func(t *testing.T, clk clock.Clock) (store.Store, store.Blobs) {
		s := b.newStore(t, clk)
		s.shards = 4
		return s, s
	})
}

var start = time.Date(2031, time.March, 14, 9, 26, 53, 0, time.UTC)

func TestRequestCounts(t *testing.T) {
	t.Parallel()
	s := startBackend(t).newStore(t, clock.NewManual(start))
	ctx := t.Context()
	conv := message.Conversation{
		Channel: message.WhatsApp, BusinessID: "106540352242922", CustomerID: "16505551234",
		LastInboundAt: start, WindowClosesAt: start.Add(24 * time.Hour), ExpiresAt: start.Add(90 * 24 * time.Hour),
	}
	msg := message.Record{
		ID: message.NewMessageID(), Channel: conv.Channel, BusinessID: conv.BusinessID, CustomerID: conv.CustomerID,
		Direction: message.Inbound, PlatformMessageID: "wamid.COUNT", Type: "text",
		Body: &message.Body{Type: "text", Text: "hi"}, Status: "received", CreatedAt: start, UpdatedAt: start, Version: 1,
	}
	ev := message.Event{ID: message.NewEventID(start), Type: message.EventReceived, Time: start, Channel: conv.Channel,
		BusinessID: conv.BusinessID, CustomerID: conv.CustomerID, MessageID: msg.ID}
	inbound := []store.Write{ // what an inbound text writes
		store.Claim{Key: "IN#whatsapp#wamid.COUNT", ExpiresAt: start.Add(72 * time.Hour)},
		store.TouchConversation{Key: store.KeyOf(conv), InboundAt: start, Window: 24 * time.Hour, Retention: 90 * 24 * time.Hour},
		store.PutMessage{Message: msg, ExpiresAt: start.Add(30 * 24 * time.Hour)},
		store.AppendEvent{Event: ev, ExpiresAt: start.Add(7 * 24 * time.Hour)},
	}

	tests := []struct {
		name string
		do   func() error
		want Counts
	}{
		{"Apply of an inbound text", func() error { return s.Apply(ctx, inbound...) }, Counts{Writes: 1}},
		{"Apply refused", func() error {
			if err := s.Apply(ctx, inbound...); !errors.Is(err, store.ErrDuplicate) {
				return fmt.Errorf("Apply again: %v, want ErrDuplicate", err)
			}
			return nil
		}, Counts{Writes: 1}},
		{"Apply of nothing", func() error { return s.Apply(ctx) }, Counts{}},
		{"Conversation", func() error { _, err := s.Conversation(ctx, store.KeyOf(conv)); return err }, Counts{Reads: 1}},
		{"Message", func() error { _, err := s.Message(ctx, msg.ID); return err }, Counts{Reads: 1}},
		{"MessageByPlatformID", func() error {
			_, err := s.MessageByPlatformID(ctx, msg.Channel, msg.PlatformMessageID)
			return err
		}, Counts{Reads: 2}},
		{"RecentMessages", func() error { _, err := s.RecentMessages(ctx, store.KeyOf(conv), 10); return err }, Counts{Reads: 1}},
		{"Events", func() error { _, err := s.Events(ctx, "", 10); return err }, Counts{Reads: 1}},
		{"Idempotency", func() error {
			if _, err := s.Idempotency(ctx, "unknown"); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("Idempotency: %v, want ErrNotFound", err)
			}
			return nil
		}, Counts{Reads: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.ResetCounts()
			if err := tt.do(); err != nil {
				t.Fatal(err)
			}
			if got := s.Counts(); got != tt.want {
				t.Errorf("Counts() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestConcurrentClaims races writers for one claim, round after round:
// exactly one writer of each round may win, and the claim names it as its
// owner.
func TestConcurrentClaims(t *testing.T) {
	t.Parallel()
	const rounds, writers = 5, 16
	clk := clock.NewManual(start)
	s := startBackend(t).newStore(t, clk)
	for round := range rounds {
		claim := fmt.Sprintf("IN#whatsapp#wamid.RACE%d", round)
		errs := make([]error, writers)
		var wg sync.WaitGroup
		for i := range writers {
			wg.Go(func() {
				errs[i] = s.Apply(t.Context(),
					store.Claim{Key: claim, ExpiresAt: start.Add(time.Hour), Owner: fmt.Sprint("writer ", i)},
					store.AppendEvent{Event: message.Event{ID: message.NewEventID(start), Type: message.EventReceived, Time: start}},
				)
			})
		}
		wg.Wait()
		won := 0
		owner, err := s.ClaimOwner(t.Context(), claim)
		if err != nil {
			t.Fatal(err)
		}
		for i, err := range errs {
			switch {
			case err == nil:
				won++
				if want := fmt.Sprint("writer ", i); owner != want {
					t.Errorf("round %d: ClaimOwner = %q, want the winner, %q", round, owner, want)
				}
			case !errors.Is(err, store.ErrDuplicate):
				t.Errorf("round %d, writer %d: %v, want nil or ErrDuplicate", round, i, err)
			}
		}
		if won != 1 {
			t.Errorf("round %d: %d of %d writers won the claim, want 1", round, won, writers)
		}
	}
	evs, err := s.Events(t.Context(), "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != rounds {
		t.Errorf("%d events logged, want %d (one per round)", len(evs), rounds)
	}
	if _, err := s.ClaimOwner(t.Context(), "IN#whatsapp#wamid.NEVER"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ClaimOwner of a key never claimed: %v, want ErrNotFound", err)
	}
	clk.Advance(time.Hour)
	if _, err := s.ClaimOwner(t.Context(), "IN#whatsapp#wamid.RACE0"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ClaimOwner of an expired claim: %v, want ErrNotFound", err)
	}
}

// TestSetup checks that CreateTable and CreateBucket make what the package
// comment says, and can run again.
func TestSetup(t *testing.T) {
	t.Parallel()
	srv := moto.StartT(t)
	for _, region := range []string{"", "eu-west-1"} {
		t.Run("region "+region, func(t *testing.T) {
			ctx := t.Context()
			c := NewClient(srv.Endpoint(), region)
			bucket := "parley-payloads-" + c.Region
			for range 2 {
				if err := CreateTable(ctx, c, "parley"); err != nil {
					t.Fatal(err)
				}
				if err := CreateBucket(ctx, c, bucket); err != nil {
					t.Fatal(err)
				}
			}
			loc, err := sdkS3(srv.Endpoint(), c.Region).GetBucketLocation(ctx, &s3sdk.GetBucketLocationInput{Bucket: aws.String(bucket)})
			if err != nil {
				t.Fatal(err)
			}
			// us-east-1 (region "") is S3's default location: no constraint.
			if want := s3types.BucketLocationConstraint(region); loc.LocationConstraint != want {
				t.Errorf("bucket %s in %q, want %q", bucket, loc.LocationConstraint, want)
			}
			db := sdkClient(srv.Endpoint(), c.Region)
			d, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("parley")})
			if err != nil {
				t.Fatal(err)
			}
			tbl := d.Table
			if got := keys(tbl.KeySchema); got != "PK/HASH SK/RANGE" {
				t.Errorf("key schema %s, want PK/HASH SK/RANGE", got)
			}
			var gsis []string
			for _, g := range tbl.GlobalSecondaryIndexes {
				gsis = append(gsis, aws.ToString(g.IndexName)+" "+keys(g.KeySchema)+" "+string(g.Projection.ProjectionType))
			}
			slices.Sort(gsis)
			if want := []string{"GSI1 GSI1PK/HASH GSI1SK/RANGE ALL", "GSI2 GSI2PK/HASH GSI2SK/RANGE ALL"}; !slices.Equal(gsis, want) {
				t.Errorf("global secondary indexes %q, want %q", gsis, want)
			}
			if tbl.BillingModeSummary == nil || tbl.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
				t.Errorf("billing mode %+v, want PAY_PER_REQUEST", tbl.BillingModeSummary)
			}
			ttl, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String("parley")})
			if err != nil {
				t.Fatal(err)
			}
			if d := ttl.TimeToLiveDescription; aws.ToString(d.AttributeName) != "expiresAt" || d.TimeToLiveStatus != types.TimeToLiveStatusEnabled {
				t.Errorf("TTL %s on %q, want ENABLED on expiresAt", d.TimeToLiveStatus, aws.ToString(d.AttributeName))
			}
		})
	}
}

func keys(ks []types.KeySchemaElement) string {
	var parts []string
	for _, k := range ks {
		parts = append(parts, aws.ToString(k.AttributeName)+"/"+string(k.KeyType))
	}
	return strings.Join(parts, " ")
}

func TestNewClient(t *testing.T) {
	// Keep the machine's own AWS configuration out of the test.
	for _, v := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		t.Setenv(v, "")
	}

	const local = "http://127.0.0.1:5000"
	tests := []struct {
		name       string
		endpoint   string
		region     string
		env        map[string]string
		wantRegion string
		wantKey    string
	}{
		{"AWS", "", "eu-central-1", map[string]string{"AWS_ACCESS_KEY_ID": "AKIDLAMBDA", "AWS_SECRET_ACCESS_KEY": "s"}, "eu-central-1", "AKIDLAMBDA"},
		{"AWS, region from the environment", "", "", map[string]string{"AWS_REGION": "ap-south-1"}, "ap-south-1", ""},
		{"AWS, region from AWS_DEFAULT_REGION", "", "", map[string]string{"AWS_DEFAULT_REGION": "sa-east-1"}, "sa-east-1", ""},
		{"AWS, no region", "", "", nil, "us-east-1", ""},
		{"local", local, "", nil, "us-east-1", "test"},
		{"local in a region", local, "eu-west-1", nil, "eu-west-1", "test"},
		{"local with keys in the environment", local, "", map[string]string{"AWS_ACCESS_KEY_ID": "AKIDLOCAL", "AWS_SECRET_ACCESS_KEY": "local-secret"}, "us-east-1", "AKIDLOCAL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			c := NewClient(tt.endpoint, tt.region)
			if c.Region != tt.wantRegion || c.Endpoint != tt.endpoint || c.Credentials.AccessKeyID != tt.wantKey {
				t.Errorf("region %q, endpoint %q, key %q; want %q, %q, %q", c.Region, c.Endpoint, c.Credentials.AccessKeyID,
					tt.wantRegion, tt.endpoint, tt.wantKey)
			}
		})
	}
}
