package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/parleyhq/parley/shared/awsapi/dynamodb"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store"
)

// maxTransactItems is DynamoDB's limit on the items of one transaction.
const maxTransactItems = 100

// What a failed condition of a transaction item means.
type onFail int

const (
	noCondition onFail = iota
	failDuplicate
	failConflict
	// failStale: a forward-only update found the item already further on;
	// the write is dropped and the rest of the batch written without it.
	failStale
	// failPending: an outbound message's platform id has pending statuses
	// the writer did not apply.
	failPending
	// failRecorded: a pending status's message is recorded.
	failRecorded
)

// batch is an Apply batch on its way to one TransactWriteItems request.
type batch struct {
	table string
	now   dynamodb.AttributeValue // the clock in epoch nanoseconds
	// shards is how many partitions the event log and the due index
	// are written over.
	shards int
	items  []dynamodb.TransactWriteItem
	// Per item: what a failed condition means, and what it is, for errors.
	fails []onFail
	names []string
}

// Conditions of the puts. An expired item counts as absent.
const (
	condAbsent  = "attribute_not_exists(#pk) OR #exp <= :now"
	condVersion = "#v = :prev"
)

func (b *batch) put(what string, it item, fail onFail, cond string, prev int64) {
	p := &dynamodb.Put{TableName: b.table, Item: it}
	switch cond {
	case condAbsent:
		p.ConditionExpression = cond
		p.ExpressionAttributeNames = map[string]string{"#pk": attrPK, "#exp": attrExpiresAtNs}
		p.ExpressionAttributeValues = item{":now": b.now}
	case condVersion:
		p.ConditionExpression = cond
		p.ExpressionAttributeNames = map[string]string{"#v": attrVersion}
		p.ExpressionAttributeValues = item{":prev": num(prev)}
	}
	b.add(what, dynamodb.TransactWriteItem{Put: p}, fail)
}

// putVersioned puts it if the stored item has version prev (0: none alive).
func (b *batch) putVersioned(what string, it item, prev int64) {
	if prev == 0 {
		b.put(what, it, failConflict, condAbsent, 0)
	} else {
		b.put(what, it, failConflict, condVersion, prev)
	}
}

func (b *batch) add(what string, ti dynamodb.TransactWriteItem, fail onFail) {
	b.items = append(b.items, ti)
	b.fails = append(b.fails, fail)
	b.names = append(b.names, what)
}

// Apply writes all of ws in one TransactWriteItems request; see store.Store.
func (s *Store) Apply(ctx context.Context, ws ...store.Write) error {
	if len(ws) == 0 {
		return nil
	}
	b := &batch{table: s.table, now: num(s.clock.Now().UnixNano()), shards: s.shards}
	for _, w := range ws {
		if err := b.write(w); err != nil {
			return err
		}
	}
	if len(b.items) > maxTransactItems {
		return errorf("apply: %d writes make %d items, the limit is %d", len(ws), len(b.items), maxTransactItems)
	}
	if err := b.distinct(); err != nil {
		return err
	}
	// A forward-only update that finds its item further on is dropped and
	// the batch sent again: each round drops at least one, so this ends.
	for {
		s.writes.Add(1)
		err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: b.items}, retryConflicts)
		err = b.outcome(err)
		var st staleItems
		if !errors.As(err, &st) {
			return err
		}
		b.drop(st)
		if len(b.items) == 0 {
			return nil
		}
	}
}

// touch adds the forward-only updates of a conversation: its inbound
// register (with the window), its close and its capabilities, each
// written only when it is later than what the item holds.
func (b *batch) touch(t store.TouchConversation) {
	pk := conversationPK(t.Key)
	if !t.InboundAt.IsZero() {
		set := map[string]dynamodb.AttributeValue{}
		if t.Window > 0 {
			set[attrWindowClosesAt] = num(t.InboundAt.Add(t.Window).UnixNano())
		}
		b.forward("conversation "+shown(pk), key(pk, skConversation), t.InboundAt, t.Retention, set)
	}
	if !t.ClosedAt.IsZero() {
		b.forward("close of "+shown(pk), key(pk, skClosed), t.ClosedAt, t.Retention, nil)
	}
	if len(t.Capabilities) > 0 {
		caps := make([]dynamodb.AttributeValue, len(t.Capabilities))
		for i, c := range t.Capabilities {
			caps[i] = str(c)
		}
		b.forward("capabilities of "+shown(pk), key(pk, skCapabilities), t.At(), t.Retention,
			map[string]dynamodb.AttributeValue{attrCapabilities: dynamodb.L(caps)})
	}
	r := t.Routing
	for _, f := range store.RoutingFields(&r) {
		if *f.Value != "" {
			b.forward(f.Name+" of "+pk, key(pk, skRouting+f.Name), t.At(), t.Retention,
				map[string]dynamodb.AttributeValue{attrValue: str(*f.Value)})
		}
	}
	names := make([]string, 0, len(t.Fields))
	for name, v := range t.Fields {
		if v != "" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		b.forward(name+" of "+pk, key(pk, skField+name), t.At(), t.Retention,
			map[string]dynamodb.AttributeValue{attrValue: str(t.Fields[name])})
	}
}

// forward updates the item k to the register time at (and set) if its
// register is not later (absent, earlier or the same); it then expires retention after at.
func (b *batch) forward(what string, k item, at time.Time, retention time.Duration, set map[string]dynamodb.AttributeValue) {
	names := map[string]string{"#at": attrAt}
	values := item{":at": num(at.UnixNano())}
	expr := "SET #at = :at"
	if set == nil {
		set = map[string]dynamodb.AttributeValue{}
	}
	exp := item{}
	setExpiry(exp, at.Add(retention))
	for name, v := range exp {
		set[name] = v
	}
	i := 0
	for _, name := range []string{attrWindowClosesAt, attrCapabilities, attrValue, attrExpiresAt, attrExpiresAtNs} {
		v, ok := set[name]
		if !ok {
			continue
		}
		i++
		names[fmt.Sprintf("#a%d", i)] = name
		values[fmt.Sprintf(":a%d", i)] = v
		expr += fmt.Sprintf(", #a%d = :a%d", i, i)
	}
	b.add(what, dynamodb.TransactWriteItem{Update: &dynamodb.Update{
		TableName: b.table, Key: k, UpdateExpression: expr,
		ConditionExpression:       "attribute_not_exists(#at) OR #at <= :at",
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}}, failStale)
}

// staleItems are the indexes of the forward-only updates of a batch that
// found their items further on.
type staleItems []int

func (staleItems) Error() string {
	return "dynamo: apply: forward-only updates found their items further on"
}

// drop removes the items st names.
func (b *batch) drop(st staleItems) {
	gone := map[int]bool{}
	for _, i := range st {
		gone[i] = true
	}
	var items []dynamodb.TransactWriteItem
	var fails []onFail
	var names []string
	for i := range b.items {
		if !gone[i] {
			items, fails, names = append(items, b.items[i]), append(fails, b.fails[i]), append(names, b.names[i])
		}
	}
	b.items, b.fails, b.names = items, fails, names
}

// write adds the items of w to the batch.
func (b *batch) write(w store.Write) error {
	switch w := w.(type) {
	case store.Claim:
		if w.Key == "" {
			return errorf("apply: claim: empty key")
		}
		it := key(w.Key, skClaim)
		setExpiry(it, w.ExpiresAt)
		if w.Owner != "" {
			it[attrOwner] = str(w.Owner)
		}
		b.put("claim "+w.Key, it, failDuplicate, condAbsent, 0)

	case store.TouchConversation:
		b.touch(w)

	case store.PutMessage:
		m := w.Message
		if m.ID == "" {
			return errorf("apply: message: empty id")
		}
		it := key(messagePK(m.ID), skMessage)
		it[attrGSI1PK] = str(conversationPK(store.ConversationKey{Channel: m.Channel, BusinessID: m.BusinessID, CustomerID: m.CustomerID}))
		it[attrGSI1SK] = str(recentSK(m))
		if err := setData(it, m); err != nil {
			return err
		}
		it[attrVersion] = num(m.Version)
		setExpiry(it, w.ExpiresAt)
		b.putVersioned("message "+m.ID, it, w.PrevVersion)
		if m.PlatformMessageID != "" {
			idx := key(platformIDPK(m.Channel, m.PlatformMessageID), skPlatformID)
			idx[attrMessageID] = str(m.ID)
			setExpiry(idx, w.ExpiresAt)
			if m.Direction != message.Outbound {
				b.put("platform id "+m.PlatformMessageID, idx, noCondition, "", 0)
				break
			}
			// Replacing the item removes its pending statuses: only
			// when the writer applied all of them.
			b.add("platform id "+m.PlatformMessageID, dynamodb.TransactWriteItem{Put: &dynamodb.Put{
				TableName: b.table, Item: idx,
				ConditionExpression:       "attribute_not_exists(#pc) OR #pc = :n OR #exp <= :now",
				ExpressionAttributeNames:  map[string]string{"#pc": attrPendingCount, "#exp": attrExpiresAtNs},
				ExpressionAttributeValues: item{":n": num(int64(w.Pending)), ":now": b.now},
			}}, failPending)
		}

	case store.PendStatus:
		if w.PlatformMessageID == "" {
			return errorf("apply: pending status: empty platform id")
		}
		doc, err := json.Marshal(w.Status)
		if err != nil {
			return errorf("encoding a pending status: %w", err)
		}
		exp := item{}
		setExpiry(exp, w.ExpiresAt)
		b.add("pending status of "+w.PlatformMessageID, dynamodb.TransactWriteItem{Update: &dynamodb.Update{
			TableName:           b.table,
			Key:                 key(platformIDPK(w.Channel, w.PlatformMessageID), skPlatformID),
			UpdateExpression:    "SET #p = list_append(if_not_exists(#p, :empty), :s), #pc = if_not_exists(#pc, :zero) + :one, #e = :e, #exp = :expns REMOVE #mid",
			ConditionExpression: "attribute_not_exists(#mid) OR #exp <= :now",
			ExpressionAttributeNames: map[string]string{"#p": attrPending, "#pc": attrPendingCount, "#e": attrExpiresAt,
				"#exp": attrExpiresAtNs, "#mid": attrMessageID},
			ExpressionAttributeValues: item{":empty": dynamodb.L{},
				":s": dynamodb.L{str(string(doc))}, ":zero": num(0), ":one": num(1),
				":e": exp[attrExpiresAt], ":expns": exp[attrExpiresAtNs], ":now": b.now},
		}}, failRecorded)

	case store.AppendEvent:
		if w.Event.ID == "" {
			return errorf("apply: event: empty id")
		}
		it := key(shardOf(pkEvents, w.Event.ID, b.shards), w.Event.ID)
		if err := setData(it, w.Event); err != nil {
			return err
		}
		setExpiry(it, w.ExpiresAt)
		b.put("event "+w.Event.ID, it, noCondition, "", 0)

	case store.CreateIdempotency:
		it, err := idempotencyItem(w.Idempotency)
		if err != nil {
			return err
		}
		b.put("idempotency key "+w.Idempotency.Key, it, failDuplicate, condAbsent, 0)

	case store.PutIdempotency:
		it, err := idempotencyItem(w.Idempotency)
		if err != nil {
			return err
		}
		b.put("idempotency key "+w.Idempotency.Key, it, noCondition, "", 0)

	case store.DeleteIdempotency:
		if w.Key == "" {
			return errorf("apply: idempotency: empty key")
		}
		d := &dynamodb.Delete{TableName: b.table, Key: key(idempotencyPK(w.Key), skIdempotency)}
		fail := noCondition
		if w.Lease != "" {
			// Only this lease's claim: absent, expired or ours.
			d.ConditionExpression = "attribute_not_exists(#pk) OR #exp <= :now OR #lease = :lease"
			d.ExpressionAttributeNames = map[string]string{"#pk": attrPK, "#exp": attrExpiresAtNs, "#lease": attrLease}
			d.ExpressionAttributeValues = item{":now": b.now, ":lease": str(w.Lease)}
			fail = failConflict
		}
		b.add("idempotency key "+w.Key, dynamodb.TransactWriteItem{Delete: d}, fail)

	case store.PutScheduled:
		sc := w.Item
		if sc.ID == "" {
			return errorf("apply: scheduled item: empty id")
		}
		it := key(scheduledPK(sc.ID), skScheduled)
		it[attrGSI2PK] = str(shardOf(pkDue, sc.ID, b.shards))
		it[attrGSI2SK] = str(dueSK(sc.DueAt, sc.ID))
		if err := setData(it, sc); err != nil {
			return err
		}
		it[attrVersion] = num(sc.Version)
		setExpiry(it, sc.ExpiresAt)
		b.putVersioned("scheduled item "+sc.ID, it, w.PrevVersion)

	case store.PutPayment:
		p := w.State
		if p.MessageID == "" {
			return errorf("apply: payment: empty message id")
		}
		it := key(paymentPK(p.MessageID), skPayment)
		if err := setData(it, p); err != nil {
			return err
		}
		it[attrVersion] = num(p.Version)
		setExpiry(it, p.ExpiresAt)
		if w.PrevVersion == 0 {
			b.put("payment of "+p.MessageID, it, failConflict, condAbsent, 0)
			break
		}
		// The version, of a state that has not expired: an expired one
		// counts as absent.
		b.add("payment of "+p.MessageID, dynamodb.TransactWriteItem{Put: &dynamodb.Put{
			TableName:                 b.table,
			Item:                      it,
			ConditionExpression:       "#v = :prev AND (attribute_not_exists(#exp) OR #exp > :now)",
			ExpressionAttributeNames:  map[string]string{"#v": attrVersion, "#exp": attrExpiresAtNs},
			ExpressionAttributeValues: item{":prev": num(w.PrevVersion), ":now": b.now},
		}}, failConflict)

	case store.DeleteScheduled:
		if w.ID == "" {
			return errorf("apply: scheduled item: empty id")
		}
		b.add("scheduled item "+w.ID, dynamodb.TransactWriteItem{Delete: &dynamodb.Delete{
			TableName:                 b.table,
			Key:                       key(scheduledPK(w.ID), skScheduled),
			ConditionExpression:       "#v = :prev AND (attribute_not_exists(#exp) OR #exp > :now)",
			ExpressionAttributeNames:  map[string]string{"#v": attrVersion, "#exp": attrExpiresAtNs},
			ExpressionAttributeValues: item{":prev": num(w.PrevVersion), ":now": b.now},
		}}, failConflict)

	default:
		return errorf("apply: unknown write %T", w)
	}
	return nil
}

func idempotencyItem(i store.Idempotency) (item, error) {
	if i.Key == "" {
		return nil, errorf("apply: idempotency: empty key")
	}
	it := key(idempotencyPK(i.Key), skIdempotency)
	it[attrRequestHash] = str(i.RequestHash)
	if i.Lease != "" {
		it[attrLease] = str(i.Lease)
	}
	it[attrMessageID] = str(i.MessageID)
	it[attrStatus] = num(int64(i.Status))
	if len(i.Answer) > 0 {
		it[attrAnswer] = dynamodb.B(i.Answer)
	}
	setExpiry(it, i.ExpiresAt)
	return it, nil
}

// distinct refuses a batch that writes one item twice, which DynamoDB
// refuses too, with a less helpful message.
func (b *batch) distinct() error {
	seen := make(map[[2]string]string, len(b.items))
	for i, ti := range b.items {
		var it item
		switch {
		case ti.Put != nil:
			it = ti.Put.Item
		case ti.Delete != nil:
			it = ti.Delete.Key
		case ti.Update != nil:
			it = ti.Update.Key
		}
		k := [2]string{keyText(it, attrPK), keyText(it, attrSK)}
		if first, ok := seen[k]; ok {
			return errorf("apply: %s and %s write the same item; a batch writes each item once", first, b.names[i])
		}
		seen[k] = b.names[i]
	}
	return nil
}

// outcome maps the error of TransactWriteItems to the store's errors.
func (b *batch) outcome(err error) error {
	if err == nil {
		return nil
	}
	reasons, ok := dynamodb.CancellationReasons(err)
	if !ok {
		return errorf("apply: %w", err)
	}
	var duplicate, conflict, pending, recorded string
	var stale staleItems
	for i, r := range reasons {
		if i >= len(b.fails) {
			break
		}
		switch r.Code {
		case "ConditionalCheckFailed":
			switch b.fails[i] {
			case failDuplicate:
				if duplicate == "" {
					duplicate = b.names[i]
				}
			case failConflict:
				if conflict == "" {
					conflict = b.names[i]
				}
			case failStale:
				stale = append(stale, i)
			case failPending:
				pending = b.names[i]
			case failRecorded:
				recorded = b.names[i]
			default:
				if conflict == "" {
					conflict = b.names[i]
				}
			}
		case "TransactionConflict":
			if conflict == "" {
				conflict = b.names[i]
			}
		}
	}
	switch {
	case duplicate != "":
		return fmt.Errorf("dynamo: apply: %s: %w", duplicate, store.ErrDuplicate)
	case conflict != "":
		return fmt.Errorf("dynamo: apply: %s: %w", conflict, store.ErrConflict)
	case recorded != "":
		return fmt.Errorf("dynamo: apply: %s: %w", recorded, store.ErrRecorded)
	case pending != "":
		return fmt.Errorf("dynamo: apply: %s: %w", pending, store.ErrPending)
	case len(stale) > 0:
		return stale
	}
	return errorf("apply: %w", err)
}
