// Tests of php-fpm's status page as read from its JSON.

package doctor

import (
	"slices"
	"strings"
	"testing"

	"fcgiscope/session"
)

func TestParseStatusPage(t *testing.T) {
	body := `{"pool":"www","process manager":"dynamic","start time":1700000000,"start since":3725,"accepted conn":12,` +
		`"processes":[{"pid":7,"state":"Idle","request duration":1500,"last request cpu":12.5,"last request memory":2097152},` +
		`{"pid":8,"state":"Running","extra":"x"}]}`
	st, err := ParseStatusPage([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range st.Pool {
		names = append(names, f.Name)
	}
	if strings.Join(names, ",") != "pool,process manager,start time,start since,accepted conn" {
		t.Errorf("pool fields %q", names)
	}
	if v, _ := st.Field("start since"); v != "1h2m5s" {
		t.Errorf("start since %q", v)
	}
	if st.Pool[2].Raw != "1700000000" || !strings.HasPrefix(st.Pool[2].Value, "2023-11-1") {
		t.Errorf("start time %+v", st.Pool[2])
	}
	wantCols := []string{"pid", "state", "request duration", "last request cpu", "last request memory", "extra"}
	if !slices.Equal(st.Columns, wantCols) {
		t.Fatalf("columns %q", st.Columns)
	}
	if got := st.Processes[0]; got[3] != "12.50 %" || got[4] != "2.0 MiB" || got[5] != "" {
		t.Errorf("process 1 %q", got)
	}
	if got := st.Processes[1]; got[0] != "8" || got[1] != "Running" || got[2] != "" || got[5] != "x" {
		t.Errorf("process 2 %q", got)
	}

	for _, bad := range []string{``, `[]`, `{"pool":"www"}`, `{"pool":"www","process manager":"static","processes":{}}`, `{"pool":`} {
		if _, err := ParseStatusPage([]byte(bad)); err == nil || !strings.HasPrefix(err.Error(), "session: php-fpm status") {
			t.Errorf("ParseStatusPage(%q) = %v", bad, err)
		}
	}
	if IsStatusPage(&session.HTTPResponse{Headers: []session.Header{{Name: "Content-Type", Value: "text/plain"}}, Body: []byte(body)}) {
		t.Error("a text/plain body taken for the status JSON")
	}
	if !IsStatusPage(&session.HTTPResponse{Headers: []session.Header{{Name: "content-type", Value: "application/json; charset=utf-8"}}, Body: []byte(body)}) {
		t.Error("the status JSON not recognised")
	}
}
