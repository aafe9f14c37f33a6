package store

import (
	"context"
	"strings"

	"github.com/parleyhq/parley/shared/message"
)

// ResolveConversation returns the conversation k names. Under an alias
// (one id of a WhatsApp customer whose conversation is kept under another,
// see FieldAliasOf) it returns the state written there, which ingest
// mirrors from every message of the customer, with CustomerID set to the
// conversation's key and AliasOf to the id read; under a parent
// business-scoped id ("CC.ENT.…"), which messages need not name, it reads
// the conversation itself. ErrNotFound when neither exists.
func ResolveConversation(ctx context.Context, s Store, k ConversationKey) (message.Conversation, error) {
	c, err := s.Conversation(ctx, k)
	if err != nil || c.AliasOf == "" {
		return c, err
	}
	if strings.Contains(k.CustomerID, ".ENT.") {
		target, err := s.Conversation(ctx, ConversationKey{Channel: k.Channel, BusinessID: k.BusinessID, CustomerID: c.AliasOf})
		if err == nil && target.AliasOf == "" {
			target.AliasOf = k.CustomerID
			return target, nil
		}
	}
	c.CustomerID, c.AliasOf = c.AliasOf, k.CustomerID
	return c, nil
}
