// Output: the human-readable report of an Exchange for the send subcommand.

package cli

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"fcgiscope/fcgi"
	"fcgiscope/session"
)

// maxTextBody is the size above which a text body is cut in the report.
const maxTextBody = 64 << 10

// writeReport writes the human-readable report of x: target, params sent, the
// record table, END_REQUEST, status line and headers, body, stderr, lint
// hints, warnings, error and timings.
func writeReport(w io.Writer, x *session.Exchange, hints []string) error {
	var b bytes.Buffer
	keep := "no"
	if x.KeepConn() {
		keep = "yes"
	}
	fmt.Fprintf(&b, "target      %s\n", x.Target())
	id := "- (nothing sent)"
	if x.Sent() {
		id = strconv.Itoa(int(x.RequestID()))
	}
	fmt.Fprintf(&b, "role        %s   request id %s   keep-conn %s\n", x.Role(), id, keep)
	switch kept, known := x.ConnKept(); {
	case known && kept:
		fmt.Fprintf(&b, "connection  kept open by the application after END_REQUEST (watched %v)\n", keepWatch)
	case known:
		b.WriteString("connection  closed by the application after END_REQUEST: it does not keep connections (FCGI_KEEP_CONN ignored)\n")
	}
	if name := x.Profile(); name != "" {
		fmt.Fprintf(&b, "profile     %s   framing %s\n", profileLabel(x), x.Framing())
	}

	params := x.Params()
	fmt.Fprintf(&b, "\nparams sent (%d)\n", len(params))
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, p := range params {
		origin := ""
		if p.Origin != "" {
			origin = "(" + p.Origin + ")"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", p.Name, quoteIfNeeded(p.Value), origin)
	}
	tw.Flush()

	recs := x.Records()
	fmt.Fprintf(&b, "\nrecords (%d)\n", len(recs))
	iw := len(strconv.Itoa(max(len(recs)-1, 0)))
	const row = "  %*s  %-4s  %-17s  %5s  %5s  %3s  %8s  %10s  %s\n"
	b.WriteString(strings.TrimRight(fmt.Sprintf(row, iw, "#", "dir", "type", "id", "len", "pad", "offset", "t", ""), " \n") + "\n")
	for _, r := range recs {
		dir := "sent"
		if r.Dir == fcgi.Received {
			dir = "recv"
		}
		line := fmt.Sprintf(row, iw, strconv.Itoa(r.Index), dir, r.Type.String(), strconv.Itoa(int(r.RequestID)),
			strconv.Itoa(int(r.ContentLength)), strconv.Itoa(int(r.PaddingLength)),
			strconv.FormatInt(r.Offset, 10), fmtMS(r.T), recordNote(r))
		b.WriteString(strings.TrimRight(line, " \n") + "\n")
	}

	if end := x.End(); end != nil {
		fmt.Fprintf(&b, "\nEND_REQUEST app status %d, %s\n", end.AppStatus, end.ProtocolStatus)
	} else {
		fmt.Fprintf(&b, "\nEND_REQUEST not received\n")
	}

	resp := x.Response()
	if resp != nil && resp.Gateway != "" {
		// What a web server answers instead (defect 1 of issue 13: an empty
		// STDOUT is not a 200).
		fmt.Fprintf(&b, "\n%d %s (what nginx answers: %s)\n", resp.Status, resp.Reason, resp.Gateway)
	}
	switch {
	case resp != nil && resp.Gateway == "" && len(x.Stdout()) > 0:
		fmt.Fprintf(&b, "\n%d %s\n", resp.Status, resp.Reason)
		writeHeaders(&b, resp.Headers)
		writeBody(&b, "body", resp.Body)
	case resp != nil && len(resp.Headers) > 0:
		b.WriteString("\nheaders the application sent\n")
		writeHeaders(&b, resp.Headers)
		writeBody(&b, "body", resp.Body)
	default:
		writeBody(&b, "stdout", x.Stdout())
	}

	if errOut := x.Stderr(); len(errOut) > 0 {
		writeBody(&b, "stderr", errOut)
	}
	writeList(&b, "hints", hints)
	warnings := x.Warnings()
	if resp != nil && resp.Gateway != "" {
		// Said on the status line already.
		warnings = slices.DeleteFunc(warnings, func(w string) bool { return w == resp.GatewayText() })
	}
	writeList(&b, "warnings", warnings)
	if e := x.ErrorText(); e != "" {
		fmt.Fprintf(&b, "\nerror: %s\n", e)
	}
	t := x.Timings()
	s := x.Sizes()
	fmt.Fprintf(&b, "\ntimings     connect %s   first byte %s   total %s\n",
		fmtDuration(t.Connect), fmtDuration(t.FirstByte), fmtDuration(t.Total))
	fmt.Fprintf(&b, "bytes       sent %d   received %d   stdout %d   stderr %d\n", s.Sent, s.Received, s.Stdout, s.Stderr)
	_, err := w.Write(b.Bytes())
	return err
}

// writeHeaders writes header lines, bytes that are not UTF-8 text escaped
// (session.Printable): "X-Name: caf\xe9".
func writeHeaders(b *bytes.Buffer, hs []session.Header) {
	for _, h := range hs {
		fmt.Fprintf(b, "%s: %s\n", session.Printable(h.Name), session.Printable(h.Value))
	}
}

// recordNote flags a record's anomalies in the table.
func recordNote(r session.RecordInfo) string {
	var notes []string
	if r.Truncated {
		notes = append(notes, "content not captured")
	}
	if r.Partial {
		notes = append(notes, "cut short")
	}
	if r.Err != "" {
		notes = append(notes, r.Err)
	}
	return strings.Join(notes, "; ")
}

// writeBody writes a titled body: as text when it is text, else its size and
// a hint.
func writeBody(b *bytes.Buffer, title string, body []byte) {
	switch {
	case len(body) == 0:
		fmt.Fprintf(b, "\n%s: empty\n", title)
	case !isText(body):
		fmt.Fprintf(b, "\n%s: %d bytes of binary data (use --json to get them base64-encoded)\n", title, len(body))
	case len(body) > maxTextBody:
		fmt.Fprintf(b, "\n%s (%d bytes, first %d shown; use --json for all)\n", title, len(body), maxTextBody)
		b.Write(body[:maxTextBody])
		b.WriteString("\n…\n")
	default:
		fmt.Fprintf(b, "\n%s (%d bytes)\n", title, len(body))
		b.Write(body)
		if body[len(body)-1] != '\n' {
			b.WriteString("\n")
		}
	}
}

func writeList(b *bytes.Buffer, title string, items []string) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintf(b, "\n%s\n", title)
	for _, it := range items {
		fmt.Fprintf(b, "  - %s\n", it)
	}
}

// isText reports whether body is UTF-8 without control characters other
// than tab, newline, carriage return and form feed (checked on the first
// part, long bodies may be cut inside a character).
func isText(body []byte) bool {
	probe := body[:min(len(body), maxTextBody)]
	for len(probe) > 0 {
		r, n := utf8.DecodeRune(probe)
		if r == utf8.RuneError && n <= 1 {
			// A character cut at the end of the probe is fine.
			return len(probe) < utf8.UTFMax && len(body) > maxTextBody
		}
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' && r != '\f' || r == 0x7f {
			return false
		}
		probe = probe[n:]
	}
	return true
}

// quoteIfNeeded quotes a param value that is empty or holds spaces at its
// ends or control characters, so that the table stays readable.
func quoteIfNeeded(v string) string {
	if v == "" || strings.TrimSpace(v) != v || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fmt.Sprintf("%q", v)
	}
	return v
}

// fmtDuration prints a timing in ms with microsecond precision, "-" when it
// was not reached.
func fmtDuration(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmtMS(d)
}

// fmtMS prints a duration in ms with microsecond precision.
func fmtMS(d time.Duration) string {
	return fmt.Sprintf("%.3fms", float64(d.Microseconds())/1000)
}

// profileLabel names the exchange's web server profile and its variant
// ("apache (generic)").
func profileLabel(x *session.Exchange) string {
	name := x.Profile()
	if v := x.Input.HTTP.Variant; v != "" {
		return name + " (" + v + ")"
	}
	return name
}
