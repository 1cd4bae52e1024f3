package harness

import (
	"maps"
	"testing"
)

func TestParseDBOpsReadsTheCountPerKind(t *testing.T) {
	t.Parallel()
	page := `# HELP paypage_db_query_duration_seconds Database round trips by kind
# TYPE paypage_db_query_duration_seconds histogram
paypage_db_query_duration_seconds_bucket{op="query",le="0.0005"} 3
paypage_db_query_duration_seconds_sum{op="query"} 0.25
paypage_db_query_duration_seconds_count{op="query"} 1234
paypage_db_query_duration_seconds_count{op="exec"} 56
paypage_db_query_duration_seconds_count{op="begin"} 7
paypage_db_query_duration_seconds_count{op="commit"} 7
paypage_http_request_duration_seconds_count{method="GET",route="/pay/:id",code="2xx"} 99
`
	got, err := parseDBOps([]byte(page))
	want := map[string]float64{"query": 1234, "exec": 56, "begin": 7, "commit": 7}
	if err != nil || !maps.Equal(got, want) {
		t.Fatalf("got %v (%v), want %v", got, err, want)
	}
	if _, err := parseDBOps([]byte("go_goroutines 8\n")); err == nil {
		t.Fatal("a page without the database's counts was taken for zero round trips")
	}
}
