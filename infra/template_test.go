package infra_test

// These tests check what the code relies on in template.yaml, which
// cfn-lint cannot know: every function's handler, runtime, architecture and
// build target, the environment variables each function's configuration
// reads (no more, no less),
// the table's keys, and who may call what.

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/parleyhq/parley/shared/config"
)

const root = ".." // the repository root, from infra/

type samTemplate struct {
	Transform string
	Globals   struct {
		Function struct {
			Environment environment
		}
	}
	Resources map[string]resource
}

type resource struct {
	Type       string
	Metadata   map[string]any
	Properties json.RawMessage
}

type environment struct {
	Variables map[string]any
}

type function struct {
	Handler           string
	Runtime           string
	Architectures     []string
	CodeUri           any
	Environment       environment
	FunctionUrlConfig *struct{ AuthType string }
	Policies          []map[string]json.RawMessage
	Events            map[string]struct {
		Type       string
		Properties struct {
			ApiId  any
			Method string
			Path   string
		}
	}
}

type policyDocument struct {
	Statement []statement
}

type statement struct {
	Sid      string
	Effect   string
	Action   oneOrMany
	Resource json.RawMessage
}

// oneOrMany is an IAM field that is a string or a list of strings.
type oneOrMany []string

func (o *oneOrMany) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*o = oneOrMany{one}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(o))
}

// loadTemplate reads template.yaml in its JSON form.
func loadTemplate(t *testing.T) samTemplate {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	js, err := json.Marshal(longForm(&doc))
	if err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	var tmpl samTemplate
	if err := json.Unmarshal(js, &tmpl); err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	if tmpl.Transform != "AWS::Serverless-2016-10-31" {
		t.Fatalf("Transform %q, want AWS::Serverless-2016-10-31", tmpl.Transform)
	}
	return tmpl
}

// longForm converts a CloudFormation YAML node to plain values, writing
// the short-form intrinsic functions (!Ref, !GetAtt, !Sub…) in their long,
// JSON form.
func longForm(n *yaml.Node) any {
	switch n.Kind {
	case yaml.DocumentNode:
		return longForm(n.Content[0])
	case yaml.AliasNode:
		return longForm(n.Alias)
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		untagged := *n
		untagged.Tag = ""
		v := longForm(&untagged)
		switch name := n.Tag[1:]; name {
		case "Ref":
			return map[string]any{"Ref": v}
		case "GetAtt":
			if s, ok := v.(string); ok {
				resource, attr, _ := strings.Cut(s, ".")
				v = []any{resource, attr}
			}
			return map[string]any{"Fn::GetAtt": v}
		default:
			return map[string]any{"Fn::" + name: v}
		}
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = longForm(n.Content[i+1])
		}
		return m
	case yaml.SequenceNode:
		s := make([]any, len(n.Content))
		for i, c := range n.Content {
			s[i] = longForm(c)
		}
		return s
	default:
		var v any
		if err := n.Decode(&v); err != nil {
			return n.Value
		}
		return v
	}
}

// resourcesOf returns the template's resources of type typ, decoding
// their properties into T.
func resourcesOf[T any](t *testing.T, tmpl samTemplate, typ string) map[string]T {
	t.Helper()
	out := map[string]T{}
	for id, r := range tmpl.Resources {
		if r.Type != typ {
			continue
		}
		var props T
		if err := json.Unmarshal(r.Properties, &props); err != nil {
			t.Fatalf("%s: Properties: %v", id, err)
		}
		out[id] = props
	}
	return out
}

// makeRecipe returns the recipe of target in the Makefile.
func makeRecipe(t *testing.T, target string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for i, line := range lines {
		if !strings.HasPrefix(line, target+":") {
			continue
		}
		var recipe []string
		for _, l := range lines[i+1:] {
			if !strings.HasPrefix(l, "\t") {
				break
			}
			recipe = append(recipe, l)
		}
		return strings.Join(recipe, "\n")
	}
	t.Errorf("Makefile has no %s target, which sam build runs", target)
	return ""
}

func ref(name string) map[string]any { return map[string]any{"Ref": name} }

func TestTemplateFunctions(t *testing.T) {
	tmpl := loadTemplate(t)
	fns := resourcesOf[function](t, tmpl, "AWS::Serverless::Function")
	for _, want := range []string{"IngestFunction", "SendFunction", "FallbackFunction", "FetchFunction", "DecodeFunction", "WebhookFunction"} {
		if _, ok := fns[want]; !ok {
			t.Errorf("no %s in the template", want)
		}
	}
	// The settings of the local stack and tests alone, which a deployment
	// never has: a local AWS endpoint, and callers' URLs in plain http to
	// loopback addresses. Every other setting is the template's.
	unset := []string{config.AWSEndpoint, config.FetchLocal}

	// A global setting reaches every function: each must read it.
	for k := range tmpl.Globals.Function.Environment.Variables {
		for name, read := range config.Functions {
			if k != config.SecretsARN && !slices.Contains(config.Reads(read), k) {
				t.Errorf("the global environment variable %s reaches functions/%s, which does not read it: set it on the functions that do", k, name)
			}
		}
	}
	for id, fn := range fns {
		t.Run(id, func(t *testing.T) {
			if fn.Handler != "bootstrap" || fn.Runtime != "provided.al2023" || !slices.Equal(fn.Architectures, []string{"arm64"}) {
				t.Errorf("Handler %q, Runtime %q, Architectures %v; want bootstrap, provided.al2023, [arm64]", fn.Handler, fn.Runtime, fn.Architectures)
			}
			if got := tmpl.Resources[id].Metadata["BuildMethod"]; got != "makefile" {
				t.Errorf("Metadata.BuildMethod %v, want makefile", got)
			}
			if fn.CodeUri != "." {
				t.Errorf("CodeUri %v, want . (the repository root, where the Makefile is)", fn.CodeUri)
			}

			name := strings.ToLower(strings.TrimSuffix(id, "Function"))
			recipe := makeRecipe(t, "build-"+id)
			for _, want := range []string{"./functions/" + name, "$(ARTIFACTS_DIR)/bootstrap", "GOOS=linux", "GOARCH=arm64"} {
				if recipe != "" && !regexp.MustCompile(`(^|\s)`+regexp.QuoteMeta(want)+`(\s|$)`).MatchString(recipe) {
					t.Errorf("Makefile build-%s does not mention %s:\n%s", id, want, recipe)
				}
			}
			if _, err := os.Stat(filepath.Join(root, "functions", name, "main.go")); err != nil {
				t.Errorf("the function's code: %v", err)
			}

			read, ok := config.Functions[name]
			if !ok {
				t.Fatalf("config.Functions has no reader for %s", name)
			}
			// The function's settings, the global ones with its own, are
			// exactly what it reads.
			reads := config.Reads(read)
			env := maps.Clone(tmpl.Globals.Function.Environment.Variables)
			for k, v := range fn.Environment.Variables {
				env[k] = v
			}
			want := []string{config.SecretsARN}
			for _, k := range reads {
				if !slices.Contains(config.SecretNames, k) && !slices.Contains(unset, k) {
					want = append(want, k)
				}
			}
			slices.Sort(want)
			if got := slices.Sorted(maps.Keys(env)); !slices.Equal(got, want) {
				t.Errorf("environment %v, want the settings the function reads: %v", got, want)
			}
			for k := range env {
				if slices.Contains(config.SecretNames, k) {
					t.Errorf("environment variable %s is a secret: it belongs in the secret %s names", k, config.SecretsARN)
				}
			}

			canReadSecret := false
			for i, p := range fn.Policies {
				if _, ok := p["Statement"]; !ok {
					t.Errorf("Policies[%d] is not a policy document: write the statements out", i)
					continue
				}
				var doc policyDocument
				b, _ := json.Marshal(p)
				if err := json.Unmarshal(b, &doc); err != nil {
					t.Errorf("Policies[%d]: %v", i, err)
					continue
				}
				for _, s := range doc.Statement {
					var res any
					json.Unmarshal(s.Resource, &res)
					if s.Effect == "Allow" && slices.Contains(s.Action, "secretsmanager:GetSecretValue") && jsonEqual(res, ref("SecretsArn")) {
						canReadSecret = true
					}
				}
			}
			if !canReadSecret {
				t.Error("no statement allows secretsmanager:GetSecretValue on the SecretsArn parameter")
			}
		})
	}
}

func TestTemplateTable(t *testing.T) {
	type keyElement struct{ AttributeName, KeyType string }
	type table struct {
		BillingMode            string
		AttributeDefinitions   []struct{ AttributeName, AttributeType string }
		KeySchema              []keyElement
		GlobalSecondaryIndexes []struct {
			IndexName  string
			KeySchema  []keyElement
			Projection struct{ ProjectionType string }
		}
		TimeToLiveSpecification struct {
			AttributeName string
			Enabled       bool
		}
	}
	tmpl := loadTemplate(t)
	tables := resourcesOf[table](t, tmpl, "AWS::DynamoDB::Table")
	tbl, ok := tables["Table"]
	if !ok || len(tables) != 1 {
		t.Fatalf("tables %v, want one named Table", slices.Collect(maps.Keys(tables)))
	}
	if !jsonEqual(tmpl.Globals.Function.Environment.Variables[config.Table], ref("Table")) {
		t.Errorf("%s is %v, want a Ref to Table", config.Table, tmpl.Globals.Function.Environment.Variables[config.Table])
	}
	if tbl.BillingMode != "PAY_PER_REQUEST" {
		t.Errorf("BillingMode %q, want PAY_PER_REQUEST", tbl.BillingMode)
	}
	if want := []keyElement{{"PK", "HASH"}, {"SK", "RANGE"}}; !slices.Equal(tbl.KeySchema, want) {
		t.Errorf("KeySchema %v, want %v", tbl.KeySchema, want)
	}
	wantIndexes := []string{"GSI1 GSI1PK/HASH GSI1SK/RANGE ALL", "GSI2 GSI2PK/HASH GSI2SK/RANGE ALL"}
	var indexes []string
	for _, gsi := range tbl.GlobalSecondaryIndexes {
		ks := []string{}
		for _, k := range gsi.KeySchema {
			ks = append(ks, k.AttributeName+"/"+k.KeyType)
		}
		indexes = append(indexes, gsi.IndexName+" "+strings.Join(ks, " ")+" "+gsi.Projection.ProjectionType)
	}
	slices.Sort(indexes)
	if !slices.Equal(indexes, wantIndexes) {
		t.Errorf("global secondary indexes %q, want %q", indexes, wantIndexes)
	}
	types := map[string]string{}
	for _, a := range tbl.AttributeDefinitions {
		types[a.AttributeName] = a.AttributeType
	}
	for _, k := range []string{"PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK"} {
		if types[k] != "S" {
			t.Errorf("attribute %s has type %q, want S", k, types[k])
		}
	}
	if ttl := tbl.TimeToLiveSpecification; ttl.AttributeName != "expiresAt" || !ttl.Enabled {
		t.Errorf("TTL on %q (enabled %v), want on expiresAt", ttl.AttributeName, ttl.Enabled)
	}
}

func TestTemplateAccess(t *testing.T) {
	type httpAPI struct {
		Auth struct {
			EnableIamAuthorizer bool
			DefaultAuthorizer   string
		}
	}
	tmpl := loadTemplate(t)
	apis := resourcesOf[httpAPI](t, tmpl, "AWS::Serverless::HttpApi")
	if len(apis) != 1 {
		t.Fatalf("%d HTTP APIs, want 1", len(apis))
	}
	var apiID string
	for id, api := range apis {
		apiID = id
		if !api.Auth.EnableIamAuthorizer || api.Auth.DefaultAuthorizer != "AWS_IAM" {
			t.Errorf("%s: Auth %+v, want IAM auth by default", id, api.Auth)
		}
	}

	fns := resourcesOf[function](t, tmpl, "AWS::Serverless::Function")
	var routes []string
	for _, ev := range fns["SendFunction"].Events {
		if ev.Type != "HttpApi" || !jsonEqual(ev.Properties.ApiId, ref(apiID)) {
			t.Errorf("SendFunction event %s %v, want an HttpApi event on %s", ev.Type, ev.Properties.ApiId, apiID)
		}
		routes = append(routes, ev.Properties.Method+" "+ev.Properties.Path)
	}
	slices.Sort(routes)
	want := []string{
		"DELETE /v1/messages/{id}",
		"GET /v1/conversations/{channel}/{businessId}/{customerId}",
		"GET /v1/events",
		"GET /v1/messages/{id}",
		"GET /v1/messages/{id}/media",
		"POST /v1/messages",
		"POST /v1/uploads",
	}
	if !slices.Equal(routes, want) {
		t.Errorf("send API routes %q, want %q", routes, want)
	}

	for id, fn := range fns {
		switch {
		case id == "IngestFunction" && (fn.FunctionUrlConfig == nil || fn.FunctionUrlConfig.AuthType != "NONE"):
			t.Errorf("IngestFunction FunctionUrlConfig %+v, want AuthType NONE: platforms cannot sign AWS requests", fn.FunctionUrlConfig)
		case id != "IngestFunction" && fn.FunctionUrlConfig != nil:
			t.Errorf("%s has a function URL; only the webhooks are public", id)
		}
	}
}

func TestTemplatePoliciesGrantNoWildcards(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	found := 0
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if stmts, ok := v["Statement"].([]any); ok {
				for i, s := range stmts {
					found++
					checkStatement(t, path+".Statement["+strconv.Itoa(i)+"]", s)
				}
			}
			for k, c := range v {
				walk(path+"."+k, c)
			}
		case []any:
			for i, c := range v {
				walk(path+"["+strconv.Itoa(i)+"]", c)
			}
		}
	}
	walk("template", longForm(&doc))
	if found == 0 {
		t.Fatal("no policy statements found")
	}
}

// checkStatement fails the test if an Allow statement grants every action,
// every action of a service, or on every resource.
func checkStatement(t *testing.T, path string, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	var s statement
	if err := json.Unmarshal(b, &s); err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	if s.Effect != "Allow" {
		return
	}
	for _, a := range s.Action {
		if a == "*" || strings.HasSuffix(a, ":*") {
			t.Errorf("%s (%s) allows %s", path, s.Sid, a)
		}
	}
	var resources oneOrMany
	if json.Unmarshal(s.Resource, &resources) == nil && slices.Contains(resources, "*") {
		t.Errorf("%s (%s) allows on every resource", path, s.Sid)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// TestTemplateBucketLifecycle checks that what parley writes for a while
// expires: uploads for attachments after a day, like the sealed auth keys.
func TestTemplateBucketLifecycle(t *testing.T) {
	type bucket struct {
		LifecycleConfiguration struct {
			Rules []struct {
				Prefix           string
				Status           string
				ExpirationInDays any
			}
		}
	}
	buckets := resourcesOf[bucket](t, loadTemplate(t), "AWS::S3::Bucket")
	expiry := map[string]any{}
	for _, r := range buckets["Bucket"].LifecycleConfiguration.Rules {
		if r.Status == "Enabled" && r.Prefix != "" {
			expiry[r.Prefix] = r.ExpirationInDays
		}
	}
	for _, prefix := range []string{"uploads/", "auth-keys/"} {
		if !jsonEqual(expiry[prefix], 1) {
			t.Errorf("objects under %s expire after %v days, want 1", prefix, expiry[prefix])
		}
	}
}
