package infra_test

// These tests check the template's operations against the code: every
// alarm and dashboard graph names a metric that exists (one parley's code
// records, by name and dimensions, or one AWS records for a resource of
// the template), the functions deploy gradually and trace, and the
// published URLs compose as README says.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/parleyhq/parley/shared/config"
	"github.com/parleyhq/parley/shared/metrics"
)

type metricRef struct {
	Namespace  any
	MetricName string
	Dimensions []struct {
		Name  string
		Value any
	}
}

type alarm struct {
	Namespace  any
	MetricName string
	Dimensions []struct {
		Name  string
		Value any
	}
	Statistic          string
	ComparisonOperator string
	TreatMissingData   string
	AlarmActions       any
	OKActions          any
	Metrics            []struct {
		Id         string
		Expression string
		ReturnData *bool
		MetricStat *struct {
			Metric metricRef
			Stat   string
		}
	}
}

// metricsNamespace is the namespace the functions write their metrics to.
func metricsNamespace(t *testing.T, tmpl samTemplate) any {
	t.Helper()
	ns, ok := tmpl.Globals.Function.Environment.Variables[config.MetricsNamespace]
	if !ok {
		t.Fatalf("Globals set no %s: the functions would write no metrics", config.MetricsNamespace)
	}
	return ns
}

// recorded reports whether the code records the metric name: a constant of
// shared/metrics that a non-test file outside its declaration uses.
func recorded(t *testing.T, name string) bool {
	t.Helper()
	ident := ""
	for id, v := range metricConstants(t) {
		if v == name {
			ident = id
		}
	}
	if ident == "" {
		return false
	}
	found := false
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") ||
			strings.HasSuffix(p, filepath.Join("shared", "metrics", "metrics.go")) {
			return nil
		}
		b, _ := os.ReadFile(p)
		pat := `metrics\.` + ident + `\b`
		if strings.Contains(p, filepath.Join("shared", "metrics")) {
			pat = `\b` + ident + `\b`
		}
		if regexp.MustCompile(pat).Match(b) {
			found = true
		}
		return nil
	})
	return found
}

// metricConstants reads the metric name constants of shared/metrics.
func metricConstants(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "shared", "metrics", "metrics.go"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^\t(\w+)\s*=\s*"(\w+)"$`).FindAllStringSubmatch(string(b), -1) {
		if _, ok := metrics.Catalog[m[2]]; ok {
			out[m[1]] = m[2]
		}
	}
	return out
}

// checkMetric checks that one metric an alarm or a graph names exists.
func checkMetric(t *testing.T, tmpl samTemplate, where string, m metricRef) {
	t.Helper()
	dims := map[string]any{}
	for _, d := range m.Dimensions {
		dims[d.Name] = d.Value
	}
	resourceOf := func(v any, typ string) bool {
		var name string
		switch {
		case jsonEqual(v, ref(refName(v))):
			name = refName(v)
		default:
			if g, ok := v.(map[string]any)["Fn::GetAtt"].([]any); ok && len(g) == 2 {
				name, _ = g[0].(string)
			}
			// A function named by its FunctionName (a function with a
			// condition, whose alarm is there without it).
			if sub, ok := v.(map[string]any)["Fn::Sub"]; ok {
				for id, r := range tmpl.Resources {
					var props struct{ FunctionName any }
					json.Unmarshal(r.Properties, &props)
					if r.Type == typ && props.FunctionName != nil && jsonEqual(props.FunctionName, map[string]any{"Fn::Sub": sub}) {
						name = id
					}
				}
			}
		}
		r, ok := tmpl.Resources[name]
		return ok && r.Type == typ
	}
	switch ns := m.Namespace; {
	case jsonEqual(ns, metricsNamespace(t, tmpl)):
		want, ok := metrics.Catalog[m.MetricName]
		if !ok || !recorded(t, m.MetricName) {
			t.Errorf("%s: parley records no metric %s", where, m.MetricName)
			return
		}
		var names []string
		for n := range dims {
			names = append(names, n)
		}
		slices.Sort(names)
		sorted := slices.Sorted(slices.Values(want))
		if len(names) > 0 && !slices.Equal(names, sorted) {
			t.Errorf("%s: %s with dimensions %v; it is recorded with %v or none", where, m.MetricName, names, want)
		}
	case ns == "AWS/Lambda":
		if !slices.Contains([]string{"Errors", "Throttles"}, m.MetricName) || len(dims) != 1 || !resourceOf(dims["FunctionName"], "AWS::Serverless::Function") {
			t.Errorf("%s: AWS/Lambda %s %v: want Errors or Throttles of a function of the template", where, m.MetricName, dims)
		}
	case ns == "AWS/SQS":
		if m.MetricName != "ApproximateNumberOfMessagesVisible" || len(dims) != 1 || !resourceOf(dims["QueueName"], "AWS::SQS::Queue") {
			t.Errorf("%s: AWS/SQS %s %v: want the messages visible in a queue of the template", where, m.MetricName, dims)
		}
	case ns == "AWS/ApiGateway":
		if !slices.Contains([]string{"Count", "5xx"}, m.MetricName) || len(dims) != 1 || !resourceOf(dims["ApiId"], "AWS::Serverless::HttpApi") {
			t.Errorf("%s: AWS/ApiGateway %s %v: want Count or 5xx of the template's HTTP API", where, m.MetricName, dims)
		}
	default:
		t.Errorf("%s: namespace %v is neither parley's nor one of the services checked here", where, ns)
	}
}

func refName(v any) string {
	if m, ok := v.(map[string]any); ok {
		if s, ok := m["Ref"].(string); ok {
			return s
		}
	}
	return ""
}

func TestTemplateAlarms(t *testing.T) {
	tmpl := loadTemplate(t)
	alarms := resourcesOf[alarm](t, tmpl, "AWS::CloudWatch::Alarm")
	topic := map[string]any{"Fn::If": []any{"HasAlarmTopic", []any{ref("AlarmTopicArn")}, ref("AWS::NoValue")}}
	var watched []string
	for id, a := range alarms {
		if !jsonEqual(a.AlarmActions, topic) || !jsonEqual(a.OKActions, topic) {
			t.Errorf("%s: AlarmActions %v OKActions %v, want the AlarmTopicArn topic when set", id, a.AlarmActions, a.OKActions)
		}
		if a.TreatMissingData != "notBreaching" {
			t.Errorf("%s: TreatMissingData %q: no traffic is no failure", id, a.TreatMissingData)
		}
		if a.MetricName != "" {
			m := metricRef{Namespace: a.Namespace, MetricName: a.MetricName}
			for _, d := range a.Dimensions {
				m.Dimensions = append(m.Dimensions, struct {
					Name  string
					Value any
				}{d.Name, d.Value})
			}
			checkMetric(t, tmpl, id, m)
			watched = append(watched, a.MetricName)
			continue
		}
		if len(a.Metrics) == 0 {
			t.Errorf("%s watches no metric", id)
		}
		returned := 0
		for _, m := range a.Metrics {
			if m.ReturnData == nil || *m.ReturnData {
				returned++
			}
			if m.MetricStat != nil {
				checkMetric(t, tmpl, id+"."+m.Id, m.MetricStat.Metric)
				watched = append(watched, m.MetricStat.Metric.MetricName)
				continue
			}
			for _, ident := range regexp.MustCompile(`\b[a-z]\w*\b`).FindAllString(m.Expression, -1) {
				if !slices.ContainsFunc(a.Metrics, func(o struct {
					Id         string
					Expression string
					ReturnData *bool
					MetricStat *struct {
						Metric metricRef
						Stat   string
					}
				}) bool {
					return o.Id == ident
				}) {
					t.Errorf("%s: expression %q names %s, which is not one of its metrics", id, m.Expression, ident)
				}
			}
		}
		if returned != 1 {
			t.Errorf("%s: %d metrics return data, want the one expression", id, returned)
		}
	}
	// What the issue of operating parley asks to be alarmed on.
	for _, want := range []string{"Errors", "Throttles", "ApproximateNumberOfMessagesVisible", metrics.WebhookServerErrors,
		metrics.PlatformErrors, metrics.FallbackLag, "5xx", metrics.EventDeliveriesParked} {
		if !slices.Contains(watched, want) {
			t.Errorf("no alarm watches %s", want)
		}
	}
	queues := resourcesOf[json.RawMessage](t, tmpl, "AWS::SQS::Queue")
	for id := range queues {
		if !strings.HasSuffix(id, "DeadLetterQueue") {
			continue
		}
		if _, ok := alarms[id+"Alarm"]; !ok {
			t.Errorf("no alarm on the dead-letter queue %s", id)
		}
	}
	fns := resourcesOf[json.RawMessage](t, tmpl, "AWS::Serverless::Function")
	for id := range fns {
		if _, ok := alarms[strings.TrimSuffix(id, "Function")+"ErrorsAlarm"]; !ok {
			t.Errorf("no errors alarm for %s", id)
		}
	}
}

func TestTemplateDashboard(t *testing.T) {
	tmpl := loadTemplate(t)
	type dashboard struct{ DashboardBody map[string]string }
	boards := resourcesOf[dashboard](t, tmpl, "AWS::CloudWatch::Dashboard")
	if len(boards) != 1 {
		t.Fatalf("%d dashboards, want 1", len(boards))
	}
	nsSub, _ := metricsNamespace(t, tmpl).(map[string]any)["Fn::Sub"].(string)
	for id, b := range boards {
		body := b.DashboardBody["Fn::Sub"]
		// Every ${…} names a resource of the template or a pseudo
		// parameter; the metrics' namespace becomes a marker.
		body = strings.ReplaceAll(body, nsSub, "PARLEY_NS")
		body = regexp.MustCompile(`\$\{([\w:]+)(\.\w+)?\}`).ReplaceAllStringFunc(body, func(s string) string {
			name := regexp.MustCompile(`\$\{([\w:]+)`).FindStringSubmatch(s)[1]
			if _, ok := tmpl.Resources[name]; !ok && !strings.HasPrefix(name, "AWS::") {
				t.Errorf("%s: ${%s} names nothing in the template", id, name)
			}
			return "X"
		})
		var doc struct {
			Widgets []struct {
				Type       string
				Properties struct {
					Alarms  []string
					Metrics [][]any
				}
			}
		}
		if err := json.Unmarshal([]byte(body), &doc); err != nil {
			t.Fatalf("%s: the body is not JSON: %v", id, err)
		}
		var graphed []string
		for _, w := range doc.Widgets {
			for _, row := range w.Properties.Metrics {
				if len(row) == 1 {
					expr, _ := row[0].(map[string]any)["expression"].(string)
					m := regexp.MustCompile(`SEARCH\('\{PARLEY_NS,([\w,]+)\} MetricName="(\w+)"'`).FindStringSubmatch(expr)
					if m == nil {
						t.Errorf("%s: expression %q is not a search of parley's metrics", id, expr)
						continue
					}
					if want := metrics.Catalog[m[2]]; !slices.Equal(strings.Split(m[1], ","), want) || !recorded(t, m[2]) {
						t.Errorf("%s: searches %s by %s; it is recorded by %v", id, m[2], m[1], want)
					}
					graphed = append(graphed, m[2])
					continue
				}
				ns, _ := row[0].(string)
				if ns == "PARLEY_NS" {
					var names []string
					for i := 2; i+1 < len(row); i += 2 {
						if s, ok := row[i].(string); ok {
							names = append(names, s)
						}
					}
					name, _ := row[1].(string)
					want, ok := metrics.Catalog[name]
					if !ok || !recorded(t, name) || (len(names) > 0 && !isPrefixSet(names, want)) {
						t.Errorf("%s: graphs %s by %v; recorded: %v, dimensions %v", id, name, names, ok, want)
					}
					graphed = append(graphed, name)
				}
			}
		}
		for _, want := range []string{metrics.MessagesSent, metrics.MessagesReceived, metrics.MessagesFailed, metrics.WebhookLatency,
			metrics.PlatformLatency, metrics.PlatformErrors, metrics.FallbackLag, metrics.PayloadJobs,
			metrics.EventsDelivered, metrics.EventDeliveryFailures, metrics.EventDeliveriesParked, metrics.EventDeliveryLatency} {
			if !slices.Contains(graphed, want) {
				t.Errorf("%s: no graph of %s", id, want)
			}
		}
	}
}

// isPrefixSet: names is the whole recorded set (want), in any order.
func isPrefixSet(names, want []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(names)), slices.Sorted(slices.Values(want)))
}

func TestTemplateDeploys(t *testing.T) {
	tmpl := loadTemplate(t)
	var g struct {
		Tracing              string
		AutoPublishAlias     string
		DeploymentPreference struct{ Type string }
	}
	templatePart(t, &g, "Globals", "Function")
	if g.Tracing != "Active" || g.AutoPublishAlias == "" || !strings.HasPrefix(g.DeploymentPreference.Type, "Canary") {
		t.Errorf("Globals: Tracing %q, AutoPublishAlias %q, DeploymentPreference %q; want Active, an alias and a canary",
			g.Tracing, g.AutoPublishAlias, g.DeploymentPreference.Type)
	}
	type fn struct {
		DeploymentPreference         struct{ Alarms []any }
		ReservedConcurrentExecutions any
	}
	alarms := resourcesOf[json.RawMessage](t, tmpl, "AWS::CloudWatch::Alarm")
	for id, f := range resourcesOf[fn](t, tmpl, "AWS::Serverless::Function") {
		own := ref(strings.TrimSuffix(id, "Function") + "ErrorsAlarm")
		if !slices.ContainsFunc(f.DeploymentPreference.Alarms, func(a any) bool { return jsonEqual(a, own) }) {
			t.Errorf("%s: its deploy is not rolled back on its own errors alarm: %v", id, f.DeploymentPreference.Alarms)
		}
		for _, a := range f.DeploymentPreference.Alarms {
			if _, ok := alarms[refName(a)]; !ok {
				t.Errorf("%s: rolls back on %v, which is no alarm of the template", id, a)
			}
		}
		reserved := map[string]any{"Fn::If": []any{"HasWebhookReservation", ref("WebhookReservedConcurrency"), ref("AWS::NoValue")}}
		if id == "IngestFunction" && !jsonEqual(f.ReservedConcurrentExecutions, reserved) {
			t.Errorf("IngestFunction: ReservedConcurrentExecutions %v, want the WebhookReservedConcurrency parameter", f.ReservedConcurrentExecutions)
		}
	}
	type table struct{ DeletionProtectionEnabled bool }
	for id, tb := range resourcesOf[table](t, tmpl, "AWS::DynamoDB::Table") {
		if !tb.DeletionProtectionEnabled {
			t.Errorf("%s: no deletion protection", id)
		}
	}
}

// templatePart decodes the part of template.yaml at path (keys from the
// top) into v.
func templatePart(t *testing.T, v any, path ...string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	part := longForm(&doc)
	for _, k := range path {
		m, _ := part.(map[string]any)
		part = m[k]
	}
	js, _ := json.Marshal(part)
	if err := json.Unmarshal(js, v); err != nil {
		t.Fatalf("template.yaml %v: %v", path, err)
	}
}

// TestTemplateWebhookURLs: the outputs give the webhooks' base without a
// trailing slash (a Function URL ends in one) and the two URLs to register,
// each with a single slash before webhooks/, as README writes them.
func TestTemplateWebhookURLs(t *testing.T) {
	var outputs map[string]struct{ Value any }
	templatePart(t, &outputs, "Outputs")
	host := map[string]any{"Fn::Select": []any{2.0, map[string]any{"Fn::Split": []any{"/", map[string]any{"Fn::GetAtt": []any{"IngestFunctionUrl", "FunctionUrl"}}}}}}
	for name, want := range map[string]string{
		"WebhookUrl":         "https://${Host}",
		"WhatsAppWebhookUrl": "https://${Host}/webhooks/whatsapp",
		"AppleWebhookUrl":    "https://${Host}/webhooks/apple",
	} {
		sub, _ := outputs[name].Value.(map[string]any)["Fn::Sub"].([]any)
		if len(sub) != 2 || sub[0] != want || !jsonEqual(sub[1], map[string]any{"Host": host}) {
			t.Errorf("output %s = %v, want %s with Host the Function URL's host", name, outputs[name].Value, want)
		}
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`\S*(//webhooks|[^/\s]webhooks/(whatsapp|apple))\S*`).Find(readme); m != nil {
		t.Errorf("README composes a webhook URL without exactly one slash before webhooks/: %s", m)
	}
}

// TestSamconfigHasNoPlaceholders: a plain `sam deploy` cannot go out with
// a made-up secret ARN or MSP id; the parameters without a default must
// come from the operator (`sam deploy --guided`).
func TestSamconfigHasNoPlaceholders(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "samconfig.toml"))
	if err != nil {
		t.Fatal(err)
	}
	var params map[string]struct{ Default any }
	templatePart(t, &params, "Parameters")
	section := ""
	for line := range strings.SplitSeq(string(b), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			section = line
		}
		if section != "[default.deploy.parameters]" || !strings.HasPrefix(line, "parameter_overrides") {
			continue
		}
		for name, p := range params {
			if p.Default == nil && strings.Contains(line, name+"=") {
				t.Errorf("samconfig.toml deploys with %s set: a required parameter must come from the operator", name)
			}
		}
	}
	for _, name := range []string{"SecretsArn", "AppleMspId"} {
		if params[name].Default != nil {
			t.Errorf("parameter %s has a default; it must be given", name)
		}
	}
}
