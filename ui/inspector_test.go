// Tests of the inspector's pure parts: the shared kit.

package ui

import (
	"testing"

	"fyne.io/fyne/v2/test"
)

func TestInfoTableShowsLongValuesWhole(t *testing.T) {
	test.NewTempApp(t)
	tbl := newInfoTable("empty", infoColumn{title: "Name", width: 100, mono: true}, infoColumn{title: "Value", mono: true})
	w := test.NewWindow(tbl)
	defer w.Close()
	if tbl.Detail() != "" {
		t.Errorf("detail before a selection = %q", tbl.Detail())
	}
	long := "line one\nline two, a value too long for its column"
	tbl.SetRows([][]string{{"A", "1"}, {"B", long}})
	tbl.list.Select(1)
	if got := tbl.Detail(); got != "B  ·  "+long {
		t.Errorf("detail = %q", got)
	}
	tbl.SetRows(nil)
	if tbl.Detail() != "" || !tbl.hint.Visible() {
		t.Errorf("after clearing: detail %q, hint visible %v", tbl.Detail(), tbl.hint.Visible())
	}
	if got := oneLine("a\r\nb\tc"); got != "a⏎b⇥c" {
		t.Errorf("oneLine = %q", got)
	}
}
