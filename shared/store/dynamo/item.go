package dynamo

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/shared/awsapi/dynamodb"
	"github.com/parleyhq/parley/shared/logs"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store"
)

// Attribute names of the table (see the package comment).
const (
	attrPK            = "PK"
	attrSK            = "SK"
	attrGSI1PK        = "GSI1PK"
	attrGSI1SK        = "GSI1SK"
	attrGSI2PK        = "GSI2PK"
	attrGSI2SK        = "GSI2SK"
	attrExpiresAt     = "expiresAt"
	attrExpiresAtNs   = "expiresAtNs"
	attrData          = "data"
	attrVersion       = "version"
	attrLastInboundAt = "lastInboundAt"
	attrMessageID     = "messageId"
	attrRequestHash   = "requestHash"
	attrStatus        = "status"
	attrAnswer        = "answer"
	attrLease         = "lease"
	attrOwner         = "owner"
	// The forward-only registers of a conversation's items.
	attrAt             = "atNs"
	attrWindowClosesAt = "windowClosesAtNs"
	attrCapabilities   = "capabilities"
	attrValue          = "value"
	attrPending        = "pending"
	attrPendingCount   = "pendingCount"
)

// The table's global secondary indexes: GSI1 for a conversation's recent
// messages, GSI2 for the scheduled items by due time.
const (
	indexGSI1 = "GSI1"
	indexGSI2 = "GSI2"
)

// pkDue is the GSI2 partition of the scheduled items.
const pkDue = "DUE"

// Sort keys of the items that are alone in their partition (or nearly).
const (
	skConversation = "CONV"
	skWindow       = "WINDOW"
	skClosed       = "CLOSED"
	skCapabilities = "CAPS"
	skRouting      = "ROUTING#" // + the field's name
	skField        = "FIELD#"   // + a named register (store.TouchConversation.Fields)
	skClaim        = "CLAIM"
	skMessage      = "MSG"
	skPlatformID   = "PMID"
	skIdempotency  = "IDEM"
	skScheduled    = "SCHED"
	skPayment      = "PAY"
)

// pkEvents is the partition of the event log's first shard.
const pkEvents = "EVT"

// shardOf returns the partition key of the shard of n that id falls in:
// base itself for shard 0 (so that one shard is the layout of old), else
// base#i.
func shardOf(base, id string, n int) string {
	if n <= 1 {
		return base
	}
	h := fnv.New32a()
	h.Write([]byte(id))
	return shardKey(base, int(h.Sum32()%uint32(n)))
}

func shardKey(base string, i int) string {
	if i == 0 {
		return base
	}
	return base + "#" + strconv.Itoa(i)
}

// item is one DynamoDB item.
type item = dynamodb.Item

func conversationPK(k store.ConversationKey) string {
	return "CONV#" + string(k.Channel) + "#" + k.BusinessID + "#" + k.CustomerID
}

// shown is a partition key as errors show it: a conversation's customer id
// masked as the logs mask it (logs.Mask), since errors reach the logs.
func shown(pk string) string {
	parts := strings.SplitN(pk, "#", 4)
	if len(parts) != 4 || parts[0] != "CONV" {
		return pk
	}
	return "CONV#" + parts[1] + "#" + parts[2] + "#" + logs.Mask(parts[3])
}

func messagePK(id string) string { return "MSG#" + id }

func platformIDPK(ch message.Channel, pid string) string { return "PMID#" + string(ch) + "#" + pid }

func idempotencyPK(key string) string { return "IDEM#" + key }

func scheduledPK(id string) string { return "SCHED#" + id }

func paymentPK(messageID string) string { return "PAY#" + messageID }

// dueSK orders the scheduled items by due time, then id.
func dueSK(at time.Time, id string) string {
	return at.UTC().Format(createdAtLayout) + "#" + id
}

// createdAtLayout formats times with a fixed width, so that they sort as
// text.
const createdAtLayout = "2006-01-02T15:04:05.000000000Z"

func recentSK(r message.Record) string {
	return r.CreatedAt.UTC().Format(createdAtLayout) + "#" + r.ID
}

func key(pk, sk string) item {
	return item{attrPK: str(pk), attrSK: str(sk)}
}

func str(v string) dynamodb.AttributeValue { return dynamodb.S(v) }

func num(v int64) dynamodb.AttributeValue { return dynamodb.N(strconv.FormatInt(v, 10)) }

// setExpiry gives it the expiry attributes of t; a zero t leaves it without
// them, never to expire.
func setExpiry(it item, t time.Time) {
	if t.IsZero() {
		return
	}
	sec := t.Unix()
	if t.Nanosecond() > 0 {
		sec++
	}
	it[attrExpiresAt] = num(sec)
	it[attrExpiresAtNs] = num(t.UnixNano())
}

// expiry returns the exact expiry of it, zero when it has none.
func expiry(it item) (time.Time, error) {
	if _, ok := it[attrExpiresAtNs]; !ok {
		return time.Time{}, nil
	}
	ns, err := numberOf(it, attrExpiresAtNs)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(0, ns).UTC(), nil
}

// alive reports whether it exists and has not expired at now.
func alive(it item, now time.Time) (bool, error) {
	if it == nil {
		return false, nil
	}
	exp, err := expiry(it)
	if err != nil {
		return false, err
	}
	return exp.IsZero() || exp.After(now), nil
}

func stringOf(it item, name string) (string, error) {
	switch v := it[name].(type) {
	case dynamodb.S:
		return string(v), nil
	case nil:
		return "", nil
	default:
		return "", errorf("attribute %s: %T, want a string", name, v)
	}
}

func numberOf(it item, name string) (int64, error) {
	switch v := it[name].(type) {
	case dynamodb.N:
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return 0, errorf("attribute %s: %w", name, err)
		}
		return n, nil
	case nil:
		return 0, nil
	default:
		return 0, errorf("attribute %s: %T, want a number", name, v)
	}
}

func bytesOf(it item, name string) ([]byte, error) {
	switch v := it[name].(type) {
	case dynamodb.B:
		return v, nil
	case nil:
		return nil, nil
	default:
		return nil, errorf("attribute %s: %T, want binary", name, v)
	}
}

// setData stores the JSON of v in it's data attribute.
func setData(it item, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return errorf("encoding %T: %w", v, err)
	}
	it[attrData] = str(string(b))
	return nil
}

// dataOf decodes it's data attribute into v.
func dataOf(it item, v any) error {
	s, err := stringOf(it, attrData)
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return errorf("item %s/%s: decoding %T: %w", shown(keyText(it, attrPK)), keyText(it, attrSK), v, err)
	}
	return nil
}

// keyText returns the string attribute name of it, for error messages.
func keyText(it item, name string) string {
	if v, ok := it[name].(dynamodb.S); ok {
		return string(v)
	}
	return fmt.Sprintf("%v", it[name])
}
