// The response pane for a response nginx would not pass on (issue 13,
// defect 1): no STDOUT at all is shown as nginx's 502, with why.

package ui

import (
	"slices"
	"strings"
	"testing"
)

func TestEmptyStdoutShownAsBadGateway(t *testing.T) {
	f := newInspFixture(t)
	f.setURL(t, "/stderr?lines=1&stdout=none")
	f.q.settle()
	f.send(t)
	r := f.in.Response()
	if got := r.Status(); got != "502 Bad Gateway (as nginx answers)" {
		t.Errorf("status = %q, want nginx's 502", got)
	}
	if !slices.ContainsFunc(r.Warnings(), func(w string) bool {
		return strings.Contains(w, "upstream prematurely closed FastCGI stdout")
	}) {
		t.Errorf("warnings %q do not say why", r.Warnings())
	}
}
