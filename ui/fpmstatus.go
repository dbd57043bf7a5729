// php-fpm helpers: ready requests for php-fpm's own ping and status pages, and the status page's JSON as tables.

package ui

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

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/fcgi"
	"fcgiscope/session"
)

// php-fpm's default paths for its own pages, as pools usually set them.
const (
	// FPMPingPath is a usual ping.path; php-fpm answers "pong".
	FPMPingPath = "/ping"
	// FPMStatusPath is a usual pm.status_path.
	FPMStatusPath = "/status"
	// FPMStatusQuery asks the status page for every process, as JSON.
	FPMStatusQuery = "full&json"
)

// FPMPingInput is a ready request for php-fpm's ping page at path (empty:
// FPMPingPath), sent to target. php-fpm matches ping.path against
// SCRIPT_NAME and answers "pong" without running a script, but only when
// SCRIPT_FILENAME is not empty (php-fpm 8.2 takes the request for a
// missing script otherwise): it is set to docRoot+path (docRoot empty:
// DefaultDocumentRoot); the file need not exist.
func FPMPingInput(target, docRoot, path string) session.Input {
	if path == "" {
		path = FPMPingPath
	}
	return fpmPageInput(target, path, "", fpmFilename(docRoot, path))
}

// FPMStatusInput is a ready request for php-fpm's status page at path
// (empty: FPMStatusPath) with ?full&json, sent to target. php-fpm matches
// pm.status_path against SCRIPT_NAME and answers only when SCRIPT_FILENAME
// is not empty: it is set to docRoot+path (docRoot empty:
// DefaultDocumentRoot); the file need not exist.
func FPMStatusInput(target, docRoot, path string) session.Input {
	if path == "" {
		path = FPMStatusPath
	}
	return fpmPageInput(target, path, FPMStatusQuery, fpmFilename(docRoot, path))
}

// fpmFilename is the SCRIPT_FILENAME sent for php-fpm's page at path.
func fpmFilename(docRoot, path string) string {
	docRoot = strings.TrimSpace(docRoot)
	if docRoot == "" {
		docRoot = DefaultDocumentRoot
	}
	return strings.TrimRight(docRoot, "/") + path
}

// fpmPageInput is a raw-mode GET of path?query with the CGI variables
// nginx sends and SCRIPT_FILENAME filename.
func fpmPageInput(target, path, query, filename string) session.Input {
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

// FPMField is one field of php-fpm's status page.
type FPMField struct {
	// Name is the field's name as php-fpm spells it, e.g. "accepted conn".
	Name string
	// Value is the value made readable: times as dates, durations with a
	// unit, memory in bytes.
	Value string
	// Raw is the value as the JSON had it (strings unquoted).
	Raw string
}

// FPMStatus is php-fpm's status page (pm.status_path?json, with &full for
// the processes), in the order php-fpm writes its fields.
type FPMStatus struct {
	// Pool holds the pool-wide fields: pool, process manager, accepted
	// conn, listen queue, …
	Pool []FPMField
	// Columns name the fields of a process (full only): pid, state, …
	Columns []string
	// Processes holds one row per process, a readable value per column.
	Processes [][]string
}

// Field returns the readable value of the pool field called name.
func (s *FPMStatus) Field(name string) (string, bool) {
	for _, f := range s.Pool {
		if f.Name == name {
			return f.Value, true
		}
	}
	return "", false
}

// errNotFPMStatus: the JSON is not php-fpm's status page.
var errNotFPMStatus = errors.New("not php-fpm's status page (no \"pool\" and \"process manager\" fields)")

// ParseFPMStatus reads the JSON of php-fpm's status page. It keeps the
// order of the fields, which encoding/json's maps would lose.
func ParseFPMStatus(body []byte) (*FPMStatus, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := expectDelim(dec, '{'); err != nil {
		return nil, fmt.Errorf("ui: php-fpm status: %w", err)
	}
	st := &FPMStatus{}
	for dec.More() {
		name, err := objectKey(dec)
		if err != nil {
			return nil, fmt.Errorf("ui: php-fpm status: %w", err)
		}
		if name == "processes" {
			if err := st.readProcesses(dec); err != nil {
				return nil, fmt.Errorf("ui: php-fpm status: processes: %w", err)
			}
			continue
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("ui: php-fpm status: field %q: %w", name, err)
		}
		st.Pool = append(st.Pool, FPMField{Name: name, Raw: rawText(raw), Value: fpmValue(name, raw)})
	}
	_, hasPool := st.Field("pool")
	_, hasPM := st.Field("process manager")
	if !hasPool || !hasPM {
		return nil, fmt.Errorf("ui: php-fpm status: %w", errNotFPMStatus)
	}
	return st, nil
}

// readProcesses reads the processes array: objects with the same fields.
func (s *FPMStatus) readProcesses(dec *json.Decoder) error {
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
			row[col] = fpmValue(name, raw)
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

// fpmValue makes the value of the status field called name readable.
func fpmValue(name string, raw json.RawMessage) string {
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
		return formatDuration(time.Duration(n) * time.Microsecond)
	case "last request memory", "memory peak":
		return formatBytes(int64(n))
	case "last request cpu":
		return strconv.FormatFloat(n, 'f', 2, 64) + " %"
	}
	return text
}

// IsFPMStatus reports whether resp looks like php-fpm's status page as
// JSON: a JSON body with php-fpm's pool fields.
func IsFPMStatus(resp *session.HTTPResponse) bool {
	if resp == nil || len(resp.Body) == 0 {
		return false
	}
	ct, _ := resp.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	if mt != "application/json" {
		return false
	}
	_, err := ParseFPMStatus(resp.Body)
	return err == nil
}

// FPMStatusView shows php-fpm's status page: the pool's fields as a
// two-column table, and the processes (status?full) as a table of their own.
type FPMStatusView struct {
	status  *FPMStatus
	pool    *widget.Table
	procs   *widget.Table
	content fyne.CanvasObject
}

// NewFPMStatusView builds the view of st.
func NewFPMStatusView(st *FPMStatus) *FPMStatusView {
	v := &FPMStatusView{status: st}
	v.pool = widget.NewTable(
		func() (int, int) { return len(st.Pool), 2 },
		func() fyne.CanvasObject { return &widget.Label{Truncation: fyne.TextTruncateEllipsis} },
		func(id widget.TableCellID, o fyne.CanvasObject) {
			l := o.(*widget.Label)
			f := st.Pool[id.Row]
			if id.Col == 0 {
				l.TextStyle.Bold = true
				l.SetText(f.Name)
			} else {
				l.TextStyle.Bold = false
				l.SetText(f.Value)
			}
		})
	v.procs = widget.NewTable(
		func() (int, int) { return len(st.Processes), len(st.Columns) },
		func() fyne.CanvasObject { return &widget.Label{Truncation: fyne.TextTruncateEllipsis} },
		func(id widget.TableCellID, o fyne.CanvasObject) {
			o.(*widget.Label).SetText(st.Processes[id.Row][id.Col])
		})
	v.procs.ShowHeaderRow = true
	v.procs.CreateHeader = func() fyne.CanvasObject {
		return &widget.Label{TextStyle: fyne.TextStyle{Bold: true}, Truncation: fyne.TextTruncateEllipsis}
	}
	v.procs.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 && id.Col < len(st.Columns) {
			o.(*widget.Label).SetText(st.Columns[id.Col])
		}
	}
	v.sizeColumns()

	poolName, _ := st.Field("pool")
	pm, _ := st.Field("process manager")
	title := sectionTitle(fmt.Sprintf("Pool %s · %s", poolName, pm))
	poolPane := container.NewBorder(title, nil, nil, nil, v.pool)
	var procPane fyne.CanvasObject
	if len(st.Columns) == 0 {
		procPane = container.NewCenter(wrapLabel("No processes in this answer: ask for status?full&json to list them.", widget.LowImportance))
	} else {
		procPane = container.NewBorder(sectionTitle(fmt.Sprintf("Processes (%d)", len(st.Processes))), nil, nil, nil, v.procs)
	}
	split := container.NewHSplit(poolPane, procPane)
	split.Offset = 0.3
	v.content = split
	return v
}

// sizeColumns gives each column the width of its widest text.
func (v *FPMStatusView) sizeColumns() {
	th := theme.Current()
	measure := func(s string, bold bool) float32 {
		return fyne.MeasureText(s, th.Size(theme.SizeNameText), fyne.TextStyle{Bold: bold}).Width +
			2*th.Size(theme.SizeNameInnerPadding) + th.Size(theme.SizeNamePadding)
	}
	var nameW, valueW float32
	for _, f := range v.status.Pool {
		nameW = max(nameW, measure(f.Name, true))
		valueW = max(valueW, measure(f.Value, false))
	}
	v.pool.SetColumnWidth(0, nameW)
	v.pool.SetColumnWidth(1, max(valueW, 80))
	for c, name := range v.status.Columns {
		w := measure(name, true)
		for _, row := range v.status.Processes {
			w = max(w, measure(row[c], false))
		}
		v.procs.SetColumnWidth(c, min(w, 360))
	}
}

// Content returns the view's canvas object.
func (v *FPMStatusView) Content() fyne.CanvasObject { return v.content }

// Status returns the status shown.
func (v *FPMStatusView) Status() *FPMStatus { return v.status }

// ShowFPMStatus shows php-fpm's status page body as tables in a dialog on
// win; a body that is not the status JSON shows the reason instead.
func ShowFPMStatus(win fyne.Window, body []byte) dialog.Dialog {
	st, err := ParseFPMStatus(body)
	if err != nil {
		d := dialog.NewError(fmt.Errorf("this response is not php-fpm's status page as JSON: send the status preset "+
			"(SCRIPT_NAME %s, QUERY_STRING %s) first: %w", FPMStatusPath, FPMStatusQuery, errors.Unwrap(err)), win)
		d.Show()
		return d
	}
	v := NewFPMStatusView(st)
	d := dialog.NewCustom("php-fpm status", "Close", v.Content(), win)
	d.Resize(fyne.NewSize(min(1200, win.Canvas().Size().Width-80), min(760, win.Canvas().Size().Height-80)))
	d.Show()
	return d
}
