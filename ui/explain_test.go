// Tests that every byte of every record of real exchanges is explained in place: field, value and spec section, in the detail and the hex view.

package ui

import (
	"bytes"
	"fmt"
	"image/color"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"fcgiscope/fcgi"
	"fcgiscope/session"
	"fcgiscope/session/teach"
)

// checkExplained fails unless the spans of rec partition its bytes, each
// named, valued and explained with a spec section, headers as header,
// padding as padding and pair lengths in the form they have on the wire.
func checkExplained(t *testing.T, what string, rec *fcgi.Record) {
	t.Helper()
	spans := Spans(rec)
	pos := 0
	for _, s := range spans {
		if s.Start != pos || s.End <= s.Start {
			t.Fatalf("%s: span %+v does not follow byte %d", what, s, pos)
		}
		pos = s.End
		if s.Name == "" || s.Value == "" || !strings.Contains(s.Explain, "spec §") {
			t.Errorf("%s: span %q at %d is not explained: value %q, %q", what, s.Name, s.Start, s.Value, s.Explain)
		}
		hdr := s.End <= fcgi.HeaderLen
		if hdr != (s.Kind == KindHeader) {
			t.Errorf("%s: span %q at %d is %s", what, s.Name, s.Start, s.Kind)
		}
		cEnd := fcgi.HeaderLen + int(rec.Header.ContentLength)
		if (s.Start >= cEnd) != (s.Kind == KindPadding) {
			t.Errorf("%s: span %q at %d (content ends at %d) is %s", what, s.Name, s.Start, cEnd, s.Kind)
		}
	}
	if pos != len(rec.Raw) {
		t.Fatalf("%s: spans cover %d of %d bytes", what, pos, len(rec.Raw))
	}
	p, ok := rec.Body.(*fcgi.Pairs)
	if !ok {
		return
	}
	lens := map[int][2]SpanKind{}
	for _, s := range spans {
		if s.Pair == 0 || s.FromPrev || s.ToNext {
			continue
		}
		k := lens[s.Pair]
		switch s.Kind {
		case KindNameLen1, KindNameLen4:
			k[0] = s.Kind
		case KindValueLen1, KindValueLen4:
			k[1] = s.Kind
		}
		lens[s.Pair] = k
	}
	for i, f := range p.Fields {
		if f.Offset < 0 {
			continue
		}
		want := [2]SpanKind{lenKind(KindNameLen1, f.NameLenSize), lenKind(KindValueLen1, f.ValueLenSize)}
		if lens[i+1] != want {
			t.Errorf("%s: pair %d (%q, lengths %d+%d) has spans %v", what, i+1, f.Name, f.NameLenSize, f.ValueLenSize, lens[i+1])
		}
	}
}

// handMadeRecords returns records the lessons do not send: pairs in all
// four length forms, a pair straddling two PARAMS records, odd padding and
// the management records.
func handMadeRecords(t *testing.T) []*fcgi.Record {
	t.Helper()
	var buf bytes.Buffer
	w := fcgi.NewWriter(&buf)
	long := strings.Repeat("n", 200)
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.WriteBeginRequest(1, fcgi.RoleFilter, fcgi.FlagKeepConn))
	must(w.WriteParams(1, []fcgi.Pair{{Name: "AB", Value: "1"}, {Name: "B", Value: long}, {Name: long, Value: "v"}, {Name: long, Value: long}}))
	must(w.WriteParams(1, []fcgi.Pair{{Name: "BIG", Value: strings.Repeat("x", 70000)}})) // straddles
	must(w.CloseStream(fcgi.TypeParams, 1))
	must(w.WriteRaw(fcgi.Header{Version: fcgi.Version1, Type: fcgi.TypeStdout, RequestID: 1,
		ContentLength: 3, PaddingLength: 3}, []byte("odd"), []byte{0, 0, 0}))
	must(w.WriteGetValues([]string{fcgi.ValueMaxConns, fcgi.ValueMpxsConns}))
	must(w.WriteGetValuesResult([]fcgi.Pair{{Name: fcgi.ValueMpxsConns, Value: "1"}}))
	must(w.WriteUnknownType(42))
	must(w.WriteAbortRequest(1))
	must(w.WriteEndRequest(1, 7, fcgi.StatusOverloaded))
	r := fcgi.NewReader(&buf)
	var out []*fcgi.Record
	for {
		rec, err := r.ReadRecord()
		if rec == nil {
			break
		}
		if err != nil {
			t.Fatalf("record %d: %v", len(out), err)
		}
		c := *rec
		c.Raw = bytes.Clone(rec.Raw)
		out = append(out, &c)
	}
	if len(out) < 12 {
		t.Fatalf("%d hand-made records", len(out))
	}
	return out
}

func TestEveryFieldIsExplained(t *testing.T) {
	k := newTeachKit(t)
	var xs []*session.Exchange
	for _, ls := range teach.Lessons() {
		got, _ := ls.Run(k.ctx, k.engine, k.demo)
		xs = append(xs, got...)
	}
	for _, s := range teach.Scenarios() {
		if s.ID == "odd-padding" || s.ID == "unknown-type" || s.ID == "version2" {
			x, _ := teach.RunScenario(k.ctx, k.engine, k.demo, s, 0)
			xs = append(xs, x)
		}
	}
	seen := map[fcgi.RecordType]bool{}
	for _, x := range xs {
		for i := 0; i < x.Len(); i++ {
			rec, err := x.Decode(i)
			if rec == nil {
				continue // a record that cannot be framed shows its error instead
			}
			seen[rec.Type] = true
			checkExplained(t, fmt.Sprintf("%s record %d (%s, %v)", x.Target(), i, rec.Type, err), rec)
		}
	}
	for i, rec := range handMadeRecords(t) {
		seen[rec.Type] = true
		checkExplained(t, fmt.Sprintf("hand-made record %d (%s)", i, rec.Type), rec)
	}
	for typ := fcgi.TypeBeginRequest; typ <= fcgi.TypeUnknownType; typ++ {
		if !seen[typ] {
			t.Errorf("no %s record was checked", typ)
		}
	}
}

func TestDetailAndHexViewExplainPairsAndPadding(t *testing.T) {
	test.NewTempApp(t)
	recs := handMadeRecords(t)
	params := recs[1] // four pairs, one per length form
	d := NewRecordDetail()
	w := test.NewWindow(d)
	w.Resize(fyne.NewSize(900, 700))
	defer w.Close()
	d.SetRecord(params)

	for i, want := range []string{"1+1", "1+4", "4+1", "4+4"} {
		if !d.SelectPair(i) || !strings.Contains(d.Explanation(), "take "+want+" bytes") || !strings.Contains(d.Explanation(), "spec §3.4") {
			t.Errorf("pair %d: %q", i, d.Explanation())
		}
	}
	if !d.SelectField("paddingData") || !strings.Contains(d.Explanation(), "multiple of 8") || !strings.Contains(d.Explanation(), "spec §3.3") {
		t.Errorf("padding: %q", d.Explanation())
	}

	// Pointing at bytes names them under the dump, length forms included.
	hv := d.HexView()
	spans := Spans(params)
	for _, kind := range []SpanKind{KindHeader, KindNameLen1, KindNameLen4, KindValueLen1, KindValueLen4, KindName, KindValue, KindPadding} {
		var sp *Span
		for i := range spans {
			if spans[i].Kind == kind {
				sp = &spans[i]
				break
			}
		}
		if sp == nil {
			t.Errorf("no %s span in the PARAMS record", kind)
			continue
		}
		hv.setHover(sp.Start)
		status := hv.status.Text
		if !strings.Contains(status, sp.Name) || !strings.Contains(status, sp.Value) || !strings.Contains(status, "spec §") {
			t.Errorf("pointing at a %s byte: %q", kind, status)
		}
		switch kind {
		case KindNameLen4, KindValueLen4:
			if !strings.Contains(status, "4-byte form") || !strings.Contains(status, "long form") {
				t.Errorf("a 4-byte length is not called one: %q", status)
			}
		case KindNameLen1, KindValueLen1:
			if !strings.Contains(status, "1-byte form") || !strings.Contains(status, "short form") {
				t.Errorf("a 1-byte length is not called one: %q", status)
			}
		}
	}
	hv.setHover(-1)

	// The dump colours header, body fields, content and padding apart, and
	// the two length forms apart.
	th, v := theme.Current(), theme.VariantDark
	distinct := [][2]SpanKind{{KindHeader, KindContent}, {KindHeader, KindPadding}, {KindContent, KindPadding},
		{KindHeader, KindBodyField}, {KindNameLen1, KindNameLen4}, {KindValueLen1, KindValueLen4}, {KindName, KindValue}}
	for _, variant := range []fyne.ThemeVariant{v, theme.VariantLight} {
		for _, p := range distinct {
			a, b := spanColor(th, variant, p[0]), spanColor(th, variant, p[1])
			if colorEqual(a, b) {
				t.Errorf("variant %d: %s and %s share the colour %v", variant, p[0], p[1], a)
			}
		}
	}
}

func colorEqual(a, b color.Color) bool {
	r1, g1, b1, a1 := a.RGBA()
	r2, g2, b2, a2 := b.RGBA()
	return r1 == r2 && g1 == g2 && b1 == b2 && a1 == a2
}
