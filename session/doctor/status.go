// php-fpm's own pages: ready requests for its ping and status pages, and the
// status page's JSON read in order.

package doctor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"strconv"
	"strings"
	"time"

	"fcgiscope/fcgi"
	"fcgiscope/session"
)

// php-fpm's default paths for its own pages, as pools usually set them.
const (
	// PingPath is a usual ping.path; php-fpm answers "pong".
	PingPath = "/ping"
	// StatusPath is a usual pm.status_path.
	StatusPath = "/status"
	// StatusQuery asks the status page for every process, as JSON.
	StatusQuery = "full&json"
)

// PingInput is a ready request for php-fpm's ping page at path (empty:
// PingPath), sent to target. php-fpm matches ping.path against
// SCRIPT_NAME and answers "pong" without running a script, but only when
// SCRIPT_FILENAME is not empty (php-fpm 8.2 takes the request for a
// missing script otherwise): it is set to docRoot+path (docRoot empty:
// session.DefaultDocumentRoot); the file need not exist.
func PingInput(target, docRoot, path string) session.Input {
	if path == "" {
		path = PingPath
	}
	return pageInput(target, path, "", pageFilename(docRoot, path))
}

// StatusInput is a ready request for php-fpm's status page at path
// (empty: StatusPath) with ?full&json, sent to target. php-fpm matches
// pm.status_path against SCRIPT_NAME and answers only when SCRIPT_FILENAME
// is not empty: it is set to docRoot+path (docRoot empty:
// session.DefaultDocumentRoot); the file need not exist.
func StatusInput(target, docRoot, path string) session.Input {
	if path == "" {
		path = StatusPath
	}
	return pageInput(target, path, StatusQuery, pageFilename(docRoot, path))
}

// pageFilename is the SCRIPT_FILENAME sent for php-fpm's page at path.
func pageFilename(docRoot, path string) string {
	docRoot = strings.TrimSpace(docRoot)
	if docRoot == "" {
		docRoot = session.DefaultDocumentRoot
	}
	return strings.TrimRight(docRoot, "/") + path
}

// pageInput is a raw-mode GET of path?query with the CGI variables
// nginx sends and SCRIPT_FILENAME filename.
func pageInput(target, path, query, filename string) session.Input {
	uri := path
	if query != "" {
		uri += "?" + query
	}
	p := func(name, value string) session.RawParam {
		return session.RawParam{Name: name, Value: value, Enabled: true}
	}
	ps := []session.RawParam{
		p("GATEWAY_INTERFACE", "CGI/1.1"),
		p("SERVER_SOFTWARE", session.DefaultServerSoftware),
		p("SERVER_PROTOCOL", session.DefaultServerProtocol),
		p("SERVER_NAME", session.DefaultServerName),
		p("SERVER_PORT", "80"),
		p("REMOTE_ADDR", session.DefaultRemoteAddr),
		p("REQUEST_METHOD", "GET"),
		p("REQUEST_URI", uri),
		p("DOCUMENT_URI", path),
		p("SCRIPT_NAME", path),
		p("QUERY_STRING", query),
		p("SCRIPT_FILENAME", filename),
	}
	return session.Input{Mode: session.ModeRaw, Target: target, Role: fcgi.RoleResponder, Params: ps}
}

// StatusField is one field of php-fpm's status page.
type StatusField struct {
	// Name is the field's name as php-fpm spells it, e.g. "accepted conn".
	Name string
	// Value is the value made readable: times as dates, durations with a
	// unit, memory in bytes.
	Value string
	// Raw is the value as the JSON had it (strings unquoted).
	Raw string
}

// StatusPage is php-fpm's status page (pm.status_path?json, with &full for
// the processes), in the order php-fpm writes its fields.
type StatusPage struct {
	// Pool holds the pool-wide fields: pool, process manager, accepted
	// conn, listen queue, …
	Pool []StatusField
	// Columns name the fields of a process (full only): pid, state, …
	Columns []string
	// Processes holds one row per process, a readable value per column.
	Processes [][]string
}

// Field returns the readable value of the pool field called name.
func (s *StatusPage) Field(name string) (string, bool) {
	for _, f := range s.Pool {
		if f.Name == name {
			return f.Value, true
		}
	}
	return "", false
}

// errNotStatusPage: the JSON is not php-fpm's status page.
var errNotStatusPage = errors.New("not php-fpm's status page (no \"pool\" and \"process manager\" fields)")

// ParseStatusPage reads the JSON of php-fpm's status page. It keeps the
// order of the fields, which encoding/json's maps would lose.
func ParseStatusPage(body []byte) (*StatusPage, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := expectDelim(dec, '{'); err != nil {
		return nil, fmt.Errorf("session: php-fpm status: %w", err)
	}
	st := &StatusPage{}
	for dec.More() {
		name, err := objectKey(dec)
		if err != nil {
			return nil, fmt.Errorf("session: php-fpm status: %w", err)
		}
		if name == "processes" {
			if err := st.readProcesses(dec); err != nil {
				return nil, fmt.Errorf("session: php-fpm status: processes: %w", err)
			}
			continue
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("session: php-fpm status: field %q: %w", name, err)
		}
		st.Pool = append(st.Pool, StatusField{Name: name, Raw: rawText(raw), Value: fieldValue(name, raw)})
	}
	_, hasPool := st.Field("pool")
	_, hasPM := st.Field("process manager")
	if !hasPool || !hasPM {
		return nil, fmt.Errorf("session: php-fpm status: %w", errNotStatusPage)
	}
	return st, nil
}

// readProcesses reads the processes array: objects with the same fields.
func (s *StatusPage) readProcesses(dec *json.Decoder) error {
	if err := expectDelim(dec, '['); err != nil {
		return err
	}
	for dec.More() {
		if err := expectDelim(dec, '{'); err != nil {
			return err
		}
		row := make([]string, len(s.Columns))
		for dec.More() {
			name, err := objectKey(dec)
			if err != nil {
				return err
			}
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return fmt.Errorf("process %d, field %q: %w", len(s.Processes)+1, name, err)
			}
			col := -1
			for i, c := range s.Columns {
				if c == name {
					col = i
					break
				}
			}
			if col < 0 {
				// A field the earlier processes did not have: a new column.
				s.Columns = append(s.Columns, name)
				for i := range s.Processes {
					s.Processes[i] = append(s.Processes[i], "")
				}
				row = append(row, "")
				col = len(s.Columns) - 1
			}
			row[col] = fieldValue(name, raw)
		}
		if err := expectDelim(dec, '}'); err != nil {
			return err
		}
		s.Processes = append(s.Processes, row)
	}
	return expectDelim(dec, ']')
}

func expectDelim(dec *json.Decoder, d json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("expected %q, the JSON ends", d)
		}
		return err
	}
	if got, ok := tok.(json.Delim); !ok || got != d {
		return fmt.Errorf("expected %q, found %v", d, tok)
	}
	return nil
}

func objectKey(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	name, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("expected a field name, found %v", tok)
	}
	return name, nil
}

// rawText returns a JSON scalar as text: strings unquoted, others as written.
func rawText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// fieldValue makes the value of the status field called name readable.
func fieldValue(name string, raw json.RawMessage) string {
	text := rawText(raw)
	n, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return text
	}
	switch name {
	case "start time":
		return time.Unix(int64(n), 0).Format("2006-01-02 15:04:05")
	case "start since":
		return (time.Duration(n) * time.Second).String()
	case "request duration": // microseconds
		return session.FormatDuration(time.Duration(n) * time.Microsecond)
	case "last request memory", "memory peak":
		return session.FormatBytes(int64(n))
	case "last request cpu":
		return strconv.FormatFloat(n, 'f', 2, 64) + " %"
	}
	return text
}

// IsStatusPage reports whether resp looks like php-fpm's status page as
// JSON: a JSON body with php-fpm's pool fields.
func IsStatusPage(resp *session.HTTPResponse) bool {
	if resp == nil || len(resp.Body) == 0 {
		return false
	}
	ct, _ := resp.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	if mt != "application/json" {
		return false
	}
	_, err := ParseStatusPage(resp.Body)
	return err == nil
}
