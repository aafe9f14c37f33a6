package lambdaemu

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// ReadEnvFile reads the environment of function from an env file in
// either of two forms:
//
//   - JSON, as `sam local invoke --env-vars` takes it: {"Parameters": {…},
//     "<LogicalId>": {…}}, where Parameters applies to every function and a
//     function's own object wins over it; values are strings, numbers or
//     booleans;
//   - dotenv: KEY=VALUE lines, # comments and blank lines ignored, a value
//     optionally in double or single quotes.
//
// It returns KEY=VALUE entries sorted by key.
func ReadEnvFile(path, function string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	vals := map[string]string{}
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		var doc map[string]map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			return nil, fmt.Errorf("lambdaemu: %s: not the JSON of sam local invoke --env-vars ({\"Parameters\": {…}, \"<LogicalId>\": {…}}): %w", path, err)
		}
		for _, section := range []string{"Parameters", function} {
			for k, v := range doc[section] {
				switch v := v.(type) {
				case string:
					vals[k] = v
				case float64:
					vals[k] = strconv.FormatFloat(v, 'f', -1, 64)
				case bool:
					vals[k] = strconv.FormatBool(v)
				default:
					return nil, fmt.Errorf("lambdaemu: %s: %s.%s must be a string, a number or a boolean", path, section, k)
				}
			}
		}
	} else {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
			if !ok || strings.TrimSpace(k) == "" {
				return nil, fmt.Errorf("lambdaemu: %s:%d: want KEY=VALUE", path, n)
			}
			v = strings.TrimSpace(v)
			if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
				v = v[1 : len(v)-1]
			}
			vals[strings.TrimSpace(k)] = v
		}
	}
	out := make([]string, 0, len(vals))
	for k, v := range vals {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out, nil
}
