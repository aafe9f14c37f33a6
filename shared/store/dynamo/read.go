package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/parleyhq/parley/shared/awsapi/dynamodb"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store"
)

// Conversation returns the conversation of k, reading its conversation and
// window items with one Query; see store.Store.
func (s *Store) Conversation(ctx context.Context, k store.ConversationKey) (message.Conversation, error) {
	pk := conversationPK(k)
	s.reads.Add(1)
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 s.table,
		KeyConditionExpression:    "#pk = :pk",
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK},
		ExpressionAttributeValues: item{":pk": str(pk)},
		ConsistentRead:            true,
	})
	if err != nil {
		return message.Conversation{}, errorf("conversation %s: %w", shown(pk), err)
	}
	now := s.clock.Now()
	var st store.ConversationState
	found := false
	for _, it := range out.Items {
		ok, err := alive(it, now)
		if err != nil {
			return message.Conversation{}, err
		}
		if !ok {
			continue
		}
		at, err := numberOf(it, attrAt)
		if err != nil {
			return message.Conversation{}, err
		}
		exp, err := expiry(it)
		if err != nil {
			return message.Conversation{}, err
		}
		if exp.After(st.ExpiresAt) {
			st.ExpiresAt = exp
		}
		switch keyText(it, attrSK) {
		case skConversation:
			if _, ok := it[attrAt]; !ok {
				// Written before conversations had registers: the
				// document holds them.
				var c message.Conversation
				if err := dataOf(it, &c); err != nil {
					return message.Conversation{}, err
				}
				st.LastInboundAt, st.Capabilities, st.Routing = c.LastInboundAt, c.Capabilities, c.Routing
				if c.Closed {
					st.ClosedAt = c.ClosedAt
				}
				found = true
				continue
			}
			st.LastInboundAt = time.Unix(0, at).UTC()
			win, err := numberOf(it, attrWindowClosesAt)
			if err != nil {
				return message.Conversation{}, err
			}
			if win > 0 {
				st.WindowClosesAt = time.Unix(0, win).UTC()
			}
		case skClosed:
			st.ClosedAt = time.Unix(0, at).UTC()
		case skCapabilities:
			l, ok := it[attrCapabilities].(dynamodb.L)
			if !ok {
				return message.Conversation{}, errorf("conversation %s: capabilities: %T, want a list", shown(pk), it[attrCapabilities])
			}
			st.Capabilities = make([]string, 0, len(l))
			for _, v := range l {
				if sv, ok := v.(dynamodb.S); ok {
					st.Capabilities = append(st.Capabilities, string(sv))
				}
			}
			st.CapabilitiesAt = time.Unix(0, at).UTC()
		default:
			sk := keyText(it, attrSK)
			if name, ok := strings.CutPrefix(sk, skField); ok {
				v, err := stringOf(it, attrValue)
				if err != nil {
					return message.Conversation{}, err
				}
				if st.Fields == nil {
					st.Fields = map[string]string{}
				}
				st.Fields[name] = v
				break
			}
			name, ok := strings.CutPrefix(sk, skRouting)
			if !ok {
				continue
			}
			v, err := stringOf(it, attrValue)
			if err != nil {
				return message.Conversation{}, err
			}
			for _, f := range store.RoutingFields(&st.Routing) {
				if f.Name == name {
					*f.Value = v
				}
			}
		}
		found = true
	}
	if !found {
		return message.Conversation{}, notFound(nil, "conversation "+pk)
	}
	return st.Conversation(k, now), nil
}

// Message returns the message with parley id id; see store.Store.
func (s *Store) Message(ctx context.Context, id string) (message.Record, error) {
	it, err := s.get(ctx, messagePK(id), skMessage)
	if err != nil {
		return message.Record{}, err
	}
	var r message.Record
	if err := dataOf(it, &r); err != nil {
		return message.Record{}, err
	}
	return r, nil
}

// MessageByPlatformID returns the message a platform knows by pid: one read
// of the platform id item, one of the message; see store.Store.
func (s *Store) MessageByPlatformID(ctx context.Context, ch message.Channel, pid string) (message.Record, error) {
	idx, err := s.get(ctx, platformIDPK(ch, pid), skPlatformID)
	if err != nil {
		return message.Record{}, err
	}
	id, err := stringOf(idx, attrMessageID)
	if err != nil {
		return message.Record{}, err
	}
	if id == "" {
		// Only pending statuses so far.
		return message.Record{}, fmt.Errorf("dynamo: platform id %s %s: %w", ch, pid, store.ErrNotFound)
	}
	r, err := s.Message(ctx, id)
	if err != nil {
		return message.Record{}, err
	}
	// The message may have changed its platform id since the index item
	// was written.
	if r.Channel != ch || r.PlatformMessageID != pid {
		return message.Record{}, fmt.Errorf("dynamo: platform id %s %s: %w", ch, pid, store.ErrNotFound)
	}
	return r, nil
}

// PendingStatuses reads the platform id item's pending statuses; see
// store.Store.
func (s *Store) PendingStatuses(ctx context.Context, ch message.Channel, pid string) ([]store.PendingStatus, error) {
	idx, err := s.get(ctx, platformIDPK(ch, pid), skPlatformID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	l, _ := idx[attrPending].(dynamodb.L)
	if l == nil {
		return nil, nil
	}
	out := make([]store.PendingStatus, 0, len(l))
	for _, v := range l {
		sv, ok := v.(dynamodb.S)
		if !ok {
			return nil, errorf("platform id %s %s: a pending status is %T, want a string", ch, pid, v)
		}
		var ps store.PendingStatus
		if err := json.Unmarshal([]byte(sv), &ps); err != nil {
			return nil, errorf("platform id %s %s: a pending status: %w", ch, pid, err)
		}
		out = append(out, ps)
	}
	return out, nil
}

// RecentMessages returns up to limit live messages of the conversation k,
// newest first, from GSI1; see store.Store.
func (s *Store) RecentMessages(ctx context.Context, k store.ConversationKey, limit int) ([]message.Record, error) {
	pk := conversationPK(k)
	its, err := s.query(ctx, limit, &dynamodb.QueryInput{
		TableName:                s.table,
		IndexName:                indexGSI1,
		KeyConditionExpression:   "#pk = :pk",
		ExpressionAttributeNames: map[string]string{"#pk": attrGSI1PK},
		ExpressionAttributeValues: item{
			":pk": str(pk),
		},
		ScanIndexForward: new(false),
	})
	if err != nil {
		return nil, errorf("recent messages of %s: %w", shown(pk), err)
	}
	var rs []message.Record
	for _, it := range its {
		var r message.Record
		if err := dataOf(it, &r); err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	return rs, nil
}

// Events returns up to limit live events with ids greater than after,
// oldest first; see store.Store.
func (s *Store) Events(ctx context.Context, after string, limit int) ([]message.Event, error) {
	its, err := s.merged(ctx, limit, attrSK, func(i int) *dynamodb.QueryInput {
		in := &dynamodb.QueryInput{
			TableName:                 s.table,
			KeyConditionExpression:    "#pk = :pk",
			ExpressionAttributeNames:  map[string]string{"#pk": attrPK},
			ExpressionAttributeValues: item{":pk": str(shardKey(pkEvents, i))},
			ConsistentRead:            true,
		}
		if after != "" {
			in.KeyConditionExpression = "#pk = :pk AND #sk > :after"
			in.ExpressionAttributeNames["#sk"] = attrSK
			in.ExpressionAttributeValues[":after"] = str(after)
		}
		return in
	})
	if err != nil {
		return nil, errorf("events after %q: %w", after, err)
	}
	var evs []message.Event
	for _, it := range its {
		var e message.Event
		if err := dataOf(it, &e); err != nil {
			return nil, err
		}
		evs = append(evs, e)
	}
	return evs, nil
}

// Idempotency returns the state of an idempotency key; see store.Store.
func (s *Store) Idempotency(ctx context.Context, key string) (store.Idempotency, error) {
	it, err := s.get(ctx, idempotencyPK(key), skIdempotency)
	if err != nil {
		return store.Idempotency{}, err
	}
	i := store.Idempotency{Key: key}
	if i.RequestHash, err = stringOf(it, attrRequestHash); err != nil {
		return store.Idempotency{}, err
	}
	if i.MessageID, err = stringOf(it, attrMessageID); err != nil {
		return store.Idempotency{}, err
	}
	if i.Lease, err = stringOf(it, attrLease); err != nil {
		return store.Idempotency{}, err
	}
	status, err := numberOf(it, attrStatus)
	if err != nil {
		return store.Idempotency{}, err
	}
	i.Status = int(status)
	if i.Answer, err = bytesOf(it, attrAnswer); err != nil {
		return store.Idempotency{}, err
	}
	if i.ExpiresAt, err = expiry(it); err != nil {
		return store.Idempotency{}, err
	}
	return i, nil
}

// Payment returns the state of the Apple Pay request of message id; see
// store.Store.
func (s *Store) Payment(ctx context.Context, id string) (store.Payment, error) {
	it, err := s.get(ctx, paymentPK(id), skPayment)
	if err != nil {
		return store.Payment{}, err
	}
	var p store.Payment
	if err := dataOf(it, &p); err != nil {
		return store.Payment{}, err
	}
	return p, nil
}

// Scheduled returns the scheduled item with id id; see store.Store.
func (s *Store) Scheduled(ctx context.Context, id string) (store.Scheduled, error) {
	it, err := s.get(ctx, scheduledPK(id), skScheduled)
	if err != nil {
		return store.Scheduled{}, err
	}
	var sc store.Scheduled
	if err := dataOf(it, &sc); err != nil {
		return store.Scheduled{}, err
	}
	return sc, nil
}

// DueItems reads GSI2 from cursor (exclusive) to before; see store.Store.
// A cursor is the GSI2SK of the last item returned; the next page starts
// just after it.
func (s *Store) DueItems(ctx context.Context, before time.Time, limit int, cursor string) ([]store.Scheduled, string, error) {
	// The space sorts below every character of a due key, so that
	// cursor+" " is after cursor and before anything that follows it (and
	// " " before every key).
	from := cursor + " "
	its, err := s.merged(ctx, limit, attrGSI2SK, func(i int) *dynamodb.QueryInput {
		return &dynamodb.QueryInput{
			TableName:                s.table,
			IndexName:                indexGSI2,
			KeyConditionExpression:   "#pk = :pk AND #sk BETWEEN :from AND :to",
			ExpressionAttributeNames: map[string]string{"#pk": attrGSI2PK, "#sk": attrGSI2SK},
			ExpressionAttributeValues: item{
				":pk":   str(shardKey(pkDue, i)),
				":from": str(from),
				":to":   str(before.UTC().Format(createdAtLayout)),
			},
		}
	})
	if err != nil {
		return nil, "", errorf("due items before %s: %w", before.Format(time.RFC3339), err)
	}
	var out []store.Scheduled
	next := ""
	for _, it := range its {
		var sc store.Scheduled
		if err := dataOf(it, &sc); err != nil {
			return nil, "", err
		}
		out = append(out, sc)
		next = keyText(it, attrGSI2SK)
	}
	return out, next, nil
}

// merged runs the query of every shard (in(i) for shard i), each for up to
// limit items in its sort order, and returns the first limit of all of
// them by the attribute sk: every shard is in order, so these are the
// first limit of the whole.
func (s *Store) merged(ctx context.Context, limit int, sk string, in func(i int) *dynamodb.QueryInput) ([]item, error) {
	var all []item
	for i := range s.shards {
		its, err := s.query(ctx, limit, in(i))
		if err != nil {
			return nil, err
		}
		all = append(all, its...)
	}
	if s.shards > 1 {
		slices.SortFunc(all, func(a, b item) int { return strings.Compare(keyText(a, sk), keyText(b, sk)) })
	}
	return all[:min(len(all), limit)], nil
}

// get reads one item with a strongly consistent GetItem; ErrNotFound when
// it is absent or expired.
func (s *Store) get(ctx context.Context, pk, sk string) (item, error) {
	s.reads.Add(1)
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      s.table,
		Key:            key(pk, sk),
		ConsistentRead: true,
	})
	if err != nil {
		return nil, errorf("get %s/%s: %w", shown(pk), sk, err)
	}
	if ok, err := alive(out.Item, s.clock.Now()); err != nil || !ok {
		return nil, notFound(err, pk)
	}
	return out.Item, nil
}

// query runs in, page after page, until it has limit live items or none
// are left. Expired items are filtered out by DynamoDB, but still count
// against a page's Limit, hence the loop.
func (s *Store) query(ctx context.Context, limit int, in *dynamodb.QueryInput) ([]item, error) {
	if limit <= 0 {
		return nil, nil
	}
	in.FilterExpression = "attribute_not_exists(#exp) OR #exp > :now"
	in.ExpressionAttributeNames["#exp"] = attrExpiresAtNs
	in.ExpressionAttributeValues[":now"] = num(s.clock.Now().UnixNano())
	var its []item
	for {
		in.Limit = int32(min(limit-len(its), 1000))
		s.reads.Add(1)
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, err
		}
		its = append(its, out.Items...)
		if len(its) >= limit || len(out.LastEvaluatedKey) == 0 {
			return its[:min(len(its), limit)], nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// notFound returns err if there is one, else ErrNotFound naming what.
func notFound(err error, what string) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("dynamo: %s: %w", what, store.ErrNotFound)
}

// batchGetLimit is how many keys one BatchGetItem takes.
const batchGetLimit = 100

// ClaimOwner returns the owner of the live claim under key (one strongly
// consistent read); see store.ClaimOwners.
func (s *Store) ClaimOwner(ctx context.Context, key string) (string, error) {
	it, err := s.get(ctx, key, skClaim)
	if err != nil {
		return "", err
	}
	return stringOf(it, attrOwner)
}

// Claimed reports which of keys name a live claim (store.ClaimChecker),
// reading them a hundred at a time with BatchGetItem (consistent reads)
// and asking again for what DynamoDB leaves unprocessed.
func (s *Store) Claimed(ctx context.Context, keys []string) (map[string]bool, error) {
	now := s.clock.Now()
	claimed := map[string]bool{}
	uniq := slices.Clone(keys)
	slices.Sort(uniq)
	uniq = slices.Compact(uniq)
	for chunk := range slices.Chunk(uniq, batchGetLimit) {
		req := dynamodb.KeysAndAttributes{ConsistentRead: true}
		for _, k := range chunk {
			req.Keys = append(req.Keys, key(k, skClaim))
		}
		pending := map[string]dynamodb.KeysAndAttributes{s.table: req}
		for len(pending) > 0 {
			s.reads.Add(1)
			out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
			if err != nil {
				return nil, errorf("claimed: %w", err)
			}
			for _, it := range out.Responses[s.table] {
				ok, err := alive(it, now)
				if err != nil {
					return nil, errorf("claimed: %w", err)
				}
				if pk, err := stringOf(it, attrPK); err == nil && ok {
					claimed[pk] = true
				}
			}
			pending = out.UnprocessedKeys
			if len(pending) > 0 {
				select {
				case <-ctx.Done():
					return nil, errorf("claimed: %w", ctx.Err())
				case <-time.After(50 * time.Millisecond):
				}
			}
		}
	}
	return claimed, nil
}
