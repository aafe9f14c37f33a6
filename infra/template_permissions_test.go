package infra_test

import (
	"encoding/json"
	"slices"
	"sort"
	"testing"
)

// TestTemplateMissingBlobsReadAsMissing: S3 answers a GET or HEAD of a
// key that does not exist 404 (NoSuchKey, NotFound) only to a caller that
// may also list the bucket; to any other it answers 403, as if access
// were denied. parley's reads tell a missing blob (store.ErrNotFound: a
// payload not fetched yet, an upload or a sealed key that is not there)
// from a failure, so every function that may read blobs must also hold
// s3:ListBucket on the bucket — or, on AWS, each of those checks fails
// for good (fetch would never fetch anything).
func TestTemplateMissingBlobsReadAsMissing(t *testing.T) {
	tmpl := loadTemplate(t)
	bucket := map[string]any{"Fn::GetAtt": []any{"Bucket", "Arn"}}
	readers := 0
	fns := resourcesOf[function](t, tmpl, "AWS::Serverless::Function")
	ids := make([]string, 0, len(fns))
	for id := range fns {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		reads, lists := false, false
		for _, p := range fns[id].Policies {
			var doc policyDocument
			b, _ := json.Marshal(p)
			if json.Unmarshal(b, &doc) != nil {
				continue
			}
			for _, s := range doc.Statement {
				if s.Effect != "Allow" {
					continue
				}
				var res any
				json.Unmarshal(s.Resource, &res)
				reads = reads || slices.Contains(s.Action, "s3:GetObject")
				lists = lists || slices.Contains(s.Action, "s3:ListBucket") && jsonEqual(res, bucket)
			}
		}
		if !reads {
			continue
		}
		readers++
		if !lists {
			t.Errorf("%s may read blobs but not list the bucket: a missing blob would read as 403 AccessDenied, not as missing", id)
		}
	}
	if readers == 0 {
		t.Fatal("no function reads blobs")
	}
}

// TestTemplateIngestMayBatchRead: ingest asks the store which statuses of
// a large delivery it stored already (store.ClaimChecker), a BatchGetItem
// on the table; without the permission DynamoDB refuses it
// (AccessDeniedException) and every redelivery stores each status again.
func TestTemplateIngestMayBatchRead(t *testing.T) {
	fn := resourcesOf[function](t, loadTemplate(t), "AWS::Serverless::Function")["IngestFunction"]
	table := map[string]any{"Fn::GetAtt": []any{"Table", "Arn"}}
	for _, p := range fn.Policies {
		var doc policyDocument
		b, _ := json.Marshal(p)
		if json.Unmarshal(b, &doc) != nil {
			continue
		}
		for _, s := range doc.Statement {
			var res oneOrManyAny
			json.Unmarshal(s.Resource, &res)
			if s.Effect == "Allow" && slices.Contains(s.Action, "dynamodb:BatchGetItem") && slices.ContainsFunc(res, func(r any) bool { return jsonEqual(r, table) }) {
				return
			}
		}
	}
	t.Error("IngestFunction may not BatchGetItem on the table")
}

// oneOrManyAny is an IAM Resource: one value or a list.
type oneOrManyAny []any

func (o *oneOrManyAny) UnmarshalJSON(b []byte) error {
	var many []any
	if json.Unmarshal(b, &many) == nil {
		*o = many
		return nil
	}
	var one any
	if err := json.Unmarshal(b, &one); err != nil {
		return err
	}
	*o = oneOrManyAny{one}
	return nil
}
